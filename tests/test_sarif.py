"""SARIF that GitHub code scanning accepts as it is: regions with columns, paths from the repository
root, stable fingerprints, a file for every result, and the upload limits kept and said."""

from __future__ import annotations

import gzip
import io
import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from kupgrade_lint.cli import app
from kupgrade_lint.findings import Finding, Location, Report, RuleInfo, Severity
from kupgrade_lint.reporters import sarif
from tests.conftest import SEED

runner = CliRunner()
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0.json").read_text())

# The Deployment is a `kind: List` item (its apiVersion key at column 5); the JSON file's key
# "apiVersion" starts after two spaces (column 3).
LIST_YAML = """\
apiVersion: v1
kind: List
items:
  - apiVersion: extensions/v1beta1
    kind: Deployment
    metadata: {name: web, namespace: shop}
    spec:
      template:
        spec:
          containers: [{name: web, image: nginx}]
"""
PSP_JSON = """\
{
  "apiVersion": "extensions/v1beta1",
  "kind": "NetworkPolicy",
  "metadata": {"name": "deny", "namespace": "shop"},
  "spec": {}
}
"""


def _scan_sarif(*args: str) -> dict:
    result = runner.invoke(app, ["scan", *args, "--current", "v1.15.0", "--target", "v1.22.0", "-o", "sarif"])
    assert result.exit_code in (0, 1), result.stderr
    doc = json.loads(result.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    return doc


@pytest.fixture
def repo(tmp_path, monkeypatch):
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "app.yaml").write_text(LIST_YAML)
    (tmp_path / "deploy" / "psp.json").write_text(PSP_JSON)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _by_uri(doc: dict) -> dict[str, dict]:
    out = {}
    for r in doc["runs"][0]["results"]:
        out.setdefault(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r)
    return out


