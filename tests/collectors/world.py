"""What the fake clusters hold: workloads, webhooks, Helm releases, and planted secrets."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kupgrade_lint.catalog import load_catalog
from kupgrade_lint.scan_needs import wanted_kinds

from .fakeapi import FakeCluster

# What the CLI asks the collector to list, from the built-in catalog and the checks.
CATALOG = load_catalog()
WANTED = wanted_kinds(CATALOG)


@dataclass(frozen=True)
class Planted:
    """An object planted for a kind the catalog knows, managed through one of its removed versions."""

    kind: str
    namespace: str | None
    name: str
    api_version: str | None  # the removed version its evidence names (None: no removed version left)
    evidence: str  # "last-applied-configuration" or "managedFields"

# Strings that must never appear in a snapshot, in any encoding.
PLANTED = {
    "secret_password": "S3cr3t-db-Passw0rd-planted",
    "helm_values_password": "helm-values-pw-planted-91",
    "helm_rendered_secret": "rendered-secret-planted-77",
    "helm2_values_password": "helm2-values-pw-planted-12",
    "sa_token": "eyJhbGciOi.sa-token-planted.sig",
    "configmap_kubeconfig_token": "cm-kubeconfig-token-planted-5",
    "configmap_last_applied_token": "cm-kubeconfig-token-planted-5",
    "apiserver_bearer_token": "collector-bearer-token-planted",
}


@dataclass(frozen=True)
class KeyPair:
    cert_pem: bytes
    key_pem: bytes
    cert_file: Path
    key_file: Path
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def make_cert(directory: Path, name: str, *, sans: list[x509.GeneralName], issuer: tuple | None = None, ca: bool = False) -> KeyPair:
    """A P-256 certificate (self-signed, or signed by ``issuer`` = (cert, key))."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[0].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    # Key identifiers as real CAs (and kubeadm) write them; Python 3.13 verifies strictly (RFC 5280).
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    signer_public = issuer[1].public_key() if issuer else key.public_key()
    builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_public), critical=False)
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                          key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True,
        )
    cert = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    cert_file, key_file = directory / f"{name}.crt", directory / f"{name}.key"
    cert_file.write_bytes(cert_pem)
    key_file.write_bytes(key_pem)
    return KeyPair(cert_pem, key_pem, cert_file, key_file, cert, key)


def b64(data: str | bytes) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def helm3_payload(name: str, namespace: str, version: int, status: str, manifest: str, values: dict) -> str:
    """``data.release`` as Helm 3 stores it in a ConfigMap: base64(gzip(JSON))."""
    release = {
        "name": name,
        "namespace": namespace,
        "version": version,
        "info": {"status": status, "description": "Install complete"},
        "chart": {"metadata": {"name": name, "version": "1.0.0"}, "values": values},
        "config": values,
        "manifest": manifest,
    }
    return b64(gzip.compress(json.dumps(release).encode(), mtime=0))


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value: int | bytes | str) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def helm2_payload(name: str, namespace: str, version: int, status_code: int, manifest: str, values_raw: str) -> str:
    """``data.release`` as Tiller stores it: base64(gzip(protobuf hapi.release.Release))."""
    status = _field(1, status_code) + _field(2, "notes are ignored")
    info = _field(1, status) + _field(5, "Upgrade complete")
    config = _field(1, values_raw)
    chart = _field(1, _field(1, name) + _field(5, "1.0.0"))  # chart.metadata.name/version
    release = (
        _field(1, name)
        + _field(2, info)
        + _field(3, chart)
        + _field(4, config)
        + _field(5, manifest)
        + _field(7, version)
        + _field(8, namespace)
    )
    return b64(gzip.compress(release, mtime=0))


LAST_APPLIED_DEPLOYMENT = json.dumps(
    {
        "apiVersion": "extensions/v1beta1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "apps"},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.15"}]}}},
    }
)

MANAGED_FIELDS = [
    {
        "manager": "kubectl",
        "operation": "Update",
        "apiVersion": "extensions/v1beta1",
        "time": "2020-01-01T00:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:replicas": {}}},
    }
]

KUBE_PROXY_KUBECONFIG = f"""apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
    server: https://10.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    token: {PLANTED["configmap_kubeconfig_token"]}
"""


