"""The terminal report, read as a plan: what was not checked, what to fix before you start, each hop, the kubelets.

Fits a 100-column terminal: every line is wrapped (never cut). Colour only when asked. Each finding
is said once: the same finding at several hops once with its hops, a fix shared by several findings
of one rule once, evidence only when it adds to the message.
"""

from __future__ import annotations

import os
import textwrap
from typing import TextIO

from kupgrade_lint.findings import Coverage, Finding, Report, Severity
from kupgrade_lint.reporters.steps import KUBELET_STEP, Fact, Step, arrange, hop_span, kubelets_last, short_place

WIDTH = 100
_COLORS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def _wrap(text: str, indent: str, hang: str | None = None) -> list[str]:
    """``text`` wrapped to WIDTH columns; a word longer than a line is broken, never cut off."""
    return textwrap.wrap(
        text, width=WIDTH, initial_indent=indent, subsequent_indent=hang if hang is not None else indent,
        break_long_words=True, break_on_hyphens=False,
    ) or [indent.rstrip()]


def _painted(lines: list[str], code: str, color: bool) -> list[str]:
    return [_paint(line, code, color) for line in lines]


def _heading(text: str, color: bool) -> list[str]:
    return _painted(_wrap(f"── {text} ──", "", "   "), _BOLD, color)


def _images_text(images: tuple[str, ...]) -> str:
    """``images (repo/path/): kube-apiserver:v1.15.12, ...``: the shared repository said once."""
    prefix = os.path.commonprefix(list(images))
    prefix = prefix[: prefix.rfind("/") + 1]
    if not prefix:
        return "images: " + ", ".join(images)
    return f"images ({prefix}): " + ", ".join(i[len(prefix):] for i in images)


def _names(entries: list, limit: int = 12) -> str:
    names = sorted({e.kind for e in entries})
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _coverage_lines(coverage: Coverage, color: bool) -> list[str]:
    """What was not checked (first, loud), then what the scan read."""
    out: list[str] = []
    for text in coverage.not_checked:
        out += _painted(_wrap(f"NOT CHECKED: {text}", "  ", "    "), _COLORS[Severity.WARNING], color)
    by_status: dict[str, list] = {}
    for r in coverage.resources:
        by_status.setdefault(r.status, []).append(r)
    said: list[tuple[str, str]] = []  # (text, indent)
    if coverage.cluster == "none":
        said.append((f"cluster: no cluster objects; {len(coverage.manifests)} manifest file(s)", "  "))
    else:
        listed = by_status.get("listed", []) + by_status.get("present", [])
        objects = sum(r.objects or 0 for r in listed)
        how = "listed" if coverage.cluster == "collected" else "in the snapshot (no collection record)"
        said.append((f"cluster: {len(listed)} resource(s) {how}, {objects} object(s)", "  "))
        for r in by_status.get("partial", []):
            said.append((f"partial: {r.kind}: {r.detail}", "    "))
        for status in ("forbidden", "error", "not-listable"):
            for r in by_status.get(status, []):
                where = f" ({r.group or 'core'}/{r.version} {r.resource})" if r.resource else ""
                said.append((f"not listed, {status}: {r.kind}{where}: {r.detail or ''}".rstrip(": "), "    "))
        if by_status.get("not-served"):
            said.append((f"not served by the cluster (nothing to check): {_names(by_status['not-served'])}", "    "))
        if by_status.get("absent"):
            said.append((f"not in the snapshot: {_names(by_status['absent'])}", "    "))
    said.append(("nodes: " + (", ".join(coverage.nodes) if coverage.nodes else "no node files"), "  "))
    said.append((f"registry contents: {len(coverage.registry)} image(s)" if coverage.registry
                 else "registry contents: not part of the scan (`kupgrade-lint collect registry`)", "  "))
    said.append((f"TLS endpoint certificates: {len(coverage.tls_endpoints)}" if coverage.tls_endpoints
                 else "TLS endpoint certificates: none in the scan", "  "))
    said.append(("audit logs: " + (", ".join(coverage.audit_logs) if coverage.audit_logs
                                   else "none (--audit-log shows which clients call removed APIs)"), "  "))
    for text, indent in said:
        out += _wrap(text, indent, indent + "  ")
    return out


def _finding_body(f: Finding, hops: str | None, color: bool, verbose: bool) -> list[str]:
    """Where, what (and at which hops), evidence that adds to the message; sources with ``verbose``."""
    where = f.location.describe()
    if hops:
        where += f"  ({hops})"
    if f.suppressed_by:
        where += f"  (suppressed: {f.suppressed_by})"
    out = _wrap(where, "    - ", "      ")
    if f.suppressed_by:
        out = _painted(out, _DIM, color)
    out += _wrap(f.message, "      ")
    if f.evidence and f.evidence not in f.message:
        evidence = f"evidence: {f.evidence}" + (f" (confidence {f.confidence})" if f.confidence else "")
        out += _painted(_wrap(evidence, "      ", "        "), _DIM, color)
    if verbose:
        for ref in f.references:
            # a source URL stays whole and on its line (clickable), even past the width
            out.append(_paint(f"      source: {ref}", _DIM, color))
    return out


