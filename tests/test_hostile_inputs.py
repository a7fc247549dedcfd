"""Hostile and odd inputs, end to end through the CLI: each has one expected outcome.

Either a specific "not checked" finding (KUP090, naming the file and line) with the scan going
on, or exactly the findings of the plain LF/UTF-8 equivalent, or a one-line usage error (exit 2).
No input here may crash (exit 3), hang or pass silently.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kupgrade_lint.cli import app
from tests.conftest import SEED


def _json_reads_deep() -> bool:
    try:
        json.loads("[" * 5000 + "]" * 5000)
    except RecursionError:
        return False
    return True


_JSON_READS_DEEP = _json_reads_deep()


runner = CliRunner()

MANIFESTS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec: {}
---
# an Ingress of a version 1.22 removes
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: old
  namespace: shop
---
apiVersion: networking.k8s.io/v1beta1
kind: Ingress
metadata:
  name: older
  namespace: shop
"""

# 342 bytes that expand to 9^9 nodes ("billion laughs").
ALIAS_BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
    for prev, name in zip([None, *"abcdefgh"], "abcdefghi")
)


def scan_manifests(directory: Path, *extra: str):
    result = runner.invoke(app, ["scan", "--manifests", str(directory), "--current", "v1.21.14", "--target", "1.22", "-o", "json", *extra])
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    return json.loads(result.stdout)["findings"]


def outcome(findings: list[dict]) -> list[tuple]:
    """What a finding says, without the file name (the LF and CRLF copies have different names)."""
    return sorted((f["rule_id"], f["location"]["line"], f["location"]["kind"], f["location"]["name"], f["message"].replace("in.yaml", "")) for f in findings)


def not_checked(findings: list[dict]) -> list[tuple]:
    return sorted(
        (f["location"]["file"].rsplit("/", 1)[-1], f["location"]["line"], f["message"])
        for f in findings if f["rule_id"] == "KUP090" and not f["location"]["file"].startswith("registry/")
    )


def write(tmp_path: Path, data: bytes, name: str = "in.yaml") -> Path:
    directory = tmp_path / "m"
    directory.mkdir(exist_ok=True)
    (directory / name).write_bytes(data)
    return directory


@pytest.fixture
def lf_findings(tmp_path_factory) -> list[tuple]:
    return outcome(scan_manifests(write(tmp_path_factory.mktemp("lf"), MANIFESTS.encode())))


def test_the_plain_file_has_findings_to_compare_with(lf_findings):
    assert [f[:4] for f in lf_findings if f[0] == "KUP001"] == [("KUP001", 9, "Ingress", "old"), ("KUP001", 15, "Ingress", "older")]


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(MANIFESTS.replace("\n", "\r\n").encode(), id="crlf"),
        pytest.param(b"\xef\xbb\xbf" + MANIFESTS.encode(), id="bom"),
        pytest.param(b"\xef\xbb\xbf" + MANIFESTS.replace("\n", "\r\n").encode(), id="bom-and-crlf"),
    ],
)
def test_crlf_and_bom_scan_like_lf_with_the_same_lines(tmp_path: Path, variant: bytes, lf_findings):
    assert outcome(scan_manifests(write(tmp_path, variant))) == lf_findings


def _docs(*bodies: str) -> bytes:
    return "---\n".join(bodies).encode()


INGRESS = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: kept, namespace: shop}\n"

