"""No planted secret reaches any byte written: snapshots, every report format, stderr.

Unique markers are planted in every place a secret was found to leak (issue: a Secret inside a
``kind: List`` of a Helm manifest, an unparseable Secret document, INI/TOML/JSON node configs,
the kubelet's staticPodURLHeader, kubeconfig exec args/env, credential keys in kube-system
ConfigMaps, an unparseable kubeconfig, a hard link into the PKI directory, passwords in URLs),
raw and base64 where the place holds base64. Three paths are run: live (``collect`` and a live
``scan`` against the fake apiserver), offline (``collect node --root`` and ``scan --snapshot``)
and ``scan --manifests`` (where only the finding boundary stands between a check and a URL).
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kupgrade_lint.cli import app
from kupgrade_lint.collectors.allowlist import REDACTED
from kupgrade_lint.collectors.cluster import collect_cluster
from kupgrade_lint.collectors.redact import (
    certificates_only,
    redact_containerd_toml,
    redact_env_file,
    redact_kubeconfig_text,
    redact_unit_file,
    sanitize_manifest,
    sanitize_object,
)
from kupgrade_lint.reporters import RENDERERS
from kupgrade_lint.urls import strip_userinfo

from .world import PLANTED, WANTED, b64, helm3_payload

runner = CliRunner()

# One marker per place; each must be absent from every byte written.
LIVE = {
    "helm_list_secret_raw": "mk-helm-list-secret-stringdata-01",
    "helm_list_secret_b64": "mk-helm-list-secret-data-02",
    "helm_unparseable_secret": "mk-helm-unparseable-secret-03",
    "helm_comment": "mk-helm-rendered-comment-04",
    "cm_credential_key": "mk-kube-system-cm-credential-05",
    "cm_kubeconfig_exec_arg": "mk-cm-kubeconfig-exec-arg-06",
    "cm_kubeconfig_exec_env": "mk-cm-kubeconfig-exec-env-07",
    "cm_unparseable_kubeconfig": "mk-cm-unparseable-kubeconfig-08",
    "cm_kubeconfig_server_password": "mk-cm-server-url-password-09",
    "cm_static_pod_url_header": "mk-cm-static-pod-url-header-10",
    "env_value": "mk-pod-env-value-11",
    "env_url_password": "mk-pod-env-url-password-12",
    "master_flag_password": "mk-pod-master-flag-password-13",
    "last_applied_env": "mk-last-applied-env-value-14",
    "prometheus_basic_auth": "mk-prometheus-basic-auth-15",
    "container_arg_value": "mk-container-arg-value-16",
    "container_command_script": "mk-container-command-script-17",
}
NODE = {
    "containerd_password": "mk-containerd-registry-password-21",
    "containerd_auth": "mk-containerd-registry-auth-22",
    "crio_password": "mk-crio-registry-password-23",
    "docker_daemon_auth": "mk-docker-daemon-json-auth-24",
    "cloud_config_password": "mk-cloud-config-ini-password-25",
    "kubelet_static_pod_url_header": "mk-kubelet-static-pod-url-header-26",
    "kubeconfig_exec_arg": "mk-kubeconfig-exec-arg-27",
    "kubeconfig_exec_env": "mk-kubeconfig-exec-env-28",
    "kubeconfig_token": "mk-kubeconfig-token-29",
    "kubeconfig_auth_provider": "mk-kubeconfig-auth-provider-30",
    "kubeconfig_server_password": "mk-kubeconfig-server-url-password-31",
    "unparseable_kubeconfig_token": "mk-unparseable-kubeconfig-token-32",
    "hard_link_pki": "mk-hard-link-into-pki-33",
    "symlink_pki": "mk-symlink-into-pki-34",
    "static_pod_env": "mk-static-pod-env-value-35",
    "static_pod_master_password": "mk-static-pod-master-password-36",
    "env_file_secret": "mk-env-file-secret-37",
    "env_file_master_password": "mk-env-file-master-password-38",
    "unit_environment_secret": "mk-unit-environment-secret-39",
    "unit_other_key": "mk-unit-other-key-40",
    "yaml_comment": "mk-yaml-comment-41",
    "symlink_pki_yaml": "mk-symlink-into-pki-yaml-42",
    "key_file_yaml": "mk-key-file-elsewhere-43",
    "pem_in_annotation": "mk-pem-private-key-in-manifest-44",
    "static_pod_client_arg": "mk-static-pod-client-arg-45",
}
MANIFEST = {"manifest_master_password": "mk-manifest-master-password-51", "manifest_env_url_password": "mk-manifest-env-url-password-52"}


def _forms(marker: str) -> set[bytes]:
    raw = marker.encode()
    once = base64.b64encode(raw)
    return {raw, once, base64.b64encode(once)}


def _assert_absent(markers: dict[str, str], written: dict[str, bytes]) -> None:
    assert written
    leaks = [
        f"{name} in {where}"
        for name, marker in markers.items()
        for where, data in written.items()
        for form in _forms(marker)
        if form in data
    ]
    assert not leaks, leaks


def _tree(root: Path, label: str) -> dict[str, bytes]:
    return {f"{label}/{p.relative_to(root).as_posix()}": p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- what the fake cluster holds ---------------------------------------------------------------------

KUBECONFIG_WITH_EXEC = f"""apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: http://proxy-user:{LIVE["cm_kubeconfig_server_password"]}@10.0.0.1:8080
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: get-token
      args: ["--secret", "{LIVE["cm_kubeconfig_exec_arg"]}"]
      env:
      - name: TOKEN
        value: {LIVE["cm_kubeconfig_exec_env"]}
