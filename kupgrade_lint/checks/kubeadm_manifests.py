"""What kubeadm rewrites at every hop: static pod manifests, kubelet config.yaml, kubeadm-flags.env.

``kubeadm upgrade apply/node`` writes the control-plane manifests from kubeadm's defaults for the
new version and the ClusterConfiguration (``kupgrade_lint.kubeadm_render``), and writes
``/var/lib/kubelet/config.yaml`` from the kubelet-config ConfigMap: hand edits of these files are
lost at the first hop. The checks here compare the files with what kubeadm writes; the flags
themselves are judged by the removed-flag and feature-gate checks wherever they are set.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from kupgrade_lint.catalog import Rule
from kupgrade_lint.checks import Candidate, CheckContext, check
from kupgrade_lint.findings import Location
from kupgrade_lint.kubeadm_render import SECTIONS, KubeadmModel, fill
from kupgrade_lint.settings import ComponentConfig, StaticPod
from kupgrade_lint.settings.kubelet_node import KUBEADM_FLAGS_ENV
from kupgrade_lint.versions import minor_key

KUBELET_CONFIG_FILE = "/var/lib/kubelet/config.yaml"
_DOCS = "https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/control-plane-flags/"
# kubeadm patches: --experimental-patches from 1.19 (kubernetes PR 92017), --patches and the
# Init/JoinConfiguration `patches:` field from 1.22 (PR 104065 then removed the experimental flag);
# the kubeletconfiguration target from 1.25 (PR 110405); extraEnvs with the v1beta4 API in 1.31.
_PATCHES = f"a kubeadm patch (--experimental-patches from kubeadm 1.19, --patches or the patches: field from 1.22; {_DOCS})"
_EXTRA_ENVS = "extraEnvs (kubeadm API v1beta4, kubeadm 1.31+; https://kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta4/)"


def _section_name(component: str) -> str:
    return ".".join(SECTIONS[component])


def _written(name: str, value: str | None) -> str:
    return f"--{name}" + (f"={value}" if value is not None else "")


def _next_upgrade(*args, **kwargs) -> Candidate:
    """A candidate for what the next ``kubeadm upgrade`` rewrites: the first hop, even a patch release of the same minor."""
    return Candidate(*args, at_first_hop=True, **kwargs)


def _first_hop(ctx: CheckContext) -> str | None:
    return ctx.hops[0].minor if ctx.hops else None


def _judged_pods(ctx: CheckContext) -> tuple[str, str, list[tuple[StaticPod, Any]]] | None:
    """(first hop, kubeadm minor, pods with what kubeadm renders for them), or None when there is nothing to judge."""
    hop = _first_hop(ctx)
    pods = list(_pods(ctx)) if hop is not None else []
    if not pods:
        return None
    return hop, ctx.config.kubeadm_version.minor_string, pods


def _pods(ctx: CheckContext) -> Iterator[tuple[StaticPod, Any]]:
    """Each control-plane static pod of a kubeadm cluster with what kubeadm of the current version renders for it."""
    config: ComponentConfig = ctx.config
    if not config.is_kubeadm_cluster or config.kubeadm is None or config.kubeadm_version is None or not config.kubeadm.models(config.kubeadm_version):
        return
    for pod in config.static_pods:
        render = config.render(pod)
        if render is not None:
            yield pod, render


def _patch_files(ctx: CheckContext) -> dict[tuple[str | None, str], list[str]]:
    """kubeadm patch files on each node ("target[suffix][+patchtype].extension" in a patches directory), by target."""
    found: dict[tuple[str | None, str], list[str]] = {}
    for node, files in ctx.snapshot.node_files.items():
        for path in files:
            directory, _, name = path.rpartition("/")
            if "patches" not in directory:
                continue
            for target in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kubeletconfiguration"):
                if name.startswith(target) and name.endswith((".yaml", ".json")):
                    found.setdefault((node, target), []).append(path)
    return found


def _patch_note(patches: dict, node: str | None, target: str) -> str:
    files = patches.get((node, target))
    if not files:
        return ""
    return f" (kubeadm patches for {target} are on this node, {', '.join(sorted(files))}: if kubeadm upgrade is run with them, check that they re-apply this)"


def _where(pod: StaticPod) -> str:
    return f"the {pod.component} manifest on {pod.node}" if pod.node else f"the {pod.component} manifest {pod.file}"


def _removal_note(ctx: CheckContext, component: str, name: str) -> str:
    """When the flag itself is removed later: kept in extraArgs it breaks at that hop."""
    entry = ctx.catalog.flags.get((component, name))
    if entry is None:
        return ""
    if entry.allowed_values:
        allowed = ", ".join(v or '""' for v in entry.allowed_values)
        rejects = f"rejects --{name} values other than {allowed} from {entry.removed_in}" + (f" and the flag itself from {entry.removed_entirely_in}" if entry.removed_entirely_in else "")
    else:
        rejects = f"rejects --{name} from {entry.removed_in}"
    return f" Note: {component} {rejects}; kept in extraArgs it breaks at that hop (KUP010 reports it there), so take it out before then."


@check("kubeadm_manifest_hand_edit")
def kubeadm_manifest_hand_edit(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Flags, values, env vars, the image and the probe port of a manifest that kubeadm would not write."""
    judged = _judged_pods(ctx)
    if judged is None:
        return
    hop, version, pods = judged
    patches = _patch_files(ctx)
    for pod, render in pods:
        tail = f"`kubeadm upgrade` rewrites the manifest at the hop to {hop} and the edit is lost" + _patch_note(patches, pod.node, pod.component)
        where = _where(pod)
        section = _section_name(pod.component)
        for use, location in pod.flags:
            rendered = render.flags.get(use.name)
            written = _written(use.name, use.value)
            if rendered is None:
                what = f"{where} sets {written} by hand: kubeadm {version} does not render it from the ClusterConfiguration; {tail}"
            elif rendered.certain and rendered.value is not None and use.value != rendered.value:
                source = f"{section}.extraArgs" if rendered.from_extra_args else f"kubeadm {version}'s default"
                what = f"{where} sets {written} by hand where {source} is {_written(use.name, rendered.value)}; {tail} (back to {rendered.value})"
            else:
                continue
            remediation = (
                f"To keep it, set it in the ClusterConfiguration ({section}.extraArgs: {use.name}: \"{use.value or ''}\") before the hop, "
                f"or re-apply it with {_PATCHES}; `kubeadm upgrade diff` shows what kubeadm will write."
            )
            yield _next_upgrade(hop, what, location, remediation=remediation + _removal_note(ctx, pod.component, use.name))
        for env in pod.env:
            if render.env_is_kubeadms(env.name, env.value):
                continue
            setting = f"{env.name}={env.value or ''}"
            doing = next((f" ({why})" for known, why in (rule.params.get("explain") or {}).items() if known == setting), "")
            yield _next_upgrade(
                hop,
                f"{where} sets the environment variable {setting} by hand{doing}: kubeadm renders only extraEnvs and its own *_proxy variables; {tail}",
                env.location,
                remediation=(
                    f"To keep it, set it in {section}.{_EXTRA_ENVS} or with {_PATCHES}; "
                    "with an older kubeadm, re-apply it after `kubeadm upgrade` on every control-plane node, at every hop."
                ),
            )
        if render.image and pod.image and pod.image != render.image:
            yield _next_upgrade(
                hop,
                f"{where} runs image {pod.image}; kubeadm {version} renders {render.image} from the ClusterConfiguration; at the hop to {hop} kubeadm writes its own image",
                pod.image_location,
                remediation="Set imageRepository (etcd: etcd.local.imageRepository/imageTag) in the ClusterConfiguration to keep a registry of your own, and mirror the images of every hop there.",
            )
        if render.probe and pod.probe and pod.probe != render.probe:
            yield _next_upgrade(
                hop,
                f"{where} probes {pod.probe[1]} port {pod.probe[0]}; kubeadm {version} renders a liveness probe on {render.probe[1]} port {render.probe[0]}; {tail}",
                pod.probe_location or pod.location,
                remediation=f"Keep the probe with {_PATCHES}, or drop the edit.",
            )


