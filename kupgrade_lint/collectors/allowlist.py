"""What the collectors keep of everything that can carry a secret: the allow-list, in one place.

A snapshot is attached to tickets and shared, so secrets are kept out of it by construction:
the collectors keep the fields the checks read and drop every other field of the objects and
files that can carry credentials. Nothing is kept because its name looks harmless; a field
or a file that is not named here is dropped (its value becomes ``REDACTED``) or not copied.
docs/collecting.md says the same in prose; change both together.

Each function here returns *edits*: ``(path, new value)`` pairs for the values to replace. The
mechanism that applies them to parsed data or to YAML text (keeping every line where it was)
is in ``redact.py``. URLs lose their userinfo everywhere (``kupgrade_lint.urls``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import urlsplit, urlunsplit

from kupgrade_lint.urls import strip_userinfo

REDACTED = "REDACTED"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

Edit = tuple[tuple, Any]

# -- Secrets -----------------------------------------------------------------------------------
# Secrets are never written to cluster/ at all. A Secret rendered by a Helm chart keeps its
# identity only; its data is read in memory by Helm release decoding (data.release) and by the
# webhook certificate collector (tls.crt/ca.crt certificate blocks) and never written.
SECRET_FIELDS = frozenset({"apiVersion", "kind", "metadata", "type", "immutable"})
SECRET_VALUE_MAPS = ("data", "stringData")  # keys kept, every value REDACTED
SECRET_METADATA = frozenset({"name", "namespace", "labels", "uid", "resourceVersion", "creationTimestamp", "ownerReferences"})

# -- Environment variables of containers -------------------------------------------------------
# Names are kept; values only where a check reads them: GODEBUG (x509ignoreCN, certificate
# checks' remediation) and the variables clients read the apiserver address from
# (checks/control_plane.py). Any other value that is an http(s) URL is kept as scheme, host,
# port and path (no userinfo, query or fragment): control_plane.py compares it with the
# apiserver's insecure port. Everything else becomes REDACTED.
ENV_VALUES_KEPT = frozenset({"GODEBUG", "KUBERNETES_MASTER", "KUBE_MASTER", "K8S_API", "KUBERNETES_API_URL", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"})

# -- Container command lines -------------------------------------------------------------------
# The checks read the flags of the control-plane components and kube-proxy (removed flags,
# feature gates, the apiserver's addresses), so their command and args are kept whole. Of any
# other container, command[0] (the binary) and flag names are kept; a flag's value only when
# it is an http(s) URL (as for env values: control_plane.py looks for clients of the insecure
# port); every other value or word becomes REDACTED.
COMPONENT_CONTAINERS = frozenset({"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"})
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")

# -- Kubeconfigs (https://kubernetes.io/docs/reference/config-api/kubeconfig.v1/) ---------------
# The server (without userinfo), CA and client certificate (public) stay; tokens, passwords,
# user names, client keys, exec plugin args and env, and auth-provider config go.
KUBECONFIG_FIELDS = frozenset({"apiVersion", "kind", "clusters", "contexts", "current-context", "users"})
KUBECONFIG_CLUSTER = frozenset({"server", "certificate-authority", "certificate-authority-data", "insecure-skip-tls-verify", "tls-server-name", "proxy-url", "disable-compression"})
KUBECONFIG_CONTEXT = frozenset({"cluster", "user", "namespace"})
KUBECONFIG_USER = frozenset({"client-certificate", "client-certificate-data", "exec", "auth-provider"})
KUBECONFIG_EXEC = frozenset({"apiVersion", "command", "interactiveMode", "provideClusterInfo"})
KUBECONFIG_AUTH_PROVIDER = frozenset({"name"})
KUBECONFIG_NAMED = {"clusters": ("cluster", KUBECONFIG_CLUSTER), "contexts": ("context", KUBECONFIG_CONTEXT), "users": ("user", KUBECONFIG_USER)}

# -- Component configuration documents ---------------------------------------------------------
# The checks read their apiVersion and kind (removed_config_api), featureGates, kube-proxy's
# mode, and kubeadm's ClusterConfiguration (extraArgs, versions, imageRepository, etcd,
# endpoints). None = every field; a set = only these fields. Sources: the config API
# references at https://kubernetes.io/docs/reference/config-api/ (kubeadm-config.v1beta3,
# kubelet-config.v1beta1, kube-proxy-config.v1alpha1, kube-scheduler-config.v1).
CONFIG_FIELDS: dict[str, frozenset[str] | None] = {
    "ClusterConfiguration": None,  # paths and addresses only; no credential fields
    "ClusterStatus": None,
    "KubeProxyConfiguration": None,  # clientConnection.kubeconfig is a path
    "KubeSchedulerConfiguration": None,
    # bootstrapTokens and certificateKey are secrets.
    "InitConfiguration": frozenset({"apiVersion", "kind", "localAPIEndpoint", "nodeRegistration", "patches", "skipPhases", "timeouts", "dryRun"}),
    # discovery holds the bootstrap token; controlPlane.certificateKey the certificate key.
    "JoinConfiguration": frozenset({"apiVersion", "kind", "caCertPath", "nodeRegistration", "patches", "skipPhases", "timeouts", "dryRun"}),
}
# KubeletConfiguration: every field except staticPodURLHeader (HTTP headers, e.g. a bearer
# token, sent when the kubelet fetches static pods from staticPodURL).
KUBELET_CONFIG_DROPPED = frozenset({"staticPodURLHeader"})
# Other configuration documents (EncryptionConfiguration holds keys, AdmissionConfiguration
# plugin configs, audit policies...): apiVersion and kind only.
CONFIG_DEFAULT_FIELDS = frozenset({"apiVersion", "kind"})
# Configuration file groups (kubelet.config.k8s.io, apiserver.config.k8s.io, kubeadm.k8s.io,
# apiserver.k8s.io, audit.k8s.io), not the API groups the apiserver serves under similar names
# (flowcontrol.apiserver.k8s.io, internal.apiserver.k8s.io): those objects keep their fields.
CONFIG_GROUP = re.compile(r"^(([a-z0-9-]+\.)?config\.k8s\.io|kubeadm\.k8s\.io|apiserver\.k8s\.io|audit\.k8s\.io)/")

# -- ConfigMaps -----------------------------------------------------------------------------
# A value is kept only when it is one of the configurations the checks read, recognised by
# its content (or, for the Corefile, its key): a Corefile, a component configuration or
# kubeconfig (reduced as above), a Prometheus configuration or rule file (reduced to the
# fields below), a prometheus-adapter configuration, a Grafana dashboard. Every other value
# becomes REDACTED and the ConfigMap says which keys in the annotation REDACTED_KEYS_ANNOTATION.
REDACTED_KEYS_ANNOTATION = "kupgrade-lint.io/redacted-keys"
COREFILE_KEYS = frozenset({"Corefile"})
PROMETHEUS_TOP = frozenset({"global", "rule_files", "scrape_configs", "scrape_config_files"})
PROMETHEUS_GLOBAL = frozenset({"scrape_interval", "scrape_timeout", "evaluation_interval", "external_labels"})
# What the monitoring checks read of a scrape job: its target ports and metrics paths.
PROMETHEUS_SCRAPE = frozenset({
    "job_name", "scheme", "metrics_path", "params", "scrape_interval", "scrape_timeout", "honor_labels",
    "honor_timestamps", "static_configs", "relabel_configs", "metric_relabel_configs", "kubernetes_sd_configs",
    "file_sd_configs", "dns_sd_configs", "tls_config",
})
PROMETHEUS_SD = frozenset({"role", "namespaces", "selectors", "api_server", "files", "names", "type", "port", "refresh_interval"})
PROMETHEUS_TLS = frozenset({"ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify"})
PROMETHEUS_RULE = frozenset({"record", "alert", "expr", "for", "labels", "annotations", "keep_firing_for"})
ADAPTER_TOP = frozenset({"rules", "resourceRules", "externalRules"})


# -- edits ---------------------------------------------------------------------------------------


def object_edits(obj: Any) -> list[Edit]:
    """Edits that make a Kubernetes object (or a ``kind: List`` of them) safe to write."""
    if not isinstance(obj, dict):
        return []
    kind = obj.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(obj.get("items"), list):
        edits = list(_kept_fields(obj, {"apiVersion", "kind", "metadata", "items"}, ()))
        for i, item in enumerate(obj["items"]):
            edits.extend((("items", i) + p, v) for p, v in object_edits(item))
        return edits
    if kind == "Secret":
        return _secret_edits(obj)
    if kind == "ConfigMap":
        return configmap_edits(obj)
    if looks_like_kubeconfig(obj):
        return kubeconfig_edits(obj)
    if is_component_config(obj):
        return config_edits(obj)
    return list(_generic_edits(obj, ()))


def _kept_fields(mapping: dict, allowed: frozenset[str] | set[str], base: tuple) -> Iterator[Edit]:
    for key, value in mapping.items():
        if key not in allowed and value not in (None, "", REDACTED):
            yield base + (key,), REDACTED


def _secret_edits(obj: dict) -> list[Edit]:
    edits = list(_kept_fields(obj, SECRET_FIELDS | set(SECRET_VALUE_MAPS), ()))
    for name in SECRET_VALUE_MAPS:
        values = obj.get(name)
        if isinstance(values, dict):
            edits.extend(((name, k), REDACTED) for k, v in values.items() if v != REDACTED)
        elif values not in (None, REDACTED):
            edits.append(((name,), REDACTED))
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        edits.extend(_kept_fields(meta, SECRET_METADATA, ("metadata",)))
    return edits


def _generic_edits(node: Any, path: tuple) -> Iterator[Edit]:
    """Any object: env values, the last-applied copy of the object, and URL userinfo."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "env" and isinstance(value, list):
                yield from _env_edits(value, path + (key,))
            elif key in CONTAINER_LISTS and isinstance(value, list):
                for i, container in enumerate(value):
                    yield from _container_edits(container, path + (key, i))
            elif key == LAST_APPLIED and isinstance(value, str) and path[-2:] == ("metadata", "annotations"):
                cleaned = _last_applied(value)
                if cleaned != value:
                    yield path + (key,), cleaned
            elif isinstance(value, (dict, list)):
                if value:  # managedFields' fieldsV1 is mostly empty mappings
                    yield from _generic_edits(value, path + (key,))
            elif isinstance(value, str) and "@" in value:  # a leaf, seen here rather than in a call of its own
                clean = strip_userinfo(value)
                if clean != value:
                    yield path + (key,), clean
    elif isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, (dict, list)):
                if item:
                    yield from _generic_edits(item, path + (i,))
            elif isinstance(item, str) and "@" in item:
                clean = strip_userinfo(item)
                if clean != item:
                    yield path + (i,), clean
    elif isinstance(node, str):
        clean = strip_userinfo(node)
        if clean != node:
            yield path, clean


