"""SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html) for code scanning in CI.

Written to be uploaded to GitHub code scanning as it is:

- Files get physical locations with a region (line, and the column of the offending key when the
  index knows it). GitHub reads a relative ``artifactLocation.uri`` from the root of the
  repository and converts absolute ``file://`` URIs with the upload's checkout path
  ("Specifying the root for source files", SARIF support for code scanning,
  https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning).
  So a scanned path (``--manifests``, ``--audit-log``) is written as given, relative to the
  working directory (``%SRCROOT%``: the repository root when CI runs the tool there), or as a
  ``file://`` URI when it was given absolute. Files of a snapshot are relative to it: under a
  relative snapshot directory they are written from ``%SRCROOT%`` too; otherwise (an absolute
  directory, an archive) they are relative to the base ``SNAPSHOT``, whose ``uri`` is given
  when there is one (none without a snapshot: a result about what a snapshot would hold, such
  as registry contents, is not about a file of the repository).
- Every result has a file: code scanning displays no result without
  ``physicalLocation.artifactLocation.uri`` and rejects an upload whose result has an empty
  ``locations`` ("locationFromSarifResult: expected at least one location",
  https://github.com/github/codeql-action/issues/2459; sarif-sdk rule GH1001). A result about a
  node names its directory in the snapshot; one about the whole scan names its first input.
- Cluster objects get logical locations (``namespace/Kind/name``), as kube-linter does.
- ``partialFingerprints`` carry the finding's fingerprint, which leaves lines out: an alert
  follows its finding when the line moves.
- Suppressed findings stay, with ``suppressions`` (``inSource`` for an annotation on the object,
  ``external`` for a configuration or baseline entry).
- GitHub's upload limits are kept (``LIMITS``); whatever does not fit is named in
  ``invocations[0].toolExecutionNotifications``, never dropped silently.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import quote

from kupgrade_lint.findings import Finding, Location, Report, RuleInfo, Severity
from kupgrade_lint.reporters.json_report import coverage_dict, indented_json, selection_dict

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
SRCROOT = "%SRCROOT%"
SNAPSHOT = "SNAPSHOT"


@dataclass(frozen=True)
class Limits:
    """GitHub code scanning's documented limits on one uploaded SARIF file.

    Sources: "Validating your SARIF file" in SARIF support for code scanning
    (https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning),
    "SARIF results exceed one or more limits"
    (https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/results-exceed-limit)
    and "SARIF file is too large"
    (https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/file-too-large).
    This reporter writes one run, one location per result and one tag per rule (limits: 20 runs
    per file, 1,000 locations per result, 20 tags per rule).
    """

    results: int = 25_000  # results per run: a run with more is rejected
    shown_results: int = 5_000  # only the top 5,000 results by severity become alerts
    rules: int = 25_000  # rules per run: a run with more is rejected
    gzip_bytes: int = 10 * 1000 * 1000  # "maximum size of 10 MB" for the gzip-compressed file


LIMITS = Limits()


def _is_absolute(path: str) -> bool:
    return path.startswith("/")


def _file_uri(path: str) -> str:
    return "file://" + quote(path)


def _under(file: str, root: str) -> bool:
    root = root.rstrip("/")
    return root in ("", ".") and not _is_absolute(file) or file == root or file.startswith(root + "/")


class Artifacts:
    """Turns a location's file into an ``artifactLocation`` (see the module docstring)."""

    def __init__(self, report: Report) -> None:
        self.snapshot = report.snapshot
        self.scanned = tuple(i for i in report.inputs if i != report.snapshot and i != "<stdin>")
        snap = self.snapshot
        # A relative snapshot directory: its files are files of the repository too.
        self.snapshot_prefix = snap.rstrip("/") if snap and not _is_absolute(snap) and not _is_archive(snap) else None
        self.uses_snapshot_base = False

    def location(self, location: Location) -> dict[str, Any]:
        file = location.file
        if not file:
            # Code scanning shows no result without a file (and rejects an upload with an empty
            # ``locations``), so what concerns a node or the whole scan names that input.
            return self._in_snapshot(f"nodes/{location.node}") if location.node else self._scan()
        if location.node:
            return self._in_snapshot(f"nodes/{location.node}/{file.lstrip('/')}")
        if file == "<stdin>":
            return {"uri": quote(file, safe=""), "uriBaseId": SRCROOT}
        if _is_absolute(file) or any(_under(file, root) for root in self.scanned):
            return _relative_or_absolute(file)
        return self._in_snapshot(file)

    def _scan(self) -> dict[str, Any]:
        """The artifact of a result about the scan as a whole: its first input (the snapshot first)."""
        first = self.snapshot or next(iter(self.scanned), None)
        if first is None:
            return self._in_snapshot(".")
        return _relative_or_absolute(first.rstrip("/") or "/")

    def _in_snapshot(self, rel: str) -> dict[str, Any]:
        if self.snapshot_prefix is not None:
            return _relative_or_absolute(rel if self.snapshot_prefix in ("", ".") else f"{self.snapshot_prefix}/{rel}")
        self.uses_snapshot_base = True
        return {"uri": quote(rel), "uriBaseId": SNAPSHOT}

    def base_ids(self) -> dict[str, Any]:
        bases: dict[str, Any] = {
            SRCROOT: {"description": {"text": "The working directory of the scan: in CI, the root of the repository (code scanning reads relative paths from there)."}}
        }
        if self.uses_snapshot_base:
            snap = self.snapshot or ""
            if not snap:
                bases[SNAPSHOT] = {"description": {"text": "Where a snapshot holds this; no snapshot was read (these are not files of the repository)."}}
            elif _is_archive(snap):
                bases[SNAPSHOT] = {"description": {"text": f"Inside the snapshot archive {snap}: these files are not files of the repository."}}
            else:
                bases[SNAPSHOT] = {"uri": _file_uri(snap.rstrip("/") + "/"), "description": {"text": "The snapshot directory the scan read."}}
        return bases


