"""collect_node against fake node root filesystems (kubespray and kubeadm layouts)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kupgrade_lint.collectors.node import collect_node
from kupgrade_lint.errors import CollectionError

KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEplantedkeymaterial\n-----END RSA PRIVATE KEY-----\n"
ADMIN_CONF = """apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: Q0FDRVJU
    server: https://10.0.0.1:6443
  name: kubernetes
contexts:
- context: {cluster: kubernetes, user: kubernetes-admin}
  name: kubernetes-admin@kubernetes
current-context: kubernetes-admin@kubernetes
users:
- name: kubernetes-admin
  user:
    client-certificate-data: Q0xJRU5UQ0VSVA==
    client-key-data: node-client-key-planted
    token: node-token-planted
"""


def _write(root: Path, path: str, text: str) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


@pytest.fixture
def kubespray_root(tmp_path: Path) -> Path:
    root = tmp_path / "kubespray-node"
    _write(root, "/etc/hostname", "localhost-image\n")
    _write(root, "/etc/kubernetes/kubelet.env", 'KUBELET_HOSTNAME="--hostname-override=node1"\nKUBE_ALLOW_PRIV="--allow-privileged=true"\n')
    _write(root, "/etc/kubernetes/kubelet-config.yaml", "kind: KubeletConfiguration\n")  # not in the list: not copied
    _write(root, "/etc/kubernetes/kubeadm-images.env", "KUBE_VERSION=v1.14.5\n")
    _write(root, "/etc/systemd/system/kubelet.service", "[Service]\nEnvironmentFile=-/etc/kubernetes/kubelet.env\nExecStart=/usr/local/bin/kubelet $KUBELET_HOSTNAME\n")
    _write(root, "/etc/kubernetes/manifests/kube-apiserver.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver}\n")
    _write(root, "/etc/kubernetes/admin.conf", ADMIN_CONF)
    _write(root, "/etc/kubernetes/ssl/apiserver-key.pem", KEY)
    _write(root, "/etc/containerd/config.toml", '[plugins."io.containerd.grpc.v1.cri".registry.configs."r".auth]\n  password = "containerd-pw-planted"\n')
    return root


@pytest.fixture
def kubeadm_root(tmp_path: Path) -> Path:
    root = tmp_path / "kubeadm-node"
    _write(root, "/etc/hostname", "master-1\n")
    _write(root, "/var/lib/kubelet/kubeadm-flags.env", 'KUBELET_KUBEADM_ARGS="--network-plugin=cni --pod-infra-container-image=k8s.gcr.io/pause:3.1"\n')
    _write(root, "/var/lib/kubelet/config.yaml", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n")
    _write(root, "/var/lib/kubelet/pki/kubelet-client-current.pem", KEY)
    _write(root, "/etc/default/kubelet", "KUBELET_EXTRA_ARGS=--feature-gates=CSIMigration=false\n")
    _write(root, "/usr/lib/systemd/system/kubelet.service", "[Service]\nExecStart=/usr/bin/kubelet\n")
    _write(
        root,
        "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
        "[Service]\nEnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\nExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_KUBEADM_ARGS\n",
    )
    _write(root, "/etc/kubernetes/manifests/etcd.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: etcd}\n")
    _write(root, "/etc/kubernetes/admin.conf", ADMIN_CONF)
    _write(root, "/root/.kube/config", ADMIN_CONF)
    _write(root, "/etc/kubernetes/pki/ca.key", KEY)
    _write(root, "/etc/kubernetes/pki/sa.key", KEY)
    # A static pod manifest that is really a link into the PKI directory, and /lib -> usr/lib.
    os.symlink("/etc/kubernetes/pki/sa.key", root / "etc/kubernetes/manifests/evil.yaml")
    os.symlink("usr/lib", root / "lib")
    return root


def _files(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): p.read_text() for p in sorted(out.rglob("*")) if p.is_file()}


def _no_secrets(out: Path) -> None:
    for rel, text in _files(out).items():
        for needle in ("PRIVATE KEY", "plantedkeymaterial", "node-client-key-planted", "node-token-planted", "containerd-pw-planted"):
            assert needle not in text, (needle, rel)


def test_kubespray_node(kubespray_root, tmp_path):
    out = tmp_path / "out"
    summary = collect_node(kubespray_root, out)
    files = _files(out)
    node = "nodes/node1"  # from --hostname-override, not /etc/hostname
    assert set(files) == {
        f"{node}/etc/kubernetes/kubelet.env",
        f"{node}/etc/kubernetes/kubeadm-images.env",
        f"{node}/etc/systemd/system/kubelet.service",
        f"{node}/etc/kubernetes/manifests/kube-apiserver.yaml",
        f"{node}/etc/kubernetes/admin.conf",
        f"{node}/etc/containerd/config.toml",
        "kupgrade-snapshot.json",
    }
    assert files[f"{node}/etc/kubernetes/kubelet.env"].startswith('KUBELET_HOSTNAME="--hostname-override=node1"')
    admin = files[f"{node}/etc/kubernetes/admin.conf"]
    assert "client-key-data: REDACTED" in admin and "token: REDACTED" in admin
    assert "client-certificate-data: Q0xJRU5UQ0VSVA==" in admin and "server: https://10.0.0.1:6443" in admin
    _no_secrets(out)
    assert summary.objects_written == 6 and summary.errors == ()


def test_kubeadm_node(kubeadm_root, tmp_path):
    out = tmp_path / "out"
    summary = collect_node(kubeadm_root, out)
    files = _files(out)
    node = "nodes/master-1"  # from /etc/hostname
    assert {
        f"{node}/var/lib/kubelet/kubeadm-flags.env",
        f"{node}/var/lib/kubelet/config.yaml",
        f"{node}/etc/default/kubelet",
        f"{node}/usr/lib/systemd/system/kubelet.service",
        f"{node}/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
        f"{node}/lib/systemd/system/kubelet.service",  # the same unit through the /lib link
        f"{node}/etc/kubernetes/manifests/etcd.yaml",
        f"{node}/etc/kubernetes/admin.conf",
        f"{node}/root/.kube/config",
    } <= set(files)
    assert not [f for f in files if "/pki/" in f or f.endswith("evil.yaml")]
    _no_secrets(out)
    errors = json.loads(files["kupgrade-snapshot.json"])["collection_errors"]
    assert errors == [
        {
            "what": "copy /etc/kubernetes/manifests/evil.yaml from node master-1",
            "reason": "it points into /etc/kubernetes/pki/sa.key, which is never read (private keys)",
        }
    ]
    assert summary.errors == tuple(errors)


def test_node_name_argument_wins(kubespray_root, tmp_path):
    collect_node(kubespray_root, tmp_path, node_name="given")
    assert (tmp_path / "nodes/given/etc/kubernetes/kubelet.env").is_file()


def test_file_holding_a_private_key_is_never_copied(tmp_path):
    root = tmp_path / "root"
    _write(root, "/etc/hostname", "n\n")
    _write(root, "/etc/kubernetes/manifests/bad.yaml", "apiVersion: v1\nkind: Pod\n# " + KEY)
    summary = collect_node(root, tmp_path / "out")
    assert not (tmp_path / "out/nodes/n/etc/kubernetes/manifests/bad.yaml").exists()
    assert any(e["reason"] == "it holds a private key; never copied" for e in summary.errors)


def test_links_cannot_escape_root(tmp_path):
    outside = tmp_path / "outside.env"
    outside.write_text("SECRET=outside-root\n")
    root = tmp_path / "root"
    _write(root, "/etc/hostname", "n\n")
    (root / "etc/kubernetes").mkdir(parents=True)
    os.symlink("../../../../outside.env", root / "etc/kubernetes/escape.env")
    os.symlink(str(outside), root / "etc/kubernetes/abs.env")
    collect_node(root, tmp_path / "out")
    texts = "".join(p.read_text() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert "outside-root" not in texts


def test_no_node_name_and_no_root(tmp_path):
    with pytest.raises(CollectionError, match="not a directory"):
        collect_node(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CollectionError, match="cannot tell the node name"):
        collect_node(tmp_path / "empty", tmp_path / "out")


def test_reduced_node_files_give_the_same_findings_on_the_same_lines(tmp_path):
    """The seed's node files through collect node: what the checks read survives, line for line."""
    import shutil
    import subprocess
    import sys

    from tests.conftest import SEED

    copy = tmp_path / "seed"
    shutil.copytree(SEED, copy)
    shutil.rmtree(copy / "nodes")
    changed = 0
    for node in sorted((SEED / "nodes").iterdir()):
        summary = collect_node(node, tmp_path / node.name, node_name=node.name)
        assert summary.errors == ()
        shutil.copytree(tmp_path / node.name / "nodes" / node.name, copy / "nodes" / node.name)
        for file in (copy / "nodes" / node.name).rglob("*"):
            if file.is_file():
                reduced, original = file.read_text(), (SEED / file.relative_to(copy)).read_text()
                assert len(reduced.splitlines()) == len(original.splitlines()), file
                changed += reduced != original

    def findings(snapshot: Path) -> list[tuple]:
        run = subprocess.run([sys.executable, "-m", "kupgrade_lint", "scan", "--snapshot", str(snapshot), "--target", "v1.21.14", "-o", "json"],
                             capture_output=True, text=True, check=False)
        return [(f["rule_id"], f["location"].get("node"), f["location"].get("file"), f["location"].get("line"), f["message"]) for f in json.loads(run.stdout)["findings"]]

    assert changed  # comments, unit keys and kubeconfig credentials were dropped...
    assert findings(copy) == findings(SEED)  # ...and nothing the checks read


