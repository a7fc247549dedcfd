"""YAML (and JSON) documents with the source line (and column) of every key, item and block scalar.

Kubernetes objects are read as ``kubectl`` prints them; findings need the line of the field
that is wrong, and, for configuration embedded in a ConfigMap (``data.ClusterConfiguration: |``),
the line where the block's content starts so that lines inside it can be mapped back.

Lines are needed only for the few documents that have findings, so the index of a document is
built lazily on first use; columns (1-based, in characters) come from the same index at no extra
pass, so a code-scanning service can point at the key itself. JSON (what collectors write) is read with the json module, which is
an order of magnitude faster than a YAML parser on the same text.

Input is untrusted (a pull request, a colleague's snapshot), so reading is bounded: the text
size, each document's size, its nesting depth and how far its aliases expand are limited
before anything is built from it, and every limit is an ordinary ``YamlError`` naming the line.
A broken document of a stream is reported and the other documents are still read
(``read_documents``). CRLF line breaks and a leading byte order mark are accepted.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any, Callable

import yaml

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that keeps timestamps as strings, as Kubernetes clients see them.

    Resolving a plain scalar's tag runs regular expressions in Python for every scalar; object
    dumps repeat the same keys and values endlessly, so resolutions are cached.
    """

    _resolved: dict = {}

    def resolve(self, kind, value, implicit):  # type: ignore[override]
        if kind is yaml.MappingNode:
            return "tag:yaml.org,2002:map"
        if kind is yaml.SequenceNode:
            return "tag:yaml.org,2002:seq"
        if not implicit[0]:
            return super().resolve(kind, value, implicit)
        tag = self._resolved.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(self._resolved) < 200_000 and len(value) < 256:
                self._resolved[value] = tag
        return tag

    # No path resolvers are registered; skip the bookkeeping the composer does for them.
    def descend_resolver(self, current_node, current_index):  # type: ignore[override]
        return None

    def ascend_resolver(self):  # type: ignore[override]
        return None


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in _BaseLoader.yaml_implicit_resolvers.copy().items()
}

Path = tuple  # of str keys and int indexes

# A line that starts with a document marker ends the document, whatever came before
# (YAML 1.2 "c-forbidden": even inside a block scalar), so a stream splits on these lines.
_MARKER = re.compile(r"^(?:---|\.\.\.)(?=[ \t]|$)", re.M)

# Limits on untrusted input (README "Limits"). A Kubernetes object is at most 1.5 MiB (etcd's
# default request size limit, https://etcd.io/docs/v3.5/dev-guide/limit/), but a ``kind: List``
# of a whole cluster (``kubectl get -A -o yaml``, the collector's JSON) is one document of
# hundreds of MiB; these limits leave room for that and stop what no cluster produces.
MAX_TEXT_CHARS = 1024 * 1024 * 1024
MAX_DOCUMENT_CHARS = 256 * 1024 * 1024
# libyaml stops at 1000 levels and Python's recursion (here and in the checks) at about that;
# no Kubernetes object (CRD schemas included) comes near 100.
MAX_DEPTH = 256
# Aliases may add this many nodes to a document beyond the ones written out: at least
# ALIAS_NODES_MIN, more for a longer document, never more than ALIAS_NODES_MAX ("billion laughs").
ALIAS_NODES_MIN = 10_000
ALIAS_NODES_PER_CHAR = 10
ALIAS_NODES_MAX = 1_000_000
# Python refuses to read longer integers (sys.int_info.default_max_str_digits).
MAX_INT_DIGITS = 4300
_LONG_INT = re.compile(r"[0-9]{%d,}" % (MAX_INT_DIGITS + 1))
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


