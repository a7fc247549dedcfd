"""The model of what kubeadm renders (rules/kubeadm.yaml + kupgrade_lint/kubeadm_render.py)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from kupgrade_lint.catalog import Catalog, load_catalog
from kupgrade_lint.errors import CatalogError
from kupgrade_lint.engine import ScanRequest, scan
from kupgrade_lint.kubeadm_render import ClusterInputs, KubeadmModel
from kupgrade_lint.settings import ComponentConfig
from kupgrade_lint.snapshot.loader import load_inputs
from kupgrade_lint.versions import KubeVersion

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "seed-cluster"


@functools.lru_cache(maxsize=None)
def _catalog() -> Catalog:
    return load_catalog()


def _render(component: str, version: str, data: dict | None = None):
    model = KubeadmModel(_catalog())
    inputs = ClusterInputs.from_cluster_configuration(data or {"kind": "ClusterConfiguration"})
    return model.render(component, inputs, KubeVersion.parse(version))


@pytest.mark.parametrize(
    ("version", "port"),
    [("v1.16.12", False), ("v1.16.13", True), ("v1.17.8", False), ("v1.17.9", True), ("v1.18.6", True), ("v1.19.0", True), ("v1.22.17", True), ("v1.23.0", False)],
)
def test_port_0_follows_the_release_and_its_backports(version: str, port: bool):
    assert ("port" in _render("kube-scheduler", version).flags) is port
    assert ("port" in _render("kube-controller-manager", version).flags) is port


def test_extra_args_override_kubeadm_defaults_and_placeholders_are_filled():
    data = {
        "kind": "ClusterConfiguration",
        "certificatesDir": "/etc/kubernetes/ssl",
        "networking": {"dnsDomain": "lac.local", "serviceSubnet": "10.233.0.0/18"},
        "apiServer": {"extraArgs": {"insecure-port": "8080"}},
    }
    render = _render("kube-apiserver", "v1.20.15", data)
    assert render.flags["insecure-port"].value == "8080" and render.flags["insecure-port"].from_extra_args
    assert render.flags["client-ca-file"].value == "/etc/kubernetes/ssl/ca.crt"
    assert render.flags["service-account-issuer"].value == "https://kubernetes.default.svc.lac.local"
    assert render.flags["advertise-address"].value is None  # per node: unknown without ClusterStatus
    assert "service-account-issuer" not in _render("kube-apiserver", "v1.19.16", data).flags


def test_image_and_probe_of_a_version():
    data = {"kind": "ClusterConfiguration", "imageRepository": "myregistry/google-containers"}
    assert _render("kube-scheduler", "v1.16.15", data).image == "myregistry/google-containers/kube-scheduler:v1.16.15"
    assert _render("kube-scheduler", "v1.16.15").probe == ("10251", "HTTP")
    assert _render("kube-scheduler", "v1.17.17").probe == ("10259", "HTTPS")


def test_rendered_until_must_follow_rendered_from():
    catalog = Catalog()
    bad = {"kubeadm": [{"component": "kube-scheduler", "flag": "x", "rendered_from": "1.20", "rendered_until": "1.19", "sources": ["https://example.org/x"]}]}
    with pytest.raises(CatalogError, match="rendered_until 1.19 is not after rendered_from 1.20"):
        catalog.add_document(bad, "test.yaml")


def test_the_seed_manifests_are_what_kubeadm_1_14_renders():
    """kubespray rendered the seed's control plane with kubeadm 1.14: every manifest flag is kubeadm's or extraArgs'."""
    snapshot = load_inputs(SEED, [])
    config = ComponentConfig(snapshot, kubeadm=KubeadmModel(_catalog()))
    manifest_flags = [f for f in config.flags if f.place.startswith("static pod manifest")]
    assert manifest_flags and not [f for f in manifest_flags if f.hand_edit]
    assert config.kubeadm_version == KubeVersion.parse("v1.14.5")


def test_network_plugin_error_says_kubeadm_leaves_it(tmp_path: Path):
    env = tmp_path / "nodes" / "worker-2" / "var" / "lib" / "kubelet" / "kubeadm-flags.env"
    env.parent.mkdir(parents=True)
    env.write_text('KUBELET_KUBEADM_ARGS="--network-plugin=cni"\n')
    report = scan(load_inputs(tmp_path, []), _catalog(), ScanRequest(target=KubeVersion.parse("v1.24.17"), current=KubeVersion.parse("v1.23.17")))
    (finding,) = [f for f in report.findings if f.rule_id == "KUP010"]
    assert "kubeadm does not remove it from /var/lib/kubelet/kubeadm-flags.env during upgrade" in finding.remediation


def test_kup050_and_the_model_agree_on_when_kubeadm_adds_port_0():
    """KUP050 (scrapes of 10251/10252) and the render model state the same --port=0 fact; they must not drift."""
    catalog = _catalog()
    rule = catalog.rules["KUP050"]
    for component in ("kube-scheduler", "kube-controller-manager"):
        (entry,) = [e for e in catalog.kubeadm.values() if e.component == component and e.flag == "port"]
        assert (entry.rendered_from, entry.backported_to) == (rule.breaks_in, rule.backported_to)


def test_an_unmodelled_kubeadm_version_is_said(tmp_path: Path):
    config_map = tmp_path / "cluster" / "kube-system" / "kubeadm-config.yaml"
    config_map.parent.mkdir(parents=True)
    config_map.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kubeadm-config\n  namespace: kube-system\n"
        "data:\n  ClusterConfiguration: |\n    apiVersion: kubeadm.k8s.io/v1beta1\n    kind: ClusterConfiguration\n    kubernetesVersion: v1.13.5\n"
    )
    manifest = tmp_path / "nodes" / "master-1" / "etc" / "kubernetes" / "manifests" / "kube-apiserver.yaml"
    manifest.parent.mkdir(parents=True)
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n  namespace: kube-system\nspec:\n  containers:\n  - command: [kube-apiserver, --x=1]\n    name: kube-apiserver\n")
    config = ComponentConfig(load_inputs(tmp_path, []), kubeadm=KubeadmModel(_catalog()))
    assert [p.message for p in config.problems] == [
        "what kubeadm v1.13.5 renders is not modelled (rules/kubeadm.yaml); static pod manifests were not checked for hand edits"
    ]
    (flag,) = [f for f in config.flags if f.name == "x"]
    assert flag.kubeadm_default and not flag.hand_edit
