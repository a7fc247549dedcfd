"""Admission webhooks whose serving certificate relies on the legacy Common Name (no SAN)."""

from __future__ import annotations

from typing import Iterable
from urllib.parse import urlsplit

from kupgrade_lint.catalog import Rule
from kupgrade_lint.checks import Candidate, CheckContext, check
from kupgrade_lint.parsers.x509 import CertificateError, parse_pem_chain

WEBHOOK_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


def webhook_endpoint(client_config: dict) -> tuple[str, int] | None:
    """(host, port) the apiserver connects to for a webhook's clientConfig."""
    service = client_config.get("service")
    if isinstance(service, dict) and service.get("name"):
        return f"{service['name']}.{service.get('namespace', 'default')}.svc", int(service.get("port") or 443)
    url = client_config.get("url")
    if isinstance(url, str) and url:
        parts = urlsplit(url)
        if parts.hostname:
            return parts.hostname, parts.port or 443
    return None


@check("webhook_certificate_san")
def webhook_certificate_san(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Each webhook's captured serving certificate must carry a subjectAltName for its host."""
    until = f" GODEBUG=x509ignoreCN=0 on kube-apiserver works around it only until {rule.until}." if rule.until else ""
    for obj in ctx.snapshot.of_kind(*WEBHOOK_KINDS):
        for i, hook in enumerate(obj.data.get("webhooks") or []):
            if not isinstance(hook, dict):
                continue
            endpoint = webhook_endpoint(hook.get("clientConfig") or {})
            if endpoint is None:
                continue
            host, port = endpoint
            captured = ctx.snapshot.tls.get(f"{host}_{port}")
            where = obj.location("webhooks", i, "clientConfig", field_path=f"webhooks[{i}].clientConfig")
            if captured is None:
                yield Candidate(
                    None,
                    f"serving certificate of webhook {hook.get('name')} ({host}:{port}) is not in the snapshot (tls/{host}_{port}.pem); its SANs were not checked",
                    where,
                )
                continue
            file, pem = captured
            try:
                leaf = parse_pem_chain(pem)[0]
            except CertificateError as exc:
                yield Candidate(None, f"{file}: cannot read the certificate: {exc}", where)
                continue
            if leaf.has_san:
                continue
            yield Candidate(
                rule.breaks_in,
                f"webhook {hook.get('name')} serves a certificate ({file}) with only a Common Name ({leaf.common_name}) and no subjectAltName; "
                f"kube-apiserver {rule.breaks_in} rejects it (x509: certificate relies on legacy Common Name field)",
                where,
                remediation=rule.remediation + until,
            )
