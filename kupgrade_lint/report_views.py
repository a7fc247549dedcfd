"""Finished reports narrowed for what the user asked to see: a new Report, never a mutated one.

The CLI narrows; reporters render whatever Report they are given and never filter.
"""

from __future__ import annotations

from dataclasses import replace

from kupgrade_lint.errors import UsageError
from kupgrade_lint.findings import HopSelection, Report
from kupgrade_lint.suppress import BASELINE_REASON


def select_hop(report: Report, minor: str) -> Report:
    """The report of one hop (``minor``, e.g. ``"1.22"``) of the whole path.

    Findings of that hop are kept, and so are the findings of no hop (input that was not
    checked, assumptions about versions): they concern the whole scan. The report's versions
    become the hop's, and ``selection`` names the hop and the path it belongs to.
    """
    hops = [h for h in report.hops if h.minor == minor]
    if not hops:
        planned = ", ".join(h.minor for h in report.hops)
        raise UsageError(f"--only-hop {minor}: the path {report.current_version} → {report.target_version} has no hop to {minor} (its hops: {planned})")
    hop = hops[0]
    selection = HopSelection(minor, report.current_version, report.target_version, tuple(h.minor for h in report.hops))
    return replace(
        report,
        current_version=hop.source,
        target_version=hop.dest,
        hops=(hop,),
        findings=tuple(f for f in report.findings if f.hop in (None, minor)),
        selection=selection,
    )


def without_baselined(report: Report) -> tuple[Report, int]:
    """The report without the findings a baseline suppressed, and how many were left out.

    For the reports people read (text, markdown): with ``--baseline`` they show only new
    findings. Machine formats keep the baselined findings, marked suppressed.
    """
    kept = tuple(f for f in report.findings if f.suppressed_by != BASELINE_REASON)
    return replace(report, findings=kept), len(report.findings) - len(kept)