def _is_component(container: dict) -> bool:
    command = container.get("command")
    binary = command[0].rsplit("/", 1)[-1] if isinstance(command, list) and command and isinstance(command[0], str) else ""
    return container.get("name") in COMPONENT_CONTAINERS or binary in COMPONENT_CONTAINERS


def _container_edits(container: Any, base: tuple) -> Iterator[Edit]:
    if not isinstance(container, dict) or _is_component(container):
        yield from _generic_edits(container, base)
        return
    for key, value in container.items():
        where = base + (key,)
        if key in ("command", "args") and isinstance(value, list):
            for i, word in enumerate(value):
                kept = word if key == "command" and i == 0 and isinstance(word, str) else command_word_kept(word)
                kept = strip_userinfo(kept) if isinstance(kept, str) else kept
                if kept != word:
                    yield where + (i,), kept
        elif key in ("command", "args") and value is not None:
            yield where, REDACTED
        else:
            yield from _generic_edits({key: value}, base)


def command_word_kept(word: Any) -> Any:
    """What of one word of a (non-component) container's command line is kept."""
    if not isinstance(word, str) or word in ("", REDACTED):
        return word if isinstance(word, str) else REDACTED
    if re.fullmatch(r"--?[A-Za-z0-9][A-Za-z0-9_.-]*", word):
        return word  # a flag without a value
    flag = re.fullmatch(r"(--?[A-Za-z0-9][A-Za-z0-9_.-]*)=(.*)", word, re.DOTALL)
    if flag:
        value = flag.group(2)
        return f"{flag.group(1)}={http_url_kept(value) or (value if value == '' else REDACTED)}"
    return http_url_kept(word) or REDACTED


