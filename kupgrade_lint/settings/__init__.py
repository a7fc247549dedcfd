"""Where each component's flags and feature gates are set, read from the snapshot.

The same setting reaches a component through several places operators edit, one module each:
``kubelet_node`` (the kubelet's systemd unit and the env files it expands: kubespray
``kubelet.env``, kubeadm ``kubeadm-flags.env``), ``kubeadm_config`` (the ClusterConfiguration's
``extraArgs`` in the ``kube-system/kubeadm-config`` ConfigMap), ``static_pods`` (the manifests
kubeadm renders from it), ``config_files`` (KubeletConfiguration, KubeProxyConfiguration) and
``daemonsets`` (kube-proxy). Each place is reported separately so that every one gets fixed.
Nothing here judges: it only says what is set where. ``ComponentConfig`` gathers them once per scan.
"""

from __future__ import annotations

from kupgrade_lint.errors import KupgradeError
from kupgrade_lint.kubeadm_render import ClusterInputs, KubeadmModel, node_variables
from kupgrade_lint.parsers.flags import parse_feature_gates
from kupgrade_lint.settings.config_files import config_file_settings
from kupgrade_lint.settings.daemonsets import daemonset_flags
from kupgrade_lint.settings.embedded import embedded_configs
from kupgrade_lint.settings.kubeadm_config import cluster_status, kubeadm_settings, preferred_cluster_configuration
from kupgrade_lint.settings.kubelet_node import KUBELET_ENV_FILES, UNIT_DIRS
from kupgrade_lint.settings.kubelet_node import kubelet_flags as _kubelet_flags
from kupgrade_lint.settings.model import KUBEADM_EXTRA_ARGS, EmbeddedConfig, FlagSetting, GateSetting
from kupgrade_lint.settings.static_pods import StaticPod, static_pod_flags, static_pods
from kupgrade_lint.snapshot.model import InputProblem, Snapshot
from kupgrade_lint.versions import KubeVersion

__all__ = [
    "ComponentConfig",
    "EmbeddedConfig",
    "FlagSetting",
    "GateSetting",
    "StaticPod",
    "KUBELET_ENV_FILES",
    "UNIT_DIRS",
    "CONTROL_PLANE",
]

CONTROL_PLANE = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")


