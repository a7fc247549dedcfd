"""What kubeadm of version X renders for each control-plane component, from ``rules/kubeadm.yaml``.

``kubeadm init/join/upgrade apply/upgrade node`` write the static pod manifests from kubeadm's own
defaults for that version overridden by the ClusterConfiguration (``extraArgs``, ``extraEnvs``,
``imageRepository``) and any patches; whatever else a manifest holds was put there by hand and is
lost at the next upgrade (https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/control-plane-flags/).
This module answers "what would kubeadm write": the flags and their values, the image, the liveness
probe's port, the environment. It does not judge; the checks compare it with the snapshot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from kupgrade_lint.catalog import Catalog, KubeadmDefault
from kupgrade_lint.versions import KubeVersion, includes_change, minor_key

CONTROL_PLANE_COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")
# The ClusterConfiguration section whose extraArgs / extraEnvs reach each component.
SECTIONS = {"kube-apiserver": ("apiServer",), "kube-controller-manager": ("controllerManager",), "kube-scheduler": ("scheduler",), "etcd": ("etcd", "local")}
# kubeadm copies the *_proxy variables of its own environment into every control-plane container
# (getProxyEnvVars in phases/controlplane/manifests.go); they differ from host to host.
_PROXY_ENV = re.compile(r".*_proxy$", re.I)
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

YES, MAYBE, NO = "yes", "maybe", "no"


def _extra(value: Any) -> dict[str, str]:
    """extraArgs/extraEnvs: a map up to kubeadm v1beta3, a list of {name, value} from v1beta4."""
    if isinstance(value, dict):
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(i["name"]): str(i.get("value", "")) for i in value if isinstance(i, dict) and "name" in i}
    return {}


def _section(data: dict, path: tuple[str, ...]) -> dict:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class ClusterInputs:
    """What kubeadm renders from: the ClusterConfiguration's values, conditions and overrides."""

    variables: dict[str, str]
    conditions: frozenset[str]
    extra_args: dict[str, dict[str, str]]
    extra_envs: dict[str, dict[str, str]]
    image_repository: str | None
    etcd_image: str | None
    hyperkube: bool
    kubernetes_version: str | None

    @classmethod
    def from_cluster_configuration(cls, data: dict) -> "ClusterInputs":
        """Read a ClusterConfiguration (per-node values come from ``node_variables``)."""
        networking = data.get("networking") if isinstance(data.get("networking"), dict) else {}
        etcd = data.get("etcd") if isinstance(data.get("etcd"), dict) else {}
        external = etcd.get("external") if isinstance(etcd.get("external"), dict) else None
        # kubeadm's defaults for the fields (cmd/kubeadm/app/apis/kubeadm/v1beta*/defaults.go).
        variables = {
            "certificates_dir": str(data.get("certificatesDir") or "/etc/kubernetes/pki").rstrip("/"),
            "service_subnet": str(networking.get("serviceSubnet") or "10.96.0.0/12"),
            "dns_domain": str(networking.get("dnsDomain") or "cluster.local"),
            "cluster_name": str(data.get("clusterName") or "kubernetes"),
        }
        conditions = set()
        if networking.get("podSubnet"):
            variables["pod_subnet"] = str(networking["podSubnet"])
            conditions.add("pod-subnet")
        if external is not None:
            conditions.add("external-etcd")
            variables["etcd_endpoints"] = ",".join(str(e) for e in external.get("endpoints") or [])
            for key, var in (("caFile", "etcd_ca_file"), ("certFile", "etcd_cert_file"), ("keyFile", "etcd_key_file")):
                if external.get(key):
                    variables[var] = str(external[key])
            if external.get("caFile"):
                conditions.add("external-etcd-tls")
        else:
            conditions.add("local-etcd")
        local = etcd.get("local") if isinstance(etcd.get("local"), dict) else {}
        etcd_image = None
        if local.get("imageRepository") or local.get("imageTag"):
            etcd_image = f"{local.get('imageRepository') or '{image_repository}'}/etcd:{local.get('imageTag') or '{etcd_tag}'}"
        extra_args = {c: _extra(_section(data, s).get("extraArgs")) for c, s in SECTIONS.items()}
        extra_envs = {c: _extra(_section(data, s).get("extraEnvs")) for c, s in SECTIONS.items()}
        return cls(
            variables=variables,
            conditions=frozenset(conditions),
            extra_args=extra_args,
            extra_envs=extra_envs,
            image_repository=str(data["imageRepository"]) if data.get("imageRepository") else None,
            etcd_image=etcd_image,
            hyperkube=bool(data.get("useHyperKubeImage")),
            kubernetes_version=str(data["kubernetesVersion"]) if data.get("kubernetesVersion") else None,
        )


