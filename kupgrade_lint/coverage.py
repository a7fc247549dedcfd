"""What a scan covered: read from the snapshot's collection record, or from what its files hold.

The cluster collector records every kind it was asked to list and what became of it
(``coverage`` in kupgrade-snapshot.json, docs/snapshot-format.md); a snapshot assembled by hand
has no such record, so its coverage is what it holds. Either way the report names what was not
checked (node files, kinds that could not be listed) so that nobody reads silence as "clean".
"""

from __future__ import annotations

from kupgrade_lint.catalog import Catalog
from kupgrade_lint.findings import Coverage, ResourceCoverage
from kupgrade_lint.scan_needs import wanted_kinds
from kupgrade_lint.snapshot.model import Snapshot

ABSENT = "absent"
NOT_LISTED = ("forbidden", "error")

NODE_FILES_NOT_CHECKED = (
    "node files were NOT checked: kubelet flags, static pods (control-plane manifests), kubelet config, "
    "systemd units and node kubeconfigs. Add them: run `kupgrade-lint collect node` on each node and pass "
    "the results with --nodes (to `scan` or `collect`); see docs/collecting.md"
)
MANIFESTS_ONLY = (
    "only manifests were checked: no cluster objects (no --snapshot and no live cluster) and no node files "
    "(kubelet flags, static pods, kubelet config, systemd units, node kubeconfigs)"
)


def _recorded(snapshot: Snapshot) -> list[dict] | None:
    meta = snapshot.metadata if isinstance(snapshot.metadata, dict) else {}
    coverage = meta.get("coverage")
    cluster = coverage.get("cluster") if isinstance(coverage, dict) else None
    resources = cluster.get("resources") if isinstance(cluster, dict) else None
    return resources if isinstance(resources, list) else None


def _entry(raw: dict) -> ResourceCoverage:
    objects = raw.get("objects")
    return ResourceCoverage(
        kind=str(raw.get("kind") or "?"),
        status=str(raw.get("status") or "?"),
        group=raw.get("group") if isinstance(raw.get("group"), str) else None,
        version=raw.get("version") if isinstance(raw.get("version"), str) else None,
        resource=raw.get("resource") if isinstance(raw.get("resource"), str) else None,
        objects=objects if isinstance(objects, int) else None,
        detail=raw.get("detail") if isinstance(raw.get("detail"), str) else None,
    )


def _present(snapshot: Snapshot, catalog: Catalog) -> list[ResourceCoverage]:
    """A snapshot without a record: the kinds its cluster/ files hold, and the wanted kinds they lack."""
    counts: dict[tuple[str, str], int] = {}
    for obj in snapshot.objects:
        if obj.source.origin == "cluster" and obj.kind:
            counts[(obj.kind, obj.api_version)] = counts.get((obj.kind, obj.api_version), 0) + 1
    entries = []
    for (kind, api_version), n in counts.items():
        group, _, version = api_version.rpartition("/")
        entries.append(ResourceCoverage(kind, "present", group=group, version=version, objects=n, detail="in the snapshot's cluster/ files"))
    held = {kind for kind, _ in counts}
    for want in wanted_kinds(catalog):
        if want.kind not in held:
            entries.append(ResourceCoverage(want.kind, ABSENT, detail="not in the snapshot; whether the cluster has any is unknown"))
    return entries


def read_coverage(snapshot: Snapshot, catalog: Catalog) -> Coverage:
    """The coverage of a scan of ``snapshot``."""
    recorded = _recorded(snapshot)
    has_cluster = any(o.source.origin in ("cluster", "helm") for o in snapshot.objects)
    if recorded is not None:
        cluster = "collected"
        resources = [_entry(r) for r in recorded if isinstance(r, dict)]
    elif has_cluster:
        cluster = "assembled"
        resources = _present(snapshot, catalog)
    else:
        cluster = "none"
        resources = []
    nodes = tuple(sorted(snapshot.node_files))
    not_checked: list[str] = []
    if cluster == "none" and not nodes:
        not_checked.append(MANIFESTS_ONLY)
    elif not nodes:
        not_checked.append(NODE_FILES_NOT_CHECKED)
    else:
        known = {o.name for o in snapshot.of_kind("Node", origins=("cluster",))}
        missing = sorted(known - set(nodes))
        if missing:
            not_checked.append(
                f"node files of {', '.join(missing)} were NOT checked (the snapshot has node files of {', '.join(nodes)} only): "
                "run `kupgrade-lint collect node` there and add the results with --nodes; see docs/collecting.md"
            )
    failed = sorted({f"{r.kind} ({r.status})" for r in resources if r.status in NOT_LISTED})
    if failed:
        not_checked.append(f"objects of {len(failed)} kind(s) could not be listed and were NOT checked: {', '.join(failed)}")
    if cluster == "assembled":
        absent = sum(1 for r in resources if r.status == ABSENT)
        not_checked.append(
            "this snapshot has no collection record (no 'coverage' in kupgrade-snapshot.json): only the cluster objects "
            f"it holds were checked; {absent} kind(s) the scan reads are not in it and may exist in the cluster unchecked "
            "(`kupgrade-lint collect` records what it listed)"
        )
    if snapshot.kustomizations:
        first = sorted(snapshot.kustomizations)[0]
        not_checked.append(
            f"{len(snapshot.kustomizations)} Kustomize file(s) were NOT checked (e.g. {first}): they say how to build objects "
            "and are none themselves; the resource files they name are checked as they are, not as Kustomize renders them "
            "(patches, name prefixes, images). To check what they render: `kustomize build DIR | kupgrade-lint scan --manifests -`"
        )
    manifests = tuple(sorted({o.source.file for o in snapshot.objects if o.source.origin == "manifest"}))
    return Coverage(
        cluster=cluster,
        resources=tuple(sorted(resources, key=ResourceCoverage.sort_key)),
        nodes=nodes,
        registry=tuple(sorted(snapshot.registry)),
        tls_endpoints=tuple(sorted(snapshot.tls)),
        audit_logs=tuple(sorted(snapshot.audit_logs)),
        metrics=tuple(sorted(snapshot.metrics)),
        manifests=manifests,
        not_checked=tuple(not_checked),
    )
