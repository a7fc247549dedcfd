"""Every report says what the scan covered; snapshots without a collection record and manifests-only
scans say what that leaves unchecked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from kupgrade_lint.cli import app
from tests.conftest import SEED

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["scan", *args])


def test_the_seed_has_no_collection_record_so_coverage_is_what_it_holds():
    coverage = json.loads(_run("--snapshot", str(SEED), "--target", "v1.21.14", "-o", "json").stdout)["coverage"]
    assert coverage["cluster"] == "assembled"
    assert coverage["nodes"] == ["master-1", "worker-1", "worker-2"]
    by_kind = {r["kind"]: r for r in coverage["resources"]}
    assert by_kind["Deployment"]["status"] == "present" and by_kind["Deployment"]["objects"] == 6
    assert by_kind["PriorityClass"]["status"] == "absent"
    assert len(coverage["registry_images"]) == 7 and len(coverage["tls_endpoints"]) == 2
    assert [n for n in coverage["not_checked"] if "node files" in n] == []  # every Node sent its files
    assert any(n.startswith("this snapshot has no collection record") for n in coverage["not_checked"])


def test_a_snapshot_without_node_files_says_so_near_the_top(seed_copy: Path):
    shutil.rmtree(seed_copy / "nodes")
    text = _run("--snapshot", str(seed_copy), "--target", "v1.21.14").stdout
    top = " ".join(text.split("── hop to")[0].split())  # the text report wraps at 100 columns
    assert "NOT CHECKED: node files were NOT checked: kubelet flags, static pods (control-plane manifests), kubelet config, systemd units and node kubeconfigs" in top
    assert "`kupgrade-lint collect node`" in top and "--nodes" in top and "docs/collecting.md" in top
    sarif = json.loads(_run("--snapshot", str(seed_copy), "--target", "v1.21.14", "-o", "sarif").stdout)
    notes = [n["message"]["text"] for n in sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]]
    assert any("node files were NOT checked" in n for n in notes)


def test_a_manifests_only_scan_says_only_manifests_were_checked():
    result = _run("--manifests", str(SEED / "cluster" / "shop"), "--current", "v1.20.15", "--target", "1.22", "-o", "json")
    coverage = json.loads(result.stdout)["coverage"]
    assert coverage["cluster"] == "none" and coverage["resources"] == [] and coverage["nodes"] == []
    assert len(coverage["manifests"]) == 7
    assert coverage["not_checked"] == [
        "only manifests were checked: no cluster objects (no --snapshot and no live cluster) and no node files "
        "(kubelet flags, static pods, kubelet config, systemd units, node kubeconfigs)"
    ]
    text = _run("--manifests", str(SEED / "cluster" / "shop"), "--current", "v1.20.15", "--target", "1.22").stdout
    assert "NOT CHECKED: only manifests were checked" in text.split("── hop to")[0]


def test_a_collection_record_survives_adding_nodes_and_registry(tmp_path: Path):
    from kupgrade_lint.collectors.merge import merge_snapshots
    from kupgrade_lint.collectors.metadata import read_metadata, write_metadata

    snap = tmp_path / "snap"
    record = {"cluster": {"resources": [{"kind": "Deployment", "group": "apps", "version": "v1", "resource": "deployments",
                                         "status": "listed", "objects": 0, "detail": None}]}}
    write_metadata(snap, coverage=record, merge_existing=False)
    node = tmp_path / "node"
    (node / "nodes/n1/etc").mkdir(parents=True)
    (node / "nodes/n1/etc/hostname").write_text("n1\n")
    merge_snapshots([node], snap)
    write_metadata(snap, errors=[{"what": "x", "reason": "y"}])
    assert read_metadata(snap)["coverage"] == record
