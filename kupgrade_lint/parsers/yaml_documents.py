"""YAML (and JSON) documents with the source line of every key, item and block scalar.

Kubernetes objects are read as ``kubectl`` prints them; findings need the line of the field
that is wrong, and, for configuration embedded in a ConfigMap (``data.ClusterConfiguration: |``),
the line where the block's content starts so that lines inside it can be mapped back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that keeps timestamps as strings, as Kubernetes clients see them."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in _BaseLoader.yaml_implicit_resolvers.copy().items()
}

Path = tuple  # of str keys and int indexes


@dataclass(frozen=True)
class Document:
    """One document: its data, the line of each path, and where block scalars' content starts."""

    data: Any
    start_line: int
    lines: dict
    block_starts: dict

    def line_of(self, path: Path) -> int:
        """Line of ``path`` or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.start_line

    def content_line(self, path: Path, offset: int) -> int:
        """Line of line ``offset`` (1-based) of the string at ``path`` (exact for block scalars)."""
        path = tuple(path)
        if path in self.block_starts:
            return self.block_starts[path] + offset - 1
        return self.line_of(path)


class YamlError(ValueError):
    """The text is not valid YAML/JSON; the message names the line."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


def _index(node: yaml.Node, path: tuple, lines: dict, blocks: dict) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            child = path + (key,)
            lines[child] = key_node.start_mark.line + 1
            if isinstance(value_node, yaml.ScalarNode) and value_node.style in ("|", ">"):
                blocks[child] = value_node.start_mark.line + 2
            _index(value_node, child, lines, blocks)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = path + (i,)
            lines[child] = item.start_mark.line + 1
            if isinstance(item, yaml.ScalarNode) and item.style in ("|", ">"):
                blocks[child] = item.start_mark.line + 2
            _index(item, child, lines, blocks)


def load_documents(text: str) -> list[Document]:
    """Parse every document of a YAML stream (JSON is YAML too). Empty documents are dropped."""
    loader = _Loader(text)
    docs: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            data = loader.construct_document(node)
            if data is None:
                continue
            lines: dict = {}
            blocks: dict = {}
            _index(node, (), lines, blocks)
            docs.append(Document(data, node.start_mark.line + 1, lines, blocks))
    except yaml.YAMLError as exc:
        # The construct that is unterminated started at context_mark; problem_mark is often end of file.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        message = f"{context}, {problem}" if context else problem
        raise YamlError(mark.line + 1 if mark else None, f"not valid YAML: {message}") from None
    finally:
        loader.dispose()
    return docs