def _env_edits(env: list, base: tuple) -> Iterator[Edit]:
    for i, item in enumerate(env):
        if not isinstance(item, dict):
            yield base + (i,), REDACTED
            continue
        for key, value in item.items():
            where = base + (i, key)
            if key == "value":
                kept = env_value_kept(item.get("name"), value)
                if kept != value:
                    yield where, kept
            else:
                yield from _generic_edits(value, where)


def env_value_kept(name: Any, value: Any) -> Any:
    """What of an environment variable's value is kept (see ENV_VALUES_KEPT)."""
    if value is None or value == "" or value == REDACTED:
        return value
    if not isinstance(value, str):
        return REDACTED
    if name in ENV_VALUES_KEPT:
        return strip_userinfo(value)
    return http_url_kept(value) or REDACTED


def http_url_kept(value: str) -> str | None:
    """An http(s) URL as scheme://host:port/path (no userinfo, query, fragment); None if not one."""
    text = value.strip()
    if not re.match(r"^https?://[^\s]+$", text):
        return None
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return None
    if ":" in host:
        host = f"[{host}]"
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))


def _last_applied(text: str) -> str:
    """The last-applied-configuration annotation, with the same edits as the object it copies."""
    try:
        applied = json.loads(text)
    except ValueError:
        return REDACTED
    if not isinstance(applied, dict):
        return REDACTED
    from kupgrade_lint.collectors.redact import apply_edits  # the mechanism; no import cycle at load

    edits = object_edits(applied)
    if not edits:
        return text
    cleaned = apply_edits(applied, edits)
    return json.dumps(cleaned, separators=(",", ":"), ensure_ascii=False) + ("\n" if text.endswith("\n") else "")


