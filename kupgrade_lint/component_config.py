"""Where each component's flags and feature gates are set, read from the snapshot.

The same setting reaches a component through several places operators edit: the kubelet's
systemd unit and the env files it expands (kubespray ``kubelet.env``, kubeadm
``kubeadm-flags.env``), a ``KubeletConfiguration`` file, kubeadm's ``ClusterConfiguration``
``extraArgs`` (stored in the ``kube-system/kubeadm-config`` ConfigMap), the static pod manifests
kubeadm renders from it, and the kube-proxy ConfigMap and DaemonSet. Each place is reported
separately so that every one gets fixed. Nothing here judges: it only says what is set where.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from kupgrade_lint.findings import Location
from kupgrade_lint.parsers.envfile import read_env_file
from kupgrade_lint.parsers.flags import FlagUse, parse_feature_gates, parse_flags
from kupgrade_lint.parsers.systemd import UnitError, expand_exec_start, merge_service, parse_environment_directive, parse_unit
from kupgrade_lint.parsers.words import Origin, TracedText, Word
from kupgrade_lint.parsers.yaml_documents import Document, read_documents
from kupgrade_lint.snapshot.model import InputProblem, KubeObject, Snapshot

# Where systemd looks for units, highest priority first (systemd.unit(5), "Unit File Load Path").
UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
# Env files kubelets read when no unit is in the snapshot to say so.
KUBELET_ENV_FILES = ("/etc/kubernetes/kubelet.env", "/var/lib/kubelet/kubeadm-flags.env", "/etc/default/kubelet", "/etc/sysconfig/kubelet")
CONTROL_PLANE = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
_KUBEADM_SECTIONS = {"apiServer": "kube-apiserver", "controllerManager": "kube-controller-manager", "scheduler": "kube-scheduler"}


@dataclass(frozen=True)
class FlagSetting:
    """A flag passed to a component, where it is written, and (for ``$VAR``) where it is expanded.

    ``variable_flags`` lists every flag the ``via_variable`` expands to, so a check can tell a
    variable that exists only for a removed flag (remove the reference too) from a shared one.
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

    def location(self, path: tuple, what: str) -> Location:
        inner_line = self.document.line_of(path)
        if self.owner is not None:
            line = self.owner.content_line(self.key_path, inner_line)
            return self.owner.location(line=line, field_path=f"{_dotted(self.key_path)}: {what}")
        return Location(file=self.file, line=inner_line, node=self.node, api_version=_s(self.data.get("apiVersion")), kind=_s(self.data.get("kind")), field=what)


def _s(value: Any) -> str | None:
    return str(value) if value else None


def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path)


