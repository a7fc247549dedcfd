"""Serving certificates of the endpoints kube-apiserver calls: admission and conversion webhooks, aggregated APIs.

For each endpoint the certificate it serves is taken from, best first: the chain captured from
the endpoint (``tls/<host>_<port>.pem``, written by the collector from a TLS handshake or from
the Secret its pods mount), or the ``caBundle`` when that holds one self-signed certificate that
is not a CA (it then *is* the serving certificate). Every verdict names the source it rests on;
an endpoint whose certificate could not be found is reported as not checked.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Iterable, Iterator
from urllib.parse import urlsplit

from kupgrade_lint.catalog import Rule
from kupgrade_lint.checks import Candidate, CheckContext, check
from kupgrade_lint.findings import Location, Severity
from kupgrade_lint.parsers.x509 import Certificate, CertificateError, parse_ca_bundle, parse_pem_chain
from kupgrade_lint.snapshot.model import KubeObject

WEBHOOK_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


def webhook_endpoint(client_config: dict) -> tuple[str, int] | None:
    """(host, port) the apiserver connects to for a webhook's clientConfig."""
    service = client_config.get("service")
    if isinstance(service, dict) and service.get("name"):
        # https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#service-reference
        return f"{service['name']}.{service.get('namespace', 'default')}.svc", _port(service.get("port"), 443)
    url = client_config.get("url")
    if isinstance(url, str) and url:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return None
        if parts.hostname:
            return parts.hostname, port or 443
    return None


def _port(value: object, default: int) -> int:
    try:
        port = int(value) if value not in (None, "") else default  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return port if 0 < port < 65536 else default


@dataclass(frozen=True)
class ServingEndpoint:
    """One TLS endpoint the apiserver calls, and what it trusts for it."""

    what: str  # e.g. "webhook mutate-deploy.x.com", "APIService v1beta1.metrics.k8s.io"
    host: str
    port: int
    ca_bundle: str | None
    location: Location

    @property
    def stem(self) -> str:
        return f"{self.host}_{self.port}"


def serving_endpoints(ctx: CheckContext) -> Iterator[ServingEndpoint | Candidate]:
    """Every webhook, conversion webhook and aggregated API the snapshot declares."""
    snap = ctx.snapshot
    for obj in snap.of_kind(*WEBHOOK_KINDS):
        hooks = obj.data.get("webhooks")
        for i, hook in enumerate(hooks if isinstance(hooks, list) else []):
            if not isinstance(hook, dict) or not isinstance(hook.get("clientConfig"), dict):
                continue
            yield from _endpoint(f"webhook {hook.get('name')}", hook["clientConfig"], obj, ("webhooks", i, "clientConfig"))
    for obj in snap.of_kind("CustomResourceDefinition"):
        conversion = (obj.data.get("spec") or {}).get("conversion")
        if not isinstance(conversion, dict) or conversion.get("strategy") != "Webhook":
            continue
        # apiextensions v1: spec.conversion.webhook.clientConfig; v1beta1: spec.conversion.webhookClientConfig
        webhook = conversion.get("webhook")
        if isinstance(webhook, dict) and isinstance(webhook.get("clientConfig"), dict):
            yield from _endpoint(f"conversion webhook of CRD {obj.name}", webhook["clientConfig"], obj, ("spec", "conversion", "webhook", "clientConfig"))
        elif isinstance(conversion.get("webhookClientConfig"), dict):
            yield from _endpoint(f"conversion webhook of CRD {obj.name}", conversion["webhookClientConfig"], obj, ("spec", "conversion", "webhookClientConfig"))
    for obj in snap.of_kind("APIService"):
        spec = obj.data.get("spec")
        if not isinstance(spec, dict) or not isinstance(spec.get("service"), dict) or spec.get("insecureSkipTLSVerify") is True:
            continue
        svc = spec["service"]
        # The aggregator dials <service>.<namespace>.svc, port 443 unless spec.service.port says otherwise.
        host = f"{svc.get('name')}.{svc.get('namespace', 'default')}.svc"
        bundle = spec.get("caBundle") if isinstance(spec.get("caBundle"), str) else None
        yield ServingEndpoint(f"APIService {obj.name}", host, _port(svc.get("port"), 443), bundle, obj.location("spec", "service", field_path="spec.service"))


def _endpoint(what: str, client: dict, obj: KubeObject, path: tuple) -> Iterator[ServingEndpoint | Candidate]:
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    endpoint = webhook_endpoint(client)
    if endpoint is None:
        if client.get("url") or client.get("service"):
            yield Candidate(None, f"{what}: {field} names no endpoint kupgrade-lint can read (a URL without a host or with a port out of range?); its certificate was not checked", obj.location(*path, field_path=field))
        return
    bundle = client.get("caBundle") if isinstance(client.get("caBundle"), str) else None
    yield ServingEndpoint(what, endpoint[0], endpoint[1], bundle, obj.location(*path, field_path=field))


