"""Shell-style environment files: kubespray's ``kubelet.env``, ``kubeadm-flags.env``, ``/etc/default/kubelet``.

Follows what systemd's ``EnvironmentFile=`` accepts (https://www.freedesktop.org/software/systemd/man/systemd.exec.html#EnvironmentFile=):
``KEY=VALUE`` lines, ``#``/``;`` comments, single and double quotes, backslash escapes and
backslash-newline continuations; ``$VAR``/``${VAR}`` of variables defined earlier in the file
are expanded as a shell that sources the file would. CRLF line breaks and a leading byte order
mark are read as LF and nothing.

A bad line does not cost the file: systemd.exec(5) says of EnvironmentFile= that "empty lines,
lines without an "=" separator, or lines starting with ; or # will be ignored", and systemd skips
an assignment whose name is not valid with a warning and goes on; so a bad line is reported
(``EnvFile.problems``) and the other lines are read.

Values are bounded as execve(2) bounds them: one environment string is at most MAX_ARG_STRLEN
(32 pages, 128 KiB on Linux), so a longer value (``$A$A`` doubling line after line) cannot reach
the kubelet anyway and is reported instead of being built; the file itself is at most 1 MiB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kupgrade_lint.parsers.words import TracedText

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Runs without a character that is special outside quotes, inside "..." and inside '...'
# (newlines excluded: they end the value or count a line).
_PLAIN_RUN = re.compile(r"[^\n#\"'\\$]+")
_DOUBLE_RUN = re.compile(r'[^"\\$\n]+')
_SINGLE_RUN = re.compile(r"[^'\n]+")

MAX_FILE_CHARS = 1024 * 1024
MAX_VALUE_CHARS = 128 * 1024


@dataclass(frozen=True)
class EnvVar:
    """One assignment: its name, its value (with the line of every character) and its line."""

    name: str
    value: TracedText
    line: int


class EnvFileError(ValueError):
    """A line that is not an assignment, an unterminated quote, or a value over the limit."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True)
class EnvFile:
    """The assignments of a file in order, and each line that could not be read."""

    variables: list[EnvVar] = field(default_factory=list)
    problems: list[EnvFileError] = field(default_factory=list)


def parse_env_file(text: str, file: str) -> list[EnvVar]:
    """All or nothing: the assignments of the file, or ``EnvFileError`` for its first bad line.

    Use ``read_env_file`` to read what systemd reads (every good line) and report the bad ones.
    """
    env = read_env_file(text, file)
    if env.problems:
        raise env.problems[0]
    return env.variables


