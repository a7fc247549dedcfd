"""Flags of a component run as a DaemonSet (kube-proxy)."""

from __future__ import annotations

from kupgrade_lint.settings.containers import container_flag_uses
from kupgrade_lint.settings.model import FlagSetting
from kupgrade_lint.snapshot.model import Snapshot


def daemonset_flags(snapshot: Snapshot, component: str) -> list[FlagSetting]:
    flags: list[FlagSetting] = []
    for obj in snapshot.of_kind("DaemonSet"):
        if obj.name != component:
            continue
        containers = (((obj.data.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
        for ci, container in enumerate(containers):
            if container.get("name") != component:
                continue
            for use, path in container_flag_uses(obj, ci, container, prefix=("spec", "template", "spec")):
                flags.append(FlagSetting(component, use.name, use.value, obj.location(*path), f"{component} DaemonSet"))
    return flags
