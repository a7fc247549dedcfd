"""Checks: each judges the snapshot against the catalog and yields candidates; none collects.

A check never decides which hop a candidate belongs to: it says at which minor the thing breaks
(``breaks_in``) and the engine places it on the hop that crosses that minor, or drops it when
the path does not cross it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Callable, Iterable

from kupgrade_lint.catalog import Catalog, Rule
from kupgrade_lint.cluster_facts import ClusterFacts
from kupgrade_lint.component_config import ComponentConfig
from kupgrade_lint.findings import Location, Severity
from kupgrade_lint.snapshot.model import Snapshot
from kupgrade_lint.versions import Hop, KubeVersion


@dataclass(frozen=True)
class ScanOptions:
    """Choices of the user that change how checks judge."""

    kubelet_strategy: str = "last"  # "last": kubelets upgraded once the control plane is at the target
    cert_expiry_days: int = 30  # a certificate expiring within this many days is reported
    now: datetime.datetime | None = None  # the moment certificates are judged at (None: the clock)


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may read."""

    snapshot: Snapshot
    catalog: Catalog
    config: ComponentConfig
    facts: ClusterFacts
    current: KubeVersion
    hops: tuple[Hop, ...]
    options: ScanOptions
    setup_problems: tuple = ()  # InputProblems of objects the settings or facts could not be read from
    # What several checks compute from the same input text (pure functions of it: PromQL
    # analyses, parsed certificates), kept for the scan; see ``memo``.
    _memo: dict = field(default_factory=dict, compare=False, repr=False, hash=False)

    def memo(self, table: str) -> "Memo":
        """The scan's table ``table`` of results of one pure function, keyed by its argument."""
        return self._memo.setdefault(table, Memo())


class Memo(dict):
    """Results of a pure function kept for one scan, at most ``MAX`` of them (then computed each time)."""

    MAX = 1 << 16

    def get_or(self, key, compute: Callable):
        try:
            return self[key]
        except KeyError:
            value = compute(key)
            if len(self) < self.MAX:
                self[key] = value
            return value


@dataclass(frozen=True)
class Candidate:
    """A finding before the engine has placed it on a hop.

    ``breaks_in`` is the minor at which it breaks; None only for input problems, which apply to
    the whole scan. ``remediation``/``severity`` override the rule's when set; ``references``
    add the sources of the catalog fact behind the candidate; ``backported_to`` (patch releases
    of earlier minors that already have the change of this candidate, e.g. a CoreDNS release that
    kubeadm deploys from a patch on) overrides the rule's for a fact of its own. ``at_first_hop``
    places it on the first hop whatever its versions (what the next ``kubeadm upgrade`` rewrites,
    a patch release of the same minor included).
    """

    breaks_in: str | None
    message: str
    location: Location
    remediation: str | None = None
    references: tuple[str, ...] = ()
    evidence: str | None = None
    confidence: str | None = None
    severity: Severity | None = None
    backported_to: tuple[str, ...] = ()
    at_first_hop: bool = False


CheckFunction = Callable[[CheckContext, Rule], Iterable[Candidate]]
CHECKS: dict[str, CheckFunction] = {}


def check(name: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under the name rules refer to in their ``check`` field."""

    def register(function: CheckFunction) -> CheckFunction:
        if name in CHECKS:
            raise RuntimeError(f"check {name} registered twice")
        CHECKS[name] = function
        return function

    return register


def load_checks() -> dict[str, CheckFunction]:
    """Import every check module so that they register themselves."""
    from kupgrade_lint.checks import (  # noqa: F401
        certificate,
        config_field,
        control_plane,
        coredns,
        feature_gate,
        images,
        kubeadm_manifests,
        in_tree_plugin,
        monitoring,
        node_certificates,
        removed_api,
        removed_flag,
        version_skew,
        workload,
    )

    return CHECKS


def pod_specs(obj_data: dict, kind: str) -> list[tuple[tuple, dict]]:
    """The pod spec(s) of a workload object with their paths: Pod, templates, CronJob's job template."""
    spec = obj_data.get("spec") or {}
    if kind == "Pod":
        return [(("spec",), spec)]
    if kind == "CronJob":
        tpl = (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")
        return [(("spec", "jobTemplate", "spec", "template", "spec"), tpl)] if isinstance(tpl, dict) else []
    tpl = (spec.get("template") or {}).get("spec")
    return [(("spec", "template", "spec"), tpl)] if isinstance(tpl, dict) else []


WORKLOAD_KINDS = ("Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "Pod")
