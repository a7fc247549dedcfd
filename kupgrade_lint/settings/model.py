"""The settings found in the snapshot: a flag, a feature gate, an embedded configuration document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kupgrade_lint.findings import Location
from kupgrade_lint.parsers.yaml_documents import Document
from kupgrade_lint.snapshot.model import KubeObject

# The place of a flag set in the kubeadm ClusterConfiguration.
KUBEADM_EXTRA_ARGS = "kubeadm ClusterConfiguration extraArgs"
STATIC_POD = "static pod manifest"
STATIC_POD_HAND_EDIT = "static pod manifest, hand edit: kubeadm's next upgrade drops it, see KUP100"


@dataclass(frozen=True)
class FlagSetting:
    """A flag passed to a component, where it is written, and (for ``$VAR``) where it is expanded.

    ``variable_flags`` lists every flag the ``via_variable`` expands to, so a check can tell a
    variable that exists only for a removed flag (remove the reference too) from a shared one.
    ``kubeadm_default`` marks a static pod flag that kubeadm itself renders for the cluster's
    version (it rewrites it at every upgrade, so checks leave it to kubeadm's own model);
    ``hand_edit`` a static pod flag of a kubeadm cluster that neither kubeadm's defaults nor the
    ClusterConfiguration produce.
    """

    component: str
    name: str
    value: str | None
    location: Location
    place: str
    via: Location | None = None
    via_variable: str | None = None
    variable_flags: tuple[str, ...] = ()
    kubeadm_default: bool = False
    hand_edit: bool = False


@dataclass(frozen=True)
class GateSetting:
    """A feature gate set for a component (``component`` is ``kubeadm`` for kubeadm's own gates)."""

    component: str
    gate: str
    value: str
    location: Location
    place: str


@dataclass(frozen=True)
class EmbeddedConfig:
    """A configuration document embedded in a string field (ConfigMap data) or a file of its own."""

    owner: KubeObject | None
    key_path: tuple
    document: Document
    file: str
    node: str | None

    @property
    def data(self) -> Any:
        return self.document.data

    @property
    def subject_key(self) -> tuple:
        """Identifies this configuration while a check handles it (``Snapshot.track``)."""
        owner = ("object", id(self.owner)) if self.owner is not None else None
        return ("config", owner, self.file, self.node, self.key_path, self.document.start_line)

    def subject_location(self) -> Location:
        if self.owner is not None:
            return self.owner.location(*self.key_path)
        data = self.data if isinstance(self.data, dict) else {}
        return Location(file=self.file, line=self.document.start_line, node=self.node, api_version=_s(data.get("apiVersion")), kind=_s(data.get("kind")))

    def location(self, path: tuple, what: str) -> Location:
        inner_line = self.document.line_of(path)
        if self.owner is not None:
            line = self.owner.content_line(self.key_path, inner_line)
            return self.owner.location(line=line, field_path=f"{dotted(self.key_path)}: {what}")
        return Location(file=self.file, line=inner_line, node=self.node, api_version=_s(self.data.get("apiVersion")), kind=_s(self.data.get("kind")), field=what)


def _s(value: Any) -> str | None:
    return str(value) if value else None


def dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path)