class YamlError(ValueError):
    """The text (or one document of it) is not valid YAML/JSON or exceeds a limit; the message names the line."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.message = message

    def __reduce__(self):  # errors travel between processes (snapshot.loader parses YAML in parallel)
        return (YamlError, (self.line, self.message))


class Document:
    """One document: its data, and (on first use) the line of each path and of block scalars.

    For YAML the whole document is indexed once. For JSON (collector Lists of thousands of
    objects) each look-up walks straight down its path, skipping siblings with the C decoder;
    with a ``layout`` (a List read item by item) it does so in the item's text only.
    """

    __slots__ = ("data", "start_line", "_source", "_first_line", "_json", "_index", "_newlines", "_found_at", "_array_starts", "_column_of", "layout")

    def __init__(self, data: Any, start_line: int, text: "str | Callable[[], str]" = "", first_line: int = 1, is_json: bool = False,
                 index: tuple[dict, dict] | None = None, columns: dict | None = None) -> None:
        self.data = data
        self.start_line = start_line
        # The text, or a function that reads it again (large JSON files are not kept in memory).
        self._source = text
        self._first_line = first_line
        self._json = is_json
        self._index = index
        self._newlines: list[int] | None = None
        # Made on first use (most documents never have a line looked up; a manifests repository
        # holds tens of thousands of them): the positions found, array item offsets, columns.
        self._found_at: dict[tuple, tuple] | None = None
        self._array_starts: dict[tuple, list[int]] | None = None
        # The column of each indexed path (filled with the index; for JSON look-ups, with each one).
        self._column_of: dict | None = columns
        # A JSON List read item by item (parsers.json_layout.ListLayout): the span of each item of
        # ``items``, so that a look-up inside an item reads that item again, not the whole file.
        self.layout: Any = None

    @property
    def _found(self) -> dict:
        if self._found_at is None:
            self._found_at = {}
        return self._found_at

    @property
    def _arrays(self) -> dict:
        if self._array_starts is None:
            self._array_starts = {}
        return self._array_starts

    @property
    def _columns(self) -> dict:
        if self._column_of is None:
            self._column_of = {}
        return self._column_of

    @property
    def lines(self) -> dict:
        return self._built()[0]

    @property
    def block_starts(self) -> dict:
        return self._built()[1]

    @property
    def _text(self) -> str:
        if not isinstance(self._source, str):
            self._source = normalize(self._source())  # read again once, kept while its lines are looked up
        return self._source

    def _built(self) -> tuple[dict, dict]:
        if self._index is None:
            if self._json:
                self._index = (_json_index(self._text, self._first_line, columns=self._columns), {})
            else:
                self._index = _yaml_index(self._text, self._first_line, self._columns)
            self._source = ""  # the index is all that is needed from now on
        return self._index

    def line_of(self, path: Path) -> int:
        """Line of ``path`` or of its nearest ancestor that has one."""
        return self.position_of(path)[0]

    def position_of(self, path: Path) -> tuple[int, int | None]:
        """Line and column (1-based, None when unknown) of ``path`` or of its nearest ancestor that has a line."""
        path = tuple(path)
        if self._json and self._index is None:
            if path not in self._found:
                item = self._item(path)
                if item is not None:
                    self._found[path] = self.layout.position(item, path[2:])
                    return self._found[path]
                text = self._text
                newlines = self._newline_offsets(text)
                offset = _json_path_offset(text, path, arrays=self._arrays)
                if offset is None:
                    self._found[path] = (self.start_line, None)
                else:
                    before = bisect.bisect_right(newlines, offset)
                    column = offset - (newlines[before - 1] if before else -1)
                    self._found[path] = (before + self._first_line, column)
            return self._found[path]
        if self._index is None:  # YAML: walk down the path in the composed document, no index kept
            found = self._found.get(path)
            if found is None:
                found = self._found[path] = self._yaml_position(path)
            return found[0], found[1]
        lines = self.lines
        while path:
            if path in lines:
                return lines[path], self._columns.get(path)
            path = path[:-1]
        return self.start_line, None

    def _item(self, path: tuple) -> int | None:
        """The index of the List item ``path`` is in, when the item's span is known."""
        layout = self.layout
        if layout is None or len(path) < 2 or path[0] != "items" or type(path[1]) is not int:
            return None
        return path[1] if 0 <= path[1] < len(layout) else None

    def _yaml_position(self, path: tuple) -> tuple[int, int | None, int | None]:
        """(line, column, first content line of a block scalar) of ``path`` in a YAML document,
        as the full index (``lines``, ``block_starts``) gives them: the nearest ancestor found
        for a missing path; the last of a key written twice."""
        root = _composed(self)
        if root is None:
            return self.start_line, None, None
        found = _walk(root, path, 0)
        if found is None or not found[0]:
            return self.start_line, None, None
        depth, key_node, node = found
        block = node.start_mark.line + 2 + self._first_line - 1 if depth == len(path) and isinstance(node, yaml.ScalarNode) and node.style in ("|", ">") else None
        return key_node.start_mark.line + self._first_line, key_node.start_mark.column + 1, block

    def _newline_offsets(self, text: str) -> list[int]:
        if self._newlines is None:
            self._newlines = [m.start() for m in re.finditer("\n", text)]
        return self._newlines

    def content_line(self, path: Path, offset: int) -> int:
        """Line of line ``offset`` (1-based) of the string at ``path`` (exact for block scalars)."""
        path = tuple(path)
        if self._json:
            return self.line_of(path)  # a JSON string is one line
        if self._index is None:
            found = self._found.get(path)
            if found is None:
                found = self._found[path] = self._yaml_position(path)
            return found[0] if found[2] is None else found[2] + offset - 1
        blocks = self.block_starts
        if path in blocks:
            return blocks[path] + offset - 1
        return self.line_of(path)

    def view(self, prefix: tuple) -> "Document":
        """The document rooted at ``prefix`` (a ``kind: List`` item), with the same lines."""
        if not prefix:
            return self
        if self._json and self._index is None:
            item = self._item(prefix) if len(prefix) == 2 else None
            if item is not None:
                columns = {}
                lines = _json_index(self.layout.text(item), self.layout.lines[item], columns=columns, first_column=self.layout.column)
                return Document(_get(self.data, prefix), self.layout.lines[item], index=(lines, {}), columns=columns)
            text = self._text
            start = _json_path_offset(text, prefix, exact=True, arrays=self._arrays)
            if start is None:
                return Document(_get(self.data, prefix), self.start_line, index=({}, {}))
            _, end = _DECODER.raw_decode(text, start)
            newlines = self._newline_offsets(text)
            before = bisect.bisect_right(newlines, start)
            line = before + self._first_line
            first_column = start - (newlines[before - 1] if before else -1)
            columns: dict = {}
            lines = _json_index(text[start:end], line, columns=columns, first_column=first_column)
            return Document(_get(self.data, prefix), line, index=(lines, {}), columns=columns)
        n = len(prefix)
        lines = {k[n:]: v for k, v in self.lines.items() if k[:n] == prefix}
        blocks = {k[n:]: v for k, v in self.block_starts.items() if k[:n] == prefix}
        columns = {k[n:]: v for k, v in self._columns.items() if k[:n] == prefix}
        return Document(_get(self.data, prefix), self.line_of(prefix), index=(lines, blocks), columns=columns)


