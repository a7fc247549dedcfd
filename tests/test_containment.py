"""Every input is read only within itself, every skipped entry is named, nothing hangs.

Each case plants a unique marker outside the input (or in a refused member) and checks that the
refusal is a KUP090 finding naming the entry and that the marker appears in no byte of any
report format or of stderr.
"""

from __future__ import annotations

import functools
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kupgrade_lint.cli import app
from kupgrade_lint.snapshot import archive
from kupgrade_lint.snapshot.loader import load_inputs
from tests.conftest import SEED

runner = CliRunner()
MARKER = "kupgrade-marker-7f3c9e1a"
FORMATS = ("text", "json", "sarif")


def run(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def _secret(tmp_path: Path) -> Path:
    """A file outside the snapshot whose content would be quoted by the env-file parser."""
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    secret = outside / "shadow"
    secret.write_text(f"root:{MARKER}:19000:0:99999:7:::\n")
    return secret


@functools.lru_cache(maxsize=1)
def _catalog():
    from kupgrade_lint.catalog import load_catalog

    return load_catalog([])


def _scan_all_formats(snapshot: Path) -> dict[str, object]:
    """The JSON report through the CLI (exit code, stdout, stderr); text and SARIF rendered from
    the same scan in-process (the CLI only picks the renderer); the marker in none of them."""
    from kupgrade_lint.engine import ScanRequest, scan
    from kupgrade_lint.reporters import RENDERERS
    from kupgrade_lint.versions import KubeVersion

    results = {"json": run("scan", "--snapshot", str(snapshot), "--target", "v1.21.14", "-o", "json")}
    assert MARKER not in results["json"].stdout and MARKER not in results["json"].stderr
    report = scan(load_inputs(snapshot, []), _catalog(), ScanRequest(target=KubeVersion.parse("v1.21.14")))
    for fmt in FORMATS:
        stream = io.StringIO()
        RENDERERS[fmt](report, stream, False)
        assert MARKER not in stream.getvalue()
        results[fmt] = results.get(fmt) or stream.getvalue()
    assert results["json"].stdout == _rendered(report, "json")
    return results


def _rendered(report, fmt: str) -> str:
    from kupgrade_lint.reporters import RENDERERS

    stream = io.StringIO()
    RENDERERS[fmt](report, stream, False)
    return stream.getvalue()


def _collection(result) -> dict[tuple, str]:
    data = json.loads(result.stdout)
    return {(f["location"]["node"], f["location"]["file"]): f["message"] for f in data["findings"] if f["category"] == "collection"}


def test_a_symlink_to_a_file_outside_is_refused_and_nothing_of_it_is_printed(seed_copy: Path, tmp_path: Path):
    secret = _secret(tmp_path)
    env = seed_copy / "nodes/worker-1/etc/kubernetes/kubelet.env"
    env.unlink()
    env.symlink_to(secret)
    results = _scan_all_formats(seed_copy)
    assert results["json"].exit_code == 1 and results["json"].stderr == ""
    found = _collection(results["json"])
    assert "a symbolic link; not followed" in found[("worker-1", "/etc/kubernetes/kubelet.env")]
    # The rest of the snapshot is still checked.
    findings = json.loads(results["json"].stdout)["findings"]
    assert any(f["rule_id"] == "KUP010" and f["location"]["node"] == "master-1" for f in findings)


def test_a_linked_directory_is_not_walked(seed_copy: Path, tmp_path: Path):
    secret = _secret(tmp_path)
    (secret.parent / "kubelet.env").write_text(f"KUBELET_ARGS=--{MARKER}=1\n")
    (seed_copy / "nodes/x").symlink_to(secret.parent, target_is_directory=True)
    (seed_copy / "cluster/linked").symlink_to(secret.parent, target_is_directory=True)
    results = _scan_all_formats(seed_copy)
    found = _collection(results["json"])
    assert "a symbolic link; not followed" in found[(None, "nodes/x")]
    assert "a symbolic link; not followed" in found[(None, "cluster/linked")]
    assert "x" not in load_inputs(seed_copy, []).node_files


def test_a_symlink_inside_the_snapshot_is_refused_too(seed_copy: Path):
    # Decision: a snapshot is plain files; a link is never resolved, wherever it points.
    (seed_copy / "cluster/copy.yaml").symlink_to(seed_copy / "cluster/namespaces.yaml")
    snapshot = load_inputs(seed_copy, [])
    assert [(p.file, p.message) for p in snapshot.problems if p.file == "cluster/copy.yaml"] == [
        ("cluster/copy.yaml", "a symbolic link; not followed (a snapshot holds regular files)")
    ]


def test_a_hard_link_is_refused_and_its_content_is_not_printed(seed_copy: Path, tmp_path: Path):
    secret = _secret(tmp_path)
    target = seed_copy / "nodes/worker-1/etc/kubernetes/kubelet.env"
    target.unlink()
    os.link(secret, target)
    results = _scan_all_formats(seed_copy)
    assert "more than one hard link" in _collection(results["json"])[("worker-1", "/etc/kubernetes/kubelet.env")]


def test_fifos_sockets_and_unreadable_entries_are_named_and_nothing_hangs(seed_copy: Path, monkeypatch):
    os.mkfifo(seed_copy / "cluster/pipe.yaml")
    os.mkfifo(seed_copy / "nodes/worker-1/etc/kubernetes/kubelet.env.fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(seed_copy / "cluster/sock.yaml"))
    (seed_copy / "cluster/locked").mkdir()
    (seed_copy / "cluster/locked/a.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    (seed_copy / "cluster/secret.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n")
    # Root reads everything whatever its mode: deny these two the way the kernel would.
    real_open = os.open

    def deny(path, flags, *args, **kwargs):
        if str(path) in ("locked", "secret.yaml"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    try:
        problems = {(p.node, p.file): p.message for p in load_inputs(seed_copy, []).problems}
    finally:
        sock.close()
    assert problems[(None, "cluster/pipe.yaml")] == "a named pipe (FIFO), not a file; not read"
    assert problems[("worker-1", "/etc/kubernetes/kubelet.env.fifo")] == "a named pipe (FIFO), not a file; not read"
    assert problems[(None, "cluster/sock.yaml")] == "a socket, not a file; not read"
    assert problems[(None, "cluster/locked")] == "cannot read the directory: Permission denied"
    assert problems[(None, "cluster/secret.yaml")] == "cannot read: Permission denied"


def test_a_device_is_refused_without_being_opened(seed_copy: Path, monkeypatch):
    from kupgrade_lint.snapshot import tree

    (seed_copy / "cluster/dev.yaml").write_text("")
    real = tree.stat.S_ISCHR
    monkeypatch.setattr(tree.stat, "S_ISCHR", lambda mode: real(mode) or mode == os.lstat(seed_copy / "cluster/dev.yaml").st_mode)
    assert ("cluster/dev.yaml", "a device, not a file; not read") in [(p.file, p.message) for p in load_inputs(seed_copy, []).problems]


def test_manifests_on_a_fifo_is_named_and_does_not_hang(tmp_path: Path):
    fifo = tmp_path / "manifests.yaml"
    os.mkfifo(fifo)
    # A subprocess with a timeout: if reading the FIFO blocked, the test fails instead of hanging.
    proc = subprocess.run(
        [sys.executable, "-m", "kupgrade_lint", "scan", "--manifests", str(fifo), "--current", "v1.20.15", "--target", "1.21", "-o", "json"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0 and proc.stderr == ""
    messages = [f["message"] for f in json.loads(proc.stdout)["findings"] if f["location"]["file"] == str(fifo)]
    assert messages == [f"{fifo}: a named pipe (FIFO), not a file; not read"]


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        tar.add(SEED, arcname="seed")
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def test_unsafe_archive_members_are_each_named_and_the_rest_is_scanned(tmp_path: Path):
    secret = _secret(tmp_path)
    archive_path = _tar(tmp_path / "evil.tar.gz", [
        (_member("seed/../escape.yaml"), f"{MARKER}\n".encode()),
        (_member("/abs.yaml"), f"{MARKER}\n".encode()),
        (_member("seed/nodes/worker-2/etc/kubernetes/kubelet.env.link", tarfile.SYMTYPE, str(secret)), None),
        (_member("seed/cluster/hard.yaml", tarfile.LNKTYPE, str(secret)), None),
        (_member("seed/cluster/dev.yaml", tarfile.CHRTYPE), None),
        (_member("seed/cluster/fifo.yaml", tarfile.FIFOTYPE), None),
    ])
    results = _scan_all_formats(archive_path)
    assert results["json"].exit_code == 1
    found = {file: message for (_, file), message in _collection(results["json"]).items()}
    assert "a path with '..'" in found["../escape.yaml"]
    assert "an absolute path" in found["/abs.yaml"]
    assert "a link in the archive" in found["nodes/worker-2/etc/kubernetes/kubelet.env.link"]
    assert "a link in the archive" in found["cluster/hard.yaml"]
    assert "a device in the archive" in found["cluster/dev.yaml"]
    assert "a named pipe (FIFO) in the archive" in found["cluster/fifo.yaml"]
    assert not (tmp_path / "escape.yaml").exists()
    assert any(f["rule_id"] == "KUP010" for f in json.loads(results["json"].stdout)["findings"])


def test_a_compression_bomb_is_refused_by_its_ratio(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(archive, "RATIO_FREE_BYTES", 1024 * 1024)
    # Far past the ratio whatever the seed adds to the compressed size (the seed alone is ~40 KiB).
    bomb = _tar(tmp_path / "bomb.tar.gz", [(_member("seed/cluster/zeros.yaml"), b"\0" * (32 * 1024 * 1024))])
    assert bomb.stat().st_size < 200 * 1024
    result = run("scan", "--snapshot", str(bomb), "--target", "v1.21.14")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"kupgrade-lint: error: {bomb}: the archive expands more than {archive.MAX_RATIO} times its size (a compression bomb?); refusing it\n"


def test_archive_size_and_member_caps(tmp_path: Path, monkeypatch):
    big = _tar(tmp_path / "big.tar.gz", [(_member("seed/cluster/big.yaml"), b"#" * 5000)])
    monkeypatch.setattr(archive, "MAX_MEMBER_BYTES", 4000)
    report = json.loads(run("scan", "--snapshot", str(big), "--target", "v1.21.14", "-o", "json").stdout)
    assert any(f["location"]["file"] == "cluster/big.yaml" and "larger than 4000 bytes" in f["message"] for f in report["findings"])
    monkeypatch.setattr(archive, "MAX_MEMBERS", 10)
    result = run("scan", "--snapshot", str(big), "--target", "v1.21.14")
    assert result.exit_code == 2 and result.stderr == f"kupgrade-lint: error: {big}: more than 10 members; refusing the archive\n"
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 100_000)
    monkeypatch.setattr(archive, "MAX_MEMBERS", 100_000)
    result = run("scan", "--snapshot", str(big), "--target", "v1.21.14")
    assert result.exit_code == 2 and result.stderr == f"kupgrade-lint: error: {big}: the archive expands to more than 100000 bytes; refusing it\n"


@pytest.mark.parametrize("content, message", [
    (b"not gzip at all", "not a gzip file; a snapshot archive is a .tar.gz"),
    (None, "not a readable .tar.gz snapshot (truncated or damaged"),
])
def test_truncated_or_non_gzip_archive_is_a_one_line_error(tmp_path: Path, content, message):
    path = tmp_path / "snap.tar.gz"
    if content is None:
        whole = _tar(tmp_path / "whole.tar.gz", []).read_bytes()
        content = whole[: len(whole) // 2]
    path.write_bytes(content)
    result = run("scan", "--snapshot", str(path), "--target", "v1.21.14")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"kupgrade-lint: error: {path}: {message}") and result.stderr.count("\n") == 1


def test_a_snapshot_with_only_its_metadata_is_a_usage_error(tmp_path: Path):
    snap = tmp_path / "snap"
    snap.mkdir()
    (snap / "kupgrade-snapshot.json").write_text(json.dumps({"format_version": 1, "collection_errors": [{"what": "list pods", "reason": "403"}]}))
    (snap / "cluster").mkdir()
    result = run("scan", "--snapshot", str(snap), "--target", "v1.21.14")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        f"kupgrade-lint: error: {snap}: nothing to check: the snapshot has nothing under cluster/, nodes/, helm/, metrics/, audit/ "
        "(only cluster, kupgrade-snapshot.json); kupgrade-snapshot.json names 1 thing(s) that could not be collected\n"
    )


@pytest.mark.parametrize("setup, message", [
    ("empty-dir", "{item}: empty: no .yaml, .yml or .json file with Kubernetes objects in it (--manifests)"),
    ("readme-only", "{item}: empty: no .yaml, .yml or .json file with Kubernetes objects in it (--manifests)"),
    ("empty-file", "{item}: empty: no Kubernetes objects in it (--manifests)"),
    ("stdin", "<stdin>: empty: no Kubernetes objects on stdin (--manifests -)"),
])
def test_an_empty_manifest_input_is_a_usage_error(tmp_path: Path, setup: str, message: str):
    item = tmp_path / "repo"
    if setup in ("empty-dir", "readme-only"):
        item.mkdir()
        if setup == "readme-only":
            (item / "README.md").write_text("# deploy\n")
    elif setup == "empty-file":
        item = tmp_path / "empty.yaml"
        item.write_text("\n---\n")
    arg = "-" if setup == "stdin" else str(item)
    result = run("scan", "--manifests", arg, "--current", "v1.20.15", "--target", "1.21", input="")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"kupgrade-lint: error: {message.format(item=item)}\n"


def test_a_cluster_configuration_that_is_not_a_string_is_named(seed_copy: Path):
    path = seed_copy / "cluster/kube-system/configmaps/kubeadm-config.yaml"
    import yaml

    data = yaml.safe_load(path.read_text())
    data["data"]["ClusterConfiguration"] = {"kind": "ClusterConfiguration"}
    path.write_text(yaml.safe_dump(data))
    result = run("scan", "--snapshot", str(seed_copy), "--target", "v1.21.14", "-o", "json")
    messages = [m for (_, file), m in _collection(result).items() if file == "cluster/kube-system/configmaps/kubeadm-config.yaml"]
    assert len(messages) == 1 and "ConfigMap kube-system/kubeadm-config: data.ClusterConfiguration is a mapping, not a string" in messages[0]


def test_problem_messages_are_bounded_to_one_short_line(tmp_path: Path):
    manifest = tmp_path / "m.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + "n" * 5000 + "\n  namespace: x\ndata: [1]\n")
    data = json.loads(run("scan", "--manifests", str(manifest), "--current", "v1.20.15", "--target", "1.21", "-o", "json").stdout)
    messages = [f["message"] for f in data["findings"] if f["location"]["file"] == str(manifest)]
    assert len(messages) == 1 and len(messages[0]) <= 300 and "\n" not in messages[0] and messages[0].endswith("...")


def test_strict_exits_4_when_something_was_not_checked_and_findings_take_precedence(tmp_path: Path, seed_copy: Path):
    manifest = tmp_path / "app.yaml"
    manifest.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: b}\nspec: {}\n")
    args = ("scan", "--manifests", str(manifest), "--current", "v1.20.15", "--target", "1.21", "-o", "json")
    plain, strict = run(*args), run(*args, "--strict")
    assert plain.exit_code == 0 and plain.stderr == ""
    assert strict.exit_code == 4 and strict.stdout == plain.stdout
    assert strict.stderr == "kupgrade-lint: --strict: 1 part(s) of the input were not checked (KUP090 not-checked findings)\n"
    # The seed has errors: 1 wins over 4; with --fail-on never only the gaps are left.
    (seed_copy / "cluster/broken.yaml").write_text("kind: [\n")
    seed = run("scan", "--snapshot", str(seed_copy), "--target", "v1.21.14", "--strict")
    assert seed.exit_code == 1 and seed.stderr == ""
    never = run("scan", "--snapshot", str(seed_copy), "--target", "v1.21.14", "--strict", "--fail-on", "never", "-o", "json")
    assert never.exit_code == 4 and json.loads(never.stdout)["summary"]["error"] > 0
    assert never.stderr == "kupgrade-lint: --strict: 1 part(s) of the input were not checked (KUP090 not-checked findings)\n"
    assert run("scan", "--snapshot", str(SEED), "--target", "v1.21.14", "--strict", "--fail-on", "never").exit_code == 0
    # Nothing unchecked: --strict changes nothing.
    clean = tmp_path / "clean"
    (clean / "cluster").mkdir(parents=True)
    images = {"pause": "3.4.1", "etcd": "3.4.13-0", "coredns/coredns": "v1.8.0",
              **{name: "v1.21.14" for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy")}}
    for name, tag in images.items():
        (clean / "registry/k8s.gcr.io" / name).mkdir(parents=True)
        (clean / "registry/k8s.gcr.io" / name / "tags.json").write_text(json.dumps({"name": name, "tags": [tag]}))
    (clean / "cluster/ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    ok = run("scan", "--snapshot", str(clean), "--current", "v1.20.15", "--target", "1.21", "--strict")
    assert ok.exit_code == 0 and ok.stderr == "", ok.stdout


def test_help_documents_the_strict_exit_code():
    result = run("--help")
    assert result.exit_code == 0 and "4 with --strict" in result.stdout


def test_a_file_larger_than_the_bound_is_named_not_read(seed_copy: Path, monkeypatch):
    from kupgrade_lint.snapshot import tree

    monkeypatch.setattr(tree, "MAX_FILE_BYTES", 100)
    (seed_copy / "cluster/big.yaml").write_text("# " + "x" * 200 + "\n")
    problems = [(p.file, p.message) for p in load_inputs(seed_copy, []).problems]
    assert ("cluster/big.yaml", "larger than 100 bytes; not read") in problems


def test_merged_node_snapshots_are_read_the_same_way(tmp_path: Path):
    from kupgrade_lint.collectors.merge import merge_snapshots

    secret = _secret(tmp_path)
    node = tmp_path / "node"
    (node / "nodes/n1/etc/kubernetes").mkdir(parents=True)
    (node / "nodes/n1/etc/kubernetes/kubelet.env").symlink_to(secret)
    os.mkfifo(node / "nodes/n1/etc/kubernetes/pipe.env")
    (node / "nodes/n1/etc/kubernetes/ok.env").write_text("A=--v=2\n")
    archive_path = tmp_path / "n2.tar.gz"
    with tarfile.open(archive_path, "w:gz") as tar:
        tar.addfile(_member("nodes/n2/etc/kubernetes/kubelet.env", tarfile.SYMTYPE, str(secret)))
    out = tmp_path / "merged"
    summary = merge_snapshots([node, archive_path], out)
    reasons = {e["what"]: e["reason"] for e in summary.errors}
    assert reasons[f"merge nodes/n1/etc/kubernetes/kubelet.env from {node}"].startswith("a symbolic link; not followed")
    assert reasons[f"merge nodes/n1/etc/kubernetes/pipe.env from {node}"].startswith("a named pipe (FIFO)")
    assert reasons[f"merge nodes/n2/etc/kubernetes/kubelet.env from {archive_path}"].startswith("a link in the archive")
    assert (out / "nodes/n1/etc/kubernetes/ok.env").read_text() == "A=--v=2\n"
    assert not (out / "nodes/n1/etc/kubernetes/kubelet.env").exists()
    assert MARKER not in "".join(p.read_text() for p in out.rglob("*") if p.is_file())


def test_a_fifo_named_like_an_archive_is_refused_without_waiting(tmp_path: Path):
    fifo = tmp_path / "snap.tar.gz"
    os.mkfifo(fifo)
    proc = subprocess.run(
        [sys.executable, "-m", "kupgrade_lint", "scan", "--snapshot", str(fifo), "--target", "1.21"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"kupgrade-lint: error: {fifo}: a snapshot is a directory or a .tar.gz of one\n"