"""


def _plant_live(cluster) -> None:
    """Add the live markers to a populated fake cluster."""
    secret_list = (
        "---\n# Source: web/templates/secrets.yaml\napiVersion: v1\nkind: List\nitems:\n"
        f"- apiVersion: v1\n  kind: Secret\n  metadata: {{name: listed}}\n  stringData: {{token: {LIVE['helm_list_secret_raw']}}}\n"
        f"  data: {{password: {b64(LIVE['helm_list_secret_b64'])}}}\n"
        "---\n# Source: web/templates/broken.yaml\napiVersion: v1\nkind: Secret\nstringData:\n"
        f"  token: {LIVE['helm_unparseable_secret']}\n  bad: [unclosed\n"
        f"---\n# Source: web/templates/cm.yaml\n# password was {LIVE['helm_comment']}\napiVersion: v1\nkind: ConfigMap\n"
        "metadata: {name: listed-cm}\ndata: {a: b}\n"
    )
    release = helm3_payload("lists", "apps", 1, "deployed", secret_list, {})
    cluster.add("secrets", {
        "type": "helm.sh/release.v1",
        "metadata": {"name": "sh.helm.release.v1.lists.v1", "namespace": "apps", "labels": {"owner": "helm", "name": "lists", "status": "deployed", "version": "1"}},
        "data": {"release": b64(release)},
    })
    for cm in cluster.objects["configmaps"]:
        name = cm["metadata"]["name"]
        if name == "kube-proxy":
            cm["data"]["credentials"] = f"password: {LIVE['cm_credential_key']}\n"
            cm["data"]["exec.conf"] = KUBECONFIG_WITH_EXEC
            cm["data"]["broken.conf"] = f"users: [\n  token: {LIVE['cm_unparseable_kubeconfig']}\n"
        if name.startswith("kubelet-config"):
            cm["data"]["kubelet"] = (
                "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                f"staticPodURLHeader:\n  Authorization: ['Bearer {LIVE['cm_static_pod_url_header']}']\n"
            )
        if name == "coredns":
            cm["data"]["prometheus.yaml"] = (
                "scrape_configs:\n- job_name: kube-scheduler\n  static_configs: [{targets: ['10.0.0.1:10251']}]\n"
                f"  basic_auth: {{username: prom, password: {LIVE['prometheus_basic_auth']}}}\n"
            )
    container = {
        "name": "client",
        "image": "client:1",
        "command": ["sh", "-c", f"exporter --token {LIVE['container_command_script']}"],
        "args": [f"--master=http://admin:{LIVE['master_flag_password']}@10.0.0.1:8080", f"--db-password={LIVE['container_arg_value']}"],
        "env": [
            {"name": "DB_PASSWORD", "value": LIVE["env_value"]},
            {"name": "KUBERNETES_MASTER", "value": f"http://admin:{LIVE['env_url_password']}@10.0.0.1:8080"},
            {"name": "GODEBUG", "value": "x509ignoreCN=0"},
        ],
    }
    applied = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "client", "namespace": "apps"},
               "spec": {"template": {"spec": {"containers": [{"name": "client", "env": [{"name": "API_KEY", "value": LIVE["last_applied_env"]}]}]}}}}
    cluster.add("deployments", {
        "metadata": {"name": "client", "namespace": "apps", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied)}},
        "spec": {"template": {"metadata": {"labels": {"app": "client"}}, "spec": {"containers": [container]}}},
    })


@pytest.fixture
def planted_cluster(fake_cluster):
    env = fake_cluster("v1.14")
    _plant_live(env.cluster)
    return env


def test_live_collect_and_scan_write_no_planted_secret(planted_cluster, tmp_path, monkeypatch):
    written: dict[str, bytes] = {}
    snap = tmp_path / "snap"
    result = runner.invoke(app, ["collect", "--kubeconfig", str(planted_cluster.kubeconfig), "--to", str(snap)])
    assert result.exit_code == 0, result.stderr
    written.update(_tree(snap, "collect"))
    written["collect stdout+stderr"] = result.output.encode() + result.stderr.encode()

    # A live scan collects into a temporary directory: keep it to read it.
    kept = tmp_path / "live-tmp"
    kept.mkdir()

    class KeptDirectory(tempfile.TemporaryDirectory):
        def __init__(self, *args, **kwargs):
            kwargs["dir"] = str(kept)
            super().__init__(*args, **kwargs)

        def cleanup(self):
            pass

    monkeypatch.setattr(tempfile, "TemporaryDirectory", KeptDirectory)
    for fmt in RENDERERS:
        live = runner.invoke(app, ["scan", "--kubeconfig", str(planted_cluster.kubeconfig), "--target", "v1.21.14", "-o", fmt])
        assert live.exit_code == 1, live.stderr
        written[f"live scan -o {fmt}"] = live.stdout.encode() + live.stderr.encode()
    written.update(_tree(kept, "live scan snapshot"))
    reports = {}
    for fmt in RENDERERS:
        offline = runner.invoke(app, ["scan", "--snapshot", str(snap), "--target", "v1.21.14", "-o", fmt])
        written[f"offline scan -o {fmt}"] = offline.stdout.encode() + offline.stderr.encode()
        reports[fmt] = offline.stdout
    _assert_absent(LIVE | PLANTED, written)

    # The markers were really there to be found: what carried them is in the snapshot, reduced.
    report = json.loads(reports["json"])
    messages = [f["message"] for f in report["findings"]]
    assert any("http://10.0.0.1:8080" in m and "client" in m for m in messages), messages  # the URL, without its password
    assert any("lists" in m and "not valid YAML" in m for m in messages), messages  # the dropped document is named
    helm = (snap / "helm/apps/lists.yaml").read_text()
    assert "kind: Secret" in helm and "token: REDACTED" in helm and "# Source: web/templates/secrets.yaml" in helm
    cms = {c["metadata"]["name"]: c for c in json.loads((snap / "cluster/core/v1/configmaps.kube-system.json").read_text())["items"]}
    proxy = cms["kube-proxy"]
    assert proxy["data"]["credentials"] == REDACTED and proxy["data"]["broken.conf"] == REDACTED
    assert proxy["metadata"]["annotations"]["kupgrade-lint.io/redacted-keys"] == "broken.conf,credentials"
    assert "kind: KubeProxyConfiguration" in proxy["data"]["config.conf"]  # what the checks read stays
    assert "server: http://10.0.0.1:8080" in proxy["data"]["exec.conf"] and "command: get-token" in proxy["data"]["exec.conf"]
    assert "10.0.0.1:10251" in cms["coredns"]["data"]["prometheus.yaml"]
    deployments = json.loads((snap / "cluster/apps/v1/deployments.json").read_text())["items"]
    env = {e["name"]: e["value"] for d in deployments if d["metadata"]["name"] == "client" for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env == {"DB_PASSWORD": REDACTED, "KUBERNETES_MASTER": "http://10.0.0.1:8080", "GODEBUG": "x509ignoreCN=0"}
    client = next(d for d in deployments if d["metadata"]["name"] == "client")["spec"]["template"]["spec"]["containers"][0]
    assert client["command"] == ["sh", "-c", REDACTED]
    assert client["args"] == ["--master=http://10.0.0.1:8080", f"--db-password={REDACTED}"]


# -- a node ---------------------------------------------------------------------------------------------

KEY_PEM = "-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----\n"


def _write(root: Path, path: str, text: str) -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


def make_planted_node(root: Path) -> Path:
    """A kubeadm control-plane node root with a marker in every place a secret can hide."""
    n = NODE
    _write(root, "/etc/hostname", "master-1\n")
    _write(root, "/etc/containerd/config.toml", (
        'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "k8s.gcr.io/pause:3.1"\n'
        '[plugins."io.containerd.grpc.v1.cri".registry.configs."r.example.com".auth]\n'
        f'  username = "u"\n  password = "{n["containerd_password"]}"\n  auth = "{b64(n["containerd_auth"])}"\n'
    ))
    _write(root, "/etc/crio/crio.conf", f'[crio.image]\nglobal_auth_file = "/x"\npassword = "{n["crio_password"]}"\n')
    _write(root, "/etc/docker/daemon.json", json.dumps({"auths": {"r": {"auth": b64("u:" + n["docker_daemon_auth"])}}}))
    _write(root, "/etc/kubernetes/cloud.conf", f"[Global]\nuser = admin\npassword = {n['cloud_config_password']}\n")
    _write(root, "/var/lib/kubelet/config.yaml", (
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nfeatureGates: {CSIMigration: false}\n"
        f"staticPodURLHeader:\n  Authorization:\n  - Bearer {n['kubelet_static_pod_url_header']}\n"
    ))
    _write(root, "/etc/kubernetes/admin.conf", f"""apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster:
    server: http://admin:{n['kubeconfig_server_password']}@10.0.0.1:8080   # {n['yaml_comment']}
    certificate-authority-data: Q0FDRVJU
