"""systemd unit files and drop-ins, and the kubelet command line they produce.

Syntax per systemd.syntax(7) (https://www.freedesktop.org/software/systemd/man/systemd.syntax.html):
``[Section]`` headers, ``Key=value``, ``#``/``;`` comments, a trailing backslash continues the
line. Drop-ins (``<unit>.d/*.conf``) are applied in file-name order after the unit; an empty
``ExecStart=`` resets the list. ``$VAR`` in ExecStart expands to several words split on
whitespace, ``${VAR}`` to one word (systemd.service(5), "Command lines"). CRLF line breaks and
a leading byte order mark are read as LF and nothing.

Bounded like the kernel bounds what it executes: a unit file is read up to 1 MiB, and a command
line that expands to more than 2 MiB (ARG_MAX with the default 8 MiB stack, execve(2)) is an
error instead of being built.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from kupgrade_lint.parsers.words import Origin, TracedText, Word


MAX_UNIT_CHARS = 1024 * 1024
MAX_COMMAND_CHARS = 2 * 1024 * 1024


class UnitError(ValueError):
    """A unit file or command line over its limit; the message names the line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Directive:
    """``Key=value`` in a section, with the line of every character of the value."""

    section: str
    key: str
    value: TracedText
    line: int


def parse_unit(text: str, file: str) -> list[Directive]:
    """Parse a unit or drop-in into its directives, in order; ``UnitError`` when it is too large."""
    if len(text) > MAX_UNIT_CHARS:
        raise UnitError(1, f"{len(text):,} characters, more than the {MAX_UNIT_CHARS:,} read from a unit file; not checked")
    if text.startswith("\ufeff"):
        text = text[1:]
    directives: list[Directive] = []
    section = ""
    physical = text.split("\n")
    i = 0
    while i < len(physical):
        raw = physical[i]
        start_line = i + 1
        stripped = raw.strip()
        i += 1
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1]
            continue
        if "=" not in stripped:
            continue
        key, _, rest = raw.partition("=")
        key = key.strip()
        value_start = len(raw) - len(rest)
        chars: list[str] = []
        lines: list[int] = []
        segment, seg_line = raw[value_start:], start_line
        while True:
            content = segment.rstrip("\r")
            continued = content.endswith("\\")
            if continued:
                content = content[:-1] + " "
            chars.extend(content)
            lines.extend([seg_line] * len(content))
            if not continued or i >= len(physical):
                break
            # Comment lines inside a continued value are skipped (systemd.syntax(7)).
            while i < len(physical) and physical[i].lstrip().startswith(("#", ";")):
                i += 1
            if i >= len(physical):
                break
            segment, seg_line = physical[i], i + 1
            i += 1
        value = "".join(chars)
        lead = len(value) - len(value.lstrip())
        trail = len(value.rstrip())
        directives.append(
            Directive(section, key, TracedText(value[lead:trail], tuple(lines[lead:trail]), file), start_line)
        )
    return directives


@dataclass
class ServiceDefinition:
    """The merged ``[Service]`` settings of a unit and its drop-ins that matter for the command line."""

    exec_start: Directive | None = None
    environment: list[Directive] = field(default_factory=list)
    environment_files: list[tuple[str, bool, Directive]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def merge_service(units: list[tuple[str, list[Directive]]]) -> ServiceDefinition:
    """Merge a unit and its drop-ins (already in the order systemd applies them)."""
    service = ServiceDefinition()
    for file, directives in units:
        service.files.append(file)
        for d in directives:
            if d.section != "Service":
                continue
            if d.key == "ExecStart":
                service.exec_start = d if d.value.text else None
            elif d.key == "Environment":
                service.environment.append(d)
            elif d.key == "EnvironmentFile":
                path = d.value.text
                optional = path.startswith("-")
                service.environment_files.append((path.lstrip("-"), optional, d))
    return service


def parse_environment_directive(d: Directive) -> list[tuple[str, TracedText]]:
    """``Environment="A=1 2" B=3`` → [("A", "1 2"), ("B", "3")] with each value's source lines."""
    out: list[tuple[str, TracedText]] = []
    text = d.value.text
    try:
        lexer = shlex.shlex(text, posix=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        tokens = list(lexer)
    except ValueError:
        tokens = text.split()
    searched = 0
    for token in tokens:
        name, eq, value = token.partition("=")
        if not eq:
            continue
        # Search on from the previous value: one pass over the line, however many assignments.
        found = text.find(value, searched) if value else -1
        pos = found if found != -1 else 0
        searched = found + len(value) if found != -1 else searched
        out.append((name, TracedText(value, tuple(d.value.line_at(pos) for _ in value), d.value.file)))
    return out


def expand_exec_start(exec_start: Directive, env: dict[str, TracedText]) -> list[Word]:
    """The argv of ExecStart after systemd's variable expansion, each word with its origin.

    ``UnitError`` when the expansion exceeds MAX_COMMAND_CHARS (checked before each variable
    is expanded, so the limit is never built).
    """
    text = exec_start.value
    words: list[Word] = []
    budget = [MAX_COMMAND_CHARS - len(text.text)]

    def spend(value: TracedText, name: str) -> None:
        budget[0] -= len(value.text)
        if budget[0] < 0:
            raise UnitError(exec_start.line, f"ExecStart expands to more than {MAX_COMMAND_CHARS:,} characters (at ${name}), more than execve accepts")

    i, n = 0, len(text.text)
    s = text.text
    while i < n:
        while i < n and s[i].isspace():
            i += 1
        if i >= n:
            break
        start = i
        origin = Origin(text.file, text.line_at(start))
        # A whole-word $VAR splits into several words.
        if s[i] == "$" and i + 1 < n and s[i + 1] != "{" and (s[i + 1].isalpha() or s[i + 1] == "_"):
            j = i + 1
            while j < n and (s[j].isalnum() or s[j] == "_"):
                j += 1
            if j >= n or s[j].isspace():
                name = s[i + 1 : j]
                value = env.get(name)
                if value is not None:
                    spend(value, name)
                    for w in value.split():
                        words.append(Word(w.text, w.origin, via=origin, via_variable=name))
                i = j
                continue
        buf: list[str] = []
        quote = None
        via = None
        while i < n and (quote or not s[i].isspace()):
            ch = s[i]
            if quote:
                if ch == quote:
                    quote = None
                    i += 1
                    continue
                if ch == "\\" and quote == '"' and i + 1 < n:
                    buf.append(s[i + 1])
                    i += 2
                    continue
            elif ch in "\"'":
                quote = ch
                i += 1
                continue
            elif ch == "\\" and i + 1 < n:
                buf.append(s[i + 1])
                i += 2
                continue
            if ch == "$" and s.startswith("${", i):
                end = s.find("}", i)
                if end != -1:
                    name = s[i + 2 : end]
                    value = env.get(name)
                    if value is not None:
                        spend(value, name)
                        buf.append(value.text)
                        if value.text and via is None:
                            via = (Origin(value.file, value.line_at(0)), name)
                    i = end + 1
                    continue
            buf.append(ch)
            i += 1
        word = "".join(buf)
        if via is not None and word == env[via[1]].text:
            words.append(Word(word, via[0], via=origin, via_variable=via[1]))
        else:
            words.append(Word(word, origin))
    if words and words[0].text[:1] in "-@:+!":
        first = words[0]
        words[0] = Word(first.text.lstrip("-@:+!"), first.origin, first.via, first.via_variable)
    return words
