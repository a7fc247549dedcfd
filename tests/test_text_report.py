"""The text report of the seed reads as a plan, fits 100 columns, and loses nothing."""

from __future__ import annotations

import dataclasses
import io
import re

import pytest
from typer.testing import CliRunner

from kupgrade_lint.catalog import load_catalog
from kupgrade_lint.checks import ScanOptions
from kupgrade_lint.cli import app
from kupgrade_lint.engine import ScanRequest, scan
from kupgrade_lint.findings import Finding, Location, Severity
from kupgrade_lint.reporters import text
from kupgrade_lint.snapshot.loader import load_inputs
from kupgrade_lint.versions import KubeVersion
from tests.conftest import SEED


def _scan(strategy: str = "last"):
    request = ScanRequest(target=KubeVersion.parse("v1.21.14"), options=ScanOptions(kubelet_strategy=strategy))
    return scan(load_inputs(SEED, []), load_catalog(), request)


@pytest.fixture(scope="module")
def report():
    return _scan()


def _render(report, **kwargs) -> str:
    out = io.StringIO()
    text.render(report, out, **kwargs)
    return out.getvalue()


def _squash(s: str) -> str:
    return " ".join(s.split())


def _template(f: Finding, report) -> str:
    """The message without its own hop's versions (how a repeated fact is recognised)."""
    hop = next(h for h in report.hops if h.minor == f.hop)
    m = f.message.replace(hop.dest, "#").replace(hop.source, "#")
    return re.sub(r"(?<![\d.])" + re.escape(hop.minor) + r"(?![\d])", "#", m)


def test_no_line_is_wider_than_100_columns(report):
    body = _render(report)
    assert max(len(line) for line in body.splitlines()) <= 100
    assert len(body.splitlines()) > 100  # wrapped, not cut: the long messages are still there


def test_every_finding_and_every_not_checked_line_is_said(report):
    body = _squash(_render(report))
    for line in report.coverage.not_checked:
        assert _squash(f"NOT CHECKED: {line}") in body
    for f in report.findings:
        if _squash(f.message) in body:
            continue
        # A repeated fact is said once, by its first finding, with the hops it spans.
        same = [g for g in report.findings if g.rule_id == f.rule_id and g.location == f.location and g.hop
                and _template(g, report) == _template(f, report)]
        assert len(same) > 1 and _squash(same[0].message) in body, f.message


def test_the_skew_warning_is_said_once_with_its_hops(report):
    body = _render(report)
    assert len([f for f in report.findings if f.rule_id == "KUP080" and "minors older" in f.message]) == 5
    assert _squash(body).count("are more than 2 minors older") == 1
    assert "Node master-1, worker-1, worker-2  (hops 1.17–1.21)" in body
    assert _squash(body).count("refuses without -f/--force") == 1
    assert "(hops 1.16–1.21)" in body
    # the same missing image at three hops: once, with its hops
    assert "registry/myregistry/google-containers/pause/tags.json  (hops 1.18–1.20)" in body
    assert _squash(body).count("registry has no tag 3.2") == 1


def test_before_you_start_lists_the_blockers_in_hop_order_after_the_coverage(report):
    body = _render(report)
    coverage, start = body.index("── coverage"), body.index("── before you start")
    first_hop = body.index("── hop to 1.15:")
    assert coverage < start < first_hop
    items = [line for line in body[start:first_hop].splitlines() if line.startswith("  - [")]
    steps = [re.match(r"  - \[([^\]]+)\]", line).group(1) for line in items]
    assert steps[0] == "1.15" and items[0].startswith("  - [1.15] KUP041 limitrange-blocks-coredns")
    order = ["1.15", "1.16", "1.17", "1.18", "1.19", "1.20", "1.21", "kubelets"]
    assert steps == sorted(steps, key=order.index)
    # each item once: one line per step and rule
    keys = [re.match(r"  - (\[[^\]]+\] KUP\d+)", line).group(1) for line in items]
    assert len(keys) == len(set(keys))
    assert "[1.18] KUP070 image-missing-from-registry (needed at 1.18–1.20)" in body
    assert "[kubelets] KUP010 removed-flag (breaks the kubelet at 1.15)" in body
    errors = {(f.hop, f.rule_id) for f in report.active_findings if f.severity is Severity.ERROR}
    assert ("1.15", "KUP010") in errors and ("1.19", "KUP020") in errors


