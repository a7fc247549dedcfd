"""Facts about the cluster as a whole, read from the snapshot: its version, kubeadm settings, nodes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kupgrade_lint.component_config import ComponentConfig, EmbeddedConfig
from kupgrade_lint.errors import KupgradeError
from kupgrade_lint.findings import Location
from kupgrade_lint.snapshot.model import Snapshot
from kupgrade_lint.versions import KubeVersion


@dataclass(frozen=True)
class NodeVersions:
    """A Node object's kubelet and kube-proxy versions."""

    name: str
    kubelet: KubeVersion | None
    kube_proxy: KubeVersion | None


@dataclass(frozen=True)
class SandboxImage:
    """A pause image a node is configured with (kubelet flag, containerd or CRI-O configuration)."""

    image: str
    location: Location
    place: str


@dataclass(frozen=True)
class ClusterFacts:
    """What the checks need to know of the cluster beyond single objects."""

    cluster_configuration: EmbeddedConfig | None
    image_repository: str | None
    etcd_external: bool
    nodes: tuple[NodeVersions, ...]
    version_candidates: tuple[tuple[str, KubeVersion], ...]
    # kubeadm's per-add-on image overrides (ClusterConfiguration dns.* and etcd.local.*).
    dns_image_repository: str | None = None
    dns_image_tag: str | None = None
    etcd_image_repository: str | None = None
    etcd_image_tag: str | None = None
    platforms: tuple[str, ...] = ()  # "os/architecture" of every Node
    sandbox_images: tuple[SandboxImage, ...] = ()

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
        image_repository = _text(data.get("imageRepository"))
        etcd = data.get("etcd") or {}
        etcd_external = isinstance(etcd, dict) and bool(etcd.get("external"))
        dns = data.get("dns") if isinstance(data.get("dns"), dict) else {}
        local = etcd.get("local") if isinstance(etcd, dict) and isinstance(etcd.get("local"), dict) else {}
        overrides = {
            "dns_image_repository": _text(dns.get("imageRepository")),
            "dns_image_tag": _text(dns.get("imageTag")),
            "etcd_image_repository": _text(local.get("imageRepository")),
            "etcd_image_tag": _text(local.get("imageTag")),
        }
    else:
        overrides = {}

    for obj in snapshot.of_kind("Pod", origins=("node",)):
        for container in (obj.data.get("spec") or {}).get("containers") or []:
            if container.get("name") == "kube-apiserver":
                image = str(container.get("image", ""))
                tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
                version = _parse(tag)
                if version:
                    candidates.append((f"kube-apiserver image on {obj.source.node}", version))

    nodes = []
    platforms: set[str] = set()
    for obj in snapshot.of_kind("Node"):
        status = obj.data.get("status")
        info = status.get("nodeInfo") if isinstance(status, dict) else None
        info = info if isinstance(info, dict) else {}
        nodes.append(NodeVersions(obj.name, _parse(info.get("kubeletVersion", "")), _parse(info.get("kubeProxyVersion", ""))))
        if _text(info.get("architecture")):
            platforms.add(f"{_text(info.get('operatingSystem')) or 'linux'}/{info['architecture']}")
    kubelets = sorted(n.kubelet for n in nodes if n.kubelet)
    if kubelets:
        candidates.append(("the newest Node kubeletVersion", kubelets[-1]))
    return ClusterFacts(
        cc,
        image_repository,
        etcd_external,
        tuple(sorted(nodes, key=lambda n: n.name)),
        tuple(candidates),
        platforms=tuple(sorted(platforms)),
        sandbox_images=tuple(_sandbox_images(snapshot, config)),
        **overrides,
    )


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


# containerd 1.x: [plugins."io.containerd.grpc.v1.cri"] sandbox_image = "..."
# (https://github.com/containerd/containerd/blob/release/1.7/docs/cri/config.md); containerd 2.x:
# [plugins."io.containerd.cri.v1.images".pinned_images] sandbox = "..."; CRI-O: [crio.image]
# pause_image = "..." (https://github.com/cri-o/cri-o/blob/main/docs/crio.conf.5.md).
_RUNTIME_SANDBOX = (
    ("/etc/containerd/config.toml", re.compile(r'^\s*(?:sandbox_image|sandbox)\s*=\s*["\']([^"\']+)["\']', re.M), "containerd sandbox image"),
    ("/etc/crio/crio.conf", re.compile(r'^\s*pause_image\s*=\s*["\']([^"\']+)["\']', re.M), "CRI-O pause_image"),
)


def _sandbox_images(snapshot: Snapshot, config: ComponentConfig) -> list[SandboxImage]:
    """The pause images nodes really use: the kubelet's --pod-infra-container-image and the runtime's setting."""
    found: list[SandboxImage] = []
    for flag in config.flags:
        if flag.component == "kubelet" and flag.name == "pod-infra-container-image" and flag.value:
            found.append(SandboxImage(flag.value, flag.location, "--pod-infra-container-image"))
    for node, files in sorted(snapshot.node_files.items()):
        for path, nf in sorted(files.items()):
            for prefix, pattern, place in _RUNTIME_SANDBOX:
                if path != prefix and not (prefix == "/etc/crio/crio.conf" and path.startswith("/etc/crio/crio.conf.d/")):
                    continue
                for match in pattern.finditer(nf.text):
                    line = nf.text.count("\n", 0, match.start(1)) + 1
                    found.append(SandboxImage(match.group(1), Location(file=path, line=line, node=node), place))
    return found
