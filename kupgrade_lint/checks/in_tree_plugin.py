"""In-tree volume plugins, their StorageClass provisioners and built-in cloud providers that go away.

Facts: rules/volume_plugins.yaml and rules/cloud_providers.yaml. Some of these change in steps (on
by default, then locked on or removed); a check reports the first step the path crosses, which is
where the break happens for this cluster.
"""

from __future__ import annotations

from typing import Iterable

from kupgrade_lint.catalog import InTreeVolumePlugin, Rule
from kupgrade_lint.checks import WORKLOAD_KINDS, Candidate, CheckContext, check, pod_specs
from kupgrade_lint.findings import Location, Severity

# Components whose start-up initialises the --cloud-provider (k8s.io/cloud-provider InitCloudProvider).
CLOUD_PROVIDER_COMPONENTS = ("kubelet", "kube-controller-manager")


def _first_crossed(ctx: CheckContext, *minors: str | None) -> str | None:
    """The first of ``minors`` (in order) that a hop of the path crosses."""
    for minor in minors:
        if minor is not None and any(hop.crosses(minor) for hop in ctx.hops):
            return minor
    return None


def _volume_candidate(ctx: CheckContext, entry: InTreeVolumePlugin, drivers: set[str], who: str, location: Location, provisioning: bool) -> Candidate | None:
    """What happens to one volume (or StorageClass, when ``provisioning``) of ``entry``'s plugin on this path."""
    uses = f"provisions with the in-tree plugin {entry.plugin}" if provisioning else f"uses the in-tree {entry.volume_source} volume plugin ({entry.plugin})"
    lost = "new PersistentVolumeClaims of the class stay Pending" if provisioning else "the volume can no longer be attached or mounted"
    if entry.csi_driver is None:
        gone = (
            f"the plugin is disabled by default in {entry.removed_in} (feature gate {entry.disabled_by_gate})"
            if entry.disabled_by_gate
            else f"the plugin is removed in {entry.removed_in} with no CSI migration"
        )
        return Candidate(
            entry.removed_in,
            f"{who} {uses}; {gone}: {lost}",
            location,
            remediation=f"Before the hop to {entry.removed_in}: {entry.replacement or 'move the data to a volume of a CSI driver'}.",
            references=entry.sources,
        )
    step = _first_crossed(ctx, entry.migration_on_by_default_in, entry.migration_ga_in)
    if step is None:  # migration already on by default before the path starts
        return None
    how = "on by default" if step == entry.migration_on_by_default_in else "locked on (GA)"
    if entry.csi_driver in drivers:
        return Candidate(
            step,
            f"{who} {uses}; from {step} CSI migration is {how} and hands it to the CSI driver {entry.csi_driver}, which is installed "
            f"(CSIDriver {entry.csi_driver}): it keeps working where the driver's controller runs and its node plugin runs on every node that mounts it",
            location,
            remediation=f"Check that {entry.csi_driver} runs its node plugin on every node before the hop to {step}; nothing else to change.",
            references=entry.sources,
            severity=Severity.INFO,
        )
    until = f" (until {entry.migration_ga_in} the CSI migration feature gate can still be turned off)" if step != entry.migration_ga_in else ""
    return Candidate(
        step,
        f"{who} {uses}; from {step} CSI migration is {how} and hands it to the CSI driver {entry.csi_driver}, and the snapshot has "
        f"no CSIDriver {entry.csi_driver}: without the driver {lost}{until}",
        location,
        remediation=f"Install the CSI driver {entry.csi_driver} (controller and node plugin) before the hop to {step}. "
        "If it is installed, add the cluster's CSIDriver objects to the snapshot.",
        references=entry.sources,
    )


def _who(obj) -> str:
    return f"{obj.kind} {obj.namespace}/{obj.name}" if obj.namespace else f"{obj.kind} {obj.name}"


