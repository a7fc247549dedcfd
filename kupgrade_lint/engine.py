"""Run every rule's check over the snapshot and place each candidate on the hop that crosses it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

from kupgrade_lint import __version__
from kupgrade_lint.catalog import Catalog, Rule
from kupgrade_lint.checks import Candidate, CheckContext, ScanOptions, load_checks
from kupgrade_lint.cluster_facts import read_cluster_facts
from kupgrade_lint.component_config import ComponentConfig
from kupgrade_lint.coverage import read_coverage
from kupgrade_lint.errors import CatalogError, KupgradeError
from kupgrade_lint.findings import Finding, HopReport, Location, Report, RuleInfo, Severity
from kupgrade_lint.images import ImageRef, path_images
from kupgrade_lint.kubeadm_render import KubeadmModel
from kupgrade_lint.snapshot.model import InputProblem, KubeObject, Snapshot
from kupgrade_lint.snapshot.recording import ReadLog, record
from kupgrade_lint.versions import Hop, KubeVersion, upgrade_path

INPUT_PROBLEMS_CHECK = "input_problems"
T = TypeVar("T")


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
        return Candidate(None, _bounded(problem.message), location)
    return Candidate(None, _bounded(f"{location.describe()}: {problem.message}"), location)


# -- isolation: one object a check cannot handle never stops the scan -----------------------------
# How many objects one check may fail on; past that the failure is a bug in the check (exit 3).
MAX_FAILED_OBJECTS = 20


def run_isolated(snapshot: Snapshot, what: str, run: Callable[[], T]) -> tuple[T, list[InputProblem]]:
    """``run()``, leaving out every object (or embedded configuration) it raises an exception on.

    The snapshot's iterations (``Snapshot.track``) and the traceback say which object was being
    handled when the exception was raised (``_blamed``); that object is named in an input
    problem (with the field read last, found by running once more with that object's data
    recording its reads) and ``run`` starts again without it. Each failure excludes one more object, so this ends after at most
    ``MAX_FAILED_OBJECTS`` + 1 runs. An exception raised while no object was being handled, a
    ``KupgradeError`` (a problem with the whole input) and ``MemoryError`` are not contained.
    """
    failed: dict[tuple, InputProblem] = {}
    while True:
        snapshot.begin_stage(frozenset(failed))
        try:
            return run(), list(failed.values())
        except (KupgradeError, MemoryError):
            raise
        except Exception as exc:
            subject = _blamed(snapshot, exc)
            if subject is None or subject.subject_key in failed or len(failed) >= MAX_FAILED_OBJECTS:
                raise
            error = type(exc).__name__
        finally:
            snapshot.begin_stage(frozenset())
        failed[subject.subject_key] = _failure(snapshot, subject, what, error, run, frozenset(failed))


def _blamed(snapshot: Snapshot, exc: BaseException):
    """The object being handled when ``exc`` was raised: in the innermost frame of its traceback
    that holds handed-out objects in its local variables, the one handed out last."""
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for frame in reversed(frames):
        hits = [hit for value in frame.f_locals.values() if (hit := snapshot.handed(value)) is not None]
        if hits:
            return max(hits, key=lambda hit: hit[0])[1]
    return None


def _failure(snapshot: Snapshot, subject, what: str, error: str, run: Callable[[], object], excluded: frozenset) -> InputProblem:
    """The problem naming ``subject``; for an object, with the field it was read last."""
    location = subject.subject_location()
    handled = "this object"
    if isinstance(subject, KubeObject):
        log = ReadLog()
        snapshot.begin_stage(excluded, {subject.subject_key: KubeObject(record(subject.data, log), subject.source, subject.document, subject.prefix)})
        try:
            run()
        except Exception:  # noqa: BLE001 - the same failure again, now with the field recorded
            if log.last:
                location = subject.location(*log.last)
                handled = f"{location.field} ({log.last_kind})"
        finally:
            snapshot.begin_stage(frozenset())
    message = f"{_subject_name(location)}: {what} could not handle {handled} ({error}); this object was not checked for it"
    return InputProblem(location.file, message, node=location.node, line=location.line)


def _subject_name(location: Location) -> str:
    if location.kind:
        return f"{location.kind} {location.namespace}/{location.name}" if location.namespace else f"{location.kind} {location.name}"
    return "the document"


# Messages quote input only as far as a finding needs: bounded, one line, no control characters.
MAX_PROBLEM_CHARS = 300


def _bounded(message: str) -> str:
    text = "".join(ch if ch.isprintable() else " " for ch in message)
    return text if len(text) <= MAX_PROBLEM_CHARS else text[: MAX_PROBLEM_CHARS - 3] + "..."


def prepare(snapshot: Snapshot, catalog: Catalog, request: ScanRequest) -> CheckContext:
    """Read the settings and cluster facts once and plan the path: what every check reads.

    Objects that make reading the settings or facts fail are left out and named
    (``setup_problems``), like objects a check fails on.
    """
    config, failures = run_isolated(snapshot, "reading the component settings", lambda: ComponentConfig(snapshot, kubeadm=KubeadmModel(catalog)))
    facts, failed = run_isolated(snapshot, "reading the cluster facts", lambda: read_cluster_facts(snapshot, config))
    failures += failed
    current = request.current or facts.detect_current()[0]
    hops = tuple(upgrade_path(current, request.target, catalog.last_patch, catalog.final_patch))
    return CheckContext(snapshot, catalog, config, facts, current, hops, request.options, setup_problems=tuple(failures))


def required_images(ctx: CheckContext) -> list[tuple[Hop, list[ImageRef]]]:
    """The images each hop of the planned path needs (the first hop also the nodes' configured pause images)."""
    return path_images(ctx.catalog, ctx.facts, ctx.hops)


def scan(snapshot: Snapshot, catalog: Catalog, request: ScanRequest) -> Report:
    """Judge the snapshot for every hop from the current version to the target."""
    return judge(prepare(snapshot, catalog, request))


def judge(ctx: CheckContext) -> Report:
    """Run every rule's check on a prepared context and build the report."""
    checks = load_checks()
    snapshot, catalog, config, facts, current, hops = ctx.snapshot, ctx.catalog, ctx.config, ctx.facts, ctx.current, ctx.hops
    failures = list(ctx.setup_problems)

    input_rules = catalog.rule_by_check(INPUT_PROBLEMS_CHECK)
    if len(input_rules) != 1:
        raise CatalogError("the catalog must define exactly one rule with check: input_problems")
    input_rule = input_rules[0]

    findings: set[Finding] = set()
    placed: dict[tuple, Hop | None] = {}
    for rule in sorted(catalog.rules.values(), key=lambda r: r.id):
        if rule.check == INPUT_PROBLEMS_CHECK:
            continue
        function = checks.get(rule.check)
        if function is None:
            raise CatalogError(f"{rule.origin}: rule {rule.id} names an unknown check '{rule.check}'")
        candidates, failed = run_isolated(snapshot, f"{rule.id} {rule.name}", lambda: list(function(ctx, rule)))
        failures += failed
        for candidate in candidates:
            if candidate.breaks_in is None:
                findings.add(_finding(input_rule, candidate, None))
                continue
            backports = candidate.backported_to or (rule.backported_to if candidate.breaks_in == rule.breaks_in else ())
            if candidate.at_first_hop:
                hop = hops[0]
            else:
                # Tens of thousands of candidates share a few (minor, backports): each is placed once.
                where = (candidate.breaks_in, backports)
                if where not in placed:
                    placed[where] = hop_for(hops, candidate.breaks_in, backports)
                hop = placed[where]
            if hop is not None:
                findings.add(_finding(rule, candidate, hop.minor))

    problems = list(snapshot.problems) + list(config.problems) + failures
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
        HopReport(str(h.source), str(h.dest), h.minor, tuple(str(i) for i in images)) for h, images in required_images(ctx)
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
        snapshot=snapshot.root,
        coverage=read_coverage(snapshot, catalog),
        kubelet_strategy=ctx.options.kubelet_strategy,
    )
