"""Run every rule's check over the snapshot and place each candidate on the hop that crosses it."""

from __future__ import annotations

from dataclasses import dataclass

from kupgrade_lint import __version__
from kupgrade_lint.catalog import Catalog, Rule
from kupgrade_lint.checks import Candidate, CheckContext, ScanOptions, load_checks
from kupgrade_lint.cluster_facts import read_cluster_facts
from kupgrade_lint.component_config import ComponentConfig
from kupgrade_lint.errors import CatalogError
from kupgrade_lint.findings import Finding, HopReport, Location, Report, RuleInfo, Severity
from kupgrade_lint.images import hop_images
from kupgrade_lint.snapshot.model import InputProblem, Snapshot
from kupgrade_lint.versions import Hop, KubeVersion, upgrade_path

INPUT_PROBLEMS_CHECK = "input_problems"


@dataclass(frozen=True)
class ScanRequest:
    """What to scan for: the target, optionally the current version, and the user's options."""

    target: KubeVersion
    current: KubeVersion | None = None
    options: ScanOptions = ScanOptions()


def hop_for(hops: tuple[Hop, ...], minor: str, backported_to: tuple[str, ...] = ()) -> Hop | None:
    """The hop that crosses ``minor``, or None when the path does not cross it."""
    return next((hop for hop in hops if hop.crosses(minor, backported_to)), None)


def _references(rule: Rule, extra: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for url in tuple(extra) + tuple(rule.sources):
        seen.setdefault(url, None)
    return tuple(seen)


def _finding(rule: Rule, candidate: Candidate, hop: str | None) -> Finding:
    return Finding(
        rule_id=rule.id,
        rule_name=rule.name,
        category=rule.category,
        severity=candidate.severity or Severity(rule.severity),
        hop=hop,
        message=candidate.message,
        remediation=candidate.remediation or rule.remediation,
        location=candidate.location,
        references=_references(rule, candidate.references),
        evidence=candidate.evidence,
        confidence=candidate.confidence,
    )


def _problem_candidate(problem: InputProblem) -> Candidate:
    location = Location(file=problem.file, line=problem.line, node=problem.node)
    if problem.file is None:
        return Candidate(None, problem.message, location)
    return Candidate(None, f"{location.describe()}: {problem.message}", location)


def scan(snapshot: Snapshot, catalog: Catalog, request: ScanRequest) -> Report:
    """Judge the snapshot for every hop from the current version to the target."""
    checks = load_checks()
    config = ComponentConfig(snapshot)
    facts = read_cluster_facts(snapshot, config)
    current = request.current or facts.detect_current()[0]
    hops = tuple(upgrade_path(current, request.target, catalog.last_patch))
    ctx = CheckContext(snapshot, catalog, config, facts, current, hops, request.options)

    input_rules = catalog.rule_by_check(INPUT_PROBLEMS_CHECK)
    if len(input_rules) != 1:
        raise CatalogError("the catalog must define exactly one rule with check: input_problems")
    input_rule = input_rules[0]

    findings: set[Finding] = set()
    for rule in sorted(catalog.rules.values(), key=lambda r: r.id):
        if rule.check == INPUT_PROBLEMS_CHECK:
            continue
        function = checks.get(rule.check)
        if function is None:
            raise CatalogError(f"{rule.origin}: rule {rule.id} names an unknown check '{rule.check}'")
        for candidate in function(ctx, rule):
            if candidate.breaks_in is None:
                findings.add(_finding(input_rule, candidate, None))
                continue
            backports = rule.backported_to if candidate.breaks_in == rule.breaks_in else ()
            backports = candidate.backported_to or backports
            hop = hop_for(hops, candidate.breaks_in, backports)
            if hop is not None:
                findings.add(_finding(rule, candidate, hop.minor))

    problems = list(snapshot.problems) + list(config.problems)
    for hop in hops:
        known = KubeVersion.parse(catalog.releases[hop.minor].last_patch)
        if (hop.dest.patch or 0) > (known.patch or 0):
            problems.append(InputProblem(None, f"the catalog's newest {hop.minor} release is {known}; {hop.dest} is assumed to need the same images and to remove nothing more"))
    for error in snapshot.metadata.get("collection_errors") or [] if isinstance(snapshot.metadata, dict) else []:
        if isinstance(error, dict):
            problems.append(InputProblem(None, f"not collected: {error.get('what', '?')}: {error.get('reason', '?')}"))
    for problem in problems:
        findings.add(_finding(input_rule, _problem_candidate(problem), None))

    hop_reports = tuple(
        HopReport(str(h.source), str(h.dest), h.minor, tuple(str(i) for i in hop_images(catalog, facts, h))) for h in hops
    )
    rules = tuple(
        RuleInfo(r.id, r.name, r.category, Severity(r.severity), r.summary, r.remediation, r.help_uri, r.breaks_in)
        for r in sorted(catalog.rules.values(), key=lambda r: r.id)
    )
    return Report(
        tool_version=__version__,
        current_version=str(current),
        target_version=str(hops[-1].dest),
        hops=hop_reports,
        findings=tuple(sorted(findings, key=Finding.sort_key)),
        rules=rules,
        inputs=tuple(snapshot.inputs),
    )
