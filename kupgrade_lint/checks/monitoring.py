"""Monitoring that loses its data: removed scrape ports and paths, and cAdvisor labels renamed."""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

from kupgrade_lint.catalog import Rule
from kupgrade_lint.checks import Candidate, CheckContext, check
from kupgrade_lint.parsers.promql import analyse
from kupgrade_lint.parsers.yaml_documents import read_documents
from kupgrade_lint.snapshot.model import KubeObject


def _selects(selector: dict, labels: dict) -> bool:
    match = (selector or {}).get("matchLabels") or {}
    if any(labels.get(k) != v for k, v in match.items()):
        return False
    for expr in (selector or {}).get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _namespaces(monitor: KubeObject) -> set[str] | None:
    ns_sel = (monitor.data.get("spec") or {}).get("namespaceSelector") or {}
    if ns_sel.get("any"):
        return None
    names = ns_sel.get("matchNames")
    return set(names) if names else {monitor.namespace or "default"}


@check("insecure_component_ports")
def insecure_component_ports(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """ServiceMonitors and scrape configs that reach kube-scheduler/kube-controller-manager on their insecure ports."""
    ports = {int(p) for p in rule.params.get("ports", [])}
    # Only Services with one of the ports can matter; group them by namespace once.
    by_namespace: dict[str | None, list[tuple[KubeObject, dict]]] = {}
    for svc in ctx.snapshot.of_kind("Service", origins=("cluster", "manifest", "helm")):
        svc_ports = (svc.data.get("spec") or {}).get("ports") or []
        if any({p.get("port"), p.get("targetPort")} & ports for p in svc_ports if isinstance(p, dict)):
            by_namespace.setdefault(svc.namespace, []).append((svc, svc.metadata.get("labels") or {}))
    for monitor in ctx.snapshot.of_kind("ServiceMonitor"):
        spec = monitor.data.get("spec") or {}
        namespaces = _namespaces(monitor)
        candidates = [item for ns, items in by_namespace.items() if namespaces is None or ns in namespaces for item in items]
        selected = [svc for svc, labels in candidates if _selects(spec.get("selector") or {}, labels)]
        for i, endpoint in enumerate(spec.get("endpoints") or []):
            hit = None
            target = endpoint.get("targetPort")
            if isinstance(target, int) and target in ports:
                hit = f"targetPort {target}"
            for svc in selected:
                for port in (svc.data.get("spec") or {}).get("ports") or []:
                    numbers = {port.get("port"), port.get("targetPort")}
                    if endpoint.get("port") == port.get("name") and numbers & ports:
                        hit = f"port {port.get('name')} of Service {svc.namespace}/{svc.name} ({port.get('port')})"
            if hit:
                yield Candidate(
                    rule.breaks_in,
                    f"ServiceMonitor {monitor.namespace}/{monitor.name} scrapes {hit}, an insecure port that kubeadm stops serving (--port=0) from this hop; the target disappears",
                    monitor.location("spec", "endpoints", i, field_path=f"spec.endpoints[{i}]"),
                )
    for obj, path, text in _scrape_configs(ctx):
        for port in sorted(ports):
            if f":{port}" in text:
                yield Candidate(
                    rule.breaks_in,
                    f"Prometheus scrape configuration in {obj.kind} {obj.namespace}/{obj.name} targets port {port}, which kubeadm stops serving (--port=0) from this hop",
                    _where(obj, path, text, f":{port}"),
                )


def _scrape_configs(ctx: CheckContext) -> Iterator[tuple[KubeObject, tuple, str]]:
    """ConfigMap values that look like Prometheus configuration (scrape_configs)."""
    for obj in ctx.snapshot.of_kind("ConfigMap"):
        for key, value in sorted(((obj.data.get("data") or {}).items())):
            if isinstance(value, str) and ("scrape_configs" in value or "job_name" in value):
                yield obj, ("data", key), value


@check("kubelet_metrics_path")
def kubelet_metrics_path(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Scrapes of a kubelet metrics path that is removed."""
    paths = set(rule.params.get("paths", []))
    replacement = rule.params.get("replacement", "")
    for kind, key in (("ServiceMonitor", "endpoints"), ("PodMonitor", "podMetricsEndpoints")):
        for monitor in ctx.snapshot.of_kind(kind):
            for i, endpoint in enumerate((monitor.data.get("spec") or {}).get(key) or []):
                if isinstance(endpoint, dict) and endpoint.get("path") in paths:
                    yield Candidate(
                        rule.breaks_in,
                        f"{kind} {monitor.namespace}/{monitor.name} scrapes the kubelet's {endpoint['path']}, removed in {rule.breaks_in}; use {replacement}",
                        monitor.location("spec", key, i, "path", field_path=f"spec.{key}[{i}].path"),
                    )
    for obj, path, text in _scrape_configs(ctx):
        for removed in sorted(paths):
            if removed in text:
                yield Candidate(
                    rule.breaks_in,
                    f"Prometheus scrape configuration in ConfigMap {obj.namespace}/{obj.name} uses the kubelet's {removed}, removed in {rule.breaks_in}; use {replacement}",
                    _where(obj, path, text, removed),
                )


def _queries(ctx: CheckContext) -> Iterator[tuple[KubeObject, tuple, str, int | None]]:
    """Every PromQL expression: PrometheusRules, Grafana dashboards and adapter rules in ConfigMaps."""
    for obj in ctx.snapshot.of_kind("PrometheusRule"):
        for gi, group in enumerate((obj.data.get("spec") or {}).get("groups") or []):
            for ri, rule in enumerate((group or {}).get("rules") or []):
                expr = (rule or {}).get("expr")
                if isinstance(expr, str):
                    yield obj, ("spec", "groups", gi, "rules", ri, "expr"), expr, None
    for obj in ctx.snapshot.of_kind("ConfigMap"):
        for key, value in sorted((obj.data.get("data") or {}).items()):
            if not isinstance(value, str) or not any(k in value for k in ('"expr"', "expr:", "metricsQuery", "seriesQuery")):
                continue
            # The objects' reader, with its limits: an alias bomb in a ConfigMap must not be expanded here.
            docs = read_documents(value)
            if len(docs) != 1:
                continue
            parsed: Any = docs[0].data
            for expr in _walk_exprs(parsed):
                yield obj, ("data", key), expr, _line_of(value, expr)


def _line_of(text: str, expr: str) -> int | None:
    """Line (1-based) of ``text`` where ``expr`` starts, written raw (YAML) or JSON-escaped."""
    if not expr.strip():
        return None
    first = expr.strip().splitlines()[0]
    for needle in (first, json.dumps(first)[1:-1]):
        for number, line in enumerate(text.splitlines(), 1):
            if needle in line:
                return number
    return None


def _where(obj: KubeObject, path: tuple, text: str, needle: str):
    """Location of the first line of a ConfigMap value that contains ``needle``."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return obj.location(*path, line=obj.content_line(path, number))
    return obj.location(*path)


def _walk_exprs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("expr", "metricsQuery", "seriesQuery") and isinstance(v, str):
                yield v
            else:
                yield from _walk_exprs(v)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_exprs(item)


@check("cadvisor_labels")
def cadvisor_labels(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Queries of cAdvisor metrics that use the removed labels (``container_name`` → ``container``, ...)."""
    renamed: dict[str, str] = dict(rule.params.get("renamed_labels", {}))
    prefixes = tuple(rule.params.get("metric_prefixes", []))
    for obj, path, expr, inner_line in _queries(ctx):
        use = analyse(expr)
        used = sorted(label for label in use.labels if label in renamed)
        if not used or not any(metric.startswith(prefixes) for metric in use.metrics):
            continue
        line = obj.content_line(path, inner_line) if inner_line else obj.line(*path)
        fix = ", ".join(f"{old} → {renamed[old]}" for old in used)
        yield Candidate(
            rule.breaks_in,
            f"query in {obj.kind} {obj.namespace}/{obj.name} uses cAdvisor label(s) {', '.join(used)}, gone from {rule.breaks_in}: {_short(expr)}",
            obj.location(*path, line=line),
            remediation=f"Rename the labels in the query ({fix}). {rule.remediation}",
        )


def _short(expr: str) -> str:
    flat = " ".join(expr.split())
    return flat if len(flat) <= 120 else flat[:117] + "..."
