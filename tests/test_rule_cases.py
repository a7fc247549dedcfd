"""Run every rule's YAML cases (tests/rule_cases/KUP0NN.yaml) through the loader and the engine.

Each case is a tiny snapshot written into ``tmp_path``: ``files`` maps a snapshot-relative path
to its content, ``expect`` lists the findings of that file's rule, exactly (same number, each
expected item matched by a different finding). ``pytest -k KUP020`` runs one rule's cases.

Placeholders in file contents, replaced before the snapshot is written:
``{{cert:cn-only:HOST}}`` a self-signed PEM certificate with CN=HOST and no subjectAltName,
``{{cert:san:HOST}}`` CN=HOST and a DNS SAN for HOST, ``{{cert:san-ip:ADDR}}`` an IP SAN,
``{{cert:wrong-san:HOST}}`` a SAN for another host, ``{{cert:expired:HOST}}``,
``{{cert:expiring:HOST}}`` (valid for ten more days), ``{{cert:sha1:HOST}}`` (signed with SHA-1
by ``openssl``: cryptography refuses to), ``{{cert:leaf:HOST}}`` and ``{{cert:leaf-sha1:HOST}}``
(issued by the test CA), ``{{ca:test}}`` the test CA and ``{{ca:other}}`` an unrelated CA.
``b64:`` after the opening braces gives the base64 of the PEM, as a ``caBundle`` holds it.
The certificates are made when the tests run; no private key is ever stored in a snapshot.
A file content given as ``!!binary`` is written as raw bytes (e.g. to test non-UTF-8 input);
a mapping or list is written as JSON (registry ``tags.json``, ``kupgrade-snapshot.json``).
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import base64
import json
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kupgrade_lint.catalog import load_catalog
from kupgrade_lint.checks import ScanOptions
from kupgrade_lint.engine import ScanRequest, scan
from kupgrade_lint.findings import Finding
from kupgrade_lint.snapshot.loader import load_inputs
from kupgrade_lint.versions import KubeVersion

CASES_DIR = Path(__file__).parent / "rule_cases"
CASE_KEYS = {"description", "current", "target", "options", "files", "expect", "xfail"}
EXPECT_KEYS = {"hop", "line", "file", "node", "message_contains", "severity", "confidence", "kind", "name", "field"}
OPTION_KEYS = {"kubelet_strategy"}
_PLACEHOLDER = re.compile(r"\{\{(b64:)?(?:cert:(cn-only|san|san-ip|wrong-san|expired|expiring|sha1|leaf|leaf-sha1):([^}]+)|ca:(test|other))\}\}")


@functools.lru_cache(maxsize=None)
def _catalog():
    return load_catalog()


def _read_case_files() -> list[tuple[str, str, dict]]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(data, dict) and data.get("rule") == path.stem, f"{path.name}: needs `rule: {path.stem}` at the top"
        for name, case in data.items():
            if name == "rule":
                continue
            cases.append((path.stem, str(name), case))
    return cases


ALL_CASES = _read_case_files()


def _params():
    for rule_id, name, case in ALL_CASES:
        marks = []
        if isinstance(case, dict) and case.get("xfail"):
            marks.append(pytest.mark.xfail(strict=True, reason=str(case["xfail"])))
        yield pytest.param(rule_id, name, case, id=f"{rule_id}-{name}", marks=marks)


# -- certificates -------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


_EPOCH = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@functools.lru_cache(maxsize=None)
def _ca(name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"kupgrade-{name}-ca"))
        .issuer_name(_name(f"kupgrade-{name}-ca"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_EPOCH)
        .not_valid_after(_EPOCH + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _openssl_sha1(host: str, issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None) -> str:
    """A certificate signed with SHA-1, made by openssl (self-signed, or issued by ``issuer``)."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        subj, ext = f"/CN={host}", f"subjectAltName=DNS:{host}"
        if issuer is None:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(d / "k"), "-out", str(d / "c"), "-subj", subj, "-addext", ext, "-sha1", "-days", "3650"], check=True, capture_output=True)
        else:
            (d / "ca").write_text(_pem(issuer[0]))
            (d / "cakey").write_bytes(issuer[1].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            (d / "ext").write_text(ext + "\n")
            subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(d / "k"), "-out", str(d / "csr"), "-subj", subj], check=True, capture_output=True)
            subprocess.run(["openssl", "x509", "-req", "-in", str(d / "csr"), "-CA", str(d / "ca"), "-CAkey", str(d / "cakey"), "-CAcreateserial", "-out", str(d / "c"), "-sha1", "-days", "3650", "-extfile", str(d / "ext")], check=True, capture_output=True)
        return (d / "c").read_text()


