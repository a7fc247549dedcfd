"""Feature gates the components no longer recognise: ``unrecognized feature gate`` and no start."""

from __future__ import annotations

from typing import Iterable

from kupgrade_lint.catalog import Rule
from kupgrade_lint.checks import Candidate, CheckContext, check


@check("removed_feature_gate")
def removed_feature_gate(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Every place a removed gate is set: flags, ClusterConfiguration, kube-proxy and kubelet config."""
    for setting in ctx.config.gates:
        family = "kubeadm" if setting.component == "kubeadm" else "kubernetes"
        entry = ctx.catalog.feature_gates.get((family, setting.gate))
        if entry is None:
            continue
        who = "kubeadm" if family == "kubeadm" else setting.component
        locked = ""
        if entry.locked_to is not None:
            locked = f" (it was locked to {str(entry.locked_to).lower()} before)"
        yield Candidate(
            entry.removed_in,
            f"feature gate {setting.gate}={setting.value} is set for {who} ({setting.place}); it is removed in {entry.removed_in}{locked} and {who} will not start",
            setting.location,
            remediation=f"Remove {setting.gate} from the feature gates before the hop to {entry.removed_in} (the last release that accepts it is {entry.last_accepted_in}).",
            references=entry.sources,
        )
