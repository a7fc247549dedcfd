"""Serving certificates of admission and conversion webhooks and aggregated APIs, written as ``tls/<host>_<port>.pem``.

An upgrade can break webhooks through their certificates: since Kubernetes 1.19 (Go 1.15) a
serving certificate without a subjectAltName is rejected
(https://github.com/kubernetes/kubernetes/pull/93258). So the engine needs the certificate each
webhook presents.

- ``clientConfig.url`` webhooks: a real TLS handshake, keeping the presented chain.
- ``clientConfig.service`` webhooks: the apiserver's service proxy does not show the TLS
  layer, so we read the certificate from the TLS Secret mounted by the pods behind the
  Service, keeping only ``tls.crt`` and ``ca.crt`` certificate blocks (never a key).
"""

from __future__ import annotations

import base64
import binascii
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from kupgrade_lint.collectors.redact import certificates_only


@dataclass(frozen=True)
class WebhookEndpoint:
    """Where one webhook is served: by URL or by a Service (namespace/name:port)."""

    webhook: str  # "<kind>/<configuration name>/<webhook name>"
    host: str
    port: int
    url: str | None = None
    service_namespace: str | None = None
    service_name: str | None = None

    @property
    def file_stem(self) -> str:
        return f"{self.host}_{self.port}"


def _client_configs(obj: dict) -> list[tuple[str, dict]]:
    """(label, clientConfig) of every endpoint an object makes the apiserver call."""
    kind = str(obj.get("kind", "WebhookConfiguration"))
    name = str((obj.get("metadata") or {}).get("name", ""))
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    if kind == "CustomResourceDefinition":
        conversion = spec.get("conversion") if isinstance(spec.get("conversion"), dict) else {}
        if conversion.get("strategy") != "Webhook":
            return []
        webhook = conversion.get("webhook") if isinstance(conversion.get("webhook"), dict) else {}
        client = webhook.get("clientConfig") or conversion.get("webhookClientConfig")  # apiextensions v1 / v1beta1
        return [(f"{kind}/{name}/conversion", client)] if isinstance(client, dict) else []
    if kind == "APIService":
        service = spec.get("service")
        if not isinstance(service, dict) or spec.get("insecureSkipTLSVerify") is True:
            return []
        return [(f"{kind}/{name}", {"service": service})]
    hooks = obj.get("webhooks") if isinstance(obj.get("webhooks"), list) else []
    return [(f"{kind}/{name}/{h.get('name', '')}", h.get("clientConfig")) for h in hooks if isinstance(h, dict) and isinstance(h.get("clientConfig"), dict)]


def webhook_endpoints(objects: list[dict]) -> list[WebhookEndpoint]:
    """Every distinct TLS endpoint of admission webhooks, CRD conversion webhooks and aggregated APIs."""
    endpoints: dict[str, WebhookEndpoint] = {}
    for obj in objects:
        for label, client in _client_configs(obj):
            if client.get("url"):
                try:
                    parts = urlsplit(str(client["url"]))
                    port = parts.port or 443
                except ValueError:
                    continue
                if not parts.hostname:
                    continue
                ep = WebhookEndpoint(label, parts.hostname, port, url=str(client["url"]))
            elif isinstance(client.get("service"), dict):
                svc = client["service"]
                ns, name = str(svc.get("namespace", "")), str(svc.get("name", ""))
                try:
                    port = int(svc.get("port") or 443)
                except (TypeError, ValueError):
                    continue
                # The apiserver calls https://<name>.<namespace>.svc:<port>, port 443 by default
                # (https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#service-reference).
                ep = WebhookEndpoint(label, f"{name}.{ns}.svc", port, service_namespace=ns, service_name=name)
            else:
                continue
            endpoints.setdefault(ep.file_stem, ep)
    return sorted(endpoints.values(), key=lambda e: e.file_stem)


def fetch_presented_chain(host: str, port: int, timeout: float) -> str:
    """PEM of the certificate chain a TLS server presents (verification off: we only look)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    server_name = None if _is_ip(host) else host
    with socket.create_connection((host, port), timeout=timeout) as sock:
        with context.wrap_socket(sock, server_hostname=server_name) as tls:
            chain = getattr(tls._sslobj, "get_unverified_chain", None)  # Python 3.13+
            ders: list[bytes] = []
            if chain is not None:
                try:
                    ders = [c.public_bytes(ssl.ENCODING_DER) for c in chain() or []]
                except (AttributeError, ssl.SSLError, ValueError):
                    ders = []
            if not ders:
                leaf = tls.getpeercert(binary_form=True)
                ders = [leaf] if leaf else []
    if not ders:
        raise ssl.SSLError("the server presented no certificate")
    return "".join(ssl.DER_cert_to_PEM_cert(d) for d in ders)


def _is_ip(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
        return True
    except OSError:
        return False


def mounted_secret_names(pod: dict) -> list[str]:
    """Names of Secrets a pod mounts as volumes (plain or projected)."""
    names: list[str] = []
    for vol in (pod.get("spec") or {}).get("volumes") or []:
        secret = vol.get("secret")
        if isinstance(secret, dict) and secret.get("secretName"):
            names.append(str(secret["secretName"]))
        for source in (vol.get("projected") or {}).get("sources") or []:
            ref = source.get("secret") if isinstance(source, dict) else None
            if isinstance(ref, dict) and ref.get("name"):
                names.append(str(ref["name"]))
    return list(dict.fromkeys(names))


def pods_behind_service(service: dict, pods: list[dict]) -> list[dict]:
    """Pods in the Service's namespace that its selector matches."""
    selector = (service.get("spec") or {}).get("selector") or {}
    if not selector:
        return []
    namespace = (service.get("metadata") or {}).get("namespace")
    matched = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        labels = meta.get("labels") or {}
        if meta.get("namespace") == namespace and all(labels.get(k) == v for k, v in selector.items()):
            matched.append(pod)
    return matched


def public_certificates_from_secret(secret: dict) -> str:
    """PEM of the ``tls.crt`` then ``ca.crt`` certificates of a Secret; '' if it has none."""
    data = secret.get("data") or {}
    pem = ""
    for key in ("tls.crt", "ca.crt"):
        value = data.get(key)
        if not isinstance(value, str):
            continue
        try:
            text = base64.b64decode(value).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            continue
        pem += certificates_only(text)
    return pem