@dataclass(frozen=True)
class ServedChain:
    """The chain an endpoint serves, where it was read, and the certificates its caBundle trusts."""

    chain: tuple[Certificate, ...]
    source: str
    trusted: tuple[Certificate, ...] | None  # None: no caBundle (system roots) or an unreadable one


@dataclass(frozen=True)
class _Resolution:
    served: ServedChain | None
    problem: str | None


# The five certificate rules judge the same endpoints: each PEM text is parsed once per scan.
def _parse_ca_bundle(text: str) -> tuple[tuple[Certificate, ...] | None, CertificateError | None]:
    try:
        return tuple(parse_ca_bundle(text)), None
    except CertificateError as exc:
        return None, exc


def _parse_pem_chain(text: str) -> tuple[tuple[Certificate, ...] | None, CertificateError | None]:
    try:
        return tuple(parse_pem_chain(text)), None
    except CertificateError as exc:
        return None, exc


def _resolve(ctx: CheckContext, ep: ServingEndpoint) -> _Resolution:
    """Find the chain an endpoint serves, best source first; say why when there is none."""
    trusted: tuple[Certificate, ...] | None = None
    bundle_problem = None
    if ep.ca_bundle:
        trusted, error = ctx.memo("ca-bundles").get_or(ep.ca_bundle, _parse_ca_bundle)
        if error is not None:
            bundle_problem = f"its caBundle cannot be read ({error})"
    captured = ctx.snapshot.tls.get(ep.stem)
    if captured is not None:
        file, pem = captured
        chain, error = ctx.memo("served-chains").get_or(pem, _parse_pem_chain)
        if error is not None:
            return _Resolution(None, f"{file}: cannot read the certificate: {error}")
        return _Resolution(ServedChain(chain, f"{file}, captured from the endpoint", trusted), bundle_problem)
    if trusted is not None and len(trusted) == 1 and trusted[0].self_issued and not trusted[0].is_ca:
        return _Resolution(ServedChain(trusted, "its caBundle: a self-signed certificate, so the serving certificate itself", trusted), None)
    why = bundle_problem or ("its caBundle holds a CA, not the serving certificate" if trusted else "it has no caBundle")
    return _Resolution(
        None,
        f"the serving certificate of {ep.what} ({ep.host}:{ep.port}) is not in the snapshot (tls/{ep.stem}.pem) and {why}; "
        "its subjectAltNames, signature algorithm and validity were not checked (collect with access to the endpoint or its TLS Secret)",
    )


@dataclass(frozen=True)
class _Judged:
    endpoint: ServingEndpoint
    served: ServedChain


def _judged(ctx: CheckContext, report_problems: bool) -> Iterator[_Judged | Candidate]:
    for ep in serving_endpoints(ctx):
        if isinstance(ep, Candidate):
            if report_problems:
                yield ep
            continue
        resolution = _resolve(ctx, ep)
        if resolution.problem and report_problems:
            yield Candidate(None, resolution.problem, ep.location)
        if resolution.served is not None:
            yield _Judged(ep, resolution.served)


def _endpoints_with_certificates(ctx: CheckContext) -> Iterator[_Judged]:
    for item in _judged(ctx, report_problems=False):
        if isinstance(item, _Judged):
            yield item