contexts:
- {{name: admin, context: {{cluster: kubernetes, user: admin}}}}
current-context: admin
users:
- name: admin
  user:
    client-certificate-data: Q0xJRU5UQ0VSVA==
    token: {n['kubeconfig_token']}
    auth-provider:
      name: oidc
      config: {{id-token: {n['kubeconfig_auth_provider']}}}
    exec:
      command: aws
      args:
      - --secret={n['kubeconfig_exec_arg']}
      env:
      - {{name: AWS_SECRET_ACCESS_KEY, value: {n['kubeconfig_exec_env']}}}
""")
    _write(root, "/etc/kubernetes/broken.conf", f"users: [\n  token: {n['unparseable_kubeconfig_token']}\n")
    pki = _write(root, "/etc/kubernetes/pki/tokens.env", f'TOKEN="--token={n["hard_link_pki"]}"\n')
    os.link(pki, root / "etc/kubernetes/leak.env")
    _write(root, "/etc/kubernetes/pki/sa.key", KEY_PEM.format(n["symlink_pki"]))
    (root / "etc/kubernetes/manifests").mkdir(parents=True, exist_ok=True)
    os.symlink("/etc/kubernetes/pki/sa.key", root / "etc/kubernetes/manifests/evil.yaml")
    # Valid manifests behind links: only the PKI directory and *.key refusals keep them out.
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {{name: {}}}\n"
    _write(root, "/etc/kubernetes/pki/pod.yaml", pod.format(n["symlink_pki_yaml"]))
    os.symlink("../pki/pod.yaml", root / "etc/kubernetes/manifests/evil2.yaml")
    _write(root, "/opt/keys/pod.key", pod.format(n["key_file_yaml"]))
    os.symlink("/opt/keys/pod.key", root / "etc/kubernetes/manifests/evil3.yaml")
    pem = json.dumps(KEY_PEM.format(n["pem_in_annotation"]))
    _write(root, "/etc/kubernetes/manifests/with-key.yaml", f"apiVersion: v1\nkind: Pod\nmetadata: {{name: k, annotations: {{k: {pem}}}}}\n")
    _write(root, "/etc/kubernetes/manifests/kube-apiserver.yaml", f"""apiVersion: v1