@functools.lru_cache(maxsize=None)
def make_certificate(mode: str, host: str) -> str:
    """A serving certificate in PEM for ``host``; see the module docstring for the modes."""
    if mode == "sha1":
        return _openssl_sha1(host, None)
    if mode == "leaf-sha1":
        return _openssl_sha1(host, _ca("test"))
    key = _key()
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = _EPOCH, _EPOCH + datetime.timedelta(days=3650)
    if mode == "expired":
        start, end = now - datetime.timedelta(days=400), now - datetime.timedelta(days=35)
    elif mode == "expiring":
        start, end = now - datetime.timedelta(days=355), now + datetime.timedelta(days=10)
    issuer_cert, issuer_key = _ca("test") if mode == "leaf" else (None, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(issuer_cert.subject if issuer_cert is not None else _name(host))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
    )
    if mode in ("san", "leaf", "expired", "expiring"):
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
    elif mode == "san-ip":
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
    elif mode == "wrong-san":
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName("other.example.com")]), critical=False)
    return _pem(builder.sign(issuer_key, hashes.SHA256()))


def _placeholder(match: re.Match) -> str:
    b64, mode, host, ca = match.groups()
    pem = _pem(_ca(ca)[0]) if ca else make_certificate(mode, host)
    return base64.b64encode(pem.encode("ascii")).decode("ascii") if b64 else pem


def _render(content: Any) -> bytes:
    if isinstance(content, bytes):
        return content
    if isinstance(content, (dict, list)):
        return json.dumps(content, indent=2).encode("utf-8")
    assert isinstance(content, str), f"file content must be a string, a mapping, a list or !!binary, not {type(content).__name__}"
    return _PLACEHOLDER.sub(_placeholder, content).encode("utf-8")


# -- matching ---------------------------------------------------------------------------------
def _matches(expected: dict, finding: Finding) -> bool:
    loc = finding.location
    actual = {
        "hop": finding.hop,
        "line": loc.line,
        "file": loc.file,
        "node": loc.node,
        "severity": finding.severity.value,
        "confidence": finding.confidence,
        "kind": loc.kind,
        "name": loc.name,
        "field": loc.field,
    }
    for key, want in expected.items():
        if key == "message_contains":
            if str(want) not in finding.message:
                return False
        elif actual[key] != want:
            return False
    return True


def _assign(expected: list[dict], findings: list[Finding]) -> bool:
    """True when each expected item matches a different finding (small backtracking search)."""

    def search(i: int, used: frozenset[int]) -> bool:
        if i == len(expected):
            return True
        return any(search(i + 1, used | {j}) for j, f in enumerate(findings) if j not in used and _matches(expected[i], f))

    return search(0, frozenset())


def _show(findings: list[Finding]) -> str:
    return "\n".join(
        f"  - hop={f.hop!r} file={f.location.file!r} line={f.location.line} node={f.location.node!r} "
        f"severity={f.severity.value} confidence={f.confidence!r}\n    {f.message}"
        for f in findings
    ) or "  (none)"


