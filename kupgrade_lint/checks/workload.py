"""Workloads that break when service-account tokens become bound, projected volumes (1.21)."""

from __future__ import annotations

from typing import Iterable

from kupgrade_lint.catalog import Rule
from kupgrade_lint.checks import WORKLOAD_KINDS, Candidate, CheckContext, check, pod_specs


def _owned(obj) -> bool:
    return bool(obj.metadata.get("ownerReferences"))


@check("bound_token_fsgroup")
def bound_token_fsgroup(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Non-root containers with the token mounted and no pod fsGroup cannot read the projected token."""
    no_automount = {
        (sa.namespace, sa.name)
        for sa in ctx.snapshot.of_kind("ServiceAccount")
        if sa.data.get("automountServiceAccountToken") is False
    }
    for obj in ctx.snapshot.of_kind(*WORKLOAD_KINDS):
        if obj.kind in ("Pod", "ReplicaSet", "Job") and _owned(obj):
            continue  # reported on the owner, which is what gets fixed
        for path, spec in pod_specs(obj.data, obj.kind):
            if spec.get("automountServiceAccountToken") is False:
                continue
            sa = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
            if spec.get("automountServiceAccountToken") is None and (obj.namespace, sa) in no_automount:
                continue
            pod_sc = spec.get("securityContext") or {}
            if pod_sc.get("fsGroup") is not None:
                continue
            containers = [("containers", i, c) for i, c in enumerate(spec.get("containers") or [])]
            containers += [("initContainers", i, c) for i, c in enumerate(spec.get("initContainers") or [])]
            for key, i, container in containers:
                sc = container.get("securityContext") or {}
                user = sc.get("runAsUser", pod_sc.get("runAsUser"))
                where = (key, i, "securityContext", "runAsUser") if "runAsUser" in sc else ("securityContext", "runAsUser")
                if not isinstance(user, int) or user == 0:
                    continue
                who = f"{obj.kind} {obj.namespace}/{obj.name}"
                yield Candidate(
                    rule.breaks_in,
                    f"{who}: container {container.get('name')} runs as user {user} with no pod fsGroup; from {rule.breaks_in} it cannot read "
                    "/var/run/secrets/kubernetes.io/serviceaccount/token (permission denied)",
                    obj.location(*path, *where, field_path=".".join(str(p) for p in path) + f".{key}[{i}]"),
                )