kind: Pod
metadata: {{name: kube-apiserver, namespace: kube-system}}
spec:
  containers:
  - name: kube-apiserver
    image: k8s.gcr.io/kube-apiserver:v1.14.5
    command:
    - kube-apiserver
    - --insecure-port=8080
    - --advertise-address=10.0.0.1
    env:
    - name: ETCD_PASSWORD
      value: {n['static_pod_env']}
  - name: client
    image: client:1
    args: ["--master=http://admin:{n['static_pod_master_password']}@10.0.0.1:8080", "--password", "{n['static_pod_client_arg']}"]
""")
    _write(root, "/etc/kubernetes/kubelet.env", (
        'KUBELET_HOSTNAME="--hostname-override=master-1"\n'
        f"AWS_SECRET={n['env_file_secret']}\n"
        f'KUBELET_API_SERVER="--api-servers=http://admin:{n["env_file_master_password"]}@10.0.0.1:8080"\n'
    ))
    _write(root, "/etc/systemd/system/kubelet.service", (
        f"[Unit]\nDescription={n['unit_other_key']}\n[Service]\nEnvironmentFile=-/etc/kubernetes/kubelet.env\n"
        f'Environment="KUBELET_EXTRA=--v=2" "SECRET={n["unit_environment_secret"]}"\n'
        "ExecStart=/usr/local/bin/kubelet $KUBELET_HOSTNAME $KUBELET_API_SERVER $KUBELET_EXTRA\n"
    ))
    return root


def test_offline_collect_node_and_scan_write_no_planted_secret(tmp_path):
    root = make_planted_node(tmp_path / "node")
    snap = tmp_path / "snap"
    result = runner.invoke(app, ["collect", "node", "--root", str(root), "--to", str(snap)])
    assert result.exit_code == 0, result.stderr
    written = _tree(snap, "collect node")
    written["collect node stdout+stderr"] = result.output.encode() + result.stderr.encode()
    reports = {}
    for fmt in RENDERERS:
        scan = runner.invoke(app, ["scan", "--snapshot", str(snap), "--target", "v1.21.14", "-o", fmt])
        assert scan.exit_code == 1, scan.stderr
        written[f"scan -o {fmt}"] = scan.stdout.encode() + scan.stderr.encode()
        reports[fmt] = scan.stdout
    _assert_absent(NODE, written)

    # Refused files are named; what the checks read is still there and still judged.
    errors = {e["what"]: e["reason"] for e in json.loads((snap / "kupgrade-snapshot.json").read_text())["collection_errors"]}
    assert "hard link" in errors["copy /etc/kubernetes/leak.env from node master-1"]
    assert "not copied" in errors["copy /etc/kubernetes/cloud.conf from node master-1"]
    assert "not valid YAML" in errors["copy /etc/kubernetes/broken.conf from node master-1"]
    for link in ("evil", "evil2", "evil3"):
        assert "never read" in errors[f"copy /etc/kubernetes/manifests/{link}.yaml from node master-1"]
    assert "private key" in errors["copy /etc/kubernetes/manifests/with-key.yaml from node master-1"]
    node = snap / "nodes/master-1"
    assert not (node / "etc/crio").exists() and not (node / "etc/docker").exists()
    assert (node / "etc/containerd/config.toml").read_text().endswith('sandbox_image = "k8s.gcr.io/pause:3.1"\n')
    admin = (node / "etc/kubernetes/admin.conf").read_text()
    assert "server: http://10.0.0.1:8080" in admin and "command: aws" in admin and "token: REDACTED" in admin
    assert len(admin.splitlines()) == len((root / "etc/kubernetes/admin.conf").read_text().splitlines())
    findings = json.loads(reports["json"])["findings"]
    rules = {f["rule_id"] for f in findings}
    assert {"KUP010", "KUP031", "KUP090"} <= rules
    insecure = [f["message"] for f in findings if "http://10.0.0.1:8080" in f["message"]]
    assert insecure, [f["message"] for f in findings]  # the kubeconfig and the client are still reported


def test_manifest_scan_findings_never_carry_a_url_password(tmp_path):
    manifest = tmp_path / "client.yaml"
    manifest.write_text(f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: client, namespace: apps}}
spec:
  template:
    spec:
      containers:
      - name: client
        image: client:1
        args: ["--master=http://admin:{MANIFEST['manifest_master_password']}@10.0.0.1:8080"]
        env:
        - {{name: KUBERNETES_MASTER, value: "http://admin:{MANIFEST['manifest_env_url_password']}@10.0.0.1:8080"}}
""")
    written = {}
    for fmt in RENDERERS:
        scan = runner.invoke(app, ["scan", "--manifests", str(manifest), "--current", "v1.19.5", "--target", "v1.21.14", "-o", fmt])
        written[f"scan -o {fmt}"] = scan.stdout.encode() + scan.stderr.encode()
    _assert_absent(MANIFEST, written)
    assert b"http://10.0.0.1:8080" in written["scan -o json"]  # the check did fire, with the URL