@check("removed_volume_plugin")
def removed_volume_plugin(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """PersistentVolumes and inline pod volumes of an in-tree plugin that stops working."""
    plugins = ctx.catalog.volume_plugins
    drivers = {obj.name for obj in ctx.snapshot.of_kind("CSIDriver")}
    for pv in ctx.snapshot.of_kind("PersistentVolume"):
        spec = pv.data.get("spec")
        for key in spec if isinstance(spec, dict) else ():
            entry = plugins.get(key)
            if entry is not None:
                candidate = _volume_candidate(ctx, entry, drivers, _who(pv), pv.location("spec", key), provisioning=False)
                if candidate is not None:
                    yield candidate
    for obj in ctx.snapshot.of_kind(*WORKLOAD_KINDS):
        if obj.kind in ("Pod", "ReplicaSet", "Job") and obj.metadata.get("ownerReferences"):
            continue  # reported on the owner, which is what gets fixed
        for path, spec in pod_specs(obj.data, obj.kind):
            for i, volume in enumerate(spec.get("volumes") or []):
                for key in volume if isinstance(volume, dict) else ():
                    entry = plugins.get(key)
                    if entry is None:
                        continue
                    where = path + ("volumes", i, key)
                    field = ".".join(str(p) for p in path) + f".volumes[{i}].{key}"
                    who = f"{_who(obj)} (volume {volume.get('name')})"
                    candidate = _volume_candidate(ctx, entry, drivers, who, obj.location(*where, field_path=field), provisioning=False)
                    if candidate is not None:
                        yield candidate


@check("removed_volume_provisioner")
def removed_volume_provisioner(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """StorageClasses whose provisioner is an in-tree plugin that stops working."""
    by_plugin = {entry.plugin: entry for entry in ctx.catalog.volume_plugins.values()}
    drivers = {obj.name for obj in ctx.snapshot.of_kind("CSIDriver")}
    for sc in ctx.snapshot.of_kind("StorageClass"):
        entry = by_plugin.get(str(sc.data.get("provisioner", "")))
        if entry is not None:
            candidate = _volume_candidate(ctx, entry, drivers, _who(sc), sc.location("provisioner"), provisioning=True)
            if candidate is not None:
                yield candidate


@check("removed_cloud_provider")
def removed_cloud_provider(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """--cloud-provider naming a built-in provider that the new kubelet / kube-controller-manager refuses."""
    for setting in ctx.config.flags:
        if setting.kubeadm_default or setting.component not in CLOUD_PROVIDER_COMPONENTS:
            continue
        if setting.component == "kube-controller-manager" and setting.name == "external-cloud-volume-plugin":
            yield from _external_volume_plugin(ctx, setting)
            continue
        if setting.name != "cloud-provider":
            continue
        entry = ctx.catalog.cloud_providers.get((setting.value or "").strip())
        if entry is None:
            continue
        step = _first_crossed(ctx, entry.disabled_by_default_in, entry.removed_in)
        if step is None:
            continue
        given = f"{setting.component} is given --cloud-provider={setting.value} ({setting.place})"
        if step == entry.removed_in:
            message = f"{given}; the built-in {entry.provider} provider is gone in {step} and {setting.component} does not start"
        else:
            message = (
                f"{given}; from {step} built-in cloud providers are disabled by default (DisableCloudProviders) and {setting.component} "
                f"does not start (DisableCloudProviders=false keeps the provider until {entry.removed_in})"
            )
        yield Candidate(
            step,
            message,
            setting.location,
            remediation=f"Before the hop to {step}: {entry.replacement or 'run an external cloud-controller-manager'}.",
            references=entry.sources,
        )


def _external_volume_plugin(ctx: CheckContext, setting) -> Iterable[Candidate]:
    """--external-cloud-volume-plugin: with --cloud-provider=external, kube-controller-manager still
    initialises this built-in provider for the in-tree volume plugins (cmd/kube-controller-manager/app/
    cloudproviders.go); DisableCloudProviders does not apply to it, only the provider's removal does."""
    entry = ctx.catalog.cloud_providers.get((setting.value or "").strip())
    if entry is None:
        return
    yield Candidate(
        entry.removed_in,
        f"kube-controller-manager is given --external-cloud-volume-plugin={setting.value} ({setting.place}); it loads the built-in "
        f"{entry.provider} provider for the in-tree volume plugins, which is gone in {entry.removed_in}, and kube-controller-manager does not start",
        setting.location,
        remediation=f"Before the hop to {entry.removed_in}: let CSI migration hand the volumes to the provider's CSI driver and remove --external-cloud-volume-plugin.",
        references=entry.sources + ("https://github.com/kubernetes/kubernetes/blob/v1.26.0/cmd/kube-controller-manager/app/cloudproviders.go",),
    )