# -- kubeconfigs ---------------------------------------------------------------------------------


def looks_like_kubeconfig(data: Any) -> bool:
    """A mapping shaped like a kubeconfig (``kind: Config`` or users/clusters lists)."""
    return isinstance(data, dict) and (
        data.get("kind") == "Config" or isinstance(data.get("users"), list) or isinstance(data.get("clusters"), list)
    )


def kubeconfig_edits(config: dict) -> list[Edit]:
    """Edits that keep only KUBECONFIG_* of a kubeconfig."""
    edits = list(_kept_fields(config, KUBECONFIG_FIELDS, ()))
    for list_key, (inner_key, allowed) in KUBECONFIG_NAMED.items():
        entries = config.get(list_key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            edits.append(((list_key,), REDACTED))
            continue
        for i, entry in enumerate(entries):
            base = (list_key, i)
            if not isinstance(entry, dict):
                edits.append((base, REDACTED))
                continue
            edits.extend(_kept_fields(entry, {"name", inner_key}, base))
            inner = entry.get(inner_key)
            if inner is None:
                continue
            if not isinstance(inner, dict):
                edits.append((base + (inner_key,), REDACTED))
                continue
            edits.extend(_kept_fields(inner, allowed, base + (inner_key,)))
            for key, value in inner.items():
                where = base + (inner_key, key)
                if key in ("exec", "auth-provider") and key in allowed:
                    sub = KUBECONFIG_EXEC if key == "exec" else KUBECONFIG_AUTH_PROVIDER
                    if isinstance(value, dict):
                        edits.extend(_kept_fields(value, sub, where))
                        edits.extend(_generic_edits({k: v for k, v in value.items() if k in sub}, where))
                    elif value is not None:
                        edits.append((where, REDACTED))
                elif key in allowed:
                    edits.extend(_generic_edits(value, where))
    return edits


# -- component configuration ---------------------------------------------------------------------


def is_component_config(data: Any) -> bool:
    """A configuration document of a Kubernetes component (kubeadm, kubelet, kube-proxy, apiserver...)."""
    if not isinstance(data, dict):
        return False
    if isinstance(data.get("apiVersion"), str) and CONFIG_GROUP.match(data["apiVersion"]):
        return True
    return data.get("kind") in CONFIG_FIELDS or data.get("kind") == "KubeletConfiguration"


def config_edits(doc: dict) -> list[Edit]:
    """Edits that keep only CONFIG_FIELDS of a component configuration document."""
    kind = doc.get("kind")
    if kind == "KubeletConfiguration":
        allowed = {k for k in doc if k not in KUBELET_CONFIG_DROPPED}
    elif kind in CONFIG_FIELDS:
        allowed = CONFIG_FIELDS[kind]
        if allowed is None:
            allowed = set(doc)
    else:
        allowed = CONFIG_DEFAULT_FIELDS
    edits = list(_kept_fields(doc, allowed, ()))
    edits.extend(_generic_edits({k: v for k, v in doc.items() if k in allowed}, ()))
    return edits


# -- ConfigMap values ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValuePlan:
    """What happens to one ConfigMap value: kept with ``edits`` per document, or dropped."""

    kept: bool
    edits: tuple[tuple[Edit, ...], ...] = ()  # one tuple per YAML document of the value
    text_only: bool = False  # kept as text (a Corefile): only URL userinfo is removed


def configmap_value_plan(key: str, text: Any) -> ValuePlan:
    """Keep a ConfigMap value only if it is a configuration the checks read (see above)."""
    if not isinstance(text, str):
        return ValuePlan(False)
    if key in COREFILE_KEYS:
        return ValuePlan(True, text_only=True)
    from kupgrade_lint.collectors.redact import Unparseable, load_documents  # the mechanism

    try:
        docs = load_documents(text)
    except Unparseable:
        return ValuePlan(False)
    if all(d is None for d in docs):
        return ValuePlan(False)
    plans: list[tuple[Edit, ...]] = []
    for doc in docs:
        if doc is None:
            plans.append(())
            continue
        edits = _config_value_edits(doc)
        if edits is None:
            return ValuePlan(False)
        plans.append(tuple(edits))
    return ValuePlan(True, tuple(plans))


def _config_value_edits(doc: Any) -> list[Edit] | None:
    if not isinstance(doc, dict):
        return None
    if looks_like_kubeconfig(doc):
        return kubeconfig_edits(doc)
    if is_component_config(doc):
        return config_edits(doc)
    if isinstance(doc.get("scrape_configs"), list) or isinstance(doc.get("global"), dict):
        return _prometheus_edits(doc)
    if isinstance(doc.get("groups"), list):
        return _rule_file_edits(doc)
    if any(isinstance(doc.get(k), list) for k in ADAPTER_TOP) and set(doc) <= ADAPTER_TOP:
        return list(_generic_edits(doc, ()))
    if _is_grafana_dashboard(doc):
        return list(_generic_edits(doc, ()))
    return None


def _is_grafana_dashboard(doc: dict) -> bool:
    inner = doc.get("dashboard") if isinstance(doc.get("dashboard"), dict) else doc
    return isinstance(inner.get("panels"), list) or isinstance(inner.get("rows"), list)


def _prometheus_edits(doc: dict) -> list[Edit]:
    edits = list(_kept_fields(doc, PROMETHEUS_TOP, ()))
    if isinstance(doc.get("global"), dict):
        edits.extend(_kept_fields(doc["global"], PROMETHEUS_GLOBAL, ("global",)))
    for i, job in enumerate(doc.get("scrape_configs") or []):
        base = ("scrape_configs", i)
        if not isinstance(job, dict):
            edits.append((base, REDACTED))
            continue
        edits.extend(_kept_fields(job, PROMETHEUS_SCRAPE, base))
        for sd_key in ("kubernetes_sd_configs", "file_sd_configs", "dns_sd_configs"):
            for j, sd in enumerate(job.get(sd_key) or []):
                if isinstance(sd, dict):
                    edits.extend(_kept_fields(sd, PROMETHEUS_SD, base + (sd_key, j)))
        if isinstance(job.get("tls_config"), dict):
            edits.extend(_kept_fields(job["tls_config"], PROMETHEUS_TLS, base + ("tls_config",)))
    dropped = {p for p, _ in edits}
    edits.extend(e for e in _generic_edits(doc, ()) if not any(e[0][: len(d)] == d for d in dropped))
    return edits


def _rule_file_edits(doc: dict) -> list[Edit]:
    edits = list(_kept_fields(doc, {"groups"}, ()))
    for i, group in enumerate(doc.get("groups") or []):
        base = ("groups", i)
        if not isinstance(group, dict):
            edits.append((base, REDACTED))
            continue
        edits.extend(_kept_fields(group, {"name", "interval", "rules", "limit"}, base))
        for j, rule in enumerate(group.get("rules") or []):
            if isinstance(rule, dict):
                edits.extend(_kept_fields(rule, PROMETHEUS_RULE, base + ("rules", j)))
    dropped = {p for p, _ in edits}
    edits.extend(e for e in _generic_edits(doc, ()) if not any(e[0][: len(d)] == d for d in dropped))
    return edits


def configmap_edits(obj: dict) -> list[Edit]:
    """Edits of a ConfigMap: values that are not a configuration the checks read are REDACTED."""
    from kupgrade_lint.collectors.redact import redact_text_documents  # the mechanism

    edits: list[Edit] = []
    redacted: list[str] = []
    data = obj.get("data")
    if isinstance(data, dict):
        for key, value in data.items():
            plan = configmap_value_plan(str(key), value)
            if not plan.kept:
                if value not in (None, "", REDACTED):
                    edits.append((("data", key), REDACTED))
                    redacted.append(str(key))
                continue
            if plan.text_only:
                new = strip_userinfo(value)
            else:
                new = redact_text_documents(value, [list(e) for e in plan.edits])
            if new != value:
                edits.append((("data", key), new))
    elif data is not None:
        edits.append((("data",), REDACTED))
    binary = obj.get("binaryData")
    if isinstance(binary, dict):
        for key in binary:
            edits.append((("binaryData", key), REDACTED))
            redacted.append(str(key))
    elif binary is not None:
        edits.append((("binaryData",), REDACTED))
    rest = {k: v for k, v in obj.items() if k not in ("data", "binaryData")}
    edits.extend(_generic_edits(rest, ()))
    if redacted:
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else None
        note = ",".join(sorted(redacted))
        if annotations is None:
            edits.append((("metadata", "annotations"), {REDACTED_KEYS_ANNOTATION: note}))
        else:
            edits.append((("metadata", "annotations", REDACTED_KEYS_ANNOTATION), note))
    return edits


# -- node files --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeFileRule:
    """Files a node collector copies (``directory`` + ``pattern``), and the form they must have.

    ``form``: ``env`` (systemd environment file), ``unit`` (systemd unit or drop-in),
    ``kubeconfig``, ``config`` (component configuration YAML), ``manifest`` (static pod YAML),
    ``toml`` (containerd, reduced to CONTAINERD_TOML_KEYS), ``certificate`` (PEM, reduced to its
    CERTIFICATE blocks). A file that does not parse as its form is not copied.
    """

    directory: str
    pattern: re.Pattern[str] | None
    form: str
    name: str | None = None  # an exact file name instead of a pattern

    def matches(self, directory: str, name: str) -> bool:
        """True when ``directory/name`` is a file of this rule."""
        if directory != self.directory:
            return False
        return name == self.name if self.pattern is None else bool(self.pattern.match(name))


# Where systemd looks for units, most specific first
# (https://www.freedesktop.org/software/systemd/man/latest/systemd.unit.html#Unit%20File%20Load%20Path).
SYSTEMD_UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")


def _exact(path: str, form: str) -> NodeFileRule:
    directory, _, name = path.rpartition("/")
    return NodeFileRule(directory, None, form, name)


# kubeadm's kubelet flags and config
# (https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/kubelet-integration/),
# the distro env files its drop-in sources, kubespray's env files, static pod manifests,
# kubeadm's kubeconfigs, root's kubeconfig, containerd's config.
NODE_FILES: tuple[NodeFileRule, ...] = (
    _exact("/etc/default/kubelet", "env"),
    _exact("/etc/sysconfig/kubelet", "env"),
    _exact("/var/lib/kubelet/kubeadm-flags.env", "env"),
    NodeFileRule("/etc/kubernetes", re.compile(r"^[^/]+\.env$"), "env"),
    _exact("/var/lib/kubelet/config.yaml", "config"),
    NodeFileRule("/etc/kubernetes/manifests", re.compile(r"^[^/.][^/]*$"), "manifest"),
    NodeFileRule("/etc/kubernetes", re.compile(r"^[^/]+\.conf$"), "kubeconfig"),
    _exact("/root/.kube/config", "kubeconfig"),
    _exact("/etc/containerd/config.toml", "toml"),
    # Public certificates of the control plane (kubeadm's /etc/kubernetes/pki, kubespray's
    # /etc/kubernetes/ssl), for their expiry: only CERTIFICATE blocks are kept, never a key.
    *(NodeFileRule(d, re.compile(r"^[^/]+\.crt$"), "certificate") for d in ("/etc/kubernetes/pki", "/etc/kubernetes/pki/etcd", "/etc/kubernetes/ssl")),
) + tuple(_exact(f"{d}/kubelet.service", "unit") for d in SYSTEMD_UNIT_DIRS) + tuple(
    NodeFileRule(f"{d}/kubelet.service.d", re.compile(r"^[^/]+\.conf$"), "unit") for d in SYSTEMD_UNIT_DIRS
)

# Of a systemd unit, only what component_config.py reads to rebuild the kubelet's command line.
UNIT_KEYS = frozenset({"ExecStart", "Environment", "EnvironmentFile"})

# Of containerd's config.toml, no check reads anything yet: only these settings are kept.
CONTAINERD_TOML_KEYS = frozenset({"version", "sandbox_image", "SystemdCgroup", "systemd_cgroup", "snapshotter", "default_runtime_name", "runtime_type"})

# Never read, whatever links point there: the PKI directories (kubeadm, kubespray, the
# kubelet's) and private key files anywhere; of the PKI directories only their ``*.crt``
# certificate files (CERTIFICATE_DIRS) are read, and a file holding a private key is refused.
FORBIDDEN_DIRS = ("/etc/kubernetes/pki", "/etc/kubernetes/ssl", "/var/lib/kubelet/pki", "/etc/ssl/private")
FORBIDDEN_SUFFIXES = (".key",)
CERTIFICATE_DIRS = ("/etc/kubernetes/pki", "/etc/kubernetes/pki/etcd", "/etc/kubernetes/ssl")


def forbidden_node_path(node_path: str) -> bool:
    """True for a path never read: a key file, or anything in a PKI directory but its certificates."""
    if node_path.endswith(FORBIDDEN_SUFFIXES):
        return True
    directory, _, name = node_path.rpartition("/")
    if node_path in CERTIFICATE_DIRS or (directory in CERTIFICATE_DIRS and name.endswith(".crt")):
        return False
    return any(node_path == d or node_path.startswith(d + "/") for d in FORBIDDEN_DIRS)


def node_file_rule(abs_path: str) -> NodeFileRule | None:
    """The rule that allows copying ``abs_path``, or None."""
    directory, _, name = abs_path.rpartition("/")
    for rule in NODE_FILES:
        if rule.matches(directory, name):
            return rule
    return None


def env_value_is_flags(value: str) -> bool:
    """An env file value the kubelet's command line expands: flags or ``$VAR`` references."""
    text = value.strip().strip("\"'").strip()
    return text == "" or text.startswith(("-", "$"))
