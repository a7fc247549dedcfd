"""Just enough of X.509 (RFC 5280) to tell whether a serving certificate has a subjectAltName.

Go 1.15 stopped treating the Common Name as a host name when a certificate has no SANs
(https://go.dev/doc/go1.15#commonname), which is what kube-apiserver 1.19 is built with.
Only the fields needed for that are decoded: subject CN, SAN DNS names and IP addresses, validity.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from dataclasses import dataclass

_PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)
_OID_CN = bytes([0x55, 0x04, 0x03])
_OID_SAN = bytes([0x55, 0x1D, 0x11])


class CertificateError(ValueError):
    """The data is not a DER/PEM X.509 certificate this parser can read."""


@dataclass(frozen=True)
class Certificate:
    """The decoded facts of one certificate."""

    common_name: str | None
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    not_before: str
    not_after: str

    @property
    def has_san(self) -> bool:
        return bool(self.dns_names or self.ip_addresses)


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise CertificateError("truncated DER")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise CertificateError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise CertificateError("truncated DER")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    items = []
    pos = start
    while pos < end:
        tag, cstart, cend = _tlv(data, pos)
        items.append((tag, cstart, cend))
        pos = cend
    return items


def _time(data: bytes, start: int, end: int, tag: int) -> str:
    text = data[start:end].decode("ascii", "replace")
    if tag == 0x17 and len(text) >= 12:  # UTCTime YYMMDDHHMMSSZ
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    return f"{text[0:4]}-{text[4:6]}-{text[6:8]}T{text[8:10]}:{text[10:12]}:{text[12:14]}Z"


def parse_der(der: bytes) -> Certificate:
    """Decode one DER certificate."""
    tag, start, end = _tlv(der, 0)
    if tag != 0x30:
        raise CertificateError("not a certificate (no outer SEQUENCE)")
    parts = _children(der, start, end)
    if not parts or parts[0][0] != 0x30:
        raise CertificateError("not a certificate (no tbsCertificate)")
    tbs = _children(der, parts[0][1], parts[0][2])
    idx = 1 if tbs and tbs[0][0] == 0xA0 else 0  # optional explicit version
    if len(tbs) < idx + 6:
        raise CertificateError("tbsCertificate too short")
    validity = _children(der, tbs[idx + 3][1], tbs[idx + 3][2])
    not_before = _time(der, validity[0][1], validity[0][2], validity[0][0])
    not_after = _time(der, validity[1][1], validity[1][2], validity[1][0])
    common_name = None
    subject = tbs[idx + 4]
    for _, rs, re_ in _children(der, subject[1], subject[2]):
        for _, as_, ae in _children(der, rs, re_):
            attr = _children(der, as_, ae)
            if len(attr) == 2 and der[attr[0][1] : attr[0][2]] == _OID_CN:
                common_name = der[attr[1][1] : attr[1][2]].decode("utf-8", "replace")
    dns: list[str] = []
    ips: list[str] = []
    for tag, cstart, cend in tbs[idx + 6 :]:
        if tag != 0xA3:
            continue
        (_, es, ee), = _children(der, cstart, cend)[:1] or [(0, 0, 0)]
        for _, xs, xe in _children(der, es, ee):
            ext = _children(der, xs, xe)
            if not ext or der[ext[0][1] : ext[0][2]] != _OID_SAN:
                continue
            _, vs, ve = ext[-1]  # extnValue OCTET STRING
            _, ss, se = _tlv(der, vs)
            for gtag, gs, ge in _children(der, ss, se):
                value = der[gs:ge]
                if gtag == 0x82:
                    dns.append(value.decode("ascii", "replace"))
                elif gtag == 0x87 and len(value) in (4, 16):
                    ips.append(str(ipaddress.ip_address(value)))
    return Certificate(common_name, tuple(dns), tuple(ips), not_before, not_after)


def parse_pem_chain(text: str) -> list[Certificate]:
    """Every certificate of a PEM bundle, leaf first as servers present them."""
    certs = []
    for block in _PEM_RE.findall(text):
        try:
            der = base64.b64decode("".join(block.split()), validate=True)
        except ValueError as exc:
            raise CertificateError(f"bad base64 in PEM: {exc}") from None
        certs.append(parse_der(der))
    if not certs:
        raise CertificateError("no PEM CERTIFICATE block")
    return certs
