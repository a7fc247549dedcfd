"""The committed discovery data is coherent, and resolution picks the versions we expect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kupgrade_lint.collectors.discovery import APIResource, Discovery
from kupgrade_lint.scan_needs import resource_of

from .world import WANTED

DATA = Path(__file__).parent / "data"


def _discovery(shape: str) -> Discovery:
    doc = json.loads((DATA / f"discovery-{shape}.json").read_text())
    d = Discovery()
    for g in doc["groups"]:
        d.versions[g["name"]] = list(g["versions"])
        d.preferred[g["name"]] = g["preferredVersion"]
        for v, resources in g["versions"].items():
            d.resources[(g["name"], v)] = {
                r["name"]: APIResource(g["name"], v, r["name"], r["kind"], r["namespaced"], tuple(r["verbs"]))
                for r in resources
                if "/" not in r["name"]
            }
    return d


@pytest.mark.parametrize("shape", ["v1.14", "v1.21"])
def test_data_is_coherent(shape):
    doc = json.loads((DATA / f"discovery-{shape}.json").read_text())
    assert doc["gitVersion"].startswith(shape + ".")
    for g in doc["groups"]:
        assert g["preferredVersion"] in g["versions"]
        assert not [v for v in g["versions"] if "alpha" in v]
        for resources in g["versions"].values():
            for r in resources:
                assert set(r) == {"name", "singularName", "namespaced", "kind", "verbs"}
                assert r["verbs"] and r["kind"]


EXPECTED = {
    "v1.14": {"deployments": "apps/v1", "cronjobs": "batch/v1beta1", "ingresses": "networking.k8s.io/v1beta1",
              "podsecuritypolicies": "policy/v1beta1", "customresourcedefinitions": "apiextensions.k8s.io/v1beta1",
              "validatingwebhookconfigurations": "admissionregistration.k8s.io/v1beta1", "networkpolicies": "networking.k8s.io/v1"},
    "v1.21": {"deployments": "apps/v1", "cronjobs": "batch/v1", "ingresses": "networking.k8s.io/v1",
              "podsecuritypolicies": "policy/v1beta1", "customresourcedefinitions": "apiextensions.k8s.io/v1",
              "validatingwebhookconfigurations": "admissionregistration.k8s.io/v1", "networkpolicies": "networking.k8s.io/v1"},
}


@pytest.mark.parametrize("shape", ["v1.14", "v1.21"])
def test_resolution_never_uses_extensions_when_avoidable(shape):
    d = _discovery(shape)
    found = {w.kind: d.find_kind(w.kind, w.groups, w.avoid) for w in WANTED}
    resolved = {r.name: r for r in found.values() if r is not None}
    for resource, gv in EXPECTED[shape].items():
        assert resolved[resource].group_version == gv
    assert not [r for r in resolved.values() if r.group == "extensions"]
    # Every kind whose storage both eras have resolves; the Prometheus Operator ones need CRDs.
    missing = {kind for kind, r in found.items() if r is None}
    assert {"ServiceMonitor", "PodMonitor", "PrometheusRule"} <= missing
    assert not missing & {"Deployment", "Ingress", "Role", "ClusterRole", "PriorityClass", "PodDisruptionBudget",
                          "HorizontalPodAutoscaler", "StorageClass", "Lease", "Event", "ServiceAccount"}
    # Events go through a version that is not going away when there is one.
    assert found["Event"].group_version == ("v1" if shape == "v1.14" else "events.k8s.io/v1")


@pytest.mark.parametrize("shape", ["v1.14", "v1.21"])
def test_the_plural_of_every_wanted_kind_is_the_one_discovery_serves(shape):
    # deploy/rbac.yaml names resources by plural; the plurals must be the served ones.
    d = _discovery(shape)
    for w in WANTED:
        for group in w.groups:
            for version in d.versions.get(group, []):
                for res in d.resources[(group, version)].values():
                    if res.kind == w.kind:
                        assert res.name == resource_of(w.kind), (group, version, res.name)
