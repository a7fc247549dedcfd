"""Real TLS servers on loopback present generated certificates; the collector's handshake and the checks judge them."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import ssl
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kupgrade_lint.catalog import load_catalog
from kupgrade_lint.collectors.tlscerts import fetch_presented_chain
from kupgrade_lint.engine import ScanRequest, scan
from kupgrade_lint.snapshot.loader import load_inputs
from kupgrade_lint.versions import KubeVersion

from .fakeapi import TLSEndpoint

NOW = datetime.datetime.now(datetime.timezone.utc)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(key, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def _ca(tmp: Path, name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name)).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp / f"{name}.crt", tmp / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, key_file)
    return cert, key, cert_file, key_file


def _leaf(tmp: Path, mode: str, ca) -> tuple[Path, Path]:
    """A serving certificate for 127.0.0.1 issued by ``ca``; ``mode`` picks what is wrong with it."""
    cert_file, key_file = tmp / f"{mode}.crt", tmp / f"{mode}.key"
    if mode == "sha1":  # cryptography refuses to sign with SHA-1; openssl still can
        ca_cert, ca_key, ca_file, ca_key_file = ca
        (tmp / "ext").write_text("subjectAltName=IP:127.0.0.1\n")
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key_file), "-out", str(tmp / "csr"), "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", str(tmp / "csr"), "-CA", str(ca_file), "-CAkey", str(ca_key_file), "-CAcreateserial", "-out", str(cert_file), "-sha1", "-days", "365", "-extfile", str(tmp / "ext")], check=True, capture_output=True)
        return cert_file, key_file
    ca_cert, ca_key = ca[0], ca[1]
    key = ec.generate_private_key(ec.SECP256R1())
    start, end = NOW - datetime.timedelta(days=1), NOW + datetime.timedelta(days=365)
    if mode == "expired":
        start, end = NOW - datetime.timedelta(days=400), NOW - datetime.timedelta(days=2)
    builder = (
        x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
    )
    if mode in ("san", "expired"):
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    elif mode == "wrong-san":
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName("elsewhere.example.com")]), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, key_file)
    return cert_file, key_file


class _WeakEndpoint(TLSEndpoint):
    """The test server must be able to serve SHA-1 certificates, which OpenSSL's default level refuses."""

    def __init__(self, cert_file: Path, key_file: Path):
        original = ssl.SSLContext.load_cert_chain

        def permissive(self, *args, **kwargs):
            self.set_ciphers("DEFAULT:@SECLEVEL=0")
            return original(self, *args, **kwargs)

        ssl.SSLContext.load_cert_chain = permissive
        try:
            super().__init__(cert_file, key_file)
        finally:
            ssl.SSLContext.load_cert_chain = original


WEBHOOK = """apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: hook
webhooks:
- clientConfig:
    caBundle: {bundle}
    url: https://127.0.0.1:{port}/validate
  name: hook.example.com
  sideEffects: None
  admissionReviewVersions: ["v1"]
"""


@pytest.mark.parametrize(
    ("mode", "trusted_ca", "rule", "hop", "text"),
    [
        ("cn-only", "issuer", "KUP030", "1.19", "with only a Common Name (127.0.0.1) and no subjectAltName"),
        ("wrong-san", "issuer", "KUP033", "1.19", "names only elsewhere.example.com"),
        ("sha1", "issuer", "KUP034", "1.24", "is signed with SHA-1"),
        ("expired", "issuer", "KUP035", "1.19", "expired on"),
        ("san", "other", "KUP036", "1.19", "does not verify the certificate its endpoint presents"),
        ("san", "issuer", None, None, None),
    ],
)
def test_presented_certificate_is_judged(tmp_path: Path, mode: str, trusted_ca: str, rule: str | None, hop: str | None, text: str | None) -> None:
    issuer = _ca(tmp_path, "issuer")
    other = _ca(tmp_path, "other")
    cert_file, key_file = _leaf(tmp_path, mode, issuer)
    with _WeakEndpoint(cert_file, key_file) as endpoint:
        pem = fetch_presented_chain("127.0.0.1", endpoint.port, timeout=5)
    assert "PRIVATE KEY" not in pem
    snap = tmp_path / "snap"
    (snap / "cluster").mkdir(parents=True)
    (snap / "tls").mkdir()
    (snap / "registry").mkdir()
    bundle_cert = (issuer if trusted_ca == "issuer" else other)[0]
    bundle = base64.b64encode(bundle_cert.public_bytes(serialization.Encoding.PEM)).decode()
    (snap / "cluster" / "hook.yaml").write_text(WEBHOOK.format(bundle=bundle, port=endpoint.port))
    (snap / "tls" / f"127.0.0.1_{endpoint.port}.pem").write_text(pem)
    report = scan(load_inputs(snap, []), load_catalog(), ScanRequest(target=KubeVersion.parse("v1.24.17"), current=KubeVersion.parse("v1.18.20")))
    certificate_findings = [f for f in report.findings if f.category == "certificate"]
    if rule is None:
        assert certificate_findings == []
        return
    assert [(f.rule_id, f.hop) for f in certificate_findings] == [(rule, hop)], [f.message for f in certificate_findings]
    assert text in certificate_findings[0].message


def test_the_collector_finds_endpoints_of_conversion_webhooks_and_aggregated_apis() -> None:
    from kupgrade_lint.collectors.tlscerts import webhook_endpoints

    objects = [
        {"kind": "CustomResourceDefinition", "metadata": {"name": "widgets.example.com"},
         "spec": {"conversion": {"strategy": "Webhook", "webhook": {"clientConfig": {"service": {"name": "conv", "namespace": "w", "port": 8443}}}}}},
        {"kind": "CustomResourceDefinition", "metadata": {"name": "old.example.com"},
         "spec": {"conversion": {"strategy": "Webhook", "webhookClientConfig": {"url": "https://conv.example.com:9443/convert"}}}},
        {"kind": "CustomResourceDefinition", "metadata": {"name": "none.example.com"}, "spec": {"conversion": {"strategy": "None"}}},
        {"kind": "APIService", "metadata": {"name": "v1beta1.metrics.k8s.io"}, "spec": {"service": {"name": "metrics-server", "namespace": "kube-system"}}},
        {"kind": "APIService", "metadata": {"name": "v1.skip"}, "spec": {"insecureSkipTLSVerify": True, "service": {"name": "s", "namespace": "n"}}},
        {"kind": "ValidatingWebhookConfiguration", "metadata": {"name": "v"}, "webhooks": [5, {"name": "bad-port", "clientConfig": {"url": "https://h:99999/"}}]},
    ]
    assert [(e.webhook, e.host, e.port) for e in webhook_endpoints(objects)] == [
        ("CustomResourceDefinition/old.example.com/conversion", "conv.example.com", 9443),
        ("CustomResourceDefinition/widgets.example.com/conversion", "conv.w.svc", 8443),
        ("APIService/v1beta1.metrics.k8s.io", "metrics-server.kube-system.svc", 443),
    ]
