"""The JSON type of every object field the checks read, and the refusal of objects that differ.

An object whose field has another type than the Kubernetes API gives it (``containers: 5``, a
Node ``status: "x"``, a quantity that is a mapping) was never served by an apiserver: it is a
broken file. Rather than let each check skip it silently or fail on it, the loader refuses it
with one problem naming the object and the field (rule KUP090). Types are those of the API
(k8s.io/api core/v1, apps/v1, batch/v1, admissionregistration/v1; monitoring.coreos.com/v1 for
the Prometheus operator; kubeadm, kubelet and kube-proxy configuration types), written as
patterns: ``[]`` is every item of a list, ``*`` every value of a mapping. A missing or null
field is fine (the API treats null as unset); a null list item is not. The test ``tests/test_isolation.py`` mutates every
field the checks read on the seed snapshot and fails when a wrong type passes unnamed.
"""

from __future__ import annotations

import functools
from typing import Any

MAP, LIST, STR, NUM, BOOL = "a mapping", "a list", "a string", "a number", "a boolean"
QUANTITY = (STR, NUM)  # resource.Quantity: "100m", "1Gi" or a bare number
INT_OR_STRING = (NUM, STR)

_OBJECT = {
    "apiVersion": STR,
    "kind": STR,
    "metadata": MAP,
    "metadata.name": STR,
    "metadata.namespace": STR,
    "metadata.annotations": MAP,
    "metadata.annotations.*": STR,
    "metadata.labels": MAP,
    "metadata.ownerReferences": LIST,
    "metadata.managedFields": LIST,
    "metadata.managedFields[]": MAP,
    "metadata.managedFields[].apiVersion": STR,
    "metadata.managedFields[].manager": STR,
    "metadata.managedFields[].operation": STR,
}

_CONTAINER = {
    "": MAP,
    "name": STR,
    "image": STR,
    "command": LIST,
    "command[]": STR,
    "args": LIST,
    "args[]": STR,
    "env": LIST,
    "env[]": MAP,
    "env[].name": STR,
    "env[].value": STR,
    "resources": MAP,
    "resources.limits": MAP,
    "resources.limits.*": QUANTITY,
    "resources.requests": MAP,
    "resources.requests.*": QUANTITY,
    "securityContext": MAP,
    "securityContext.runAsUser": NUM,
    # kubeadm's liveness probes (kupgrade_lint/kubeadm_render.py compares them).
    "livenessProbe": MAP,
    "livenessProbe.httpGet": MAP,
    "livenessProbe.httpGet.port": INT_OR_STRING,
    "livenessProbe.httpGet.scheme": STR,
    "livenessProbe.httpGet.host": STR,
    "livenessProbe.httpGet.path": STR,
}

_POD_SPEC = {
    "": MAP,
    "containers": LIST,
    "initContainers": LIST,
    "securityContext": MAP,
    "securityContext.fsGroup": NUM,
    "securityContext.runAsUser": NUM,
    "serviceAccountName": STR,
    "serviceAccount": STR,
    "automountServiceAccountToken": BOOL,
    "volumes": LIST,
    "volumes[]": MAP,
    "volumes[].name": STR,
    "volumes[].configMap": MAP,
    "volumes[].configMap.name": STR,
    "volumes[].configMap.items": LIST,
    "volumes[].configMap.items[]": MAP,
    "volumes[].configMap.items[].key": STR,
    "volumes[].configMap.items[].path": STR,
    **{f"containers[]{'.' if k else ''}{k}": v for k, v in _CONTAINER.items()},
    **{f"initContainers[]{'.' if k else ''}{k}": v for k, v in _CONTAINER.items()},
}


def _under(prefix: str, fields: dict) -> dict:
    return {(f"{prefix}.{k}" if k else prefix): v for k, v in fields.items()}


_TEMPLATED = {"spec": MAP, "spec.template": MAP, **_under("spec.template.spec", _POD_SPEC)}
_WEBHOOKS = {
    "webhooks": LIST,
    "webhooks[]": MAP,
    "webhooks[].name": STR,
    "webhooks[].clientConfig": MAP,
    "webhooks[].clientConfig.url": STR,
    "webhooks[].clientConfig.caBundle": STR,
    "webhooks[].clientConfig.service": MAP,
    "webhooks[].clientConfig.service.name": STR,
    "webhooks[].clientConfig.service.namespace": STR,
    "webhooks[].clientConfig.service.port": NUM,
}
# Prometheus relabel_config (monitoring.coreos.com/v1 RelabelConfig).
_RELABEL = {"": LIST, "[]": MAP, "[].action": STR, "[].sourceLabels": LIST, "[].sourceLabels[]": STR, "[].regex": STR,
            "[].targetLabel": STR, "[].replacement": STR, "[].separator": STR}
