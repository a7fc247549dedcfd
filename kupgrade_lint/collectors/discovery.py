"""API discovery: which groups, versions and resources a cluster serves, and where to list them.

Reads ``/api``, ``/apis`` and every served group version's APIResourceList
(https://kubernetes.io/docs/concepts/overview/kubernetes-api/#discovery-api). Discovery
requests are non-resource URLs: they never count as use of a deprecated API
(``apiserver_requested_deprecated_apis`` is recorded for resource requests only).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Sequence

from kupgrade_lint.collectors.kubeapi import ApiError, KubeAPI, Unauthorized


@dataclass(frozen=True)
class APIResource:
    """One listable resource of one group version, as discovery describes it."""

    group: str
    version: str
    name: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...]

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        """The apiVersion of the objects listed through this resource."""
        return self.group_version

    def collection_path(self, namespace: str | None = None) -> str:
        """The URL path of the collection, across all namespaces unless ``namespace`` is given."""
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if namespace is not None and self.namespaced:
            return f"{prefix}/namespaces/{namespace}/{self.name}"
        return f"{prefix}/{self.name}"


@dataclass
class Discovery:
    """What discovery returned: groups in server order, preferred versions, resources."""

    versions: dict[str, list[str]] = field(default_factory=dict)  # group -> versions, priority order
    preferred: dict[str, str] = field(default_factory=dict)
    resources: dict[tuple[str, str], dict[str, APIResource]] = field(default_factory=dict)
    failed: set[tuple[str, str]] = field(default_factory=set)  # group versions whose list failed
    documents: dict[str, dict] = field(default_factory=dict)  # file stem -> raw document

    def serves_group(self, group: str) -> bool:
        return group in self.versions

    def find(self, resource: str, groups: Sequence[str]) -> APIResource | None:
        """Where to list ``resource``: the first of ``groups`` that serves it, at its best version.

        Within a group the preferred version wins; a resource the preferred version lacks
        (CronJobs before batch/v1 had them, Ingresses before networking.k8s.io/v1) is listed
        through the group's next version in the server's priority order. A later group in
        ``groups`` (``extensions``) is used only when no earlier one serves the resource, so
        a deprecated group is never used where a current one works.
        """
        for group in groups:
            for version in self._ordered(group):
                found = self.resources.get((group, version), {}).get(resource)
                if found is not None and "list" in found.verbs:
                    return found
        return None

    def find_kind(self, kind: str, groups: Sequence[str], avoid: frozenset[str] = frozenset()) -> APIResource | None:
        """Where to list objects of ``kind``: the best listable resource of ``groups`` serving it.

        Groups are tried in the order given, each at its preferred version first, then the
        server's priority order. A version in ``avoid`` (one the catalog says is going away)
        is used only when no group serves the kind through another version.
        """
        fallback: APIResource | None = None
        for group in groups:
            for version in self._ordered(group):
                for res in self.resources.get((group, version), {}).values():
                    if res.kind != kind or "list" not in res.verbs:
                        continue
                    if res.group_version not in avoid:
                        return res
                    fallback = fallback or res
        return fallback

    def serves_kind(self, kind: str, groups: Sequence[str]) -> bool:
        """Whether any version of ``groups`` serves ``kind`` at all (listable or not)."""
        return any(
            res.kind == kind
            for group in groups
            for version in self.versions.get(group, [])
            for res in self.resources.get((group, version), {}).values()
        )

    def unresolved_because_failed(self, groups: Sequence[str]) -> list[str]:
        """Group versions of ``groups`` whose discovery failed (so a miss is not conclusive)."""
        return sorted(f"{g}/{v}" if g else v for (g, v) in self.failed if g in groups)

    def _ordered(self, group: str) -> list[str]:
        versions = list(self.versions.get(group, []))
        preferred = self.preferred.get(group)
        if preferred in versions:
            versions.remove(preferred)
            versions.insert(0, preferred)
        return versions


def _stem(group: str, version: str) -> str:
    return f"{group}_{version}" if group else f"core_{version}"


def discover(
    api: KubeAPI,
    *,
    concurrency: int,
    on_error: Callable[[str, str], None],
    on_request: Callable[[], None] | None = None,
) -> Discovery:
    """Run discovery; a group version that cannot be read becomes an error, not a failure."""
    result = Discovery()
    try:
        core = api.get_json("/api")
        core.setdefault("apiVersion", "v1")  # /api omits it; kubectl-style readers want it
        result.documents["api"] = core
        core_versions = [str(v) for v in core.get("versions") or []]
    except Unauthorized:
        raise
    except ApiError as exc:
        on_error("discover the core API (/api)", exc.describe())
        core_versions = []
    if core_versions:
        result.versions[""] = core_versions
        result.preferred[""] = core_versions[0]
    try:
        groups = api.get_json("/apis")
        groups.setdefault("apiVersion", "v1")
        result.documents["apis"] = groups
    except Unauthorized:
        raise
    except ApiError as exc:
        on_error("discover API groups (/apis)", exc.describe())
        groups = {}
    for group in groups.get("groups") or []:
        name = str(group.get("name", ""))
        versions = [str(v.get("version")) for v in group.get("versions") or [] if v.get("version")]
        if not name or not versions:
            continue
        result.versions[name] = versions
        preferred = (group.get("preferredVersion") or {}).get("version")
        result.preferred[name] = str(preferred) if preferred else versions[0]

    targets = [(g, v) for g, vs in result.versions.items() for v in vs]

    def fetch(target: tuple[str, str]) -> tuple[tuple[str, str], dict | ApiError]:
        group, version = target
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            doc = api.get_json(path)
        except Unauthorized:
            raise
        except ApiError as exc:
            return target, exc
        finally:
            if on_request:
                on_request()
        return target, doc

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for (group, version), doc in pool.map(fetch, targets):
            gv = f"{group}/{version}" if group else version
            if isinstance(doc, ApiError):
                # Typically an aggregated API whose backing service is down (503).
                result.failed.add((group, version))
                on_error(f"discover resources of {gv}", doc.describe())
                continue
            doc.setdefault("apiVersion", "v1")
            doc.setdefault("kind", "APIResourceList")
            result.documents[_stem(group, version)] = doc
            table: dict[str, APIResource] = {}
            for res in doc.get("resources") or []:
                name = str(res.get("name", ""))
                if not name or "/" in name:
                    continue  # subresources (pods/log, deployments/scale) are not listable
                table[name] = APIResource(
                    group=group,
                    version=version,
                    name=name,
                    kind=str(res.get("kind", "")),
                    namespaced=bool(res.get("namespaced")),
                    verbs=tuple(str(v) for v in res.get("verbs") or []),
                )
            result.resources[(group, version)] = table
    return result