def read_env_file(text: str, file: str) -> EnvFile:
    """Parse an env file into its assignments, in order (later ones win when looked up by name),
    and the lines that are not assignments; never raises for bad input."""
    result = EnvFile()
    if len(text) > MAX_FILE_CHARS:
        result.problems.append(EnvFileError(1, f"{len(text):,} characters, more than the {MAX_FILE_CHARS:,} read from an env file; not checked"))
        return result
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    known: dict[str, TracedText] = {}
    i, line, n = 0, 1, len(text)
    while i < n:
        # Skip blank space and comment lines.
        ch = text[i]
        if ch == "\n":
            line += 1
            i += 1
            continue
        if ch in " \t\r":
            i += 1
            continue
        if ch in "#;":
            while i < n and text[i] != "\n":
                i += 1
            continue
        start_line = line
        if text.startswith("export ", i):
            i += len("export ")
            while i < n and text[i] in " \t":
                i += 1
        match = _NAME_RE.match(text, i)
        if not match or match.end() >= n or text[match.end()] != "=":
            end = text.find("\n", i)
            bad = text[i : end if end != -1 else n].strip()
            result.problems.append(EnvFileError(start_line, f"not a KEY=VALUE assignment, skipped as systemd skips it: {bad[:60]!r}"))
            i = end if end != -1 else n
            continue
        name = match.group(0)
        i = match.end() + 1
        chars: list[str] = []
        lines: list[int] = []
        quote: str | None = None
        overflow = False
        while i < n:
            if len(chars) > MAX_VALUE_CHARS:
                # Keep reading the syntax (quotes, continuations) to find where the value ends,
                # without building it.
                overflow = True
                del chars[:], lines[:]
            # A run of characters that mean nothing special where they are is taken whole (but
            # not past the limit: the value is cleared at the same character as one by one).
            run = (_PLAIN_RUN if quote is None else _DOUBLE_RUN if quote == '"' else _SINGLE_RUN).match(text, i, i + MAX_VALUE_CHARS + 1 - len(chars))
            if run is not None:
                chars.extend(run.group())
                lines.extend([line] * (run.end() - i))
                i = run.end()
                continue
            ch = text[i]
            if quote is None:
                if ch == "\n":
                    break
                if ch == "#" and (not chars or chars[-1].isspace()):
                    while i < n and text[i] != "\n":
                        i += 1
                    break
                if ch in "\"'":
                    quote = ch
                    i += 1
                    continue
                if ch == "\\":
                    if i + 1 < n and text[i + 1] == "\n":
                        line += 1
                        i += 2
                        continue
                    if i + 1 < n:
                        chars.append(text[i + 1])
                        lines.append(line)
                        i += 2
                        continue
                if ch == "$":
                    i = _expand(text, i, known, chars, lines, line)
                    continue
                chars.append(ch)
                lines.append(line)
                i += 1
            elif quote == "'":
                if ch == "'":
                    quote = None
                else:
                    chars.append(ch)
                    lines.append(line)
                    if ch == "\n":
                        line += 1
                i += 1
            else:  # double quotes
                if ch == '"':
                    quote = None
                    i += 1
                    continue
                if ch == "\\" and i + 1 < n:
                    nxt = text[i + 1]
                    if nxt == "\n":
                        line += 1
                        i += 2
                        continue
                    if nxt in '"\\$`':
                        chars.append(nxt)
                        lines.append(line)
                        i += 2
                        continue
                if ch == "$":
                    i = _expand(text, i, known, chars, lines, line)
                    continue
                chars.append(ch)
                lines.append(line)
                if ch == "\n":
                    line += 1
                i += 1
        if quote is not None:
            # The quoted value runs to the end of the file, so no line after it is an assignment.
            result.problems.append(EnvFileError(start_line, f"unterminated {quote} quote in the value of {name}; the lines after it are part of that value"))
            break
        if overflow or len(chars) > MAX_VALUE_CHARS:
            result.problems.append(EnvFileError(start_line, f"the value of {name} expands to more than {MAX_VALUE_CHARS:,} characters (the most execve passes in one variable); not checked"))
            known.pop(name, None)
            continue
        # Unquoted trailing blanks are not part of the value.
        while chars and chars[-1] in " \t\r":
            chars.pop()
            lines.pop()
        value = TracedText("".join(chars), tuple(lines), file)
        known[name] = value
        result.variables.append(EnvVar(name, value, start_line))
    return result


def _expand(text: str, i: int, known: dict[str, TracedText], chars: list[str], lines: list[int], line: int) -> int:
    """Expand ``$NAME`` or ``${NAME}`` at ``text[i]``; unknown variables expand to nothing."""
    if text.startswith("${", i):
        end = text.find("}", i + 2)
        name = text[i + 2 : end] if end != -1 else ""
        if end == -1 or not _NAME_RE.fullmatch(name):
            chars.append("$")
            lines.append(line)
            return i + 1
        nxt = end + 1
    else:
        match = _NAME_RE.match(text, i + 1)
        if not match:
            chars.append("$")
            lines.append(line)
            return i + 1
        name, nxt = match.group(0), match.end()
    value = known.get(name)
    if value is not None:
        chars.extend(value.text)
        lines.extend(value.lines)
    return nxt


def as_dict(variables: list[EnvVar]) -> dict[str, EnvVar]:
    """Last assignment of each name wins, as when the file is sourced."""
    return {var.name: var for var in variables}
