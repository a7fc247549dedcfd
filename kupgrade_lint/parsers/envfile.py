"""Shell-style environment files: kubespray's ``kubelet.env``, ``kubeadm-flags.env``, ``/etc/default/kubelet``.

Follows what systemd's ``EnvironmentFile=`` accepts (https://www.freedesktop.org/software/systemd/man/systemd.exec.html#EnvironmentFile=):
``KEY=VALUE`` lines, ``#``/``;`` comments, single and double quotes, backslash escapes and
backslash-newline continuations; ``$VAR``/``${VAR}`` of variables defined earlier in the file
are expanded as a shell that sources the file would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kupgrade_lint.parsers.words import TracedText

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class EnvVar:
    """One assignment: its name, its value (with the line of every character) and its line."""

    name: str
    value: TracedText
    line: int


class EnvFileError(ValueError):
    """A line that is not an assignment, or an unterminated quote."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


def parse_env_file(text: str, file: str) -> list[EnvVar]:
    """Parse an env file into its assignments, in order; later ones win when looked up by name."""
    result: list[EnvVar] = []
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
            raise EnvFileError(start_line, f"not a KEY=VALUE assignment: {bad[:60]!r}")
        name = match.group(0)
        i = match.end() + 1
        chars: list[str] = []
        lines: list[int] = []
        quote: str | None = None
        while i < n:
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
            raise EnvFileError(start_line, f"unterminated {quote} quote in the value of {name}")
        if quote is None:
            # Unquoted trailing blanks are not part of the value.
            while chars and chars[-1] in " \t\r":
                chars.pop()
                lines.pop()
        value = TracedText("".join(chars), tuple(lines), file)
        known[name] = value
        result.append(EnvVar(name, value, start_line))
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