def _validate(case: dict) -> None:
    assert isinstance(case, dict), "a case is a mapping"
    assert set(case) <= CASE_KEYS, f"unknown case keys: {sorted(set(case) - CASE_KEYS)}"
    assert "target" in case and "files" in case and "expect" in case, "a case needs target, files and expect"
    assert set(case.get("options") or {}) <= OPTION_KEYS, f"unknown options: {case.get('options')}"
    for item in case["expect"]:
        assert set(item) <= EXPECT_KEYS, f"unknown expect keys: {sorted(set(item) - EXPECT_KEYS)}"
        assert "hop" in item, "every expected finding names its hop (null for KUP090)"
        assert item["hop"] is None or isinstance(item["hop"], str), f"quote the hop ('1.20', not 1.20): {item['hop']!r}"


def write_snapshot(root: Path, files: dict) -> None:
    """Write a case's files below ``root``."""
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_render(content))


def run_case(tmp_path: Path, rule_id: str, case: dict) -> list[Finding]:
    """Write the case's snapshot, scan it and return the findings of ``rule_id``."""
    snapshot_dir = tmp_path / "snapshot"
    snapshot_dir.mkdir()
    write_snapshot(snapshot_dir, case["files"])
    snapshot = load_inputs(snapshot_dir, [])
    request = ScanRequest(
        target=KubeVersion.parse(case["target"]),
        current=KubeVersion.parse(case["current"]) if case.get("current") else None,
        options=ScanOptions(**(case.get("options") or {})),
    )
    report = scan(snapshot, _catalog(), request)
    return [f for f in report.findings if f.rule_id == rule_id]


@pytest.mark.parametrize(("rule_id", "name", "case"), list(_params()))
def test_rule_case(tmp_path: Path, rule_id: str, name: str, case: dict) -> None:
    _validate(case)
    findings = run_case(tmp_path, rule_id, case)
    expected = case["expect"]
    message = (
        f"{rule_id} case {name}: expected {len(expected)} finding(s) {expected}, got {len(findings)}:\n{_show(findings)}"
    )
    assert len(findings) == len(expected), message
    assert _assign(expected, findings), message


def test_every_rule_has_firing_and_non_firing_cases() -> None:
    catalog_ids = set(_catalog().rules)
    firing = {rule for rule, _, case in ALL_CASES if case.get("expect") and not case.get("xfail")}
    quiet = {rule for rule, _, case in ALL_CASES if case.get("expect") == [] and not case.get("xfail")}
    assert not catalog_ids - firing, f"rules without a firing case: {sorted(catalog_ids - firing)}"
    assert not catalog_ids - quiet, f"rules without a non-firing case: {sorted(catalog_ids - quiet)}"


def test_case_files_name_known_rules() -> None:
    stems = {p.stem for p in CASES_DIR.glob("*")}
    assert stems, "tests/rule_cases/ holds no case files"
    assert not stems - set(_catalog().rules), f"case files for unknown rules: {sorted(stems - set(_catalog().rules))}"
    assert all(p.suffix == ".yaml" for p in CASES_DIR.iterdir()), "only .yaml files belong in tests/rule_cases/"


def test_certificate_placeholders_are_replaced() -> None:
    pem = _render("{{cert:san:x.ns.svc}}").decode()
    cert = x509.load_pem_x509_certificate(pem.encode())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["x.ns.svc"]
    cn_only = x509.load_pem_x509_certificate(_render("{{cert:cn-only:y.ns.svc}}"))
    assert cn_only.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "y.ns.svc"
    with pytest.raises(x509.ExtensionNotFound):
        cn_only.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert "PRIVATE KEY" not in pem


def test_expectation_matching_is_exact() -> None:
    """The matcher itself: one finding cannot satisfy two expectations; every given key counts."""
    from kupgrade_lint.findings import Location, Severity

    f = Finding("KUP001", "removed-api", "removed-api", Severity.ERROR, "1.16", "uses extensions/v1beta1", "fix", Location(file="a.yaml", line=3))
    assert _assign([{"hop": "1.16", "line": 3}], [f])
    assert not _assign([{"hop": "1.16"}, {"hop": "1.16"}], [f])
    assert not _assign([{"hop": "1.16", "line": 4}], [f])
    assert not _assign([{"hop": "1.16", "message_contains": "apps/v1beta2"}], [f])
