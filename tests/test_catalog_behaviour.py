"""Every removed API, flag, feature gate and admission plugin in the catalog is reported at exactly its hop.

Inputs are generated from the catalog itself: one use of every entry, scanned over the whole
range (v1.14 → newest) and over a path that stops just before each removal.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from kupgrade_lint.catalog import load_catalog
from kupgrade_lint.engine import ScanRequest, scan
from kupgrade_lint.snapshot.loader import load_inputs
from kupgrade_lint.versions import KubeVersion, minor_key

CATALOG = load_catalog()
FIRST, NEWEST = "v1.14.10", CATALOG.known_minors()[-1]
SECTION = {"kube-apiserver": "apiServer", "kube-controller-manager": "controllerManager", "kube-scheduler": "scheduler"}


def _in_range(minor: str) -> bool:
    return minor_key(minor) > (1, 14)


def _bad_value(entry) -> str:
    return "1" if entry.allowed_values is not None else "true"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("generated")
    (root / "cluster").mkdir()
    docs = []
    for api in CATALOG.apis.values():
        if api.read_by == "kube-apiserver" and _in_range(api.removed_in):
            docs.append({"apiVersion": api.api_version, "kind": api.kind, "metadata": {"name": "x", "namespace": "gen"}})
    (root / "manifests.yaml").write_text(yaml.safe_dump_all(docs))

    extra = {section: {"extraArgs": {}} for section in SECTION.values()}
    kubelet_args, proxy_args = [], []
    for flag in CATALOG.flags.values():
        if not _in_range(flag.removed_in) or flag.flag in ("feature-gates", "enable-admission-plugins"):
            continue
        if flag.component in SECTION:
            extra[SECTION[flag.component]]["extraArgs"][flag.flag] = _bad_value(flag)
        elif flag.component == "kubelet":
            kubelet_args.append(f"--{flag.flag}={_bad_value(flag)}")
        elif flag.component == "kube-proxy":
            proxy_args.append(f"--{flag.flag}={_bad_value(flag)}")
    gates = ",".join(f"{g.gate}=true" for g in CATALOG.feature_gates.values() if g.component == "kubernetes" and _in_range(g.removed_in))
    extra["apiServer"]["extraArgs"]["feature-gates"] = gates
    extra["apiServer"]["extraArgs"]["enable-admission-plugins"] = ",".join(
        p.plugin for p in CATALOG.admission_plugins.values() if _in_range(p.removed_in)
    )
    cluster_configuration = {
        "apiVersion": "kubeadm.k8s.io/v1beta2", "kind": "ClusterConfiguration", "kubernetesVersion": FIRST,
        "featureGates": {g.gate: True for g in CATALOG.feature_gates.values() if g.component == "kubeadm" and _in_range(g.removed_in)},
        **extra,
    }
    kubeadm_config = {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
        "data": {"ClusterConfiguration": yaml.safe_dump(cluster_configuration)},
    }
    proxy = {
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
        "spec": {"template": {"spec": {"containers": [{"name": "kube-proxy", "command": ["/usr/local/bin/kube-proxy"] + proxy_args}]}}},
    }
    (root / "cluster" / "kube-system.yaml").write_text(yaml.safe_dump_all([kubeadm_config, proxy]))
    node = root / "nodes" / "n1" / "etc" / "systemd" / "system"
    node.mkdir(parents=True)
    (node / "kubelet.service").write_text("[Service]\nExecStart=/usr/bin/kubelet " + " ".join(kubelet_args) + "\n")
    return root


def _scan(root: Path, current: str, target: str):
    inputs = load_inputs(root, [str(root / "manifests.yaml")])
    return scan(inputs, CATALOG, ScanRequest(target=KubeVersion.parse(target), current=KubeVersion.parse(current)))


@pytest.fixture(scope="module")
def whole_range(generated):
    return _scan(generated, FIRST, NEWEST)


def _count(report, rule_id: str) -> Counter:
    return Counter(f.hop for f in report.findings if f.rule_id == rule_id)


def test_every_removed_api_is_reported_at_its_removal_hop(whole_range):
    expected = Counter(a.removed_in for a in CATALOG.apis.values() if a.read_by == "kube-apiserver" and _in_range(a.removed_in))
    assert _count(whole_range, "KUP001") == expected


def test_every_removed_flag_is_reported_at_its_removal_hop(whole_range):
    expected = Counter(
        f.removed_in for f in CATALOG.flags.values()
        if _in_range(f.removed_in) and f.component != "kubeadm" and f.flag not in ("feature-gates", "enable-admission-plugins")
    )
    assert _count(whole_range, "KUP010") == expected


def test_every_removed_feature_gate_is_reported_at_its_removal_hop(whole_range):
    expected = Counter(g.removed_in for g in CATALOG.feature_gates.values() if _in_range(g.removed_in))
    assert _count(whole_range, "KUP020") == expected


def test_every_removed_admission_plugin_is_reported_at_its_removal_hop(whole_range):
    expected = Counter(p.removed_in for p in CATALOG.admission_plugins.values() if _in_range(p.removed_in))
    assert _count(whole_range, "KUP011") == expected


# Removals after 1.15: a path from v1.14.10 can end just before each of them.
REMOVALS = sorted(
    {e.removed_in for e in list(CATALOG.apis.values()) + list(CATALOG.flags.values()) + list(CATALOG.feature_gates.values())
     if minor_key(e.removed_in) > (1, 15)},
    key=minor_key,
)


@pytest.mark.parametrize("removal", REMOVALS)
def test_a_path_that_stops_before_a_removal_is_silent_about_it(generated, removal: str):
    major, minor = minor_key(removal)
    before = f"{major}.{minor - 1}"
    report = _scan(generated, FIRST, CATALOG.last_patch(before))
    for rule_id in ("KUP001", "KUP010", "KUP011", "KUP020"):
        hops = _count(report, rule_id)
        assert all(minor_key(h) <= minor_key(before) for h in hops)
        assert removal not in hops
    # and a path that starts after the removal does not report it either
    after = _scan(generated, CATALOG.last_patch(removal), NEWEST) if removal != NEWEST else None
    if after is not None:
        assert all(minor_key(f.hop) > minor_key(removal) for f in after.findings if f.hop and f.rule_id in ("KUP001", "KUP010", "KUP011", "KUP020"))
