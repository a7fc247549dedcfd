"""Suppressions: config-file rules, a baseline file and object annotations, each audited.

A suppressed finding stays in the report (marked with what suppressed it) and no longer counts
for the exit code; every suppression that matched nothing is listed, so stale ones get removed.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Iterable

from kupgrade_lint.config import SuppressionRule
from kupgrade_lint.errors import InputError
from kupgrade_lint.findings import Finding, Report
from kupgrade_lint.snapshot.model import Snapshot

# Annotation on any object: comma-separated rule ids or names to ignore for that object.
ANNOTATION = "kupgrade-lint.dev/ignore"
BASELINE_VERSION = 1
# The suppressed_by of a finding the baseline knows (reports people read leave these out).
BASELINE_REASON = "baseline"


def write_baseline(report: Report, path: Path) -> int:
    """Record every current finding (not the "not checked" ones) so that later scans report only new ones; how many."""
    entries = sorted({f.fingerprint for f in report.findings if f.category != "collection"})
    Path(path).write_text(json.dumps({"version": BASELINE_VERSION, "fingerprints": entries}, indent=2) + "\n", encoding="utf-8")
    return len(entries)


def read_baseline(path: Path) -> frozenset[str]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("version") != BASELINE_VERSION or not isinstance(data.get("fingerprints"), list):
            raise ValueError("expected {\"version\": 1, \"fingerprints\": [...]}")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the baseline: {exc.strerror}") from None
    except (ValueError, AttributeError, RecursionError) as exc:  # not JSON, not UTF-8, nested too deep
        raise InputError(f"{path}: not a kupgrade-lint baseline: {str(exc)[:200]}") from None
    return frozenset(str(f) for f in data["fingerprints"])


def _matches(rule: SuppressionRule, f: Finding) -> bool:
    loc = f.location
    checks = (
        (rule.rule, (f.rule_id, f.rule_name)),
        (rule.hop, (f.hop,)),
        (rule.file, (loc.file,)),
        (rule.node, (loc.node,)),
        (rule.kind, (loc.kind,)),
        (rule.namespace, (loc.namespace,)),
        (rule.name, (loc.name,)),
    )
    return all(want is None or want in have for want, have in checks)


def _annotations(snapshot: Snapshot) -> dict[tuple, set[str]]:
    ignored: dict[tuple, set[str]] = {}
    for obj in snapshot.objects:
        value = (obj.metadata.get("annotations") or {}).get(ANNOTATION) if isinstance(obj.metadata.get("annotations"), dict) else None
        if isinstance(value, str):
            ignored[(obj.kind, obj.namespace, obj.name)] = {v.strip() for v in value.split(",") if v.strip()}
    return ignored


def apply_suppressions(report: Report, snapshot: Snapshot, rules: Iterable[SuppressionRule], baseline: frozenset[str] | None) -> Report:
    """A new report whose matched findings are marked suppressed, with the unused suppressions named."""
    rules = list(rules)
    used: set[str] = set()
    annotations = _annotations(snapshot)
    findings: list[Finding] = []
    for f in report.findings:
        reason = None
        if f.category != "collection":
            for rule in rules:
                if _matches(rule, f):
                    reason = f"{rule.origin}: {rule.reason}"
                    used.add(rule.origin)
                    break
            key = (f.location.kind, f.location.namespace, f.location.name)
            if reason is None and key in annotations and annotations[key] & {f.rule_id, f.rule_name}:
                reason = f"annotation {ANNOTATION} on {f.location.kind} {f.location.namespace or ''}/{f.location.name}".replace(" /", " ")
                used.add(f"annotation:{key}")
            if reason is None and baseline is not None and f.fingerprint in baseline:
                reason = BASELINE_REASON
                used.add(f"baseline:{f.fingerprint}")
        findings.append(replace(f, suppressed_by=reason) if reason else f)
    unused = [r.origin + f" ({r.rule})" for r in rules if r.origin not in used]
    unused += [
        f"annotation {ANNOTATION} on {k[0]} {k[1] + '/' if k[1] else ''}{k[2]}"
        for k in sorted(annotations, key=lambda k: tuple(x or "" for x in k))
        if f"annotation:{k}" not in used
    ]
    if baseline is not None:
        stale = len([b for b in baseline if f"baseline:{b}" not in used])
        if stale:
            unused.append(f"baseline: {stale} entr{'y' if stale == 1 else 'ies'} matched no finding")
    return replace(report, findings=tuple(findings), unused_suppressions=tuple(unused))
