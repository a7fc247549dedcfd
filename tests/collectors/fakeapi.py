"""A fake Kubernetes apiserver speaking the real wire protocol, for collector tests.

HTTPS on 127.0.0.1 with a bearer token; discovery from data/discovery-v1.*.json (derived from
the official OpenAPI specs, see data/README.md); List objects with limit/continue pagination;
``kind: Status`` errors; Prometheus text at /metrics. Every request is recorded so tests can
prove what the collector asked for. Faults (403, 429, slow, truncated, 410, 503, connection
resets, bodies cut short, bodies that stall halfway) are set per path.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

DATA = Path(__file__).parent / "data"

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    410: "Expired",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
}


def status_body(code: int, message: str, *, details: dict | None = None, cont: str | None = None) -> dict:
    """A metav1.Status as the apiserver sends it for errors."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": _REASONS.get(code, "Unknown"),
        "code": code,
    }
    if details:
        body["details"] = details
    if cont:
        body["metadata"]["continue"] = cont
    return body


@dataclass
class Fault:
    """What goes wrong at one path: ``status`` (with ``times`` left, None = always), a delay,
    a truncated body, or 410 for continue requests."""

    status: int | None = None
    message: str = ""
    times: int | None = None
    retry_after: str | None = None
    delay: float = 0.0
    truncated: bool = False
    expire_continue: int = 0  # how many continue requests get 410
    inconsistent_token: bool = False
    reset: bool = False  # close the connection with a TCP reset instead of answering
    short_body: bool = False  # announce a longer body than is sent, then close
    stall: float = 0.0  # send half the body, then wait this long before the rest
    trickle: float = 0.0  # send the body a byte at a time, this many seconds apart
    padding: int = 0  # bytes of whitespace after a valid (empty) list body


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    status: int


@dataclass
class FakeCluster:
    """The state behind the fake server."""

    shape: str  # "v1.14" or "v1.21"
    token: str
    page_cap: int = 3
    objects: dict[str, list[dict]] = field(default_factory=dict)  # resource plural -> objects
    faults: dict[str, Fault] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    metrics: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    planted: list = field(default_factory=list)  # world.Planted objects of catalog kinds
    in_flight: int = 0
    max_in_flight: int = 0  # the most requests the server answered at once

    def __post_init__(self) -> None:
        doc = json.loads((DATA / f"discovery-{self.shape}.json").read_text())
        self.git_version = doc["gitVersion"]
        self.groups: list[dict] = doc["groups"]
        self.resource_version = 1000

    # -- building --------------------------------------------------------------------------

    def add_group(self, name: str, version: str, resources: list[dict], *, preferred: bool = True) -> None:
        """Serve an extra group version (a CRD group or an aggregated API)."""
        for group in self.groups:
            if group["name"] == name:
                group["versions"][version] = resources
                if preferred:
                    group["preferredVersion"] = version
                return
        self.groups.append({"name": name, "preferredVersion": version, "versions": {version: resources}})

    def add(self, resource: str, obj: dict) -> dict:
        """Store an object under its resource plural (shared by all versions serving it)."""
        self.resource_version += 1
        meta = obj.setdefault("metadata", {})
        meta.setdefault("resourceVersion", str(self.resource_version))
        meta.setdefault("uid", f"uid-{self.resource_version}")
        self.objects.setdefault(resource, []).append(obj)
        return obj

    # -- lookups ---------------------------------------------------------------------------

    def group(self, name: str) -> dict | None:
        return next((g for g in self.groups if g["name"] == name), None)

    def resource(self, group: str, version: str, name: str) -> dict | None:
        g = self.group(group)
        if g is None or version not in g["versions"]:
            return None
        return next((r for r in g["versions"][version] if r["name"] == name), None)


def _selector_matches(selector: str, labels: dict) -> bool:
    for term in filter(None, selector.split(",")):
        key, _, value = term.partition("=")
        if labels.get(key.strip()) != value.strip():
            return False
    return True


