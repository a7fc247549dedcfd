"""The seed cluster served live by the fake apiserver: scan from the cluster = scan of what collect wrote.

The seed fixture's cluster objects are loaded into a v1.14-era fake apiserver (with the
Prometheus Operator CRD group and the shop/cart Helm 3 release), then scanned three ways: live
(`scan --kubeconfig`), offline from `collect --to DIR`, and with a restricted service account.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kupgrade_lint.cli import app
from kupgrade_lint.parsers.yaml_documents import load_documents
from tests.conftest import SEED

from .fakeapi import Fault
from .world import helm3_payload

runner = CliRunner()
MONITORING = [
    {"name": n, "singularName": "", "namespaced": True, "kind": k, "verbs": ["get", "list", "watch"]}
    for n, k in (("servicemonitors", "ServiceMonitor"), ("podmonitors", "PodMonitor"), ("prometheusrules", "PrometheusRule"), ("probes", "Probe"), ("prometheuses", "Prometheus"))
]


def _seed_objects() -> list[dict]:
    objects = []
    for file in sorted((SEED / "cluster").rglob("*")):
        if file.suffix not in (".yaml", ".json"):
            continue
        for doc in load_documents(file.read_text()):
            data = doc.data
            objects.extend(data["items"] if data.get("kind", "").endswith("List") and "items" in data else [data])
    return objects


def _plurals(cluster) -> dict[str, str]:
    plurals: dict[str, str] = {}
    for group in cluster.groups:
        for resources in group["versions"].values():
            for res in resources:
                if "/" not in res["name"]:
                    plurals.setdefault(res["kind"], res["name"])
    return plurals


def _serve_seed(env) -> None:
    cluster = env.cluster
    cluster.objects.clear()
    cluster.add_group("monitoring.coreos.com", "v1", MONITORING)
    plurals = _plurals(cluster)
    for obj in _seed_objects():
        cluster.add(plurals[obj["kind"]], json.loads(json.dumps(obj)))
    manifest = (SEED / "helm" / "shop" / "cart.yaml").read_text()
    cluster.add("secrets", {
        "apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
        "metadata": {"name": "sh.helm.release.v1.cart.v3", "namespace": "shop", "labels": {"owner": "helm", "name": "cart", "status": "deployed", "version": "3"}},
        "data": {"release": __import__("base64").b64encode(helm3_payload("cart", "shop", 3, "deployed", manifest, {"password": "hunter2"}).encode()).decode()},
    })


def _findings(stdout: str) -> list[tuple]:
    data = json.loads(stdout)
    return [(f["hop"], f["rule_id"], f["location"]["file"], f["location"]["kind"], f["location"]["namespace"], f["location"]["name"], f["evidence"], f["message"]) for f in data["findings"]]


@pytest.fixture
def live_seed(fake_cluster):
    env = fake_cluster("v1.14")
    _serve_seed(env)
    return env


def test_live_scan_reports_the_seed_cluster_side_and_matches_the_offline_scan(live_seed, tmp_path: Path):
    live = runner.invoke(app, ["scan", "--kubeconfig", str(live_seed.kubeconfig), "--target", "v1.21.14", "-o", "json"])
    assert live.exit_code == 1, live.stderr
    snap = tmp_path / "snap"
    collected = runner.invoke(app, ["collect", "--kubeconfig", str(live_seed.kubeconfig), "--to", str(snap)])
    assert collected.exit_code == 0, collected.stderr
    offline = runner.invoke(app, ["scan", "--snapshot", str(snap), "--target", "v1.21.14", "-o", "json"])
    assert _findings(live.stdout) == _findings(offline.stdout)

    found = {(hop, rule, kind, ns, name) for hop, rule, _, kind, ns, name, _, _ in _findings(live.stdout)}
    for expected in [
        ("1.15", "KUP041", "LimitRange", "kube-system", "limits"),
        ("1.16", "KUP001", "Deployment", "shop", "web"),
        ("1.16", "KUP001", "DaemonSet", "monitoring", "node-exporter"),
        ("1.16", "KUP001", "StatefulSet", "shop", "redis"),
        ("1.16", "KUP001", "ReplicaSet", "shop", "legacy-rs"),
        ("1.16", "KUP001", "NetworkPolicy", "shop", "deny-all"),
        ("1.16", "KUP001", "PodSecurityPolicy", None, "restricted"),
        ("1.16", "KUP001", "Deployment", None, "cart"),
        ("1.16", "KUP040", "ConfigMap", "kube-system", "coredns"),
        ("1.16", "KUP050", "ServiceMonitor", "monitoring", "kube-scheduler"),
        ("1.16", "KUP052", "PrometheusRule", "monitoring", "k8s-rules"),
        ("1.19", "KUP020", "ConfigMap", "kube-system", "kube-proxy"),
        ("1.19", "KUP020", "ConfigMap", "kube-system", "kubeadm-config"),
        ("1.20", "KUP010", "ConfigMap", "kube-system", "kubeadm-config"),
        ("1.20", "KUP051", "ServiceMonitor", "monitoring", "kubelet"),
        ("1.21", "KUP060", "Deployment", "ingress-nginx", "nginx-ingress-controller"),
        ("1.17", "KUP080", "Node", None, "master-1, worker-1, worker-2"),
    ]:
        assert expected in found, expected
    evidence = {(name, ev) for _, rule, _, _, _, name, ev, _ in _findings(live.stdout) if rule == "KUP001"}
    assert ("web", "last-applied-configuration (kubectl apply)") in evidence
    assert ("cart", "Helm release shop/cart") in evidence
    # The planted Helm value never reaches the snapshot.
    assert not any(b"hunter2" in p.read_bytes() for p in snap.rglob("*") if p.is_file())


def test_a_restricted_service_account_gets_a_partial_report_with_the_gaps_named(live_seed, tmp_path: Path):
    live_seed.cluster.faults.update({
        "/apis/monitoring.coreos.com/v1/prometheusrules": Fault(status=403, message='prometheusrules.monitoring.coreos.com is forbidden: User "system:serviceaccount:ops:reader" cannot list resource'),
        "/apis/apps/v1/deployments": Fault(status=403, message="deployments.apps is forbidden"),
    })
    result = runner.invoke(app, ["scan", "--kubeconfig", str(live_seed.kubeconfig), "--target", "v1.21.14", "-o", "json"])
    assert result.exit_code == 1
    assert "could not be collected" in result.stderr
    findings = json.loads(result.stdout)["findings"]
    gaps = [f["message"] for f in findings if f["rule_id"] == "KUP090"]
    assert any("prometheusrules" in m and "403" in m for m in gaps), gaps
    assert any("deployments" in m and "403" in m for m in gaps), gaps
    rules = {f["rule_id"] for f in findings}
    assert "KUP052" not in rules and "KUP060" not in rules  # those objects were not readable
    assert {"KUP040", "KUP020", "KUP051"} <= rules  # everything else still checked
