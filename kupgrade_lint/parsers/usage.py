"""Evidence of API usage by clients: the apiserver's deprecated-API metric and audit logs.

``apiserver_requested_deprecated_apis`` (kube-apiserver 1.19+,
https://kubernetes.io/blog/2020/09/03/warnings/#metrics) counts requests to deprecated APIs
since the apiserver started; an audit log (https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/)
names the client (user agent) of each request.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_METRIC_RE = re.compile(r"^apiserver_requested_deprecated_apis\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)")
_LABEL_RE = re.compile(r'(\w+)="((?:\\.|[^"\\])*)"')


@dataclass(frozen=True)
class ApiUse:
    """Requests to group/version/resource seen in a metric line or an audit log."""

    api_version: str
    resource: str
    line: int
    clients: tuple[str, ...] = ()
    count: int = 1


def _lines(text: str) -> list[str]:
    """Lines as an editor counts them: LF (or CRLF) only, not the other breaks str.splitlines knows."""
    return [line.rstrip("\r") for line in text.split("\n")]


def _api_version(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


def parse_deprecated_api_metric(text: str) -> list[ApiUse]:
    """Every ``apiserver_requested_deprecated_apis`` sample (value 1 means requested)."""
    uses = []
    for number, line in enumerate(_lines(text), 1):
        match = _METRIC_RE.match(line.strip())
        if not match:
            continue
        labels = dict(_LABEL_RE.findall(match.group("labels")))
        try:
            value = float(match.group("value"))
        except ValueError:
            continue
        if value <= 0 or labels.get("subresource"):
            continue
        uses.append(ApiUse(_api_version(labels.get("group", ""), labels.get("version", "")), labels.get("resource", ""), number))
    return uses


def parse_audit_log(text: str) -> tuple[list[ApiUse], list[int]]:
    """Requests per (apiVersion, resource) with their user agents, from JSON-lines audit events.

    Returns the uses and the numbers of lines that are not audit events.
    """
    seen: dict[tuple[str, str], tuple[int, dict[str, int]]] = {}
    bad: list[int] = []
    for number, line in enumerate(_lines(text), 1):
        if not line.strip():
            continue
        if number == 1 and line.startswith("\ufeff"):
            line = line[1:]
        try:
            event = json.loads(line)
            ref = event.get("objectRef") or {}
        except (ValueError, AttributeError, RecursionError):  # not JSON, not an object, nested too deep
            bad.append(number)
            continue
        if not isinstance(ref, dict) or not ref.get("resource") or ref.get("subresource"):
            continue
        if event.get("stage") not in (None, "ResponseComplete"):
            continue
        # Fields of the wrong type are read as text rather than trusted to be strings.
        key = (_api_version(str(ref.get("apiGroup") or ""), str(ref.get("apiVersion") or "")), str(ref["resource"]))
        first, agents = seen.setdefault(key, (number, {}))
        user = event.get("user")
        agent = str(event.get("userAgent") or (user.get("username") if isinstance(user, dict) else None) or "unknown client")
        agents[agent] = agents.get(agent, 0) + 1
    uses = [
        ApiUse(api_version, resource, first, tuple(sorted(agents)), sum(agents.values()))
        for (api_version, resource), (first, agents) in sorted(seen.items())
    ]
    return uses, bad


def guess_resource(kind: str) -> str:
    """The plural resource of a kind, as apimachinery guesses it (meta.UnsafeGuessKindToResource)."""
    lower = kind.lower()
    if lower.endswith("s"):
        return lower + "es"
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + "s"
