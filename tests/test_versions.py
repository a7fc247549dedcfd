"""Versions, hops and the one definition of "this hop crosses that version"."""

from __future__ import annotations

import pytest

from kupgrade_lint.errors import UsageError
from kupgrade_lint.versions import Hop, KubeVersion, includes_change, upgrade_path

LAST = {"1.14": "1.14.10", "1.15": "1.15.12", "1.16": "1.16.15", "1.17": "1.17.17"}.get
V = KubeVersion.parse


def test_parse_forms():
    assert V("v1.21.14") == KubeVersion(1, 21, 14)
    assert V("1.21") == KubeVersion(1, 21, None)
    assert V("v1.14.5-gke.1200") == KubeVersion(1, 14, 5)
    with pytest.raises(UsageError, match="not a Kubernetes version"):
        V("1.x")


def test_path_goes_one_minor_at_a_time_through_last_patches():
    hops = upgrade_path(V("v1.14.5"), V("1.17"), LAST)
    assert [(str(h.source), str(h.dest)) for h in hops] == [
        ("v1.14.5", "v1.15.12"), ("v1.15.12", "v1.16.15"), ("v1.16.15", "v1.17.17")]
    assert upgrade_path(V("v1.14.5"), V("v1.16.3"), LAST)[-1].dest == V("v1.16.3")
    assert [str(h.dest) for h in upgrade_path(V("v1.16.2"), V("v1.16.15"), LAST)] == ["v1.16.15"]


def test_a_patch_newer_than_the_catalog_is_allowed():
    assert upgrade_path(V("v1.16.15"), V("v1.17.30"), LAST)[-1].dest == V("v1.17.30")


@pytest.mark.parametrize("current, target, message", [
    ("v1.16.2", "v1.15.12", "lower than the current"),
    ("v1.16.2", "v1.16.2", "not newer than"),
    ("v1.14.5", "1.18", "unknown Kubernetes release 1.18"),
    ("v1.14", "1.16", "needs a patch release"),
])
def test_impossible_paths_are_usage_errors(current, target, message):
    with pytest.raises(UsageError, match=message):
        upgrade_path(V(current), V(target), LAST)


def test_crosses_minor_and_backports():
    hop = Hop(V("v1.15.12"), V("v1.16.15"))
    assert hop.crosses("1.16") and not hop.crosses("1.15") and not hop.crosses("1.17")
    # kubeadm --port=0 (1.19) was backported to 1.16.13: the hop to v1.16.15 brings it ...
    assert hop.crosses("1.19", ("1.16.13", "1.17.9"))
    # ... a hop from v1.16.13 on already had it, and a hop to v1.16.12 does not bring it
    assert not Hop(V("v1.16.13"), V("v1.17.17")).crosses("1.19", ("1.16.13", "1.17.9"))
    assert not Hop(V("v1.15.12"), V("v1.16.12")).crosses("1.19", ("1.16.13",))
    assert includes_change(V("v1.19.0"), "1.19", ("1.16.13",))
