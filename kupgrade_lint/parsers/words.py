"""Words of a command line that remember where each one was written.

A kubelet argument can come from a systemd unit line, or from a variable in an env file that
the unit expands; a finding must point at the line where the text really is.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    """A file and line."""

    file: str
    line: int


@dataclass(frozen=True)
class Word:
    """One argument, where it was written, and the ``$VAR`` reference that brought it in (if any)."""

    text: str
    origin: Origin
    via: Origin | None = None
    via_variable: str | None = None


@dataclass(frozen=True)
class TracedText:
    """A string with the source line of each of its characters."""

    text: str
    lines: tuple[int, ...]
    file: str

    def __post_init__(self) -> None:
        if len(self.text) != len(self.lines):
            raise ValueError("TracedText needs one line number per character")

    def line_at(self, index: int) -> int:
        if not self.lines:
            return 0
        return self.lines[min(index, len(self.lines) - 1)]

    def split(self) -> list[Word]:
        """Split on whitespace, like an unquoted ``$VAR`` expansion."""
        words: list[Word] = []
        start = None
        for i, ch in enumerate(self.text + " "):
            if ch.isspace():
                if start is not None:
                    words.append(Word(self.text[start:i], Origin(self.file, self.line_at(start))))
                    start = None
            elif start is None:
                start = i
        return words
