"""The terminal report: one section per hop, then what could not be checked, then a summary."""

from __future__ import annotations

import os
from typing import TextIO

from kupgrade_lint.findings import Coverage, Finding, Report, Severity

_COLORS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def _finding_lines(f: Finding, color: bool) -> list[str]:
    label = _paint(f"{f.severity.value.upper():7}", _COLORS[f.severity], color)
    head = f"  {label} {f.rule_id} {f.rule_name}  {f.location.describe()}"
    if f.suppressed_by:
        head += _paint(f"  (suppressed: {f.suppressed_by})", _DIM, color)
    lines = [head, f"          {f.message}"]
    if f.evidence and f.confidence:
        lines.append(_paint(f"          evidence: {f.evidence} (confidence {f.confidence})", _DIM, color))
    lines.append(f"          fix: {f.remediation}")
    return lines


def _images_line(images: tuple[str, ...]) -> str:
    """``images (repo/path/): kube-apiserver:v1.15.12, ...``: the shared repository said once."""
    prefix = os.path.commonprefix(list(images))
    prefix = prefix[: prefix.rfind("/") + 1]
    if not prefix:
        return "  images: " + ", ".join(images)
    return f"  images ({prefix}): " + ", ".join(i[len(prefix):] for i in images)


def _names(entries: list, limit: int = 12) -> str:
    names = sorted({e.kind for e in entries})
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _coverage_lines(coverage: Coverage, color: bool) -> list[str]:
    """What was not checked (first, loud), then what the scan read."""
    out = [_paint(f"  NOT CHECKED: {text}", _COLORS[Severity.WARNING], color) for text in coverage.not_checked]
    by_status: dict[str, list] = {}
    for r in coverage.resources:
        by_status.setdefault(r.status, []).append(r)
    if coverage.cluster == "none":
        out.append(f"  cluster: no cluster objects; {len(coverage.manifests)} manifest file(s)")
    else:
        listed = by_status.get("listed", []) + by_status.get("present", [])
        objects = sum(r.objects or 0 for r in listed)
        how = "listed" if coverage.cluster == "collected" else "in the snapshot (no collection record)"
        out.append(f"  cluster: {len(listed)} resource(s) {how}, {objects} object(s)")
        for r in by_status.get("partial", []):
            out.append(f"    partial: {r.kind}: {r.detail}")
        for status in ("forbidden", "error", "not-listable"):
            for r in by_status.get(status, []):
                where = f" ({r.group or 'core'}/{r.version} {r.resource})" if r.resource else ""
                out.append(f"    not listed, {status}: {r.kind}{where}: {r.detail or ''}".rstrip(": "))
        if by_status.get("not-served"):
            out.append(f"    not served by the cluster (nothing to check): {_names(by_status['not-served'])}")
        if by_status.get("absent"):
            out.append(f"    not in the snapshot: {_names(by_status['absent'])}")
    out.append("  nodes: " + (", ".join(coverage.nodes) if coverage.nodes else "no node files"))
    out.append(f"  registry contents: {len(coverage.registry)} image(s)" if coverage.registry else "  registry contents: not part of the scan (`kupgrade-lint collect registry`)")
    out.append(f"  TLS endpoint certificates: {len(coverage.tls_endpoints)}" if coverage.tls_endpoints else "  TLS endpoint certificates: none in the scan")
    out.append("  audit logs: " + (", ".join(coverage.audit_logs) if coverage.audit_logs else "none (--audit-log shows which clients call removed APIs)"))
    return out


def render(report: Report, stream: TextIO, color: bool = False) -> None:
    """Render for a person reading a terminal; colour only when asked (the CLI asks on a TTY)."""
    out: list[str] = []
    title = f"kupgrade-lint {report.tool_version}: upgrade {report.current_version} → {report.target_version} in {len(report.hops)} hop(s)"
    out.append(_paint(title, _BOLD, color))
    if report.coverage is not None:
        out.append("")
        out.append(_paint("── coverage ──", _BOLD, color))
        out.extend(_coverage_lines(report.coverage, color))
    by_hop: dict[str | None, list[Finding]] = {}
    for f in report.findings:
        by_hop.setdefault(f.hop, []).append(f)
    for hop in report.hops:
        out.append("")
        out.append(_paint(f"── hop to {hop.minor}: {hop.source} → {hop.dest} ──", _BOLD, color))
        out.append(_paint(_images_line(hop.images), _DIM, color))
        items = by_hop.get(hop.minor, [])
        if not items:
            out.append("  nothing found that breaks at this hop")
        for f in items:
            out.extend(_finding_lines(f, color))
    unchecked = by_hop.get(None, [])
    if unchecked:
        out.append("")
        out.append(_paint("── not checked (input that could not be read or collected) ──", _BOLD, color))
        for f in unchecked:
            out.extend(_finding_lines(f, color))
    if report.unused_suppressions:
        out.append("")
        out.append(_paint("── suppressions that matched nothing ──", _BOLD, color))
        out.extend(f"  {u}" for u in report.unused_suppressions)
    counts = {s: 0 for s in Severity}
    suppressed = 0
    for f in report.findings:
        if f.suppressed_by:
            suppressed += 1
        else:
            counts[f.severity] += 1
    summary = f"{counts[Severity.ERROR]} error(s), {counts[Severity.WARNING]} warning(s), {counts[Severity.INFO]} info"
    if suppressed:
        summary += f", {suppressed} suppressed"
    out.append("")
    out.append(_paint(summary, _BOLD, color))
    stream.write("\n".join(out) + "\n")
