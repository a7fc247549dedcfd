"""Command-line flags the new binaries reject, and admission plugins kube-apiserver no longer knows."""

from __future__ import annotations

from typing import Iterable

from kupgrade_lint.catalog import Rule
from kupgrade_lint.checks import Candidate, CheckContext, check
from kupgrade_lint.checks.kubeadm_manifests import cleaned_by_kubeadm, kubeadm_flags_env_note
from kupgrade_lint.parsers.flags import parse_feature_gates
from kupgrade_lint.versions import minor_key


@check("removed_flag")
def removed_flag(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Every place a removed flag (or a value no longer allowed) is set, including ``$VAR`` references."""
    reported_references: set[tuple] = set()
    all_removed: dict[tuple, bool] = {}  # per reference, decided once (a variable may carry thousands of flags)
    for setting in ctx.config.flags:
        entry = ctx.catalog.flags.get((setting.component, setting.name))
        if entry is None or setting.kubeadm_default:
            continue
        written = f"--{setting.name}" + (f"={setting.value}" if setting.value is not None else "")
        breaks_in = entry.removed_in
        if entry.allowed_values is not None and not (setting.value is not None and setting.value in entry.allowed_values):
            allowed = ", ".join(v or '""' for v in entry.allowed_values)
            message = f"{setting.component} is given {written} ({setting.place}); from {entry.removed_in} --{entry.flag} accepts only {allowed}"
            remediation = f"Set --{entry.flag} to {allowed} or remove it."
        elif entry.allowed_values is not None and entry.removed_entirely_in is None:
            continue
        else:
            breaks_in = entry.removed_entirely_in or entry.removed_in
            message = f"{setting.component} is given {written} ({setting.place}); the flag is removed in {breaks_in} and {setting.component} will not start (unknown flag)"
            remediation = f"Remove --{entry.flag} before the hop to {breaks_in}."
        if entry.replacement:
            remediation += f" Instead: {entry.replacement}"
        if cleaned_by_kubeadm(ctx.config.kubeadm, setting.location.file, setting.name, breaks_in):
            continue  # kubeadm upgrade removes it from kubeadm-flags.env first (KUP104 says so)
        remediation += kubeadm_flags_env_note(ctx.config.kubeadm, setting.location.file, setting.name)
        yield Candidate(breaks_in, message, setting.location, remediation=remediation, references=entry.sources)
        # A variable that only carries removed flags goes too: report its reference in the unit.
        reference = (setting.via, setting.via_variable)
        if setting.via is not None and setting.variable_flags and reference not in all_removed:
            all_removed[reference] = all(ctx.catalog.flags.get((setting.component, f)) is not None for f in setting.variable_flags)
        if setting.via is not None and setting.variable_flags and reference not in reported_references and all_removed[reference]:
            reported_references.add(reference)
            flags = ", ".join(f"--{f}" for f in setting.variable_flags)
            # The reference can go once the last of its flags is gone.
            entries = [ctx.catalog.flags[(setting.component, f)] for f in setting.variable_flags]
            last = max((e.removed_entirely_in or e.removed_in for e in entries), key=minor_key)
            yield Candidate(
                last,
                f"${setting.via_variable} expands to {flags} for {setting.component} ({setting.location.file}:{setting.location.line}), all of them removed",
                setting.via,
                remediation=f"Remove the ${setting.via_variable} reference together with its definition.",
                references=entry.sources,
            )


@check("removed_admission_plugin")
def removed_admission_plugin(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Admission plugins in --enable-admission-plugins / --disable-admission-plugins that are gone."""
    for setting in ctx.config.flags:
        if setting.component != "kube-apiserver" or setting.name not in ("enable-admission-plugins", "disable-admission-plugins", "admission-control"):
            continue
        if setting.kubeadm_default:
            continue
        for plugin, _ in parse_feature_gates(setting.value or ""):
            entry = ctx.catalog.admission_plugins.get(plugin)
            if entry is None:
                continue
            remediation = f"Remove {plugin} from --{setting.name} before the hop to {entry.removed_in}."
            if entry.replacement:
                remediation += f" {entry.replacement}"
            yield Candidate(
                entry.removed_in,
                f"kube-apiserver --{setting.name} lists {plugin} ({setting.place}); the plugin is removed in {entry.removed_in} and kube-apiserver will not start",
                setting.location,
                remediation=remediation,
                references=entry.sources,
            )


@check("ignored_flag")
def ignored_flag(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Flags that are still accepted but no longer do anything (the setting silently stops working)."""
    component = rule.params.get("component")
    for setting in ctx.config.flags:
        if setting.component != component or setting.name not in rule.params.get("flags", []) or setting.kubeadm_default:
            continue
        yield Candidate(
            rule.breaks_in,
            f"{component} is given --{setting.name}={setting.value} ({setting.place}); from {rule.breaks_in} it has no effect",
            setting.location,
        )
