"""SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html) for code-scanning in CI.

File findings get physical locations with lines; cluster objects get logical locations
(``namespace/Kind/name``), as kube-linter does.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from kupgrade_lint.findings import Finding, Location, Report, Severity
from kupgrade_lint.reporters.json_report import coverage_dict, selection_dict

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _uri(location: Location) -> str | None:
    if not location.file:
        return None
    if location.node:
        return f"nodes/{location.node}{location.file}"
    return location.file.lstrip("/")


def _locations(location: Location) -> list[dict[str, Any]]:
    entry: dict[str, Any] = {}
    uri = _uri(location)
    if uri:
        physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": "INPUT"}}
        if location.line:
            physical["region"] = {"startLine": location.line}
        entry["physicalLocation"] = physical
    if location.kind:
        parts = [p for p in (location.namespace, location.kind, location.name) if p]
        logical: dict[str, Any] = {"name": location.name or location.kind, "fullyQualifiedName": "/".join(parts), "kind": "resource"}
        entry["logicalLocations"] = [logical]
    return [entry] if entry else []


def _result(f: Finding, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": index[f.rule_id],
        "level": _LEVEL[f.severity],
        "message": {"text": f.message + (f" (hop to {f.hop})" if f.hop else "")},
        "locations": _locations(f.location),
        # Lets code-scanning services follow a finding across runs even when its line moves.
        "partialFingerprints": {"kupgradeLint/v1": f.fingerprint},
        "properties": {
            "hop": f.hop,
            "category": f.category,
            "remediation": f.remediation,
            "references": list(f.references),
        },
    }
    if f.evidence:
        result["properties"]["evidence"] = f.evidence
        result["properties"]["confidence"] = f.confidence
    if f.suppressed_by:
        result["suppressions"] = [{"kind": "external", "justification": f.suppressed_by}]
    return result


def _invocations(report: Report) -> list[dict[str, Any]]:
    """What was not checked, as notifications of the run (code-scanning UIs show them)."""
    coverage = report.coverage
    if coverage is None:
        return []
    notes = [{"level": "warning", "message": {"text": f"not checked: {text}"}} for text in coverage.not_checked]
    for r in coverage.resources:
        if r.status in ("forbidden", "error", "not-listable", "partial"):
            where = f"{r.group or 'core'}/{r.version} {r.resource}" if r.resource else r.kind
            level = "note" if r.status == "partial" else "warning"
            notes.append({"level": level, "message": {"text": f"{r.kind} ({where}): {r.status}: {r.detail or ''}".rstrip(": ")}})
    return [{"executionSuccessful": True, "toolExecutionNotifications": notes}]


def sarif_dict(report: Report) -> dict[str, Any]:
    rules = []
    index: dict[str, int] = {}
    for i, rule in enumerate(report.rules):
        index[rule.id] = i
        rules.append(
            {
                "id": rule.id,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": rule.summary},
                "help": {"text": f"{rule.summary}\nFix: {rule.remediation}\nSee {rule.help_uri}", "markdown": f"{rule.summary}\n\n**Fix:** {rule.remediation}\n\nSee <{rule.help_uri}>"},
                "helpUri": rule.help_uri,
                "defaultConfiguration": {"level": _LEVEL[rule.severity]},
                "properties": {"category": rule.category, "tags": [rule.category]},
            }
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kupgrade-lint",
                        "version": report.tool_version,
                        "informationUri": "https://github.com/kupgrade-lint/kupgrade-lint",
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"INPUT": {"description": {"text": "The scanned snapshot directory or manifests path."}}},
                "properties": {
                    "current_version": report.current_version,
                    "target_version": report.target_version,
                    "unused_suppressions": list(report.unused_suppressions),
                    "hops": [{"from": h.source, "to": h.dest, "minor": h.minor, "images": list(h.images)} for h in report.hops],
                    "coverage": coverage_dict(report.coverage),
                    "selected_hop": selection_dict(report),
                },
                "invocations": _invocations(report),
                "results": [_result(f, index) for f in report.findings],
            }
        ],
    }


def render(report: Report, stream: TextIO, color: bool = False) -> None:
    json.dump(sarif_dict(report), stream, indent=2, ensure_ascii=False)
    stream.write("\n")
