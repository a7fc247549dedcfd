"""collect_cluster against the fake apiserver: what is written, through which versions, and
how failures of single resources become collection errors."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from kupgrade_lint.collectors.cluster import collect_cluster
from kupgrade_lint.errors import CollectionError

from .fakeapi import Fault
from .world import LAST_APPLIED_DEPLOYMENT, MANAGED_FIELDS, WANTED


def _items(snapshot: Path, rel: str) -> list[dict]:
    doc = json.loads((snapshot / rel).read_text())
    assert doc["kind"] == "List"
    return doc["items"]


def _meta(snapshot: Path) -> dict:
    return json.loads((snapshot / "kupgrade-snapshot.json").read_text())


def _errors(snapshot: Path) -> dict[str, str]:
    return {e["what"]: e["reason"] for e in _meta(snapshot)["collection_errors"]}


def _resource_paths(env) -> list[str]:
    """Paths of resource (not discovery) requests the collector made."""
    out = []
    for r in env.cluster.requests:
        segs = r.path.strip("/").split("/")
        if (segs[0] == "api" and len(segs) > 2) or (segs[0] == "apis" and len(segs) > 3):
            out.append(r.path)
    return out


EXPECTED_FILES = {
    # resource file -> (v1.14 location, v1.21 location)
    "deployments": ("cluster/apps/v1/deployments.json",) * 2,
    "cronjobs": ("cluster/batch/v1beta1/cronjobs.json", "cluster/batch/v1/cronjobs.json"),
    "ingresses": ("cluster/networking.k8s.io/v1beta1/ingresses.json", "cluster/networking.k8s.io/v1/ingresses.json"),
    "networkpolicies": ("cluster/networking.k8s.io/v1/networkpolicies.json",) * 2,
    "podsecuritypolicies": ("cluster/policy/v1beta1/podsecuritypolicies.json",) * 2,
    "webhooks": (
        "cluster/admissionregistration.k8s.io/v1beta1/validatingwebhookconfigurations.json",
        "cluster/admissionregistration.k8s.io/v1/validatingwebhookconfigurations.json",
    ),
    "crds": (
        "cluster/apiextensions.k8s.io/v1beta1/customresourcedefinitions.json",
        "cluster/apiextensions.k8s.io/v1/customresourcedefinitions.json",
    ),
}


@pytest.mark.parametrize("shape", ["v1.14", "v1.21"])
def test_collects_everything_through_preferred_versions(fake_cluster, tmp_path, shape):
    env = fake_cluster(shape)
    out = tmp_path / "snap"
    summary = collect_cluster(out, kubeconfig=str(env.kubeconfig), wanted=WANTED)

    index = 0 if shape == "v1.14" else 1
    for locations in EXPECTED_FILES.values():
        assert (out / locations[index]).is_file(), locations[index]
    # Nothing is listed through the deprecated extensions group when another group serves it.
    assert not [p for p in _resource_paths(env) if p.startswith("/apis/extensions/")]
    # Every item carries apiVersion and kind of the version it was listed through.
    deployment = _items(out, "cluster/apps/v1/deployments.json")[0]
    assert (deployment["apiVersion"], deployment["kind"]) == ("apps/v1", "Deployment")
    assert {p["metadata"]["name"] for p in _items(out, "cluster/core/v1/pods.json")} >= {f"web-{i}" for i in range(7)}
    crd = _items(out, EXPECTED_FILES["crds"][index])[0]
    assert crd["status"]["storedVersions"] == ["v1"]
    assert _items(out, "cluster/monitoring.coreos.com/v1/servicemonitors.json")[0]["metadata"]["name"] == "web"
    # Prometheus objects are listed since the monitoring check reads their remoteWrite relabelings.
    assert (out / "cluster/monitoring.coreos.com/v1/prometheuses.json").exists()
    # What nothing reads is not listed (no check reads ResourceQuotas), and the record says what was.
    assert not (out / "cluster/core/v1/resourcequotas.json").exists()
    coverage = {(e["kind"], e["status"]) for e in _meta(out)["coverage"]["cluster"]["resources"]}
    assert {("Deployment", "listed"), ("ServiceMonitor", "listed"), ("ConfigMap", "partial"), ("Secret", "partial")} <= coverage
    assert ("PodPreset", "not-served") in coverage
    # kube-system: only the kubeadm ConfigMaps.
    names = {c["metadata"]["name"] for c in _items(out, "cluster/core/v1/configmaps.kube-system.json")}
    assert names == {"kubeadm-config", "kube-proxy", "coredns", f"kubelet-config-1.{shape.split('.')[1]}"}
    # Discovery documents are kept, kubectl-style.
    apis = json.loads((out / "discovery/apis.json").read_text())
    assert apis["kind"] == "APIGroupList" and apis["apiVersion"] == "v1"
    assert json.loads((out / "discovery/api.json").read_text())["apiVersion"] == "v1"
    meta = _meta(out)
    assert meta["format_version"] == 1
    assert meta["server_version"]["gitVersion"] == env.cluster.git_version
    # The only errors: the URL webhook whose port is closed, and the aggregated API whose Service
    # the fake cluster does not have (so its serving certificate could not be read).
    errors = _errors(out)
    assert sorted(errors) == sorted(
        [next(w for w in errors if "gone.external.example.com" in w), "read the serving certificate of APIService/v1beta1.metrics.k8s.io (metrics-server.kube-system.svc:443)"]
    )
    assert errors["read the serving certificate of APIService/v1beta1.metrics.k8s.io (metrics-server.kube-system.svc:443)"] == "service kube-system/metrics-server does not exist"
    assert summary.pages > summary.resources_listed  # pods took several pages
    assert summary.objects_written > 30
    assert len(summary.errors) == 2


def test_evidence_of_management_is_kept(fake_cluster, tmp_path):
    env = fake_cluster("v1.21")
    collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), wanted=WANTED)
    deployment = _items(tmp_path, "cluster/apps/v1/deployments.json")[0]
    meta = deployment["metadata"]
    assert meta["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] == LAST_APPLIED_DEPLOYMENT + "\n"
    assert meta["managedFields"] == MANAGED_FIELDS


def test_pagination_follows_continue_tokens(fake_cluster, tmp_path):
    env = fake_cluster("v1.21", page_cap=2)
    collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), wanted=WANTED)
    pod_requests = [r for r in env.cluster.requests if r.path == "/api/v1/pods"]
    assert len(pod_requests) == 4  # 8 pods, 2 per page
    assert all(r.query["limit"] == "500" for r in pod_requests)
    assert "continue" not in pod_requests[0].query and all("continue" in r.query for r in pod_requests[1:])
    assert len(_items(tmp_path, "cluster/core/v1/pods.json")) == 8


@pytest.mark.parametrize("inconsistent", [True, False], ids=["inconsistent-token", "restart"])
def test_expired_continue_token(fake_cluster, tmp_path, inconsistent):
    env = fake_cluster("v1.21", faults={"/api/v1/pods": Fault(expire_continue=1, inconsistent_token=inconsistent)})
    collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), wanted=WANTED)
    statuses = [r.status for r in env.cluster.requests if r.path == "/api/v1/pods"]
    assert 410 in statuses
    names = [p["metadata"]["name"] for p in _items(tmp_path, "cluster/core/v1/pods.json")]
    assert len(names) == len(set(names)) == 8
    assert not [w for w in _errors(tmp_path) if "pods" in w]


def test_forbidden_resource_becomes_a_collection_error(fake_cluster, tmp_path):
    message = 'cronjobs.batch is forbidden: User "system:serviceaccount:x:y" cannot list resource "cronjobs" in API group "batch" at the cluster scope'
    env = fake_cluster("v1.21", faults={"/apis/batch/v1/cronjobs": Fault(status=403, message=message)})
    summary = collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), wanted=WANTED)
    errors = _errors(tmp_path)
    assert errors["list batch/v1 cronjobs in all namespaces"] == f"403 Forbidden: {message}"
    assert not (tmp_path / "cluster/batch/v1/cronjobs.json").exists()
    assert (tmp_path / "cluster/batch/v1/jobs.json").is_file()
    # 403 is final: asked once.
    assert [r.status for r in env.cluster.requests if r.path == "/apis/batch/v1/cronjobs"] == [403]
    assert {"what": "list batch/v1 cronjobs in all namespaces", "reason": f"403 Forbidden: {message}"} in summary.errors


def test_missing_resource_404_and_metrics_403(fake_cluster, tmp_path):
    env = fake_cluster(
        "v1.21",
        faults={
            "/apis/apps/v1/statefulsets": Fault(status=404, message="the server could not find the requested resource"),
            "/metrics": Fault(status=403, message='forbidden: User "x" cannot get path "/metrics"'),
        },
    )
    collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), wanted=WANTED)
    errors = _errors(tmp_path)
    assert errors["list apps/v1 statefulsets in all namespaces"].startswith("404 Not Found: ")
    assert errors["read the apiserver metrics (/metrics)"].startswith("403 Forbidden: ")
    assert not (tmp_path / "metrics").exists()


def test_throttled_then_success_honours_retry_after(fake_cluster, tmp_path):
    env = fake_cluster("v1.21", faults={"/api/v1/nodes": Fault(status=429, times=1, retry_after="1", message="Too many requests")})
    start = time.monotonic()
    collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), wanted=WANTED)
    assert time.monotonic() - start >= 1.0
    assert [r.status for r in env.cluster.requests if r.path == "/api/v1/nodes"] == [429, 200]
    assert len(_items(tmp_path, "cluster/core/v1/nodes.json")) == 2
    assert not [w for w in _errors(tmp_path) if "nodes" in w]


def test_slow_response_times_out_after_retries(fake_cluster, tmp_path):
    env = fake_cluster("v1.21", faults={"/apis/batch/v1/jobs": Fault(delay=1.0)})
    start = time.monotonic()
    collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), wanted=WANTED, timeout=0.3, concurrency=8)
    assert time.monotonic() - start < 6
    reason = _errors(tmp_path)["list batch/v1 jobs in all namespaces"]
    assert "timed out" in reason.lower() and "after 3 attempts" in reason
    assert (tmp_path / "cluster/batch/v1/cronjobs.json").is_file()


def test_broken_json_response(fake_cluster, tmp_path):
    env = fake_cluster("v1.21", faults={"/apis/apps/v1/daemonsets": Fault(truncated=True)})
    collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), wanted=WANTED)
    reason = _errors(tmp_path)["list apps/v1 daemonsets in all namespaces"]
    assert reason.startswith("invalid JSON in the response")
    assert (tmp_path / "cluster/apps/v1/deployments.json").is_file()


def test_unavailable_aggregated_api(fake_cluster, tmp_path):
    env = fake_cluster("v1.21", faults={"/apis/metrics.k8s.io/v1beta1": Fault(status=503, message="service unavailable")})
    collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), wanted=WANTED)
    assert _errors(tmp_path)["discover resources of metrics.k8s.io/v1beta1"].startswith("503 Service Unavailable: ")
    assert (tmp_path / "cluster/apps/v1/deployments.json").is_file()


def test_unauthorized_is_fatal(fake_cluster, tmp_path):
    env = fake_cluster("v1.21")
    env.cluster.token = "another-token"
    with pytest.raises(CollectionError, match="refused the credentials: 401 Unauthorized"):
        collect_cluster(tmp_path / "snap", kubeconfig=str(env.kubeconfig), wanted=WANTED)
    assert len(env.cluster.requests) == 1  # nothing else is tried


def test_missing_kubeconfig_is_fatal(tmp_path):
    with pytest.raises(CollectionError, match="cannot load the Kubernetes configuration"):
        collect_cluster(tmp_path, kubeconfig=str(tmp_path / "nope"), wanted=WANTED)


def test_unreachable_server_is_fatal(fake_cluster, tmp_path):
    env = fake_cluster("v1.21")
    text = env.kubeconfig.read_text().replace(env.server.url, "https://127.0.0.1:9")
    env.kubeconfig.write_text(text)
    with pytest.raises(CollectionError, match="cannot connect to https://127.0.0.1:9"):
        collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), wanted=WANTED, timeout=1)


def test_helm_releases_keep_only_the_deployed_manifest(fake_cluster, tmp_path):
    env = fake_cluster("v1.14")
    collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), wanted=WANTED)
    web = (tmp_path / "helm/apps/web.yaml").read_text()
    assert "kind: Deployment" in web and "name: web\n" in web and "web-old" not in web
    assert "# Source: web/templates/deployment.yaml" in web
    # The rendered Secret keeps its identity and key names; its values are gone.
    assert "kind: Secret" in web and "  password: REDACTED\n" in web
    assert "name: legacy-new" in (tmp_path / "helm/legacy-ns/legacy.yaml").read_text()  # Helm 2
    assert "name: cm-release" in (tmp_path / "helm/monitoring/cm-release.yaml").read_text()  # ConfigMap driver
    assert sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "helm").rglob("*.yaml")) == [
        "helm/apps/web.yaml",
        "helm/legacy-ns/legacy.yaml",
        "helm/monitoring/cm-release.yaml",
    ]
    # Only deployed release records were asked for.
    selectors = {r.query.get("labelSelector") for r in env.cluster.requests if r.path in ("/api/v1/secrets", "/api/v1/configmaps")}
    assert selectors == {"owner=helm,status=deployed", "OWNER=TILLER,STATUS=DEPLOYED"}


def test_webhook_certificates(fake_cluster, tmp_path):
    env = fake_cluster("v1.21")
    collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), wanted=WANTED)
    service_pem = (tmp_path / "tls/hook-svc.webhooks.svc_443.pem").read_text()
    assert service_pem == env.certs.webhook.cert_pem.decode()
    url_pem = (tmp_path / f"tls/127.0.0.1_{env.url_webhook_port}.pem").read_text()
    assert url_pem.startswith("-----BEGIN CERTIFICATE-----")
    from cryptography import x509

    assert x509.load_pem_x509_certificate(url_pem.encode()) == x509.load_pem_x509_certificate(env.certs.url_webhook.cert_pem)
    reason = next(r for w, r in _errors(tmp_path).items() if "gone.external.example.com" in w)
    assert reason.startswith("TLS handshake failed")
    # The TLS Secret was read by name, never listed for this.
    assert any(r.path == "/api/v1/namespaces/webhooks/secrets/hook-tls" for r in env.cluster.requests)


def test_metrics_keep_only_deprecated_api_family(fake_cluster, tmp_path):
    env = fake_cluster("v1.21")
    collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), wanted=WANTED)
    text = (tmp_path / "metrics/kube-apiserver.txt").read_text()
    assert 'apiserver_requested_deprecated_apis{group="extensions"' in text
    assert "apiserver_request_total" not in text


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal(fake_cluster, tmp_path):
    env = fake_cluster("v1.21")
    quiet, loud = io.StringIO(), _TTY()
    collect_cluster(tmp_path / "a", kubeconfig=str(env.kubeconfig), wanted=WANTED, progress=quiet)
    collect_cluster(tmp_path / "b", kubeconfig=str(env.kubeconfig), wanted=WANTED, progress=loud)
    assert quiet.getvalue() == ""
    assert "resources listed" in loud.getvalue() and "pages" in loud.getvalue()


def test_only_get_requests(fake_cluster, tmp_path):
    env = fake_cluster("v1.14")
    collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), wanted=WANTED)
    assert {r.method for r in env.cluster.requests} == {"GET"}
    assert not [r for r in env.cluster.requests if "watch" in r.query]
