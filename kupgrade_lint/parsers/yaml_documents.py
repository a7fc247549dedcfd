"""YAML (and JSON) documents with the source line of every key, item and block scalar.

Kubernetes objects are read as ``kubectl`` prints them; findings need the line of the field
that is wrong, and, for configuration embedded in a ConfigMap (``data.ClusterConfiguration: |``),
the line where the block's content starts so that lines inside it can be mapped back.

Lines are needed only for the few documents that have findings, so the index of a document is
built lazily on first use; JSON (what collectors write) is read with the json module, which is
an order of magnitude faster than a YAML parser on the same text.
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
            if len(self._resolved) < 200_000:
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
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


class YamlError(ValueError):
    """The text is not valid YAML/JSON; the message names the line."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.message = message

    def __reduce__(self):  # errors travel between processes (snapshot.loader parses YAML in parallel)
        return (YamlError, (self.line, self.message))


class Document:
    """One document: its data, and (on first use) the line of each path and of block scalars.

    For YAML the whole document is indexed once. For JSON (collector Lists of thousands of
    objects) each look-up walks straight down its path, skipping siblings with the C decoder.
    """

    __slots__ = ("data", "start_line", "_source", "_first_line", "_json", "_index", "_newlines", "_found", "_arrays")

    def __init__(self, data: Any, start_line: int, text: "str | Callable[[], str]" = "", first_line: int = 1, is_json: bool = False,
                 index: tuple[dict, dict] | None = None) -> None:
        self.data = data
        self.start_line = start_line
        # The text, or a function that reads it again (large JSON files are not kept in memory).
        self._source = text
        self._first_line = first_line
        self._json = is_json
        self._index = index
        self._newlines: list[int] | None = None
        self._found: dict[tuple, int] = {}
        self._arrays: dict[tuple, list[int]] = {}

    @property
    def lines(self) -> dict:
        return self._built()[0]

    @property
    def block_starts(self) -> dict:
        return self._built()[1]

    @property
    def _text(self) -> str:
        if not isinstance(self._source, str):
            self._source = self._source()  # read again once, kept while its lines are looked up
        return self._source

    def _built(self) -> tuple[dict, dict]:
        if self._index is None:
            if self._json:
                self._index = (_json_index(self._text, self._first_line), {})
            else:
                self._index = _yaml_index(self._text, self._first_line)
            self._source = ""  # the index is all that is needed from now on
        return self._index

    def line_of(self, path: Path) -> int:
        """Line of ``path`` or of its nearest ancestor that has one."""
        path = tuple(path)
        if self._json and self._index is None:
            if path not in self._found:
                text = self._text
                if self._newlines is None:
                    self._newlines = [m.start() for m in re.finditer("\n", text)]
                offset = _json_path_offset(text, path, arrays=self._arrays)
                self._found[path] = bisect.bisect_right(self._newlines, offset) + self._first_line if offset is not None else self.start_line
            return self._found[path]
        lines = self.lines
        while path:
            if path in lines:
                return lines[path]
            path = path[:-1]
        return self.start_line

    def content_line(self, path: Path, offset: int) -> int:
        """Line of line ``offset`` (1-based) of the string at ``path`` (exact for block scalars)."""
        path = tuple(path)
        if self._json:
            return self.line_of(path)  # a JSON string is one line
        blocks = self.block_starts
        if path in blocks:
            return blocks[path] + offset - 1
        return self.line_of(path)

    def view(self, prefix: tuple) -> "Document":
        """The document rooted at ``prefix`` (a ``kind: List`` item), with the same lines."""
        if not prefix:
            return self
        if self._json and self._index is None:
            text = self._text
            start = _json_path_offset(text, prefix, exact=True, arrays=self._arrays)
            if start is None:
                return Document(_get(self.data, prefix), self.start_line, index=({}, {}))
            _, end = _DECODER.raw_decode(text, start)
            line = text.count("\n", 0, start) + self._first_line
            return Document(_get(self.data, prefix), line, index=(_json_index(text[start:end], line), {}))
        n = len(prefix)
        lines = {k[n:]: v for k, v in self.lines.items() if k[:n] == prefix}
        blocks = {k[n:]: v for k, v in self.block_starts.items() if k[:n] == prefix}
        return Document(_get(self.data, prefix), self.line_of(prefix), index=(lines, blocks))


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
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


