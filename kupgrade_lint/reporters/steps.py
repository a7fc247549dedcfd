"""The upgrade as steps a person follows: which findings belong to which hop or to the kubelet step.

Only arranges a finished Report (the findings keep their hop in JSON and SARIF): with the kubelets
upgraded last, a fix on a kubelet's files is done when the kubelets are upgraded; the same finding
repeated at several hops (the same nodes' skew, the same missing image) becomes one fact with its hops.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kupgrade_lint.findings import Finding, HopReport, Report

KUBELET_STEP = "kubelets"
"""The name of the step after the last control-plane hop where the kubelets are upgraded."""


def is_kubelet_fix(finding: Finding) -> bool:
    """A finding on a node's kubelet files (env files, units, drop-ins, config.yaml, kubeconfig), not on a static pod."""
    loc = finding.location
    return bool(loc.node and loc.file and "kubelet" in loc.file and not loc.file.startswith("/etc/kubernetes/manifests/"))


def kubelets_last(report: Report) -> bool:
    """True when the kubelets are upgraded once, after the control plane reaches the target."""
    return report.kubelet_strategy == "last" and bool(report.hops)


@dataclass(frozen=True)
class Fact:
    """One thing to say: a finding, or the same finding at several hops (``findings`` in hop order)."""

    findings: tuple[Finding, ...]

    @property
    def first(self) -> Finding:
        return self.findings[0]

    @property
    def hops(self) -> tuple[str, ...]:
        return tuple(f.hop for f in self.findings if f.hop)


@dataclass(frozen=True)
class Step:
    """A hop of the control plane (``hop`` set), the kubelet step (``name`` KUBELET_STEP), or findings at hops off the path."""

    name: str
    hop: HopReport | None
    facts: tuple[Fact, ...]


def _template(finding: Finding, hops: dict[str, HopReport]) -> str:
    """The message without the versions of its own hop: equal templates at one place are one repeated fact."""
    hop = hops.get(finding.hop or "")
    text = finding.message
    if hop is None:
        return text
    for version in (hop.dest, hop.source):
        text = text.replace(version, "\0")
    return re.sub(r"(?<![\d.])" + re.escape(hop.minor) + r"(?![\d])", "\0", text)


def merged_facts(report: Report) -> list[Fact]:
    """Every finding with a hop, repeated facts merged (linear: one pass with a dictionary)."""
    hops = {h.minor: h for h in report.hops}
    groups: dict[tuple, list[Finding]] = {}
    for f in report.findings:
        if f.hop is None:
            continue
        key = (f.rule_id, f.severity, f.suppressed_by, f.location, f.remediation, _template(f, hops))
        groups.setdefault(key, []).append(f)
    return [Fact(tuple(found)) for found in groups.values()]


def arrange(report: Report) -> list[Step]:
    """The hops in order, then (with the kubelets upgraded last) the kubelet step holding the kubelet fixes."""
    last = kubelets_last(report)
    by_step: dict[str, list[Fact]] = {}
    for fact in merged_facts(report):
        name = KUBELET_STEP if last and is_kubelet_fix(fact.first) else fact.first.hop
        by_step.setdefault(name or "", []).append(fact)
    steps = [Step(h.minor, h, tuple(sorted(by_step.get(h.minor, []), key=lambda x: x.first.sort_key()))) for h in report.hops]
    if last:
        steps.append(Step(KUBELET_STEP, None, tuple(sorted(by_step.get(KUBELET_STEP, []), key=lambda x: x.first.sort_key()))))
    # A finding whose hop is not on the path (a report put together by hand) is still said.
    known = {step.name for step in steps}
    stray = sorted((fact for name, facts in by_step.items() if name not in known for fact in facts), key=lambda x: x.first.sort_key())
    if stray:
        steps.append(Step(", ".join(sorted({f.first.hop or "" for f in stray})), None, tuple(stray)))
    return steps


def hop_span(hops: tuple[str, ...], order: list[str]) -> str:
    """``1.17–1.21`` for consecutive hops of the path, else ``1.18, 1.20``."""
    if len(hops) == 1:
        return hops[0]
    index = [order.index(h) for h in hops if h in order]
    if index and index == list(range(index[0], index[0] + len(index))) and len(index) == len(hops):
        return f"{hops[0]}–{hops[-1]}"
    return ", ".join(hops)


def short_place(finding: Finding) -> str:
    """The object or file a finding is about, without the field path."""
    loc = finding.location
    if loc.kind:
        return f"{loc.kind} {loc.namespace}/{loc.name}" if loc.namespace else f"{loc.kind} {loc.name}"
    if loc.file:
        return f"{loc.node}:{loc.file}" if loc.node else loc.file
    return "(cluster)"
