"""No planted secret reaches a snapshot, in any encoding, from either era of cluster."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from kupgrade_lint.collectors.cluster import collect_cluster
from kupgrade_lint.collectors.redact import (
    REDACTED,
    certificates_only,
    redact_kubeconfig_text,
    redact_toml_secrets,
    sanitize_manifest,
    sanitize_object,
)

from .world import PLANTED, WANTED


def _encodings(secret: str) -> set[bytes]:
    raw = secret.encode()
    once = base64.b64encode(raw)
    return {raw, once, base64.b64encode(once)}


def _all_bytes(root: Path) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()]


@pytest.mark.parametrize("shape", ["v1.14", "v1.21"])
def test_no_planted_secret_anywhere_in_the_snapshot(fake_cluster, tmp_path, shape):
    env = fake_cluster(shape)
    out = tmp_path / "snap"
    collect_cluster(out, kubeconfig=str(env.kubeconfig), wanted=WANTED)
    files = _all_bytes(out)
    assert len(files) > 40
    # The secrets were really there to be found: the collector did read Secrets.
    assert any(r.path == "/api/v1/secrets" for r in env.cluster.requests)
    needles = {name: _encodings(value) for name, value in PLANTED.items()}
    key_pem = env.certs.webhook.key_pem
    key_body = b"".join(key_pem.splitlines()[1:-1])
    needles["webhook_private_key"] = {key_body[:40], base64.b64encode(key_pem)[:40]}
    for path, data in files:
        assert b"PRIVATE KEY" not in data, path
        for name, forms in needles.items():
            for form in forms:
                assert form not in data, f"{name} found in {path.relative_to(out)}"
    # No Secret object is written at all.
    for path, data in files:
        if path.suffix == ".json" and "cluster/" in path.as_posix() and "/discovery/" not in path.as_posix():
            assert b'"kind": "Secret"' not in data, path


def test_kubeconfig_redaction_keeps_structure():
    text = """apiVersion: v1
kind: Config
users:
- name: admin
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
    token: abc
    password: hunter2
- name: oidc
  user:
    auth-provider:
      name: oidc
      config: {id-token: idtok, refresh-token: reftok, client-secret: csec, idp-issuer-url: https://idp}
- name: exec
  user:
    exec:
      command: aws
      env: [{name: AWS_SECRET_ACCESS_KEY, value: awssecret}]
"""
    out = redact_kubeconfig_text(text)
    for secret in ("S0VZ", "abc", "hunter2", "idtok", "reftok", "csec", "awssecret"):
        assert secret not in out
    assert "client-certificate-data: Q0VSVA==" in out  # public
    assert out.count(REDACTED) >= 8


def test_unparseable_kubeconfig_is_redacted_line_by_line():
    assert redact_kubeconfig_text("users: [\n  token: abc\n") == f"users: [\n  token: {REDACTED}\n"


def test_secret_objects_lose_data_and_last_applied():
    secret = {
        "kind": "Secret",
        "metadata": {"name": "s", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"data":{"p":"eA=="}}'}},
        "data": {"p": "eA=="},
        "stringData": {"p": "x"},
    }
    assert sanitize_object(secret) == {"kind": "Secret", "metadata": {"name": "s"}}


def test_manifest_secret_documents_are_cleaned_and_others_kept_verbatim():
    text = "---\n# Source: a\nkind: Secret\napiVersion: v1\nmetadata: {name: s}\nstringData: {p: planted}\n---\n# Source: b\nkind: Service   # comment kept\n"
    out = sanitize_manifest(text)
    assert "planted" not in out and "# Source: a" in out
    assert "kind: Service   # comment kept" in out


def test_certificates_only_drops_keys():
    pem = "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n-----BEGIN EC PRIVATE KEY-----\nBBB\n-----END EC PRIVATE KEY-----\n"
    assert certificates_only(pem) == "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n"


def test_containerd_registry_credentials():
    text = '[plugins."io.containerd.grpc.v1.cri".registry.configs."r".auth]\n  username = "u"\n  password = "p4ss"\n  auth = "dXNlcjpwYXNz"\n'
    out = redact_toml_secrets(text)
    assert "p4ss" not in out and "dXNlcjpwYXNz" not in out and 'username = "u"' in out
