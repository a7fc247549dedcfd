"""Clients that reach kube-apiserver over plain HTTP (the insecure port): kubeconfigs and container args."""

from __future__ import annotations

import re
from typing import Iterable
from urllib.parse import urlsplit

from kupgrade_lint.catalog import Rule
from kupgrade_lint.checks import WORKLOAD_KINDS, Candidate, CheckContext, check, pod_specs
from kupgrade_lint.findings import Location

_SERVER_RE = re.compile(r"^\s*server:\s*[\"']?(http://[^\s\"']+)", re.M)
_HTTP_URL = re.compile(r"http://[^\s\"',]+")
_MASTER_FLAGS = ("--master", "--kubeconfig-server", "--apiserver-host", "--kube-api-url")
_MASTER_ENV = ("KUBERNETES_MASTER", "KUBE_MASTER", "K8S_API", "KUBERNETES_API_URL")


def _insecure_ports(ctx: CheckContext) -> set[str]:
    ports = {"8080"}
    for flag in ctx.config.flags:
        if flag.component == "kube-apiserver" and flag.name == "insecure-port" and flag.value and flag.value != "0":
            ports.add(flag.value)
    return ports


def _apiserver_hosts(ctx: CheckContext) -> set[str]:
    """Names and addresses the apiserver answers on, from kubeadm's configuration and its flags."""
    hosts = {"kubernetes", "kubernetes.default", "kubernetes.default.svc"}
    cc = ctx.facts.cluster_configuration
    if cc is not None:
        endpoint = str(cc.data.get("controlPlaneEndpoint") or "")
        if endpoint:
            hosts.add(endpoint.rsplit(":", 1)[0] if endpoint.count(":") == 1 else endpoint)
        hosts.update(str(h) for h in ((cc.data.get("apiServer") or {}).get("certSANs") or []))
    for flag in ctx.config.flags:
        if flag.component == "kube-apiserver" and flag.name in ("advertise-address", "bind-address", "insecure-bind-address") and flag.value:
            hosts.add(flag.value)
    hosts.discard("0.0.0.0")
    return hosts


def _is_apiserver_url(url: str, hosts: set[str], ports: set[str]) -> bool:
    parts = urlsplit(url)
    return parts.hostname in hosts and str(parts.port or 80) in ports


@check("insecure_apiserver_client")
def insecure_apiserver_client(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Kubeconfigs on nodes and in ConfigMaps, and container args/env, that use http:// to the apiserver."""
    message_tail = f"kube-apiserver {rule.breaks_in} serves only HTTPS (the insecure port is gone)"
    for config in ctx.config.configs_of_kind("Config"):
        if config.owner is not None or config.node is None:
            continue
        for i, cluster in enumerate(config.data.get("clusters") or []):
            server = str(((cluster or {}).get("cluster") or {}).get("server", ""))
            if server.startswith("http://"):
                yield Candidate(
                    rule.breaks_in,
                    f"kubeconfig {config.file} on {config.node} reaches the apiserver at {server}; {message_tail}",
                    Location(file=config.file, line=config.document.line_of(("clusters", i, "cluster", "server")), node=config.node),
                )
    for obj in ctx.snapshot.of_kind("ConfigMap"):
        for key, value in sorted((obj.data.get("data") or {}).items()):
            if not isinstance(value, str) or "http://" not in value:
                continue
            inner, counted = 1, 0  # line of the match, counted on from the previous one (not from the top each time)
            for match in _SERVER_RE.finditer(value):
                inner += value.count("\n", counted, match.start())
                counted = match.start()
                yield Candidate(
                    rule.breaks_in,
                    f"kubeconfig in ConfigMap {obj.namespace}/{obj.name} key {key} reaches the apiserver at {match.group(1)}; {message_tail}",
                    obj.location(line=obj.content_line(("data", key), inner), field_path=f"data.{key}"),
                )
    ports = _insecure_ports(ctx)
    hosts = _apiserver_hosts(ctx)
    for obj in ctx.snapshot.of_kind(*WORKLOAD_KINDS):
        for path, spec in pod_specs(obj.data, obj.kind):
            for ci, container in enumerate((spec.get("containers") or []) + (spec.get("initContainers") or [])):
                key = "containers" if ci < len(spec.get("containers") or []) else "initContainers"
                index = ci if key == "containers" else ci - len(spec.get("containers") or [])
                for field in ("command", "args"):
                    for ai, arg in enumerate(container.get(field) or []):
                        if not isinstance(arg, str) or not arg.startswith(_MASTER_FLAGS):
                            continue
                        for url in _HTTP_URL.findall(arg):
                            yield _client(obj, path + (key, index, field, ai), url, rule, message_tail)
                for ei, env in enumerate(container.get("env") or []):
                    value = str((env or {}).get("value", ""))
                    # A variable named for the apiserver, or any URL of the apiserver's insecure port.
                    if value.startswith("http://") and ((env or {}).get("name") in _MASTER_ENV or _is_apiserver_url(value, hosts, ports)):
                        yield _client(obj, path + (key, index, "env", ei), value, rule, message_tail)


def _client(obj, path: tuple, url: str, rule: Rule, tail: str) -> Candidate:
    who = f"{obj.kind} {obj.namespace}/{obj.name}" if obj.namespace else f"{obj.kind} {obj.name}"
    return Candidate(rule.breaks_in, f"{who} reaches the apiserver at {url}; {tail}", obj.location(*path))