# -- the pieces -----------------------------------------------------------------------------------------


def test_kubeconfig_keeps_only_the_allow_list_and_its_lines():
    text = """apiVersion: v1
kind: Config
users:
- name: admin
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
    token: abc
    password: hunter2
    username: bob
"""
    out = redact_kubeconfig_text(text)
    for secret in ("S0VZ", "abc", "hunter2", "bob"):
        assert secret not in out
    assert "client-certificate-data: Q0VSVA==" in out
    assert len(out.splitlines()) == len(text.splitlines())


def test_unparseable_kubeconfig_is_refused():
    with pytest.raises(ValueError, match="not valid YAML"):
        redact_kubeconfig_text("users: [\n  token: abc\n")


def test_secret_objects_keep_identity_only():
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"data":{"p":"eA=="}}'}},
        "data": {"p": "eA=="},
        "stringData": {"p": "x"},
        "extra": "y",
    }
    assert sanitize_object(secret) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "annotations": REDACTED},
        "data": {"p": REDACTED},
        "stringData": {"p": REDACTED},
        "extra": REDACTED,
    }


def test_manifest_documents_are_reduced_with_their_lines_and_source_comments():
    text = (
        "---\n# Source: a\nkind: Secret\napiVersion: v1\nmetadata: {name: s}\nstringData: {p: planted}\n"
        "---\n# Source: b\n# note: planted-too\nkind: Service   # comment planted\nmetadata: {name: svc}\n"
    )
    clean = sanitize_manifest(text)
    assert "planted" not in clean.text and "# Source: a" in clean.text and "# Source: b" in clean.text
    assert "kind: Service" in clean.text and clean.dropped == ()
    assert len(clean.text.splitlines()) == len(text.splitlines())