@check("webhook_certificate_san")
def webhook_certificate_san(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """The serving certificate must carry a subjectAltName (Go 1.15 ignores the Common Name).

    This check also reports, once per endpoint, the endpoints whose certificate could not be found.
    """
    escape = (
        f" Until the upgrade to {rule.until}, GODEBUG=x509ignoreCN=0 in kube-apiserver's environment works around it "
        "(on kubeadm set it through the ClusterConfiguration (apiServer.extraEnvs, v1beta4) or a kubeadm patch: "
        "a hand edit of the manifest is dropped by the next kubeadm upgrade); from "
        f"{rule.until} (Go 1.17) the setting is gone."
        if rule.until
        else ""
    )
    for item in _judged(ctx, report_problems=True):
        if isinstance(item, Candidate):
            yield item
            continue
        leaf = item.served.chain[0]
        if leaf.has_san:
            continue
        ep = item.endpoint
        yield Candidate(
            rule.breaks_in,
            f"{ep.what} ({ep.host}:{ep.port}) serves a certificate ({item.served.source}) with only a Common Name ({leaf.common_name}) "
            f"and no subjectAltName; kube-apiserver {rule.breaks_in} rejects it "
            "(x509: certificate relies on legacy Common Name field)",
            ep.location,
            remediation=rule.remediation + escape,
        )


@check("serving_certificate_name_mismatch")
def serving_certificate_name_mismatch(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """SANs that do not name the host the apiserver dials: the call fails now and after the upgrade."""
    for item in _endpoints_with_certificates(ctx):
        leaf = item.served.chain[0]
        ep = item.endpoint
        if not leaf.has_san or leaf.covers(ep.host):
            continue
        names = ", ".join(leaf.dns_names + leaf.ip_addresses)
        yield Candidate(
            ctx.hops[0].minor,
            f"{ep.what} is called at {ep.host}:{ep.port}, but its serving certificate ({item.served.source}) names only {names}; "
            "kube-apiserver rejects the connection (x509: certificate is valid for ..., not " + ep.host + ")",
            ep.location,
        )


def _signed_links(served: ServedChain) -> list[Certificate]:
    """The certificates whose own signature Go verifies: all but the trust anchor the chain ends at."""
    trusted = served.trusted or ()
    checked: list[Certificate] = []
    for cert in served.chain:
        if any(_same(cert, t) for t in trusted):
            break  # a certificate in the roots pool ends the chain; its own signature is not checked
        if cert.self_issued:
            break  # a self-signed root presented by the server: Go does not check a root's signature
        checked.append(cert)
    return checked


def _same(a: Certificate, b: Certificate) -> bool:
    return a.raw is not None and b.raw is not None and a.raw == b.raw


@check("serving_certificate_sha_one")
def serving_certificate_sha_one(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """A SHA-1 signature on the leaf or an intermediate: rejected by kube-apiserver built with Go 1.18."""
    for item in _endpoints_with_certificates(ctx):
        ep = item.endpoint
        for cert in _signed_links(item.served):
            if cert.signature_hash != "sha1":
                continue
            role = "serving certificate" if cert is item.served.chain[0] else f"intermediate certificate {cert.subject}"
            yield Candidate(
                rule.breaks_in,
                f"the {role} of {ep.what} ({ep.host}:{ep.port}, read from {item.served.source}) is signed with SHA-1; "
                f"kube-apiserver {rule.breaks_in} (Go 1.18) rejects it (x509: cannot verify signature: insecure algorithm SHA1-RSA)",
                ep.location,
            )


@check("serving_certificate_validity")
def serving_certificate_validity(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Expired, not yet valid, or expiring within the window (``--cert-expiry-days``)."""
    now = ctx.options.now or datetime.datetime.now(datetime.timezone.utc)
    window = datetime.timedelta(days=ctx.options.cert_expiry_days)
    for item in _endpoints_with_certificates(ctx):
        ep = item.endpoint
        for cert in item.served.chain:
            role = "serving certificate" if cert is item.served.chain[0] else f"certificate {cert.subject} of its chain"
            where = f"the {role} of {ep.what} ({ep.host}:{ep.port}, read from {item.served.source})"
            if cert.not_after_time <= now:
                yield Candidate(ctx.hops[0].minor, f"{where} expired on {cert.not_after}; the apiserver rejects it", ep.location)
            elif cert.not_before_time > now:
                yield Candidate(ctx.hops[0].minor, f"{where} is not valid before {cert.not_before}; the apiserver rejects it until then", ep.location)
            elif cert.not_after_time <= now + window:
                yield Candidate(
                    ctx.hops[0].minor,
                    f"{where} expires on {cert.not_after}, within {ctx.options.cert_expiry_days} days: the upgrade may run into it",
                    ep.location,
                    severity=Severity.WARNING,
                )


@check("serving_certificate_untrusted")
def serving_certificate_untrusted(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """A caBundle that does not verify the chain the endpoint presents."""
    for item in _endpoints_with_certificates(ctx):
        trusted = item.served.trusted
        if not trusted:
            continue  # no caBundle: the apiserver uses its own trust roots, which the snapshot does not hold
        if _chains_to(item.served.chain, trusted):
            continue
        ep = item.endpoint
        yield Candidate(
            ctx.hops[0].minor,
            f"the caBundle of {ep.what} does not verify the certificate its endpoint presents ({ep.host}:{ep.port}, read from {item.served.source}); "
            "kube-apiserver rejects the connection (x509: certificate signed by unknown authority)",
            ep.location,
        )


def _chains_to(chain: tuple[Certificate, ...], trusted: tuple[Certificate, ...]) -> bool:
    """Whether the leaf reaches a trusted certificate through the presented intermediates."""
    current = chain[0]
    intermediates = list(chain[1:])
    for _ in range(len(chain) + 1):
        if any(_same(current, t) or t.issued(current) for t in trusted):
            return True
        parent = next((c for c in intermediates if c.issued(current)), None)
        if parent is None:
            return False
        intermediates.remove(parent)
        current = parent
    return False
