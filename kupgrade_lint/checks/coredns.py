"""CoreDNS: the Corefile the new CoreDNS needs (and kubeadm's migration of it), and LimitRanges that keep its new pods from starting."""

from __future__ import annotations

import re
from typing import Iterable

from kupgrade_lint.catalog import CorefileChange, Rule, coredns_version_key
from kupgrade_lint.checks import Candidate, CheckContext, check
from kupgrade_lint.findings import Severity
from kupgrade_lint.parsers.corefile import CorefileError, Option, Plugin, ServerBlock, parse_corefile
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
        where = obj.location(line=obj.content_line(("data", "Corefile"), exc.line), field_path="data.Corefile")
        yield Candidate(None, f"ConfigMap kube-system/coredns: Corefile cannot be parsed: {exc.message}", where)
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
# kubeadm 1.16-1.26 stops at CoreDNSUnsupportedPlugins on every upgrade; from 1.27 the check reports nothing
# (corefile-migration v1.0.20, kubernetes PR 116060). The rule KUP044's summary and sources say why.
KUBEADM_UNSUPPORTED_CHECK_UNTIL = "1.27"
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


def _other_corefiles(ctx: CheckContext, read: set[tuple[str | None, str]]) -> Iterable[Candidate]:
    """ConfigMaps holding a Corefile that the cluster DNS does not read: said, not judged."""
    for obj in ctx.snapshot.of_kind("ConfigMap"):
        if (obj.namespace, obj.name) in read or not isinstance((obj.data.get("data") or {}).get("Corefile"), str):
            continue
        yield Candidate(
            None,
            f"ConfigMap {obj.namespace}/{obj.name}: its Corefile is not the one kubeadm's CoreDNS reads (kube-system/coredns, or what "
            f"Deployment kube-system/coredns mounts), so its lines are not judged against a CoreDNS version; check them against "
            f"the CoreDNS that reads it (e.g. NodeLocal DNSCache's node-cache image)",
            obj.location("data", "Corefile"),
            severity=Severity.INFO,
        )


def _parsed_corefiles(ctx: CheckContext) -> Iterable[tuple[KubeObject, str, list[ServerBlock] | None, Candidate | None]]:
    for obj, key, text in _corefile_texts(ctx):
        try:
            yield obj, key, parse_corefile(text), None
        except CorefileError as exc:
            problem = Candidate(None, f"ConfigMap kube-system/{obj.name}: {key} cannot be parsed: {exc}", obj.location("data", key))
            yield obj, key, None, problem


def _where(obj: KubeObject, key: str, line: int):
    return obj.location(line=obj.content_line(("data", key), line), field_path=f"data.{key}")


def _unsupported_plugins(blocks: list[ServerBlock], supported: frozenset[str], also: frozenset[str] = frozenset()) -> list[Plugin]:
    return [p for block in blocks for p in block.plugins if p.name not in supported or p.name in also]


def _also_reported(rule: Rule, minor: str) -> frozenset[str]:
    """Known plugins that kubeadm ``minor``'s preflight still reports as unsupported (older kubeadm asked about every release)."""
    out: set[str] = set()
    for before, plugins in (rule.params.get("also_reported_before") or {}).items():
        if minor_key(minor) < minor_key(str(before)):
            out.update(plugins)
    return frozenset(out)


def _migration_rule(ctx: CheckContext) -> Rule | None:
    """The rule whose params say what corefile-migration knows (one place for that data)."""
    rules = ctx.catalog.rule_by_check("coredns_migration_unsupported_plugins")
    return rules[0] if rules else None


def _preflight_blockers(ctx: CheckContext, blocks: list[ServerBlock], minor: str) -> list[str]:
    """What stops kubeadm ``minor``'s CoreDNSUnsupportedPlugins preflight in these blocks (plugin and option names)."""
    rule = _migration_rule(ctx)
    if rule is None or not minor_key(KUBEADM_MIGRATES_FROM) <= minor_key(minor) < minor_key(KUBEADM_UNSUPPORTED_CHECK_UNTIL):
        return []
    names = [p.name for p in _unsupported_plugins(blocks, frozenset(rule.params.get("migration_plugins", [])), _also_reported(rule, minor))]
    if minor_key(minor) >= minor_key(rule.params.get("options_checked_from", KUBEADM_UNSUPPORTED_CHECK_UNTIL)):
        names += [f"{p.name} {{ {o.name} }}" for p, o in _unsupported_options(blocks, rule)]
    return sorted(set(names))