# The document composed last for a look-up, and its root node: a check that finds something
# usually asks for a few lines of the same object in a row.
_COMPOSED: list = [None, None]


def _composed(doc: Document) -> "yaml.Node | None":
    """The composed root node of a YAML document, from its text (read again if it was not kept)."""
    if _COMPOSED[0] is not doc:
        text = doc._source if isinstance(doc._source, str) else normalize(doc._source())
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        except (yaml.YAMLError, RecursionError):  # the file changed since it was read: no lines
            node = None
        finally:
            loader.dispose()
        _COMPOSED[:] = [doc, node]
    return _COMPOSED[1]


def _walk(node: yaml.Node, path: tuple, depth: int) -> "tuple[int, yaml.Node, yaml.Node] | None":
    """(how many steps of ``path`` were found, the key or item node of the last one, its value
    node) for the deepest prefix of ``path`` found below ``node``; None for none. Of a key
    written twice the last occurrence that leads deepest wins, as in ``_index_node`` (which
    writes every occurrence, the later over the earlier)."""
    if depth == len(path):
        return None
    step = path[depth]
    candidates: list = []
    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        candidates = [(k, v) for k, v in node.value if (k.value if isinstance(k, yaml.ScalarNode) else str(k.start_mark)) == step]
    elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and not isinstance(step, bool) and 0 <= step < len(node.value):
        candidates = [(node.value[step], node.value[step])]
    best = None
    for key_node, value_node in reversed(candidates):
        deeper = _walk(value_node, path, depth + 1)
        found = deeper if deeper is not None else (depth + 1, key_node, value_node)
        if best is None or found[0] > best[0]:
            best = found
        if best[0] == len(path):
            break
    return best


