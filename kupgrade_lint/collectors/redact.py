"""Keep secrets out of snapshots: apply the allow-list (``allowlist.py``) to what is written.

Everything a collector writes goes through one of these functions. They take the edits the
allow-list asks for and apply them to parsed data (``apply_edits``) or to text, keeping every
line of a YAML file, env file or unit where it was (findings name lines of the node's real
file). Text that cannot be parsed is never written as it is: it is dropped, with a note.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from dataclasses import dataclass
from typing import Any, Callable

import yaml

from kupgrade_lint.collectors.allowlist import (
    CONTAINERD_TOML_KEYS,
    REDACTED,
    UNIT_KEYS,
    Edit,
    config_edits,
    env_value_is_flags,
    is_component_config,
    kubeconfig_edits,
    looks_like_kubeconfig,
    object_edits,
)
from kupgrade_lint.urls import strip_userinfo

_PEM_BLOCK = re.compile(r"-----BEGIN (?P<label>[A-Z0-9 ]+)-----\s.*?-----END (?P=label)-----\s*", re.DOTALL)
PRIVATE_KEY_MARKER = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_DOCUMENT_SPLIT = re.compile(r"(?m)^---[ \t]*(?:#.*)?$")


class Unparseable(ValueError):
    """Text that does not parse as the form it must have; it is not written."""


# -- data -------------------------------------------------------------------------------------------


def _minimal(edits: list[Edit]) -> list[Edit]:
    """Edits without those inside a value another edit replaces as a whole."""
    paths = {tuple(p) for p, _ in edits}
    out = []
    seen: set[tuple] = set()
    for path, value in edits:
        path = tuple(path)
        if path in seen or any(path[:n] in paths for n in range(len(path))):
            continue
        seen.add(path)
        out.append((path, value))
    return out


def apply_edits(data: Any, edits: list[Edit]) -> Any:
    """A copy of ``data`` with each ``(path, value)`` edit applied (missing parents are created)."""
    if not edits:
        return data
    return _set_paths(copy.deepcopy(data), edits, None)


def sanitize_object(obj: dict) -> dict:
    """The object as it may be written to a snapshot (the allow-list of ``allowlist.py``)."""
    return edited_tree(obj, object_edits(obj))


def edited_tree(data: Any, edits: list[Edit]) -> Any:
    """``apply_edits`` for a tree (parsed JSON: no value reachable by two paths), copying less.

    Only the containers on the path to an edit are copied; everything else is shared with
    ``data``, which is left as it was. The result equals ``apply_edits(data, edits)``: in a tree
    an edit is seen through its own path only, so copying just that path is the same as
    copying all of it. (YAML with anchors is not a tree: use ``apply_edits`` there.)
    """
    if not edits:
        return data
    if not isinstance(data, (dict, list)):
        return apply_edits(data, edits)
    result = _shallow(data)
    return _set_paths(result, edits, {id(result): result})


def _set_paths(result: Any, edits: list[Edit], owned: dict | None) -> Any:
    """Apply ``edits`` to ``result`` in place, creating missing parents. With ``owned`` (the ids
    of the containers that are copies, safe to change), every other container on an edit's path
    is copied first; without it, ``result`` is a deep copy and is changed as it is."""
    for path, value in _minimal(edits):
        if not path:
            result = value
            continue
        parent = result
        ok = True
        for part in path[:-1]:
            if isinstance(parent, dict) and part in parent or (
                isinstance(parent, list) and isinstance(part, int) and 0 <= part < len(parent)
            ):
                child = parent[part]
                if owned is not None and isinstance(child, (dict, list)) and id(child) not in owned:
                    child = _shallow(child)
                    owned[id(child)] = child
                    parent[part] = child
                parent = child
            elif isinstance(parent, dict):
                child = {}
                if owned is not None:
                    owned[id(child)] = child
                parent[part] = child
                parent = child
            else:
                ok = False
                break
        if not ok:
            continue
        last = path[-1]
        if isinstance(parent, dict):
            parent[last] = value
        elif isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent):
            parent[last] = value
    return result


def _shallow(container: Any) -> Any:
    return dict(container) if isinstance(container, dict) else list(container)


def certificates_only(pem: str) -> str:
    """Only the ``CERTIFICATE`` blocks of a PEM bundle; keys and anything else are dropped."""
    blocks = [m.group(0).strip() + "\n" for m in _PEM_BLOCK.finditer(pem) if m.group("label") == "CERTIFICATE"]
    return "".join(blocks)


# -- YAML text, line by line ---------------------------------------------------------------------------


def _json(text: str) -> tuple[bool, Any]:
    """(True, data) when ``text`` is JSON (parsed far faster than YAML, and without comments)."""
    if text.lstrip()[:1] not in ("{", "["):
        return False, None
    try:
        return True, json.loads(text)
    except ValueError:
        return False, None


def load_documents(text: str) -> list[Any]:
    """Every document of a YAML (or JSON) text; raises Unparseable."""
    return _load_all(text)


def _load_all(text: str) -> list[Any]:
    is_json, data = _json(text)
    if is_json:
        return [data]
    try:
        return list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise Unparseable(f"not valid YAML{where}") from None


def strip_comments(text: str, keep: Callable[[str], bool] = lambda _c: False) -> str:
    """``text`` without its YAML comments (they can quote secrets); lines stay where they were.

    Comments are what lies between tokens after a ``#``; ``keep`` may spare some (Helm's
    ``# Source:`` lines).
    """
    if "#" not in text or _json(text)[0]:
        return text
    try:
        tokens = list(yaml.scan(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        raise Unparseable("not valid YAML") from None
    gaps: list[tuple[int, int]] = []
    pos = 0
    for token in tokens:
        if token.start_mark.index > pos:
            gaps.append((pos, token.start_mark.index))
        pos = max(pos, token.end_mark.index)
    if pos < len(text):
        gaps.append((pos, len(text)))
    out: list[str] = []
    last = 0
    for start, end in gaps:
        segment = text[start:end]
        if "#" not in segment:
            continue
        cleaned = re.sub(r"#[^\n\r]*", lambda m: m.group(0) if keep(m.group(0)) else "", segment)
        out.append(text[last:start])
        out.append(cleaned)
        last = end
    out.append(text[last:])
    return "".join(out)


def _find(node: yaml.Node, path: tuple) -> tuple[int, int, bool] | None:
    """(start, end, is_mapping_value) of the text to replace for ``path`` in a composed node."""
    key_end = None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = None
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    match = (key_node, value_node)
            if match is None:
                return None
            key_end, node = match[0].end_mark.index, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            key_end, node = None, node.value[part]
        else:
            return None
    if key_end is None:
        return node.start_mark.index, node.end_mark.index, False
    return key_end, node.end_mark.index, True


def _scalar(value: Any, as_json: bool = False) -> str:
    """``value`` as YAML: plain when it reads back as the same string, else JSON-quoted."""
    if not as_json and isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_./@][A-Za-z0-9_./:@-]*", value):
        try:
            if yaml.safe_load(value) == value:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value, ensure_ascii=False, sort_keys=False)


def _splice(text: str, start: int, end: int, replacement: str) -> str:
    span = text[start:end]
    newlines = span.count("\n")
    tail = ""
    if newlines:
        tail = re.sub(r"\S", " ", span[span.rfind("\n") + 1 :])
        if not tail.strip() and span.endswith("\n"):
            tail = ""
    return text[:start] + replacement + "\n" * newlines + tail + text[end:]


def _spliced(text: str, edits_per_doc: list[list[Edit]]) -> str | None:
    """The text with the edits spliced in, or None when a path is not in the text as written."""
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    if len(nodes) != len(edits_per_doc):
        return None
    spans: list[tuple[int, int, str]] = []
    as_json = text.lstrip()[:1] in ("{", "[")
    for node, edits in zip(nodes, edits_per_doc):
        for path, value in _minimal(edits):
            found = _find(node, path) if node is not None else None
            if found is None:
                return None
            start, end, is_value = found
            spans.append((start, end, (": " if is_value else "") + _scalar(value, as_json)))
    for start, end, replacement in sorted(spans, reverse=True):
        text = _splice(text, start, end, replacement)
    return text


def redact_text_documents(text: str, edits_per_doc: list[list[Edit]], keep_comment: Callable[[str], bool] = lambda _c: False) -> str:
    """YAML/JSON text with the edits of each document applied and its comments removed.

    Lines keep their numbers when the edits can be spliced into the text as written; the
    result is parsed again and must equal the edited data, else the edited data is dumped.
    """
    return _redact_documents(text, _load_all(text), edits_per_doc, keep_comment)


def _redact_documents(text: str, docs: list[Any], edits_per_doc: list[list[Edit]], keep_comment: Callable[[str], bool]) -> str:
    """``redact_text_documents`` with ``docs`` the documents of ``text``, already parsed."""
    if len(docs) != len(edits_per_doc):
        raise ValueError("one list of edits per document is needed")
    expected = [apply_edits(d, e) for d, e in zip(docs, edits_per_doc)]
    edited = any(edits_per_doc)
    spliced = _spliced(text, edits_per_doc) if edited else text
    if spliced is not None:
        try:
            cleaned = strip_comments(spliced, keep_comment)
            # Unchanged text parses to what it parsed to (and nothing was edited): no second parse.
            if (not edited and cleaned == text) or _load_all(cleaned) == expected:
                return cleaned
        except Unparseable:
            pass
    return "---\n".join(
        yaml.safe_dump(d, sort_keys=False, default_flow_style=False, allow_unicode=True) if not isinstance(d, str) else _scalar(d) + "\n"
        for d in expected
        if d is not None
    )


def redact_yaml(text: str, plan: Callable[[Any], list[Edit]], keep_comment: Callable[[str], bool] = lambda _c: False) -> str:
    """YAML text whose every document is reduced by ``plan``; raises Unparseable."""
    docs = _load_all(text)
    return _redact_documents(text, docs, _plans_of(docs, plan), keep_comment)


def _plans(text: str, plan: Callable[[Any], list[Edit]]) -> list[list[Edit]]:
    return _plans_of(_load_all(text), plan)


def _plans_of(docs: list[Any], plan: Callable[[Any], list[Edit]]) -> list[list[Edit]]:
    return [plan(d) if d is not None else [] for d in docs]


# -- files of particular forms -------------------------------------------------------------------------


def redact_kubeconfig_text(text: str) -> str:
    """A kubeconfig reduced to the allow-list; raises Unparseable for anything else."""
    docs = [d for d in _load_all(text) if d is not None]
    if len(docs) != 1 or not looks_like_kubeconfig(docs[0]):
        raise Unparseable("not a kubeconfig")
    return redact_text_documents(text, _plans(text, kubeconfig_edits))


def redact_config_file(text: str) -> str:
    """A component configuration file (the kubelet's config.yaml); raises Unparseable otherwise."""
    docs = [d for d in _load_all(text) if d is not None]
    if not docs or not all(is_component_config(d) for d in docs):
        raise Unparseable("not a Kubernetes component configuration (apiVersion/kind)")
    return redact_text_documents(text, _plans(text, config_edits))


def redact_manifest_file(text: str) -> str:
    """Kubernetes objects (a static pod manifest); raises Unparseable for anything else."""
    docs = [d for d in _load_all(text) if d is not None]
    if not all(isinstance(d, dict) for d in docs):
        raise Unparseable("not Kubernetes objects (a document is not a mapping)")
    return redact_text_documents(text, _plans(text, object_edits))


@dataclass(frozen=True)
class CleanManifest:
    """A rendered manifest as written to a snapshot, and what had to be dropped from it."""

    text: str
    dropped: tuple[str, ...]


def _is_source_comment(comment: str) -> bool:
    return comment.startswith("# Source: ")


def sanitize_manifest(text: str) -> CleanManifest:
    """A rendered multi-document manifest (a Helm release) with every document reduced.

    Each document, ``kind: List`` items included, goes through the object allow-list; a
    document that does not parse is dropped whole (it may be a Secret) and named in
    ``dropped``. Helm's ``# Source:`` comments stay; other comments go.
    """
    out: list[str] = []
    dropped: list[str] = []
    parts = _DOCUMENT_SPLIT.split(text)
    for number, doc in enumerate(parts):
        try:
            out.append(redact_yaml(doc, object_edits, _is_source_comment))
        except Unparseable as exc:
            lines = doc.count("\n")
            dropped.append(f"document {number} ({exc})")
            out.append("\n# (a document that is not valid YAML was removed by kupgrade-lint)" + "\n" * max(lines - 1, 1))
    return CleanManifest("---".join(out), tuple(dropped))


# -- env files and systemd units --------------------------------------------------------------------------

_ASSIGNMENT = re.compile(r"^(?P<lead>\s*(?:export\s+)?)(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<sep>\s*=\s*)(?P<value>.*)$", re.DOTALL)
_UNIT_LINE = re.compile(r"^(?P<lead>\s*)(?P<key>[A-Za-z][A-Za-z0-9_-]*)(?P<sep>\s*=\s*)(?P<value>.*)$", re.DOTALL)


def _logical_lines(text: str) -> list[list[str]]:
    """Physical lines (with their endings) grouped into logical lines joined by a trailing ``\\``."""
    groups: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        current.append(line)
        if not line.rstrip("\r\n").endswith("\\"):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


def _replace_group(group: list[str], first: str) -> list[str]:
    """``first`` on the first physical line of the group, the others emptied (lines keep their numbers)."""
    return [first + (_ending(group[0]) or "")] + [_ending(line) or "\n" for line in group[1:]]


def _joined(group: list[str]) -> str:
    return "".join(line.rstrip("\r\n")[:-1] + " " if i < len(group) - 1 else line.rstrip("\r\n") for i, line in enumerate(group))


def redact_env_file(text: str) -> str:
    """An environment file keeping only the values that are flags or ``$VAR`` references."""
    out: list[str] = []
    for group in _logical_lines(text):
        joined = _joined(group).lstrip("\ufeff")
        if not joined.strip():
            out.extend(group)
            continue
        if joined.lstrip().startswith(("#", ";")):
            out.extend(_replace_group(group, ""))
            continue
        m = _ASSIGNMENT.match(joined)
        if m is None:
            out.extend(_replace_group(group, ""))
        elif env_value_is_flags(m.group("value")):
            out.extend(strip_userinfo(line) for line in group)
        else:
            out.extend(_replace_group(group, f"{m.group('lead')}{m.group('name')}={REDACTED}"))
    return "".join(out)


def _environment_value(value: str) -> str | None:
    """An ``Environment=`` value keeping only flag-like assignments; None if nothing changes."""
    try:
        words = shlex.split(value, comments=False, posix=True)
    except ValueError:
        return REDACTED
    kept: list[str] = []
    changed = False
    for word in words:
        name, eq, inner = word.partition("=")
        if eq and env_value_is_flags(inner):
            kept.append(word)
        else:
            kept.append(f"{name}={REDACTED}" if eq else REDACTED)
            changed = True
    if not changed:
        return None
    return " ".join('"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"' for w in kept)


def redact_unit_file(text: str) -> str:
    """A systemd unit or drop-in keeping sections and the keys the checks read (UNIT_KEYS)."""
    out: list[str] = []
    for group in _logical_lines(text):
        joined = _joined(group)
        stripped = joined.strip()
        if not stripped or (stripped.startswith("[") and stripped.endswith("]")):
            out.extend(group)
            continue
        if stripped.startswith(("#", ";")):
            out.extend(_replace_group(group, ""))
            continue
        m = _UNIT_LINE.match(joined)
        if m is None:
            out.extend(_replace_group(group, ""))
            continue
        key = m.group("key")
        if key not in UNIT_KEYS:
            out.extend(_replace_group(group, f"{m.group('lead')}{key}={REDACTED}"))
        elif key == "Environment":
            new = _environment_value(m.group("value"))
            if new is None:
                out.extend(strip_userinfo(line) for line in group)
            else:
                out.extend(_replace_group(group, f"{m.group('lead')}Environment={new}"))
        else:
            out.extend(strip_userinfo(line) for line in group)
    return "".join(out)


def redact_containerd_toml(text: str) -> str:
    """containerd's config.toml reduced to CONTAINERD_TOML_KEYS; raises Unparseable."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: the same parser, as the tomli package (a dependency there)
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise Unparseable(f"not valid TOML: {exc}") from None
    lines = [f"# kupgrade-lint kept only: {', '.join(sorted(CONTAINERD_TOML_KEYS))}\n"]

    def key(k: str) -> str:
        return k if re.match(r"^[A-Za-z0-9_-]+$", k) else json.dumps(k)

    def walk(table: dict, path: tuple[str, ...]) -> None:
        leaves = [(k, v) for k, v in table.items() if k in CONTAINERD_TOML_KEYS and isinstance(v, (str, int, float, bool))]
        if leaves:
            if path:
                lines.append("[" + ".".join(key(p) for p in path) + "]\n")
            for k, v in leaves:
                lines.append(f"{key(k)} = {json.dumps(strip_userinfo(v) if isinstance(v, str) else v)}\n")
        for k, v in table.items():
            if isinstance(v, dict):
                walk(v, path + (k,))

    walk(data, ())
    return "".join(lines)
