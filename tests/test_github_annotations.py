"""GitHub Actions annotations (-o github): workflow commands escaped as the runner reads them."""

from __future__ import annotations

import io

from typer.testing import CliRunner

from kupgrade_lint.cli import app
from kupgrade_lint.findings import Coverage, Finding, Location, Report, RuleInfo, Severity
from kupgrade_lint.reporters import RENDERERS, github

RULE = RuleInfo("KUP001", "removed-api", "removed-api", Severity.ERROR, "An API is removed.", "Move.", "https://example.org/KUP001")


def _finding(location: Location, severity: Severity = Severity.ERROR, message: str = "uses a removed API", suppressed: str | None = None, hop: str | None = "1.16") -> Finding:
    return Finding(rule_id="KUP001", rule_name="removed-api", category="removed-api", severity=severity, hop=hop,
                   message=message, remediation="Move to apps/v1.", location=location, suppressed_by=suppressed)


def _render(findings, inputs=("deploy",), snapshot=None, coverage=None) -> list[str]:
    report = Report(tool_version="0", current_version="v1.15.0", target_version="v1.16.0", hops=(), findings=tuple(findings),
                    rules=(RULE,), inputs=inputs, snapshot=snapshot, coverage=coverage)
    out = io.StringIO()
    RENDERERS["github"](report, out, False)
    return out.getvalue().splitlines()


def test_escaping_follows_the_workflow_command_rules():
    assert github.escape_data("50% done\r\nnext: a,b") == "50%25 done%0D%0Anext: a,b"
    assert github.escape_property("50% done\r\nnext: a,b") == "50%25 done%0D%0Anext%3A a%2Cb"
    # An already escaped sequence in the input is not taken for an escape.
    assert github.escape_data("%0A") == "%250A"
    line = github.command("error", "two\nlines", file="dir/a,b:c.yaml", line=3, col=None, title="T: x")
    assert line == "::error file=dir/a%2Cb%3Ac.yaml,line=3,title=T%3A x::two%0Alines"


def test_a_file_finding_has_file_line_and_column():
    lines = _render([_finding(Location(file="deploy/app.yaml", line=4, column=5, kind="Deployment", namespace="shop", name="web"), message="a: b, 100%\nmore")])
    (annotation,) = [l for l in lines if l.startswith("::error")]
    assert annotation.startswith("::error file=deploy/app.yaml,line=4,col=5,title=KUP001 removed-api (hop to 1.16)::")
    assert annotation.endswith("::a: b, 100%25%0Amore%0Adeploy/app.yaml:4 [Deployment shop/web]%0AFix: Move to apps/v1.")
    assert "\n" not in annotation and "\r" not in annotation


def test_a_finding_without_a_file_has_no_file_property():
    lines = _render([_finding(Location(kind="Deployment", namespace="shop", name="web"), Severity.WARNING),
                     _finding(Location(), Severity.WARNING, message="the registry was not read", hop=None)])
    warnings = [l for l in lines if l.startswith("::warning")]
    assert len(warnings) == 2 and not any("file=" in w or "line=" in w for w in warnings)
    assert warnings[0].startswith("::warning title=KUP001 removed-api (hop to 1.16)::uses a removed API%0ADeployment shop/web%0A")
    assert warnings[1] == "::warning title=KUP001 removed-api (not checked)::the registry was not read%0AFix: Move to apps/v1."


def test_a_file_inside_a_snapshot_archive_is_no_repository_file():
    lines = _render([_finding(Location(file="cluster/shop/deployment-web.yaml", line=7, column=1))], inputs=("snap.tar.gz",), snapshot="snap.tar.gz")
    (annotation,) = [l for l in lines if l.startswith("::error")]
    assert "file=" not in annotation and "cluster/shop/deployment-web.yaml:7" in annotation
    relative = _render([_finding(Location(file="cluster/shop/deployment-web.yaml", line=7, column=1))], inputs=("snap",), snapshot="snap")
    assert any(l.startswith("::error file=snap/cluster/shop/deployment-web.yaml,line=7,col=1,") for l in relative)


def test_summary_first_then_not_checked_then_most_severe_and_suppressed_left_out():
    findings = [_finding(Location(file="deploy/a.yaml", line=1), Severity.INFO, message="info"),
                _finding(Location(file="deploy/a.yaml", line=2), Severity.ERROR, message="error"),
                _finding(Location(file="deploy/a.yaml", line=3), Severity.ERROR, message="hidden", suppressed="baseline")]
    lines = _render(findings, coverage=Coverage(cluster="none", not_checked=("no node files",)))
    assert lines[0].startswith("::notice title=kupgrade-lint summary::") and "1 error(s)" in lines[0] and "1 suppressed" in lines[0]
    assert lines[1] == "::warning title=kupgrade-lint%3A not checked::not checked: no node files"
    assert lines[2].startswith("::error ") and lines[3].startswith("::notice file=deploy/a.yaml,line=1,")
    assert len(lines) == 4 and not any("hidden" in l for l in lines)


def test_more_annotations_than_github_shows_are_said():
    lines = _render([_finding(Location(file="deploy/a.yaml", line=i)) for i in range(1, 13)])
    assert "GitHub shows 10 annotations of each level per step; this step wrote 12 errors" in lines[0]
    assert sum(l.startswith("::error") for l in lines) == 12


def test_cli_github_format(tmp_path, monkeypatch):
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "app.yaml").write_text("apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["scan", "--manifests", "deploy", "--current", "v1.15.0", "--target", "v1.16.0", "-o", "github"])
    assert result.exit_code == 1, result.stderr
    assert all(l.startswith("::") for l in result.stdout.splitlines())
    assert any(l.startswith("::error file=deploy/app.yaml,line=1,col=1,title=KUP001 ") for l in result.stdout.splitlines())
