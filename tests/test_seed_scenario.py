"""The seed scenario (fixtures/seed-cluster, v1.14.5 → v1.21.14) is reported completely and exactly."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest

from kupgrade_lint.catalog import load_catalog
from kupgrade_lint.engine import ScanRequest, scan
from kupgrade_lint.reporters import json_report, sarif, text
from kupgrade_lint.snapshot.loader import load_inputs
from kupgrade_lint.versions import KubeVersion
from tests.conftest import SEED

M1, W1 = "master-1", "worker-1"
KUBEADM_CONFIG = "cluster/kube-system/configmaps/kubeadm-config.yaml"

# (hop, rule, node, file, line): every finding the seed must produce, and nothing else.
EXPECTED = {
    # 1.15: --allow-privileged in kubelet.env and its $KUBE_ALLOW_PRIV reference in the unit
    ("1.15", "KUP010", M1, "/etc/kubernetes/kubelet.env", 34),
    ("1.15", "KUP010", M1, "/etc/systemd/system/kubelet.service", 18),
    ("1.15", "KUP010", W1, "/etc/kubernetes/kubelet.env", 34),
    ("1.15", "KUP010", W1, "/etc/systemd/system/kubelet.service", 18),
    ("1.15", "KUP041", None, "cluster/kube-system/limitrange-limits.yaml", 20),
    # 1.16: removed workload APIs (last-applied evidence and a Helm release)
    ("1.16", "KUP001", None, "cluster/cluster-scoped/podsecuritypolicy-restricted.yaml", 6),
    ("1.16", "KUP001", None, "cluster/monitoring/daemonset-node-exporter.yaml", 6),
    ("1.16", "KUP001", None, "cluster/shop/deployment-web.yaml", 7),
    ("1.16", "KUP001", None, "cluster/shop/networkpolicy-deny-all.yaml", 6),
    ("1.16", "KUP001", None, "cluster/shop/replicaset-legacy-rs.yaml", 6),
    ("1.16", "KUP001", None, "cluster/shop/statefulset-redis.yaml", 6),
    ("1.16", "KUP001", None, "helm/shop/cart.yaml", 24),
    ("1.16", "KUP040", None, "cluster/kube-system/configmaps/coredns.yaml", 4),
    # kubeadm's --port=0 reached 1.16.13 (kubernetes PR 92726), so the insecure scrapes stop at the 1.16 hop
    ("1.16", "KUP050", None, "cluster/monitoring/servicemonitors/kube-controller-manager.yaml", 15),
    ("1.16", "KUP050", None, "cluster/monitoring/servicemonitors/kube-scheduler.yaml", 15),
    ("1.16", "KUP052", None, "cluster/monitoring/prometheusrule-k8s-rules.yaml", 18),
    ("1.16", "KUP052", None, "cluster/monitoring/prometheusrule-k8s-rules.yaml", 29),
    ("1.16", "KUP081", None, None, None),
    ("1.17", "KUP080", None, None, None),
    ("1.17", "KUP081", None, None, None),
    ("1.18", "KUP070", None, "registry/myregistry/google-containers/pause/tags.json", None),
    ("1.18", "KUP080", None, None, None),
    ("1.18", "KUP081", None, None, None),
    # 1.19: VolumeSubpathEnvExpansion everywhere it is set, and the CN-only webhook certificate
    ("1.19", "KUP020", None, "cluster/kube-system/configmaps/kube-proxy.yaml", 22),
    ("1.19", "KUP020", None, KUBEADM_CONFIG, 23),
    ("1.19", "KUP020", None, KUBEADM_CONFIG, 38),
    ("1.19", "KUP020", None, KUBEADM_CONFIG, 62),
    ("1.19", "KUP020", M1, "/etc/kubernetes/kubelet.env", 28),
    ("1.19", "KUP020", M1, "/etc/kubernetes/manifests/kube-apiserver.yaml", 27),
    ("1.19", "KUP020", M1, "/etc/kubernetes/manifests/kube-controller-manager.yaml", 24),
    ("1.19", "KUP020", M1, "/etc/kubernetes/manifests/kube-scheduler.yaml", 15),
    ("1.19", "KUP020", W1, "/etc/kubernetes/kubelet.env", 28),
    ("1.19", "KUP030", None, "cluster/cluster-scoped/mutatingwebhookconfiguration-mutate-deploy.x.com.yaml", 13),
    ("1.19", "KUP070", None, "registry/myregistry/google-containers/pause/tags.json", None),
    ("1.19", "KUP080", None, None, None),
    ("1.19", "KUP081", None, None, None),
    # 1.20: the insecure port, its clients, the v1alpha1 resource metrics, pause:3.2
    ("1.20", "KUP010", None, KUBEADM_CONFIG, 25),
    ("1.20", "KUP010", M1, "/etc/kubernetes/manifests/kube-apiserver.yaml", 29),
    ("1.20", "KUP031", M1, "/root/.kube/config", 4),
    ("1.20", "KUP032", None, KUBEADM_CONFIG, 24),
    ("1.20", "KUP032", M1, "/etc/kubernetes/manifests/kube-apiserver.yaml", 28),
    ("1.20", "KUP051", None, "cluster/monitoring/servicemonitors/kubelet.yaml", 38),
    ("1.20", "KUP070", None, "registry/myregistry/google-containers/pause/tags.json", None),
    ("1.20", "KUP080", None, None, None),
    ("1.20", "KUP081", None, None, None),
    # 1.21: the bound service-account token and pause:3.4.1
    ("1.21", "KUP060", None, "cluster/ingress-nginx/deployment-nginx-ingress-controller.yaml", 84),
    ("1.21", "KUP070", None, "registry/myregistry/google-containers/pause/tags.json", None),
    ("1.21", "KUP080", None, None, None),
    ("1.21", "KUP081", None, None, None),
}

# What kubeadm itself starts or stops rendering at each hop (KUP102, info), on master-1's manifests. The
# seed's manifests are exactly what kubeadm 1.14 renders from its kubeadm-config (no hand edit, KUP100/101),
# and worker-2's config.yaml is the kubelet-config-1.14 ConfigMap's (KUP103).
KCM, SCHED, APISERVER = (f"/etc/kubernetes/manifests/{c}.yaml" for c in ("kube-controller-manager", "kube-scheduler", "kube-apiserver"))
KUBEADM_CHANGES = {
    # --service-cluster-ip-range (1.16), --port=0 (1.19, backported to 1.16.13) for the controller-manager
    ("1.16", "KUP102", M1, KCM, 12),
    # --authentication-/--authorization-kubeconfig (1.16) and --port=0 (1.16.13) for the scheduler
    ("1.16", "KUP102", M1, SCHED, 12),
    # the liveness probes move to the secure ports
    ("1.17", "KUP102", M1, KCM, 12),
    ("1.17", "KUP102", M1, SCHED, 12),
    # --cluster-name=lac-k8s-prd.local
    ("1.18", "KUP102", M1, KCM, 12),
    # --service-account-issuer and --service-account-signing-key-file
    ("1.20", "KUP102", M1, APISERVER, 12),
}
EXPECTED |= KUBEADM_CHANGES


@pytest.fixture(scope="module")
def report():
    catalog = load_catalog()
    return scan(load_inputs(SEED, []), catalog, ScanRequest(target=KubeVersion.parse("v1.21.14")))


def _key(f):
    return (f.hop, f.rule_id, f.location.node, f.location.file, f.location.line)


def test_every_expected_finding_at_its_hop_and_no_other(report):
    found = {_key(f) for f in report.findings}
    assert found - EXPECTED == set(), "unexpected findings"
    assert EXPECTED - found == set(), "missing findings"


# The Corefile against each hop's CoreDNS, and removed metrics (KUP042-KUP044, KUP053-KUP054): the seed's
# Corefile has no proxy/upstream/resyncperiod/federation/transfer line and only plugins kubeadm's Corefile
# migration knows, its PrometheusRule selects no removed metric and its two __name__ relabelings are drop
# rules; the upgrade log reports no CoreDNS failure but the ready plugin and the LimitRange.
def test_the_corefile_and_the_metrics_are_judged_and_give_nothing(report):
    ids = {"KUP042", "KUP043", "KUP044", "KUP053", "KUP054"}
    assert ids <= {r.id for r in report.rules}
    assert not [f for f in report.findings if f.rule_id in ids]


def test_path_and_versions(report):
    assert report.current_version == "v1.14.5"
    assert report.target_version == "v1.21.14"
    assert [(h.source, h.dest) for h in report.hops] == [
        ("v1.14.5", "v1.15.12"), ("v1.15.12", "v1.16.15"), ("v1.16.15", "v1.17.17"), ("v1.17.17", "v1.18.20"),
        ("v1.18.20", "v1.19.16"), ("v1.19.16", "v1.20.15"), ("v1.20.15", "v1.21.14"),
    ]


def test_hop_images_follow_kubeadm_and_the_private_repository(report):
    images = {h.minor: h.images for h in report.hops}
    assert "myregistry/google-containers/pause:3.2" in images["1.18"]
    assert "myregistry/google-containers/pause:3.4.1" in images["1.21"]
    assert "myregistry/google-containers/coredns:1.6.2" in images["1.16"]
    # kubeadm keeps CoreDNS directly under a custom repository (no coredns/ sub-path) from 1.21.2
    assert "myregistry/google-containers/coredns:v1.8.0" in images["1.21"]
    assert "myregistry/google-containers/kube-apiserver:v1.19.16" in images["1.19"]
    # etcd is external in this cluster: no etcd image is needed
    assert not any("/etcd:" in i for h in report.hops for i in h.images)


def test_the_unit_reference_names_the_variable_and_its_definition(report):
    unit = [f for f in report.findings if f.location.file == "/etc/systemd/system/kubelet.service" and f.location.node == M1]
    assert len(unit) == 1
    assert "$KUBE_ALLOW_PRIV" in unit[0].message and "/etc/kubernetes/kubelet.env:34" in unit[0].message


def test_removed_api_findings_carry_evidence_and_replacement(report):
    web = next(f for f in report.findings if f.location.file == "cluster/shop/deployment-web.yaml")
    assert web.evidence.startswith("last-applied-configuration") and web.confidence == "high"
    assert "apps/v1" in web.remediation
    assert "https://kubernetes.io/docs/reference/using-api/deprecation-guide/" in web.references


def test_findings_carry_upstream_references(report):
    for f in report.findings:
        assert f.references and all(r.startswith("https://") for r in f.references), f


def test_json_is_byte_identical_twice_and_valid(report):
    catalog = load_catalog()
    again = scan(load_inputs(SEED, []), catalog, ScanRequest(target=KubeVersion.parse("v1.21.14")))
    first, second = io.StringIO(), io.StringIO()
    json_report.render(report, first)
    json_report.render(again, second)
    assert first.getvalue() == second.getvalue()
    data = json.loads(first.getvalue())
    schema = json.loads((Path(json_report.__file__).parent.parent / "schemas" / "report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
    assert {"current_version", "target_version", "hops", "findings"} <= set(data)
    hop = data["hops"][0]
    assert hop["from"] == "v1.14.5" and hop["to"] == "v1.15.12" and hop["images"]


def test_sarif_validates_against_the_official_schema(report):
    out = io.StringIO()
    sarif.render(report, out)
    doc = json.loads(out.getvalue())
    schema = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(doc)
    results = doc["runs"][0]["results"]
    assert len(results) == len(report.findings)
    prints = [r["partialFingerprints"]["kupgradeLint/v1"] for r in results]
    assert len(set(prints)) == len(prints) and all(len(p) == 20 for p in prints)
    kubelet = next(r for r in results if r["locations"] and r["locations"][0].get("physicalLocation", {}).get("artifactLocation", {}).get("uri") == "nodes/master-1/etc/kubernetes/kubelet.env")
    assert kubelet["locations"][0]["physicalLocation"]["region"]["startLine"] in (28, 34)
    web = next(r for r in results if "Deployment shop/web" in r["message"]["text"])
    assert web["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "shop/Deployment/web"
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert all(r["helpUri"].startswith("https://") and r["help"]["text"] for r in rules)


def test_text_report_is_grouped_by_hop(report):
    out = io.StringIO()
    text.render(report, out)
    body = out.getvalue()
    positions = [body.index(f"── hop to 1.{m}:") for m in range(15, 22)]
    assert positions == sorted(positions)
    assert "\033[" not in body
    # With the kubelets upgraded last, the 1.15 kubelet flag is listed before the first hop and
    # explained in the kubelet step after the last hop (its finding keeps hop 1.15 in JSON and SARIF).
    assert body.index("[kubelets] KUP010 removed-flag (breaks the kubelet at 1.15)") < positions[0]
    kubelets = body.index("── kubelets: upgrade")
    assert kubelets > positions[-1] and body.index("--allow-privileged", kubelets) > kubelets
    assert body.index("[1.15] KUP041") < body.index("[1.16] KUP001") < body.index("[kubelets] KUP010")


def test_cn_only_webhook_is_found_from_its_ca_bundle_alone(tmp_path):
    """Without the captured chain (tls/), the caBundle's self-signed CN-only leaf is the serving certificate."""
    import shutil

    copy = tmp_path / "seed"
    shutil.copytree(SEED, copy, ignore=shutil.ignore_patterns("tls"))
    result = scan(load_inputs(copy, []), load_catalog(), ScanRequest(target=KubeVersion.parse("v1.21.14")))
    cn = [f for f in result.findings if f.rule_id == "KUP030"]
    assert [(f.hop, f.location.line) for f in cn] == [("1.19", 13)]
    assert "its caBundle: a self-signed certificate" in cn[0].message
    assert "GODEBUG=x509ignoreCN=0" in cn[0].remediation and "dropped by the next kubeadm upgrade" in cn[0].remediation
    # The other webhook's caBundle is a CA: its leaf is said to be unchecked, not passed as clean.
    unchecked = [f for f in result.findings if f.rule_id == "KUP090" and "validate.y.com" in f.message]
    assert len(unchecked) == 1 and "holds a CA, not the serving certificate" in unchecked[0].message


def test_kubeadm_default_changes_say_what_changes(report):
    changes = sorted((f.hop, f.location.file, f.message) for f in report.findings if f.rule_id == "KUP102")
    assert len(changes) == 10
    assert all(f.severity.value == "info" for f in report.findings if f.rule_id == "KUP102")
    port = [m for hop, file, m in changes if "--port=0" in m]
    assert [(hop, file) for hop, file, m in changes if "--port=0" in m] == [("1.16", KCM), ("1.16", SCHED)]
    assert all("backported, 1.16.13" in m and "reported by KUP050" in m for m in port)
    assert any("--cluster-name=lac-k8s-prd.local" in m for _, _, m in changes)
    assert any("--service-account-issuer=https://kubernetes.default.svc.lac-k8s-prd.local" in m for _, _, m in changes)
    assert not [f for f in report.findings if f.rule_id in ("KUP100", "KUP101", "KUP103", "KUP104")]
