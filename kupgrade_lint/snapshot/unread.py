"""The object fields no check reads, dropped as each object is loaded: the one list of them.

A snapshot of a large cluster is mostly data that nothing here judges. Holding it costs memory
in proportion to the cluster (the scan's peak must stay within a few times the input's size), so
the loader drops these fields from every object right after parsing it, before anything else
sees the object. Each entry says why no check needs it. ``tests/test_unread.py`` scans the seed
snapshot with these fields present and every read recorded (``snapshot.recording``) and fails
if any check reads one of them: dropping a field a check reads would be a silent gap.

Lines and columns of findings are unaffected: they come from the file's text, not the data.
"""

from __future__ import annotations

from typing import Any

# (path as a pattern: "[]" is every item of a list) -> why no check needs it
DROPPED: dict[tuple, str] = {
    ("metadata", "managedFields", "[]", "fieldsV1"): (
        "the set of fields each manager owns (server-side apply bookkeeping, about a third of a "
        "typical object); checks read only a managedFields entry's apiVersion, manager and "
        "operation (checks/removed_api.py: the API version a manager wrote the object with)"
    ),
}


def drop_unread(obj: Any) -> None:
    """Remove the ``DROPPED`` fields from one object (in place; what is not there is left alone)."""
    for pattern in DROPPED:
        _drop(obj, pattern)


def _drop(value: Any, pattern: tuple) -> None:
    head = pattern[0]
    if head == "[]":
        if isinstance(value, list):
            for item in value:
                _drop(item, pattern[1:])
    elif isinstance(value, dict):
        if len(pattern) == 1:
            value.pop(head, None)
        elif head in value:
            _drop(value[head], pattern[1:])
