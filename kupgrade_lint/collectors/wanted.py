"""What a cluster collection is asked to list, and the record of what became of each request.

The collector does not decide what to list: the caller hands it ``WantedKind`` values (built
from the catalog and the checks by ``kupgrade_lint.scan_needs``), and discovery decides where
each one is listed. Every wanted kind ends up in exactly one ``coverage`` entry of
``kupgrade-snapshot.json``, listed or not and why, so a report can say what it did not see.
"""

from __future__ import annotations

from dataclasses import dataclass

# Statuses of a coverage entry (docs/snapshot-format.md).
LISTED = "listed"
PARTIAL = "partial"  # only some objects of the kind are read, on purpose (ConfigMaps, Secrets)
FORBIDDEN = "forbidden"  # 401/403 for this resource
NOT_SERVED = "not-served"  # discovery does not offer the kind in any of its groups
NOT_LISTABLE = "not-listable"  # served, but without the list verb
ERROR = "error"  # discovery or the list failed for another reason
STATUSES = (LISTED, PARTIAL, FORBIDDEN, NOT_SERVED, NOT_LISTABLE, ERROR)

# Kinds the cluster collector reads in its own way, never listed whole: only the kube-system ConfigMaps
# kubeadm writes and Helm release records; only Helm 3 release Secrets and the certificates of
# Secrets mounted by webhook pods. Each gets a ``partial`` coverage entry saying so.
OWN_READS: dict[str, str] = {
    "ConfigMap": "configmaps",
    "Secret": "secrets",
}
PARTIAL_DETAIL = {
    "ConfigMap": "only the kube-system ConfigMaps kubeadm writes (kubeadm-config, kube-proxy, coredns, kubelet-config) "
    "and Helm release records; ConfigMaps elsewhere (Grafana dashboards, Prometheus scrape configurations) were not read",
    "Secret": "only Helm 3 release records (type helm.sh/release.v1, their rendered manifest) and the public certificates "
    "of Secrets mounted by webhook pods; nothing else of any Secret is read or kept",
}


@dataclass(frozen=True)
class WantedKind:
    """A kind the scan reads from the cluster.

    ``groups``: the API groups that may serve it, best first. ``avoid``: apiVersions not to
    list it through when another served version works (they are going away; listing through
    them shows up in the cluster's deprecated-API metrics and makes low-confidence findings).
    ``why``: who needs it, for the coverage record.
    """

    kind: str
    groups: tuple[str, ...]
    avoid: frozenset[str] = frozenset()
    why: str = ""


def coverage_entry(
    kind: str,
    status: str,
    *,
    group: str | None = None,
    version: str | None = None,
    resource: str | None = None,
    objects: int | None = None,
    detail: str | None = None,
) -> dict:
    """One ``coverage.cluster.resources`` entry as written to the snapshot metadata."""
    if status not in STATUSES:
        raise ValueError(f"unknown coverage status {status!r}")
    return {
        "kind": kind,
        "group": group,
        "version": version,
        "resource": resource,
        "status": status,
        "objects": objects,
        "detail": detail,
    }


def status_of_error(http_status: int | None) -> str:
    """The coverage status of a list that failed with this HTTP status."""
    if http_status in (401, 403):
        return FORBIDDEN
    return ERROR  # a 404 too: discovery said it was served
