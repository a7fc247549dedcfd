"""Monitoring that loses its data: removed scrape ports and paths, cAdvisor labels renamed, metrics removed."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from kupgrade_lint.catalog import RemovedMetric, Rule
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


class _ServiceIndex:
    """Services by namespace and, in each, by label: a selector is tried only on the Services that
    have the rarest of its ``matchLabels`` (never every Service for every ServiceMonitor)."""

    def __init__(self) -> None:
        self.by_namespace: dict[str | None, list[tuple[KubeObject, dict]]] = {}
        self.by_label: dict[tuple, list[int]] = {}  # (namespace, key, value) -> indexes in by_namespace[namespace]
        self.order: dict[str | None, int] = {}  # namespaces in the order their first Service came

    def add(self, svc: KubeObject) -> None:
        if svc.namespace not in self.order:
            self.order[svc.namespace] = len(self.order)
        items = self.by_namespace.setdefault(svc.namespace, [])
        labels = svc.metadata.get("labels") or {}
        for key, value in labels.items() if isinstance(labels, dict) else ():
            try:
                self.by_label.setdefault((svc.namespace, key, value), []).append(len(items))
            except TypeError:  # an unhashable label value matches no selector's string
                pass
        items.append((svc, labels))

    def candidates(self, namespaces: set[str] | None, selector: dict) -> Iterator[tuple[KubeObject, dict]]:
        """Services of these namespaces (None: all) that may match ``selector``, in the order they were added."""
        match = selector.get("matchLabels") if isinstance(selector, dict) else None
        pairs = list(match.items()) if isinstance(match, dict) else []
        if namespaces is None:
            chosen = list(self.by_namespace)
        else:
            order = self.order
            chosen = sorted((ns for ns in namespaces if ns in order), key=order.__getitem__)
        for ns in chosen:
            items = self.by_namespace[ns]
            if not pairs:
                yield from items
                continue
            try:
                postings = [self.by_label.get((ns, key, value), ()) for key, value in pairs]
            except TypeError:
                yield from items
                continue
            for index in min(postings, key=len):
                yield items[index]


@check("insecure_component_ports")
def insecure_component_ports(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """ServiceMonitors and scrape configs that reach kube-scheduler/kube-controller-manager on their insecure ports."""
    ports = {int(p) for p in rule.params.get("ports", [])}
    # Only Services with one of the ports can matter; index them by namespace and label once.
    services = _ServiceIndex()
    for svc in ctx.snapshot.of_kind("Service", origins=("cluster", "manifest", "helm")):
        svc_ports = (svc.data.get("spec") or {}).get("ports") or []
        if any({p.get("port"), p.get("targetPort")} & ports for p in svc_ports if isinstance(p, dict)):
            services.add(svc)
    for monitor in ctx.snapshot.of_kind("ServiceMonitor"):
        spec = monitor.data.get("spec") or {}
        selector = spec.get("selector") or {}
        selected = [svc for svc, labels in services.candidates(_namespaces(monitor), selector) if _selects(selector, labels)]
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
            for expr, line in ctx.memo("configmap-queries").get_or(value, _text_queries):
                yield obj, ("data", key), expr, line


def _text_queries(value: str) -> tuple[tuple[str, int | None], ...]:
    """The expressions of a ConfigMap value and the line each starts on (read once per scan: two checks ask)."""
    # The objects' reader, with its limits: an alias bomb in a ConfigMap must not be expanded here.
    docs = read_documents(value)
    if len(docs) != 1:
        return ()
    parsed: Any = docs[0].data
    return tuple((expr, _line_of(value, expr)) for expr in _walk_exprs(parsed))


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


# Grafana template variables on Prometheus: label_values(...), query_result(...), metrics(...)
# (https://grafana.com/docs/grafana/latest/datasources/prometheus/template-variables/).
_GRAFANA_VARIABLE_QUERIES = ("label_values(", "query_result(", "metrics(")


def _walk_exprs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("expr", "metricsQuery", "seriesQuery") and isinstance(v, str):
                yield v
            elif k == "query" and isinstance(v, str) and v.lstrip().startswith(_GRAFANA_VARIABLE_QUERIES):
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
    analyses = ctx.memo("promql")  # both PromQL checks read the same expressions
    for obj, path, expr, inner_line in _queries(ctx):
        use = analyses.get_or(expr, analyse)
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


# -- metrics a release stops exporting ----------------------------------------------------------
_SERIES_SUFFIXES = ("_bucket", "_sum", "_count")


@dataclass(frozen=True)
class _Gone:
    """A removed metric placed on the minor whose release stops exporting it."""

    metric: RemovedMetric
    minor: str
    backports: tuple[str, ...]
    why: str


def _removed_metrics(ctx: CheckContext) -> dict[str, _Gone]:
    """Every removed metric name of the catalog, indexed once, with the minor it disappears at."""
    index: dict[str, _Gone] = {}
    for entry in ctx.catalog.removed_metrics.values():
        if entry.removed_in is not None:
            index[entry.metric] = _Gone(entry, entry.removed_in, (), f"{entry.component} {entry.removed_in} no longer exports it")
            continue
        arrival = ctx.catalog.coredns_arrival(entry.coredns_version or "")
        if arrival is not None:
            minor, backports = arrival
            index[entry.metric] = _Gone(entry, minor, backports, f"CoreDNS {entry.coredns_version} and later no longer export it (kubeadm deploys it from {minor})")
    return index


def _gone_series(name: str, index: dict[str, _Gone]) -> _Gone | None:
    """The removed metric a series name belongs to: itself, or a histogram/summary's _bucket/_sum/_count."""
    if name in index:
        return index[name]
    for suffix in _SERIES_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in index:
            return index[name[: -len(suffix)]]
    return None


