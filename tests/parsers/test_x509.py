"""The subjectAltName facts of serving certificates, read from PEM."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kupgrade_lint.parsers.x509 import CertificateError, parse_ca_bundle, parse_der, parse_pem_chain

_KEY = ec.generate_private_key(ec.SECP256R1())
_START = datetime.datetime(2020, 3, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


def make_pem(cn: str | None, sans: list[x509.GeneralName] | None = None, not_after: datetime.datetime | None = None) -> str:
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "example")] + ([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else []))
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-ca")]))
        .public_key(_KEY.public_key())
        .serial_number(1234)
        .not_valid_before(_START)
        .not_valid_after(not_after or datetime.datetime(2030, 3, 1, 12, 0, 0, tzinfo=datetime.timezone.utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if sans is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(_KEY, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def test_common_name_only() -> None:
    (cert,) = parse_pem_chain(make_pem("x.kube-system.svc"))
    assert cert.common_name == "x.kube-system.svc"
    assert cert.dns_names == () and cert.ip_addresses == ()
    assert not cert.has_san
    assert cert.not_before == "2020-03-01T12:00:00Z"
    assert cert.not_after == "2030-03-01T12:00:00Z"


def test_dns_subject_alt_names() -> None:
    (cert,) = parse_pem_chain(make_pem("x", [x509.DNSName("x.kube-system.svc"), x509.DNSName("x.kube-system.svc.cluster.local")]))
    assert cert.dns_names == ("x.kube-system.svc", "x.kube-system.svc.cluster.local")
    assert cert.has_san


def test_ip_subject_alt_names_v4_and_v6() -> None:
    sans = [x509.IPAddress(ipaddress.ip_address("10.40.34.50")), x509.IPAddress(ipaddress.ip_address("fd00::1"))]
    (cert,) = parse_pem_chain(make_pem(None, sans))
    assert cert.common_name is None
    assert cert.ip_addresses == ("10.40.34.50", "fd00::1")
    assert cert.has_san


def test_generalized_time_after_2049() -> None:
    (cert,) = parse_pem_chain(make_pem("far", not_after=datetime.datetime(2055, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)))
    assert cert.not_after == "2055-01-02T03:04:05Z"


def test_chain_is_leaf_first() -> None:
    bundle = make_pem("leaf.example.com") + "\n" + make_pem("intermediate", [x509.DNSName("ca.example.com")])
    leaf, intermediate = parse_pem_chain(bundle)
    assert (leaf.common_name, leaf.has_san) == ("leaf.example.com", False)
    assert intermediate.dns_names == ("ca.example.com",)


def test_der_directly() -> None:
    pem = make_pem("der.example.com", [x509.DNSName("der.example.com")])
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
    assert parse_der(der).dns_names == ("der.example.com",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no PEM CERTIFICATE block"),
        ("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", "no PEM CERTIFICATE block"),
        ("-----BEGIN CERTIFICATE-----\n!!!notbase64!!!\n-----END CERTIFICATE-----\n", "bad base64"),
        ("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n", "not a readable X.509 certificate"),
        ("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n", "not a readable X.509 certificate"),
        ("x" * (1 << 20 | 1), "larger than"),
    ],
)
def test_garbage_raises_certificate_error(text: str, message: str) -> None:
    with pytest.raises(CertificateError, match=message):
        parse_pem_chain(text)


def test_truncated_certificate() -> None:
    pem = make_pem("x", [x509.DNSName("x")])
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
    with pytest.raises(CertificateError):
        parse_der(der[: len(der) // 2])


def test_signature_hash_and_basic_constraints() -> None:
    (cert,) = parse_pem_chain(make_pem("x", [x509.DNSName("x")]))
    assert cert.signature_hash == "sha256"
    assert cert.is_ca is False
    assert cert.subject == "CN=x,O=example" and cert.issuer == "CN=test-ca"


def test_wildcard_and_ip_coverage() -> None:
    (cert,) = parse_pem_chain(make_pem("x", [x509.DNSName("*.ns.svc"), x509.IPAddress(ipaddress.ip_address("10.0.0.1"))]))
    assert cert.covers("hook.ns.svc") and cert.covers("HOOK.ns.svc.")
    assert not cert.covers("a.hook.ns.svc") and not cert.covers("ns.svc")
    assert cert.covers("10.0.0.1") and not cert.covers("10.0.0.2")


def test_issued_verifies_the_signature() -> None:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-ca")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(1).not_valid_before(_START).not_valid_after(_START + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    (ca_cert,) = parse_pem_chain(ca.public_bytes(serialization.Encoding.PEM).decode())
    # make_pem names "test-ca" as issuer but is signed by another key: the name matches, the signature does not.
    (forged,) = parse_pem_chain(make_pem("leaf"))
    assert ca_cert.is_ca and ca_cert.self_issued
    assert not ca_cert.issued(forged)
    leaf = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf")])).issuer_name(ca_name)
        .public_key(_KEY.public_key()).serial_number(2).not_valid_before(_START).not_valid_after(_START + datetime.timedelta(days=30))
        .sign(ca_key, hashes.SHA256())
    )
    (real,) = parse_pem_chain(leaf.public_bytes(serialization.Encoding.PEM).decode())
    assert ca_cert.issued(real)


def test_ca_bundle_is_base64_of_pem() -> None:
    import base64

    pem = make_pem("x", [x509.DNSName("x")])
    (cert,) = parse_ca_bundle(base64.b64encode(pem.encode()).decode())
    assert cert.dns_names == ("x",)
    with pytest.raises(CertificateError, match="not base64"):
        parse_ca_bundle("%%%")
