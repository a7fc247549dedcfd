"""A pretty-printed JSON ``kind: List`` read item by item, and lines found inside one item's span.

``kupgrade-lint collect`` writes each resource as one List with ``json.dumps(indent=2)``;
``kubectl get -o json`` writes the same layout with an indent of 4. A whole cluster's pods are
one such file of hundreds of MiB: parsing it in one piece holds the whole text and every object
at once, and finding the line of a field later walks the whole text. In that layout every
top-level key starts its own line at indent ``I`` and every item of ``items`` starts (``{``)
and ends (``}`` or ``},``) its own line at indent ``2 I`` (JSON strings hold no line breaks, so
no line starts inside a string). ``split_list`` finds those lines with one regular expression,
parses each item's bytes on their own and remembers each item's span (byte offsets and first
line). What it finds is verified, not assumed: every span must parse as exactly one value, the
spans must tile the array with commas between them, and the rest of the text must parse as the
object with an empty ``items``; anything else (compact JSON, another layout, a BOM, CR line
breaks, a broken file) returns None and the caller reads the text whole, as before, which also
names whatever is wrong with it.

Offsets are of the UTF-8 bytes; the spans are cut at ASCII characters, so each span decodes on
its own to the same characters the whole text holds there (and every span decodes strictly, so
the file is valid UTF-8 iff all of them are).
"""

from __future__ import annotations

import json
import re
from array import array
from typing import Any, Callable

from kupgrade_lint.parsers.yaml_documents import _json_path_offset

_TOP_INDENT = re.compile(rb"\{\n( +)\"")


# orjson reads an item in about half the time json does, and shares the strings of repeated keys
# among items (its key cache), which a json.loads per item cannot: about a fifth less memory for
# a List of pods. Where the two differ it is not used: an integer beyond 64 bits becomes a float
# in orjson (so an item with a run of 19 or more digits anywhere is read by json), and what
# orjson refuses (NaN, a lone surrogate escape, nesting past its limit, bad UTF-8) is read by
# json, which then accepts it or names what is wrong exactly as for a whole file.
_DIGITS = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))  # every digit "0", all else " "
_LONG_DIGITS = b"0" * 19
_NOT_READ = object()


def _fast_loads() -> Callable[[bytes], Any] | None:
    try:
        import orjson  # lazy: only reading a List pays for the import
    except ImportError:  # pragma: no cover - a dependency; the json module gives the same data
        return None
    return orjson.loads


def _parse_item(chunk: bytes, fast: Callable[[bytes], Any] | None) -> Any:
    """The value of one item's bytes (``_NOT_READ`` when they are not exactly one JSON value)."""
    if fast is not None and chunk.translate(_DIGITS).find(_LONG_DIGITS) == -1:
        try:
            return fast(chunk)
        except ValueError:  # orjson.JSONDecodeError: the json module decides
            pass
    try:
        return json.loads(chunk.decode("utf-8"))
    except (ValueError, RecursionError):
        return _NOT_READ


class ListLayout:
    """Where each item of a List's ``items`` is in its file: byte span, first line and column.

    ``read_span(start, stop)`` returns the text of the file's bytes ``[start, stop)`` again (the
    file is not kept in memory); the last span read is kept for the look-ups that follow it.
    """

    __slots__ = ("read_span", "starts", "stops", "lines", "column", "_last")

    def __init__(self, read_span: Callable[[int, int], str], starts: array, stops: array, lines: array, column: int) -> None:
        self.read_span = read_span
        self.starts = starts
        self.stops = stops
        self.lines = lines
        self.column = column  # every item's "{" is at the same column (its indent + 1)
        self._last: tuple[int, str] | None = None

    def __len__(self) -> int:
        return len(self.starts)

    def text(self, index: int) -> str:
        """The text of item ``index`` (exactly the value: from its ``{`` to its ``}``)."""
        last = self._last
        if last is None or last[0] != index:
            last = self._last = (index, self.read_span(self.starts[index], self.stops[index]))
        return last[1]

    def position(self, index: int, path: tuple) -> tuple[int, int]:
        """Line and column of ``path`` inside item ``index`` (or of its nearest ancestor found),
        the same as ``_json_path_offset`` over the whole text gives."""
        text = self.text(index)
        offset = _json_path_offset(text, path)
        assert offset is not None  # an item is a value: at worst its own start is found
        before = text.rfind("\n", 0, offset)
        column = offset - before if before != -1 else self.column + offset
        return self.lines[index] + text.count("\n", 0, offset), column


def split_list(data: bytes, prune: Callable[[Any], Any] | None = None) -> tuple[dict, array, array, array, int] | None:
    """``(object, starts, stops, lines, column)`` of a pretty-printed JSON object with an ``items``
    array, parsed item by item (``prune`` is applied to each item as it is parsed), or None when
    the text is not laid out that way (see the module docstring; the caller then parses it whole).

    ``starts``/``stops``: each item's byte span; ``lines``: the line its ``{`` is on; ``column``:
    the column of every item's ``{``.
    """
    head = _TOP_INDENT.match(data)
    if head is None:
        return None
    indent = len(head.group(1))
    key = b"\n" + b" " * indent + b'"items": [\n'
    at = data.find(key)
    if at == -1:
        return None
    first = at + len(key)  # the first line of the items (or the closing bracket)
    # The newline before the closing bracket: the last line at the top indent that starts with
    # "]" (found from the end: what follows the items is a few lines). If it is not the items'
    # own, the items' text does not tile into values below and the file is read whole.
    close = data.rfind(b"\n" + b" " * indent + b"]", first - 1)
    if close == -1 or b'"items"' in data[close:]:
        return None  # no closing line, or "items" given again after these (the last one wins)
    try:
        skeleton = json.loads(data[:first].decode("utf-8") + data[close:].decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(skeleton, dict) or skeleton.get("items") != []:
        return None
    item_indent = 2 * indent
    # A literal pattern: the regular expression engine then searches for it at C speed.
    pattern = re.compile(re.escape(b"\n" + b" " * item_indent + b"{"))
    marks = [m.end() - 1 for m in pattern.finditer(data, first - 1, close)]
    if not marks:
        if data[first:close].strip():
            return None  # items that are not objects, or another layout
        return skeleton, array("q"), array("q"), array("q"), item_indent + 1
    if data[first:marks[0]].strip(b" "):
        return None
    fast = _fast_loads()
    items: list = []
    starts, stops, lines = array("q"), array("q"), array("q")
    line = data.count(b"\n", 0, first) + 1
    previous = first
    last = len(marks) - 1
    for i, start in enumerate(marks):
        chunk = data[start:marks[i + 1] if i < last else close].rstrip()
        if i < last:
            if not chunk.endswith(b","):
                return None
            chunk = chunk[:-1].rstrip()
        item = _parse_item(chunk, fast)
        if item is _NOT_READ:  # not one value (another layout), or a broken one: read whole
            return None
        if prune is not None:
            prune(item)
        items.append(item)
        line += data.count(b"\n", previous, start)
        previous = start
        starts.append(start)
        stops.append(start + len(chunk))
        lines.append(line)
    skeleton["items"] = items
    return skeleton, starts, stops, lines, item_indent + 1
