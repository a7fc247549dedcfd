"""Decode Helm release records just enough to keep each deployed release's rendered manifest.

Nothing else of a release payload is kept: its values (``config``) often hold passwords.

Helm 3 stores a release as a Secret of type ``helm.sh/release.v1`` (default driver) or a
ConfigMap labelled ``owner=helm``; ``data.release`` is base64(gzip(JSON)), and Secret data
is base64 on top of that
(https://github.com/helm/helm/blob/v3.14.0/pkg/storage/driver/util.go).

Helm 2 (Tiller) stores a ConfigMap labelled ``OWNER=TILLER`` whose ``data.release`` is
base64(gzip(protobuf ``hapi.release.Release``))
(https://github.com/helm/helm/blob/v2.17.0/pkg/storage/driver/util.go,
https://github.com/helm/helm/blob/v2.17.0/_proto/hapi/release/release.proto).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from dataclasses import dataclass

_GZIP_MAGIC = b"\x1f\x8b\x08"

# hapi.release.Status.Code (https://github.com/helm/helm/blob/v2.17.0/_proto/hapi/release/status.proto)
_HELM2_STATUS = {
    0: "unknown",
    1: "deployed",
    2: "deleted",
    3: "superseded",
    4: "failed",
    5: "deleting",
    6: "pending-install",
    7: "pending-upgrade",
    8: "pending-rollback",
}


class HelmDecodeError(ValueError):
    """A release record that is not what its labels say it is."""


@dataclass(frozen=True)
class HelmRelease:
    """The parts of a release revision we keep: identity, revision, status and manifest."""

    name: str
    namespace: str
    version: int
    status: str
    manifest: str
    helm_major: int


def _unbase64(data: str | bytes) -> bytes:
    try:
        return base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise HelmDecodeError(f"not base64: {exc}") from None


def _gunzip_if_needed(data: bytes) -> bytes:
    if data[:3] != _GZIP_MAGIC:
        return data  # Helm accepts uncompressed records too
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise HelmDecodeError(f"bad gzip data: {exc}") from None


def decode_helm3(release_field: str | bytes) -> HelmRelease:
    """Decode the ``data.release`` string of a Helm 3 ConfigMap (base64(gzip(JSON)))."""
    raw = _gunzip_if_needed(_unbase64(release_field))
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise HelmDecodeError(f"not a Helm 3 release (JSON): {exc}") from None
    if not isinstance(doc, dict):
        raise HelmDecodeError("not a Helm 3 release (JSON object expected)")
    info = doc.get("info") if isinstance(doc.get("info"), dict) else {}
    return HelmRelease(
        name=str(doc.get("name", "")),
        namespace=str(doc.get("namespace", "")),
        version=int(doc.get("version") or 0),
        status=str(info.get("status", "")),
        manifest=str(doc.get("manifest") or ""),
        helm_major=3,
    )


def decode_helm3_secret_value(secret_data_value: str) -> HelmRelease:
    """Decode a Helm 3 Secret's ``data.release`` (Kubernetes base64 around the ConfigMap form)."""
    return decode_helm3(_unbase64(secret_data_value))


# -- Helm 2: a minimal protobuf reader ------------------------------------------------------


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise HelmDecodeError("truncated protobuf varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise HelmDecodeError("protobuf varint too long")


def _fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) pairs of one message; length-delimited values stay bytes."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise HelmDecodeError("truncated protobuf field")
            out.append((number, buf[pos : pos + length]))
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise HelmDecodeError(f"unsupported protobuf wire type {wire}")
        if pos > len(buf):
            raise HelmDecodeError("truncated protobuf message")
    return out


def decode_helm2(release_field: str | bytes) -> HelmRelease:
    """Decode a Helm 2 ConfigMap's ``data.release``: name (1), info.status.code (2.1.1),
    manifest (5), version (7) and namespace (8) of ``hapi.release.Release``."""
    raw = _gunzip_if_needed(_unbase64(release_field))
    name = namespace = manifest = ""
    version = 0
    status = "unknown"
    for number, value in _fields(raw):
        if number == 1 and isinstance(value, bytes):
            name = value.decode("utf-8", "replace")
        elif number == 2 and isinstance(value, bytes):
            for inner, ivalue in _fields(value):
                if inner == 1 and isinstance(ivalue, bytes):  # info.status
                    for snum, svalue in _fields(ivalue):
                        if snum == 1 and isinstance(svalue, int):  # status.code
                            status = _HELM2_STATUS.get(svalue, "unknown")
        elif number == 5 and isinstance(value, bytes):
            manifest = value.decode("utf-8", "replace")
        elif number == 7 and isinstance(value, int):
            version = value
        elif number == 8 and isinstance(value, bytes):
            namespace = value.decode("utf-8", "replace")
    if not name:
        raise HelmDecodeError("not a Helm 2 release (no name)")
    return HelmRelease(name, namespace, version, status, manifest, helm_major=2)


def latest_deployed(releases: list[HelmRelease]) -> dict[tuple[int, str, str], HelmRelease]:
    """The highest deployed revision of each (helm major, namespace, release name)."""
    best: dict[tuple[int, str, str], HelmRelease] = {}
    for rel in releases:
        if rel.status != "deployed":
            continue
        key = (rel.helm_major, rel.namespace, rel.name)
        if key not in best or rel.version > best[key].version:
            best[key] = rel
    return best