_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\r\n]*")


def _json_path_offset(text: str, path: tuple, exact: bool = False, arrays: dict | None = None) -> int | None:
    """Offset of the key (or array item) ``path`` names, or of its nearest ancestor found.

    Walks down the path only; each sibling value is skipped with the C decoder, so a look-up in
    a List of thousands of objects costs a few decoder calls, not a Python pass over the file.
    ``arrays`` keeps the element offsets found per array, so later look-ups resume there.
    With ``exact`` the offset is that of the value itself, and None when the path is missing.
    """
    ws = _WS.match
    arrays = {} if arrays is None else arrays
    pos = ws(text, 0).end()
    found: int | None = pos
    for depth, step in enumerate(path):
        if pos >= len(text):
            return None if exact else found
        opener = text[pos]
        hit = None
        if opener == "{" and isinstance(step, str):
            pos = ws(text, pos + 1).end()
            while pos < len(text) and text[pos] == '"':
                key_at = pos
                key, pos = _DECODER.raw_decode(text, pos)
                pos = ws(text, ws(text, pos).end() + 1).end()  # the ':' and the blanks around it
                if key == step:
                    hit = key_at
                    break
                _, pos = _DECODER.raw_decode(text, pos)
                pos = ws(text, pos).end()
                if pos < len(text) and text[pos] == ",":
                    pos = ws(text, pos + 1).end()
        elif opener == "[" and isinstance(step, int):
            starts = arrays.setdefault(path[:depth], [])
            if not starts:
                first = ws(text, pos + 1).end()
                if first < len(text) and text[first] != "]":
                    starts.append(first)
            while len(starts) <= step:
                _, end = _DECODER.raw_decode(text, starts[-1]) if starts else (None, None)
                if end is None:
                    break
                end = ws(text, end).end()
                if end >= len(text) or text[end] != ",":
                    break
                starts.append(ws(text, end + 1).end())
            if 0 <= step < len(starts):
                hit = pos = starts[step]
        if hit is None:
            return None if exact else found
        found = hit
    return pos if exact else found


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


_STR = "tag:yaml.org,2002:str"
_ScalarNode = yaml.ScalarNode
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


# One copy of each short string: manifests repeat the same keys (``name``, ``containerPort``) and
# many values (``TCP``, label values, image names) in every document, and a str object costs
# ~50 bytes beyond its characters; sharing them halves the memory of the parsed data. Cleared
# when it holds too many (checked once a document), so it stays bounded.
_SHARED: dict[str, str] = {}
_SHARED_CHARS = 64
_SHARED_MAX = 500_000
# Likewise one copy of each small mapping of scalars (``resources.requests``, ``matchLabels``,
# a port, a probe's ``httpGet``): a third less memory for the data of a manifests repository.
# Object data is read, never written, once loaded (tests/test_loader.py checks that a scan
# leaves it as it was), so documents can share these as they share what a YAML alias names.
_LEAVES: dict[tuple, dict] = {}
_LEAF_KEYS = 8


def forget_shared() -> None:
    """Drop the tables of shared strings and mappings (what was built from them stays shared):
    the tables themselves are only needed while documents are read."""
    _SHARED.clear()
    _LEAVES.clear()


