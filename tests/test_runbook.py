"""`kupgrade-lint plan`: the seed's runbook follows the upgrade log's procedure, built from the Report alone."""

from __future__ import annotations

import dataclasses
import re

import pytest
from markdown_it import MarkdownIt  # markdown-it-py comes with typer's rich
from typer.testing import CliRunner

from kupgrade_lint.catalog import load_catalog
from kupgrade_lint.cli import app
from kupgrade_lint.engine import ScanRequest, scan
from kupgrade_lint.findings import Finding, Location, Severity
from kupgrade_lint.runbook import ClusterShape, render_runbook
from kupgrade_lint.snapshot.loader import load_inputs
from kupgrade_lint.versions import KubeVersion
from tests.conftest import SEED

SHAPE = ClusterShape(control_plane=("master-1",), workers=("worker-1", "worker-2"), etcd_external=True)


@pytest.fixture(scope="module")
def report():
    return scan(load_inputs(SEED, []), load_catalog(), ScanRequest(target=KubeVersion.parse("v1.21.14")))


@pytest.fixture(scope="module")
def plan(report):
    return render_runbook(report, SHAPE, "text")


def _squash(s: str) -> str:
    return " ".join(s.split())


def test_the_cli_prints_the_seed_runbook_and_finds_the_nodes_roles(plan):
    result = CliRunner().invoke(app, ["plan", "--target", "v1.21.14", "--snapshot", str(SEED)])
    assert result.exit_code == 0, result.output
    assert result.stdout == plan  # master-1 is the control plane (role label, static pods), etcd is external
    markdown = CliRunner().invoke(app, ["plan", "--target", "v1.21.14", "--snapshot", str(SEED), "-o", "markdown"])
    assert markdown.exit_code == 0 and markdown.stdout.startswith("# Upgrade runbook: v1.14.5 → v1.21.14")


def test_a_section_per_hop_in_order_after_the_etcd_snapshot(plan, report):
    heads = [plan.index(f"── Hop {i} of 7: {h.source} → {h.dest} ──") for i, h in enumerate(report.hops, start=1)]
    assert heads == sorted(heads)
    assert plan.index("etcd is external") < plan.index("etcdctl") < heads[0]
    assert "snapshot save" in plan[:heads[0]]
    for i, hop in enumerate(report.hops):
        section = plan[heads[i]:heads[i + 1] if i + 1 < len(heads) else plan.index("── Kubelet step")]
        assert all(f"`{image}`" in section for image in hop.images)
        assert f"/usr/local/bin/kubeadm-{hop.dest} upgrade plan {hop.dest}" in section
        assert "rollout status deployment/coredns" in section and "nslookup kubernetes.default" in section
        assert "--dry-run=server" in section


def test_force_exactly_where_kup081_says(plan, report):
    forced = {f.hop for f in report.findings if f.rule_id == "KUP081"}
    assert forced == {"1.16", "1.17", "1.18", "1.19", "1.20", "1.21"}  # the upgrade log's -f from 1.16 on
    applies = re.findall(r"kubeadm-(v1\.\d+\.\d+) upgrade apply (v1\.\d+\.\d+)( -f)?\n", plan)
    assert [(a, b) for a, b, _ in applies] == [(h.dest, h.dest) for h in report.hops]
    assert {KubeVersion.parse(b).minor_string for _, b, force in applies if force} == forced


def test_the_115_blockers_come_before_the_115_apply(plan):
    apply115 = plan.index("upgrade apply v1.15.12")
    hop115 = plan.index("── Hop 1 of 7")
    assert hop115 < plan.index("--allow-privileged", hop115) < apply115
    assert hop115 < plan.index("LimitRange kube-system/limits refuses the CoreDNS pods") < apply115


def test_every_blocker_of_the_report_is_in_the_runbook(plan, report):
    body = _squash(plan)
    for f in report.findings:
        if f.severity is Severity.ERROR:
            assert _squash(f.message) in body, f.message


