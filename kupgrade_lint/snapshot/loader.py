"""Read a snapshot directory (or ``.tar.gz``) and manifest paths into a ``Snapshot``.

A file that cannot be read or parsed becomes an ``InputProblem`` naming the file and what is
wrong; everything else is still read.
"""

from __future__ import annotations

import concurrent.futures
import functools
import json
import multiprocessing
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterable

from kupgrade_lint.errors import InputError
from kupgrade_lint.parsers.yaml_documents import Documents, read_documents
from kupgrade_lint.snapshot.archive import extract_tar_gz
from kupgrade_lint.snapshot.layout import METADATA_FILE, TOP_LEVEL
from kupgrade_lint.snapshot.model import InputProblem, KubeObject, NodeFile, Snapshot, Source

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STATIC_POD_DIR = "/etc/kubernetes/manifests/"


def load_inputs(snapshot: Path | None, manifests: Iterable[str], stdin_text: str | None = None, audit_logs: Iterable[Path] = ()) -> Snapshot:
    """Build one Snapshot from an optional snapshot path, manifest paths and audit log files."""
    result = Snapshot()
    if snapshot is not None:
        _load_snapshot_path(Path(snapshot), result)
    for log in audit_logs:
        log = Path(log)
        if not log.is_file():
            raise InputError(f"{log}: no such audit log file (--audit-log)")
        text = _read_text(log, str(log), result)
        if text is not None:
            result.audit_logs[str(log)] = (str(log), text)
            result.inputs.append(str(log))
    for item in manifests:
        if item == "-":
            text = stdin_text if stdin_text is not None else sys.stdin.read()
            _add_objects(result, text, Source("<stdin>", "manifest"))
            result.inputs.append("<stdin>")
            continue
        path = Path(item)
        if not path.exists():
            raise InputError(f"{item}: no such file or directory (--manifests)")
        result.inputs.append(str(path))
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            if path.is_dir() and file.suffix not in MANIFEST_SUFFIXES:
                continue
            display = str(file)
            text = _read_text(file, display, result)
            if text is not None:
                _add_objects(result, text, Source(display, "manifest"), file)
    return result


def _load_snapshot_path(path: Path, result: Snapshot) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such snapshot directory or archive (--snapshot)")
    result.inputs.append(str(path))
    if path.is_file():
        if not (path.name.endswith(".tar.gz") or path.name.endswith(".tgz")):
            raise InputError(f"{path}: a snapshot is a directory or a .tar.gz of one")
        # Kept until the snapshot is gone: documents read their file again for line look-ups.
        tmp = tempfile.TemporaryDirectory(prefix="kupgrade-snapshot-")
        result.keep_alive.append(tmp)
        root = extract_tar_gz(path, Path(tmp.name))
        _load_snapshot_dir(root, result)
        return
    _load_snapshot_dir(path, result)


def _load_snapshot_dir(root: Path, result: Snapshot) -> None:
    known = [p for p in root.iterdir() if p.name in TOP_LEVEL]
    if not known:
        raise InputError(
            f"{root}: not a snapshot (expected some of cluster/, nodes/, helm/, registry/, tls/, {METADATA_FILE})"
        )
    for entry in sorted(root.iterdir()):
        if entry.name not in TOP_LEVEL and not entry.name.startswith(".") and entry.name.lower() != "readme.md":
            result.problems.append(InputProblem(entry.name, "not part of the snapshot format; ignored"))
    meta = root / METADATA_FILE
    if meta.is_file():
        text = _read_text(meta, METADATA_FILE, result)
        if text is not None:
            try:
                data = json.loads(text)
                if not isinstance(data, dict):
                    raise ValueError("expected a JSON object")
                result.metadata = data
            except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
                result.problems.append(InputProblem(METADATA_FILE, f"not valid JSON: {exc}"))
    sources: list[tuple[Path, Source]] = []
    for file in _files(root / "cluster"):
        display = file.relative_to(root).as_posix()
        if file.suffix not in MANIFEST_SUFFIXES:
            result.problems.append(InputProblem(display, "not a .yaml, .yml or .json file; ignored"))
            continue
        sources.append((file, Source(display, "cluster")))
    for file in _files(root / "helm"):
        display = file.relative_to(root).as_posix()
        release = "/".join(file.relative_to(root / "helm").with_suffix("").parts)
        sources.append((file, Source(display, "helm", helm_release=release)))
    _add_files(result, sources)
    nodes_dir = root / "nodes"
    if nodes_dir.is_dir():
        for node_dir in sorted(p for p in nodes_dir.iterdir() if p.is_dir()):
            node = node_dir.name
            files: dict[str, NodeFile] = {}
            for file in _files(node_dir):
                abs_path = "/" + file.relative_to(node_dir).as_posix()
                text = _read_text(file, abs_path, result, node=node)
                if text is None:
                    continue
                files[abs_path] = NodeFile(node, abs_path, text)
                if abs_path.startswith(STATIC_POD_DIR) and file.suffix in MANIFEST_SUFFIXES:
                    _add_objects(result, text, Source(abs_path, "node", node=node))
            result.node_files[node] = files
    registry = root / "registry"
    if registry.is_dir():
        for host in sorted(p for p in registry.iterdir() if p.is_dir()):
            result.registry_hosts.add(host.name)
        for file in _files(registry):
            display = file.relative_to(root).as_posix()
            if file.name != "tags.json":
                result.problems.append(InputProblem(display, "registry/ holds only <image name>/tags.json files; ignored"))
                continue
            text = _read_text(file, display, result)
            if text is None:
                continue
            try:
                data = json.loads(text)
                tags = data.get("tags") or []
                if not isinstance(tags, list):
                    raise ValueError("'tags' is not a list")
            except (ValueError, AttributeError, RecursionError) as exc:
                result.problems.append(InputProblem(display, f"not a registry tags/list response: {exc}"))
                continue
            name = file.parent.relative_to(registry).as_posix()
            result.registry[name] = frozenset(str(t) for t in tags)
    for file in _files(root / "tls"):
        display = file.relative_to(root).as_posix()
        text = _read_text(file, display, result)
        if text is not None:
            result.tls[file.stem] = (display, text)
    for file in _files(root / "audit"):
        display = file.relative_to(root).as_posix()
        text = _read_text(file, display, result)
        if text is not None:
            result.audit_logs[display] = (display, text)
    for file in _files(root / "metrics"):
        display = file.relative_to(root).as_posix()
        text = _read_text(file, display, result)
        if text is not None:
            result.metrics[file.stem] = text


