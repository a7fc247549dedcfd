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
    ("v1.14", "v1.14.10", "needs a patch release to upgrade within 1.14"),
])
def test_impossible_paths_are_usage_errors(current, target, message):
    with pytest.raises(UsageError, match=message):
        upgrade_path(V(current), V(target), LAST)


FINAL = {"1.14", "1.15", "1.16"}.__contains__  # 1.17 is "still supported" here: the catalog may lag behind


def test_a_current_minor_means_some_patch_of_it_and_hops_through_last_patches():
    hops = upgrade_path(V("1.15"), V("1.17"), LAST, FINAL)
    assert [(str(h.source), str(h.dest)) for h in hops] == [("v1.15", "v1.16.15"), ("v1.16.15", "v1.17.17")]
    # A change backported within 1.15 is taken as not there yet (reported, not hidden).
    assert hops[0].crosses("1.16", ("1.15.3",))


def test_a_patch_above_the_final_release_of_an_end_of_life_minor_does_not_exist():
    with pytest.raises(UsageError, match=r"^v1\.16\.99 does not exist: 1\.16 is end of life and its final release is v1\.16\.15$"):
        upgrade_path(V("v1.14.5"), V("v1.16.99"), LAST, FINAL)
    with pytest.raises(UsageError, match="v1.15.13 does not exist"):
        upgrade_path(V("v1.15.13"), V("1.16"), LAST, FINAL)
    # The final release itself, and a supported minor's newer patch (the catalog may lag), are fine.
    assert upgrade_path(V("v1.14.5"), V("v1.16.15"), LAST, FINAL)[-1].dest == V("v1.16.15")
    assert upgrade_path(V("v1.16.15"), V("v1.17.30"), LAST, FINAL)[-1].dest == V("v1.17.30")


def test_crosses_minor_and_backports():
    hop = Hop(V("v1.15.12"), V("v1.16.15"))
    assert hop.crosses("1.16") and not hop.crosses("1.15") and not hop.crosses("1.17")
    # kubeadm --port=0 (1.19) was backported to 1.16.13: the hop to v1.16.15 brings it ...
    assert hop.crosses("1.19", ("1.16.13", "1.17.9"))
    # ... a hop from v1.16.13 on already had it, and a hop to v1.16.12 does not bring it
    assert not Hop(V("v1.16.13"), V("v1.17.17")).crosses("1.19", ("1.16.13", "1.17.9"))
    assert not Hop(V("v1.15.12"), V("v1.16.12")).crosses("1.19", ("1.16.13",))
    assert includes_change(V("v1.19.0"), "1.19", ("1.16.13",))
