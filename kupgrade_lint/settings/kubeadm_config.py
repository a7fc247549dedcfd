"""kubeadm's ClusterConfiguration: the extraArgs and feature gates it gives the control plane."""

from __future__ import annotations

from typing import Any, Iterator

from kupgrade_lint.settings.model import KUBEADM_EXTRA_ARGS, EmbeddedConfig, FlagSetting, GateSetting

SECTIONS = {"apiServer": "kube-apiserver", "controllerManager": "kube-controller-manager", "scheduler": "kube-scheduler"}


def preferred_cluster_configuration(configs: list[EmbeddedConfig]) -> EmbeddedConfig | None:
    """The ClusterConfiguration kubeadm upgrade reads: the kubeadm-config ConfigMap's, else a loose file's."""
    ranked = sorted(configs, key=lambda c: (c.owner is None or c.owner.name != "kubeadm-config", c.file))
    return ranked[0] if ranked else None


def cluster_status(configs: list[EmbeddedConfig]) -> dict | None:
    """The ClusterStatus stored in kubeadm-config (up to kubeadm 1.21): the apiserver endpoint of each node."""
    for config in configs:
        if config.owner is not None and config.owner.name == "kubeadm-config":
            return config.data
    return None


def kubeadm_settings(configs: list[EmbeddedConfig]) -> tuple[list[FlagSetting], list[GateSetting]]:
    flags: list[FlagSetting] = []
    gates: list[GateSetting] = []
    for config in configs:
        data = config.data
        for section, component in SECTIONS.items():
            extra = (data.get(section) or {}).get("extraArgs")
            for name, value, path in extra_args(extra, (section, "extraArgs")):
                location = config.location(path, f"{section}.extraArgs.{name}")
                flags.append(FlagSetting(component, name, value, location, KUBEADM_EXTRA_ARGS))
        feature_gates = data.get("featureGates")
        if isinstance(feature_gates, dict):
            for gate, value in feature_gates.items():
                gates.append(GateSetting("kubeadm", str(gate), str(value).lower(), config.location(("featureGates", gate), f"featureGates.{gate}"), "kubeadm ClusterConfiguration featureGates"))
    return flags, gates


def extra_args(extra: Any, base: tuple) -> Iterator[tuple[str, str, tuple]]:
    """kubeadm extraArgs: a map up to v1beta3, a list of {name, value} from v1beta4."""
    if isinstance(extra, dict):
        for name, value in extra.items():
            yield str(name), "" if value is None else str(value), base + (name,)
    elif isinstance(extra, list):
        for i, item in enumerate(extra):
            if isinstance(item, dict) and "name" in item:
                yield str(item["name"]), str(item.get("value", "")), base + (i,)