def _construct(loader: _Loader, node: yaml.Node, offset: int, notes: list["YamlError"], depth: int = 1) -> Any:
    """Build the data of a composed (and measured) document: strings, maps and lists directly
    (most of an object), everything else (ints, bools, nulls, merge keys, other tags) by the
    safe constructor. A key written twice keeps its last value, as PyYAML and Go's YAML/JSON
    readers do, and is noted in ``notes``."""
    if depth > MAX_DEPTH:
        raise YamlError(node.start_mark.line + 1 + offset, f"nested more than {MAX_DEPTH} levels deep; document not checked")
    if isinstance(node, yaml.ScalarNode):
        tag = node.tag
        if tag == _STR:
            value = node.value
            return _SHARED.setdefault(value, value) if len(value) <= _SHARED_CHARS else value
        value = node.value
        # The plain forms of ports, replicas, flags and nulls, as the safe constructor reads them
        # (a leading 0 is octal in YAML 1.1, and signs, "0x", "1_000" and long numbers go the long way).
        if tag == _INT and value.isdigit() and (value[0] != "0" or value == "0") and len(value) < 20:
            return int(value)
        if tag == _BOOL and value in _BOOLS:
            return _BOOLS[value]
        if tag == _NULL and value in ("", "~", "null", "Null", "NULL"):
            return None
        return _construct_other(loader, node, offset, depth)
    if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
        result = {}
        leaf = len(node.value) <= _LEAF_KEYS
        share = _SHARED.setdefault
        inline = depth < MAX_DEPTH  # a string value is built here (below the limit only, so that the limit still applies)
        for key_node, value_node in node.value:
            if key_node.tag != _STR:
                return _construct_other(loader, node, offset, depth)  # merge keys, non-string keys
            key = key_node.value
            if len(key) <= _SHARED_CHARS:
                key = share(key, key)
            if key in result:
                notes.append(YamlError(key_node.start_mark.line + 1 + offset, f"key {key[:60]!r} is given twice in one mapping; the last value is the one checked"))
            if inline and value_node.tag == _STR and value_node.__class__ is _ScalarNode:
                value = value_node.value
                result[key] = share(value, value) if len(value) <= _SHARED_CHARS else value
                continue
            value = result[key] = _construct(loader, value_node, offset, notes, depth + 1)
            if leaf and isinstance(value, (dict, list)):
                leaf = False
        if leaf:
            # The types too: {"a": 1} and {"a": True} are equal dicts, not the same data.
            return _LEAVES.setdefault((*result, *result.values(), *map(type, result.values())), result)
        return result
    if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
        return [_construct(loader, item, offset, notes, depth + 1) for item in node.value]
    return _construct_other(loader, node, offset, depth)


def _construct_other(loader: _Loader, node: yaml.Node, offset: int, depth: int) -> Any:
    if isinstance(node, yaml.ScalarNode) and len(node.value) > MAX_INT_DIGITS and _LONG_INT.search(node.value):
        # int() refuses such a number with a ValueError (sys.set_int_max_str_digits).
        raise YamlError(node.start_mark.line + 1 + offset, f"a number of {len(node.value)} digits (more than {MAX_INT_DIGITS}); document not checked")
    try:
        value = loader.construct_object(node, deep=True)
    except ValueError as exc:  # a number too long for Python, met inside a merge or a tagged node
        raise YamlError(node.start_mark.line + 1 + offset, f"cannot read a value: {str(exc)[:100]}; document not checked") from None
    # Kubernetes objects are JSON: YAML's other types (!!binary, !!set, !!omap, an explicit
    # !!timestamp) have no JSON meaning here and would surprise every check.
    pending = [(value, depth)]
    while pending:
        item, level = pending.pop()
        if level > MAX_DEPTH:
            raise YamlError(node.start_mark.line + 1 + offset, f"nested more than {MAX_DEPTH} levels deep; document not checked")
        if isinstance(item, dict):
            pending.extend((v, level + 1) for v in item.values())
            pending.extend((k, level + 1) for k in item if not isinstance(k, str))
        elif isinstance(item, list):
            pending.extend((v, level + 1) for v in item)
        elif not isinstance(item, (str, int, float, type(None))):
            raise YamlError(node.start_mark.line + 1 + offset, f"a {type(item).__name__} value (YAML tag {node.tag.replace('tag:yaml.org,2002:', '!!')}) where Kubernetes objects hold only JSON values; document not checked")
    return value


