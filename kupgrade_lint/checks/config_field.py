"""Component configuration fields and values that a release stops accepting (rules/config_fields.yaml).

The documents come from every place the snapshot holds them: the kubelet-config and kube-proxy
ConfigMaps, kubeadm's ClusterConfiguration and the configuration files on the nodes; each copy is
reported, since each one is read by some component (or by kubeadm, which writes the others).
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

from kupgrade_lint.catalog import RemovedConfigSetting, Rule
from kupgrade_lint.checks import Candidate, CheckContext, check
from kupgrade_lint.component_config import EmbeddedConfig
from kupgrade_lint.findings import Severity

_MISSING = object()


def _lookup(data: Any, path: tuple[str, ...]) -> Any:
    node = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _shown(value: Any) -> str:
    """The value as YAML writes it (true, 250ms, {"a": 1})."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _uses(ctx: CheckContext, values: bool) -> Iterator[tuple[EmbeddedConfig, RemovedConfigSetting, tuple[str, ...], Any]]:
    """Each (document, catalog entry, field path, value) where a document sets a catalogued field."""
    by_kind: dict[str, list[RemovedConfigSetting]] = {}
    for entry in ctx.catalog.config_fields.values():
        if (entry.value is not None) == values:
            by_kind.setdefault(entry.kind, []).append(entry)
    if not by_kind:
        return
    for config in ctx.config.configs_of_kind(*sorted(by_kind)):
        for entry in by_kind[config.data["kind"]]:
            if entry.api_versions and config.data.get("apiVersion") not in entry.api_versions:
                continue
            path = tuple(entry.field.split("."))
            value = _lookup(config.data, path)
            if value is _MISSING or value is None:  # a null field sets nothing
                continue
            yield config, entry, path, value


def _remediation(entry: RemovedConfigSetting, action: str) -> str:
    text = f"{action} before the hop to {entry.removed_in}."
    if entry.replacement:
        text += f" Instead: {entry.replacement}."
    return text


@check("removed_config_field")
def removed_config_field(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """A configuration document sets a field its component no longer has."""
    # A value with an entry of its own (dns.type: kube-dns) is reported there, where it breaks first.
    own_entries = {(e.kind, e.field, e.value) for e in ctx.catalog.config_fields.values() if e.value is not None}
    for config, entry, path, value in _uses(ctx, values=False):
        if (entry.kind, entry.field, _shown(value)) in own_entries:
            continue
        written = f"{entry.field}: {_shown(value)}"
        kind = entry.kind
        severity: Severity | None = None
        old_default = _shown(value) in entry.old_defaults
        if entry.effect == "rejected":
            severity = Severity.ERROR
            consequence = f"{entry.read_by} {entry.removed_in} rejects the unknown field and does not start"
        elif entry.effect == "no_effect":
            severity = Severity.INFO if old_default else None
            consequence = f"{entry.read_by} {entry.removed_in} still accepts the field but it no longer has any effect" + (
                " (the value is the old default)" if old_default else ", so this setting is lost"
            )
        elif old_default:
            severity = Severity.INFO
            consequence = f"{entry.read_by} {entry.removed_in} no longer has the field and ignores it; this is the old default, so nothing set here is lost"
        else:
            consequence = f"{entry.read_by} {entry.removed_in} no longer has the field: it starts but silently ignores it, so this setting is lost"
        yield Candidate(
            entry.removed_in,
            f"{kind} sets {written}; {consequence}",
            config.location(path, entry.field),
            remediation=_remediation(entry, f"Remove {entry.field} from the {kind}"),
            references=entry.sources,
            severity=severity,
        )


@check("removed_config_value")
def removed_config_value(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """A configuration document sets a field to a value its component no longer accepts."""
    for config, entry, path, value in _uses(ctx, values=True):
        if _shown(value) != entry.value:
            continue
        if entry.effect != "rejected":
            consequence = f"{entry.read_by} {entry.removed_in} no longer honours the value"
        elif entry.read_by == "kubeadm":
            consequence = f"kubeadm {entry.removed_in} rejects the value and the upgrade fails"
        else:
            consequence = f"{entry.read_by} {entry.removed_in} rejects the value and does not start"
        yield Candidate(
            entry.removed_in,
            f"{entry.kind} sets {entry.field}: {entry.value}; {consequence}",
            config.location(path, entry.field),
            remediation=_remediation(entry, f"Change {entry.field} in the {entry.kind}"),
            references=entry.sources,
            severity=None if entry.effect == "rejected" else Severity.WARNING,
        )
