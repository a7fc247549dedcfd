"""The JSON report: the contract attached to change reviews (schema: schemas/report.schema.json)."""

from __future__ import annotations

from typing import Any, TextIO

from kupgrade_lint.findings import Coverage, Finding, Location, Report
from kupgrade_lint.json_text import indented_text

FORMAT_VERSION = 1


def location_dict(location: Location) -> dict[str, Any]:
    return {
        "file": location.file,
        "line": location.line,
        "column": location.column,
        "node": location.node,
        "api_version": location.api_version,
        "kind": location.kind,
        "namespace": location.namespace,
        "name": location.name,
        "field": location.field,
    }


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "rule_id": finding.rule_id,
        "rule_name": finding.rule_name,
        "category": finding.category,
        "severity": finding.severity.value,
        "hop": finding.hop,
        "message": finding.message,
        "remediation": finding.remediation,
        "location": location_dict(finding.location),
        "references": list(finding.references),
        "evidence": finding.evidence,
        "confidence": finding.confidence,
        "suppressed": finding.suppressed_by is not None,
        "suppressed_by": finding.suppressed_by,
        "fingerprint": finding.fingerprint,
    }


def coverage_dict(coverage: Coverage | None) -> dict[str, Any] | None:
    """What the scan covered (also used by the SARIF reporter)."""
    if coverage is None:
        return None
    return {
        "cluster": coverage.cluster,
        "resources": [
            {
                "kind": r.kind,
                "group": r.group,
                "version": r.version,
                "resource": r.resource,
                "status": r.status,
                "objects": r.objects,
                "detail": r.detail,
            }
            for r in coverage.resources
        ],
        "nodes": list(coverage.nodes),
        "registry_images": list(coverage.registry),
        "tls_endpoints": list(coverage.tls_endpoints),
        "audit_logs": list(coverage.audit_logs),
        "metrics": list(coverage.metrics),
        "manifests": list(coverage.manifests),
        "not_checked": list(coverage.not_checked),
    }


def selection_dict(report: Report) -> dict[str, Any] | None:
    """``scan --only-hop/--next-hop``: the hop the report covers and the path it is part of; None for the whole path."""
    s = report.selection
    if s is None:
        return None
    return {"minor": s.minor, "path": {"current_version": s.path_current, "target_version": s.path_target, "hops": list(s.path_minors)}}


def report_dict(report: Report, findings: bool = True) -> dict[str, Any]:
    """The report as JSON data; without ``findings``, their list is left empty (``render`` streams them)."""
    counts = {"error": 0, "warning": 0, "info": 0, "suppressed": 0}
    for finding in report.findings:
        counts["suppressed" if finding.suppressed_by else finding.severity.value] += 1
    return {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "kupgrade-lint", "version": report.tool_version},
        "current_version": report.current_version,
        "target_version": report.target_version,
        "inputs": list(report.inputs),
        "hops": [
            {"from": h.source, "to": h.dest, "minor": h.minor, "images": list(h.images)} for h in report.hops
        ],
        "summary": counts,
        "unused_suppressions": list(report.unused_suppressions),
        "coverage": coverage_dict(report.coverage),
        "selected_hop": selection_dict(report),
        "findings": [finding_dict(f) for f in report.findings] if findings else [],
    }


def indented_json(doc: Any) -> str:
    """``json.dumps(doc, indent=2, ensure_ascii=False) + "\\n"``, encoded by orjson where that is the same (``json_text``)."""
    return indented_text(doc) + "\n"


# Findings are encoded a batch at a time and written as they come: neither the whole report as
# dicts nor as one string is held at once (tens of megabytes for tens of thousands of findings).
_BATCH = 2000
_EMPTY_FINDINGS = '"findings": []\n}\n'


def render(report: Report, stream: TextIO, color: bool = False) -> None:
    """Write the report as indented JSON; the same report gives the same bytes."""
    head = indented_json(report_dict(report, findings=False))
    if not report.findings or not head.endswith(_EMPTY_FINDINGS):  # findings are the last key
        stream.write(head if not report.findings else indented_json(report_dict(report)))
        return
    stream.write(head[: -len("[]\n}\n")] + "[\n")
    findings = report.findings
    for start in range(0, len(findings), _BATCH):
        text = indented_json([finding_dict(f) for f in findings[start : start + _BATCH]])
        # One level deeper than a list of its own: every line two more spaces (a newline in a
        # string is written as \\n, so each raw newline is the layout's).
        body = "  " + text[2:-3].replace("\n", "\n  ")  # without "[\n" and "\n]\n"
        stream.write((",\n" if start else "") + body)
    stream.write("\n  ]\n}\n")
