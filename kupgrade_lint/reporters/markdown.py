"""Markdown for change reviews and CI summaries: a table per hop, what was not checked, the counts."""

from __future__ import annotations

from typing import TextIO

from kupgrade_lint.findings import Finding, Report, Severity, summary_counts

_ICON = {Severity.ERROR: "🔴 error", Severity.WARNING: "🟡 warning", Severity.INFO: "🔵 info"}


def _cell(text: str) -> str:
    """A table cell: pipes escaped, line breaks as <br>, backticks kept."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def _rows(findings: list[Finding]) -> list[str]:
    lines = ["| Severity | Rule | Where | What | Fix |", "|---|---|---|---|---|"]
    for f in findings:
        severity = _ICON[f.severity] + (f" (suppressed: {_cell(f.suppressed_by)})" if f.suppressed_by else "")
        lines.append(
            f"| {severity} | `{f.rule_id}` {f.rule_name} | `{_cell(f.location.describe())}` | {_cell(f.message)} | {_cell(f.remediation)} |"
        )
    return lines


def render(report: Report, stream: TextIO, color: bool = False) -> None:
    counts = summary_counts(report)
    out = [f"## kupgrade-lint: upgrade {report.current_version} → {report.target_version} in {len(report.hops)} hop(s)", ""]
    out.append(
        f"**{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info**"
        + (f", {counts['suppressed']} suppressed" if counts["suppressed"] else "")
        + (f" · **{counts['not_checked']} input(s) not checked** (see below: do not read their absence of findings as clean)" if counts["not_checked"] else "")
    )
    by_hop: dict[str | None, list[Finding]] = {}
    for f in report.findings:
        by_hop.setdefault(f.hop, []).append(f)
    out += ["", "| Hop | From → to | Errors | Warnings | Info |", "|---|---|---|---|---|"]
    for hop in report.hops:
        active = [f for f in by_hop.get(hop.minor, []) if not f.suppressed_by]
        n = {s: sum(1 for f in active if f.severity is s) for s in Severity}
        out.append(f"| {hop.minor} | {hop.source} → {hop.dest} | {n[Severity.ERROR]} | {n[Severity.WARNING]} | {n[Severity.INFO]} |")
    unchecked = by_hop.get(None, [])
    if unchecked:
        out += ["", "### Not checked", ""] + _rows(unchecked)
    for hop in report.hops:
        items = by_hop.get(hop.minor, [])
        out += ["", f"### Hop to {hop.minor} ({hop.source} → {hop.dest})", ""]
        out += _rows(items) if items else ["Nothing found that breaks at this hop."]
        if hop.images:
            out += ["", "<details><summary>Images this hop pulls</summary>", "", *(f"- `{i}`" for i in hop.images), "", "</details>"]
    if report.unused_suppressions:
        out += ["", "### Suppressions that matched nothing", "", *(f"- {_cell(u)}" for u in report.unused_suppressions)]
    stream.write("\n".join(out) + "\n")