def _is_archive(path: str) -> bool:
    return path.endswith(".tar.gz") or path.endswith(".tgz")


def _relative_or_absolute(path: str) -> dict[str, Any]:
    if _is_absolute(path):
        return {"uri": _file_uri(path)}
    while path.startswith("./"):
        path = path[2:]
    return {"uri": quote(path), "uriBaseId": SRCROOT}


def _locations(location: Location, artifacts: Artifacts) -> list[dict[str, Any]]:
    entry: dict[str, Any] = {}
    physical: dict[str, Any] = {"artifactLocation": artifacts.location(location)}
    if location.file and location.line:
        region: dict[str, Any] = {"startLine": location.line}
        if location.column:
            region["startColumn"] = location.column
        physical["region"] = region
    entry["physicalLocation"] = physical
    logical = []
    if location.kind:
        parts = [p for p in (location.namespace, location.kind, location.name) if p]
        obj: dict[str, Any] = {"name": location.name or location.kind, "fullyQualifiedName": "/".join(parts), "kind": "resource"}
        props = {k: v for k, v in (("apiVersion", location.api_version), ("field", location.field)) if v}
        if props:
            obj["properties"] = props
        logical.append(obj)
    elif location.node:
        logical.append({"name": location.node, "fullyQualifiedName": f"nodes/{location.node}", "kind": "resource"})
    if logical:
        entry["logicalLocations"] = logical
    return [entry]


def _suppression(reason: str) -> dict[str, Any]:
    # An annotation lives on the object itself (in the manifest: "inSource"); a configuration
    # entry or the baseline lives elsewhere ("external"). The suppression was decided by the user.
    kind = "inSource" if reason.startswith("annotation ") else "external"
    return {"kind": kind, "status": "accepted", "justification": reason}


def _result(f: Finding, index: dict[str, int], artifacts: Artifacts) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": index[f.rule_id],
        "level": _LEVEL[f.severity],
        "message": {"text": f.message + (f" (hop to {f.hop})" if f.hop else "")},
        "locations": _locations(f.location, artifacts),
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
        result["suppressions"] = [_suppression(f.suppressed_by)]
    return result


def _coverage_notes(report: Report) -> list[dict[str, Any]]:
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
    return notes


def _rule(rule: RuleInfo) -> dict[str, Any]:
    breaks = f"Breaks at Kubernetes {rule.breaks_in}. " if rule.breaks_in else ""
    markdown = (
        f"**{rule.id} {rule.name}** ({rule.severity.value}, {rule.category})\n\n{rule.summary}\n\n"
        + (f"Breaks at Kubernetes {rule.breaks_in}.\n\n" if rule.breaks_in else "")
        + f"**Fix:** {rule.remediation}\n\nSee <{rule.help_uri}>"
    )
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": f"{breaks}{rule.summary}"},
        "help": {"text": f"{rule.summary}\n{breaks}Fix: {rule.remediation}\nSee {rule.help_uri}", "markdown": markdown},
        "helpUri": rule.help_uri,
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"category": rule.category, "tags": [rule.category]},
    }


def _priority(f: Finding) -> tuple:
    # What GitHub keeps when it must choose (by severity); a suppressed finding is kept last.
    return (f.suppressed_by is not None, f.severity.rank)