# (id, file content, expected KUP090 (line, message part) list, removed-API findings still reported)
CASES = [
    ("broken-middle-document", _docs(INGRESS, "apiVersion: v1\nkind: [unclosed\n", INGRESS.replace("kept", "after")),
     [(6, "not valid YAML: while parsing a flow sequence")], 2),
    ("truncated-in-a-quote", (INGRESS + "---\n" + INGRESS.replace("kept", 'x"trunc')[:-20] + '\n  annotations: {a: "open\n').encode(),
     [(7, "not valid YAML")], 1),
    ("binary", bytes(range(256)) * 4, [(None, "not a UTF-8 text file")], 0),
    ("latin-1", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf\xe9}\n".encode("latin-1"), [(None, "not a UTF-8 text file")], 0),
    ("duplicate-key", b"apiVersion: networking.k8s.io/v1\napiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: dup, namespace: shop}\n",
     [(2, "key 'apiVersion' is given twice in one mapping; the last value is the one checked")], 1),
    ("unknown-tag", _docs("apiVersion: v1\nkind: Secret\ndata: !vault |\n  abc\n", INGRESS), [(3, "unknown YAML tag '!vault'; document not checked")], 1),
    ("binary-tag", _docs("apiVersion: v1\nkind: Secret\ndata:\n  k: !!binary aGVsbG8=\n", INGRESS),
     [(4, "a bytes value (YAML tag !!binary) where Kubernetes objects hold only JSON values; document not checked")], 1),
    ("no-kind-or-apiversion", _docs("replicas: 3\nimage: nginx\n", INGRESS), [(1, "document has no apiVersion or kind; not a Kubernetes object")], 1),
    ("not-a-mapping", _docs("- a\n- b\n", INGRESS), [(1, "document is not a Kubernetes object (not a mapping)")], 1),
    ("alias-bomb", _docs(ALIAS_BOMB, INGRESS), [(1, "aliases would expand the document by 490,329,036 nodes")], 1),
    ("recursive-alias", _docs("a: &a [*a]\n", INGRESS), [(1, "an alias refers to the node that contains it")], 1),
    ("deep-block-yaml", _docs("".join("  " * i + "a:\n" for i in range(600)) + "  " * 600 + "b: 1\n", INGRESS), [(257, "nested more than 256 levels deep")], 1),
    ("deep-flow-yaml", _docs("a: " + "[" * 600 + "]" * 600 + "\n", INGRESS), [(1, "nested more than 256 levels deep")], 1),
    ("huge-int-yaml", _docs(INGRESS, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: n}\nx: " + "9" * 5000 + "\n"),
     [(8, "a number of 5000 digits (more than 4300)")], 1),
]


JSON_CASES = [
    # Up to Python 3.12 the JSON decoder refuses this depth; 3.13's reads it, and the document is then
    # named for what it is (a list, not an object). Named either way, never a traceback.
    ("deep-json", "[" * 5000 + "]" * 5000, [(1, "JSON nested too deep to read" if not _JSON_READS_DEEP else "document is not a Kubernetes object (not a mapping)")], 0),
    ("huge-int-json", '{"apiVersion": "v1", "kind": "ConfigMap", "x": ' + "9" * 5000 + "}", [(1, "a number of more than 4300 digits")], 0),
]


@pytest.fixture(scope="module")
def corpus_findings(tmp_path_factory) -> dict[str, list[dict]]:
    """Every case as its own file of one directory, scanned once: the findings per file."""
    directory = tmp_path_factory.mktemp("corpus")
    for name, content, _, _ in CASES:
        (directory / f"{name}.yaml").write_bytes(content)
    for name, content, _, _ in JSON_CASES:
        (directory / f"{name}.json").write_text(content)
    per_file: dict[str, list[dict]] = {}
    for finding in scan_manifests(directory):
        per_file.setdefault(finding["location"]["file"].rsplit("/", 1)[-1].rsplit(".", 1)[0], []).append(finding)
    return per_file


@pytest.mark.parametrize(("name", "expected", "removed_api"), [pytest.param(i, e, r, id=i) for i, _, e, r in CASES + JSON_CASES])
def test_hostile_input_is_named_and_the_rest_is_scanned(corpus_findings, name: str, expected: list, removed_api: int):
    findings = corpus_findings.get(name, [])
    got = not_checked(findings)
    assert len(got) == len(expected), got
    for (_, line, message), (want_line, want) in zip(got, expected):
        assert line == want_line and want in message, got
    assert sum(f["rule_id"] == "KUP001" for f in findings) == removed_api


def test_stdin_crlf_bom_is_read_and_non_utf8_stdin_is_a_one_line_error():
    args = ["scan", "--manifests", "-", "--current", "v1.21.14", "--target", "1.22", "-o", "json"]
    ok = runner.invoke(app, args, input=b"\xef\xbb\xbf" + INGRESS.replace("\n", "\r\n").encode())
    assert ok.exit_code == 1 and [f["location"]["line"] for f in json.loads(ok.stdout)["findings"] if f["rule_id"] == "KUP001"] == [1]
    bad = runner.invoke(app, args, input=b"kind: caf\xe9\n")
    assert bad.exit_code == 2 and bad.stdout == ""
    assert bad.stderr == "kupgrade-lint: error: <stdin> (--manifests -): not UTF-8 text (byte 9)\n"


