"""The registry collector against a real registry: Debian's docker-registry (CNCF distribution).

Each registry runs on 127.0.0.1 with a random free port, a temporary storage directory and a
config written here: plain http, https with a certificate made at test time, htpasswd (Basic)
auth, and token (Bearer) auth with a small token service that signs JWTs the registry
verifies. Images are pushed with plain API calls (monolithic blob uploads, then a schema2
manifest per tag), so the collector reads what a real registry really serves.

docker-registry 2.8 answers ``tags/list`` in one piece and ignores ``n`` (tag pagination came
with distribution v3). To prove that the collector follows ``Link`` headers, the pagination
tests put a thin proxy in front of the real registry that pages its answer the way
distribution v3 does (sorted tags, ``n`` and ``last``, ``Link: <...>; rel="next"``).
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import io
import json
import shutil
import socket
import subprocess
import tarfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from kupgrade_lint.cli import app
from kupgrade_lint.collectors import registry as registry_module
from kupgrade_lint.collectors.metadata import read_metadata, write_metadata
from kupgrade_lint.collectors.registry import collect_registry
from kupgrade_lint.errors import UsageError


REGISTRY_BINARY = shutil.which("docker-registry")
SKIP_REASON = "docker-registry not installed (apt-get install docker-registry)"
runner = CliRunner()

USER, PASSWORD = "kup-reader", "Pl4nted-registry-Passw0rd"
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
TOKEN_SERVICE, TOKEN_ISSUER = "kupgrade-test-registry", "kupgrade-test-issuer"


@pytest.fixture(scope="module")
def registry_binary() -> str:
    if REGISTRY_BINARY is None:
        pytest.skip(SKIP_REASON)
    return REGISTRY_BINARY


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the registry process --------------------------------------------------------------------


@dataclass
class Registry:
    """A running docker-registry: where it listens and how to push to it."""

    host: str  # 127.0.0.1:<port>
    scheme: str
    process: subprocess.Popen
    log: Path
    ca_file: str | None = None
    push_auth: Callable[[str], str | None] = lambda name: None

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def push(self, name: str, tags: list[str]) -> None:
        push_image(self, name, tags)


def start_registry(binary: str, directory: Path, *, tls: tuple[Path, Path] | None = None, auth: dict | None = None) -> Registry:
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    http: dict = {"addr": f"127.0.0.1:{port}", "secret": "kupgrade-test-http-secret"}
    if tls:
        http["tls"] = {"certificate": str(tls[0]), "key": str(tls[1])}
    config: dict = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(directory / "data")}},
        "http": http,
    }
    if auth:
        config["auth"] = auth
    (directory / "config.yml").write_text(yaml.safe_dump(config))
    log = directory / "registry.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([binary, "serve", str(directory / "config.yml")], stdout=out, stderr=subprocess.STDOUT)
    registry = Registry(f"127.0.0.1:{port}", "https" if tls else "http", process, log)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return registry
        except OSError:
            time.sleep(0.05)
    stop_registry(registry)
    raise RuntimeError(f"docker-registry did not listen on {port}: {log.read_text()[-2000:]}")


def stop_registry(registry: Registry) -> None:
    registry.process.terminate()
    try:
        registry.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        registry.process.kill()
        registry.process.wait()


@pytest.fixture
def registries(registry_binary: str, tmp_path: Path) -> Iterator[Callable[..., Registry]]:
    """Start registries for one test; all are stopped afterwards."""
    started: list[Registry] = []

    def start(name: str = "registry", **kwargs) -> Registry:
        registry = start_registry(registry_binary, tmp_path / name, **kwargs)
        started.append(registry)
        return registry

    yield start
    for registry in started:
        stop_registry(registry)


# -- pushing, with plain API calls -------------------------------------------------------------


def _layer() -> bytes:
    data = b"kupgrade-lint test layer\n"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("etc/kupgrade-test")
        info.size, info.mtime = len(data), 0
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


LAYER_TAR = _layer()
LAYER = gzip.compress(LAYER_TAR, mtime=0)
CONFIG = json.dumps(
    {"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(LAYER_TAR).hexdigest()]}}
).encode()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_image(registry: Registry, name: str, tags: list[str]) -> None:
    """Upload a config and a layer blob (monolithic POST + PUT ?digest=), then one schema2 manifest per tag."""
    pool = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=registry.ca_file) if registry.ca_file else urllib3.PoolManager()
    auth = registry.push_auth(name)
    headers = {"Authorization": auth} if auth else {}

    def request(method: str, url: str, body: bytes | None = None, content_type: str | None = None, expect: int = 201):
        extra = dict(headers, **({"Content-Type": content_type} if content_type else {}))
        response = pool.request(method, url, body=body, headers=extra, redirect=False)
        assert response.status == expect, f"{method} {url}: {response.status} {response.data[:300]!r}"
        return response

    for blob in (CONFIG, LAYER):
        started = request("POST", f"{registry.url}/v2/{name}/blobs/uploads/", expect=202)
        location = started.headers["Location"]
        if location.startswith("/"):
            location = registry.url + location
        sep = "&" if "?" in location else "?"
        request("PUT", f"{location}{sep}digest={_digest(blob)}", blob, "application/octet-stream")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_V2,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(CONFIG), "digest": _digest(CONFIG)},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(LAYER), "digest": _digest(LAYER)}],
        }
    ).encode()
    for tag in tags:
        request("PUT", f"{registry.url}/v2/{name}/manifests/{tag}", manifest, MANIFEST_V2)


# -- credentials: htpasswd lines and a token service ------------------------------------------


def htpasswd_line(user: str, password: str) -> str:
    """A bcrypt htpasswd line (the only hash distribution's htpasswd auth accepts)."""
    try:
        import bcrypt  # type: ignore[import-not-found]
    except ImportError:
        bcrypt = None
    if bcrypt is not None:
        return f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()}\n"
    if shutil.which("htpasswd"):
        out = subprocess.run(["htpasswd", "-nbB", "-C", "5", user, password], check=True, capture_output=True, text=True)
        return out.stdout.strip() + "\n"
    pytest.skip("no bcrypt module and no htpasswd (apt-get install apache2-utils) to write the registry's htpasswd file")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenSigner:
    """An RSA key and self-signed certificate; the registry trusts the certificate (rootcertbundle)."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    bundle: Path

    @classmethod
    def create(cls, directory: Path) -> "TokenSigner":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kupgrade test token signer")])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        bundle = directory / "token-signer.pem"
        directory.mkdir(parents=True, exist_ok=True)
        bundle.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(key, cert, bundle)

    def token(self, access: list[dict]) -> str:
        """A JWT as distribution's token auth verifies it (registry/auth/token/token.go)."""
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()]}
        now = int(time.time())
        claims = {
            "iss": TOKEN_ISSUER,
            "sub": USER,
            "aud": TOKEN_SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": f"kupgrade-{now}-{id(access)}",
            "access": access,
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"


@dataclass
class TokenService:
    """The realm: GET /token?service=&scope= → {"token": ...}; optionally requires Basic credentials."""

    signer: TokenSigner
    require_credentials: bool
    server: ThreadingHTTPServer | None = None
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)

    @property
    def realm(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/token"

    def start(self) -> "TokenService":
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                authorization = self.headers.get("Authorization")
                service.requests.append((self.path, authorization))
                query = parse_qs(urlsplit(self.path).query)
                expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if service.require_credentials and authorization != expected:
                    self._send(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
                    return
                access = []
                for scope in query.get("scope", []):
                    kind, _, rest = scope.partition(":")
                    name, _, actions = rest.rpartition(":")
                    access.append({"type": kind, "name": name, "actions": [a for a in actions.split(",") if a == "pull"]})
                token = service.signer.token(access)
                service.issued.append(token)
                self._send(200, {"token": token, "access_token": token, "expires_in": 300})

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class PaginatingProxy:
    """GET-only proxy to a registry that splits ``tags/list`` into pages of ``n`` (distribution v3 style)."""

    def __init__(self, upstream: Registry):
        self.upstream = upstream
        self.requests: list[tuple[str, str | None]] = []
        proxy = self
        pool = urllib3.PoolManager()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                authorization = self.headers.get("Authorization")
                proxy.requests.append((self.path, authorization))
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                headers = {"Authorization": authorization} if authorization else {}
                answer = pool.request("GET", upstream.url + parts.path, headers=headers, redirect=False)
                body, extra = answer.data, {}
                if answer.status == 200 and parts.path.endswith("/tags/list") and "n" in query:
                    doc = json.loads(body)
                    tags = sorted(t for t in doc["tags"] if t > query.get("last", ""))
                    page, n = tags[: int(query["n"])], int(query["n"])
                    if len(tags) > n:
                        extra["Link"] = f'<{parts.path}?last={page[-1]}&n={n}>; rel="next"'
                    body = json.dumps({"name": doc["name"], "tags": page}).encode()
                self.send_response(answer.status)
                for key in ("Content-Type", "WWW-Authenticate", "Docker-Distribution-Api-Version"):
                    if answer.headers.get(key):
                        self.send_header(key, answer.headers[key])
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def paginated() -> Iterator[Callable[[Registry], PaginatingProxy]]:
    proxies: list[PaginatingProxy] = []

    def start(upstream: Registry) -> PaginatingProxy:
        proxies.append(PaginatingProxy(upstream))
        return proxies[-1]

    yield start
    for proxy in proxies:
        proxy.stop()


# -- helpers ---------------------------------------------------------------------------------


def tags_file(out: Path, registry: Registry | PaginatingProxy, name: str) -> Path:
    return out / "registry" / registry.host / name / "tags.json"


def every_byte(out: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file())


def assert_no_credentials(blob: bytes | str, *tokens: str) -> None:
    data = blob.encode() if isinstance(blob, str) else blob
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode())
    for secret in (PASSWORD.encode(), basic, *(t.encode() for t in tokens)):
        assert secret not in data


# -- plain http: pagination, 404, CLI, end to end -------------------------------------------------


@pytest.fixture
def plain(registries) -> Registry:
    registry = registries("plain")
    registry.push("google-containers/kube-apiserver", ["v1.17.17", "v1.18.20", "v1.18.19", "v1.17.16", "v1.19.16"])
    registry.push("google-containers/pause", ["3.1"])
    return registry


def test_tags_and_unknown_repositories(plain: Registry, tmp_path: Path) -> None:
    out = tmp_path / "snap"
    summary = collect_registry(
        out, repository=f"{plain.host}/google-containers", images=["kube-apiserver", "pause", "etcd", "coredns/coredns"], insecure_http=True
    )
    assert json.loads(tags_file(out, plain, "google-containers/kube-apiserver").read_text()) == {
        "name": "google-containers/kube-apiserver",
        "tags": ["v1.17.16", "v1.17.17", "v1.18.19", "v1.18.20", "v1.19.16"],
    }
    assert tags_file(out, plain, "google-containers/pause").read_text() == '{"name": "google-containers/pause", "tags": ["3.1"]}\n'
    assert not tags_file(out, plain, "google-containers/etcd").exists()
    assert not (out / "registry" / plain.host / "google-containers" / "coredns").exists()
    assert (out / "registry" / plain.host).is_dir()
    assert (summary.resources_listed, summary.objects_written, summary.pages, summary.errors) == (4, 2, 2, ())
    assert read_metadata(out)["collection_errors"] == []


def test_link_pages_are_followed_and_merged(plain: Registry, paginated, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(registry_module, "PAGE_SIZE", 2)  # 5 tags: 3 pages
    proxy = paginated(plain)
    out = tmp_path / "snap"
    summary = collect_registry(out, repository=f"{proxy.host}/google-containers", images=["kube-apiserver"], insecure_http=True)
    assert summary.errors == () and summary.pages == 3
    assert json.loads(tags_file(out, proxy, "google-containers/kube-apiserver").read_text())["tags"] == [
        "v1.17.16", "v1.17.17", "v1.18.19", "v1.18.20", "v1.19.16"
    ]
    assert [path for path, _auth in proxy.requests] == [
        "/v2/",
        "/v2/google-containers/kube-apiserver/tags/list?n=2",
        "/v2/google-containers/kube-apiserver/tags/list?last=v1.17.17&n=2",
        "/v2/google-containers/kube-apiserver/tags/list?last=v1.18.20&n=2",
    ]


def test_redirects_are_followed_without_credentials(plain: Registry, tmp_path: Path) -> None:
    """registry.k8s.io answers every request with a redirect to a mirror on another host."""
    seen: list[str | None] = []

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            seen.append(self.headers.get("Authorization"))
            self.send_response(307)
            self.send_header("Location", plain.url + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host = f"127.0.0.1:{server.server_address[1]}"
        out = tmp_path / "snap"
        summary = collect_registry(out, repository=f"{host}/google-containers", images=["pause"], insecure_http=True, credentials=(USER, PASSWORD))
    finally:
        server.shutdown()
        server.server_close()
    assert summary.errors == ()
    assert json.loads((out / "registry" / host / "google-containers" / "pause" / "tags.json").read_text())["tags"] == ["3.1"]
    assert seen == [None, None]  # no challenge was answered, so no credentials were sent anywhere


def test_https_is_the_default_and_errors_merge_into_existing_metadata(plain: Registry, tmp_path: Path) -> None:
    out = tmp_path / "snap"
    write_metadata(out, server_version={"gitVersion": "v1.17.17"}, errors=[{"what": "list batch/v1 jobs", "reason": "403 Forbidden"}])
    summary = collect_registry(out, repository=f"{plain.host}/google-containers", images=["pause"])
    assert len(summary.errors) == 1 and "TLS failure" in summary.errors[0]["reason"]
    meta = read_metadata(out)
    assert meta["server_version"] == {"gitVersion": "v1.17.17"}
    assert [e["what"] for e in meta["collection_errors"]] == [
        "list batch/v1 jobs",
        f"reach the image registry {plain.host} (GET https://{plain.host}/v2/)",
    ]
    assert not (out / "registry").exists()  # not collected, so the check says "not checked", not "missing"


def test_unreachable_registry_is_a_collection_error(tmp_path: Path) -> None:
    host = f"127.0.0.1:{free_port()}"
    summary = collect_registry(tmp_path / "snap", repository=f"{host}/google-containers", insecure_http=True, timeout=2)
    assert len(summary.errors) == 1
    assert summary.errors[0]["reason"].startswith(f"no response from http://{host}") and "after 3 attempts" in summary.errors[0]["reason"]
    assert not (tmp_path / "snap" / "registry").exists()


def test_cli_adds_registry_into_an_existing_snapshot(plain: Registry, tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    (snap / "cluster").mkdir(parents=True)
    (snap / "cluster" / "keep.yaml").write_text("kind: List\nitems: []\n")
    result = runner.invoke(
        app, ["collect", "registry", "--repository", f"{plain.host}/google-containers", "--image", "pause", "--image", "etcd", "--insecure-http", "--to", str(snap)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(str(snap))
    assert (snap / "cluster" / "keep.yaml").exists()
    assert json.loads(tags_file(snap, plain, "google-containers/pause").read_text())["tags"] == ["3.1"]
    assert not tags_file(snap, plain, "google-containers/etcd").exists()

    archive = tmp_path / "registry.tar.gz"
    result = runner.invoke(app, ["collect", "registry", "-r", f"{plain.host}/google-containers", "--insecure-http", "--to", str(archive)])
    assert result.exit_code == 0, result.output
    assert archive.is_file()

    stranger = tmp_path / "not-a-snapshot"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("x")
    result = runner.invoke(app, ["collect", "registry", "-r", f"{plain.host}/x", "--insecure-http", "--to", str(stranger)])
    assert result.exit_code == 2 and "neither empty nor a snapshot directory" in result.output


def test_scan_reports_only_the_missing_pause_tag(registries, tmp_path: Path) -> None:
    """kubeadm v1.17.17 → v1.18.20 pulls pause:3.2; the registry, like the seed's, only has 3.1."""
    registry = registries("seed-like")
    repo = f"{registry.host}/google-containers"
    for image in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"):
        registry.push(f"google-containers/{image}", ["v1.17.17", "v1.18.20"])
    registry.push("google-containers/coredns", ["1.6.5", "1.6.7"])
    registry.push("google-containers/etcd", ["3.4.3-0"])
    registry.push("google-containers/pause", ["3.1"])

    snap = tmp_path / "snap"
    config = {"apiVersion": "kubeadm.k8s.io/v1beta2", "kind": "ClusterConfiguration", "kubernetesVersion": "v1.17.17", "imageRepository": repo}
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
        "data": {"ClusterConfiguration": yaml.safe_dump(config)},
    }
    (snap / "cluster" / "kube-system").mkdir(parents=True)
    (snap / "cluster" / "kube-system" / "kubeadm-config.yaml").write_text(yaml.safe_dump(configmap))

    collected = runner.invoke(app, ["collect", "registry", "--repository", repo, "--insecure-http", "--to", str(snap)])
    assert collected.exit_code == 0, collected.output
    result = runner.invoke(app, ["scan", "--snapshot", str(snap), "--target", "v1.18.20", "-o", "json", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    missing = [(f["hop"], f["message"]) for f in report["findings"] if f["rule_id"] == "KUP070"]
    assert missing == [
        ("1.18", f"{repo}/pause:3.2 (pause) is needed at the hop to v1.18.20 but the registry has no tag 3.2")
    ]
    assert not [f for f in report["findings"] if f["category"] == "collection"]


# -- https, and Basic auth (htpasswd) ----------------------------------------------------------


def _tls_registry(registries, certs, name: str, auth: dict | None = None) -> Registry:
    registry = registries(name, tls=(certs.apiserver.cert_file, certs.apiserver.key_file), auth=auth)
    registry.ca_file = str(certs.ca.cert_file)
    return registry


def test_https_verifies_the_certificate(registries, certs, tmp_path: Path) -> None:
    registry = _tls_registry(registries, certs, "tls")
    registry.push("team/pause", ["3.1", "3.2"])
    trusted = collect_registry(tmp_path / "t", repository=f"{registry.host}/team", images=["pause"], ca_file=registry.ca_file)
    assert trusted.errors == ()
    assert json.loads(tags_file(tmp_path / "t", registry, "team/pause").read_text()) == {"name": "team/pause", "tags": ["3.1", "3.2"]}
    # The system CAs do not know the test CA.
    untrusted = collect_registry(tmp_path / "u", repository=f"{registry.host}/team", images=["pause"])
    assert len(untrusted.errors) == 1
    assert "TLS failure" in untrusted.errors[0]["reason"] and "CERTIFICATE_VERIFY_FAILED" in untrusted.errors[0]["reason"]
    assert not (tmp_path / "u" / "registry").exists()
    with pytest.raises(UsageError, match="--ca-file"):
        collect_registry(tmp_path / "x", repository=f"{registry.host}/team", ca_file=str(tmp_path / "absent.pem"))


@pytest.fixture
def secured(registries, certs, tmp_path: Path) -> Registry:
    """https with a test CA, htpasswd auth."""
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text(htpasswd_line(USER, PASSWORD))
    registry = _tls_registry(registries, certs, "secured", {"htpasswd": {"realm": "kupgrade-test", "path": str(htpasswd)}})
    basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    registry.push_auth = lambda name: basic
    registry.push("team/pause", ["3.1", "3.2"])
    return registry


def test_basic_auth(secured: Registry, tmp_path: Path) -> None:
    out = tmp_path / "snap"
    summary = collect_registry(out, repository=f"{secured.host}/team", images=["pause"], ca_file=secured.ca_file, credentials=(USER, PASSWORD))
    assert summary.errors == ()
    assert json.loads(tags_file(out, secured, "team/pause").read_text()) == {"name": "team/pause", "tags": ["3.1", "3.2"]}
    assert_no_credentials(every_byte(out))


def test_basic_auth_failures_are_recorded(secured: Registry, tmp_path: Path) -> None:
    anonymous = collect_registry(tmp_path / "a", repository=f"{secured.host}/team", images=["pause"], ca_file=secured.ca_file)
    assert [e["reason"] for e in anonymous.errors] == ["401 Unauthorized: UNAUTHORIZED authentication required; the registry wants a username and password"]
    wrong = collect_registry(tmp_path / "w", repository=f"{secured.host}/team", images=["pause"], ca_file=secured.ca_file, credentials=(USER, "nope"))
    assert len(wrong.errors) == 1 and wrong.errors[0]["reason"].endswith("the credentials were not accepted")
    for name in ("a", "w"):
        assert not (tmp_path / name / "registry" / secured.host / "team" / "pause").exists()
        assert_no_credentials(every_byte(tmp_path / name))


# -- Bearer tokens ------------------------------------------------------------------------------


@pytest.fixture
def token_registry(registries, tmp_path: Path) -> Iterator[Callable[[bool], tuple[Registry, TokenService]]]:
    services: list[TokenService] = []

    def start(require_credentials: bool) -> tuple[Registry, TokenService]:
        signer = TokenSigner.create(tmp_path / "token")
        service = TokenService(signer, require_credentials).start()
        services.append(service)
        registry = registries(
            f"token-{len(services)}",
            auth={"token": {"realm": service.realm, "service": TOKEN_SERVICE, "issuer": TOKEN_ISSUER, "rootcertbundle": str(signer.bundle)}},
        )
        registry.push_auth = lambda name: "Bearer " + signer.token([{"type": "repository", "name": name, "actions": ["pull", "push"]}])
        registry.push("library/pause", ["3.1", "3.2", "3.5"])
        return registry, service

    yield start
    for service in services:
        service.stop()


def test_bearer_token_anonymous_reused_across_pages(token_registry, paginated, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(registry_module, "PAGE_SIZE", 2)
    registry, service = token_registry(False)
    proxy = paginated(registry)
    out = tmp_path / "snap"
    summary = collect_registry(out, repository=f"{proxy.host}/library", images=["pause", "etcd"], insecure_http=True)
    assert summary.errors == () and summary.pages == 2
    assert json.loads(tags_file(out, proxy, "library/pause").read_text())["tags"] == ["3.1", "3.2", "3.5"]
    assert not tags_file(out, proxy, "library/etcd").exists()
    scopes = [parse_qs(urlsplit(path).query)["scope"] for path, _auth in service.requests]
    assert scopes == [["repository:library/pause:pull"], ["repository:library/etcd:pull"]]
    assert all(auth is None for _path, auth in service.requests)
    pages = [(path, (auth or "").split(" ")[0]) for path, auth in proxy.requests if "/pause/" in path]
    assert pages == [
        ("/v2/library/pause/tags/list?n=2", ""),  # 401 with the Bearer challenge
        ("/v2/library/pause/tags/list?n=2", "Bearer"),
        ("/v2/library/pause/tags/list?last=3.2&n=2", "Bearer"),
    ]


def test_bearer_token_with_credentials(token_registry, tmp_path: Path) -> None:
    registry, service = token_registry(True)
    out = tmp_path / "snap"
    summary = collect_registry(out, repository=f"{registry.host}/library", images=["pause"], insecure_http=True, credentials=(USER, PASSWORD))
    assert summary.errors == ()
    assert json.loads(tags_file(out, registry, "library/pause").read_text())["tags"] == ["3.1", "3.2", "3.5"]
    assert len(service.issued) == 1
    assert_no_credentials(every_byte(out), *service.issued)

    refused = collect_registry(tmp_path / "anon", repository=f"{registry.host}/library", images=["pause"], insecure_http=True)
    assert len(refused.errors) == 1
    assert refused.errors[0]["reason"].startswith(f"the token service http://{service.realm.split('/')[2]} refused an anonymous token request: 401")
    assert (tmp_path / "anon" / "registry" / registry.host).is_dir()  # the registry answered; the image did not


def test_cli_reads_the_password_from_stdin(token_registry, tmp_path: Path) -> None:
    registry, service = token_registry(True)
    snap = tmp_path / "snap"
    args = ["collect", "registry", "-r", f"{registry.host}/library", "--image", "pause", "--insecure-http", "--to", str(snap)]
    result = runner.invoke(app, args + ["--username", USER, "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert json.loads(tags_file(snap, registry, "library/pause").read_text())["tags"] == ["3.1", "3.2", "3.5"]
    assert_no_credentials(result.output, *service.issued)
    assert_no_credentials(every_byte(snap), *service.issued)
    result = runner.invoke(app, args[:-1] + [str(tmp_path / "other"), "--password-stdin"], input=PASSWORD)
    assert result.exit_code == 2 and "--username and --password-stdin go together" in result.output
    result = runner.invoke(app, ["collect", "registry", "-r", "https://example.com/x", "--to", str(tmp_path / "bad")])
    assert result.exit_code == 2 and "not a URL" in result.output