def _measure(root: yaml.Node, chars: int, offset: int) -> None:
    """Refuse a composed document whose aliases expand too far, that refers to itself or that
    nests too deep through them, before anything walks it: linear in the nodes written out,
    whatever the aliases would expand to (each distinct node is measured once)."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if not done:
            if key in size:
                continue
            if key in open_nodes:
                raise YamlError(node.start_mark.line + 1 + offset, "an alias refers to the node that contains it (a recursive structure); document not checked")
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in size)
            continue
        open_nodes.discard(key)
        size[key] = 1 + sum(size[id(child)] for child in children)
        depth[key] = 1 + max((depth[id(child)] for child in children), default=0)
        if depth[key] > MAX_DEPTH:
            raise YamlError(node.start_mark.line + 1 + offset, f"nested more than {MAX_DEPTH} levels deep; document not checked")
    budget = min(ALIAS_NODES_MAX, max(ALIAS_NODES_MIN, ALIAS_NODES_PER_CHAR * chars))
    expanded = size[id(root)] - len(size)
    if expanded > budget:
        shown = f"{expanded:,}" if expanded < 10**15 else f"about 10^{len(str(expanded)) - 1}"
        raise YamlError(
            root.start_mark.line + 1 + offset,
            f"aliases would expand the document by {shown} nodes (the limit for {chars:,} characters is {budget:,}); document not checked",
        )


def _children(node: yaml.Node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return []


def _index_node(node: yaml.Node, path: tuple, lines: dict, blocks: dict, offset: int, columns: dict) -> None:
    # Marks count characters from 0 (libyaml and the Python parser alike); columns are 1-based.
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            child = path + (key,)
            lines[child] = key_node.start_mark.line + 1 + offset
            columns[child] = key_node.start_mark.column + 1
            if isinstance(value_node, yaml.ScalarNode) and value_node.style in ("|", ">"):
                blocks[child] = value_node.start_mark.line + 2 + offset
            _index_node(value_node, child, lines, blocks, offset, columns)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = path + (i,)
            lines[child] = item.start_mark.line + 1 + offset
            columns[child] = item.start_mark.column + 1
            if isinstance(item, yaml.ScalarNode) and item.style in ("|", ">"):
                blocks[child] = item.start_mark.line + 2 + offset
            _index_node(item, child, lines, blocks, offset, columns)


def _yaml_index(text: str, first_line: int, columns: dict | None = None) -> tuple[dict, dict]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    lines: dict = {}
    blocks: dict = {}
    if node is not None:
        _index_node(node, (), lines, blocks, first_line - 1, columns if columns is not None else {})
    return lines, blocks


def _json_index(text: str, first_line: int, base: tuple = (), columns: dict | None = None, first_column: int = 1) -> dict:
    """The line of every key and array item of a JSON text, from a token scan (and its column, into ``columns``).

    ``first_column``: the column of the text's first character (a slice of a longer line).
    """
    lines: dict = {base: first_line} if base else {}
    if columns is None:
        columns = {}
    line_start = 1 - first_column  # the offset of the current line's first character
    # Each open container: [is_object, its path, next array index or the last key].
    stack: list[list] = []
    expect_key = False
    line = first_line
    last = 0
    count = text.count
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        start = match.start()
        breaks = count("\n", last, start)
        if breaks:
            line += breaks
            line_start = text.rfind("\n", last, start) + 1
        last = start
        top = stack[-1] if stack else None
        if token == ",":
            if top is not None:
                if top[0]:
                    expect_key = True
                else:
                    top[2] += 1
            continue
        if token == ":":
            continue
        if token == "}" or token == "]":
            stack.pop()
            expect_key = False
            continue
        if expect_key and top is not None and top[0]:
            key = (json.loads(token) if "\\" in token else token[1:-1]) if token.startswith('"') else token
            top[2] = key
            lines[top[1] + (key,)] = line
            columns[top[1] + (key,)] = start - line_start + 1
            expect_key = False
            continue
        # A value: the path it is stored at.
        if top is None:
            path: tuple = base
        else:
            path = top[1] + (top[2],)
            if not top[0] and path not in lines:
                lines[path] = line
                columns[path] = start - line_start + 1
        if token == "{":
            stack.append([True, path, None])
            expect_key = True
        elif token == "[":
            stack.append([False, path, 0])
    return lines


def _yaml_error(exc: yaml.YAMLError, offset: int) -> YamlError:
    # The construct that is unterminated started at context_mark; problem_mark is often end of file.
    mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    if isinstance(exc, yaml.constructor.ConstructorError) and "could not determine a constructor for the tag" in problem:
        # Kubernetes objects use no tags beyond YAML's own (!!str, !!int ...): an unknown one is
        # not something to guess at.
        tag = problem.rsplit(" ", 1)[-1]
        return YamlError(mark.line + 1 + offset if mark else None, f"unknown YAML tag {tag[:60]}; document not checked")
    message = f"{context}, {problem}" if context else problem
    return YamlError(mark.line + 1 + offset if mark else None, f"not valid YAML: {message}")


def _chunks(text: str) -> list[tuple[int, str]]:
    """(first line, text) of each document of a YAML stream."""
    starts = [0] + [m.start() for m in _MARKER.finditer(text)]
    chunks: list[tuple[int, str]] = []
    line = 1
    previous = 0
    directives: tuple[int, str] | None = None  # a "%YAML"/"%TAG" part, kept for the document it precedes
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        line += text.count("\n", previous, start)  # counted once over the whole text
        previous = start
        chunk = text[start:end]
        if directives is not None:
            # Directives need their "---": the document is parsed with them, marker and all.
            chunks.append((directives[0], directives[1] + chunk))
            directives = None
            continue
        if _only_directives(chunk):
            directives = (line, chunk)
            continue
        if chunk.startswith(("---", "...")):
            line_end = chunk.find("\n")
            rest = chunk[3: line_end if line_end != -1 else len(chunk)]
            # Keep the marker line's content after '---' (e.g. '--- !tag' or '--- value') in
            # place; a blank rest (spaces, a tab) is dropped, as libyaml rejects a tab there.
            chunk = chunk[3 + len(rest):] if not rest.strip() else " " * 3 + chunk[3:]
        chunks.append((line, chunk))
    if directives is not None:
        chunks.append(directives)
    return chunks


def _only_directives(chunk: str) -> bool:
    """Whether a part of the stream holds only directives (and comments or blank lines)."""
    if chunk.startswith(("---", "...")) or "%" not in chunk:
        return False
    meaningful = [row.strip() for row in chunk.split("\n") if row.strip() and not row.strip().startswith("#")]
    return bool(meaningful) and all(row.startswith("%") for row in meaningful)


def normalize(text: str) -> str:
    """The text with a leading byte order mark dropped and CRLF/CR line breaks as LF.

    YAML reads all three as one line break (YAML 1.2 section 5.4, "Line Break Characters"), so
    the data and the line numbers stay the same; only the splitting into documents and the line
    counting here need LF.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