def _meta(name: str, namespace: str | None = None, **extra: object) -> dict:
    meta: dict = {"name": name, "creationTimestamp": "2020-01-01T00:00:00Z"}
    if namespace:
        meta["namespace"] = namespace
    meta.update(extra)
    return meta


def populate(cluster: FakeCluster, *, webhook_tls: KeyPair, url_webhook_port: int, closed_port: int) -> None:
    """Fill a fake cluster with one of everything the collector reads (and some it must not)."""
    minor = cluster.git_version.split(".")[1]
    new = cluster.shape != "v1.14"
    add = cluster.add
    for ns in ("default", "kube-system", "apps", "webhooks", "monitoring"):
        add("namespaces", {"metadata": _meta(ns), "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
    for node in ("master-1", "worker-1"):
        add("nodes", {"metadata": _meta(node), "status": {"nodeInfo": {"kubeletVersion": cluster.git_version}}})
    # Seven pods in apps: more than two pages at the fake server's page cap of 3.
    for i in range(7):
        add(
            "pods",
            {
                "metadata": _meta(f"web-{i}", "apps", labels={"app": "web"}),
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx:1.15",
                            "securityContext": {"privileged": i == 0},
                            "env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
                        }
                    ]
                },
            },
        )
    add(
        "pods",
        {
            "metadata": _meta("hook-0", "webhooks", labels={"app": "hook"}),
            "spec": {
                "containers": [{"name": "hook", "image": "hook:1"}],
                "volumes": [
                    {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
                    {"name": "certs", "secret": {"secretName": "hook-tls"}},
                ],
            },
        },
    )
    add("services", {"metadata": _meta("kubernetes", "default"), "spec": {"ports": [{"port": 443}]}})
    add("services", {"metadata": _meta("hook-svc", "webhooks"), "spec": {"selector": {"app": "hook"}, "ports": [{"port": 443}]}})
    add(
        "deployments",
        {
            "metadata": _meta(
                "web",
                "apps",
                annotations={"kubectl.kubernetes.io/last-applied-configuration": LAST_APPLIED_DEPLOYMENT + "\n"},
                managedFields=MANAGED_FIELDS,
            ),
            "spec": {"replicas": 2},
        },
    )
    add("daemonsets", {"metadata": _meta("agent", "kube-system"), "spec": {}})
    add("statefulsets", {"metadata": _meta("db", "apps"), "spec": {}})
    add("replicasets", {"metadata": _meta("web-5d4f", "apps"), "spec": {}})
    add("jobs", {"metadata": _meta("migrate", "apps"), "spec": {}})
    add("cronjobs", {"metadata": _meta("backup", "apps"), "spec": {"schedule": "@daily"}})
    add("ingresses", {"metadata": _meta("web", "apps"), "spec": {}})
    add("networkpolicies", {"metadata": _meta("deny", "apps"), "spec": {}})
    add("podsecuritypolicies", {"metadata": _meta("restricted"), "spec": {"privileged": False}})
    add("limitranges", {"metadata": _meta("limits", "apps"), "spec": {"limits": []}})
    add("resourcequotas", {"metadata": _meta("quota", "apps"), "spec": {"hard": {"pods": "10"}}})
    add(
        "validatingwebhookconfigurations",
        {
            "metadata": _meta("hook"),
            "webhooks": [
                {
                    "name": "validate.hook.example.com",
                    "clientConfig": {"service": {"namespace": "webhooks", "name": "hook-svc"}, "caBundle": b64(webhook_tls.cert_pem)},
                }
            ],
        },
    )
    add(
        "mutatingwebhookconfigurations",
        {
            "metadata": _meta("external"),
            "webhooks": [
                {"name": "mutate.external.example.com", "clientConfig": {"url": f"https://127.0.0.1:{url_webhook_port}/mutate"}},
                {"name": "gone.external.example.com", "clientConfig": {"url": f"https://127.0.0.1:{closed_port}/gone"}},
            ],
        },
    )
    add("apiservices", {"metadata": _meta("v1.apps"), "spec": {"group": "apps", "version": "v1"}})
    add(
        "apiservices",
        {"metadata": _meta("v1beta1.metrics.k8s.io"), "spec": {"service": {"namespace": "kube-system", "name": "metrics-server"}}},
    )
    add(
        "customresourcedefinitions",
        {
            "metadata": _meta("servicemonitors.monitoring.coreos.com"),
            "spec": {"group": "monitoring.coreos.com", "names": {"plural": "servicemonitors", "kind": "ServiceMonitor"}},
            "status": {"storedVersions": ["v1"]},
        },
    )
    # Prometheus Operator objects, served from CRDs.
    mon = [
        {"name": n, "singularName": n[:-1], "namespaced": True, "kind": k, "verbs": ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"]}
        for n, k in (
            ("servicemonitors", "ServiceMonitor"),
            ("podmonitors", "PodMonitor"),
            ("prometheusrules", "PrometheusRule"),
            ("probes", "Probe"),
            ("prometheuses", "Prometheus"),
        )
    ]
    cluster.add_group("monitoring.coreos.com", "v1", mon)
    cluster.add_group(
        "metrics.k8s.io",
        "v1beta1",
        [{"name": "pods", "singularName": "", "namespaced": True, "kind": "PodMetrics", "verbs": ["get", "list"]}],
    )
    add("servicemonitors", {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": _meta("web", "monitoring"), "spec": {}})
    add(
        "prometheuses",
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "Prometheus",
            "metadata": _meta("k8s", "monitoring"),
            "spec": {"additionalScrapeConfigs": {"name": "additional-scrape-configs", "key": "prometheus-additional.yaml"}},
        },
    )
    # kube-system ConfigMaps: the kubeadm ones are kept, others are not written.
    kubelet_cm = "kubelet-config" if int(minor) >= 24 else f"kubelet-config-1.{minor}"
    add("configmaps", {"metadata": _meta("kubeadm-config", "kube-system"), "data": {"ClusterConfiguration": "kind: ClusterConfiguration\n"}})
    add("configmaps", {"metadata": _meta(kubelet_cm, "kube-system"), "data": {"kubelet": "kind: KubeletConfiguration\n"}})
    add("configmaps", {"metadata": _meta("coredns", "kube-system"), "data": {"Corefile": ".:53 {\n    proxy . /etc/resolv.conf\n}\n"}})
    proxy_applied = json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-proxy", "namespace": "kube-system"}, "data": {"kubeconfig.conf": KUBE_PROXY_KUBECONFIG}}
    )
    add(
        "configmaps",
        {
            "metadata": _meta("kube-proxy", "kube-system", annotations={"kubectl.kubernetes.io/last-applied-configuration": proxy_applied}),
            "data": {"config.conf": "kind: KubeProxyConfiguration\nmode: iptables\n", "kubeconfig.conf": KUBE_PROXY_KUBECONFIG},
        },
    )
    add("configmaps", {"metadata": _meta("unrelated", "kube-system"), "data": {"note": "not collected"}})
    # Secrets of every sensitive kind.
    add("secrets", {"type": "Opaque", "metadata": _meta("db", "apps"), "data": {"password": b64(PLANTED["secret_password"])}})
    add(
        "secrets",
        {
            "type": "kubernetes.io/service-account-token",
            "metadata": _meta("default-token-abcde", "apps", annotations={"kubernetes.io/service-account.name": "default"}),
            "data": {"token": b64(PLANTED["sa_token"]), "ca.crt": b64(webhook_tls.cert_pem)},
        },
    )
    add(
        "secrets",
        {
            "type": "kubernetes.io/tls",
            "metadata": _meta("hook-tls", "webhooks"),
            "data": {"tls.crt": b64(webhook_tls.cert_pem), "tls.key": b64(webhook_tls.key_pem)},
        },
    )
    # Helm 3 (Secret driver): v1 superseded, v2 deployed; values and a rendered Secret hold secrets.
    manifest_v2 = (
        "---\n# Source: web/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: web-creds\n"
        f"data:\n  password: {b64(PLANTED['helm_rendered_secret'])}\n"
        "---\n# Source: web/templates/deployment.yaml\napiVersion: extensions/v1beta1\nkind: Deployment\n"
        "metadata:\n  name: web\nspec:\n  replicas: 2\n"
    )
    for version, status, manifest in (
        (1, "superseded", "---\napiVersion: apps/v1beta1\nkind: Deployment\nmetadata:\n  name: web-old\n"),
        (2, "deployed", manifest_v2),
    ):
        payload = helm3_payload("web", "apps", version, status, manifest, {"db": {"password": PLANTED["helm_values_password"]}})
        add(
            "secrets",
            {
                "type": "helm.sh/release.v1",
                "metadata": _meta(f"sh.helm.release.v1.web.v{version}", "apps", labels={"owner": "helm", "name": "web", "status": status, "version": str(version)}),
                "data": {"release": b64(payload)},
            },
        )
    # Helm 3 (ConfigMap driver).
    add(
        "configmaps",
        {
            "metadata": _meta("sh.helm.release.v1.cm-release.v1", "monitoring", labels={"owner": "helm", "name": "cm-release", "status": "deployed", "version": "1"}),
            "data": {"release": helm3_payload("cm-release", "monitoring", 1, "deployed", "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-release\n", {})},
        },
    )
    # Helm 2 (Tiller ConfigMaps in kube-system): v3 deployed, v2 superseded.
    for version, code, status, image in ((2, 3, "SUPERSEDED", "old"), (3, 1, "DEPLOYED", "new")):
        add(
            "configmaps",
            {
                "metadata": _meta(f"legacy.v{version}", "kube-system", labels={"OWNER": "TILLER", "NAME": "legacy", "STATUS": status, "VERSION": str(version)}),
                "data": {
                    "release": helm2_payload(
                        "legacy",
                        "legacy-ns",
                        version,
                        code,
                        f"---\napiVersion: extensions/v1beta1\nkind: DaemonSet\nmetadata:\n  name: legacy-{image}\n",
                        f"password: {PLANTED['helm2_values_password']}\n",
                    )
                },
            },
        )
    cluster.planted = plant_catalog_kinds(cluster)
    cluster.metrics = (
        "# HELP apiserver_request_total Counter of apiserver requests.\n"
        "# TYPE apiserver_request_total counter\n"
        'apiserver_request_total{code="200",verb="LIST"} 42\n'
        "# HELP apiserver_requested_deprecated_apis [STABLE] Gauge of deprecated APIs that have been requested.\n"
        "# TYPE apiserver_requested_deprecated_apis gauge\n"
        'apiserver_requested_deprecated_apis{group="extensions",removed_release="1.16",resource="deployments",subresource="",version="v1beta1"} 1\n'
        if new
        else "# HELP apiserver_request_total Counter of apiserver requests.\n"
        "# TYPE apiserver_request_total counter\n"
        'apiserver_request_total{code="200",verb="LIST"} 42\n'
    )


def _served(cluster: FakeCluster, kind: str, groups: tuple[str, ...]) -> dict | None:
    for group in groups:
        g = cluster.group(group)
        for resources in (g or {}).get("versions", {}).values():
            for res in resources:
                if res["kind"] == kind and "/" not in res["name"] and "list" in res["verbs"]:
                    return res
    return None


def plant_catalog_kinds(cluster: FakeCluster) -> list[Planted]:
    """One object of every wanted kind the server serves and holds nothing of yet.

    Where the catalog knows a version of the kind removed after the server's minor, the object
    says it is managed through it, in turn by its last-applied-configuration and managedFields.
    """
    minor = int(cluster.git_version.split(".")[1])
    planted: list[Planted] = []
    for want in WANTED:
        res = _served(cluster, want.kind, want.groups)
        if res is None or cluster.objects.get(res["name"]):
            continue
        removed = sorted(
            (e for e in CATALOG.apis.values()
             if e.kind == want.kind and e.read_by == "kube-apiserver" and e.api_version in want.avoid
             and int(e.removed_in.split(".")[1]) > minor),
            key=lambda e: (int(e.removed_in.split(".")[1]), e.api_version),
        )
        namespace = "apps" if res["namespaced"] else None
        name = f"{want.kind.lower()}-legacy"
        meta = _meta(name, namespace)
        version = removed[0].api_version if removed else None
        evidence = "last-applied-configuration" if len(planted) % 2 == 0 else "managedFields"
        if version and evidence == "last-applied-configuration":
            applied = {"apiVersion": version, "kind": want.kind, "metadata": {"name": name, **({"namespace": namespace} if namespace else {})}}
            meta["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied)}
        elif version:
            meta["managedFields"] = [{"manager": "legacy-operator", "operation": "Update", "apiVersion": version,
                                      "time": "2020-01-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {}}}]
        obj: dict = {"metadata": meta}
        if want.kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
            obj["webhooks"] = []
        cluster.add(res["name"], obj)
        planted.append(Planted(want.kind, namespace, name, version, evidence))
    return planted
