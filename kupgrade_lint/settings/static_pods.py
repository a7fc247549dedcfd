"""Static pod manifests of the control plane (/etc/kubernetes/manifests) on each node.

kubeadm writes them from its own defaults and the ClusterConfiguration at every ``init``,
``join`` and ``upgrade``; what a manifest holds beyond that is a hand edit, lost at the next
upgrade. Each flag is classified against ``kubeadm_render`` for the version that wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass

from kupgrade_lint.findings import Location
from kupgrade_lint.parsers.flags import FlagUse
from kupgrade_lint.settings.containers import container_flag_uses
from kupgrade_lint.settings.model import STATIC_POD, STATIC_POD_HAND_EDIT, FlagSetting
from kupgrade_lint.snapshot.model import KubeObject, Snapshot

COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str | None
    location: Location


@dataclass(frozen=True)
class StaticPod:
    """One control-plane container of a static pod manifest, as the node has it."""

    obj: KubeObject
    component: str
    node: str | None
    container_index: int
    flags: tuple[tuple[FlagUse, Location], ...]
    env: tuple[EnvVar, ...]
    image: str | None
    image_location: Location
    probe: tuple[str, str] | None
    probe_location: Location | None

    @property
    def file(self) -> str:
        return self.obj.source.file

    @property
    def location(self) -> Location:
        return self.obj.location("spec", "containers", self.container_index)

    @property
    def annotations(self) -> dict:
        return ((self.obj.data.get("metadata") or {}).get("annotations")) or {}


def component_of(container: dict) -> str | None:
    name = str(container.get("name", ""))
    if name in COMPONENTS:
        return name
    command = container.get("command") or []
    if command and isinstance(command[0], str):
        binary = command[0].rsplit("/", 1)[-1]
        if binary in COMPONENTS:
            return binary
    return None


def static_pods(snapshot: Snapshot) -> list[StaticPod]:
    pods: list[StaticPod] = []
    for obj in snapshot.of_kind("Pod", origins=("node",)):
        containers = (obj.data.get("spec") or {}).get("containers") or []
        for ci, container in enumerate(containers):
            if not isinstance(container, dict):
                continue
            component = component_of(container)
            if component is None:
                continue
            flags = tuple((use, obj.location(*path)) for use, path in container_flag_uses(obj, ci, container))
            env = tuple(
                EnvVar(str(e.get("name")), None if e.get("value") is None else str(e.get("value")), obj.location("spec", "containers", ci, "env", ei))
                for ei, e in enumerate(container.get("env") or [])
                if isinstance(e, dict) and e.get("name")
            )
            probe = None
            probe_location = None
            http = ((container.get("livenessProbe") or {}).get("httpGet")) if isinstance(container.get("livenessProbe"), dict) else None
            if isinstance(http, dict) and http.get("port") is not None:
                probe = (str(http["port"]), str(http.get("scheme") or "HTTP").upper())
                probe_location = obj.location("spec", "containers", ci, "livenessProbe", "httpGet", "port")
            image = container.get("image")
            pods.append(
                StaticPod(
                    obj, component, obj.source.node, ci, flags, env,
                    str(image) if image else None, obj.location("spec", "containers", ci, "image"), probe, probe_location,
                )
            )
    return pods


def static_pod_flags(pods: list[StaticPod], classify) -> list[FlagSetting]:
    """The flags of the control-plane manifests; ``classify(pod, name)`` says "default", "managed" or "hand-edit".

    etcd's flags are not component flags the catalog knows; they stay out of ``flags``.
    """
    flags: list[FlagSetting] = []
    for pod in pods:
        if pod.component == "etcd":
            continue
        for use, location in pod.flags:
            kind = classify(pod, use.name)
            place = STATIC_POD_HAND_EDIT if kind == "hand-edit" else STATIC_POD
            flags.append(FlagSetting(pod.component, use.name, use.value, location, place, kubeadm_default=kind == "default", hand_edit=kind == "hand-edit"))
    return flags
