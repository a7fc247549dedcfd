"""A pretty-printed JSON List read item by item gives the data ``json.loads`` gives, and every
line look-up inside an item gives exactly the line and column of the exact whole-text method."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from kupgrade_lint.parsers.json_layout import ListLayout, split_list
from kupgrade_lint.parsers.yaml_documents import Document

_KEYS = st.sampled_from(["apiVersion", "kind", "metadata", "name", "spec", "items", "containers", "image", "a\"q", "ü", "x\\y", "fieldsV1", "f:spec", ""])
# Numbers and strings where orjson (which reads items) and json differ: integers beyond 64 bits,
# infinities, lone surrogates (written as escapes with ensure_ascii), 19-digit runs in strings.
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.integers(), st.integers(-2**65, 2**65),
    st.floats(allow_nan=False), st.text(max_size=8), st.sampled_from(["\ud800x", "1234567890123456789", "\u2028", "é"]),
)
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4), max_leaves=25)
_ITEMS = st.lists(st.dictionaries(_KEYS, _VALUES, max_size=5).map(lambda d: {"kind": "Pod", **d}), max_size=5)


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, path + (key,))
        yield path + ("no-such-key",)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, path + (i,))
        yield path + (len(value),)


def _dump(items, indent, ascii_only, head=None) -> str:
    whole = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items} if head is None else head
    if head is None and indent == 4:
        whole = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}  # kubectl's key order
    return json.dumps(whole, indent=indent, ensure_ascii=ascii_only)


def _split_document(text: str) -> Document | None:
    data = text.encode("utf-8")
    split = split_list(data)
    if split is None:
        return None
    whole, starts, stops, lines, column = split
    document = Document(whole, 1, text, 1, is_json=True)
    document.layout = ListLayout(lambda start, stop: data[start:stop].decode("utf-8"), starts, stops, lines, column)
    return document


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ITEMS, st.sampled_from([2, 4, None]), st.booleans())
def test_item_look_ups_give_the_exact_line_and_column(items, indent, ascii_only):
    text = _dump(items, indent, ascii_only)
    assume("\ud800" not in text)  # a lone surrogate written out raw is not UTF-8 (a file that is not read)
    document = _split_document(text)
    if indent is None or not items:
        assert document is None  # compact JSON, or "items": [] on one line: read whole, looked up the exact way
        return
    assert document is not None
    assert repr(document.data) == repr(json.loads(text))  # repr: 1 and 1.0 differ, as do ints and floats
    exact = Document(json.loads(text), 1, text, 1, is_json=True)
    for i, item in enumerate(items):
        for path in _paths(item, ("items", i)):
            assert document.position_of(path) == exact.position_of(path), path
        fast, slow = document.view(("items", i)), exact.view(("items", i))
        assert (fast.start_line, fast.lines, fast._columns) == (slow.start_line, slow.lines, slow._columns)
    for path in [("items",), ("items", len(items)), ("kind",), ("metadata", "resourceVersion"), ()]:
        assert document.position_of(path) == exact.position_of(path), path


def test_a_list_is_split_into_its_items_with_their_spans_and_lines():
    text = _dump([{"kind": "Pod", "metadata": {"name": "a"}}, {"kind": "Pod", "metadata": {"name": "b"}, "spec": {}}], 2, True)
    whole, starts, stops, lines, column = split_list(text.encode())
    assert whole == json.loads(text)
    assert list(lines) == [8, 14] and column == 5
    assert [json.loads(text[a:b]) for a, b in zip(starts, stops)] == whole["items"]


def test_prune_sees_each_item_as_it_is_parsed():
    text = _dump([{"kind": "Pod", "drop": 1}, {"kind": "Pod", "drop": 2}], 2, True)
    whole = split_list(text.encode(), prune=lambda item: item.pop("drop"))[0]
    assert whole["items"] == [{"kind": "Pod"}, {"kind": "Pod"}]


@pytest.mark.parametrize(
    "text",
    [
        '{"kind": "List", "items": [{"kind": "Pod"}]}',  # compact
        '{\n  "kind": "List",\n  "items": [\n    {"kind": "Pod"},\n    {"kind": "Pod"}\n  ]\n}\n'.replace("},", "}"),  # no comma between items
        '{\n  "kind": "List",\n  "items": [\n    {"kind": "Pod", "a":\n    {"b": 1}}\n  ]\n}\n',  # an item's line at the items' indent
        '{\n  "kind": "List",\n  "items": [\n    "text",\n    {"kind": "Pod"}\n  ]\n}\n',  # an item that is not an object
        '{\n  "items": [\n    {"kind": "Pod"}\n  ],\n  "items": []\n}\n',  # "items" twice: the last one wins
        '{\n  "kind": "List",\n  "items": [\n    {"kind": "Pod"}\n  ]\n',  # not closed
        '{\n  "kind": "List",\n  "items": [\n    {"kind": "Pod", "n": 1' + "0" * 5000 + '}\n  ]\n}\n',  # a number Python will not read
        '{\n  "kind": "List",\n  "items": [\n    {"kind": "Pod", "s": "\xff"}\n  ]\n}\n',  # not UTF-8 (below)
        '\ufeff{\n  "kind": "List",\n  "items": [\n    {"kind": "Pod"}\n  ]\n}\n',  # a byte order mark
        '{\r\n  "kind": "List",\r\n  "items": [\r\n    {"kind": "Pod"}\r\n  ]\r\n}\r\n',  # CRLF
    ],
)
def test_another_layout_or_a_broken_file_is_left_to_the_whole_text_reader(text):
    data = text.encode("utf-8") if "\xff" not in text else text.encode("latin-1")
    assert split_list(data) is None


def test_an_empty_list_written_over_two_lines_is_split():
    text = '{\n  "kind": "List",\n  "items": [\n  ]\n}\n'
    whole, starts, *_ = split_list(text.encode())
    assert whole == {"kind": "List", "items": []} and len(starts) == 0


@pytest.mark.parametrize(
    "text",
    [
        '{\n  "kind": "List",\n  "items": [\n    {"kind": "Pod",\n    "a": [1,\n 2], "b": {"c":\n\n3}}  ,\n    {}\n  ]\n}\n',
        '{\n    "items": [\n        {"kind": "Pod", "a": 1},\n        {\n"kind": "Pod"}\n    ],\n    "kind": "List"\n}',
    ],
)
def test_odd_layouts_inside_items_still_give_the_exact_positions(text):
    document = _split_document(text)
    assert document is not None and document.data == json.loads(text)
    exact = Document(json.loads(text), 1, text, 1, is_json=True)
    for i, item in enumerate(document.data["items"]):
        for path in _paths(item, ("items", i)):
            assert document.position_of(path) == exact.position_of(path), path


@pytest.mark.parametrize(
    "item",
    [
        '{"kind": "Pod", "a": 1, "b": {"c": 1, "c": 2}, "a": 3}',  # keys given twice: the last value, the first place
        '{"kind": "Pod", "n": NaN, "i": -Infinity}',  # orjson refuses these; json reads them
        '{"kind": "Pod", "n": 18446744073709551616, "m": -9223372036854775809}',  # orjson would make floats of them
        '{"kind": "Pod", "s": "\\ud800"}',  # a lone surrogate escape
        '{"kind": "Pod", "f": 0.1000000000000000055511151231257827021181583404541015625}',
    ],
)
def test_items_have_the_data_json_gives(item):
    text = '{\n  "kind": "List",\n  "items": [\n    ' + item + ',\n    {"kind": "Pod"}\n  ]\n}\n'
    whole = split_list(text.encode())[0]
    assert repr(whole) == repr(json.loads(text)) and list(whole["items"][0]) == list(json.loads(text)["items"][0])
