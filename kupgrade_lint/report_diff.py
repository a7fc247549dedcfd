"""What a change did to the upgrade: findings fixed, introduced and left, per hop, between two JSON reports.

Findings are matched by fingerprint (rule, hop, place and message; not the line, so a finding
whose line moved is the same finding). Suppressed findings count as neither side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from kupgrade_lint.report_files import SavedReport, finding_fingerprint
from kupgrade_lint.versions import minor_key

_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class ReportDiff:
    """Findings of OLD and NEW, split by what happened to them."""

    old: SavedReport
    new: SavedReport
    fixed: tuple[dict, ...]
    introduced: tuple[dict, ...]
    remaining: tuple[dict, ...]


def _key(finding: dict) -> tuple:
    hop = finding.get("hop")
    loc = finding.get("location") or {}
    return (minor_key(hop) if hop else (0, 0), _SEVERITY_RANK.get(finding.get("severity"), 3), finding["rule_id"], loc.get("node") or "", loc.get("file") or "", loc.get("line") or 0, finding["message"])


def diff_reports(old: SavedReport, new: SavedReport) -> ReportDiff:
    before = {finding_fingerprint(f): f for f in old.findings if not f.get("suppressed")}
    after = {finding_fingerprint(f): f for f in new.findings if not f.get("suppressed")}
    return ReportDiff(
        old,
        new,
        tuple(sorted((f for k, f in before.items() if k not in after), key=_key)),
        tuple(sorted((f for k, f in after.items() if k not in before), key=_key)),
        tuple(sorted((f for k, f in after.items() if k in before), key=_key)),
    )


def _where(finding: dict) -> str:
    loc = finding.get("location") or {}
    place = loc.get("file") or ""
    if loc.get("node"):
        place = f"{loc['node']}:{place}"
    if loc.get("line"):
        place += f":{loc['line']}"
    if loc.get("kind"):
        obj = f"{loc['kind']} {loc['namespace']}/{loc['name']}" if loc.get("namespace") else f"{loc['kind']} {loc.get('name')}"
        place = f"{place} [{obj}]" if place else obj
    return place or "(cluster)"


def _hop(finding: dict) -> str:
    return f"hop {finding['hop']}" if finding.get("hop") else "not checked"


def render_diff(diff: ReportDiff, fmt: str) -> str:
    """``text``, ``markdown`` or ``json``."""
    parts = (("introduced", diff.introduced), ("fixed", diff.fixed), ("remaining", diff.remaining))
    if fmt == "json":
        doc = {
            "format_version": 1,
            "old": {"path": diff.old.path, "current_version": diff.old.data["current_version"], "target_version": diff.old.data["target_version"]},
            "new": {"path": diff.new.path, "current_version": diff.new.data["current_version"], "target_version": diff.new.data["target_version"]},
            "summary": {name: len(items) for name, items in parts},
            **{name: list(items) for name, items in parts},
        }
        return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    head = f"{len(diff.introduced)} introduced, {len(diff.fixed)} fixed, {len(diff.remaining)} remaining"
    paths = f"{diff.old.path} ({diff.old.data['current_version']} → {diff.old.data['target_version']}) → {diff.new.path} ({diff.new.data['current_version']} → {diff.new.data['target_version']})"
    if fmt == "markdown":
        out = ["## kupgrade-lint: what this change does to the upgrade", "", f"**{head}** — {paths}"]
        for name, items in parts:
            if name == "remaining":
                out += ["", f"<details><summary>{len(items)} remaining</summary>", ""]
            else:
                out += ["", f"### {name.capitalize()} ({len(items)})", ""]
            if items:
                out += ["| Hop | Severity | Rule | Where | What |", "|---|---|---|---|---|"]
                out += [
                    f"| {_hop(f)} | {f['severity']} | `{f['rule_id']}` {f['rule_name']} | `{_where(f)}` | {f['message'].replace('|', chr(92) + '|')} |"
                    for f in items
                ]
            else:
                out.append("None.")
            if name == "remaining":
                out += ["", "</details>"]
        return "\n".join(out) + "\n"
    out = [f"kupgrade-lint diff: {head}", paths]
    for name, items in parts:
        out += ["", f"── {name} ({len(items)}) ──"]
        out += [f"  {f['severity'].upper():7} {f['rule_id']} {_hop(f):11} {_where(f)}\n          {f['message']}" for f in items] or ["  none"]
    return "\n".join(out) + "\n"
