"""CoreDNS: the Corefile the new CoreDNS needs, and LimitRanges that keep its new pods from starting."""

from __future__ import annotations

from typing import Iterable

from kupgrade_lint.catalog import Rule
from kupgrade_lint.checks import Candidate, CheckContext, check
from kupgrade_lint.parsers.corefile import CorefileError, parse_corefile
from kupgrade_lint.parsers.quantity import parse_quantity


@check("coredns_ready_plugin")
def coredns_ready_plugin(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """kubeadm's CoreDNS from this minor probes readiness on :8181/ready, served only by the ``ready`` plugin."""
    obj = ctx.snapshot.find("ConfigMap", "kube-system", "coredns")
    if obj is None:
        return
    corefile = (obj.data.get("data") or {}).get("Corefile")
    if not isinstance(corefile, str):
        return
    try:
        blocks = parse_corefile(corefile)
    except CorefileError as exc:
        where = obj.location(line=obj.content_line(("data", "Corefile"), exc.line), field_path="data.Corefile")
        yield Candidate(None, f"ConfigMap kube-system/coredns: Corefile cannot be parsed: {exc.message}", where)
        return
    for block in blocks:
        if not any(k.split(":")[0] in (".", "") for k in block.keys):
            continue
        if block.has("ready"):
            continue
        yield Candidate(
            rule.breaks_in,
            f"the Corefile's server block {','.join(block.keys)} has no `ready` plugin; CoreDNS pods of {rule.breaks_in} stay Running but never Ready (readiness probe on :8181/ready)",
            obj.location(line=obj.content_line(("data", "Corefile"), block.line), field_path="data.Corefile"),
        )


def _coredns_requirements(ctx: CheckContext, rule: Rule) -> tuple[dict[str, str], dict[str, str], str]:
    """Requests/limits of the CoreDNS container that will be created: the live Deployment's, else kubeadm's."""
    deploy = ctx.snapshot.find("Deployment", "kube-system", "coredns")
    if deploy is not None:
        containers = (((deploy.data.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
        for c in containers:
            if c.get("name") == "coredns":
                res = c.get("resources") or {}
                return res.get("requests") or {}, res.get("limits") or {}, "Deployment kube-system/coredns"
    params = rule.params
    return dict(params.get("requests", {})), dict(params.get("limits", {})), "kubeadm's CoreDNS manifest"


@check("limitrange_blocks_coredns")
def limitrange_blocks_coredns(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """A kube-system LimitRange whose min/max the CoreDNS container violates: the new pods are refused."""
    if not ctx.hops:
        return
    requests, limits, source = _coredns_requirements(ctx, rule)
    for obj in ctx.snapshot.of_kind("LimitRange"):
        if obj.namespace != "kube-system":
            continue
        for i, item in enumerate((obj.data.get("spec") or {}).get("limits") or []):
            if not isinstance(item, dict) or item.get("type") not in ("Container", "Pod"):
                continue
            problems = []
            culprit: tuple = ()
            for resource, minimum in (item.get("min") or {}).items():
                need = parse_quantity(minimum)
                have = parse_quantity(requests.get(resource, limits.get(resource, "0")))
                if need is not None and have is not None and have < need:
                    problems.append(f"min {resource} {minimum} > CoreDNS request {requests.get(resource, limits.get(resource, 'none'))}")
                    culprit = culprit or ("min", resource)
            for resource, maximum in (item.get("max") or {}).items():
                cap = parse_quantity(maximum)
                have = parse_quantity(limits.get(resource, requests.get(resource, "0")))
                if cap is not None and have is not None and have > cap:
                    problems.append(f"max {resource} {maximum} < CoreDNS limit {limits.get(resource)}")
                    culprit = culprit or ("max", resource)
            if not problems:
                continue
            first = ctx.hops[0].minor
            yield Candidate(
                first,
                f"LimitRange kube-system/{obj.name} refuses the CoreDNS pods kubeadm creates at every upgrade ({'; '.join(problems)}; from {source})",
                obj.location("spec", "limits", i, *culprit, field_path=f"spec.limits[{i}]." + ".".join(culprit)),
            )