def test_manifests_scan_has_repository_paths_lines_and_columns(repo):
    doc = _scan_sarif("--manifests", "deploy")
    run = doc["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints" and "%SRCROOT%" in run["originalUriBaseIds"]
    results = _by_uri(doc)
    deployment = results["deploy/app.yaml"]["locations"][0]
    assert deployment["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert deployment["physicalLocation"]["region"] == {"startLine": 4, "startColumn": 5}
    assert deployment["logicalLocations"][0]["fullyQualifiedName"] == "shop/Deployment/web"
    psp = results["deploy/psp.json"]["locations"][0]["physicalLocation"]
    assert psp["region"] == {"startLine": 2, "startColumn": 3}


def test_every_result_names_a_file_code_scanning_can_show(repo):
    """Code scanning shows no result without an artifact URI and rejects an empty ``locations``."""
    for doc in (_scan_sarif("--manifests", "deploy"), _scan_sarif("--snapshot", str(SEED))):
        results = doc["runs"][0]["results"]
        assert results
        for r in results:
            assert r["locations"] and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r
            base = r["locations"][0]["physicalLocation"]["artifactLocation"].get("uriBaseId")
            assert base is None or base in doc["runs"][0]["originalUriBaseIds"]


def test_an_absolute_manifests_path_is_a_file_uri_without_a_base(repo):
    doc = _scan_sarif("--manifests", str(repo / "deploy"))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"].get("uri"): r for r in doc["runs"][0]["results"]}
    target = (repo / "deploy" / "app.yaml").as_posix()
    assert "file://" + target in uris
    assert "uriBaseId" not in uris["file://" + target]["locations"][0]["physicalLocation"]["artifactLocation"]


def test_snapshot_files_relative_to_a_relative_snapshot_or_to_its_base(tmp_path, monkeypatch):
    shutil.copytree(SEED, tmp_path / "snap")
    monkeypatch.chdir(tmp_path)
    relative = _scan_sarif("--snapshot", "snap")
    assert "snap/nodes/master-1/etc/kubernetes/kubelet.env" in _by_uri(relative)
    absolute = _scan_sarif("--snapshot", str(tmp_path / "snap"))
    kubelet = _by_uri(absolute)["nodes/master-1/etc/kubernetes/kubelet.env"]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert kubelet["uriBaseId"] == "SNAPSHOT"
    assert absolute["runs"][0]["originalUriBaseIds"]["SNAPSHOT"]["uri"] == (tmp_path / "snap").as_uri() + "/"


def test_fingerprints_survive_line_moves_and_output_is_byte_identical(repo):
    first = runner.invoke(app, ["scan", "--manifests", "deploy", "--current", "v1.15.0", "--target", "v1.22.0", "-o", "sarif"]).stdout
    again = runner.invoke(app, ["scan", "--manifests", "deploy", "--current", "v1.15.0", "--target", "v1.22.0", "-o", "sarif"]).stdout
    assert first == again
    (repo / "deploy" / "app.yaml").write_text("# moved down\n\n" + LIST_YAML)
    moved = runner.invoke(app, ["scan", "--manifests", "deploy", "--current", "v1.15.0", "--target", "v1.22.0", "-o", "sarif"]).stdout

    def prints(text):
        return {r["partialFingerprints"]["kupgradeLint/v1"]: r["locations"][0]["physicalLocation"].get("region") for r in json.loads(text)["runs"][0]["results"]}

    before, after = prints(first), prints(moved)
    assert before.keys() == after.keys()
    moved_regions = [(before[k], after[k]) for k in before if before[k] and before[k]["startLine"] == 4]
    assert moved_regions and all(a == {"startLine": 6, "startColumn": 5} for _, a in moved_regions)


# -- limits -------------------------------------------------------------------------------------

RULE = RuleInfo("KUP001", "removed-api", "removed-api", Severity.ERROR, "An API is removed.", "Move to the new API.", "https://example.org/KUP001", "1.16")


def _finding(i: int, severity: Severity = Severity.ERROR, suppressed: str | None = None) -> Finding:
    return Finding(
        rule_id="KUP001", rule_name="removed-api", category="removed-api", severity=severity, hop="1.16",
        message=f"object {i} uses a removed API", remediation="Move.",
        location=Location(file=f"deploy/app-{i:05d}.yaml", line=1, column=1, kind="Deployment", namespace="shop", name=f"web-{i}"),
        suppressed_by=suppressed,
    )


def _report(findings: list[Finding]) -> Report:
    return Report(tool_version="0", current_version="v1.15.0", target_version="v1.16.0", hops=(), findings=tuple(findings),
                  rules=(RULE,), inputs=("deploy",))


def _render(report: Report) -> dict:
    out = io.StringIO()
    sarif.render(report, out)
    return json.loads(out.getvalue())


def _notes(doc: dict) -> list[dict]:
    return doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]


def test_over_the_results_limit_the_least_severe_are_left_out_and_said(monkeypatch):
    monkeypatch.setattr(sarif, "LIMITS", sarif.Limits(results=10, shown_results=5))
    findings = [_finding(i) for i in range(8)] + [_finding(8, Severity.INFO), _finding(9, Severity.WARNING)]
    findings += [_finding(10, suppressed="baseline"), _finding(11, Severity.INFO)]
    doc = _render(_report(findings))
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    results = doc["runs"][0]["results"]
    assert len(results) == 10
    kept = {r["locations"][0]["logicalLocations"][0]["name"] for r in results}
    assert "web-10" not in kept and "web-9" in kept  # the suppressed one goes first, then the least severe
    assert len(kept & {"web-8", "web-11"}) == 1
    left_out = [n for n in _notes(doc) if "left out" in n["message"]["text"]]
    assert len(left_out) == 1 and left_out[0]["level"] == "error" and "2 of 12 results" in left_out[0]["message"]["text"]
    assert "more than 10 results" in left_out[0]["message"]["text"]
    assert any("shows only the top 5 " in n["message"]["text"] for n in _notes(doc))


def test_a_real_report_over_25000_results_is_cut_to_25000_with_a_notification():
    findings = [_finding(i) for i in range(sarif.LIMITS.results + 1)]
    doc = _render(_report(findings))
    assert len(doc["runs"][0]["results"]) == 25_000
    texts = [n["message"]["text"] for n in _notes(doc)]
    assert any("1 of 25,001 results left out" in t and "more than 25,000 results" in t for t in texts)
    assert any("shows only the top 5,000" in t for t in texts)


def test_over_the_compressed_size_limit_results_are_left_out_until_it_fits(monkeypatch):
    monkeypatch.setattr(sarif, "LIMITS", sarif.Limits(gzip_bytes=5_000))
    report = _report([_finding(i) for i in range(400)])
    text = sarif.sarif_text(report)
    assert len(gzip.compress(text.encode(), mtime=0)) <= 5_000
    doc = json.loads(text)
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    count = len(doc["runs"][0]["results"])
    assert 0 < count < 400
    assert any(f"{400 - count} of 400 results left out" in n["message"]["text"] and "gzip-compressed" in n["message"]["text"] for n in _notes(doc))


def test_within_the_limits_nothing_is_said():
    doc = _render(_report([_finding(i) for i in range(3)]))
    assert doc["runs"][0]["invocations"] == [] or not any("SARIF:" in n["message"]["text"] for n in _notes(doc))
    assert len(doc["runs"][0]["results"]) == 3


def test_rules_carry_full_help_and_suppressions_are_valid():
    doc = _render(_report([_finding(0, suppressed="kupgrade-lint.yaml: migrated in PR 12"), _finding(1, suppressed="annotation kupgrade-lint.dev/ignore on Deployment shop/web-1")]))
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    rule = doc["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["helpUri"] == "https://example.org/KUP001"
    assert "**Fix:** Move to the new API." in rule["help"]["markdown"] and "1.16" in rule["help"]["markdown"]
    kinds = [r["suppressions"][0]["kind"] for r in doc["runs"][0]["results"]]
    assert kinds == ["external", "inSource"]
    assert all(r["suppressions"][0]["status"] == "accepted" for r in doc["runs"][0]["results"])


def test_a_finding_without_a_file_names_the_scanned_input():
    finding = Finding(rule_id="KUP001", rule_name="removed-api", category="removed-api", severity=Severity.ERROR, hop=None,
                      message="not checked", remediation="-", location=Location())
    doc = _render(_report([finding]))
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    artifact = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "deploy", "uriBaseId": "%SRCROOT%"}
    assert "region" not in doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
