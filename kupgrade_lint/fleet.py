"""One summary of many clusters' reports (``kupgrade-lint report merge``): per cluster and per hop.

For each cluster (named after its report file): blockers (errors), warnings and inputs that
could not be checked, in total and at each hop of its path, so that a platform team sees which
clusters can start and which hop stops which cluster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from kupgrade_lint.report_files import SavedReport
from kupgrade_lint.versions import minor_key


@dataclass(frozen=True)
class ClusterSummary:
    name: str
    path: str
    current: str
    target: str
    errors: int
    warnings: int
    not_checked: int
    per_hop: dict  # minor -> {"errors": n, "warnings": n}


def summarize(reports: list[SavedReport]) -> list[ClusterSummary]:
    names: dict[str, int] = {}
    out = []
    for report in reports:
        label = report.label
        names[label] = names.get(label, 0) + 1
        if names[label] > 1:
            label = f"{label} ({names[label]})"
        active = [f for f in report.findings if not f.get("suppressed")]
        per_hop = {h["minor"]: {"errors": 0, "warnings": 0} for h in report.data["hops"]}
        for f in active:
            if f.get("hop") in per_hop and f["severity"] in ("error", "warning"):
                per_hop[f["hop"]][f["severity"] + "s"] += 1
        out.append(
            ClusterSummary(
                label, report.path, report.data["current_version"], report.data["target_version"],
                sum(1 for f in active if f["severity"] == "error" and f.get("hop")),
                sum(1 for f in active if f["severity"] == "warning" and f.get("hop")),
                sum(1 for f in active if not f.get("hop")),
                per_hop,
            )
        )
    return out


def render_fleet(clusters: list[ClusterSummary], fmt: str) -> str:
    """``text``, ``markdown`` or ``json``."""
    if fmt == "json":
        doc = {"format_version": 1, "clusters": [c.__dict__ for c in clusters]}
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"
    hops = sorted({m for c in clusters for m in c.per_hop}, key=minor_key)
    ready = sum(1 for c in clusters if not c.errors and not c.not_checked)
    head = f"{len(clusters)} cluster(s): {ready} without blockers and fully checked, {len(clusters) - ready} not ready"
    header = ["cluster", "path", "blockers", "warnings", "not checked"] + [f"hop {m}" for m in hops]
    rows = []
    for c in clusters:
        cells = [c.name, f"{c.current} → {c.target}", str(c.errors), str(c.warnings), str(c.not_checked)]
        for m in hops:
            counts = c.per_hop.get(m)
            cells.append("—" if counts is None else f"{counts['errors']}E {counts['warnings']}W")
        rows.append(cells)
    if fmt == "markdown":
        out = ["## kupgrade-lint fleet summary", "", f"**{head}**", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out) + "\n"
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([f"kupgrade-lint fleet summary: {head}", "", line(header), *(line(r) for r in rows)]) + "\n"