class ComponentConfig:
    """Every flag and feature gate setting of the snapshot, computed once per scan.

    With ``kubeadm`` (the model of what kubeadm renders), the static pod flags of a kubeadm
    cluster are told apart: kubeadm's own defaults for the version that wrote the manifests
    (``kubeadm_default``), ClusterConfiguration extraArgs, and hand edits (``hand_edit``).
    """

    def __init__(self, snapshot: Snapshot, kubeadm: KubeadmModel | None = None) -> None:
        self.snapshot = snapshot
        self.problems: list[InputProblem] = []
        self.embedded: list[EmbeddedConfig] = list(embedded_configs(snapshot, self.problems))
        self.flags: list[FlagSetting] = []
        self.gates: list[GateSetting] = []
        self.static_pods: list[StaticPod] = static_pods(snapshot)
        self.kubeadm = kubeadm
        self.cluster_configuration = preferred_cluster_configuration(self.configs_of_kind("ClusterConfiguration"))
        self.cluster_status = cluster_status(self.configs_of_kind("ClusterStatus"))
        self.kubeadm_inputs = ClusterInputs.from_cluster_configuration(self.cluster_configuration.data) if self.cluster_configuration else None
        self.kubeadm_version = self._kubeadm_version()
        self._collect()

    def configs_of_kind(self, *kinds: str) -> list[EmbeddedConfig]:
        """The configurations of these kinds; iterating them is tracked like ``Snapshot.of_kind``."""
        return _Tracked(self.snapshot, [c for c in self.embedded if isinstance(c.data, dict) and c.data.get("kind") in kinds])

    @property
    def is_kubeadm_cluster(self) -> bool:
        """A kubeadm ClusterConfiguration (kubeadm-config ConfigMap or a file) is in the snapshot."""
        return self.cluster_configuration is not None

    def render(self, pod: StaticPod, version: KubeVersion | None = None):
        """What kubeadm (of ``version``, default the one that wrote the manifests) renders for this pod's component."""
        version = version or self.kubeadm_version
        if self.kubeadm is None or self.kubeadm_inputs is None or version is None:
            return None
        return self.kubeadm.render(pod.component, self.kubeadm_inputs, version, node_variables(self.cluster_status, pod.node, pod.annotations))

    def _kubeadm_version(self) -> KubeVersion | None:
        """The kubeadm version that wrote the manifests: the ClusterConfiguration's kubernetesVersion, else the apiserver image."""
        candidates = [self.kubeadm_inputs.kubernetes_version] if self.kubeadm_inputs and self.kubeadm_inputs.kubernetes_version else []
        candidates += [p.image.rpartition(":")[2] for p in self.static_pods if p.component == "kube-apiserver" and p.image and ":" in p.image]
        for text in candidates:
            try:
                version = KubeVersion.parse(text)
            except KupgradeError:
                continue
            if version.patch is not None:
                return version
        return None

    def _collect(self) -> None:
        for node in sorted(self.snapshot.node_files):
            self.flags.extend(_kubelet_flags(self.snapshot, node, self.problems))
        flags, gates = kubeadm_settings(self.configs_of_kind("ClusterConfiguration"))
        self.flags.extend(flags)
        self.gates.extend(gates)
        self.flags.extend(static_pod_flags(self.static_pods, self._classifier()))
        flags, gates = config_file_settings(self.configs_of_kind("KubeProxyConfiguration"), self.configs_of_kind("KubeletConfiguration", "KubeProxyConfiguration"))
        self.flags.extend(flags)
        self.gates.extend(gates)
        self.flags.extend(daemonset_flags(self.snapshot, "kube-proxy"))
        for flag in self.flags:
            if flag.name == "feature-gates" and flag.value is not None and not flag.kubeadm_default:
                for gate, value in parse_feature_gates(flag.value):
                    self.gates.append(GateSetting(flag.component, gate, value, flag.location, flag.place))

    def _classifier(self):
        managed = {(s.component, s.name) for s in self.flags if s.place == KUBEADM_EXTRA_ARGS}
        kubeadm_cluster = self.is_kubeadm_cluster
        modelled = self.kubeadm is not None and self.kubeadm_version is not None and self.kubeadm.models(self.kubeadm_version)
        if kubeadm_cluster and self.kubeadm is not None and not modelled and any(p.component in CONTROL_PLANE for p in self.static_pods):
            version = self.kubeadm_version or "unknown"
            self.problems.append(
                InputProblem(None, f"what kubeadm {version} renders is not modelled (rules/kubeadm.yaml); static pod manifests were not checked for hand edits")
            )
        if kubeadm_cluster and self.kubeadm is not None and self.snapshot.node_files and not any(p.component in CONTROL_PLANE for p in self.static_pods):
            self.problems.append(
                InputProblem(
                    None,
                    "no control-plane static pod manifest (/etc/kubernetes/manifests) is in the node files of the snapshot: "
                    "hand edits that kubeadm upgrade drops were not checked; add a control-plane node with `kupgrade-lint collect node`",
                )
            )
        renders: dict[int, object] = {}

        def classify(pod: StaticPod, name: str) -> str:
            if not kubeadm_cluster:
                return "plain"
            if (pod.component, name) in managed:
                return "managed"
            if not modelled:
                return "default"  # cannot tell kubeadm's flags from hand edits: leave them to kubeadm, as before
            if id(pod) not in renders:
                renders[id(pod)] = self.render(pod)
            rendered = renders[id(pod)].flags.get(name)  # type: ignore[attr-defined]
            return "default" if rendered is not None else "hand-edit"

        return classify


class _Tracked(list):
    """A list whose iteration the snapshot tracks (which configuration a check is handling)."""

    def __init__(self, snapshot: Snapshot, items: list) -> None:
        super().__init__(items)
        self._snapshot = snapshot

    def __iter__(self):
        return self._snapshot.track(list.__iter__(self))
