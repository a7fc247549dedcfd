"""Facts about the cluster as a whole, read from the snapshot: its version, kubeadm settings, nodes."""

from __future__ import annotations

from dataclasses import dataclass

from kupgrade_lint.component_config import ComponentConfig, EmbeddedConfig
from kupgrade_lint.errors import KupgradeError
from kupgrade_lint.snapshot.model import Snapshot
from kupgrade_lint.versions import KubeVersion


@dataclass(frozen=True)
class NodeVersions:
    """A Node object's kubelet and kube-proxy versions."""

    name: str
    kubelet: KubeVersion | None
    kube_proxy: KubeVersion | None


@dataclass(frozen=True)
class ClusterFacts:
    """What the checks need to know of the cluster beyond single objects."""

    cluster_configuration: EmbeddedConfig | None
    image_repository: str | None
    etcd_external: bool
    nodes: tuple[NodeVersions, ...]
    version_candidates: tuple[tuple[str, KubeVersion], ...]

    def detect_current(self) -> tuple[KubeVersion, str]:
        """The current control-plane version and where it was read; the first source that has one wins."""
        for how, version in self.version_candidates:
            if version.patch is not None:
                return version, how
        raise KupgradeError(
            "cannot tell the cluster's current version from the input (no kupgrade-snapshot.json server_version, "
            "kubeadm ClusterConfiguration, kube-apiserver manifest or Node objects); pass --current, e.g. --current v1.14.5"
        )


def _parse(text: object) -> KubeVersion | None:
    try:
        return KubeVersion.parse(str(text))
    except KupgradeError:
        return None


def read_cluster_facts(snapshot: Snapshot, config: ComponentConfig) -> ClusterFacts:
    """Gather the cluster-wide facts once per scan."""
    candidates: list[tuple[str, KubeVersion]] = []
    server = snapshot.metadata.get("server_version") if isinstance(snapshot.metadata, dict) else None
    if isinstance(server, dict) and _parse(server.get("gitVersion", "")):
        candidates.append(("kupgrade-snapshot.json server_version", _parse(server["gitVersion"])))  # type: ignore[arg-type]

    cluster_configs = config.configs_of_kind("ClusterConfiguration")
    # The kubeadm-config ConfigMap is what kubeadm upgrade reads; prefer it to loose files.
    cluster_configs.sort(key=lambda c: (c.owner is None or c.owner.name != "kubeadm-config", c.file))
    cc = cluster_configs[0] if cluster_configs else None
    image_repository = None
    etcd_external = False
    if cc is not None:
        data = cc.data
        version = _parse(data.get("kubernetesVersion", ""))
        if version:
            candidates.append((f"kubeadm ClusterConfiguration kubernetesVersion ({cc.file})", version))
        image_repository = data.get("imageRepository") or None
        etcd = data.get("etcd") or {}
        etcd_external = isinstance(etcd, dict) and bool(etcd.get("external"))

    for obj in snapshot.of_kind("Pod", origins=("node",)):
        for container in (obj.data.get("spec") or {}).get("containers") or []:
            if container.get("name") == "kube-apiserver":
                image = str(container.get("image", ""))
                tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
                version = _parse(tag)
                if version:
                    candidates.append((f"kube-apiserver image on {obj.source.node}", version))

    nodes = []
    for obj in snapshot.of_kind("Node"):
        info = (obj.data.get("status") or {}).get("nodeInfo") or {}
        nodes.append(NodeVersions(obj.name, _parse(info.get("kubeletVersion", "")), _parse(info.get("kubeProxyVersion", ""))))
    kubelets = sorted(n.kubelet for n in nodes if n.kubelet)
    if kubelets:
        candidates.append(("the newest Node kubeletVersion", kubelets[-1]))
    return ClusterFacts(cc, image_repository, etcd_external, tuple(sorted(nodes, key=lambda n: n.name)), tuple(candidates))