def test_the_kubelet_step_is_last_and_warns_of_restarts(plan):
    step = plan.index("── Kubelet step")
    assert step > plan.rindex(" upgrade apply v")
    tail = plan[step:]
    assert "https://github.com/kubernetes/kubernetes/issues/63814" in tail
    assert "https://github.com/containerd/containerd/pull/7845" in tail
    for node in ("master-1", "worker-1", "worker-2"):
        assert f"kubectl drain {node} --ignore-daemonsets" in tail and f"kubectl uncordon {node}" in tail
    worker1 = tail[tail.index("worker-1:"):tail.index("worker-2:")]
    order = [worker1.index(s) for s in ("kubectl drain", "upgrade node", "--allow-privileged", "VolumeSubpathEnvExpansion",
                                        "install -m 0755", "daemon-reload", "kubectl uncordon")]
    assert order == sorted(order)
    assert "--allow-privileged" not in tail[tail.index("worker-2:"):]  # worker-2's kubelet has no such flag


def test_other_control_plane_nodes_get_kubeadm_upgrade_node_and_stacked_etcd_is_said(report):
    plan = render_runbook(report, ClusterShape(("cp-1", "cp-2"), ("w-1",), etcd_external=False))
    assert plan.count("/usr/local/bin/kubeadm-v1.17.17 upgrade node") == 1
    assert "each other control-plane node (cp-2)" in plan
    assert "etcd is stacked" in plan and "on cp-1" in plan and "/etc/kubernetes/pki/etcd/ca.crt" in plan


def test_hand_edits_a_hop_drops_are_listed_at_that_hop(report):
    edit = Finding("KUP100", "kubeadm-manifest-hand-edit", "control-plane-config", Severity.WARNING, "1.16",
                   "kube-apiserver's manifest sets GODEBUG=x509ignoreCN=0, which kubeadm does not render", "Move it.",
                   Location(node="master-1", file="/etc/kubernetes/manifests/kube-apiserver.yaml", line=9))
    plan = render_runbook(dataclasses.replace(report, findings=report.findings + (edit,)), SHAPE)
    hop16 = plan[plan.index("── Hop 2 of 7"):plan.index("── Hop 3 of 7")]
    drops = hop16[hop16.index("Hand edits this hop drops:"):hop16.index("Commands:")]
    assert "GODEBUG=x509ignoreCN=0" in drops and "ClusterConfiguration" in drops
    assert "none found" in plan[plan.index("── Hop 1 of 7"):plan.index("── Hop 2 of 7")]


def test_what_was_not_checked_is_said_first(plan, report):
    assert report.coverage.not_checked
    for line in report.coverage.not_checked:
        assert _squash(f"NOT CHECKED: {line}") in _squash(plan[:plan.index("── Step 0")])


def test_the_text_fits_100_columns(plan):
    assert max(len(line) for line in plan.splitlines()) <= 100


def test_markdown_renders(report):
    md = render_runbook(report, SHAPE, "markdown")
    tokens = MarkdownIt().parse(md)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2"]
    assert headings[0].startswith("Not checked") and headings[1].startswith("Step 0")
    assert headings[2:9] == [f"Hop {i} of 7: {h.source} → {h.dest}" for i, h in enumerate(report.hops, start=1)]
    assert headings[-1].startswith("Kubelet step")
    fences = [t.content for t in tokens if t.type == "fence"]
    assert any("upgrade apply v1.16.15 -f" in f for f in fences)
    assert not [t for t in tokens if t.type in ("html_block", "html_inline")]
    html = MarkdownIt().render(md)
    assert "&lt;service&gt;" in html and "<li>" in html


def test_a_stdout_that_is_not_utf8_gets_the_runbook_in_ascii():
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONIOENCODING="ascii")
    result = subprocess.run([sys.executable, "-m", "kupgrade_lint", "plan", "--target", "v1.21.14", "--snapshot", str(SEED)],
                            capture_output=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert b"Hop 1 of 7: v1.14.5 -> v1.15.12" in result.stdout and b"Traceback" not in result.stderr
