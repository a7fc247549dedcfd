"""A live scan lists every kind the catalog knows that the cluster serves, reports what is managed
through a removed version with its evidence, and says in every format what it did not cover."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from kupgrade_lint.cli import app
from kupgrade_lint.collectors.cluster import collect_cluster

from .fakeapi import Fault
from .world import CATALOG, WANTED

runner = CliRunner()
NEWEST = CATALOG.known_minors()[-1]
REPORT_SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "kupgrade_lint/schemas/report.schema.json").read_text())
ROLES_403 = 'roles.rbac.authorization.k8s.io is forbidden: User "system:serviceaccount:ops:reader" cannot list resource "roles"'


def _scan(env, *args: str):
    return runner.invoke(app, ["scan", "--kubeconfig", str(env.kubeconfig), "--target", NEWEST, *args])


@pytest.mark.parametrize("shape", ["v1.14", "v1.21"])
def test_every_served_catalog_kind_is_listed_and_reported_with_its_evidence(fake_cluster, shape):
    env = fake_cluster(shape)
    planted = [p for p in env.cluster.planted if p.api_version]
    assert len(planted) >= 15  # RBAC, PriorityClass, PDB, HPA, StorageClass, CSI, Lease, Event, ...
    result = _scan(env, "-o", "json")
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.stdout)
    jsonschema.validate(report, REPORT_SCHEMA)
    found = {
        (f["location"]["kind"], f["location"]["namespace"], f["location"]["name"]): f
        for f in report["findings"]
        if f["rule_id"] == "KUP001" and (f["evidence"] or "").split(" ")[0] in ("managedFields", "last-applied-configuration")
    }
    for p in planted:
        finding = found.get((p.kind, p.namespace, p.name))
        assert finding is not None, p
        assert finding["evidence"].startswith(p.evidence) and p.api_version in finding["message"], (p, finding)
    listed = {r["kind"] for r in report["coverage"]["resources"] if r["status"] == "listed"}
    assert {p.kind for p in env.cluster.planted} - {"ConfigMap"} <= listed
    # Everything wanted has exactly one coverage entry.
    assert sorted(r["kind"] for r in report["coverage"]["resources"]) == sorted([w.kind for w in WANTED] + ["Secret"])


def _forbidden_env(fake_cluster):
    return fake_cluster("v1.21", faults={"/apis/rbac.authorization.k8s.io/v1/roles": Fault(status=403, message=ROLES_403)})


def test_forbidden_and_not_served_resources_are_named_in_json(fake_cluster):
    env = _forbidden_env(fake_cluster)
    report = json.loads(_scan(env, "-o", "json").stdout)
    jsonschema.validate(report, REPORT_SCHEMA)
    coverage = report["coverage"]
    by_kind = {r["kind"]: r for r in coverage["resources"]}
    assert coverage["cluster"] == "collected"
    assert by_kind["Role"]["status"] == "forbidden" and "403 Forbidden" in by_kind["Role"]["detail"]
    assert (by_kind["Role"]["group"], by_kind["Role"]["version"], by_kind["Role"]["resource"]) == ("rbac.authorization.k8s.io", "v1", "roles")
    assert by_kind["PodPreset"]["status"] == "not-served"  # settings.k8s.io is gone by v1.21
    assert by_kind["ServiceMonitor"]["status"] == "listed" and by_kind["ServiceMonitor"]["objects"] == 1
    assert by_kind["Secret"]["status"] == "partial" and by_kind["ConfigMap"]["status"] == "partial"
    assert coverage["nodes"] == []
    assert any("node files were NOT checked" in n and "collect node" in n and "--nodes" in n for n in coverage["not_checked"])
    assert any("Role (forbidden)" in n for n in coverage["not_checked"])
    assert coverage["tls_endpoints"] and coverage["registry_images"] == [] and coverage["audit_logs"] == []


def test_forbidden_and_not_served_resources_are_named_in_sarif(fake_cluster):
    env = _forbidden_env(fake_cluster)
    sarif = json.loads(_scan(env, "-o", "sarif").stdout)
    schema = json.loads((Path(__file__).resolve().parents[1] / "data/sarif-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    run = sarif["runs"][0]
    by_kind = {r["kind"]: r for r in run["properties"]["coverage"]["resources"]}
    assert by_kind["Role"]["status"] == "forbidden" and by_kind["PodPreset"]["status"] == "not-served"
    notes = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    assert any(n.startswith("not checked: node files were NOT checked") for n in notes)
    assert any(n.startswith("Role (rbac.authorization.k8s.io/v1 roles): forbidden: 403 Forbidden") for n in notes)


def test_forbidden_and_not_served_resources_are_named_near_the_top_of_the_text(fake_cluster):
    env = _forbidden_env(fake_cluster)
    text = _scan(env).stdout
    top = text.split("── hop to")[0]
    assert "NOT CHECKED: node files were NOT checked: kubelet flags, static pods" in top
    assert "not listed, forbidden: Role (rbac.authorization.k8s.io/v1 roles): 403 Forbidden" in top
    assert "not served by the cluster (nothing to check): " in top and "PodPreset" in top
    assert "nodes: no node files" in top


def test_node_snapshots_given_with_the_live_scan_are_named(fake_cluster, tmp_path):
    env = fake_cluster("v1.21")
    node = tmp_path / "master-1"
    (node / "nodes/master-1/etc/kubernetes").mkdir(parents=True)
    (node / "nodes/master-1/etc/kubernetes/kubelet.env").write_text("KUBELET_ARGS=--v=2\n")
    report = json.loads(_scan(env, "--nodes", str(node), "-o", "json").stdout)
    coverage = report["coverage"]
    assert coverage["nodes"] == ["master-1"]
    # The cluster has two Nodes (master-1, worker-1); only one sent its files.
    assert any(n.startswith("node files of worker-1 were NOT checked") for n in coverage["not_checked"]), coverage["not_checked"]


def test_one_list_request_per_resource_per_500_objects(fake_cluster, tmp_path):
    env = fake_cluster("v1.21", page_cap=500)
    for i in range(1001):
        env.cluster.add("serviceaccounts", {"metadata": {"name": f"sa-{i}", "namespace": "apps"}})
    env.cluster.requests.clear()
    collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), wanted=WANTED, concurrency=3)
    meta = json.loads((tmp_path / "kupgrade-snapshot.json").read_text())
    entries = meta["coverage"]["cluster"]["resources"]
    listed = [e for e in entries if e["status"] == "listed"]
    resource_requests = [r for r in env.cluster.requests if r.path.startswith(("/api/v1/", "/apis/")) and r.path.count("/") >= 3 + r.path.startswith("/apis/")]
    lists: dict[str, int] = {}
    for r in resource_requests:
        lists[r.path] = lists.get(r.path, 0) + 1
    by_name = [r.path for r in resource_requests if "limit" not in r.query]
    assert all(p.startswith("/api/v1/namespaces/") and "/secrets/" in p for p in by_name), by_name  # webhook certificates only
    list_paths = {p: n for p, n in lists.items() if p not in by_name}
    assert list_paths.pop("/api/v1/serviceaccounts") == 3  # 1002 objects: three pages of 500
    # ConfigMaps are read three ways (kube-system, Helm 3, Helm 2) and Secrets once (Helm 3): the rest once each.
    assert list_paths.pop("/api/v1/configmaps") == 2 and list_paths.pop("/api/v1/namespaces/kube-system/configmaps") == 1
    assert list_paths.pop("/api/v1/secrets") == 1
    assert set(list_paths.values()) == {1}
    assert len(list_paths) == len(listed) - 1  # serviceaccounts popped
    assert all(r.query.get("limit") == "500" for r in resource_requests if "limit" in r.query)
    assert env.cluster.max_in_flight <= 3


def test_custom_resources_a_user_catalog_marks_as_removed_are_listed(fake_cluster, tmp_path):
    env = fake_cluster("v1.21")
    env.cluster.add_group("cert-manager.io", "v1", [
        {"name": "certificates", "singularName": "certificate", "namespaced": True, "kind": "Certificate", "verbs": ["get", "list", "watch"]},
    ])
    env.cluster.add("certificates", {
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": "web-tls", "namespace": "apps", "managedFields": [
            {"manager": "cert-manager-old", "operation": "Update", "apiVersion": "cert-manager.io/v1alpha2", "fieldsType": "FieldsV1", "fieldsV1": {}}]},
    })
    user = tmp_path / "cert-manager.yaml"
    user.write_text(json.dumps({"apis": [{
        "api_version": "cert-manager.io/v1alpha2", "kind": "Certificate", "read_by": "kube-apiserver",
        "deprecated_in": None, "removed_in": "1.22", "replacement": "cert-manager.io/v1",
        "sources": ["https://cert-manager.io/docs/releases/upgrading/remove-deprecated-apis/"],
    }]}))
    without = tmp_path / "without"
    assert runner.invoke(app, ["collect", "--kubeconfig", str(env.kubeconfig), "--to", str(without)]).exit_code == 0
    assert not (without / "cluster/cert-manager.io").exists()
    snap = tmp_path / "snap"
    done = runner.invoke(app, ["collect", "--kubeconfig", str(env.kubeconfig), "--catalog", str(user), "--to", str(snap)])
    assert done.exit_code == 0, done.stderr
    assert (snap / "cluster/cert-manager.io/v1/certificates.json").is_file()
    report = json.loads(runner.invoke(app, ["scan", "--snapshot", str(snap), "--catalog", str(user), "--target", "1.22", "-o", "json"]).stdout)
    assert any(f["location"]["kind"] == "Certificate" and f["location"]["name"] == "web-tls" and f["hop"] == "1.22"
               and f["evidence"].startswith("managedFields") for f in report["findings"])
    assert {"kind": "Certificate", "group": "cert-manager.io", "version": "v1", "resource": "certificates", "status": "listed",
            "objects": 1, "detail": None} in report["coverage"]["resources"]