def _replacement(gone: _Gone) -> str:
    return f"use {gone.metric.replacement}" if gone.metric.replacement else "it has no replacement"


_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def _replacement_names(gone: _Gone) -> frozenset[str]:
    """Metric names the replacement text mentions (labels and functions included; they never match a metric)."""
    return frozenset(_IDENT.findall(gone.metric.replacement or ""))


def _base_names(names: Iterable[str], index: dict[str, _Gone]) -> set[str]:
    """The names and, for series of a histogram or summary, the metric they belong to.

    A removed metric's own name is not cut (coredns_hosts_entries_count is not a _count series of
    coredns_hosts_entries, its replacement).
    """
    out = set(names)
    for name in list(out):
        for suffix in _SERIES_SUFFIXES:
            if name.endswith(suffix) and name not in index:
                out.add(name[: -len(suffix)])
    return out


@check("removed_metric_queries")
def removed_metric_queries(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """PromQL expressions (rules, dashboards, adapter queries) that select a metric a hop's release stops exporting."""
    index = _removed_metrics(ctx)
    series = _removed_series(index)
    analyses = ctx.memo("promql")  # both PromQL checks read the same expressions
    for obj, path, expr, inner_line in _queries(ctx):
        use = analyses.get_or(expr, analyse)
        used = _base_names(use.metrics, index)
        hits: dict[str, _Gone] = {}
        for name in use.metrics:
            gone = _gone_series(name, index)
            # A query that also selects the replacement (`new or old`) keeps working.
            if gone is not None and not (_replacement_names(gone) & used):
                hits[name] = gone
        for regex in use.name_regexes:
            hits.update(_regex_hits(regex, series, index))
        if not hits:
            continue
        line = obj.content_line(path, inner_line) if inner_line else obj.line(*path)
        for name in sorted(hits):
            gone = hits[name]
            yield Candidate(
                gone.minor,
                f"query in {obj.kind} {obj.namespace}/{obj.name} selects {name}, which returns nothing from {gone.minor}: "
                f"{gone.why}; {_replacement(gone)}: {_short(expr)}",
                obj.location(*path, line=line),
                remediation=f"Change the query before the hop: {_replacement(gone)}. {rule.remediation}",
                references=gone.metric.sources,
                backported_to=gone.backports,
            )


def _removed_series(index: dict[str, _Gone]) -> list[str]:
    """The series names of every removed metric, built once; each regex is tried against this fixed list."""
    return sorted({name + suffix for name in index for suffix in ("",) + _SERIES_SUFFIXES})


def _regex_hits(regex: str, series: list[str], index: dict[str, _Gone]) -> dict[str, _Gone]:
    """Removed metrics whose series a fully anchored name regex matches, unless it matches their replacement too."""
    try:
        pattern = re.compile(f"(?:{regex})")
    except re.error:
        return {}
    hits: dict[str, _Gone] = {}
    for name in series:
        if not pattern.fullmatch(name):
            continue
        gone = _gone_series(name, index)
        if gone is None:
            continue
        # A regex that also matches the replacement keeps what replaces the metric.
        replaced = {n + s for n in _replacement_names(gone) for s in ("",) + _SERIES_SUFFIXES} - index.keys()
        if not any(pattern.fullmatch(n) for n in replaced):
            hits.setdefault(gone.metric.metric, gone)
    return hits


def _name_relabelings(ctx: CheckContext) -> Iterator[tuple[KubeObject, tuple, dict, Any]]:
    """Relabel rules of ServiceMonitors, PodMonitors, Prometheus remote writes and scrape configs: (object, path, rule, location)."""
    for kind, key in (("ServiceMonitor", "endpoints"), ("PodMonitor", "podMetricsEndpoints")):
        for monitor in ctx.snapshot.of_kind(kind):
            for i, endpoint in enumerate((monitor.data.get("spec") or {}).get(key) or []):
                if not isinstance(endpoint, dict):
                    continue
                for field in ("metricRelabelings", "relabelings"):
                    for j, relabel in enumerate(endpoint.get(field) or []):
                        if isinstance(relabel, dict):
                            path = ("spec", key, i, field, j)
                            yield monitor, path, relabel, monitor.location(*path, field_path=f"spec.{key}[{i}].{field}[{j}]")
    for prometheus in ctx.snapshot.of_kind("Prometheus"):
        for i, remote in enumerate((prometheus.data.get("spec") or {}).get("remoteWrite") or []):
            for j, relabel in enumerate((remote or {}).get("writeRelabelConfigs") or [] if isinstance(remote, dict) else []):
                if isinstance(relabel, dict):
                    path = ("spec", "remoteWrite", i, "writeRelabelConfigs", j)
                    yield prometheus, path, relabel, prometheus.location(*path, field_path=f"spec.remoteWrite[{i}].writeRelabelConfigs[{j}]")
    for obj, path, text in _scrape_configs(ctx):
        # The objects' reader, with its limits (an alias bomb is not expanded here).
        docs = read_documents(text)
        for problem in docs.problems:
            yield obj, path, None, f"{problem}"
        for doc in docs:
            for relabel in _walk_relabel_configs(doc.data):
                needle = str(relabel.get("regex", "")) or "__name__"
                yield obj, path, relabel, _where(obj, path, text, needle)


def _walk_relabel_configs(node: Any) -> Iterator[dict]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("metric_relabel_configs", "relabel_configs", "write_relabel_configs") and isinstance(value, list):
                yield from (item for item in value if isinstance(item, dict))
            else:
                yield from _walk_relabel_configs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_relabel_configs(item)


@check("removed_metric_relabelings")
def removed_metric_relabelings(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Relabel rules whose regex on ``__name__`` selects a metric a hop's release stops exporting (drop rules excepted)."""
    index = _removed_metrics(ctx)
    series = _removed_series(index)
    for obj, path, relabel, location in _name_relabelings(ctx):
        if relabel is None:
            # The scrape configuration could not be read: say so instead of passing it as clean.
            yield Candidate(None, f"{obj.kind} {obj.namespace}/{obj.name} {'.'.join(map(str, path))}: {location}; its relabel rules were not checked", obj.location(*path))
            continue
        sources = relabel.get("sourceLabels", relabel.get("source_labels"))
        action = str(relabel.get("action", "replace")).lower()
        if sources != ["__name__"] or action == "drop" or "regex" not in relabel:
            continue
        hits = _regex_hits(str(relabel["regex"]), series, index)
        for name in sorted(hits):
            gone = hits[name]
            yield Candidate(
                gone.minor,
                f"{action} rule on __name__ in {obj.kind} {obj.namespace}/{obj.name} (regex {relabel['regex']!r}) selects {name}, "
                f"which is gone from {gone.minor}: {gone.why}; {_replacement(gone)}",
                location,
                remediation=f"Add the replacement to the regex before the hop: {_replacement(gone)}. {rule.remediation}",
                references=gone.metric.sources,
                backported_to=gone.backports,
            )
