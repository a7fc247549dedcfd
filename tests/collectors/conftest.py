"""Fixtures: certificates made at test time, fake apiservers of two eras, kubeconfigs."""

from __future__ import annotations

import base64
import ipaddress
import socket
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest
import yaml
from cryptography import x509

from kupgrade_lint.collectors import kubeapi

from .fakeapi import FakeAPIServer, FakeCluster, Fault, TLSEndpoint
from .world import PLANTED, KeyPair, make_cert, populate


@dataclass(frozen=True)
class Certs:
    ca: KeyPair
    apiserver: KeyPair
    webhook: KeyPair  # served from the hook-tls Secret
    url_webhook: KeyPair  # presented by the URL webhook endpoint


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    d = tmp_path_factory.mktemp("certs")
    ca = make_cert(d, "ca", sans=[], ca=True)
    issuer = (ca.cert, ca.key)
    apiserver = make_cert(d, "apiserver", sans=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))], issuer=issuer)
    webhook = make_cert(d, "hook-svc", sans=[x509.DNSName("hook-svc.webhooks.svc")], issuer=issuer)
    url_webhook = make_cert(d, "url-hook", sans=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))], issuer=issuer)
    return Certs(ca, apiserver, webhook, url_webhook)


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep backoff short; Retry-After is still honoured (capped at 2 s)."""
    monkeypatch.setattr(kubeapi, "DEFAULT_RETRY", kubeapi.RetryPolicy(attempts=3, base_delay=0.01, max_delay=2.0))


def write_kubeconfig(path: Path, server: str, ca_pem: bytes, token: str) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "users": [{"name": "reader", "user": {"token": token}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "reader"}}],
        "current-context": "fake",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Env:
    cluster: FakeCluster
    server: FakeAPIServer
    kubeconfig: Path
    url_webhook_port: int
    certs: Certs


@pytest.fixture
def fake_cluster(certs: Certs, tmp_path: Path) -> Iterator[Callable[..., Env]]:
    """Factory: ``fake_cluster("v1.21", faults={...})`` starts a populated fake apiserver."""
    stack = ExitStack()

    def start(shape: str, *, faults: dict[str, Fault] | None = None, page_cap: int = 3) -> Env:
        cluster = FakeCluster(shape=shape, token=PLANTED["apiserver_bearer_token"], page_cap=page_cap)
        endpoint = stack.enter_context(TLSEndpoint(certs.url_webhook.cert_file, certs.url_webhook.key_file))
        populate(cluster, webhook_tls=certs.webhook, url_webhook_port=endpoint.port, closed_port=_closed_port())
        cluster.faults.update(faults or {})
        server = stack.enter_context(FakeAPIServer(cluster, certs.apiserver.cert_file, certs.apiserver.key_file))
        kubeconfig = write_kubeconfig(tmp_path / f"kubeconfig-{shape}", server.url, certs.ca.cert_pem, cluster.token)
        return Env(cluster, server, kubeconfig, endpoint.port, certs)

    with stack:
        yield start