def _construct(loader: _Loader, node: yaml.Node) -> Any:
    """Build the data of a composed document: strings, maps and lists directly (most of an
    object), everything else (ints, bools, nulls, merge keys, other tags) by the safe constructor."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _STR:
            return node.value
        return loader.construct_object(node, deep=True)
    if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
        result = {}
        for key_node, value_node in node.value:
            if key_node.tag != _STR:
                return loader.construct_object(node, deep=True)  # merge keys, non-string keys
            result[key_node.value] = _construct(loader, value_node)
        return result
    if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
        return [_construct(loader, item) for item in node.value]
    return loader.construct_object(node, deep=True)


def _index_node(node: yaml.Node, path: tuple, lines: dict, blocks: dict, offset: int) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            child = path + (key,)
            lines[child] = key_node.start_mark.line + 1 + offset
            if isinstance(value_node, yaml.ScalarNode) and value_node.style in ("|", ">"):
                blocks[child] = value_node.start_mark.line + 2 + offset
            _index_node(value_node, child, lines, blocks, offset)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = path + (i,)
            lines[child] = item.start_mark.line + 1 + offset
            if isinstance(item, yaml.ScalarNode) and item.style in ("|", ">"):
                blocks[child] = item.start_mark.line + 2 + offset
            _index_node(item, child, lines, blocks, offset)


def _yaml_index(text: str, first_line: int) -> tuple[dict, dict]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    lines: dict = {}
    blocks: dict = {}
    if node is not None:
        _index_node(node, (), lines, blocks, first_line - 1)
    return lines, blocks


def _json_index(text: str, first_line: int, base: tuple = ()) -> dict:
    """The line of every key and array item of a JSON text, from a token scan."""
    lines: dict = {base: first_line} if base else {}
    # Each open container: [is_object, its path, next array index or the last key].
    stack: list[list] = []
    expect_key = False
    line = first_line
    last = 0
    count = text.count
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        start = match.start()
        line += count("\n", last, start)
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
            expect_key = False
            continue
        # A value: the path it is stored at.
        if top is None:
            path: tuple = base
        else:
            path = top[1] + (top[2],)
            if not top[0]:
                lines.setdefault(path, line)
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
    message = f"{context}, {problem}" if context else problem
    return YamlError(mark.line + 1 + offset if mark else None, f"not valid YAML: {message}")


def _chunks(text: str) -> list[tuple[int, str]]:
    """(first line, text) of each document of a YAML stream."""
    starts = [0] + [m.start() for m in _MARKER.finditer(text)]
    chunks = []
    line = 1
    previous = 0
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        line += text.count("\n", previous, start)  # counted once over the whole text
        previous = start
        chunk = text[start:end]
        if chunk.startswith(("---", "...")):
            # Keep the marker line's content after '---' (e.g. '--- !tag' or '--- value') in place.
            chunk = " " * 3 + chunk[3:]
        chunks.append((line, chunk))
    return chunks


def load_documents(text: str, reread: "Callable[[], str] | None" = None) -> list[Document]:
    """Parse every document of a YAML stream or a JSON text. Empty documents are dropped.

    ``reread`` returns the same text again later: a JSON document then keeps it instead of the
    text, for the rare line look-up.
    """
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            data = json.loads(text)
        except ValueError:
            pass  # not JSON after all (YAML flow style): the YAML parser says what is wrong
        else:
            if data is None:
                return []
            start = text.count("\n", 0, len(text) - len(stripped)) + 1
            return [Document(data, start, reread or text, 1, is_json=True)]
    docs: list[Document] = []
    for first_line, chunk in _chunks(text):
        loader = _Loader(chunk)
        try:
            node = loader.get_single_node()
            data = _construct(loader, node) if node is not None else None
        except yaml.YAMLError as exc:
            raise _yaml_error(exc, first_line - 1) from None
        finally:
            loader.dispose()
        if data is None:
            continue
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
        docs.append(Document(data, start, chunk, first_line))
    return docs