def test_kubelet_fixes_go_to_the_kubelet_step_after_the_last_hop(report):
    body = _render(report)
    kubelets = body.index("── kubelets: upgrade master-1, worker-1, worker-2 to v1.21.14")
    assert kubelets > body.index("── hop to 1.21:")
    hop15 = body[body.index("── hop to 1.15:"):body.index("── hop to 1.16:")]
    assert "kubelet.env" not in hop15 and "KUP041" in hop15
    step = body[kubelets:]
    assert "master-1:/etc/kubernetes/kubelet.env:34  (breaks the kubelet at 1.15)" in step
    assert "worker-1:/etc/kubernetes/kubelet.env:28  (breaks the kubelet at 1.19)" in step
    # the static pod manifests stay with their hop: kubeadm rewrites them there
    assert "kube-apiserver.yaml" not in step
    # the findings keep their hop
    assert {f.hop for f in report.findings if f.location.file == "/etc/kubernetes/kubelet.env" and f.rule_id == "KUP010"} == {"1.15"}


def test_with_kubelets_at_each_hop_there_is_no_kubelet_step():
    body = _render(_scan("each-hop"))
    assert "── kubelets:" not in body and "kubelets upgraded with each hop" in body
    hop15 = body[body.index("── hop to 1.15:"):body.index("── hop to 1.16:")]
    assert "master-1:/etc/kubernetes/kubelet.env:34" in hop15


def test_evidence_is_dropped_when_the_message_says_it_and_kept_when_it_adds(report):
    body = _render(report)
    assert "(evidence: last-applied-configuration (kubectl apply))" in _squash(body)  # the message says it
    assert "evidence: last-applied-configuration (kubectl apply) (confidence" not in _squash(body)
    f = next(f for f in report.findings if f.rule_id == "KUP041")
    told = dataclasses.replace(report, findings=(dataclasses.replace(f, evidence="a Helm release", confidence="medium"),))
    assert "evidence: a Helm release (confidence medium)" in _render(told)


def test_a_shared_fix_is_said_once_per_run_of_one_rule(report):
    body = _render(report)
    hop19 = body[body.index("── hop to 1.19:"):body.index("── hop to 1.20:")]
    assert "ERROR   KUP020 removed-feature-gate (7)" in hop19
    assert hop19.count("fix: Remove VolumeSubpathEnvExpansion") == 1


def test_no_colour_unless_asked_and_colour_when_asked(report):
    assert "\033[" not in _render(report)
    assert "\033[31m" in _render(report, color=True)


def test_verbose_adds_each_findings_sources(report):
    plain, verbose = _render(report), _render(report, verbose=True)
    assert "source: " not in plain
    f = next(f for f in report.findings if f.rule_id == "KUP041")
    assert all(f"source: {ref}" in verbose for ref in f.references)
    result = CliRunner().invoke(app, ["scan", "--snapshot", str(SEED), "--target", "v1.21.14", "-v"])
    assert result.exit_code == 1 and "source: https://" in result.stdout


def test_not_checked_findings_are_in_the_coverage_block():
    problem = Finding("KUP090", "not-checked", "collection", Severity.WARNING, None, "cluster/x.yaml: not valid YAML",
                      "Fix it.", Location(file="cluster/x.yaml", line=3))
    body = _render(dataclasses.replace(_scan(), findings=(problem,)))
    assert body.index("cluster/x.yaml: not valid YAML") < body.index("── before you start")
    assert "1 input(s) not checked" in body


def test_a_finding_at_a_hop_off_the_path_is_still_said(report):
    f = next(f for f in report.findings if f.rule_id == "KUP041")
    body = _render(dataclasses.replace(report, findings=(dataclasses.replace(f, hop="1.30", message="off the path"),)))
    assert "── findings at hops outside the path (1.30) ──" in body and "off the path" in body