# -- node files of a snapshot -----------------------------------------------------------------

KUBELET_ENV = "nodes/master-1/etc/kubernetes/kubelet.env"
KUBELET_UNIT = "nodes/master-1/etc/systemd/system/kubelet.service"


def scan_snapshot(snapshot: Path, *extra: str):
    result = runner.invoke(app, ["scan", "--snapshot", str(snapshot), "--target", "v1.21.14", "-o", "json", *extra])
    assert result.exit_code == 1, result.stdout + result.stderr
    return json.loads(result.stdout)["findings"]


def node_outcome(findings: list[dict]) -> list[tuple]:
    return sorted((f["rule_id"], f["location"]["node"], f["location"]["file"], f["location"]["line"], f["message"]) for f in findings if f["location"]["node"])


@pytest.fixture(scope="module")
def seed_node_findings() -> list[tuple]:
    return node_outcome(scan_snapshot(SEED))


def crlf(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r\n")


def bom(data: bytes) -> bytes:
    return b"\xef\xbb\xbf" + data


@pytest.mark.parametrize(("env_change", "unit_change"), [pytest.param(crlf, bom, id="crlf-env-bom-unit"), pytest.param(bom, crlf, id="bom-env-crlf-unit")])
def test_env_files_and_units_with_crlf_or_bom_give_the_seed_findings(seed_copy: Path, seed_node_findings, env_change, unit_change):
    for path, change in ((KUBELET_ENV, env_change), (KUBELET_UNIT, unit_change)):
        file = seed_copy / path
        file.write_bytes(change(file.read_bytes()))
    assert node_outcome(scan_snapshot(seed_copy)) == seed_node_findings


def test_a_bad_env_line_is_reported_and_the_rest_of_the_file_is_read(seed_copy: Path, seed_node_findings):
    file = seed_copy / KUBELET_ENV
    lines = file.read_text().splitlines(keepends=True)
    # Replace a comment line, so that every other line keeps its number.
    index = next(i for i, line in enumerate(lines) if line.startswith("# logging"))
    lines[index] = "this line is not an assignment\n"
    file.write_text("".join(lines))
    findings = node_outcome(scan_snapshot(seed_copy))
    reported = [f for f in findings if f[0] == "KUP090" and f[2] == "/etc/kubernetes/kubelet.env"]
    assert [(f[1], f[3]) for f in reported] == [("master-1", index + 1)]
    assert "not a KEY=VALUE assignment, skipped as systemd skips it: 'this line is not an assignment'" in reported[0][4]
    assert [f for f in findings if f not in reported] == seed_node_findings


def test_env_expansion_bomb_is_reported_at_its_line(seed_copy: Path, seed_node_findings):
    file = seed_copy / KUBELET_ENV
    refs = "$BOMB" * 40
    file.write_text(file.read_text() + "BOMB=--x=xxxxxxxxxxxxxxxx\n" + "".join(f"BOMB={refs}\n" for _ in range(6)))
    first_bomb_line = file.read_text().count("\n") - 6 + 1
    findings = node_outcome(scan_snapshot(seed_copy))
    reported = [f for f in findings if f[0] == "KUP090" and f[2] == "/etc/kubernetes/kubelet.env"]
    # 16 * 40 * 40 * 40 characters exceed the limit on the third line; later lines expand an unset variable.
    assert [(f[3], "the value of BOMB expands to more than 131,072 characters" in f[4]) for f in reported] == [(first_bomb_line + 2, True)]
    assert [f for f in findings if f not in reported] == seed_node_findings


# -- the config file, user catalogs, live-only options -----------------------------------------

def one_line_error(result, message: str) -> None:
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("kupgrade-lint: error: ") and message in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(ALIAS_BOMB.encode(), ":1: the config file: aliases would expand the document", id="alias-bomb"),
        pytest.param(b"fail_on: caf\xe9\n", ": the config file is not UTF-8 text", id="latin-1"),
        pytest.param(b"fail_on: error\nfail_on: never\n", ":2: the config file: key 'fail_on' is given twice", id="duplicate-key"),
        pytest.param(b"fail_on: !!python/object:os.system x\n", ":1: the config file: unknown YAML tag", id="python-tag"),
    ],
)
def test_the_automatic_config_file_goes_through_the_safe_loader(tmp_path: Path, monkeypatch, content: bytes, message: str):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".kupgrade-lint.yaml").write_bytes(content)
    one_line_error(runner.invoke(app, ["scan", "--snapshot", str(SEED), "--target", "v1.21.14"]), ".kupgrade-lint.yaml" + message)


