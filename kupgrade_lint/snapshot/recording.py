"""Object data that records which fields are read: to name the field a check failed on.

A ``RecordingDict`` behaves like the dict it wraps (it is one: ``isinstance(x, dict)`` holds)
and tells its ``ReadLog`` the path of every value read through it, wrapping mappings and lists
on the way down. Used only on a second run of a check that failed on one object (and by the
tests, to learn which fields the checks read).
"""

from __future__ import annotations

from typing import Any, Iterator

from kupgrade_lint.snapshot.shapes import json_type


class ReadLog:
    """The paths read: the last one (with its value's type) and all of them."""

    def __init__(self) -> None:
        self.last: tuple = ()
        self.last_kind = ""
        self.paths: dict[tuple, type] = {}

    def read(self, path: tuple, value: Any) -> None:
        self.last = path
        self.last_kind = json_type(value)
        self.paths.setdefault(path, type(value))


def record(value: Any, log: ReadLog, path: tuple = ()) -> Any:
    """``value`` wrapped so that reads through it are logged (scalars are returned as they are)."""
    if isinstance(value, dict):
        return RecordingDict(value, log, path)
    if isinstance(value, list):
        return RecordingList(value, log, path)
    return value


class RecordingDict(dict):
    """A dict that logs the path of each value read from it."""

    def __init__(self, data: dict, log: ReadLog, path: tuple) -> None:
        super().__init__(data)
        self._log = log
        self._path = path

    def _value(self, key: Any, value: Any) -> Any:
        path = self._path + (key,)
        self._log.read(path, value)
        return record(value, self._log, path)

    def __getitem__(self, key: Any) -> Any:
        return self._value(key, super().__getitem__(key))

    def get(self, key: Any, default: Any = None) -> Any:
        if dict.__contains__(self, key):
            return self[key]
        return default

    def items(self) -> Iterator[tuple[Any, Any]]:  # type: ignore[override]
        return ((k, self._value(k, v)) for k, v in list(dict.items(self)))

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        return (self._value(k, v) for k, v in list(dict.items(self)))


class RecordingList(list):
    """A list that logs the path of each item read from it."""

    def __init__(self, data: list, log: ReadLog, path: tuple) -> None:
        super().__init__(data)
        self._log = log
        self._path = path

    def _value(self, index: int, value: Any) -> Any:
        path = self._path + (index,)
        self._log.read(path, value)
        return record(value, self._log, path)

    def __getitem__(self, index: Any) -> Any:
        value = super().__getitem__(index)
        if isinstance(index, slice):
            return value
        return self._value(index if index >= 0 else len(self) + index, value)

    def __iter__(self) -> Iterator[Any]:
        return (self._value(i, v) for i, v in enumerate(list.__iter__(self)))
