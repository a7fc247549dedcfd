"""The committed discovery data is coherent, and resolution picks the versions we expect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kupgrade_lint.collectors.cluster import TARGETS
from kupgrade_lint.collectors.discovery import APIResource, Discovery

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
    resolved = {t.resource: d.find(t.resource, t.groups) for t in TARGETS}
    for resource, gv in EXPECTED[shape].items():
        assert resolved[resource].group_version == gv
    assert not [r for r in resolved.values() if r is not None and r.group == "extensions"]
    # Built-in targets all resolve; only the Prometheus Operator ones need CRDs.
    missing = {name for name, r in resolved.items() if r is None}
    assert missing == {"servicemonitors", "podmonitors", "prometheusrules", "probes", "prometheuses"}