def test_the_config_file_with_bom_and_crlf_is_read(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".kupgrade-lint.yaml").write_bytes(b"\xef\xbb\xbffail_on: never\r\n")
    assert runner.invoke(app, ["scan", "--snapshot", str(SEED), "--target", "v1.21.14"]).exit_code == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(ALIAS_BOMB.encode(), ":1: aliases would expand the document", id="alias-bomb"),
        pytest.param(b"apis: []\napis: []\n", ":2: key 'apis' is given twice", id="duplicate-key"),
        pytest.param(b"\xff\xfeapis", ": the catalog file is not UTF-8 text", id="utf-16"),
    ],
)
def test_user_catalogs_go_through_the_safe_loader(tmp_path: Path, content: bytes, message: str):
    catalog = tmp_path / "extra.yaml"
    catalog.write_bytes(content)
    one_line_error(runner.invoke(app, ["rules", "--catalog", str(catalog)]), str(catalog) + message)


def test_live_only_options_with_a_snapshot_are_a_usage_error(tmp_path: Path):
    one_line_error(runner.invoke(app, ["scan", "--snapshot", str(SEED), "--target", "1.21", "--kubeconfig", str(tmp_path / "k")]),
                   "--kubeconfig select(s) the live cluster to scan and cannot be combined with --snapshot")
    one_line_error(runner.invoke(app, ["scan", "--manifests", str(tmp_path), "--target", "1.21", "--nodes", str(SEED), "--context", "x"]),
                   "--context, --nodes select(s) the live cluster to scan and cannot be combined with --manifests")


def test_nodes_that_are_not_a_node_snapshot_are_a_usage_error_before_collecting(tmp_path: Path):
    cluster_only = tmp_path / "cluster-only"
    shutil.copytree(SEED / "cluster", cluster_only / "cluster")
    not_tar = tmp_path / "nodes.tar.gz"
    not_tar.write_bytes(b"not gzip")
    kubeconfig = str(tmp_path / "no-kubeconfig")  # had collection started, the error would be about it
    for path, message in [
        (cluster_only, "not a node snapshot: no nodes/<node name>/ directory in it"),
        (not_tar, "not a readable .tar.gz"),
        (tmp_path / "missing", "no such node snapshot directory or archive"),
        (SEED / "README.md", "not a node snapshot: a node snapshot is a directory or a .tar.gz of one"),
    ]:
        one_line_error(runner.invoke(app, ["scan", "--target", "1.21", "--kubeconfig", kubeconfig, "--nodes", str(path)]), f"{path}: {message}")
    # A real node snapshot passes the check (and the scan then fails on the missing kubeconfig).
    result = runner.invoke(app, ["scan", "--target", "1.21", "--kubeconfig", kubeconfig, "--nodes", str(SEED)])
    assert result.exit_code == 2 and "node snapshot" not in result.stderr


def test_collect_checks_its_node_snapshots_before_collecting(tmp_path: Path):
    one_line_error(runner.invoke(app, ["collect", "--to", str(tmp_path / "out"), "--kubeconfig", str(tmp_path / "none"), "--nodes", str(SEED / "cluster")]),
                   f"{SEED / 'cluster'}: not a node snapshot: no nodes/<node name>/ directory in it")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["kupgrade-snapshot.json", "registry/myregistry/google-containers/pause/tags.json"])