def test_certificates_only_drops_keys():
    pem = "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n-----BEGIN EC PRIVATE KEY-----\nBBB\n-----END EC PRIVATE KEY-----\n"
    assert certificates_only(pem) == "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n"


def test_containerd_config_keeps_only_allowed_settings():
    text = '[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "p:3.1"\n[plugins."io.containerd.grpc.v1.cri".registry.configs."r".auth]\n  username = "u"\n  password = "p4ss"\n'
    out = redact_containerd_toml(text)
    assert "p4ss" not in out and "username" not in out
    assert '[plugins."io.containerd.grpc.v1.cri"]\nsandbox_image = "p:3.1"\n' in out


def test_env_files_keep_flag_values_only_and_their_lines():
    text = 'A="--x=1 \\\n--y=2"\nB=secret\n# C=also-secret\nD=$A\nnot an assignment\n'
    assert redact_env_file(text) == f'A="--x=1 \\\n--y=2"\nB={REDACTED}\n\nD=$A\n\n'


def test_units_keep_what_the_kubelet_command_line_needs():
    text = '[Service]\nUser=root\nEnvironment="A=--v=2" "B=hunter2"\nExecStart=/bin/kubelet \\\n  $A\n'
    out = redact_unit_file(text)
    assert out == f'[Service]\nUser={REDACTED}\nEnvironment="A=--v=2" "B={REDACTED}"\nExecStart=/bin/kubelet \\\n  $A\n'


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("http://user:pass@host:8080/x", "http://host:8080/x"),
        ("--master=https://a:b@c@10.0.0.1", "--master=https://10.0.0.1"),
        ("see http://host/path?x=a@b", "see http://host/path?x=a@b"),
        ("mailto:user@example.com", "mailto:user@example.com"),
    ],
)
def test_userinfo_is_stripped_from_urls(text, clean):
    assert strip_userinfo(text) == clean


