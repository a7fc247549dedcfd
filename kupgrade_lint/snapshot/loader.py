"""Read a snapshot directory (or ``.tar.gz``) and manifest paths into a ``Snapshot``.

A file that cannot be read or parsed becomes an ``InputProblem`` naming the file and what is
wrong; everything else is still read.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import tempfile
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator

from kupgrade_lint.errors import InputError
from kupgrade_lint.heap import bulk_allocation
from kupgrade_lint.parsers.json_layout import ListLayout, split_list
from kupgrade_lint.parsers.yaml_documents import MAX_TEXT_CHARS, Document, Documents, forget_shared, read_documents
from kupgrade_lint.snapshot.archive import extract_tar_gz
from kupgrade_lint.snapshot.layout import METADATA_FILE, TOP_LEVEL
from kupgrade_lint.snapshot.model import InputProblem, KubeObject, NodeFile, Snapshot, Source
from kupgrade_lint.snapshot.shapes import refusal
from kupgrade_lint.snapshot.unread import drop_unread
from kupgrade_lint.snapshot.tree import Refused, Tree, read_file

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# Kustomize's own files (konfig.RecognizedKustomizationFileNames): they say how to build objects
# and are none themselves (many have no apiVersion or kind), so a directory walk skips them.
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
STATIC_POD_DIR = "/etc/kubernetes/manifests/"
# The parts that hold something to judge; registry/, tls/ and discovery/ only inform those.
JUDGED_PARTS = ("cluster", "nodes", "helm", "metrics", "audit")


def load_inputs(snapshot: Path | None, manifests: Iterable[str], stdin_text: str | None = None, audit_logs: Iterable[Path] = ()) -> Snapshot:
    """Build one Snapshot from an optional snapshot path, manifest paths and audit log files.

    Raises ``InputError`` for an input that holds nothing to check (an empty directory or stdin,
    a snapshot without cluster/ or nodes/ content): an empty input is never reported as clean.
    """
    with bulk_allocation():
        try:
            return _load_inputs(snapshot, manifests, stdin_text, audit_logs)
        finally:
            forget_shared()


def _load_inputs(snapshot: Path | None, manifests: Iterable[str], stdin_text: str | None, audit_logs: Iterable[Path]) -> Snapshot:
    result = Snapshot()
    if snapshot is not None:
        _load_snapshot_path(Path(snapshot), result)
    for log in audit_logs:
        log = Path(log)
        if not log.exists() or log.is_dir():
            raise InputError(f"{log}: no such audit log file (--audit-log)")
        text = _decode(_read_named(log, str(log), result), str(log), result)
        if text is not None:
            result.audit_logs[str(log)] = (str(log), text)
            result.inputs.append(str(log))
    for item in manifests:
        before = (len(result.objects), len(result.problems))
        if item == "-":
            text = stdin_text if stdin_text is not None else sys.stdin.read()
            _add_objects(result, text, Source("<stdin>", "manifest"))
            result.inputs.append("<stdin>")
            _require_content(result, before, "<stdin>: empty: no Kubernetes objects on stdin (--manifests -)")
            continue
        path = Path(item)
        if not path.exists() and not path.is_symlink():
            raise InputError(f"{item}: no such file or directory (--manifests)")
        result.inputs.append(str(path))
        if not path.is_dir():
            text = _decode(_read_named(path, str(path), result), str(path), result)
            if text is not None:
                _add_objects(result, text, Source(str(path), "manifest"), path)
            _require_content(result, before, f"{item}: empty: no Kubernetes objects in it (--manifests)")
            continue
        tree = Tree(path)
        for entry in tree.walk():
            display = str(path / entry.rel)
            if entry.refused is not None:
                # A refused entry that could hold manifests is named; a linked README is not news.
                if PurePosixPath(entry.rel).suffix in MANIFEST_SUFFIXES or not PurePosixPath(entry.rel).suffix:
                    result.problems.append(InputProblem(display, entry.refused))
                continue
            if PurePosixPath(entry.rel).name in KUSTOMIZATION_FILES:
                result.kustomizations.append(display)  # not objects; the coverage says they were not checked
                continue
            if PurePosixPath(entry.rel).suffix not in MANIFEST_SUFFIXES:
                continue
            text = _decode(_read_in(tree, entry.rel, display, result), display, result)
            if text is not None:
                _add_objects(result, text, Source(display, "manifest"), functools.partial(_reread, tree, entry.rel))
        _require_content(result, before, f"{item}: empty: no .yaml, .yml or .json file with Kubernetes objects in it (--manifests)")
    return result


def _require_content(result: Snapshot, before: tuple[int, int], message: str) -> None:
    if (len(result.objects), len(result.problems)) == before:
        raise InputError(message)


def _load_snapshot_path(path: Path, result: Snapshot) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such snapshot directory or archive (--snapshot)")
    result.inputs.append(str(path))
    result.root = str(path)
    if not path.is_dir():
        # A FIFO or device named .tar.gz is refused before it is opened (opening one blocks).
        if not path.is_file() or not (path.name.endswith(".tar.gz") or path.name.endswith(".tgz")):
            raise InputError(f"{path}: a snapshot is a directory or a .tar.gz of one")
        # Kept until the snapshot is gone: documents read their file again for line look-ups.
        tmp = tempfile.TemporaryDirectory(prefix="kupgrade-snapshot-")
        result.keep_alive.append(tmp)
        refused: list[tuple[str, str]] = []
        root = extract_tar_gz(path, Path(tmp.name), refused)
        for member, reason in refused:
            result.problems.append(InputProblem(member, reason))
        _load_snapshot_dir(root, result, path)
        return
    _load_snapshot_dir(path, result, path)


def _load_snapshot_dir(root: Path, result: Snapshot, named: Path) -> None:
    tree = Tree(root)
    top = tree.children()
    if not any(name in TOP_LEVEL for name, _, _ in top):
        raise InputError(
            f"{named}: not a snapshot (expected some of cluster/, nodes/, helm/, registry/, tls/, {METADATA_FILE})"
        )
    for name, _, refused in top:
        if refused is not None:
            result.problems.append(InputProblem(name, refused))
        elif name not in TOP_LEVEL and not name.startswith(".") and name.lower() != "readme.md":
            result.problems.append(InputProblem(name, "not part of the snapshot format; ignored"))
    if any(name == METADATA_FILE and refused is None for name, _, refused in top):
        text = _decode(_read_in(tree, METADATA_FILE, METADATA_FILE, result), METADATA_FILE, result)
        if text is not None:
            try:
                data = json.loads(text)
                if not isinstance(data, dict):
                    raise ValueError("expected a JSON object")
                result.metadata = data
            except (ValueError, RecursionError) as exc:
                result.problems.append(InputProblem(METADATA_FILE, f"not valid JSON: {exc}"))

    walked = {part: tree.walk(part) for part in sorted(TOP_LEVEL - {METADATA_FILE})}
    if not any(walked[part] for part in JUDGED_PARTS):
        present = ", ".join(name for name, _, _ in top if name in TOP_LEVEL) or "nothing"
        raise InputError(f"{named}: nothing to check: the snapshot has nothing under {', '.join(p + '/' for p in JUDGED_PARTS)} (only {present}){_errors_note(result)}")

    def files(part: str) -> list[str]:
        """The regular files under ``part``; every refused entry becomes a problem."""
        out = []
        for entry in walked[part]:
            if entry.refused is not None:
                result.problems.append(InputProblem(entry.rel, entry.refused))
            else:
                out.append(entry.rel)
        return out

    def text_of(rel: str, display: str, node: str | None = None) -> str | None:
        return _decode(_read_in(tree, rel, display, result, node), display, result, node)

    sources: list[tuple[object, Source, str]] = []
    for rel in files("cluster"):
        if PurePosixPath(rel).suffix not in MANIFEST_SUFFIXES:
            result.problems.append(InputProblem(rel, "not a .yaml, .yml or .json file; ignored"))
            continue
        sources.append((rel, Source(rel, "cluster"), rel))
    for rel in files("helm"):
        release = "/".join(PurePosixPath(rel).relative_to("helm").with_suffix("").parts)
        sources.append((rel, Source(rel, "helm", helm_release=release), rel))
    _add_files(result, tree, sources)
    for node, is_dir, refused in tree.children("nodes"):
        if is_dir and refused is None:
            result.node_files[node] = {}
    for entry in walked["nodes"]:
        parts = entry.rel.split("/")
        if len(parts) < 3:
            # nodes/<file> (not in a node's directory), or a refused node directory.
            result.problems.append(InputProblem(entry.rel, entry.refused or "not inside a node's directory (nodes/<node>/<path>); ignored"))
            continue
        node = parts[1]
        abs_path = "/" + "/".join(parts[2:])
        files_of_node = result.node_files.setdefault(node, {})
        if entry.refused is not None:
            result.problems.append(InputProblem(abs_path, entry.refused, node=node))
            continue
        text = text_of(entry.rel, abs_path, node)
        if text is None:
            continue
        files_of_node[abs_path] = NodeFile(node, abs_path, text)
        if abs_path.startswith(STATIC_POD_DIR) and PurePosixPath(abs_path).suffix in MANIFEST_SUFFIXES:
            _add_objects(result, text, Source(abs_path, "node", node=node))
    result.node_files = dict(sorted(result.node_files.items()))
    for host, is_dir, refused in tree.children("registry"):
        if is_dir and refused is None:
            result.registry_hosts.add(host)
    for rel in files("registry"):
        if PurePosixPath(rel).name == "manifests.json":
            text = text_of(rel, rel)
            if text is not None:
                _record_manifest_answers(text, rel, result)
            continue
        if PurePosixPath(rel).name != "tags.json":
            result.problems.append(InputProblem(rel, "registry/ holds only <image name>/tags.json and manifests.json files; ignored"))
            continue
        text = text_of(rel, rel)
        if text is None:
            continue
        try:
            data = json.loads(text)
            tags = data.get("tags") or []
            if not isinstance(tags, list):
                raise ValueError("'tags' is not a list")
        except (ValueError, AttributeError, RecursionError) as exc:
            result.problems.append(InputProblem(rel, f"not a registry tags/list response: {exc}"))
            continue
        name = PurePosixPath(rel).parent.relative_to("registry").as_posix()
        result.registry[name] = frozenset(str(t) for t in tags)
    for rel in files("tls"):
        text = text_of(rel, rel)
        if text is not None:
            result.tls[PurePosixPath(rel).stem] = (rel, text)
    for rel in files("audit"):
        text = text_of(rel, rel)
        if text is not None:
            result.audit_logs[rel] = (rel, text)
    for rel in files("metrics"):
        text = text_of(rel, rel)
        if text is not None:
            result.metrics[PurePosixPath(rel).stem] = text
    files("discovery")  # read by the collectors' merge only; refused entries are still named


def _record_manifest_answers(text: str, rel: str, result: Snapshot) -> None:
    """``registry/<name>/manifests.json``: what the registry answered for each tag asked (``scan --check-registry``)."""
    try:
        data = json.loads(text)
        manifests = data.get("manifests")
        if not isinstance(manifests, dict) or not all(isinstance(v, dict) for v in manifests.values()):
            raise ValueError("'manifests' is not a mapping of tag to answer")
    except (ValueError, AttributeError, RecursionError) as exc:
        result.problems.append(InputProblem(rel, f"not a registry manifests record: {exc}"))
        return
    name = PurePosixPath(rel).parent.relative_to("registry").as_posix()
    result.registry_manifests.setdefault(name, {}).update({str(tag): answer for tag, answer in manifests.items()})


def load_registry_answers(root: Path, result: Snapshot) -> None:
    """Add what ``check_images`` wrote below ``root`` (our own scratch directory) to a loaded snapshot."""
    registry = root / "registry"
    if registry.is_dir():
        result.registry_hosts.update(p.name for p in registry.iterdir() if p.is_dir())
        for file in sorted(registry.rglob("manifests.json")):
            _record_manifest_answers(file.read_text(encoding="utf-8"), file.relative_to(root).as_posix(), result)
    metadata = root / METADATA_FILE
    errors = json.loads(metadata.read_text(encoding="utf-8")).get("collection_errors") if metadata.is_file() else None
    if errors:
        if not isinstance(result.metadata, dict):
            result.metadata = {}
        result.metadata["collection_errors"] = list(result.metadata.get("collection_errors") or []) + list(errors)


def _errors_note(result: Snapshot) -> str:
    errors = result.metadata.get("collection_errors") if isinstance(result.metadata, dict) else None
    return f"; {METADATA_FILE} names {len(errors)} thing(s) that could not be collected" if isinstance(errors, list) and errors else ""


def _read_in(tree: Tree, rel: str, display: str, result: Snapshot, node: str | None = None) -> bytes | None:
    try:
        return tree.read(rel)
    except Refused as exc:
        result.problems.append(InputProblem(display, str(exc), node=node))
        return None


def _read_named(path: Path, display: str, result: Snapshot) -> bytes | None:
    try:
        return read_file(path)
    except Refused as exc:
        result.problems.append(InputProblem(display, str(exc)))
        return None


def _decode(data: bytes | None, display: str, result: Snapshot, node: str | None = None) -> str | None:
    if data is None:
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
    with bulk_allocation():
        return read_documents(text)


def _add_files(result: Snapshot, tree: Tree, sources: list[tuple[str, Source, str]]) -> None:
    """Read and parse object files in order; large amounts of YAML are parsed on every core.

    JSON is parsed here (the C decoder is faster than sending its objects between processes),
    one file at a time: its text is dropped once its objects are built, and a pretty-printed
    List is parsed item by item (``_add_json_file``). YAML, whose parser calls back into Python
    for every scalar, is spread over processes.
    """
    json_like = [_json_like(tree, rel) for rel, _, _ in sources]
    yaml_texts: dict[int, str] = {}
    for i, (rel, source, _) in enumerate(sources):
        if not json_like[i]:
            text = _decode(_read_in(tree, rel, source.file, result), source.file, result)
            if text is not None:
                yaml_texts[i] = text
    workers = min(4, os.cpu_count() or 1)
    with contextlib.ExitStack() as stack:
        outcomes: Iterator[tuple[int, Documents]] = iter(())
        in_workers: set[int] = set()
        if workers > 1 and sum(len(t) for t in yaml_texts.values()) >= PARALLEL_YAML_BYTES:
            import concurrent.futures  # lazy, like multiprocessing: only large inputs pay for them
            import multiprocessing

            # spawn, not fork: the caller may run threads (a fork would copy their locks).
            pool = stack.enter_context(concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")))
            order = list(yaml_texts)
            in_workers = set(order)
            outcomes = zip(order, pool.map(_parse, [yaml_texts.pop(i) for i in order], chunksize=4))
        for i, (rel, source, _) in enumerate(sources):
            if json_like[i]:
                _add_json_file(result, tree, rel, source)
            elif i in yaml_texts:
                _add_objects(result, yaml_texts.pop(i), source, functools.partial(_reread, tree, rel))
            elif i in in_workers:
                index, documents = next(outcomes)
                assert index == i, (index, i)
                _add_parsed(result, documents, source)


def _json_like(tree: Tree, rel: str) -> bool:
    """Whether a file looks like JSON from its first bytes (where it is parsed: here or in a worker;
    either gives the same documents)."""
    try:
        head = tree.read(rel, span=(0, 4096))
    except Refused:
        return True  # read (and named) in order with the others
    return head.lstrip()[:1] in (b"{", b"[") or not head.strip()


def _add_json_file(result: Snapshot, tree: Tree, rel: str, source: Source) -> None:
    """One JSON file: a pretty-printed List item by item, anything else as ``read_documents`` reads it."""
    data = _read_in(tree, rel, source.file, result)
    if data is None:
        return
    split = split_list(data, prune=drop_unread) if len(data) <= MAX_TEXT_CHARS else None
    if split is not None:
        del data  # the objects are built; the text is read again (an item's span) for a line look-up
        whole, starts, stops, lines, column = split
        document = Document(whole, 1, functools.partial(_reread, tree, rel), 1, is_json=True)
        document.layout = ListLayout(functools.partial(_reread_span, tree, rel), starts, stops, lines, column)
        _add_parsed(result, Documents([document]), source)
        return
    text = _decode(data, source.file, result)
    del data
    if text is not None:
        _add_objects(result, text, source, functools.partial(_reread, tree, rel))


def _reread_span(tree: Tree, rel: str, start: int, stop: int) -> str:
    """Bytes ``[start, stop)`` of a file read before (an item of a List), for a line look-up."""
    try:
        data = tree.read(rel, span=(start, stop))
    except Refused as exc:
        raise InputError(f"{rel}: {exc} (it changed during the scan)") from None
    return data.decode("utf-8", errors="replace")


def _reread(tree: Tree | Path, rel: str = "") -> str:
    """The text of a file again (for line look-ups), read as safely as the first time."""
    try:
        data = read_file(tree) if isinstance(tree, Path) else tree.read(rel)
    except Refused as exc:
        raise InputError(f"{rel or tree}: {exc} (it changed during the scan)") from None
    return data.decode("utf-8", errors="replace")


def _add_objects(result: Snapshot, text: str, source: Source, reread: "Callable[[], str] | Path | None" = None) -> None:
    if isinstance(reread, Path):
        reread = functools.partial(_reread, reread)
    _add_parsed(result, read_documents(text, reread), source)


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
                    if doc.layout is None:  # a List read item by item dropped them as it read
                        drop_unread(item)
                    add_object(result, KubeObject(item, source, doc, ("items", i)))
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
        drop_unread(data)
        add_object(result, KubeObject(data, source, doc))


def add_object(result: Snapshot, obj: KubeObject) -> None:
    """Add ``obj``, or refuse it when a field the checks read has a type the API does not give it."""
    wrong = refusal(obj.kind, obj.data)
    if wrong is None:
        result.objects.append(obj)
        return
    path, why = wrong
    who = f"{obj.kind} {obj.namespace}/{obj.name}" if obj.namespace else f"{obj.kind} {obj.name}"
    result.problems.append(InputProblem(obj.source.file, f"{who}: {why}; the object was not checked", node=obj.source.node, line=obj.line(*path)))