def _args_match(pattern: tuple[str, ...], args: tuple[str, ...]) -> bool:
    """corefile-migration's wildcard match: ``*`` stands for one argument, ``***`` for all the rest."""
    for i, arg in enumerate(pattern):
        if arg == "*":
            continue
        if arg == "***":
            return True
        if i >= len(args) or arg != args[i]:
            return False
    return len(pattern) == len(args)


def _matches_default(blocks: list[ServerBlock], default: list[ServerBlock]) -> bool:
    """True when the Corefile is this default: same blocks, plugins and options, in any order."""
    if len(blocks) != len(default):
        return False
    for block in blocks:
        match = next((d for d in default if _args_match(d.keys, block.keys)), None)
        if match is None or len(block.plugins) != len(match.plugins):
            return False
        for plugin in block.plugins:
            found = next((d for d in match.plugins if d.name == plugin.name and _args_match(d.args, plugin.args)), None)
            if found is None or len(plugin.options) != len(found.options):
                return False
            for option in plugin.options:
                if not any(d.name == option.name and _args_match(d.args, option.args) for d in found.options):
                    return False
    return True


def _kubeadm_default(ctx: CheckContext, blocks: list[ServerBlock]) -> str | None:
    """The CoreDNS version whose kubeadm default Corefile this is (corefile-migration's Default), or None."""
    rule = _migration_rule(ctx)
    for version, text in ((rule.params.get("default_corefiles") or {}) if rule else {}).items():
        try:
            if _matches_default(blocks, parse_corefile(text)):
                return str(version)
        except CorefileError:
            continue
    return None


def _kubeadm_note(minor: str, change: CorefileChange, blockers: list[str]) -> str:
    if minor_key(minor) < minor_key(KUBEADM_MIGRATES_FROM):
        return f"kubeadm {minor} leaves the Corefile as it is (kubeadm migrates Corefiles from {KUBEADM_MIGRATES_FROM} on)."
    blocked = ""
    if blockers:
        blocked = f" Its upgrade preflight stops first on CoreDNSUnsupportedPlugins, which reports {', '.join(blockers)}."
    if change.migration is None:
        return f"kubeadm {minor}'s Corefile migration (corefile-migration) leaves the line as it is.{blocked}"
    if change.status != "removed":
        return f"kubeadm {minor}'s Corefile migration {change.migration}.{blocked}"
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
    index: dict[tuple[str, str | None], list[CorefileChange]] = {}
    for change in ctx.catalog.coredns_corefile.values():
        if change.status == status:
            index.setdefault((change.plugin, change.option), []).append(change)
    arrivals = {change.coredns_version: ctx.catalog.coredns_arrival(change.coredns_version) for changes in index.values() for change in changes}
    if status == "removed":
        yield from _other_corefiles(ctx, {("kube-system", obj.name) for obj, _key, _text in _corefile_texts(ctx)})
    for obj, key, blocks, problem in _parsed_corefiles(ctx):
        if blocks is None:
            if (obj.name, key) != ("coredns", "Corefile"):  # that one's parse error is reported by the ready-plugin check
                yield problem
            continue
        blockers_at: dict[str, list[str]] = {}  # per minor, computed once per Corefile
        default_of = _kubeadm_default(ctx, blocks)
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
                    if minor not in blockers_at:
                        blockers_at[minor] = _preflight_blockers(ctx, blocks, minor)
                    blockers = blockers_at[minor]
                    note = _kubeadm_note(minor, change, blockers)
                    migrated = change.migration is not None and not blockers and minor_key(minor) >= minor_key(KUBEADM_MIGRATES_FROM)
                    severity = Severity.WARNING if status == "removed" and migrated else None
                    if default_of is not None and minor_key(minor) >= minor_key(KUBEADM_MIGRATES_FROM) and not blockers:
                        note = (
                            f"This Corefile is kubeadm's default for CoreDNS {default_of} (up to the cluster domain): kubeadm {minor} "
                            f"upgrade apply replaces it with its new default, which does not have the line."
                        )
                        severity = Severity.INFO
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