class ComponentConfig:
    """Every flag and feature gate setting of the snapshot, computed once per scan."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.problems: list[InputProblem] = []
        self.embedded: list[EmbeddedConfig] = list(self._embedded_configs())
        self.flags: list[FlagSetting] = []
        self.gates: list[GateSetting] = []
        self._collect()

    # -- embedded configuration documents ------------------------------------------------------
    def configs_of_kind(self, *kinds: str) -> list[EmbeddedConfig]:
        return [c for c in self.embedded if isinstance(c.data, dict) and c.data.get("kind") in kinds]

    def _embedded_configs(self) -> Iterator[EmbeddedConfig]:
        snap = self.snapshot
        for obj in snap.of_kind("ConfigMap"):
            data = obj.data.get("data")
            if not isinstance(data, dict) or obj.namespace != "kube-system":
                continue
            for key, value in sorted(data.items()):
                if not isinstance(value, str) or "kind:" not in value:
                    continue
                if key not in ("ClusterConfiguration", "config.conf", "kubelet", "config") and not key.endswith((".yaml", ".conf")):
                    continue
                yield from self._parse_embedded(obj, ("data", key), value)
        for obj in snap.objects:
            if obj.kind in ("ClusterConfiguration", "KubeletConfiguration", "KubeProxyConfiguration", "InitConfiguration", "JoinConfiguration"):
                yield EmbeddedConfig(None, (), _sub_document(obj), obj.source.file, obj.source.node)
        for node, files in sorted(snap.node_files.items()):
            for path, nf in sorted(files.items()):
                # Configuration files and kubeconfigs, whatever their names (admin.conf,
                # .kube/config, kubeadm.yaml); static pods, units and env files are read elsewhere.
                if path.startswith("/etc/kubernetes/manifests/") or "/systemd/" in path or path.endswith(".env"):
                    continue
                if "apiVersion" not in nf.text or "kind:" not in nf.text:
                    continue
                docs = read_documents(nf.text)
                for problem in docs.problems:
                    self.problems.append(InputProblem(path, problem.message, node=node, line=problem.line))
                for doc in docs:
                    # Any configuration file a component reads (kubeadm, kubelet, kube-proxy,
                    # scheduler, audit policy, admission, encryption...): checks pick their kinds.
                    if isinstance(doc.data, dict) and doc.data.get("kind") and doc.data.get("apiVersion"):
                        yield EmbeddedConfig(None, (), doc, path, node)

    def _parse_embedded(self, owner: KubeObject, key_path: tuple, text: str) -> Iterator[EmbeddedConfig]:
        docs = read_documents(text)
        for exc in docs.problems:
            line = owner.content_line(key_path, exc.line or 1)
            self.problems.append(InputProblem(owner.source.file, f"{owner.kind} {owner.namespace}/{owner.name} {_dotted(key_path)}: {exc}", node=owner.source.node, line=line))
        for doc in docs:
            if isinstance(doc.data, dict):
                yield EmbeddedConfig(owner, key_path, doc, owner.source.file, owner.source.node)

    # -- collection of settings --------------------------------------------------------------
    def _collect(self) -> None:
        for node in sorted(self.snapshot.node_files):
            self._kubelet_flags(node)
        self._kubeadm_settings()
        self._static_pod_flags()
        self._config_file_gates()
        self._daemonset_flags("kube-proxy")
        for flag in self.flags:
            if flag.name == "feature-gates" and flag.value is not None and not flag.kubeadm_default:
                for gate, value in parse_feature_gates(flag.value):
                    self.gates.append(GateSetting(flag.component, gate, value, flag.location, flag.place))

    def _kubelet_flags(self, node: str) -> None:
        files = self.snapshot.node_files[node]
        main_unit = next((f"{d}/kubelet.service" for d in UNIT_DIRS if f"{d}/kubelet.service" in files), None)
        dropins: dict[str, str] = {}
        for d in reversed(UNIT_DIRS):  # higher priority dirs mask same-named drop-ins
            prefix = f"{d}/kubelet.service.d/"
            for path in files:
                if path.startswith(prefix) and path.endswith(".conf") and "/" not in path[len(prefix):]:
                    dropins[path[len(prefix):]] = path
        if main_unit is None and not dropins:
            self._kubelet_env_fallback(node)
            return
        unit_paths = ([main_unit] if main_unit else []) + [dropins[name] for name in sorted(dropins)]
        parsed_units = []
        for p in unit_paths:
            try:
                parsed_units.append((p, parse_unit(files[p].text, p)))
            except UnitError as exc:
                self.problems.append(InputProblem(p, exc.message, node=node, line=exc.line))
        service = merge_service(parsed_units)
        env: dict[str, TracedText] = {}
        for directive in service.environment:
            env.update(dict(parse_environment_directive(directive)))
        for path, optional, directive in service.environment_files:
            nf = files.get(path)
            if nf is None:
                if not optional:
                    self.problems.append(InputProblem(directive.value.file, f"EnvironmentFile {path} is not in the snapshot", node=node, line=directive.line))
                continue
            env_file = read_env_file(nf.text, path)
            for exc in env_file.problems:  # a bad line is skipped, as systemd skips it; the rest is read
                self.problems.append(InputProblem(path, exc.message, node=node, line=exc.line))
            for var in env_file.variables:
                env[var.name] = var.value
        if service.exec_start is None:
            self.problems.append(InputProblem(unit_paths[-1], "kubelet unit has no ExecStart; kubelet flags not checked", node=node))
            return
        try:
            words = expand_exec_start(service.exec_start, env)
        except UnitError as exc:
            self.problems.append(InputProblem(service.exec_start.value.file, f"{exc.message}; kubelet flags not checked", node=node, line=exc.line))
            return
        names: dict[str, list[str]] = {}
        uses = parse_flags(words[1:])
        for use in uses:
            if use.word.via_variable:
                names.setdefault(use.word.via_variable, []).append(use.name)
        # One tuple per variable, shared by its flags (a tuple per flag is quadratic in memory).
        per_variable = {variable: tuple(flag_names) for variable, flag_names in names.items()}
        for use in uses:
            self.flags.append(self._flag_from_word("kubelet", use, node, "kubelet command line", per_variable))
        config_path = next((u.value for u in uses if u.name == "config" and u.value), None)
        if config_path and config_path not in files:
            self.problems.append(InputProblem(config_path, "the kubelet's --config file is not in the snapshot; its settings were not checked", node=node))

    def _kubelet_env_fallback(self, node: str) -> None:
        files = self.snapshot.node_files[node]
        for path in KUBELET_ENV_FILES:
            nf = files.get(path)
            if nf is None:
                continue
            env_file = read_env_file(nf.text, path)
            for exc in env_file.problems:
                self.problems.append(InputProblem(path, exc.message, node=node, line=exc.line))
            for var in env_file.variables:
                for use in parse_flags(var.value.split()):
                    self.flags.append(self._flag_from_word("kubelet", use, node, f"{var.name} in {path}", {}))

    @staticmethod
    def _flag_from_word(component: str, use: FlagUse, node: str | None, place: str, per_variable: dict[str, tuple[str, ...]]) -> FlagSetting:
        word: Word = use.word
        location = Location(file=word.origin.file, line=word.origin.line, node=node)
        via = Location(file=word.via.file, line=word.via.line, node=node) if word.via else None
        return FlagSetting(
            component,
            use.name,
            use.value,
            location,
            place,
            via=via,
            via_variable=word.via_variable,
            variable_flags=per_variable.get(word.via_variable or "", ()),
        )

    def _static_pod_flags(self) -> None:
        # kubeadm rewrites the static pod manifests from its ClusterConfiguration at every upgrade:
        # a flag there that extraArgs do not set is kubeadm's own default (or a hand edit the
        # upgrade discards), so it cannot break the next version. Known only when kubeadm-config is.
        managed = {
            (s.component, s.name) for s in self.flags if s.place == "kubeadm ClusterConfiguration extraArgs"
        }
        kubeadm_cluster = any(c.owner is not None and c.owner.name == "kubeadm-config" for c in self.configs_of_kind("ClusterConfiguration"))
        for obj in self.snapshot.of_kind("Pod", origins=("node",)):
            containers = (obj.data.get("spec") or {}).get("containers") or []
            for ci, container in enumerate(containers):
                component = _component_of(container)
                if component is None:
                    continue
                for use, path in _container_flag_uses(obj, ci, container):
                    location = obj.location(*path)
                    default = kubeadm_cluster and (component, use.name) not in managed
                    self.flags.append(FlagSetting(component, use.name, use.value, location, "static pod manifest", kubeadm_default=default))

    def _daemonset_flags(self, component: str) -> None:
        for obj in self.snapshot.of_kind("DaemonSet"):
            if obj.name != component:
                continue
            containers = (((obj.data.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
            for ci, container in enumerate(containers):
                if container.get("name") != component:
                    continue
                for use, path in _container_flag_uses(obj, ci, container, prefix=("spec", "template", "spec")):
                    self.flags.append(FlagSetting(component, use.name, use.value, obj.location(*path), f"{component} DaemonSet"))

    def _kubeadm_settings(self) -> None:
        for config in self.configs_of_kind("ClusterConfiguration"):
            data = config.data
            for section, component in _KUBEADM_SECTIONS.items():
                extra = (data.get(section) or {}).get("extraArgs")
                for name, value, path in _extra_args(extra, (section, "extraArgs")):
                    location = config.location(path, f"{section}.extraArgs.{name}")
                    self.flags.append(FlagSetting(component, name, value, location, "kubeadm ClusterConfiguration extraArgs"))
            gates = data.get("featureGates")
            if isinstance(gates, dict):
                for gate, value in gates.items():
                    self.gates.append(GateSetting("kubeadm", str(gate), str(value).lower(), config.location(("featureGates", gate), f"featureGates.{gate}"), "kubeadm ClusterConfiguration featureGates"))

    def _config_file_gates(self) -> None:
        for config in self.configs_of_kind("KubeProxyConfiguration"):
            # The config file's `mode` is the --proxy-mode flag: the same values are accepted.
            mode = config.data.get("mode")
            if isinstance(mode, str) and mode:
                self.flags.append(FlagSetting("kube-proxy", "proxy-mode", mode, config.location(("mode",), "mode"), "KubeProxyConfiguration mode"))
        for config in self.configs_of_kind("KubeletConfiguration", "KubeProxyConfiguration"):
            component = "kubelet" if config.data.get("kind") == "KubeletConfiguration" else "kube-proxy"
            gates = config.data.get("featureGates")
            if not isinstance(gates, dict):
                continue
            for gate, value in gates.items():
                self.gates.append(
                    GateSetting(component, str(gate), str(value).lower(), config.location(("featureGates", gate), f"featureGates.{gate}"), f"{config.data.get('kind')} featureGates")
                )


def _sub_document(obj: KubeObject) -> Document:
    return obj.document.view(obj.prefix)


def _component_of(container: dict) -> str | None:
    name = str(container.get("name", ""))
    if name in CONTROL_PLANE:
        return name
    command = container.get("command") or []
    if command and isinstance(command[0], str):
        binary = command[0].rsplit("/", 1)[-1]
        if binary in CONTROL_PLANE:
            return binary
    return None


def _container_flag_uses(obj: KubeObject, ci: int, container: dict, prefix: tuple = ("spec",)) -> Iterator[tuple[FlagUse, tuple]]:
    """Flags in a container's command and args, each with its path in the object."""
    words: list[Word] = []
    paths: dict[int, tuple] = {}
    for key in ("command", "args"):
        items = container.get(key) or []
        for i, item in enumerate(items):
            if not isinstance(item, str):
                continue
            path = prefix + ("containers", ci, key, i)
            # A shell-form command ("sh -c 'kube-proxy --x'") is not parsed as flags.
            for w in item.split() if key == "command" and i > 0 and " " in item else [item]:
                word = Word(w, Origin(obj.source.file, obj.line(*path)))
                paths[id(word)] = path
                words.append(word)
    if words and not words[0].text.startswith("-"):
        words = words[1:]
    for use in parse_flags(words):
        yield use, paths.get(id(use.word), prefix + ("containers", ci))


def _extra_args(extra: Any, base: tuple) -> Iterator[tuple[str, str, tuple]]:
    """kubeadm extraArgs: a map up to v1beta3, a list of {name, value} from v1beta4."""
    if isinstance(extra, dict):
        for name, value in extra.items():
            yield str(name), "" if value is None else str(value), base + (name,)
    elif isinstance(extra, list):
        for i, item in enumerate(extra):
            if isinstance(item, dict) and "name" in item:
                yield str(item["name"]), str(item.get("value", "")), base + (i,)