def _files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.rglob("*") if p.is_file() or (p.is_symlink() and not p.exists()))


def _read_text(path: Path, display: str, result: Snapshot, node: str | None = None) -> str | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        result.problems.append(InputProblem(display, f"cannot read: {exc.strerror or exc}", node=node))
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        result.problems.append(InputProblem(display, "not a UTF-8 text file", node=node))
        return None


# Below this much YAML, starting worker processes costs more than it saves.
PARALLEL_YAML_BYTES = 4 * 1024 * 1024


def _parse(text: str) -> Documents:
    """Worker side: the documents of one file and its problems."""
    return read_documents(text)


def _add_files(result: Snapshot, sources: list[tuple[Path, Source]]) -> None:
    """Read and parse object files in order; large amounts of YAML are parsed on every core.

    JSON is parsed here (the C decoder is faster than sending its objects between processes);
    YAML, whose parser calls back into Python for every scalar, is spread over processes.
    """
    texts: list[tuple[Path, Source, str]] = []
    for file, source in sources:
        text = _read_text(file, source.file, result)
        if text is not None:
            texts.append((file, source, text))
    yaml_texts = [t for _, _, t in texts if t.lstrip()[:1] not in ("{", "[")]
    parsed: dict[int, Documents] = {}
    workers = min(4, os.cpu_count() or 1)
    if workers > 1 and sum(len(t) for t in yaml_texts) >= PARALLEL_YAML_BYTES:
        # spawn, not fork: the caller may run threads (a fork would copy their locks).
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            order = [i for i, (_, _, t) in enumerate(texts) if t.lstrip()[:1] not in ("{", "[")]
            for i, outcome in zip(order, pool.map(_parse, [texts[i][2] for i in order], chunksize=4)):
                parsed[i] = outcome
    for i, (file, source, text) in enumerate(texts):
        outcome = parsed.get(i)
        if outcome is None:
            _add_objects(result, text, source, file)
        else:
            _add_parsed(result, outcome, source)


def _reread(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _add_objects(result: Snapshot, text: str, source: Source, path: Path | None = None) -> None:
    _add_parsed(result, read_documents(text, functools.partial(_reread, path) if path is not None else None), source)


def _add_parsed(result: Snapshot, documents: Documents, source: Source) -> None:
    # A broken document (or one over a limit) is reported; the other documents of the file are read.
    for problem in documents.problems:
        result.problems.append(InputProblem(source.file, problem.message, node=source.node, line=problem.line))
    for doc in documents:
        data = doc.data
        if not isinstance(data, dict):
            result.problems.append(
                InputProblem(source.file, "document is not a Kubernetes object (not a mapping)", node=source.node, line=doc.start_line)
            )
            continue
        kind = str(data.get("kind", ""))
        if kind.endswith("List") and isinstance(data.get("items"), list):
            for i, item in enumerate(data["items"]):
                if isinstance(item, dict) and item.get("kind"):
                    result.objects.append(KubeObject(item, source, doc, ("items", i)))
                else:
                    result.problems.append(
                        InputProblem(source.file, f"items[{i}] is not a Kubernetes object", node=source.node, line=doc.line_of(("items", i)))
                    )
            continue
        if not data.get("apiVersion") or not kind:
            result.problems.append(
                InputProblem(source.file, "document has no apiVersion or kind; not a Kubernetes object", node=source.node, line=doc.start_line)
            )
            continue
        result.objects.append(KubeObject(data, source, doc))