def test_public_certificates_of_the_pki_directories_are_copied_and_nothing_else(tmp_path):
    """For their expiry (rule KUP037): *.crt of /etc/kubernetes/pki (and pki/etcd, ssl), CERTIFICATE blocks only."""
    from tests.test_rule_cases import make_certificate

    root = tmp_path / "node"
    cert = make_certificate("san", "kubernetes")
    _write(root, "/etc/hostname", "master-1\n")
    _write(root, "/etc/kubernetes/pki/apiserver.crt", cert)
    _write(root, "/etc/kubernetes/pki/etcd/server.crt", cert)
    _write(root, "/etc/kubernetes/pki/apiserver.key", KEY)
    _write(root, "/etc/kubernetes/pki/front-proxy-client.crt", cert + KEY)  # a key where a certificate belongs
    _write(root, "/etc/kubernetes/pki/sa.pub", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    out = tmp_path / "out"
    collect_node(root, out)
    files = {str(p.relative_to(out)): p.read_text() for p in out.rglob("*") if p.is_file()}
    assert files["nodes/master-1/etc/kubernetes/pki/apiserver.crt"] == cert
    assert files["nodes/master-1/etc/kubernetes/pki/etcd/server.crt"] == cert
    assert not [f for f in files if f.endswith((".key", ".pub", "front-proxy-client.crt"))]
    _no_secrets(out)
    reasons = {e["what"]: e["reason"] for e in json.loads(files["kupgrade-snapshot.json"])["collection_errors"]}
    assert reasons["copy /etc/kubernetes/pki/front-proxy-client.crt from node master-1"] == "it holds a private key; never copied"
