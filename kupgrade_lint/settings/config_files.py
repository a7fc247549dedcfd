"""Component configuration files: KubeletConfiguration and KubeProxyConfiguration gates and mode."""

from __future__ import annotations

from kupgrade_lint.settings.model import EmbeddedConfig, FlagSetting, GateSetting


def config_file_settings(proxy_configs: list[EmbeddedConfig], configs: list[EmbeddedConfig]) -> tuple[list[FlagSetting], list[GateSetting]]:
    flags: list[FlagSetting] = []
    gates: list[GateSetting] = []
    for config in proxy_configs:
        # The config file's `mode` is the --proxy-mode flag: the same values are accepted.
        mode = config.data.get("mode")
        if isinstance(mode, str) and mode:
            flags.append(FlagSetting("kube-proxy", "proxy-mode", mode, config.location(("mode",), "mode"), "KubeProxyConfiguration mode"))
    for config in configs:
        component = "kubelet" if config.data.get("kind") == "KubeletConfiguration" else "kube-proxy"
        feature_gates = config.data.get("featureGates")
        if not isinstance(feature_gates, dict):
            continue
        for gate, value in feature_gates.items():
            gates.append(GateSetting(component, str(gate), str(value).lower(), config.location(("featureGates", gate), f"featureGates.{gate}"), f"{config.data.get('kind')} featureGates"))
    return flags, gates