def test_the_snapshot_of_both_eras_holds_no_planted_secret(fake_cluster, tmp_path):
    for shape in ("v1.14", "v1.21"):
        env = fake_cluster(shape)
        out = tmp_path / shape
        collect_cluster(out, kubeconfig=str(env.kubeconfig), wanted=WANTED)
        assert any(r.path == "/api/v1/secrets" for r in env.cluster.requests)
        files = _tree(out, shape)
        assert len(files) > 40
        key_pem = env.certs.webhook.key_pem
        key_body = b"".join(key_pem.splitlines()[1:-1])
        for where, data in files.items():
            assert b"PRIVATE KEY" not in data and key_body[:40] not in data, where
            if where.endswith(".json") and "/cluster/" in where:
                assert b'"kind": "Secret"' not in data, where
        _assert_absent(PLANTED, files)


def test_merged_node_snapshots_go_through_the_allow_list_again(tmp_path):
    from kupgrade_lint.collectors.merge import merge_snapshots
    from kupgrade_lint.collectors.node import collect_node

    # What collect node wrote passes unchanged: the reduction is idempotent.
    collected = tmp_path / "collected"
    collect_node(make_planted_node(tmp_path / "node"), collected)
    again = tmp_path / "again"
    merge_snapshots([collected], again)
    assert {k: v for k, v in _tree(again, "x").items() if "kupgrade-snapshot" not in k} == {
        k: v for k, v in _tree(collected, "x").items() if "kupgrade-snapshot" not in k
    }
    # A node snapshot made by anything else cannot bring in what collect node would not copy.
    foreign = tmp_path / "foreign"
    _write(foreign, "/nodes/n1/etc/kubernetes/admin.conf", f"apiVersion: v1\nkind: Config\nusers:\n- name: a\n  user: {{token: {NODE['kubeconfig_token']}}}\n")
    _write(foreign, "/nodes/n1/etc/shadow", f"root:{NODE['env_file_secret']}:19000::::::\n")
    out = tmp_path / "merged"
    summary = merge_snapshots([foreign], out)
    _assert_absent(NODE, _tree(out, "merged"))
    assert "token: REDACTED" in (out / "nodes/n1/etc/kubernetes/admin.conf").read_text()
    assert [e["what"] for e in summary.errors] == [f"merge nodes/n1/etc/shadow from {foreign}"]


def test_api_groups_named_like_configuration_groups_keep_their_fields():
    """flowcontrol.apiserver.k8s.io objects are API objects, not apiserver configuration files."""
    from kupgrade_lint.collectors.allowlist import is_component_config

    assert is_component_config({"apiVersion": "apiserver.config.k8s.io/v1", "kind": "EncryptionConfiguration"})
    assert is_component_config({"apiVersion": "apiserver.k8s.io/v1alpha1", "kind": "AdmissionConfiguration"})
    assert is_component_config({"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration"})
    assert not is_component_config({"apiVersion": "flowcontrol.apiserver.k8s.io/v1beta1", "kind": "FlowSchema"})
    assert not is_component_config({"apiVersion": "internal.apiserver.k8s.io/v1alpha1", "kind": "StorageVersion"})