_LIMITS = {f"spec.limits[].{k}": MAP for k in ("min", "max", "default", "defaultRequest")}
# map[string]bool and map[string]string (v1beta4: a list of {name, value}): kubeadm and the
# kubelet refuse to decode a quoted "true" or an unquoted 2 there.
_FEATURE_GATES = {"featureGates": MAP, "featureGates.*": BOOL}
_COMPONENT = {"extraArgs": (MAP, LIST), "extraArgs.*": STR, "extraArgs[]": MAP, "extraArgs[].name": STR, "extraArgs[].value": STR}

SHAPES: dict[str, dict[str, Any]] = {
    "Pod": {"spec": MAP, **_under("spec", _POD_SPEC)},
    **{kind: _TEMPLATED for kind in ("Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "ReplicationController", "Job")},
    "CronJob": {"spec": MAP, "spec.jobTemplate": MAP, "spec.jobTemplate.spec": MAP, "spec.jobTemplate.spec.template": MAP,
                **_under("spec.jobTemplate.spec.template.spec", _POD_SPEC)},
    "Node": {"status": MAP, "status.nodeInfo": MAP, "status.nodeInfo.*": STR},
    "ConfigMap": {"data": MAP, "data.*": STR},
    "LimitRange": {"spec": MAP, "spec.limits": LIST, "spec.limits[]": MAP, "spec.limits[].type": STR, **_LIMITS,
                   **{f"spec.limits[].{k}.*": QUANTITY for k in ("min", "max", "default", "defaultRequest")}},
    "ValidatingWebhookConfiguration": _WEBHOOKS,
    "MutatingWebhookConfiguration": _WEBHOOKS,
    "Service": {"metadata.labels.*": STR, "spec": MAP, "spec.ports": LIST, "spec.ports[]": MAP, "spec.ports[].name": STR, "spec.ports[].port": NUM,
                "spec.ports[].targetPort": INT_OR_STRING},
    "ServiceMonitor": {"spec": MAP, "spec.endpoints": LIST, "spec.endpoints[]": MAP, "spec.endpoints[].port": STR,
                       **{f"spec.endpoints[].{r}{k}": v for r in ("metricRelabelings", "relabelings") for k, v in _RELABEL.items()},
                       "spec.endpoints[].path": STR, "spec.endpoints[].targetPort": INT_OR_STRING,
                       "spec.namespaceSelector": MAP, "spec.namespaceSelector.any": BOOL, "spec.namespaceSelector.matchNames": LIST,
                       "spec.namespaceSelector.matchNames[]": STR, "spec.selector": MAP, "spec.selector.matchLabels": MAP,
                       "spec.selector.matchLabels.*": STR, "spec.selector.matchExpressions": LIST, "spec.selector.matchExpressions[]": MAP},
    "PrometheusRule": {"spec": MAP, "spec.groups": LIST, "spec.groups[]": MAP, "spec.groups[].rules": LIST,
                       "spec.groups[].rules[]": MAP, "spec.groups[].rules[].expr": INT_OR_STRING},
    # Configuration documents (kubeadm-config's ClusterConfiguration, kubelet and kube-proxy config files).
    "ClusterConfiguration": {"kubernetesVersion": STR, "imageRepository": STR, "controlPlaneEndpoint": STR, "etcd": MAP,
                             "etcd.external": MAP, **_FEATURE_GATES,
                             **{f"{section}": MAP for section in ("apiServer", "controllerManager", "scheduler")},
                             **{f"{section}.{k}": v for section in ("apiServer", "controllerManager", "scheduler") for k, v in _COMPONENT.items()},
                             "apiServer.certSANs": LIST, "apiServer.certSANs[]": STR},
    "ClusterStatus": {"apiEndpoints": MAP, "apiEndpoints.*": MAP, "apiEndpoints.*.advertiseAddress": STR, "apiEndpoints.*.bindPort": NUM},
    "KubeletConfiguration": {"address": STR, **_FEATURE_GATES},
    "APIService": {"spec": MAP, "spec.caBundle": STR, "spec.insecureSkipTLSVerify": BOOL, "spec.service": MAP,
                   "spec.service.name": STR, "spec.service.namespace": STR, "spec.service.port": NUM},
    "CustomResourceDefinition": {"spec": MAP, "spec.conversion": MAP, "spec.conversion.strategy": STR, "spec.conversion.webhook": MAP,
                                 "spec.conversion.webhook.clientConfig": MAP, "spec.conversion.webhook.clientConfig.url": STR,
                                 "spec.conversion.webhook.clientConfig.caBundle": STR, "spec.conversion.webhookClientConfig": MAP},
    "KubeProxyConfiguration": {"mode": STR, **_FEATURE_GATES},
}


def json_type(value: Any) -> str:
    """The JSON type of a parsed value, in words (booleans are not numbers here)."""
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, (int, float)):
        return NUM
    if isinstance(value, str):
        return STR
    if isinstance(value, dict):
        return MAP
    if isinstance(value, list):
        return LIST
    return "null" if value is None else f"a {type(value).__name__}"


def _compile(fields: dict[str, Any]) -> dict[tuple, tuple[str, ...]]:
    compiled = {}
    for pattern, expected in {**_OBJECT, **fields}.items():
        steps: list[str] = []
        for part in pattern.split("."):
            while part.endswith("[]"):
                part = part[:-2]
                if part:
                    steps.append(part)
                part = ""
                steps.append("[]")
            if part:
                steps.append(part)
        compiled[tuple(steps)] = expected if isinstance(expected, tuple) else (expected,)
    return compiled


class _Node:
    """One step of the patterns of a kind: the types allowed here and the steps below.

    ``leaves``, ``inner``, ``each`` and ``every`` split ``children`` for ``_conforms`` (filled by
    ``_trie``): named steps without steps below, named steps with steps below, ``[]``, ``*``.
    """

    __slots__ = ("types", "children", "leaves", "inner", "each", "every", "accepted", "flat")

    def __init__(self) -> None:
        self.types: tuple[str, ...] | None = None
        self.children: dict[str, _Node] = {}
        self.leaves: tuple[tuple[str, frozenset[type], tuple[str, ...]], ...] = ()
        self.inner: tuple[tuple[str, _Node], ...] = ()
        self.each: _Node | None = None
        self.every: _Node | None = None
        self.accepted: frozenset[type] = frozenset()  # the Python types of ``types`` (exactly these, no subclasses)
        self.flat = False  # steps below, all of them named leaves


def _trie(compiled: dict[tuple, tuple[str, ...]]) -> _Node:
    root = _Node()
    for steps, types in compiled.items():
        node = root
        for step in steps:
            node = node.children.setdefault(step, _Node())
        node.types = types
    _split(root)
    return root


def _split(node: _Node) -> None:
    node.accepted = frozenset(t for t, name in _FAST_TYPES.items() if name in (node.types or ()))
    leaves, inner = [], []
    for step, child in node.children.items():
        _split(child)
        if step == "[]":
            node.each = child
        elif step == "*":
            node.every = child
        elif not child.children and child.types is not None:
            leaves.append((step, child.accepted, child.types))
        else:
            inner.append((step, child))
    node.leaves, node.inner = tuple(leaves), tuple(inner)
    node.flat = bool(leaves) and not inner and node.each is None and node.every is None


# Built per kind on first use, not at import: a short run reads a few kinds of the table.
@functools.lru_cache(maxsize=None)
def _compiled_known(kind: str | None) -> dict[tuple, tuple[str, ...]]:
    return _compile(SHAPES[kind] if kind is not None else {})


@functools.lru_cache(maxsize=None)
def _trie_known(kind: str | None) -> _Node:
    return _trie(_compiled_known(kind))


def _compiled_for(kind: str) -> dict[tuple, tuple[str, ...]]:
    return _compiled_known(kind if kind in SHAPES else None)


def _trie_for(kind: str) -> _Node:
    return _trie_known(kind if kind in SHAPES else None)

_FAST_TYPES = {dict: MAP, list: LIST, str: STR, int: NUM, float: NUM, bool: BOOL}


def _check(node: _Node, value: Any, path: tuple, item: bool, out: list) -> None:
    """Check ``value`` against ``node`` and descend: one walk over what the patterns name."""
    if node.types is not None and (value is not None or item):
        # null is "unset" for a field, but a list item that is null is not an item.
        got = _FAST_TYPES.get(type(value)) or json_type(value)
        if got not in node.types:
            out.append((path, got, node.types))
            return
    for step, child in node.children.items():
        if step == "[]":
            if isinstance(value, list):
                for i, sub in enumerate(value):
                    _check(child, sub, path + (i,), True, out)
        elif step == "*":
            if isinstance(value, dict):
                for key, sub in value.items():
                    _check(child, sub, path + (key,), False, out)
        elif isinstance(value, dict) and step in value:
            _check(child, value[step], path + (step,), False, out)


def _conforms(node: _Node, value: Any, item: bool) -> bool:
    """Whether ``_check`` would find nothing: the same walk, but it builds no paths and stops at
    the first wrong type (almost every object is fine; the path is worked out only for the others).
    A value of exactly a type of ``accepted`` needs no further look; any other is named by ``json_type``."""
    if node.types is not None and (value is not None or item) and type(value) not in node.accepted:
        if (_FAST_TYPES.get(type(value)) or json_type(value)) not in node.types:
            return False
    if isinstance(value, dict):
        for step, accepted, types in node.leaves:
            sub = value.get(step)
            if sub is not None and type(sub) not in accepted and (_FAST_TYPES.get(type(sub)) or json_type(sub)) not in types:
                return False
        for step, child in node.inner:
            sub = value.get(step)
            if sub is not None and not _conforms(child, sub, False):
                return False
        every = node.every
        if every is not None:
            if every.children:
                for sub in value.values():
                    if not _conforms(every, sub, False):
                        return False
            elif every.types is not None:  # e.g. annotations.*: only the values' types
                accepted, types = every.accepted, every.types
                for sub in value.values():
                    if sub is not None and type(sub) not in accepted and (_FAST_TYPES.get(type(sub)) or json_type(sub)) not in types:
                        return False
    elif isinstance(value, list):
        each = node.each
        if each is not None:
            if each.flat:  # e.g. managedFields[]: mappings of leaves, checked here without a call per item
                accepted, types, leaves = each.accepted, each.types, each.leaves
                for sub in value:
                    if types is not None and type(sub) not in accepted and (_FAST_TYPES.get(type(sub)) or json_type(sub)) not in types:
                        return False
                    if isinstance(sub, dict):
                        for step, accepted_here, types_here in leaves:
                            leaf = sub.get(step)
                            if leaf is not None and type(leaf) not in accepted_here and (_FAST_TYPES.get(type(leaf)) or json_type(leaf)) not in types_here:
                                return False
            elif each.children:
                for sub in value:
                    if not _conforms(each, sub, True):
                        return False
            elif each.types is not None:  # e.g. command[]: only the items' types (null included)
                accepted, types = each.accepted, each.types
                for sub in value:
                    if type(sub) not in accepted and (_FAST_TYPES.get(type(sub)) or json_type(sub)) not in types:
                        return False
    return True


def mismatch(kind: str, data: dict) -> tuple[tuple, str, tuple[str, ...]] | None:
    """The first field of ``data`` (shortest path first) whose type is not the API's: (path, found, expected)."""
    trie = _trie_for(kind)
    if _conforms(trie, data, False):
        return None
    found: list = []
    _check(trie, data, (), False, found)
    if not found:
        return None
    return min(found, key=lambda f: (len(f[0]), [str(p) for p in f[0]]))


def expected(kind: str, path: tuple) -> tuple[str, ...] | None:
    """The JSON types the API allows at the concrete ``path`` of a ``kind``, when the table says."""
    for steps, types in _compiled_for(kind).items():
        if len(steps) == len(path) and all(s in ("[]", "*") and isinstance(p, int) == (s == "[]") or s == p for s, p in zip(steps, path)):
            return types
    return None


def refusal(kind: str, data: dict) -> tuple[tuple, str] | None:
    """(path, why) when ``data`` has a field of the wrong type, for a problem naming the object."""
    found = mismatch(kind, data)
    if found is None:
        return None
    path, got, expected = found
    return path, f"{dotted(path)} is {got}, not {' or '.join(expected)}"


def dotted(path: tuple) -> str:
    """``spec.containers[0].image``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out
