"""Kubelets left behind while the control plane moves on: skew policy and kubeadm's --force."""

from __future__ import annotations

from typing import Iterable

from kupgrade_lint.catalog import Rule
from kupgrade_lint.checks import Candidate, CheckContext, check
from kupgrade_lint.findings import Location


def _old_kubelets(ctx: CheckContext, allowed: int, minor: int) -> list[str]:
    return sorted(
        f"{n.name} ({n.kubelet})" for n in ctx.facts.nodes if n.kubelet is not None and minor - n.kubelet.minor > allowed
    )


_SHOWN = 5


def _listed(nodes: list[str]) -> str:
    """``a (v1.14.5), b (v1.14.5)``, or the first few and how many more on a large cluster."""
    if len(nodes) <= _SHOWN:
        return ", ".join(nodes)
    return ", ".join(nodes[:_SHOWN]) + f" and {len(nodes) - _SHOWN} more"


def _where(nodes: list[str]) -> Location:
    names = [n.split(" ")[0] for n in nodes]
    shown = ", ".join(names[:_SHOWN]) + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")
    return Location(kind="Node", name=shown)


def _lagging(ctx: CheckContext) -> bool:
    return ctx.options.kubelet_strategy == "last"


@check("kubelet_skew")
def kubelet_skew(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """At each hop, kubelets older than the release's skew policy allows."""
    if not _lagging(ctx):
        return
    for hop in ctx.hops:
        release = ctx.catalog.releases[hop.minor]
        old = _old_kubelets(ctx, release.kubelet_skew, hop.dest.minor)
        if not old:
            continue
        yield Candidate(
            hop.minor,
            f"with the control plane at {hop.dest} the kubelets {_listed(old)} are more than {release.kubelet_skew} minors older, "
            "beyond the supported version skew",
            _where(old),
            references=release.sources,
        )
    if ctx.hops and len(ctx.hops) > 1:
        last = ctx.hops[-1]
        jumps = sorted(f"{n.name} ({n.kubelet})" for n in ctx.facts.nodes if n.kubelet and last.dest.minor - n.kubelet.minor > 1)
        if jumps:
            yield Candidate(
                last.minor,
                f"the kubelets {_listed(jumps)} will jump straight to {last.dest}, several minors in one step; drain each node first and expect its containers to restart",
                _where(jumps),
                references=ctx.catalog.releases[last.minor].sources,
            )


@check("kubeadm_force")
def kubeadm_force(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Hops where ``kubeadm upgrade apply`` refuses without ``--force`` because kubelets are too old."""
    if not _lagging(ctx):
        return
    for hop in ctx.hops:
        release = ctx.catalog.releases[hop.minor]
        if release.kubeadm_min_kubelet_skew is None:
            continue
        old = _old_kubelets(ctx, release.kubeadm_min_kubelet_skew, hop.dest.minor)
        if old:
            yield Candidate(
                hop.minor,
                f"kubeadm upgrade apply {hop.dest} refuses without -f/--force: kubelets {_listed(old)} are more than "
                f"{release.kubeadm_min_kubelet_skew} minor(s) older than {hop.dest.minor_string}",
                _where(old),
                references=release.sources,
            )


@check("node_container_runtime")
def node_container_runtime(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Nodes whose container runtime the new kubelet can no longer use (dockershim, removed in 1.24)."""
    prefixes = tuple(rule.params.get("runtime_prefixes", []))
    for obj in ctx.snapshot.of_kind("Node"):
        runtime = str(((obj.data.get("status") or {}).get("nodeInfo") or {}).get("containerRuntimeVersion", ""))
        if runtime.startswith(prefixes):
            yield Candidate(
                rule.breaks_in,
                f"node {obj.name} runs {runtime}; the kubelet of {rule.breaks_in} has no dockershim and cannot use it",
                obj.location("status", "nodeInfo", "containerRuntimeVersion", field_path="status.nodeInfo.containerRuntimeVersion"),
            )
