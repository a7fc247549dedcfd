"""Keep secrets out of snapshots.

A snapshot is meant to be attached to tickets and shared with whoever helps with the upgrade,
so it never holds Secret data, service-account tokens, kubeconfig credentials or private keys
(docs/snapshot-format.md). Everything a collector writes goes through one of these functions.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import yaml

REDACTED = "REDACTED"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

# Keys of a kubeconfig ``users[].user`` that carry credentials
# (https://kubernetes.io/docs/reference/config-api/kubeconfig.v1/#AuthInfo). Certificates are
# public; the key, tokens and passwords are not.
_USER_SECRET_KEYS = ("client-key-data", "token", "password")

# Line-level fallback for text that is not a parseable kubeconfig (or is embedded in one).
_SECRET_LINE = re.compile(
    r"^(?P<lead>[ \t]*(?:-[ \t]+)?[\"']?)(?P<key>client-key-data|token|password|id-token|refresh-token|"
    r"access-token|client-secret)(?P<sep>[\"']?[ \t]*:[ \t]*)(?P<value>\S.*?)[ \t]*$",
    re.MULTILINE,
)

# containerd registry credentials in config.toml
# (https://github.com/containerd/containerd/blob/v1.7.0/docs/cri/registry.md#configure-registry-credentials).
_TOML_SECRET = re.compile(
    r"^(?P<lead>[ \t]*)(?P<key>password|auth|identitytoken|token)(?P<sep>[ \t]*=[ \t]*)(?P<value>\S.*?)[ \t]*$", re.MULTILINE
)

_PEM_BLOCK = re.compile(r"-----BEGIN (?P<label>[A-Z0-9 ]+)-----\s.*?-----END (?P=label)-----\s*", re.DOTALL)
PRIVATE_KEY_MARKER = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")


def redact_secret_lines(text: str) -> str:
    """Replace the value of every ``token:``/``password:``/``client-key-data:``... line."""

    def repl(m: re.Match[str]) -> str:
        if m.group("value").strip("\"'") in ("", REDACTED):
            return m.group(0)
        return f"{m.group('lead')}{m.group('key')}{m.group('sep')}{REDACTED}"

    return _SECRET_LINE.sub(repl, text)


def redact_toml_secrets(text: str) -> str:
    """Replace credential values (``password = "..."``) in a TOML file such as containerd's."""
    return _TOML_SECRET.sub(lambda m: f'{m.group("lead")}{m.group("key")}{m.group("sep")}"{REDACTED}"', text)


def looks_like_kubeconfig(data: Any) -> bool:
    """A mapping shaped like a kubeconfig (``kind: Config`` or users/clusters lists)."""
    return isinstance(data, dict) and (
        data.get("kind") == "Config" or isinstance(data.get("users"), list) or isinstance(data.get("clusters"), list)
    )


def redact_kubeconfig(config: dict) -> dict:
    """A copy of a kubeconfig with every credential replaced by ``REDACTED``.

    Client keys, tokens, passwords, every auth-provider config value (OIDC id/refresh tokens,
    client secrets) and exec plugin env values go; certificates, server URLs and file paths
    stay (the engine checks those).
    """
    result = copy.deepcopy(config)
    for entry in result.get("users") or []:
        user = entry.get("user") if isinstance(entry, dict) else None
        if not isinstance(user, dict):
            continue
        for key in _USER_SECRET_KEYS:
            if key in user:
                user[key] = REDACTED
        provider = user.get("auth-provider")
        if isinstance(provider, dict) and isinstance(provider.get("config"), dict):
            provider["config"] = {k: REDACTED for k in provider["config"]}
        exec_conf = user.get("exec")
        if isinstance(exec_conf, dict) and isinstance(exec_conf.get("env"), list):
            for env in exec_conf["env"]:
                if isinstance(env, dict) and "value" in env:
                    env["value"] = REDACTED
    return result


