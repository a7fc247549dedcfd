"""X.509 certificates (RFC 5280) as the upgrade checks need them, read with ``cryptography``.

What an upgrade can break through a serving certificate: Go 1.15 stopped treating the Common
Name as a host name when a certificate has no SANs (https://go.dev/doc/go1.15#commonname), Go
1.18 stopped accepting SHA-1 signatures (https://go.dev/doc/go1.18#sha1), and validity and the
chain to the caBundle matter at every release. Only public certificates are read here; a PEM
``PRIVATE KEY`` block is never decoded.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from dataclasses import dataclass, field
from typing import Any

_PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)
# A PEM bundle larger than this is not a certificate bundle anyone serves; refuse it unread.
MAX_PEM_BYTES = 1 << 20
MAX_CERTIFICATES = 100


class CertificateError(ValueError):
    """The data is not a DER/PEM X.509 certificate that can be read."""


@dataclass(frozen=True)
class Certificate:
    """The facts of one certificate, and the decoded object for signature checks."""

    common_name: str | None
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    not_before: str
    not_after: str
    subject: str = ""
    issuer: str = ""
    signature_hash: str | None = None  # "sha1", "sha256", ... (None for Ed25519 and the like)
    is_ca: bool = False
    raw: Any = field(default=None, compare=False, repr=False)

    @property
    def has_san(self) -> bool:
        return bool(self.dns_names or self.ip_addresses)

    @property
    def not_before_time(self) -> datetime.datetime:
        return _parse_time(self.not_before)

    @property
    def not_after_time(self) -> datetime.datetime:
        return _parse_time(self.not_after)

    @property
    def self_issued(self) -> bool:
        return self.raw is not None and self.raw.subject == self.raw.issuer

    def issued(self, child: "Certificate") -> bool:
        """True when ``child`` names this certificate's subject as issuer and its signature verifies."""
        if self.raw is None or child.raw is None or child.raw.issuer != self.raw.subject:
            return False
        return _signature_verifies(self.raw, child.raw)

    def covers(self, host: str) -> bool:
        """Whether the SANs name ``host`` (RFC 6125 wildcards in the leftmost label only)."""
        host = host.lower().rstrip(".")
        if host in {ip.lower() for ip in self.ip_addresses}:
            return True
        for name in self.dns_names:
            name = name.lower().rstrip(".")
            if name == host:
                return True
            if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
                return True
        return False


def _signature_verifies(parent: Any, child: Any) -> bool:
    """Whether ``parent``'s key made ``child``'s signature, SHA-1 included.

    ``verify_directly_issued_by`` refuses SHA-1 ("Unsupported signature algorithm"), but a SHA-1
    chain must still be recognised as a chain so that its SHA-1 link can be reported; the
    RSA PKCS#1 v1.5 and ECDSA cases are then checked with the public key directly.
    """
    from cryptography.exceptions import InvalidSignature

    try:
        child.verify_directly_issued_by(parent)
        return True
    except ValueError:
        pass  # an algorithm that method does not take; try the key itself below
    except (InvalidSignature, TypeError):
        return False
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    key, algorithm = parent.public_key(), child.signature_hash_algorithm
    if algorithm is None:
        return False
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, ec.ECDSA(algorithm))
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _parse_time(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_der(der: bytes) -> Certificate:
    """Decode one DER certificate."""
    from cryptography import x509
    from cryptography.x509.oid import ExtensionOID, NameOID

    try:
        cert = x509.load_der_x509_certificate(der)
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        common_name = str(cns[0].value) if cns else None
        dns: tuple[str, ...] = ()
        ips: tuple[str, ...] = ()
        try:
            san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
            dns = tuple(str(n) for n in san.get_values_for_type(x509.DNSName))
            ips = tuple(str(n) for n in san.get_values_for_type(x509.IPAddress))
        except x509.ExtensionNotFound:
            pass
        try:
            is_ca = bool(cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value.ca)
        except x509.ExtensionNotFound:
            is_ca = False
        algorithm = cert.signature_hash_algorithm
        return Certificate(
            common_name=common_name,
            dns_names=dns,
            ip_addresses=ips,
            not_before=_iso(cert.not_valid_before_utc),
            not_after=_iso(cert.not_valid_after_utc),
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            signature_hash=algorithm.name if algorithm is not None else None,
            is_ca=is_ca,
            raw=cert,
        )
    except CertificateError:
        raise
    except Exception as exc:  # noqa: BLE001 - cryptography raises ValueError and others for malformed DER
        raise CertificateError(f"not a readable X.509 certificate ({type(exc).__name__})") from None


def parse_pem_chain(text: str) -> list[Certificate]:
    """Every certificate of a PEM bundle, in order (leaf first, as servers present them)."""
    if len(text) > MAX_PEM_BYTES:
        raise CertificateError(f"PEM bundle larger than {MAX_PEM_BYTES} bytes")
    blocks = _PEM_RE.findall(text)
    if not blocks:
        raise CertificateError("no PEM CERTIFICATE block")
    if len(blocks) > MAX_CERTIFICATES:
        raise CertificateError(f"more than {MAX_CERTIFICATES} certificates in one PEM bundle")
    certs = []
    for block in blocks:
        try:
            der = base64.b64decode("".join(block.split()), validate=True)
        except (binascii.Error, ValueError):
            raise CertificateError("bad base64 in a PEM CERTIFICATE block") from None
        certs.append(parse_der(der))
    return certs


def parse_ca_bundle(value: str) -> list[Certificate]:
    """The certificates of a webhook's or APIService's ``caBundle`` (base64 of PEM, as the API stores it)."""
    if len(value) > MAX_PEM_BYTES * 2:
        raise CertificateError("caBundle larger than the limit")
    try:
        text = base64.b64decode("".join(value.split()), validate=True).decode("ascii", "replace")
    except (binascii.Error, ValueError):
        raise CertificateError("caBundle is not base64") from None
    return parse_pem_chain(text)
