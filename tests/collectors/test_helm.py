"""Helm 2 and Helm 3 release decoding."""

from __future__ import annotations

import base64

import pytest

from kupgrade_lint.collectors.helm import (
    HelmDecodeError,
    decode_helm2,
    decode_helm3,
    decode_helm3_secret_value,
    latest_deployed,
)

from .world import helm2_payload, helm3_payload


def test_helm3_configmap_and_secret_forms():
    payload = helm3_payload("web", "apps", 4, "deployed", "kind: Service\n", {"password": "x"})
    rel = decode_helm3(payload)
    assert (rel.name, rel.namespace, rel.version, rel.status, rel.manifest) == ("web", "apps", 4, "deployed", "kind: Service\n")
    assert decode_helm3_secret_value(base64.b64encode(payload.encode()).decode()) == rel
    assert not hasattr(rel, "config")  # values are never kept


def test_helm2_protobuf():
    rel = decode_helm2(helm2_payload("legacy", "ns", 7, 1, "kind: DaemonSet\n", "password: x\n"))
    assert (rel.name, rel.namespace, rel.version, rel.status, rel.manifest, rel.helm_major) == (
        "legacy", "ns", 7, "deployed", "kind: DaemonSet\n", 2)


def test_latest_deployed_revision_wins():
    rels = [decode_helm3(helm3_payload("a", "n", v, s, f"rev {v}", {})) for v, s in ((1, "superseded"), (3, "deployed"), (2, "deployed"), (4, "failed"))]
    assert latest_deployed(rels)[(3, "n", "a")].manifest == "rev 3"


@pytest.mark.parametrize("payload", ["not base64 at all!!", base64.b64encode(b"\x1f\x8b\x08garbage").decode(), base64.b64encode(b"[1]").decode()])
def test_broken_records(payload):
    with pytest.raises(HelmDecodeError):
        decode_helm3(payload)


def test_broken_helm2_record():
    with pytest.raises(HelmDecodeError):
        decode_helm2(base64.b64encode(b"\x0a\xff").decode())