def test_deeply_nested_snapshot_json_is_a_finding(seed_copy: Path, name: str):
    (seed_copy / name).write_text("[" * 5000 + "]" * 5000)
    findings = scan_snapshot(seed_copy)
    assert any(f["rule_id"] == "KUP090" and f["location"]["file"] == name for f in findings)


def test_a_reader_that_goes_away_or_a_full_disk_ends_with_one_line(tmp_path: Path):
    import os
    import subprocess
    import sys

    command = [sys.executable, "-m", "kupgrade_lint", "scan", "--snapshot", str(SEED), "--target", "v1.21.14", "-o", "json"]
    read_end, write_end = os.pipe()
    os.close(read_end)  # `| head -1` that has already gone
    closed = subprocess.run(command, stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    os.close(write_end)
    assert (closed.returncode, closed.stderr) == (2, "kupgrade-lint: error: cannot write the report to stdout: Broken pipe\n")
    if os.path.exists("/dev/full"):
        with open("/dev/full", "w") as full:
            result = subprocess.run(command, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
        assert (result.returncode, result.stderr) == (2, "kupgrade-lint: error: cannot write the report to stdout: No space left on device\n")


COREDNS = "cluster/kube-system/configmaps/coredns.yaml"


def cluster_outcome(findings: list[dict]) -> list[tuple]:
    return sorted((f["rule_id"], f["hop"], f["location"]["file"], f["location"]["line"], f["message"]) for f in findings)


def test_a_corefile_with_an_unclosed_block_is_named_at_its_line_in_the_seed(seed_copy: Path):
    file = seed_copy / COREDNS
    file.write_text(file.read_text().replace("           fallthrough in-addr.arpa ip6.arpa\n        }\n", "           fallthrough in-addr.arpa ip6.arpa\n"))
    findings = [f for f in scan_snapshot(seed_copy) if f["location"]["file"] == COREDNS]
    assert [(f["rule_id"], f["location"]["line"], f["message"]) for f in findings] == [
        ("KUP090", 4, "ConfigMap kube-system/coredns: Corefile cannot be parsed: unbalanced braces: the block opened here is not closed")
    ]


def test_the_seed_with_crlf_and_bom_cluster_files_gives_the_same_findings(seed_copy: Path):
    before = cluster_outcome(scan_snapshot(seed_copy))
    for file in sorted((seed_copy / "cluster").rglob("*.yaml")):
        file.write_bytes(bom(crlf(file.read_bytes())))
    assert cluster_outcome(scan_snapshot(seed_copy)) == before


@pytest.mark.parametrize("content", [b"[" * 5000 + b"]" * 5000, b"\xff\xfe{}", b'{"version": ' + b"1" * 5000 + b"}"])
def test_a_hostile_baseline_file_is_a_one_line_error(tmp_path: Path, content: bytes):
    baseline = tmp_path / "baseline.json"
    baseline.write_bytes(content)
    one_line_error(runner.invoke(app, ["scan", "--snapshot", str(SEED), "--target", "v1.21.14", "--baseline", str(baseline)]),
                   f"{baseline}: not a kupgrade-lint baseline")


def test_an_alias_bomb_inside_a_configmap_value_is_not_expanded_by_the_checks(tmp_path: Path):
    """A ConfigMap whose value is YAML with PromQL in it (adapter rules) is read with the same limits."""
    value = ALIAS_BOMB + "rules: [{seriesQuery: 'x', metricsQuery: 'sum(rate(container_cpu{container_name!=\"\"}[1m]))'}]\n"
    body = "\n".join("    " + row for row in value.splitlines())
    directory = write(tmp_path, f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: adapter, namespace: monitoring}}\ndata:\n  config.yaml: |\n{body}\n".encode())
    findings = scan_manifests(directory)  # returns at all: the bomb was not walked
    assert not [f for f in findings if f["rule_id"] == "KUP090" and "in.yaml" in f["location"]["file"]]


def test_a_deeply_nested_last_applied_annotation_does_not_stop_the_scan(seed_copy: Path):
    deep = "[" * 5000 + "]" * 5000
    (seed_copy / "cluster" / "deep-ingress.json").write_text(json.dumps({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {
        "name": "x", "namespace": "shop", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": deep}}}))
    scan_snapshot(seed_copy)
