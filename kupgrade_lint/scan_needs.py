"""What a scan needs from a cluster: one answer for the collector, the RBAC role and the report.

A kind is wanted when the catalog knows a removed version of it (built-in or from a user
``--catalog``: an object managed through that version is found by its last-applied
configuration, managedFields or Helm release whatever version it is listed through) or when a
check reads it (``checks/reads.py``). Groups that hold the same objects are one entry: a kind
whose removed version's replacement lives in another group (``extensions`` → ``apps``) is
listed once, through whichever group the cluster prefers.
"""

from __future__ import annotations

from kupgrade_lint.catalog import Catalog
from kupgrade_lint.checks.reads import CHECK_READS
from kupgrade_lint.collectors.wanted import OWN_READS, WantedKind

# Review APIs are create-only: nothing is stored, so there is nothing to list
# (https://kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access,
# https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-review-v1/).
NOT_STORED = frozenset(
    {
        "TokenReview",
        "SubjectAccessReview",
        "LocalSubjectAccessReview",
        "SelfSubjectAccessReview",
        "SelfSubjectRulesReview",
        "SelfSubjectReview",
    }
)

# Groups that serve the same stored objects beyond what replacements in the catalog say:
# events.k8s.io Events are the core Events (one storage,
# https://github.com/kubernetes/kubernetes/blob/v1.21.0/pkg/registry/events/rest/storage_events.go).
SAME_OBJECTS: dict[tuple[str, str], tuple[str, ...]] = {("events.k8s.io", "Event"): ("",)}

# Plurals that apimachinery's guess (lower-case kind + s/es/ies) gets wrong.
IRREGULAR_PLURALS = {
    "Endpoints": "endpoints",
    "ResourceClaimParameters": "resourceclaimparameters",
    "ResourceClassParameters": "resourceclassparameters",
}

# The verbs the collector uses on every resource it reads (deploy/rbac.yaml).
VERBS = ("get", "list")


def resource_of(kind: str) -> str:
    """The plural resource name of a kind (meta.UnsafeGuessKindToResource, with known exceptions)."""
    if kind in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[kind]
    lower = kind.lower()
    if lower.endswith("s"):
        return lower + "es"
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + "s"


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def wanted_kinds(catalog: Catalog) -> tuple[WantedKind, ...]:
    """Every kind the scan lists from a cluster, with its groups best first, sorted by kind."""
    links: dict[str, dict[str, set[str]]] = {}  # kind -> group -> groups holding the same objects
    removed: dict[str, set[str]] = {}
    targets: dict[str, set[str]] = {}  # kind -> groups that a removed version is replaced by
    why: dict[tuple[str, str], set[str]] = {}

    def link(kind: str, *groups: str) -> None:
        table = links.setdefault(kind, {})
        for g in groups:
            table.setdefault(g, set()).update(groups)

    for entry in catalog.apis.values():
        if entry.read_by != "kube-apiserver" or entry.kind in NOT_STORED:
            continue
        group = _group(entry.api_version)
        removed.setdefault(entry.kind, set()).add(entry.api_version)
        why.setdefault((entry.kind, group), set()).add(f"{entry.api_version} is removed in {entry.removed_in}")
        link(entry.kind, group)
        if entry.replacement:
            replacement = _group(entry.replacement)
            targets.setdefault(entry.kind, set()).add(replacement)
            link(entry.kind, group, replacement)
        for same in SAME_OBJECTS.get((group, entry.kind), ()):
            link(entry.kind, group, same)
    for kind, groups in CHECK_READS.items():
        link(kind, *groups)
        for g in groups:
            why.setdefault((kind, g), set()).add("read by the checks")

    wanted: list[WantedKind] = []
    for kind in sorted(links):
        declared = CHECK_READS.get(kind, ())
        for family in _families(links[kind]):
            groups = tuple(
                sorted(
                    family,
                    key=lambda g: (g == "extensions", g not in targets.get(kind, set()) and g not in declared,
                                   declared.index(g) if g in declared else len(declared), g),
                )
            )
            reasons = sorted({r for g in groups for r in why.get((kind, g), ())})
            avoid = frozenset(v for v in removed.get(kind, ()) if _group(v) in family)
            wanted.append(WantedKind(kind, groups, avoid, "; ".join(reasons)))
    return tuple(wanted)


def _families(table: dict[str, set[str]]) -> list[set[str]]:
    """Connected groups: the sets of groups that serve the same objects of one kind."""
    seen: set[str] = set()
    families: list[set[str]] = []
    for start in sorted(table):
        if start in seen:
            continue
        family, todo = set(), [start]
        while todo:
            g = todo.pop()
            if g in family:
                continue
            family.add(g)
            todo.extend(table.get(g, ()))
        seen |= family
        families.append(family)
    return families


def cluster_role_rules(catalog: Catalog) -> dict[str, frozenset[str]]:
    """API group -> resources the collector may get and list: what deploy/rbac.yaml must grant, no more."""
    rules: dict[str, set[str]] = {}
    for want in wanted_kinds(catalog):
        for group in want.groups:
            rules.setdefault(group, set()).add(OWN_READS.get(want.kind) or resource_of(want.kind))
    rules.setdefault("", set()).update(OWN_READS.values())
    return {group: frozenset(resources) for group, resources in rules.items()}
