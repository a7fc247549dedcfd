"""Built-in API versions no longer served, and file-only configuration API versions no longer read.

For objects read from the cluster, the apiVersion the object was listed with says only how the
snapshot was taken (the apiserver converts every stored object to whatever version is asked),
so the evidence of the version really in use is taken from how the object is managed: the
``kubectl.kubernetes.io/last-applied-configuration`` annotation, ``metadata.managedFields``
(https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management) and Helm
release manifests. Each candidate says which evidence it rests on and how sure it is.
"""

from __future__ import annotations

import json
from typing import Iterable, Iterator

from kupgrade_lint.catalog import RemovedApi, Rule
from kupgrade_lint.checks import Candidate, CheckContext, check
from kupgrade_lint.findings import Location, Severity
from kupgrade_lint.parsers.usage import ApiUse, guess_resource, parse_audit_log, parse_deprecated_api_metric
from kupgrade_lint.snapshot.model import KubeObject

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _remediation(entry: RemovedApi) -> str:
    if entry.replacement:
        text = f"Migrate to {entry.replacement}"
        if entry.replacement_available_in:
            text += f" (served since {entry.replacement_available_in})"
        text += " before upgrading"
    else:
        text = "There is no replacement API; remove the objects or move to the alternative before upgrading"
    if entry.migration:
        text += ": " + "; ".join(entry.migration)
    return text + "."


def _describe(obj: KubeObject) -> str:
    return f"{obj.kind} {obj.namespace}/{obj.name}" if obj.namespace else f"{obj.kind} {obj.name}"


def _evidence(obj: KubeObject, removed: frozenset[str] | None = None) -> Iterator[tuple[str, str, str, tuple]]:
    """(apiVersion, evidence, confidence, path) for every sign of the version an object is used with.

    With ``removed`` (the removed apiVersions of the object's kind), a last-applied annotation that
    names none of them (and escapes nothing) is not decoded: its version could only be one that
    matches nothing, and leaving it out of the signs changes none that match.
    """
    origin = obj.source.origin
    if origin == "helm":
        yield obj.api_version, f"Helm release {obj.source.helm_release}", "high", ("apiVersion",)
        return
    if origin in ("manifest", "node"):
        yield obj.api_version, "manifest file", "high", ("apiVersion",)
        return
    annotations = obj.metadata.get("annotations") or {}
    seen: set[str] = set()
    raw = annotations.get(LAST_APPLIED) if isinstance(annotations, dict) else None
    if isinstance(raw, str) and (removed is None or "\\" in raw or any(version in raw for version in removed)):
        try:
            applied = json.loads(raw)
            version = applied.get("apiVersion") if isinstance(applied, dict) else None
        except (ValueError, RecursionError):  # not JSON, or nested too deep
            version = None
        if version:
            seen.add(version)
            yield version, "last-applied-configuration (kubectl apply)", "high", ("metadata", "annotations", LAST_APPLIED)
    for i, entry in enumerate(obj.metadata.get("managedFields") or []):
        if not isinstance(entry, dict) or not entry.get("apiVersion") or entry["apiVersion"] in seen:
            continue
        seen.add(entry["apiVersion"])
        manager = entry.get("manager", "?")
        yield entry["apiVersion"], f"managedFields (manager {manager}, {entry.get('operation', '?')})", "high", ("metadata", "managedFields", i)
    if obj.api_version not in seen:
        yield obj.api_version, "the apiVersion the object was listed with", "low", ("apiVersion",)


@check("removed_api")
def removed_api(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Objects in the cluster, Helm releases and manifests that use an API no longer served."""
    apis = {key: e for key, e in ctx.catalog.apis.items() if e.read_by == "kube-apiserver"}
    # Only kinds with a removed API can match: the others' evidence (a JSON annotation to decode) is not read.
    removed: dict[str, frozenset[str]] = {}
    for version, kind in apis:
        removed[kind] = removed.get(kind, frozenset()) | {version}
    for obj in ctx.snapshot.in_input_order(*sorted(removed)):
        for version, evidence, confidence, path in _evidence(obj, removed[obj.kind]):
            entry = apis.get((version, obj.kind))
            if entry is None:
                continue
            message = f"{_describe(obj)} uses {version}, which is no longer served from {entry.removed_in} (evidence: {evidence})"
            severity = None
            if confidence == "low":
                severity = Severity.INFO
                message += "; this may only reflect how the snapshot was taken"
            line = obj.content_line(path, 1) if path[-1] == LAST_APPLIED else None
            yield Candidate(
                entry.removed_in,
                message,
                obj.location(*path, line=line, field_path="apiVersion" if path == ("apiVersion",) else None),
                remediation=_remediation(entry),
                references=entry.sources,
                evidence=evidence,
                confidence=confidence,
                severity=severity,
            )


def _client_uses(ctx: CheckContext) -> Iterable[tuple[ApiUse | None, str, str]]:
    """(use, evidence, file) from the apiserver metric and audit logs; (None, problem, file) for unreadable lines."""
    for name, text in sorted(ctx.snapshot.metrics.items()):
        for use in parse_deprecated_api_metric(text):
            yield use, "apiserver_requested_deprecated_apis metric", f"metrics/{name}.txt"
    for name, (file, text) in sorted(ctx.snapshot.audit_logs.items()):
        uses, bad = parse_audit_log(text)
        for use in uses:
            yield use, "audit log", file
        if bad:
            yield None, f"{len(bad)} line(s) are not JSON audit events and were not read (first: line {bad[0]})", file


@check("removed_api_requests")
def removed_api_requests(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Clients that still request a removed API (apiserver metric, audit log): they break at the hop."""
    by_resource = {
        (e.api_version, guess_resource(e.kind)): e for e in ctx.catalog.apis.values() if e.read_by == "kube-apiserver"
    }
    for use, evidence, file in _client_uses(ctx):
        if use is None:
            yield Candidate(None, f"{file}: {evidence}", Location(file=file))
            continue
        entry = by_resource.get((use.api_version, use.resource))
        if entry is None:
            continue
        who = f" by {', '.join(use.clients)} ({use.count} request(s))" if use.clients else ""
        yield Candidate(
            entry.removed_in,
            f"{use.resource} are requested through {use.api_version}{who}, which is no longer served from {entry.removed_in} (evidence: {evidence})",
            Location(file=file, line=use.line),
            remediation=_remediation(entry).replace("before upgrading", "in the client before upgrading"),
            references=entry.sources,
            evidence=evidence,
            confidence="high",
        )


@check("removed_config_api")
def removed_config_api(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Configuration files (kubeadm, kubelet, kube-proxy, scheduler, apiserver) in a version no longer read."""
    apis = {key: e for key, e in ctx.catalog.apis.items() if e.read_by != "kube-apiserver"}
    for config in ctx.config.embedded:
        if config.owner is not None and config.owner.name == "kubeadm-config":
            # kubeadm upgrade converts its own stored configuration; only files users pass matter.
            continue
        data = config.data
        if not isinstance(data, dict):
            continue
        entry = apis.get((str(data.get("apiVersion")), str(data.get("kind"))))
        if entry is None:
            continue
        yield Candidate(
            entry.removed_in,
            f"{entry.kind} {entry.api_version} is no longer read by {entry.read_by} from {entry.removed_in}",
            config.location(("apiVersion",), "apiVersion"),
            remediation=_remediation(entry),
            references=entry.sources,
            evidence="configuration file",
            confidence="high",
        )