def _kept(findings: tuple[Finding, ...], count: int) -> list[Finding]:
    """The ``count`` findings that matter most, in report order."""
    if count >= len(findings):
        return list(findings)
    order = sorted(range(len(findings)), key=lambda i: (_priority(findings[i]), i))
    chosen = sorted(order[:count])
    return [findings[i] for i in chosen]


def _note(level: str, text: str) -> dict[str, Any]:
    return {"level": level, "message": {"text": text}}


def _document(report: Report, findings: list[Finding], limit_notes: list[dict[str, Any]]) -> dict[str, Any]:
    used = {f.rule_id for f in findings}
    rules_in = list(report.rules)
    if len(rules_in) > LIMITS.rules:
        # Rules that results point at are always kept; the others fill up to the limit.
        keep = [r for r in rules_in if r.id in used]
        keep += [r for r in rules_in if r.id not in used][: max(0, LIMITS.rules - len(keep))]
        ids = {r.id for r in keep}
        rules_in = [r for r in rules_in if r.id in ids]
        limit_notes = limit_notes + [_note("warning", f"SARIF: {len(report.rules) - len(rules_in):,} of {len(report.rules):,} rules left out of the rule list "
                                                      f"(none with a result): GitHub code scanning rejects a run of more than {LIMITS.rules:,} rules.")]
    index = {rule.id: i for i, rule in enumerate(rules_in)}
    artifacts = Artifacts(report)
    results = [_result(f, index, artifacts) for f in findings]
    active = sum(1 for f in findings if f.suppressed_by is None)
    notes = list(limit_notes)
    if active > LIMITS.shown_results:
        notes.append(_note("note", f"SARIF: {active:,} active results; GitHub code scanning shows only the top {LIMITS.shown_results:,} of a run, "
                                   "by severity, as alerts: see the JSON report (-o json) for all of them."))
    notes += _coverage_notes(report)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "kupgrade-lint",
                "version": report.tool_version,
                "informationUri": "https://github.com/kupgrade-lint/kupgrade-lint",
                "rules": [_rule(r) for r in rules_in],
            }
        },
        "originalUriBaseIds": artifacts.base_ids(),
        # Columns count characters (Python strings and YAML marks do), not UTF-16 code units.
        "columnKind": "unicodeCodePoints",
        "properties": {
            "current_version": report.current_version,
            "target_version": report.target_version,
            "unused_suppressions": list(report.unused_suppressions),
            "hops": [{"from": h.source, "to": h.dest, "minor": h.minor, "images": list(h.images)} for h in report.hops],
            "coverage": coverage_dict(report.coverage),
            "selected_hop": selection_dict(report),
        },
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notes}] if notes or report.coverage is not None else [],
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _left_out(dropped: int, total: int, why: str) -> dict[str, Any]:
    return _note("error", f"SARIF: {dropped:,} of {total:,} results left out of this file (the least severe, suppressed ones first): {why}. "
                          "This upload is incomplete; the JSON report (-o json) has every finding.")


def sarif_dict(report: Report) -> dict[str, Any]:
    findings = report.findings
    total = len(findings)
    notes: list[dict[str, Any]] = []
    kept = _kept(findings, LIMITS.results)
    if len(kept) < total:
        notes.append(_left_out(total - len(kept), total, f"GitHub code scanning rejects a run of more than {LIMITS.results:,} results"))
    return _document(report, kept, notes)


def _serialize(doc: dict[str, Any]) -> str:
    return indented_json(doc)


def _compressed_size(text: str) -> int:
    data = text.encode("utf-8")
    if len(data) <= LIMITS.gzip_bytes:
        return len(data)  # compression only makes it smaller
    return len(gzip.compress(data, mtime=0))


def sarif_text(report: Report) -> str:
    """The SARIF file, within the size GitHub accepts (results are left out, and said so, to fit)."""
    doc = sarif_dict(report)
    text = _serialize(doc)
    size = _compressed_size(text)
    total = len(report.findings)
    count = min(total, LIMITS.results)
    while size > LIMITS.gzip_bytes and count > 0:
        # Results are most of the file: shrink them in proportion, with a margin, until it fits.
        count = min(count - 1, int(count * LIMITS.gzip_bytes / size * 0.9))
        why = f"GitHub code scanning rejects a SARIF file of more than {LIMITS.gzip_bytes / 1e6:g} MB gzip-compressed"
        doc = _document(report, _kept(report.findings, count), [_left_out(total - count, total, why)])
        text = _serialize(doc)
        size = _compressed_size(text)
    return text


def render(report: Report, stream: TextIO, color: bool = False) -> None:
    stream.write(sarif_text(report))