def _field_matches(selector: str, obj: dict) -> bool:
    for term in filter(None, selector.split(",")):
        key, _, value = term.partition("=")
        key = key.strip()
        if key == "type":
            actual = obj.get("type")
        elif key.startswith("metadata."):
            actual = (obj.get("metadata") or {}).get(key.split(".", 1)[1])
        else:
            return False
        if str(actual) != value.strip():
            return False
    return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle + delayed ACK add 40 ms per request.
    disable_nagle_algorithm = True
    cluster: FakeCluster  # set on the subclass

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    def _send(self, code: int, body: bytes, content_type: str = "application/json", headers: dict | None = None) -> None:
        self._record.status = code  # before the client can see the answer
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, code: int, data: dict, headers: dict | None = None) -> int:
        self._send(code, json.dumps(data).encode(), headers=headers)
        return code

    def _status(self, code: int, message: str, **kw: Any) -> int:
        headers = kw.pop("headers", None)
        return self._json(code, status_body(code, message, **kw), headers=headers)

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        cluster = self.cluster
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        # Recorded before answering, so a test never looks before its request is in the list.
        self._record = Recorded(method, path, query, 0)
        with cluster.lock:
            cluster.requests.append(self._record)
            cluster.in_flight += 1
            cluster.max_in_flight = max(cluster.max_in_flight, cluster.in_flight)
        try:
            self._route(method, path, query)
        finally:
            with cluster.lock:
                cluster.in_flight -= 1

    def _route(self, method: str, path: str, query: dict[str, str]) -> int:
        cluster = self.cluster
        if self.headers.get("Authorization") != f"Bearer {cluster.token}":
            return self._status(401, "Unauthorized")
        fault = cluster.faults.get(path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status is not None and (fault.times is None or fault.times > 0):
                if fault.times is not None:
                    fault.times -= 1
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
                return self._status(fault.status, fault.message or _REASONS.get(fault.status, "error"), headers=headers)
            if fault.truncated:
                self._send(200, b'{"kind":"List","apiVersion":"v1","metadata":{},"items":[{"metadata":{"na')
                return 200
            if fault.reset:
                self._record.status = -1
                self.close_connection = True
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                return -1
            if fault.padding:
                body = json.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": []}).encode()
                self._send(200, body + b" " * fault.padding)
                return 200
            if fault.trickle:
                body = json.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": []}).encode()
                self._record.status = 200
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    for i in range(len(body)):
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(fault.trickle)
                except OSError:
                    pass
                self.close_connection = True
                return 200
            if fault.short_body or fault.stall:
                body = json.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": []}).encode()
                self._record.status = 200
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body) * (4 if fault.short_body else 1)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                if fault.stall:
                    time.sleep(fault.stall)
                    try:
                        self.wfile.write(body[len(body) // 2 :])
                    except OSError:
                        pass
                self.close_connection = True
                return 200
        if method != "GET":
            return self._status(405, f"the fake server only serves GET, not {method}")
        if path == "/version":
            major, minor = cluster.git_version.lstrip("v").split(".")[:2]
            return self._json(
                200,
                {
                    "major": major,
                    "minor": minor,
                    "gitVersion": cluster.git_version,
                    "gitCommit": "0" * 40,
                    "gitTreeState": "clean",
                    "buildDate": "2021-12-16T08:32:32Z",
                    "goVersion": "go1.16.12",
                    "compiler": "gc",
                    "platform": "linux/amd64",
                },
            )
        if path == "/metrics":
            self._send(200, cluster.metrics.encode(), "text/plain; version=0.0.4")
            return 200
        if path == "/api":
            return self._json(
                200,
                {
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.1:6443"}],
                },
            )
        if path == "/apis":
            return self._json(200, self._group_list())
        segs = path.strip("/").split("/")
        if segs[0] == "api" and len(segs) >= 2:
            group, version, rest = "", segs[1], segs[2:]
        elif segs[0] == "apis" and len(segs) >= 2:
            if len(segs) == 2:
                g = cluster.group(segs[1])
                if g is None:
                    return self._status(404, "the server could not find the requested resource")
                return self._json(200, self._group_doc(g))
            group, version, rest = segs[1], segs[2], segs[3:]
        else:
            return self._status(404, "the server could not find the requested resource")
        gdoc = cluster.group(group)
        if gdoc is None or version not in gdoc["versions"]:
            return self._status(404, "the server could not find the requested resource")
        gv = f"{group}/{version}" if group else version
        if not rest:
            return self._json(
                200,
                {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": gdoc["versions"][version]},
            )
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        resource, name = rest[0], (rest[1] if len(rest) > 1 else None)
        if len(rest) > 2:
            return self._status(404, "subresources are not served by the fake server")
        info = cluster.resource(group, version, resource)
        if info is None:
            return self._status(404, "the server could not find the requested resource")
        if query.get("watch"):
            return self._status(400, "watch is not supported by the fake server")
        items = [
            o
            for o in cluster.objects.get(resource, [])
            if namespace is None or not info["namespaced"] or (o.get("metadata") or {}).get("namespace") == namespace
        ]
        builtin = group != "monitoring.coreos.com"
        if name is not None:
            for obj in items:
                if obj["metadata"]["name"] == name:
                    return self._json(200, self._present(obj, gv, info["kind"], with_type=True))
            return self._status(
                404,
                f'{resource}{"." + group if group else ""} "{name}" not found',
                details={"name": name, "kind": resource},
            )
        if "labelSelector" in query:
            items = [o for o in items if _selector_matches(query["labelSelector"], o["metadata"].get("labels") or {})]
        if "fieldSelector" in query:
            items = [o for o in items if _field_matches(query["fieldSelector"], o)]
        items.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        start = 0
        rv = str(cluster.resource_version)
        if query.get("continue"):
            fault = cluster.faults.get(path)
            token = json.loads(base64.b64decode(query["continue"]))
            if fault is not None and fault.expire_continue > 0 and not token.get("inconsistent"):
                fault.expire_continue -= 1
                new = None
                if fault.inconsistent_token:
                    new = base64.b64encode(json.dumps({"rv": rv, "start": token["start"], "inconsistent": True}).encode()).decode()
                return self._status(
                    410,
                    "The provided continue parameter is too old to display a consistent list result. "
                    "You can start a new list without the continue parameter, or use the continue token "
                    "in this response to retrieve the remainder of the results.",
                    cont=new,
                )
            start, rv = token["start"], token["rv"]
        limit = int(query.get("limit") or 0) or len(items) or 1
        size = min(limit, cluster.page_cap)
        page = items[start : start + size]
        meta: dict[str, Any] = {"resourceVersion": rv}
        if start + size < len(items):
            meta["continue"] = base64.b64encode(json.dumps({"rv": rv, "start": start + size}).encode()).decode()
            meta["remainingItemCount"] = len(items) - start - size
        return self._json(
            200,
            {
                "kind": f"{info['kind']}List",
                "apiVersion": gv,
                "metadata": meta,
                "items": [self._present(o, gv, info["kind"], with_type=not builtin) for o in page],
            },
        )

    @staticmethod
    def _present(obj: dict, gv: str, kind: str, *, with_type: bool) -> dict:
        """The object as served at group version ``gv``: built-in list items carry no type."""
        out = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        if with_type:
            return {"apiVersion": gv, "kind": kind, **out}
        return out

    def _group_doc(self, g: dict) -> dict:
        versions = [{"groupVersion": f"{g['name']}/{v}", "version": v} for v in g["versions"]]
        pref = {"groupVersion": f"{g['name']}/{g['preferredVersion']}", "version": g["preferredVersion"]}
        return {"kind": "APIGroup", "apiVersion": "v1", "name": g["name"], "versions": versions, "preferredVersion": pref}

    def _group_list(self) -> dict:
        groups = []
        for g in self.cluster.groups:
            if g["name"]:
                doc = self._group_doc(g)
                doc.pop("kind")
                doc.pop("apiVersion")
                groups.append(doc)
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


class FakeAPIServer:
    """Runs a FakeCluster over HTTPS on 127.0.0.1 in a background thread."""

    def __init__(self, cluster: FakeCluster, cert_file: Path, key_file: Path):
        self.cluster = cluster
        handler = type("Handler", (_Handler,), {"cluster": cluster})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert_file), str(key_file))
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "FakeAPIServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class TLSEndpoint:
    """A bare TLS server that completes handshakes (a URL-configured webhook)."""

    def __init__(self, cert_file: Path, key_file: Path):
        import socket

        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(cert_file), str(key_file))
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            try:
                conn.settimeout(2)
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except OSError:
                pass
            finally:
                conn.close()

    def __enter__(self) -> "TLSEndpoint":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()