def node_variables(status: dict | None, node: str | None, annotations: dict | None) -> dict[str, str]:
    """The per-node values: the apiserver's advertise address and port (ClusterStatus or the pod's kubeadm annotation)."""
    found: dict[str, str] = {}
    endpoint = (annotations or {}).get("kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint")
    if isinstance(endpoint, str) and ":" in endpoint:
        host, _, port = endpoint.rpartition(":")
        found["advertise_address"] = host.strip("[]")
        found["bind_port"] = port
    endpoints = (status or {}).get("apiEndpoints")
    if isinstance(endpoints, dict) and node in endpoints and isinstance(endpoints[node], dict):
        entry = endpoints[node]
        if entry.get("advertiseAddress"):
            found.setdefault("advertise_address", str(entry["advertiseAddress"]))
        if entry.get("bindPort"):
            found.setdefault("bind_port", str(entry["bindPort"]))
    found.setdefault("bind_port", "6443")
    return found


@dataclass(frozen=True)
class RenderedFlag:
    """A flag kubeadm writes: ``value`` None means any value is kubeadm's; ``certain`` False means
    only some patch releases or nodes get it, so neither its presence nor its absence is a hand edit."""

    name: str
    value: str | None
    certain: bool
    entry: KubeadmDefault | None
    from_extra_args: bool = False


@dataclass(frozen=True)
class ComponentRender:
    """What kubeadm of one version writes for one component."""

    component: str
    version: KubeVersion
    flags: dict[str, RenderedFlag]
    image: str | None
    probe: tuple[str, str] | None
    extra_envs: dict[str, str] = field(default_factory=dict)

    def env_is_kubeadms(self, name: str, value: str | None) -> bool:
        """True when kubeadm itself writes this environment variable (extraEnvs, or a *_proxy of its host)."""
        if name in self.extra_envs:
            return value is None or self.extra_envs[name] == value
        return bool(_PROXY_ENV.match(name))


def state(entry: KubeadmDefault, version: KubeVersion) -> str:
    """Whether kubeadm of ``version`` renders ``entry``: yes, no, or maybe (some patches/nodes)."""
    if version.minor_string in entry.tolerated_in:
        return MAYBE
    if entry.rendered_until is not None and version.minor_key >= minor_key(entry.rendered_until):
        return NO
    if includes_change(version, entry.rendered_from, entry.backported_to):
        return MAYBE if entry.optional else YES
    return NO


def fill(template: str | None, variables: dict[str, str]) -> str | None:
    """The template with its placeholders filled; None when one of them is not known."""
    if template is None:
        return None
    missing = [name for name in _PLACEHOLDER.findall(template) if name not in variables]
    if missing:
        return None
    return _PLACEHOLDER.sub(lambda m: variables[m.group(1)], template)


