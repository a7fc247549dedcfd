"""Merge snapshots (a cluster snapshot and per-node results) into one snapshot directory.

Typical use: every pod of deploy/node-collector-daemonset.yaml produces a snapshot holding
only ``nodes/<its node>/``; merging them with the cluster snapshot gives the engine one
picture. Collection errors of all sources are kept. Node files go through the node
collector's allow-list again, so a snapshot written by anything else (an older version, a
hand-made copy) cannot bring in what ``collect node`` would not have copied.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath

from kupgrade_lint.snapshot.archive import extract_tar_gz
from kupgrade_lint.collectors.metadata import METADATA_FILE, read_metadata, write_metadata
from kupgrade_lint.collectors.node import reduce_node_file
from kupgrade_lint.collectors.summary import CollectSummary
from kupgrade_lint.errors import InputError
from kupgrade_lint.snapshot.tree import Refused, Tree


def merge_snapshots(sources: list[Path], out_dir: Path) -> CollectSummary:
    """Copy every source (directory or .tar.gz) into ``out_dir``, which may already hold one.

    A file present in two sources with different content keeps its first copy, and the
    conflict is recorded as a collection error.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    errors: list[dict] = []
    server_version = read_metadata(out_dir).get("server_version")
    written = 0
    with tempfile.TemporaryDirectory(prefix="kupgrade-merge-") as tmp:
        for index, source in enumerate(Path(s) for s in sources):
            if source.is_dir():
                root = source
            elif source.is_file():
                refused: list[tuple[str, str]] = []
                root = extract_tar_gz(source, Path(tmp) / str(index), refused)
                errors.extend({"what": f"merge {member} from {source}", "reason": why} for member, why in refused)
            else:
                raise InputError(f"{source}: no such snapshot directory or archive")
            if root.resolve() == out_dir.resolve():
                continue
            meta = read_metadata(root)
            errors.extend(e for e in meta.get("collection_errors") or [] if isinstance(e, dict))
            server_version = server_version or meta.get("server_version")
            # Read like any snapshot: links, FIFOs and devices are named, never followed or copied.
            tree = Tree(root)
            for entry in tree.walk():
                rel = PurePosixPath(entry.rel)
                if rel.as_posix() == METADATA_FILE:
                    continue
                try:
                    if entry.refused is not None:
                        raise Refused(entry.refused)
                    content = tree.read(entry.rel)
                except Refused as exc:
                    errors.append({"what": f"merge {rel.as_posix()} from {source}", "reason": str(exc)})
                    continue
                dest = out_dir / rel
                if rel.parts[0] == "nodes" and len(rel.parts) > 2:
                    text, refusal = reduce_node_file("/" + "/".join(rel.parts[2:]), content)
                    if refusal:
                        errors.append({"what": f"merge {rel.as_posix()} from {source}", "reason": refusal})
                        continue
                    content = text.encode("utf-8")
                if dest.exists():
                    if dest.read_bytes() != content:
                        errors.append(
                            {"what": f"merge {rel.as_posix()} from {source}", "reason": "a different copy is already there; kept the first"}
                        )
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(content)
                written += 1
    data = write_metadata(out_dir, server_version=server_version, errors=errors)
    return CollectSummary(objects_written=written, errors=tuple(data["collection_errors"]))