class Documents(list):
    """The documents read from a text (a list), and ``problems``: each document that could not
    be read or exceeded a limit (not in the list), and notes on ones that were read (a key
    given twice)."""

    def __init__(self, documents: "list[Document]" = (), problems: "list[YamlError]" = ()) -> None:
        super().__init__(documents)
        self.problems = list(problems)

    def __reduce__(self):  # travels between processes (snapshot.loader parses YAML in parallel)
        return (Documents, (list(self), self.problems))


def read_documents(text: str, reread: "Callable[[], str] | None" = None) -> Documents:
    """Parse every document of a YAML stream or a JSON text; never raises for bad input.

    Empty documents are dropped. A document that is broken or exceeds a limit is left out and
    named in ``problems`` with its line; the others are read. ``reread`` returns the same text
    again later: a document then keeps it (a JSON document) or its place in it (a YAML one)
    instead of the text, for the rare line look-up, so memory holds only the data.
    """
    if len(text) > MAX_TEXT_CHARS:
        return Documents(problems=[YamlError(1, f"{len(text) // 2**20:,} MiB of text, more than the {MAX_TEXT_CHARS // 2**20:,} MiB read from one file; not checked")])
    text = normalize(text)
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        start = text.count("\n", 0, len(text) - len(stripped)) + 1
        try:
            data = json.loads(text)
        except RecursionError:
            return Documents(problems=[YamlError(start, "JSON nested too deep to read; not checked")])
        except json.JSONDecodeError:
            pass  # not JSON after all (YAML flow style): the YAML parser says what is wrong
        except ValueError as exc:  # valid JSON that Python will not read (a number of 4,300+ digits)
            long = _LONG_INT.search(text)
            line = text.count("\n", 0, long.start()) + 1 if long else start
            what = f"a number of more than {MAX_INT_DIGITS} digits" if long else f"cannot read a value ({str(exc)[:80]})"
            return Documents(problems=[YamlError(line, f"{what}; not checked")])
        else:
            if data is None:
                return Documents()
            return Documents([Document(data, start, reread or text, 1, is_json=True)])
    docs = Documents()
    for number, (first_line, chunk) in enumerate(_chunks(text)):
        try:
            doc = _read_chunk(chunk, first_line, docs.problems, _ChunkAgain(reread, number, first_line) if reread else None)
        except YamlError as exc:
            docs.problems.append(exc)
            continue
        if doc is not None:
            docs.append(doc)
    return docs


