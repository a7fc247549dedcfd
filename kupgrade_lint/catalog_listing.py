"""Render the catalog for people (text), machines (JSON) and the docs (markdown, docs/rules.md)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from kupgrade_lint.catalog import Catalog
from kupgrade_lint.versions import minor_key

KINDS = ("rules", "apis", "flags", "feature-gates", "admission-plugins", "config-fields", "volume-plugins", "cloud-providers", "coredns-corefile", "removed-metrics", "kubeadm-defaults", "releases")


def _rows(catalog: Catalog, kind: str, minor: str | None) -> list[dict[str, Any]]:
    def keep(*versions: str | None) -> bool:
        return minor is None or minor in versions

    if kind == "rules":
        items = [r for r in catalog.rules.values() if minor is None or keep(r.breaks_in, *(b.rsplit(".", 1)[0] for b in r.backported_to))]
        rows = [
            {"id": r.id, "name": r.name, "category": r.category, "severity": r.severity, "breaks_in": r.breaks_in,
             "backported_to": list(r.backported_to), "summary": r.summary, "remediation": r.remediation, "sources": list(r.sources)}
            for r in sorted(items, key=lambda r: r.id)
        ]
        return rows
    if kind == "apis":
        items = sorted(catalog.apis.values(), key=lambda e: (minor_key(e.removed_in), e.api_version, e.kind))
        return [
            {"api_version": e.api_version, "kind": e.kind, "read_by": e.read_by, "deprecated_in": e.deprecated_in, "removed_in": e.removed_in,
             "replacement": e.replacement, "replacement_available_in": e.replacement_available_in, "migration": list(e.migration), "sources": list(e.sources)}
            for e in items if keep(e.removed_in, e.deprecated_in)
        ]
    if kind == "flags":
        items = sorted(catalog.flags.values(), key=lambda e: (minor_key(e.removed_in), e.component, e.flag))
        return [
            {"component": e.component, "flag": e.flag, "deprecated_in": e.deprecated_in, "removed_in": e.removed_in,
             "allowed_values": list(e.allowed_values) if e.allowed_values is not None else None, "replacement": e.replacement, "sources": list(e.sources)}
            for e in items if keep(e.removed_in, e.deprecated_in)
        ]
    if kind == "feature-gates":
        items = sorted(catalog.feature_gates.values(), key=lambda e: (minor_key(e.removed_in), e.component, e.gate))
        return [
            {"gate": e.gate, "component": e.component, "last_accepted_in": e.last_accepted_in, "removed_in": e.removed_in, "locked_to": e.locked_to, "sources": list(e.sources)}
            for e in items if keep(e.removed_in)
        ]
    if kind == "admission-plugins":
        items = sorted(catalog.admission_plugins.values(), key=lambda e: (minor_key(e.removed_in), e.plugin))
        return [
            {"plugin": e.plugin, "deprecated_in": e.deprecated_in, "removed_in": e.removed_in, "replacement": e.replacement, "sources": list(e.sources)}
            for e in items if keep(e.removed_in, e.deprecated_in)
        ]
    if kind == "config-fields":
        items = sorted(catalog.config_fields.values(), key=lambda e: (minor_key(e.removed_in), e.kind, e.field, e.value or ""))
        return [
            {"kind": e.kind, "api_versions": list(e.api_versions), "field": e.field, "value": e.value, "read_by": e.read_by, "removed_in": e.removed_in,
             "effect": e.effect, "old_defaults": list(e.old_defaults), "replacement": e.replacement, "sources": list(e.sources)}
            for e in items if keep(e.removed_in)
        ]
    if kind == "volume-plugins":
        def first(e) -> str:
            return e.removed_in or e.migration_on_by_default_in or e.migration_ga_in

        items = sorted(catalog.volume_plugins.values(), key=lambda e: (minor_key(first(e)), e.volume_source))
        return [
            {"volume_source": e.volume_source, "plugin": e.plugin, "removed_in": e.removed_in, "csi_driver": e.csi_driver,
             "migration_on_by_default_in": e.migration_on_by_default_in, "migration_ga_in": e.migration_ga_in,
             "replacement": e.replacement, "sources": list(e.sources)}
            for e in items if keep(e.removed_in, e.migration_on_by_default_in, e.migration_ga_in)
        ]
    if kind == "cloud-providers":
        items = sorted(catalog.cloud_providers.values(), key=lambda e: (minor_key(e.removed_in), e.provider))
        return [
            {"provider": e.provider, "disabled_by_default_in": e.disabled_by_default_in, "removed_in": e.removed_in,
             "replacement": e.replacement, "sources": list(e.sources)}
            for e in items if keep(e.removed_in, e.disabled_by_default_in)
        ]
    if kind in ("coredns-corefile", "removed-metrics"):
        return _coredns_and_metric_rows(catalog, kind, keep)
    if kind == "kubeadm-defaults":
        items = sorted(catalog.kubeadm.values(), key=lambda e: (e.component, e.flag or "", minor_key(e.rendered_from)))
        return [
            {"component": e.component, "flag": e.flag, "value": e.value, "probe_port": e.probe_port, "rendered_from": e.rendered_from,
             "rendered_until": e.rendered_until, "backported_to": list(e.backported_to), "when": e.when, "effect": e.effect,
             "upgrade_removes": e.upgrade_removes, "sources": list(e.sources)}
            for e in items if keep(e.rendered_from, e.rendered_until) or (minor is not None and any(b.startswith(minor + ".") for b in e.backported_to))
        ]
    if kind == "releases":
        items = sorted(catalog.releases.values(), key=lambda e: minor_key(e.minor))
        rows = []
        for e in items:
            if not keep(e.minor):
                continue
            rows.append({
                "minor": e.minor, "last_patch": e.last_patch, "kubelet_skew": e.kubelet_skew, "kube_proxy_skew": e.kube_proxy_skew,
                "kubeadm_min_kubelet_skew": e.kubeadm_min_kubelet_skew,
                "kubeadm_images": [asdict(i) | {"sources": list(i.sources)} for i in e.kubeadm_images], "sources": list(e.sources),
            })
        return rows
    raise ValueError(kind)


def _arrival(catalog: Catalog, coredns_version: str | None) -> tuple[str | None, list[str]]:
    """The kubeadm minor (and patch backports) that first deploys a CoreDNS version."""
    found = catalog.coredns_arrival(coredns_version) if coredns_version else None
    return (found[0], list(found[1])) if found else (None, [])


def _coredns_and_metric_rows(catalog: Catalog, kind: str, keep) -> list[dict[str, Any]]:
    rows = []
    if kind == "coredns-corefile":
        for e in catalog.coredns_corefile.values():
            minor, backports = _arrival(catalog, e.coredns_version)
            rows.append({"breaks_in": minor, "backported_to": backports, "coredns_version": e.coredns_version, "plugin": e.plugin,
                         "option": e.option, "status": e.status, "effect": e.effect, "replacement": e.replacement,
                         "migration": e.migration, "sources": list(e.sources)})
    else:
        for m in catalog.removed_metrics.values():
            minor, backports = (m.removed_in, []) if m.removed_in else _arrival(catalog, m.coredns_version)
            rows.append({"breaks_in": minor, "backported_to": backports, "metric": m.metric, "component": m.component,
                         "coredns_version": m.coredns_version, "replacement": m.replacement, "sources": list(m.sources)})
    rows = [r for r in rows if keep(r["breaks_in"], *(b.rsplit(".", 1)[0] for b in r["backported_to"]))]
    return sorted(rows, key=lambda r: (minor_key(r["breaks_in"]) if r["breaks_in"] else (99, 0), r.get("metric") or r["plugin"], r.get("option") or ""))


_TEXT_COLUMNS = {
    "rules": ("id", "name", "category", "severity", "breaks_in", "summary"),
    "apis": ("removed_in", "api_version", "kind", "read_by", "replacement"),
    "flags": ("removed_in", "component", "flag", "allowed_values", "replacement"),
    "feature-gates": ("removed_in", "component", "gate", "last_accepted_in"),
    "admission-plugins": ("removed_in", "plugin", "replacement"),
    "config-fields": ("removed_in", "kind", "field", "value", "read_by", "effect"),
    "volume-plugins": ("volume_source", "plugin", "removed_in", "csi_driver", "migration_on_by_default_in", "migration_ga_in"),
    "cloud-providers": ("provider", "disabled_by_default_in", "removed_in", "replacement"),
    "coredns-corefile": ("breaks_in", "coredns_version", "plugin", "option", "status", "replacement"),
    "removed-metrics": ("breaks_in", "component", "coredns_version", "metric", "replacement"),
    "kubeadm-defaults": ("component", "flag", "value", "probe_port", "rendered_from", "rendered_until"),
    "releases": ("minor", "last_patch", "kubelet_skew", "kubeadm_min_kubelet_skew", "images"),
}


def _cell(row: dict[str, Any], column: str) -> str:
    if column == "images":
        parts = []
        for img in row["kubeadm_images"]:
            parts.append(f".{img['from_patch']}+: {img['image_repository']} coredns {img['coredns_image']}:{img['coredns_tag']} etcd {img['etcd_tag']} pause {img['pause_tag']}")
        return "; ".join(parts)
    value = row.get(column)
    if column == "breaks_in" and value and row.get("backported_to"):
        return f"{value} (also {', '.join(row['backported_to'])})"
    if value is None:
        return "-"
    if isinstance(value, list):
        return ",".join(value) if value else "-"
    return str(value)


def render_catalog(catalog: Catalog, kinds: list[str], minor: str | None, fmt: str) -> str:
    """The listing for ``kupgrade-lint rules``; markdown is also what docs/rules.md holds."""
    chosen = [k for k in KINDS if not kinds or k in kinds]
    data = {k: _rows(catalog, k, minor) for k in chosen}
    if fmt == "json":
        return json.dumps({k.replace("-", "_"): v for k, v in data.items()}, indent=2, ensure_ascii=False) + "\n"
    out: list[str] = []
    if fmt == "markdown":
        out.append("# kupgrade-lint rules and catalog\n")
        out.append("Generated by `kupgrade-lint rules -o markdown` from `rules/`; do not edit by hand.\n")
        for kind in chosen:
            rows = data[kind]
            out.append(f"## {kind} ({len(rows)})\n")
            columns = _TEXT_COLUMNS[kind]
            out.append("| " + " | ".join(columns) + " | sources |")
            out.append("|" + "---|" * (len(columns) + 1))
            for row in rows:
                cells = [_cell(row, c).replace("|", "\\|") for c in columns]
                sources = " ".join(f"<{u}>" for u in row["sources"])
                out.append("| " + " | ".join(cells) + f" | {sources} |")
            out.append("")
        return "\n".join(out)
    for kind in chosen:
        rows = data[kind]
        out.append(f"{kind} ({len(rows)})")
        columns = _TEXT_COLUMNS[kind]
        table = [list(columns)] + [[_cell(r, c) for c in columns] for r in rows]
        widths = [min(max(len(r[i]) for r in table), 60) for i in range(len(columns))]
        for r in table:
            out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        out.append("")
    return "\n".join(out)
