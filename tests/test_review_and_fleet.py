"""Change review and fleets: markdown and JUnit reports, report diffs, the fleet summary, the published schema."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from kupgrade_lint import __version__
from kupgrade_lint.cli import app
from tests.conftest import SEED

runner = CliRunner()


def _scan(snapshot: Path, fmt: str, *extra: str) -> str:
    result = runner.invoke(app, ["scan", "--snapshot", str(snapshot), "--target", "v1.21.14", "-o", fmt, "--fail-on", "never", *extra])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def seed_json(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("reports") / "prod.json"
    path.write_text(_scan(SEED, "json"))
    return path


@pytest.fixture(scope="module")
def fixed_json(tmp_path_factory) -> Path:
    """The seed after a change that removes --allow-privileged from master-1 and adds a removed flag to worker-1."""
    d = tmp_path_factory.mktemp("fixed")
    copy = d / "seed"
    shutil.copytree(SEED, copy)
    env = copy / "nodes/master-1/etc/kubernetes/kubelet.env"
    env.write_text(env.read_text().replace("--allow-privileged=true", ""))
    worker = copy / "nodes/worker-1/etc/kubernetes/kubelet.env"
    worker.write_text(worker.read_text().replace("--pod-infra-container-image=", "--containerized=true --pod-infra-container-image="))
    path = d / "staging.json"
    path.write_text(_scan(copy, "json"))
    return path


def test_json_findings_carry_their_fingerprint(seed_json: Path) -> None:
    data = json.loads(seed_json.read_text())
    prints = [f["fingerprint"] for f in data["findings"]]
    assert len(set(prints)) == len(prints) and all(len(p) == 20 for p in prints)


def test_markdown_report_has_a_table_per_hop_and_the_counts() -> None:
    body = _scan(SEED, "markdown")
    assert body.startswith("## kupgrade-lint: upgrade v1.14.5 → v1.21.14 in 7 hop(s)")
    assert "**31 error(s), 19 warning(s), 10 info**" in body
    assert "| 1.15 | v1.14.5 → v1.15.12 | 5 | 0 | 0 |" in body
    for minor in range(15, 22):
        assert f"### Hop to 1.{minor} " in body
    row = next(line for line in body.splitlines() if "master-1:/etc/kubernetes/kubelet.env:34" in line)
    assert row.count(" | ") == 4  # five cells: pipes inside messages are escaped


def test_junit_report_is_one_suite_per_hop() -> None:
    root = ET.fromstring(_scan(SEED, "junit"))
    suites = root.findall("testsuite")
    assert [s.get("name").split(" (")[0] for s in suites] == [f"hop to 1.{m}" for m in range(15, 22)]
    failures = sum(int(s.get("failures")) for s in suites)
    assert failures == 50
    first = suites[0].find("testcase")
    assert first.get("classname").startswith("kupgrade-lint.KUP") and first.find("failure").get("type") == "error"


def test_diff_shows_fixed_and_introduced_per_hop(seed_json: Path, fixed_json: Path) -> None:
    result = runner.invoke(app, ["diff", str(seed_json), str(fixed_json), "-o", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    fixed = {(f["hop"], f["rule_id"], f["location"]["node"], f["location"]["line"]) for f in doc["fixed"]}
    assert fixed == {("1.15", "KUP010", "master-1", 34), ("1.15", "KUP010", "master-1", 18)}
    introduced = {(f["hop"], f["rule_id"], f["location"]["node"]) for f in doc["introduced"]}
    assert introduced == {("1.16", "KUP010", "worker-1")}
    assert doc["summary"] == {"fixed": 2, "introduced": 1, "remaining": 58}
    gate = runner.invoke(app, ["diff", str(seed_json), str(fixed_json), "--fail-on-new"])
    assert gate.exit_code == 1 and "1 introduced, 2 fixed, 58 remaining" in gate.stdout
    markdown = runner.invoke(app, ["diff", str(seed_json), str(fixed_json), "-o", "markdown"]).stdout
    assert "### Introduced (1)" in markdown and "### Fixed (2)" in markdown and "<details><summary>58 remaining</summary>" in markdown


def test_fleet_summary_of_three_clusters(seed_json: Path, fixed_json: Path, tmp_path: Path) -> None:
    clean = tmp_path / "dev.json"
    manifest = tmp_path / "app.yaml"
    manifest.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: b}\nspec: {}\n")
    result = runner.invoke(app, ["scan", "--manifests", str(manifest), "--current", "v1.20.15", "--target", "1.21", "-o", "json", "--output-file", str(clean)])
    assert result.exit_code == 0, result.output
    merged = runner.invoke(app, ["report", "merge", str(seed_json), str(fixed_json), str(clean), "-o", "json"])
    assert merged.exit_code == 0, merged.output
    clusters = {c["name"]: c for c in json.loads(merged.stdout)["clusters"]}
    assert (clusters["prod"]["errors"], clusters["staging"]["errors"], clusters["dev"]["errors"]) == (31, 30, 0)
    assert clusters["prod"]["per_hop"]["1.19"] == {"errors": 11, "warnings": 2}
    assert clusters["dev"]["not_checked"] == 1  # the registry was not part of that scan
    text = runner.invoke(app, ["report", "merge", str(seed_json), str(fixed_json), str(clean)]).stdout
    assert text.startswith("kupgrade-lint fleet summary: 3 cluster(s): 0 without blockers and fully checked, 3 not ready")
    markdown = runner.invoke(app, ["report", "merge", str(seed_json), str(clean), "-o", "markdown"]).stdout
    assert "| prod | v1.14.5 → v1.21.14 | 31 | 19 | 0 |" in markdown


def test_a_file_that_is_not_a_report_is_a_one_line_error(seed_json: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format_version": 1}))
    result = runner.invoke(app, ["diff", str(seed_json), str(bad)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"kupgrade-lint: error: {bad}: not a kupgrade-lint JSON report") and result.stderr.count("\n") == 1


def test_schema_report_prints_the_schema_reports_validate_against(seed_json: Path) -> None:
    result = runner.invoke(app, ["schema", "report"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator(schema).validate(json.loads(seed_json.read_text()))


def test_version_flag_and_command() -> None:
    for args in (["--version"], ["version"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and result.stdout == f"kupgrade-lint {__version__}\n"