class KubeadmModel:
    """The kubeadm defaults of every modelled minor, indexed by component."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.by_component: dict[str, list[KubeadmDefault]] = {}
        for entry in sorted(catalog.kubeadm.values(), key=lambda e: (e.component, e.flag or "", minor_key(e.rendered_from))):
            self.by_component.setdefault(entry.component, []).append(entry)
        self.oldest = min((minor_key(e.rendered_from) for e in catalog.kubeadm.values()), default=(1, 14))

    def models(self, version: KubeVersion) -> bool:
        """True when the catalog models the kubeadm of this minor."""
        return version.minor_key >= self.oldest and version.minor_string in self.catalog.releases

    def applies(self, entry: KubeadmDefault, inputs: ClusterInputs) -> bool:
        return entry.when is None or entry.when in inputs.conditions

    def render(self, component: str, inputs: ClusterInputs, version: KubeVersion, node_vars: dict[str, str] | None = None) -> ComponentRender:
        """What kubeadm of ``version`` writes for ``component`` of this cluster (on this node)."""
        variables = {**inputs.variables, **(node_vars or {})}
        flags: dict[str, RenderedFlag] = {}
        probe: tuple[str, str] | None = None
        for entry in self.by_component.get(component, []):
            if not self.applies(entry, inputs):
                continue
            how = state(entry, version)
            if how == NO:
                continue
            if entry.flag:
                previous = flags.get(entry.flag)
                certain = how == YES and (previous is None or previous.certain)
                value = fill(entry.value, variables) if entry.value is not None else None
                if previous is not None and previous.value != value:
                    value = None  # two renderings of the flag this minor (e.g. etcd 3.5 / 3.6): any is kubeadm's
                flags[entry.flag] = RenderedFlag(entry.flag, value, certain, entry)
            elif how == YES and entry.probe_port:
                port = fill(entry.probe_port, variables)
                probe = (port, entry.probe_scheme or "HTTP") if port else None
        for name, value in inputs.extra_args.get(component, {}).items():
            entry = flags[name].entry if name in flags else None
            flags[name] = RenderedFlag(name, value, True, entry, from_extra_args=True)
        return ComponentRender(component, version, flags, self.image(component, inputs, version), probe, dict(inputs.extra_envs.get(component, {})))

    def image(self, component: str, inputs: ClusterInputs, version: KubeVersion) -> str | None:
        """The image kubeadm writes; None when it cannot be told (hyperkube, unknown release)."""
        release = self.catalog.releases.get(version.minor_string)
        if release is None or version.patch is None or (inputs.hyperkube and component != "etcd"):
            return None
        defaults = release.images_at(version.patch)
        repository = inputs.image_repository or defaults.image_repository
        if component == "etcd":
            if inputs.etcd_image:
                return fill(inputs.etcd_image, {"image_repository": repository, "etcd_tag": defaults.etcd_tag})
            return f"{repository}/etcd:{defaults.etcd_tag}"
        # kubeadm turns the version into a tag: "+" is not allowed in image tags (constants.GetKubeControlPlaneImage...)
        return f"{repository}/{component}:{str(version).replace('+', '_')}"

    def changes(self, inputs: ClusterInputs) -> Iterable[tuple[KubeadmDefault, str, str]]:
        """Each change of kubeadm's own defaults the cluster would see: (entry, "added"|"removed", minor).

        A default the cluster overrides with extraArgs does not change anything and is left out.
        """
        for component in CONTROL_PLANE_COMPONENTS:
            overridden = inputs.extra_args.get(component, {})
            for entry in self.by_component.get(component, []):
                if not self.applies(entry, inputs) or (entry.flag and entry.flag in overridden) or not entry.effect:
                    continue
                if minor_key(entry.rendered_from) > self.oldest:
                    yield entry, "added", entry.rendered_from
                elif entry.rendered_until is not None:
                    yield entry, "removed", entry.rendered_until

    def kubelet_flag(self, flag: str) -> KubeadmDefault | None:
        """The kubeadm-flags.env entry for a kubelet flag, if kubeadm ever wrote it."""
        return next((e for e in self.by_component.get("kubelet", []) if e.flag == flag), None)
