"""What a collection did: counts for the CLI, and the errors that go into the snapshot."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TextIO

from kupgrade_lint.urls import strip_userinfo


@dataclass(frozen=True)
class CollectSummary:
    """Counts of one collection.

    ``resources_listed``: resource types (or kube-system/Helm/metrics reads) completed;
    ``objects_written``: objects and files written to the snapshot; ``pages``: list pages
    read; ``errors``: ``collection_errors`` entries (``{"what": ..., "reason": ...}``).
    """

    resources_listed: int = 0
    objects_written: int = 0
    pages: int = 0
    errors: tuple[dict, ...] = field(default_factory=tuple)

    @property
    def error_count(self) -> int:
        """How many things could not be collected."""
        return len(self.errors)


class Tally:
    """Thread-safe counters behind a CollectSummary, with optional progress on a terminal."""

    def __init__(self, progress: TextIO | None = None):
        self._lock = threading.Lock()
        self.resources = 0
        self.objects = 0
        self.pages = 0
        self.errors: list[dict] = []
        # Progress only for a person watching: never into a pipe or a CI log.
        self._stream = progress if progress is not None and _isatty(progress) else None

    def add(self, *, resources: int = 0, objects: int = 0, pages: int = 0) -> None:
        with self._lock:
            self.resources += resources
            self.objects += objects
            self.pages += pages
            self._show()

    def error(self, what: str, reason: str) -> None:
        with self._lock:
            self.errors.append({"what": strip_userinfo(what), "reason": strip_userinfo(reason)})
            self._show()

    def _show(self) -> None:
        if self._stream is None:
            return
        self._stream.write(
            f"\rcollecting: {self.resources} resources listed, {self.objects} objects, "
            f"{self.pages} pages, {len(self.errors)} errors"
        )
        self._stream.flush()

    def summary(self) -> CollectSummary:
        with self._lock:
            if self._stream is not None:
                self._stream.write("\n")
                self._stream.flush()
            errors = tuple(sorted(self.errors, key=lambda e: (e["what"], e["reason"])))
            return CollectSummary(self.resources, self.objects, self.pages, errors)


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