@check("kubeadm_manifest_default_removed")
def kubeadm_manifest_default_removed(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """A flag kubeadm renders that was deleted from the manifest by hand: the upgrade puts it back."""
    judged = _judged_pods(ctx)
    if judged is None:
        return
    hop, version, pods = judged
    for pod, render in pods:
        present = {use.name for use, _ in pod.flags}
        for name, rendered in sorted(render.flags.items()):
            if name in present or not rendered.certain or rendered.from_extra_args:
                continue
            written = _written(name, rendered.value)
            effect = f" ({rendered.entry.effect})" if rendered.entry is not None and rendered.entry.effect else ""
            yield _next_upgrade(
                hop,
                f"{_where(pod)} lacks {written}, which kubeadm {version} renders: `kubeadm upgrade` writes it back at the hop to {hop}{effect}",
                pod.location,
                remediation=(
                    f"If the manifest must keep behaving as it does now, override the flag in {_section_name(pod.component)}.extraArgs "
                    f"(kubeadm renders extraArgs over its defaults) or remove it with {_PATCHES}."
                    + _removal_note(ctx, pod.component, name)
                ),
                references=rendered.entry.sources if rendered.entry is not None else (),
            )


@check("kubeadm_default_change")
def kubeadm_default_change(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """A flag or probe that kubeadm itself starts or stops rendering at a hop: the component behaves differently."""
    config: ComponentConfig = ctx.config
    if not config.is_kubeadm_cluster or config.kubeadm is None or config.kubeadm_inputs is None:
        return
    by_component: dict[str, list[Location]] = {}
    for pod in config.static_pods:
        by_component.setdefault(pod.component, []).append(pod.location)
    cc = config.cluster_configuration
    for entry, how, minor in config.kubeadm.changes(config.kubeadm_inputs):
        locations = by_component.get(entry.component)
        if not locations:
            if by_component or entry.component == "etcd" or cc is None:
                continue  # the snapshot's manifests do not run it here (or no local etcd): nothing to say
            # No node files in the snapshot: the cluster's kubeadm configuration stands for the manifests.
            locations = [cc.location((), "kubernetesVersion") if cc.owner is None else cc.owner.location(field_path="data.ClusterConfiguration")]
        variables = config.kubeadm_inputs.variables
        value = fill(entry.value, variables) if entry.value is not None else None
        if value is not None and value == entry.binary_default:
            continue  # kubeadm starts writing what the component did by default anyway
        what = _written(entry.flag, value) if entry.flag else f"the liveness probe on {entry.probe_scheme} port {entry.probe_port}"
        verb = "starts rendering" if how == "added" else "stops rendering"
        who = f"kubeadm {minor}"
        if how == "added" and entry.backported_to:
            who += f" (and, backported, {', '.join(entry.backported_to)})"
        remediation = (
            f"Nothing to do if the new behaviour suits you. Otherwise set {_section_name(entry.component)}.extraArgs.{entry.flag} to the value you need before the hop "
            "(kubeadm renders extraArgs over its own defaults); editing the manifest by hand instead is undone at every later upgrade (KUP100, KUP101)."
            if entry.flag
            else "Nothing to do unless something else relies on the old probe; a hand edit of the probe is undone at every later upgrade (KUP100)."
        )
        if entry.flag:
            remediation += _removal_note(ctx, entry.component, entry.flag)
        for location in locations:
            yield Candidate(
                minor,
                f"{who} {verb} {what} for {entry.component}: {entry.effect}",
                location,
                remediation=remediation,
                references=entry.sources,
                backported_to=entry.backported_to if how == "added" else (),
            )


@check("kubelet_config_hand_edit")
def kubelet_config_hand_edit(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """/var/lib/kubelet/config.yaml fields that differ from the kubelet-config ConfigMap kubeadm writes it from."""
    hop = _first_hop(ctx)
    if hop is None or not ctx.config.is_kubeadm_cluster:
        return
    source = _kubelet_configmap(ctx)
    if source is None:
        return
    wanted = dict(_leaves(source.data))
    patches = _patch_files(ctx)
    for config in ctx.config.configs_of_kind("KubeletConfiguration"):
        if config.owner is not None or config.file != KUBELET_CONFIG_FILE or config.node is None:
            continue
        have = dict(_leaves(config.data))
        note = _patch_note(patches, config.node, "kubeletconfiguration")
        owner = f"ConfigMap {source.owner.namespace}/{source.owner.name}" if source.owner else source.file
        for path in sorted(set(have) | set(wanted), key=lambda p: tuple(str(x) for x in p)):
            if have.get(path) == wanted.get(path):
                continue
            field = ".".join(str(p) for p in path)
            node_value = "unset" if path not in have else repr(have[path])
            cm_value = "unset" if path not in wanted else repr(wanted[path])
            line_path = path if path in have else path[:1]
            yield _next_upgrade(
                hop,
                f"{config.node}:{KUBELET_CONFIG_FILE} has {field}={node_value} but {owner} has {cm_value}: `kubeadm upgrade node` at the hop to {hop} rewrites the file from the ConfigMap and the node's value is lost{note}",
                Location(file=config.file, line=config.document.line_of(line_path) if path in have or path[:1] in have else 1, node=config.node, field=field),
                remediation=(
                    f"Put the setting in {owner} (kubectl -n kube-system edit cm; it applies to every node) or, for this node only, "
                    "in a kubeadm patch of the kubeletconfiguration target (kubeadm 1.25+, kubernetes PR 110405)."
                ),
            )


def _kubelet_configmap(ctx: CheckContext):
    """The kubelet-config ConfigMap kubeadm of the current version reads (kubelet-config-1.X, or kubelet-config from 1.24)."""
    wanted = (f"kubelet-config-{ctx.current.minor_string}", "kubelet-config")
    configs = [c for c in ctx.config.configs_of_kind("KubeletConfiguration") if c.owner is not None and c.owner.namespace == "kube-system"]
    for name in wanted:
        for config in configs:
            if config.owner.name == name:
                return config
    return None


def _leaves(data: Any, prefix: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    if isinstance(data, dict):
        if not data and prefix:
            yield prefix, {}
        for key, value in data.items():
            yield from _leaves(value, prefix + (key,))
    else:
        yield prefix, data


@check("kubeadm_flags_env_cleanup")
def kubeadm_flags_env_cleanup(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """kubelet flags in kubeadm-flags.env that kubeadm upgrade removes by itself (reported instead of a removed-flag error)."""
    model: KubeadmModel | None = ctx.config.kubeadm
    if model is None:
        return
    for setting in ctx.config.flags:
        if setting.component != "kubelet" or setting.location.file != KUBEADM_FLAGS_ENV:
            continue
        entry = model.kubelet_flag(setting.name)
        if entry is None or not entry.upgrade_removes or entry.rendered_until is None:
            continue
        removal = ctx.catalog.flags.get(("kubelet", setting.name))
        later = f"; kubelet {removal.removed_entirely_in or removal.removed_in} would reject it" if removal else ""
        yield Candidate(
            entry.rendered_until,
            f"kubelet is given {_written(setting.name, setting.value)} ({setting.place}): {entry.effect}{later}, so no action is needed for it",
            setting.location,
            references=entry.sources,
        )


def cleaned_by_kubeadm(model: KubeadmModel | None, file: str | None, flag: str, breaks_in: str) -> bool:
    """True when kubeadm upgrade removes ``flag`` from kubeadm-flags.env at or before ``breaks_in``."""
    if model is None or file != KUBEADM_FLAGS_ENV:
        return False
    entry = model.kubelet_flag(flag)
    return bool(entry and entry.upgrade_removes and entry.rendered_until and minor_key(entry.rendered_until) <= minor_key(breaks_in))


def kubeadm_flags_env_note(model: KubeadmModel | None, file: str | None, flag: str) -> str:
    """For a removed flag in kubeadm-flags.env that kubeadm does not clean up: say so, with the source."""
    if model is None or file != KUBEADM_FLAGS_ENV:
        return ""
    entry = model.kubelet_flag(flag)
    if entry is None or entry.upgrade_removes:
        return ""
    return f" kubeadm does not remove it from {KUBEADM_FLAGS_ENV} during upgrade ({entry.effect}; {entry.sources[0]}): edit the file on every node."
