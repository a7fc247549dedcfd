"""write_tar_gz and merge_snapshots: node results and a cluster snapshot become one."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from kupgrade_lint.snapshot.archive import extract_tar_gz, write_tar_gz
from kupgrade_lint.collectors.merge import merge_snapshots
from kupgrade_lint.collectors.metadata import write_metadata
from kupgrade_lint.errors import InputError


def _snapshot(root: Path, files: dict[str, str], errors: list[dict] = (), version: dict | None = None) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    write_metadata(root, server_version=version, errors=errors, merge_existing=False)
    return root


def test_tar_gz_is_reproducible_and_holds_contents_at_its_root(tmp_path):
    snap = _snapshot(tmp_path / "s", {"cluster/a.json": "{}", "nodes/n1/etc/kubernetes/kubelet.env": "X=1\n"})
    first = write_tar_gz(snap, tmp_path / "one.tar.gz").read_bytes()
    second = write_tar_gz(snap, tmp_path / "two.tar.gz").read_bytes()
    assert first == second
    with tarfile.open(tmp_path / "one.tar.gz") as tar:
        names = tar.getnames()
    assert "kupgrade-snapshot.json" in names and "nodes/n1/etc/kubernetes/kubelet.env" in names
    root = extract_tar_gz(tmp_path / "one.tar.gz", tmp_path / "x")
    assert (root / "nodes/n1/etc/kubernetes/kubelet.env").read_text() == "X=1\n"


def test_unsafe_archive_is_refused(tmp_path):
    import io

    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bad, "w:gz") as tar:
        info = tarfile.TarInfo("../escape")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(InputError, match=r"refusing the archive: member \.\./escape is a path with"):
        extract_tar_gz(bad, tmp_path / "x")


def test_merge_cluster_and_nodes(tmp_path):
    cluster = _snapshot(tmp_path / "cluster", {"cluster/core/v1/nodes.json": "{}"}, version={"gitVersion": "v1.21.8"},
                        errors=[{"what": "list batch/v1 jobs in all namespaces", "reason": "403 Forbidden: no"}])
    n1 = _snapshot(tmp_path / "n1", {"nodes/n1/etc/kubernetes/kubelet.env": "A=--v=1\n"})
    n2 = _snapshot(tmp_path / "n2", {"nodes/n2/etc/kubernetes/kubelet.env": "A=--v=2\n", "nodes/n1/etc/kubernetes/kubelet.env": "A=--v=3\n"},
                   errors=[{"what": "copy /x from node n2", "reason": "cannot read: denied"}])
    n2_archive = write_tar_gz(n2, tmp_path / "n2.tar.gz")
    out = tmp_path / "merged"
    summary = merge_snapshots([cluster, n1, n2_archive], out)
    assert (out / "nodes/n1/etc/kubernetes/kubelet.env").read_text() == "A=--v=1\n"  # first copy kept
    assert (out / "nodes/n2/etc/kubernetes/kubelet.env").read_text() == "A=--v=2\n"
    meta = json.loads((out / "kupgrade-snapshot.json").read_text())
    assert meta["server_version"] == {"gitVersion": "v1.21.8"}
    whats = [e["what"] for e in meta["collection_errors"]]
    assert "list batch/v1 jobs in all namespaces" in whats and "copy /x from node n2" in whats
    assert any(w.startswith("merge nodes/n1/etc/kubernetes/kubelet.env from ") for w in whats)
    assert summary.objects_written == 3
    assert len(summary.errors) == 3


def test_merge_missing_source(tmp_path):
    with pytest.raises(InputError):
        merge_snapshots([tmp_path / "nope"], tmp_path / "out")