def _facts_lines(facts: tuple[Fact, ...], order: list[str], color: bool, verbose: bool, kubelet_step: bool = False) -> list[str]:
    """Facts grouped in runs of one rule and one fix: the rule heads the run, the fix closes it."""
    out: list[str] = []
    runs: list[list[Fact]] = []
    for fact in facts:
        f = fact.first
        if runs and (runs[-1][0].first.rule_id, runs[-1][0].first.severity, runs[-1][0].first.remediation) == (f.rule_id, f.severity, f.remediation):
            runs[-1].append(fact)
        else:
            runs.append([fact])
    for run in runs:
        f = run[0].first
        label = _paint(f"{f.severity.value.upper():7}", _COLORS[f.severity], color)
        count = f" ({len(run)})" if len(run) > 1 else ""
        out.append(f"  {label} {f.rule_id} {f.rule_name}{count}")
        for fact in run:
            hops = fact.hops
            shown = None
            if kubelet_step:
                shown = f"breaks the kubelet at {hop_span(hops, order)}"
            elif len(hops) > 1:
                shown = f"hops {hop_span(hops, order)}"
            out += _finding_body(fact.first, shown, color, verbose)
        out += _wrap(f"fix: {f.remediation}", "    ", "      ")
    return out


def _before_you_start(steps: list[Step], order: list[str]) -> tuple[int, list[str]]:
    """Each blocker once, in the order of the steps, with the step that needs it (how many, and the lines)."""
    out: list[str] = []
    count = 0
    for step in steps:
        items: dict[str, list[Fact]] = {}
        for fact in step.facts:
            f = fact.first
            if f.severity is Severity.ERROR and not f.suppressed_by:
                items.setdefault(f"{f.rule_id} {f.rule_name}", []).append(fact)
        for rule, facts in items.items():
            count += 1
            places: list[str] = []
            for fact in facts:
                place = short_place(fact.first)
                if place not in places:
                    places.append(place)
            span = tuple(sorted({h for x in facts for h in x.hops}, key=lambda h: order.index(h) if h in order else len(order)))
            if step.name == KUBELET_STEP:
                needs = f" (breaks the kubelet at {hop_span(span, order)})"
            else:
                needs = f" (needed at {hop_span(span, order)})" if len(span) > 1 else ""
            out += _wrap(f"[{step.name}] {rule}{needs}: " + "; ".join(places), "  - ", "    ")
    return count, out


def render(report: Report, stream: TextIO, color: bool = False, verbose: bool = False) -> None:
    """Render for a person reading a terminal; colour only when asked (the CLI asks on a TTY); ``verbose`` adds sources."""
    out: list[str] = []
    strategy = "kubelets upgraded last" if kubelets_last(report) else "kubelets upgraded with each hop"
    title = f"kupgrade-lint {report.tool_version}: upgrade {report.current_version} → {report.target_version} in {len(report.hops)} hop(s), {strategy}"
    out += _painted(_wrap(title, ""), _BOLD, color)
    unchecked = [f for f in report.findings if f.hop is None]
    if report.coverage is not None or unchecked:
        out.append("")
        out += _heading("coverage: what was and was NOT checked", color)
        if report.coverage is not None:
            out += _coverage_lines(report.coverage, color)
        if unchecked:
            out += _wrap(f"{len(unchecked)} input(s) not checked (could not be read or collected): do not read their absence of findings as clean", "  ")
            out += _facts_lines(tuple(Fact((f,)) for f in unchecked), [], color, verbose)

    steps = arrange(report)
    order = [h.minor for h in report.hops]
    count, blockers = _before_you_start(steps, order)
    out.append("")
    out += _heading(f"before you start: {count} blocker(s) to fix, each before the step that needs it", color)
    out += blockers or ["  nothing found that blocks a hop"]
    if report.hops:
        out += _wrap("details, commands and the checks after each hop: below, and `kupgrade-lint plan` prints the runbook", "  ")

    for index, step in enumerate(steps):
        out.append("")
        if step.hop is not None:
            hop = step.hop
            out += _heading(f"hop to {hop.minor}: {hop.source} → {hop.dest} ({index + 1} of {len(report.hops)})", color)
            out += _painted(_wrap(_images_text(hop.images), "  ", "    "), _DIM, color)
            if not step.facts:
                out.append("  nothing found that breaks at this hop")
        elif step.name != KUBELET_STEP:
            out += _heading(f"findings at hops outside the path ({step.name})", color)
        else:
            who = ", ".join(report.coverage.nodes) if report.coverage and report.coverage.nodes else "every node"
            out += _heading(f"kubelets: upgrade {who} to {report.target_version} once the control plane is there", color)
            out += _wrap("drain each node, replace the kubelet, make these fixes, daemon-reload and restart the kubelet, "
                         "uncordon; each finding says the hop whose kubelet it breaks", "  ")
            if not step.facts:
                out.append("  nothing found on the kubelets' files")
        out += _facts_lines(step.facts, order, color, verbose, kubelet_step=step.name == KUBELET_STEP)

    if report.unused_suppressions:
        out.append("")
        out += _heading("suppressions that matched nothing", color)
        for u in report.unused_suppressions:
            out += _wrap(u, "  ", "    ")
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
