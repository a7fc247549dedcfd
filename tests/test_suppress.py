"""Suppressions: config rules, object annotations and baselines — visible, audited, never silent."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from typer.testing import CliRunner

from kupgrade_lint.cli import app
from tests.conftest import SEED

runner = CliRunner()


def scan_json(*extra: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["scan", "--snapshot", str(SEED), "--target", "v1.21.14", "-o", "json", *extra])
    return result.exit_code, json.loads(result.stdout) if result.stdout.startswith("{") else {"stderr": result.stderr}


def test_config_suppression_marks_findings_and_lists_unused(tmp_path: Path):
    config = tmp_path / "kl.yaml"
    config.write_text(
        "suppress:\n"
        "  - rule: cadvisor-legacy-labels\n    namespace: monitoring\n    name: k8s-rules\n    reason: dashboards migrated in OPS-1\n"
        "  - rule: KUP060\n    namespace: nowhere\n    reason: stale entry\n"
    )
    code, data = scan_json("--config", str(config))
    assert code == 1
    cadvisor = [f for f in data["findings"] if f["rule_id"] == "KUP052"]
    assert len(cadvisor) == 2 and all(f["suppressed"] for f in cadvisor)
    assert cadvisor[0]["suppressed_by"].endswith("suppress[0]: dashboards migrated in OPS-1")
    assert not any(f["suppressed"] for f in data["findings"] if f["rule_id"] != "KUP052")
    assert data["summary"]["suppressed"] == 2
    assert data["unused_suppressions"] == [f"{config} suppress[1] (KUP060)"]


def test_baseline_round_trip_silences_known_findings(tmp_path: Path):
    baseline = tmp_path / "baseline.json"
    first = runner.invoke(app, ["scan", "--snapshot", str(SEED), "--target", "v1.21.14", "--generate-baseline", str(baseline), "-o", "json"])
    recorded = len(json.loads(baseline.read_text())["fingerprints"])
    assert recorded == len(json.loads(first.stdout)["findings"]) > 0
    # The seed has errors, yet generating a baseline exits 0 and says so.
    assert first.exit_code == 0
    assert first.stderr == f"kupgrade-lint: wrote a baseline of {recorded} finding(s) to {baseline}; exit 0 (--generate-baseline does not fail on findings)\n"
    code, data = scan_json("--baseline", str(baseline))
    assert code == 0
    assert all(f["suppressed_by"] == "baseline" for f in data["findings"])
    assert data["summary"]["suppressed"] == recorded and data["summary"]["error"] == 0
    assert data["unused_suppressions"] == []


def _seed_with_new_error(seed_copy: Path) -> None:
    """Another Deployment last applied as extensions/v1beta1: a new KUP001 error the baseline does not know."""
    shop = seed_copy / "cluster" / "shop"
    (shop / "deployment-new.yaml").write_text((shop / "deployment-web.yaml").read_text().replace("web", "new"))


def test_with_a_baseline_the_text_report_shows_and_counts_only_new_findings(seed_copy: Path, tmp_path: Path):
    baseline = tmp_path / "baseline.json"
    assert runner.invoke(app, ["scan", "--snapshot", str(seed_copy), "--target", "v1.21.14", "--generate-baseline", str(baseline)]).exit_code == 0
    known = len(json.loads(baseline.read_text())["fingerprints"])
    clean = runner.invoke(app, ["scan", "--snapshot", str(seed_copy), "--target", "v1.21.14", "--baseline", str(baseline)])
    assert clean.exit_code == 0
    assert "ERROR" not in clean.stdout and "suppressed" not in clean.stdout
    assert clean.stdout.rstrip().endswith("0 error(s), 0 warning(s), 0 info")
    assert clean.stderr == f"kupgrade-lint: --baseline: {known} known finding(s) not shown (JSON and SARIF list them as suppressed)\n"

    _seed_with_new_error(seed_copy)
    new = runner.invoke(app, ["scan", "--snapshot", str(seed_copy), "--target", "v1.21.14", "--baseline", str(baseline)])
    assert new.exit_code == 1
    # One error is shown (the text report may wrap its location onto the next line): the new one.
    assert len([line for line in new.stdout.splitlines() if line.lstrip().startswith("ERROR")]) == 1
    assert "Deployment shop/new" in new.stdout and "Deployment shop/web" not in new.stdout
    assert new.stdout.rstrip().endswith("1 error(s), 0 warning(s), 0 info")
    assert new.stderr == clean.stderr
    # JSON keeps the known findings, marked suppressed, and counts only the new one.
    data = json.loads(runner.invoke(app, ["scan", "--snapshot", str(seed_copy), "--target", "v1.21.14", "--baseline", str(baseline), "-o", "json"]).stdout)
    assert data["summary"]["suppressed"] == known and data["summary"]["error"] == 1
    assert [f["location"]["name"] for f in data["findings"] if not f["suppressed"]] == ["new"]


def test_object_annotation_suppresses_that_object_only(seed_copy: Path):
    path = seed_copy / "cluster" / "ingress-nginx" / "deployment-nginx-ingress-controller.yaml"
    text = path.read_text()
    assert "  annotations:\n" in text
    path.write_text(text.replace("  annotations:\n", "  annotations:\n    kupgrade-lint.dev/ignore: bound-token-unreadable\n", 1))
    result = runner.invoke(app, ["scan", "--snapshot", str(seed_copy), "--target", "v1.21.14", "-o", "sarif"])
    sarif = json.loads(result.stdout)
    schema = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)
    results = sarif["runs"][0]["results"]
    token = [r for r in results if r["ruleId"] == "KUP060"]
    # The annotation is on the object itself: suppressed in source, accepted by whoever wrote it.
    assert len(token) == 1 and token[0]["suppressions"][0]["kind"] == "inSource" and token[0]["suppressions"][0]["status"] == "accepted"
    assert "kupgrade-lint.dev/ignore" in token[0]["suppressions"][0]["justification"]
    assert not any("suppressions" in r for r in results if r["ruleId"] != "KUP060")


def test_invalid_config_is_a_one_line_error(tmp_path: Path):
    config = tmp_path / "kl.yaml"
    config.write_text("suppress:\n  - rule: KUP060\n")
    result = runner.invoke(app, ["scan", "--snapshot", str(SEED), "--target", "v1.21.14", "--config", str(config)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "'reason' is a required property" in result.stderr and str(config) in result.stderr


def test_config_sets_defaults_and_the_command_line_wins(tmp_path: Path):
    config = tmp_path / "kl.yaml"
    config.write_text("fail_on: never\nkubelet_strategy: each-hop\n")
    code, data = scan_json("--config", str(config))
    assert code == 0
    assert not any(f["category"] == "version-skew" for f in data["findings"])
    code, _ = scan_json("--config", str(config), "--fail-on", "error")
    assert code == 1