def _coredns_upgrades(ctx: CheckContext, since: str, checked_until: str) -> list[tuple[str, str, str, bool]]:
    """(minor, old CoreDNS, new CoreDNS, preflight checks) for each minor from ``since`` that checks or changes CoreDNS.

    kubeadm before ``checked_until`` runs its CoreDNSUnsupportedPlugins check at every upgrade, also
    when CoreDNS does not change (kubeadm issue 2830). From it (corefile-migration v1.0.20, PR
    116060) the library reports nothing when the start and end versions are equal, and kubeadm's
    check passes the installed version as both; those minors are listed only when CoreDNS changes.
    """
    out = []
    previous: str | None = None
    for minor in ctx.catalog.known_minors():
        tag = _deployed_coredns(ctx, minor)
        if previous is not None and minor_key(minor) >= minor_key(since):
            checked = minor_key(minor) < minor_key(checked_until)
            if checked or coredns_version_key(tag) != coredns_version_key(previous):
                out.append((minor, previous, tag, checked))
        previous = tag
    return out


def _unsupported_options(blocks: list[ServerBlock], rule: Rule) -> list[tuple[Plugin, Option]]:
    """Options of plugins whose options the rule lists, that are neither named there nor match its patterns."""
    named = {plugin: frozenset(names) for plugin, names in (rule.params.get("migration_options") or {}).items()}
    patterns = {plugin: [re.compile(p) for p in pats] for plugin, pats in (rule.params.get("migration_option_patterns") or {}).items()}
    out = []
    for block in blocks:
        for plugin in block.plugins:
            if plugin.name not in named:
                continue
            for option in plugin.options:
                if option.name in named[plugin.name] or any(p.match(option.name) for p in patterns.get(plugin.name, ())):
                    continue
                out.append((plugin, option))
    return out


@check("coredns_migration_unsupported_plugins")
def coredns_migration_unsupported_plugins(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Corefile plugins (and options) that corefile-migration does not know: kubeadm's upgrade preflight stops on them."""
    supported = frozenset(rule.params.get("migration_plugins", []))
    checked_until = KUBEADM_UNSUPPORTED_CHECK_UNTIL
    options_from = rule.params.get("options_checked_from", checked_until)
    upgrades = _coredns_upgrades(ctx, KUBEADM_MIGRATES_FROM, checked_until)
    for obj, key, blocks, _problem in _parsed_corefiles(ctx):
        if blocks is None:
            continue
        for plugin, option in _unsupported_options(blocks, rule):
            for minor, old, new, checked in upgrades:
                if checked and minor_key(minor) >= minor_key(options_from):
                    yield Candidate(
                        minor,
                        f"{obj.kind} kube-system/{obj.name} {key}: option `{option.name}` of plugin `{plugin.name}` is not one that "
                        f"corefile-migration knows; kubeadm {minor} upgrade apply (CoreDNS {old} → {new}) stops at its preflight check "
                        f"CoreDNSUnsupportedPlugins",
                        _where(obj, key, option.line),
                    )
        also_ever = frozenset(p for plugins in (rule.params.get("also_reported_before") or {}).values() for p in plugins)
        for plugin in _unsupported_plugins(blocks, supported, also_ever):
            where = f"{obj.kind} kube-system/{obj.name} {key}: plugin `{plugin.name}` is not one that corefile-migration knows"
            for minor, old, new, checked in upgrades:
                if plugin.name in supported:
                    if checked and plugin.name in _also_reported(rule, minor):
                        yield Candidate(
                            minor,
                            f"{obj.kind} kube-system/{obj.name} {key}: plugin `{plugin.name}`: kubeadm {minor} upgrade apply (CoreDNS "
                            f"{old} → {new}) stops at its preflight check CoreDNSUnsupportedPlugins, because it asks corefile-migration "
                            f"about every CoreDNS release up to {new} and the plugin is gone from some of them",
                            _where(obj, key, plugin.line),
                        )
                    continue
                if checked:
                    yield Candidate(
                        minor,
                        f"{where}; kubeadm {minor} upgrade apply (CoreDNS {old} → {new}) stops at its preflight check CoreDNSUnsupportedPlugins",
                        _where(obj, key, plugin.line),
                    )
                    continue
                yield Candidate(
                    minor,
                    f"{where}; kubeadm {minor} (CoreDNS {old} → {new}) leaves its lines unchanged and, from {checked_until} on, its "
                    f"preflight no longer reports such plugins (corefile-migration v1.0.20 returns nothing for the installed version): "
                    f"nothing checks them against CoreDNS {new}",
                    _where(obj, key, plugin.line),
                    remediation=f"Check the plugin's options against the release notes of CoreDNS {old} to {new} before the hop.",
                    severity=Severity.INFO,
                )
