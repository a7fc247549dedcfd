"""CoreDNS: the Corefile the new CoreDNS needs (and kubeadm's migration of it), and LimitRanges that keep its new pods from starting."""

from __future__ import annotations

from typing import Iterable

from kupgrade_lint.catalog import CorefileChange, Rule, coredns_version_key
from kupgrade_lint.checks import Candidate, CheckContext, check
from kupgrade_lint.findings import Severity
from kupgrade_lint.parsers.corefile import CorefileError, Plugin, ServerBlock, parse_corefile
from kupgrade_lint.parsers.quantity import parse_quantity
from kupgrade_lint.snapshot.model import KubeObject
from kupgrade_lint.versions import KubeVersion, minor_key


@check("coredns_ready_plugin")
def coredns_ready_plugin(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """kubeadm's CoreDNS from this minor probes readiness on :8181/ready, served only by the ``ready`` plugin."""
    obj = ctx.snapshot.find("ConfigMap", "kube-system", "coredns")
    if obj is None:
        return
    corefile = (obj.data.get("data") or {}).get("Corefile")
    if not isinstance(corefile, str):
        return
    try:
        blocks = parse_corefile(corefile)
    except CorefileError as exc:
        yield Candidate(None, f"ConfigMap kube-system/coredns: Corefile cannot be parsed: {exc}", obj.location("data", "Corefile"))
        return
    for block in blocks:
        if not any(k.split(":")[0] in (".", "") for k in block.keys):
            continue
        if block.has("ready"):
            continue
        yield Candidate(
            rule.breaks_in,
            f"the Corefile's server block {','.join(block.keys)} has no `ready` plugin; CoreDNS pods of {rule.breaks_in} stay Running but never Ready (readiness probe on :8181/ready)",
            obj.location(line=obj.content_line(("data", "Corefile"), block.line), field_path="data.Corefile"),
        )


def _coredns_requirements(ctx: CheckContext, rule: Rule) -> tuple[dict[str, str], dict[str, str], str]:
    """Requests/limits of the CoreDNS container that will be created: the live Deployment's, else kubeadm's."""
    deploy = ctx.snapshot.find("Deployment", "kube-system", "coredns")
    if deploy is not None:
        containers = (((deploy.data.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
        for c in containers:
            if c.get("name") == "coredns":
                res = c.get("resources") or {}
                return res.get("requests") or {}, res.get("limits") or {}, "Deployment kube-system/coredns"
    params = rule.params
    return dict(params.get("requests", {})), dict(params.get("limits", {})), "kubeadm's CoreDNS manifest"


@check("limitrange_blocks_coredns")
def limitrange_blocks_coredns(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """A kube-system LimitRange whose min/max the CoreDNS container violates: the new pods are refused."""
    if not ctx.hops:
        return
    requests, limits, source = _coredns_requirements(ctx, rule)
    for obj in ctx.snapshot.of_kind("LimitRange"):
        if obj.namespace != "kube-system":
            continue
        for i, item in enumerate((obj.data.get("spec") or {}).get("limits") or []):
            if not isinstance(item, dict) or item.get("type") not in ("Container", "Pod"):
                continue
            problems = []
            culprit: tuple = ()
            for resource, minimum in (item.get("min") or {}).items():
                need = parse_quantity(minimum)
                have = parse_quantity(requests.get(resource, limits.get(resource, "0")))
                if need is not None and have is not None and have < need:
                    problems.append(f"min {resource} {minimum} > CoreDNS request {requests.get(resource, limits.get(resource, 'none'))}")
                    culprit = culprit or ("min", resource)
            for resource, maximum in (item.get("max") or {}).items():
                cap = parse_quantity(maximum)
                have = parse_quantity(limits.get(resource, requests.get(resource, "0")))
                if cap is not None and have is not None and have > cap:
                    problems.append(f"max {resource} {maximum} < CoreDNS limit {limits.get(resource)}")
                    culprit = culprit or ("max", resource)
            if not problems:
                continue
            first = ctx.hops[0].minor
            yield Candidate(
                first,
                f"LimitRange kube-system/{obj.name} refuses the CoreDNS pods kubeadm creates at every upgrade ({'; '.join(problems)}; from {source})",
                obj.location("spec", "limits", i, *culprit, field_path=f"spec.limits[{i}]." + ".".join(culprit)),
            )


# -- the Corefile against the CoreDNS of each hop ------------------------------------------------
# kubeadm's Corefile handling during `kubeadm upgrade apply`: from 1.16 (PR 78033) its preflight runs
# coredns/corefile-migration (checks CoreDNSMigration and CoreDNSUnsupportedPlugins) and the addon
# phase replaces a default Corefile by the new default, migrates a customised one when the library
# reports a removed plugin/option or a new default (the old text kept as Corefile-backup) and keeps
# it otherwise; when the migration fails and the preflight error was skipped it keeps the Corefile
# and the old CoreDNS Deployment (PR 84523). See cmd/kubeadm/app/phases/addons/dns/dns.go and
# cmd/kubeadm/app/phases/upgrade/preflight.go.
KUBEADM_MIGRATES_FROM = "1.16"
_VERB = {"removed": "no longer accept", "ignored": "ignore"}


def _corefile_texts(ctx: CheckContext) -> Iterable[tuple[KubeObject, str, str]]:
    """The Corefiles the cluster DNS reads: kube-system/coredns and the ConfigMaps its Deployment mounts."""
    wanted: dict[str, set[str]] = {"coredns": {"Corefile"}}
    deploy = ctx.snapshot.find("Deployment", "kube-system", "coredns")
    if deploy is not None:
        pod = (((deploy.data.get("spec") or {}).get("template") or {}).get("spec") or {})
        for volume in pod.get("volumes") or []:
            source = (volume or {}).get("configMap") if isinstance(volume, dict) else None
            if not isinstance(source, dict) or not isinstance(source.get("name"), str):
                continue
            keys = {i.get("key") for i in source.get("items") or [] if isinstance(i, dict) and i.get("path") == "Corefile"}
            wanted.setdefault(source["name"], set()).update(k for k in keys if isinstance(k, str))
            if not source.get("items"):
                wanted[source["name"]].add("Corefile")
    for name in sorted(wanted):
        obj = ctx.snapshot.find("ConfigMap", "kube-system", name)
        if obj is None:
            continue
        data = obj.data.get("data") or {}
        for key in sorted(wanted[name]):
            if isinstance(data.get(key), str):
                yield obj, key, data[key]


def _parsed_corefiles(ctx: CheckContext) -> Iterable[tuple[KubeObject, str, list[ServerBlock] | None, Candidate | None]]:
    for obj, key, text in _corefile_texts(ctx):
        try:
            yield obj, key, parse_corefile(text), None
        except CorefileError as exc:
            problem = Candidate(None, f"ConfigMap kube-system/{obj.name}: {key} cannot be parsed: {exc}", obj.location("data", key))
            yield obj, key, None, problem


def _where(obj: KubeObject, key: str, line: int):
    return obj.location(line=obj.content_line(("data", key), line), field_path=f"data.{key}")


def _unsupported_plugins(blocks: list[ServerBlock], supported: frozenset[str]) -> list[Plugin]:
    return [p for block in blocks for p in block.plugins if p.name not in supported]


def _kubeadm_note(minor: str, change: CorefileChange, unsupported: list[Plugin]) -> str:
    if minor_key(minor) < minor_key(KUBEADM_MIGRATES_FROM):
        return f"kubeadm {minor} leaves the Corefile as it is (kubeadm migrates Corefiles from {KUBEADM_MIGRATES_FROM} on)."
    blocked = ""
    if unsupported:
        names = ", ".join(sorted({p.name for p in unsupported}))
        blocked = f" Its upgrade preflight stops first on CoreDNSUnsupportedPlugins ({names}: plugins corefile-migration does not know)."
    if change.status != "removed" or change.migration is None:
        return f"kubeadm {minor}'s Corefile migration (corefile-migration) leaves the line as it is.{blocked}"
    return (
        f"kubeadm {minor} upgrade apply migrates a customised Corefile with corefile-migration, which {change.migration} "
        f"(the old text is kept as Corefile-backup), and replaces a Corefile equal to its previous default with its new one; "
        f"if the migration fails and its CoreDNSMigration preflight error is skipped, it keeps this Corefile and the old CoreDNS Deployment.{blocked}"
    )


def _deployed_coredns(ctx: CheckContext, minor: str) -> str:
    release = ctx.catalog.releases[minor]
    return release.images_at(KubeVersion.parse(release.last_patch).patch or 0).coredns_tag


@check("coredns_corefile_changes")
def coredns_corefile_changes(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Each Corefile line that the CoreDNS of a hop removes (or ignores), at the hop whose kubeadm deploys it."""
    status = rule.params.get("status", "removed")
    supported = frozenset(rule.params.get("migration_plugins", []))
    index: dict[tuple[str, str | None], list[CorefileChange]] = {}
    for change in ctx.catalog.coredns_corefile.values():
        if change.status == status:
            index.setdefault((change.plugin, change.option), []).append(change)
    arrivals = {change.coredns_version: ctx.catalog.coredns_arrival(change.coredns_version) for changes in index.values() for change in changes}
    for obj, key, blocks, problem in _parsed_corefiles(ctx):
        if blocks is None:
            if obj.name != "coredns":  # kube-system/coredns's parse error is reported by the ready-plugin check
                yield problem
            continue
        unsupported = _unsupported_plugins(blocks, supported) if supported else []
        for block in blocks:
            for plugin in block.plugins:
                hits = [(c, plugin.line, plugin.name) for c in index.get((plugin.name, None), [])]
                for option in plugin.options:
                    text = f"{plugin.name} {{ {option.name} }}"
                    hits.extend((c, option.line, text) for c in index.get((plugin.name, option.name), []))
                for change, line, what in hits:
                    arrival = arrivals[change.coredns_version]
                    if arrival is None:
                        continue
                    minor, backports = arrival
                    note = _kubeadm_note(minor, change, unsupported)
                    migrated = change.migration is not None and not unsupported and minor_key(minor) >= minor_key(KUBEADM_MIGRATES_FROM)
                    severity = Severity.WARNING if status == "removed" and migrated else None
                    yield Candidate(
                        minor,
                        f"{obj.kind} kube-system/{obj.name} {key}: `{what}` in server block {','.join(block.keys)}: "
                        f"CoreDNS {change.coredns_version} and later (kubeadm {minor} deploys {_deployed_coredns(ctx, minor)}) "
                        f"{_VERB[change.status]} it: {change.effect}. {note}",
                        _where(obj, key, line),
                        remediation=f"Before the hop: {change.replacement}. {rule.remediation}",
                        references=change.sources,
                        severity=severity,
                        backported_to=backports,
                    )


def _coredns_changes_at(ctx: CheckContext, since: str, every_minor_until: str) -> list[tuple[str, str, str]]:
    """(minor, old CoreDNS, new CoreDNS) for each minor from ``since`` whose kubeadm upgrade runs its Corefile checks.

    Before ``every_minor_until`` kubeadm runs them at every upgrade; from it, only when the CoreDNS
    version changes (corefile-migration v1.0.20 skips same-version checks, kubernetes PR 116060).
    """
    out = []
    previous: str | None = None
    for minor in ctx.catalog.known_minors():
        release = ctx.catalog.releases[minor]
        tag = release.images_at(KubeVersion.parse(release.last_patch).patch or 0).coredns_tag
        if previous is not None and minor_key(minor) >= minor_key(since):
            if minor_key(minor) < minor_key(every_minor_until) or coredns_version_key(tag) != coredns_version_key(previous):
                out.append((minor, previous, tag))
        previous = tag
    return out


@check("coredns_migration_unsupported_plugins")
def coredns_migration_unsupported_plugins(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Corefile plugins that corefile-migration does not know: kubeadm's upgrade preflight stops on them."""
    supported = frozenset(rule.params.get("migration_plugins", []))
    upgrades = _coredns_changes_at(ctx, KUBEADM_MIGRATES_FROM, rule.params.get("every_upgrade_until", "1.27"))
    for obj, key, blocks, _problem in _parsed_corefiles(ctx):
        if blocks is None:
            continue
        for plugin in _unsupported_plugins(blocks, supported):
            for minor, old, new in upgrades:
                yield Candidate(
                    minor,
                    f"{obj.kind} kube-system/{obj.name} {key}: plugin `{plugin.name}` is not one that corefile-migration knows; "
                    f"kubeadm {minor} upgrade apply (CoreDNS {old} → {new}) stops at its preflight check CoreDNSUnsupportedPlugins",
                    _where(obj, key, plugin.line),
                )