def redact_kubeconfig_text(text: str) -> str:
    """Redact a kubeconfig given as text; text that does not parse is redacted line by line."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    if looks_like_kubeconfig(data):
        return redact_secret_lines(yaml.safe_dump(redact_kubeconfig(data), sort_keys=False, default_flow_style=False))
    return redact_secret_lines(text)


def redact_config_text(text: str) -> str:
    """Redact credentials inside a ConfigMap value or a node config file.

    Kubeconfig-shaped YAML is redacted structurally; anything else only loses the values of
    credential-looking keys, and its formatting is kept.
    """
    if any(marker in text for marker in ("users:", "client-key-data", "token", "password", "secret")):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            data = None
        if looks_like_kubeconfig(data):
            return redact_kubeconfig_text(text)
    return redact_secret_lines(text)


def certificates_only(pem: str) -> str:
    """Only the ``CERTIFICATE`` blocks of a PEM bundle; keys and anything else are dropped."""
    blocks = [m.group(0).strip() + "\n" for m in _PEM_BLOCK.finditer(pem) if m.group("label") == "CERTIFICATE"]
    return "".join(blocks)


def sanitize_object(obj: dict) -> dict | None:
    """The object as it may be written to a snapshot, or None if it must not be written.

    Secrets lose ``data``/``stringData`` and their last-applied annotation (which repeats
    the data); ConfigMap values (and their last-applied copy) lose kubeconfig credentials.
    Everything else, including ``managedFields`` and last-applied evidence, is kept intact:
    the engine judges which apiVersion manages an object from it.
    """
    kind = obj.get("kind")
    if kind == "Secret":
        result = {k: v for k, v in obj.items() if k not in ("data", "stringData")}
        meta = dict(result.get("metadata") or {})
        annotations = dict(meta.get("annotations") or {})
        annotations.pop(LAST_APPLIED, None)
        if annotations:
            meta["annotations"] = annotations
        else:
            meta.pop("annotations", None)
        result["metadata"] = meta
        return result
    if kind == "ConfigMap":
        result = dict(obj)
        if isinstance(obj.get("data"), dict):
            result["data"] = {k: redact_config_text(v) if isinstance(v, str) else v for k, v in obj["data"].items()}
        meta = obj.get("metadata") or {}
        annotations = meta.get("annotations") or {}
        if isinstance(annotations.get(LAST_APPLIED), str):
            try:
                applied = json.loads(annotations[LAST_APPLIED])
            except ValueError:
                applied = None
            if isinstance(applied, dict):
                cleaned = sanitize_object(dict(applied, kind="ConfigMap")) or {}
                new_value = json.dumps(cleaned, separators=(",", ":")) + "\n"
            else:
                new_value = redact_secret_lines(annotations[LAST_APPLIED])
            result["metadata"] = dict(meta, annotations=dict(annotations, **{LAST_APPLIED: new_value}))
        return result
    return obj


def sanitize_manifest(text: str) -> str:
    """A rendered multi-document manifest with every Secret document's data removed.

    Documents that are not Secrets keep their original text (and so their ``# Source:``
    comments and line numbers).
    """
    out: list[str] = []
    for doc in re.split(r"(?m)^---[ \t]*$", text):
        try:
            data = yaml.safe_load(doc)
        except yaml.YAMLError:
            out.append(redact_secret_lines(doc) if not PRIVATE_KEY_MARKER.search(doc) else "\n# (unparseable document removed)\n")
            continue
        if isinstance(data, dict) and data.get("kind") in ("Secret", "ConfigMap"):
            cleaned = sanitize_object(data)
            comments = "".join(line + "\n" for line in doc.splitlines() if line.startswith("#"))
            out.append("\n" + comments + yaml.safe_dump(cleaned, sort_keys=False, default_flow_style=False))
        elif PRIVATE_KEY_MARKER.search(doc):
            out.append("\n# (document holding a private key removed)\n")
        else:
            out.append(doc)
    return "---".join(out)