def _read_chunk(chunk: str, first_line: int, notes: list[YamlError], again: "Callable[[], str] | None" = None) -> "Document | None":
    """The document of one chunk of a stream (None when empty); ``again`` returns the chunk again
    later, for the line index, and is kept instead of the chunk."""
    if len(chunk) > MAX_DOCUMENT_CHARS:
        raise YamlError(first_line, f"a YAML document of {len(chunk) // 2**20:,} MiB, more than {MAX_DOCUMENT_CHARS // 2**20:,} MiB; document not checked")
    if len(_SHARED) > _SHARED_MAX or len(_LEAVES) > _SHARED_MAX:
        _SHARED.clear()
        _LEAVES.clear()
    loader = _Loader(chunk)
    offset = first_line - 1
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "&" in chunk:  # no anchor, no alias: nothing to expand (and depth is checked while building)
            _measure(node, len(chunk), offset)
        data = _construct(loader, node, offset, notes)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, offset) from None
    except RecursionError:  # the pure-Python parser (without libyaml), or a deep node under a non-string key
        raise YamlError(first_line, "nested too deep to read; document not checked") from None
    finally:
        loader.dispose()
    if data is None:
        return None
    content = len(chunk) - len(chunk.lstrip(" \t\r\n"))
    start = first_line + chunk.count("\n", 0, content)
    # Comment-only lines before the content are not part of the document's start.
    while True:
        line_end = chunk.find("\n", content)
        head = chunk[content: line_end if line_end != -1 else len(chunk)]
        if not head.lstrip().startswith("#") or line_end == -1:
            break
        content = line_end + 1 + (len(chunk[line_end + 1:]) - len(chunk[line_end + 1:].lstrip(" \t\r\n")))
        start = first_line + chunk.count("\n", 0, content)
    return Document(data, start, again or chunk, first_line)


# The chunks of the text read last by ``_chunk_again``: findings come in file order, so the
# documents of one file that need lines mostly ask in a row.
_AGAIN: list = [None, []]


class _ChunkAgain:
    """Reads chunk ``number`` of a file again: what a YAML document keeps instead of its text
    (one small object per document; a manifests repository holds tens of thousands)."""

    __slots__ = ("reread", "number", "first_line")

    def __init__(self, reread: "Callable[[], str]", number: int, first_line: int) -> None:
        self.reread = reread
        self.number = number
        self.first_line = first_line

    def __call__(self) -> str:
        return _chunk_again(self.reread, self.number, self.first_line)


def _chunk_again(reread: "Callable[[], str]", number: int, first_line: int) -> str:
    """Chunk ``number`` of the text ``reread`` returns (its line index is built from it), or ""
    (no lines: the start line is used) when the file changed since and that chunk moved."""
    if _AGAIN[0] is not reread:
        _AGAIN[:] = [reread, _chunks(normalize(reread()))]
    chunks = _AGAIN[1]
    if number < len(chunks) and chunks[number][0] == first_line:
        return chunks[number][1]
    return ""


def load_documents(text: str, reread: "Callable[[], str] | None" = None) -> list[Document]:
    """All or nothing: the documents of ``text``, or ``YamlError`` for its first problem.

    For callers that cannot use part of a text; everything that reads user input should use
    ``read_documents``, which keeps the good documents and reports each bad one.
    """
    docs = read_documents(text, reread)
    if docs.problems:
        raise docs.problems[0]
    return list(docs)


def load_data(text: str) -> Any:
    """The data of a single-document YAML/JSON file (a config file, a catalog file), read with the
    same limits as objects. Raises ``YamlError`` for the first problem, a key given twice included
    (in a settings file that is a mistake, not a choice to guess at)."""
    docs = read_documents(text)
    if docs.problems:
        raise docs.problems[0]
    if len(docs) > 1:
        raise YamlError(docs[1].start_line, "expected a single document, found another")
    return docs[0].data if docs else None
