"""Benchmark ``kupgrade-lint collect`` against a test apiserver holding a large cluster.

A bench-side apiserver on 127.0.0.1 (HTTPS, bearer token) speaks the Kubernetes wire formats the
collector reads: ``/version``, discovery (``/api``, ``/apis``, ``/api/v1``, ``/apis/<g>/<v>``;
the v1.14 discovery the collector tests use, tests/collectors/data, plus the Prometheus Operator
group), List objects with ``limit``/``continue``, ``metadata.continue`` and
``remainingItemCount``, label and field selectors, single-object GETs, ``/metrics``. Every request
waits ``--latency-ms`` before it is answered (a simulated round trip; requests in flight wait
side by side). The cluster is bench/make_snapshot.py's deterministic generator (the same objects,
~2-8 KiB each, that the scan benchmark reads), with one Helm 3 release Secret per release and a
webhook whose serving certificate lives in a Secret mounted by the pod behind its Service.
Objects are encoded once, up front, so the server costs little next to the collector.

The collector runs as the real CLI (``python -m kupgrade_lint collect``) in a child process; its
wall time and peak RSS (``wait4`` rusage) are measured from here, the requests server-side.

Goals (issue 9), each reported met / not met:
* every listing takes ceil(n/500) pages (one page when empty), no page holds more than 500
  objects, and nothing is listed twice;
* no GET of single objects, apart from the Secrets mounted behind webhook Services (the only place
  a webhook's serving certificate can be read; one per such Secret, not per object of the cluster);
* requests in flight at once (counted by the server) never exceed the collector's --concurrency.

    python bench/live.py --objects 10000                    # quick check
    python bench/live.py --objects 100000 --latency-ms 20   # the issue's case (a few minutes)
    python bench/live.py --objects 100000 --json            # the result as one JSON line
"""

from __future__ import annotations

import argparse
import base64
import gzip
import ipaddress
import json
import math
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))

import make_snapshot  # noqa: E402

PAGE = 500
TOKEN = "bench-live-token"
DISCOVERY = REPO / "tests" / "collectors" / "data" / "discovery-v1.14.json"
MONITORING = [("servicemonitors", "ServiceMonitor"), ("podmonitors", "PodMonitor"), ("prometheusrules", "PrometheusRule")]
WEBHOOK_SECRET = "x-webhook-tls"


# -- the cluster ---------------------------------------------------------------------------------


@dataclass
class Stored:
    """One object as the server keeps it: what selectors look at, and its JSON bytes as listed."""

    namespace: str
    name: str
    labels: dict
    type: str | None
    listed: bytes  # as a List item (built-in kinds: no apiVersion/kind)
    single: bytes  # as a GET answers (apiVersion/kind included)


@dataclass
class Cluster:
    groups: list[dict]
    git_version: str
    objects: dict[str, list[Stored]] = field(default_factory=dict)  # resource plural -> sorted by (ns, name)
    count: int = 0
    bytes: int = 0

    def group(self, name: str) -> dict | None:
        return next((g for g in self.groups if g["name"] == name), None)

    def resource(self, group: str, version: str, name: str) -> dict | None:
        g = self.group(group)
        if g is None or version not in g["versions"]:
            return None
        return next((r for r in g["versions"][version] if r["name"] == name), None)


def _helm3_release(name: str, namespace: str, manifest: str) -> str:
    release = {
        "name": name, "namespace": namespace, "version": 1,
        "info": {"status": "deployed", "description": "Install complete"},
        "chart": {"metadata": {"name": name, "version": "1.0.0"}, "values": {}}, "config": {}, "manifest": manifest,
    }
    inner = base64.b64encode(gzip.compress(json.dumps(release).encode(), mtime=0))
    return base64.b64encode(inner).decode()  # a Secret's data is base64 of Helm's base64(gzip(JSON))


def _webhook_objects(cert_pem: bytes) -> list[dict]:
    """Service x in kube-system (webhook mutate-deploy.x.com's), its pod, and the Secret the pod mounts."""
    ks = "kube-system"
    return [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x", "namespace": ks, "uid": "svc-x"},
         "spec": {"ports": [{"port": 443, "targetPort": 8443}], "selector": {"app": "x-webhook"}}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x-webhook-0", "namespace": ks, "labels": {"app": "x-webhook"}, "uid": "pod-x"},
         "spec": {"containers": [{"name": "hook", "image": f"{make_snapshot.REGISTRY}/tools/x-webhook:1.0"}],
                  "volumes": [{"name": "tls", "secret": {"secretName": WEBHOOK_SECRET}}]}},
        {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "metadata": {"name": WEBHOOK_SECRET, "namespace": ks, "uid": "secret-x"},
         "data": {"tls.crt": base64.b64encode(cert_pem).decode(), "tls.key": base64.b64encode(b"not a key").decode()}},
    ]


def build_cluster(objects: int, nodes: int | None = None, seed: int = 1, cert_pem: bytes = b"") -> Cluster:
    """The generator's cluster (no YAML share: every object is served), encoded once."""
    doc = json.loads(DISCOVERY.read_text())
    groups = doc["groups"]
    verbs = ["get", "list", "watch"]
    groups.append({"name": "monitoring.coreos.com", "preferredVersion": "v1",
                   "versions": {"v1": [{"name": n, "singularName": n[:-1], "namespaced": True, "kind": k, "verbs": verbs} for n, k in MONITORING]}})
    cluster = Cluster(groups=groups, git_version=make_snapshot.CLUSTER_VERSION)
    gen = make_snapshot.Generator(objects, nodes if nodes is not None else max(1, objects // 100), seed, 0.0)
    gen.build()
    by_resource: dict[str, list[dict]] = defaultdict(list)
    for kind, items in gen.lists.items():
        by_resource[make_snapshot.LISTED[kind][2]].extend(items)
    for (ns, release), items in sorted(gen.helm.items()):
        manifest = yaml.dump_all(items, Dumper=make_snapshot._KubectlDumper, sort_keys=False, default_flow_style=False, explicit_start=True)
        by_resource["secrets"].append({
            "apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
            "metadata": {"name": f"sh.helm.release.v1.{release}.v1", "namespace": ns,
                         "labels": {"owner": "helm", "name": release, "status": "deployed", "version": "1"}},
            "data": {"release": _helm3_release(release, ns, manifest)},
        })
    for obj in _webhook_objects(cert_pem):
        by_resource[{"Service": "services", "Pod": "pods", "Secret": "secrets"}[obj["kind"]]].append(obj)
    del gen
    dumps = json.dumps
    for resource, items in by_resource.items():
        stored = []
        for obj in items:
            meta = obj.get("metadata") or {}
            listed = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
            if obj.get("apiVersion", "").startswith("monitoring.coreos.com"):
                listed = obj  # custom resources keep their type in lists
            stored.append(Stored(str(meta.get("namespace") or ""), str(meta["name"]), dict(meta.get("labels") or {}), obj.get("type"),
                                 dumps(listed, separators=(",", ":")).encode(), dumps(obj, separators=(",", ":")).encode()))
            cluster.bytes += len(stored[-1].listed)
        stored.sort(key=lambda s: (s.namespace, s.name))
        cluster.objects[resource] = stored
        cluster.count += len(stored)
    return cluster


# -- the server -----------------------------------------------------------------------------------


@dataclass
class Listing:
    """One list of one collection with one set of selectors: its pages, in order."""

    path: str
    selectors: str
    matching: int
    starts: int = 0  # requests without a continue token (a list started over, or listed twice)
    pages: list[int] = field(default_factory=list)  # objects on each page
    limits: set = field(default_factory=set)


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: Counter = field(default_factory=Counter)  # class -> count
    gets: Counter = field(default_factory=Counter)  # resource -> single-object GETs
    listings: dict[tuple[str, str], Listing] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0
    bytes_sent: int = 0
    other: list[str] = field(default_factory=list)


def _matches(stored: Stored, query: dict[str, str]) -> bool:
    for term in filter(None, query.get("labelSelector", "").split(",")):
        key, _, value = term.partition("=")
        if stored.labels.get(key.strip()) != value.strip():
            return False
    for term in filter(None, query.get("fieldSelector", "").split(",")):
        key, _, value = term.partition("=")
        key = key.strip()
        actual = stored.type if key == "type" else stored.namespace if key == "metadata.namespace" else stored.name if key == "metadata.name" else None
        if actual != value.strip():
            return False
    return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    cluster: Cluster
    stats: Stats
    latency: float

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, code: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with self.stats.lock:
            self.stats.bytes_sent += len(body)

    def _json(self, code: int, data: dict) -> None:
        self._send(code, json.dumps(data).encode())

    def _status(self, code: int, message: str) -> None:
        self._json(code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "code": code})

    def _count(self, what: str) -> None:
        with self.stats.lock:
            self.stats.requests[what] += 1

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        stats = self.stats
        with stats.lock:
            stats.in_flight += 1
            stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            self._route()
        finally:
            with stats.lock:
                stats.in_flight -= 1

    def _route(self) -> None:
        cluster = self.cluster
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._count("unauthorized")
            return self._status(401, "Unauthorized")
        if path == "/version":
            self._count("version")
            major, minor = cluster.git_version.lstrip("v").split(".")[:2]
            return self._json(200, {"major": major, "minor": minor, "gitVersion": cluster.git_version, "platform": "linux/amd64"})
        if path == "/metrics":
            self._count("metrics")
            text = 'apiserver_requested_deprecated_apis{group="extensions",removed_release="1.22",resource="ingresses",subresource="",version="v1beta1"} 1\n'
            return self._send(200, text.encode(), "text/plain; version=0.0.4")
        if path == "/api":
            self._count("discovery")
            return self._json(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.1:6443"}]})
        if path == "/apis":
            self._count("discovery")
            return self._json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [self._group_doc(g, typed=False) for g in cluster.groups if g["name"]]})
        segs = path.strip("/").split("/")
        if segs[0] == "api" and len(segs) >= 2:
            group, version, rest = "", segs[1], segs[2:]
        elif segs[0] == "apis" and len(segs) >= 3:
            group, version, rest = segs[1], segs[2], segs[3:]
        elif segs[0] == "apis" and len(segs) == 2 and cluster.group(segs[1]):
            self._count("discovery")
            return self._json(200, self._group_doc(cluster.group(segs[1]), typed=True))
        else:
            self._count("not found")
            return self._status(404, "the server could not find the requested resource")
        gdoc = cluster.group(group)
        if gdoc is None or version not in gdoc["versions"]:
            self._count("not found")
            return self._status(404, "the server could not find the requested resource")
        gv = f"{group}/{version}" if group else version
        if not rest:
            self._count("discovery")
            return self._json(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": gdoc["versions"][version]})
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        info = cluster.resource(group, version, rest[0])
        if info is None or len(rest) > 2:
            self._count("not found")
            return self._status(404, "the server could not find the requested resource")
        items = cluster.objects.get(rest[0], [])
        if namespace is not None and info["namespaced"]:
            items = [s for s in items if s.namespace == namespace]
        if len(rest) == 2:
            with self.stats.lock:
                self.stats.requests["get"] += 1
                self.stats.gets[rest[0]] += 1
            found = next((s for s in items if s.name == rest[1]), None)
            if found is None:
                return self._status(404, f'{rest[0]} "{rest[1]}" not found')
            return self._send(200, found.single)
        selectors = "&".join(f"{k}={query[k]}" for k in ("labelSelector", "fieldSelector") if k in query)
        if selectors:
            items = [s for s in items if _matches(s, query)]
        limit = int(query.get("limit") or 0)
        start = int(json.loads(base64.b64decode(query["continue"]))["start"]) if query.get("continue") else 0
        size = limit if limit > 0 else len(items)
        page = items[start : start + size]
        meta: dict[str, Any] = {"resourceVersion": "123456"}
        if start + size < len(items):
            meta["continue"] = base64.b64encode(json.dumps({"start": start + size}).encode()).decode()
            meta["remainingItemCount"] = len(items) - start - size
        with self.stats.lock:
            self.stats.requests["list page"] += 1
            listing = self.stats.listings.setdefault((path, selectors), Listing(path, selectors, len(items)))
            if not query.get("continue"):
                listing.starts += 1
            listing.pages.append(len(page))
            listing.limits.add(limit)
        head = json.dumps({"kind": f"{info['kind']}List", "apiVersion": gv, "metadata": meta})[:-1].encode()
        self._send(200, head + b',"items":[' + b",".join(s.listed for s in page) + b"]}")

    @staticmethod
    def _group_doc(g: dict, *, typed: bool) -> dict:
        versions = [{"groupVersion": f"{g['name']}/{v}", "version": v} for v in g["versions"]]
        doc = {"name": g["name"], "versions": versions, "preferredVersion": {"groupVersion": f"{g['name']}/{g['preferredVersion']}", "version": g["preferredVersion"]}}
        return {"kind": "APIGroup", "apiVersion": "v1", **doc} if typed else doc


class Server:
    """The cluster over HTTPS on 127.0.0.1, one thread per connection."""

    def __init__(self, cluster: Cluster, latency: float, cert_file: Path, key_file: Path):
        self.stats = Stats()
        handler = type("Handler", (_Handler,), {"cluster": cluster, "stats": self.stats, "latency": latency})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert_file), str(key_file))
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "Server":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _certificates(directory: Path):
    from cryptography import x509

    from tests.collectors.world import make_cert

    ca = make_cert(directory, "bench-ca", sans=[], ca=True)
    server = make_cert(directory, "apiserver", sans=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))], issuer=(ca.cert, ca.key))
    hook = make_cert(directory, "x.kube-system.svc", sans=[x509.DNSName("x.kube-system.svc")], issuer=(ca.cert, ca.key))
    return ca, server, hook


def _kubeconfig(path: Path, server: str, ca_pem: bytes) -> Path:
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "bench",
        "clusters": [{"name": "bench", "cluster": {"server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "users": [{"name": "reader", "user": {"token": TOKEN}}],
        "contexts": [{"name": "bench", "context": {"cluster": "bench", "user": "reader"}}],
    }
    path.write_text(yaml.safe_dump(config))
    return path


# -- the run ---------------------------------------------------------------------------------------


# The collector's own peak: VmHWM of its address space. (wait4's ru_maxrss is no good here: it
# keeps the size of this process, cluster and all, that the child was forked from.)
_CHILD = """
import atexit, sys
def _peak():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            sys.stderr.write('\\nkupgrade-live-vmhwm-kb=' + line.split()[1] + '\\n')
atexit.register(_peak)
from kupgrade_lint.cli import main
sys.argv = ['kupgrade-lint'] + sys.argv[1:]
main()
"""
HWM_MARK = b"kupgrade-live-vmhwm-kb="


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_live(objects: int, latency_ms: float = 20.0, *, concurrency: int = 4, nodes: int | None = None, seed: int = 1,
             python: str | None = None, keep: Path | None = None, source: Path | None = None) -> dict:
    """Serve a generated cluster of ``objects`` objects, run ``kupgrade-lint collect`` against it, measure.

    ``python``: the interpreter that runs the collector (default: this one); ``keep``: write the
    snapshot there (default: a temporary directory, removed afterwards); ``source``: the checkout
    whose collector runs (default: this one), e.g. an exported older commit to compare with.
    """
    work = Path(tempfile.mkdtemp(prefix="kupgrade-live-"))
    try:
        ca, server_cert, hook = _certificates(work)
        t0 = time.perf_counter()
        cluster = build_cluster(objects, nodes, seed, hook.cert_pem)
        build_s = time.perf_counter() - t0
        out = keep or work / "snapshot"
        if keep and keep.exists():
            shutil.rmtree(keep)
        with Server(cluster, latency_ms / 1000.0, server_cert.cert_file, server_cert.key_file) as server:
            kubeconfig = _kubeconfig(work / "kubeconfig", server.url, ca.cert_pem)
            args = ["collect", "--to", str(out), "--kubeconfig", str(kubeconfig), "--concurrency", str(concurrency)]
            cmd = [python or sys.executable, "-c", _CHILD, *args]
            code = Path(source or REPO).resolve()
            env = dict(os.environ, PYTHONPATH=str(code))
            env.pop("KUBECONFIG", None)
            start = time.perf_counter()
            server_cpu = time.process_time()
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(code))
            # Read the pipes while it runs, then reap it ourselves to get its rusage.
            box: dict[str, bytes] = {}
            readers = [threading.Thread(target=lambda n=n, s=s: box.__setitem__(n, s.read())) for n, s in (("out", proc.stdout), ("err", proc.stderr))]
            for r in readers:
                r.start()
            _pid, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            server_cpu = time.process_time() - server_cpu
            for r in readers:
                r.join()
            proc.returncode = os.waitstatus_to_exitcode(status)
            stats = server.stats
        meta = json.loads((out / "kupgrade-snapshot.json").read_text()) if (out / "kupgrade-snapshot.json").exists() else {}
        result = _result(objects, latency_ms, concurrency, cluster, stats, wall, usage, proc.returncode, box.get("err", b""), meta, build_s)
        result["snapshot_bytes"] = _du(out) if out.exists() else 0
        result["server_cpu_s"] = round(server_cpu, 2)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _result(objects, latency_ms, concurrency, cluster, stats, wall, usage, rc, stderr, meta, build_s) -> dict:
    listings = sorted(stats.listings.values(), key=lambda l: (l.path, l.selectors))
    bad_pages = []
    twice = []
    for l in listings:
        want = max(1, math.ceil(l.matching / PAGE))
        if len(l.pages) != want or max(l.pages, default=0) > PAGE or l.limits != {PAGE}:
            bad_pages.append(f"{l.path}?{l.selectors}: {len(l.pages)} page(s) for {l.matching} objects (limit {sorted(l.limits)})")
        if l.starts > 1:
            twice.append(f"{l.path}?{l.selectors}: listed {l.starts} times")
    paths = Counter(l.path for l in listings)
    # make_snapshot's webhooks validate.y.com and policy.z.com name Services that do not exist.
    unexpected = [e for e in meta.get("collection_errors", []) if not str(e.get("reason", "")).endswith("/y does not exist")
                  and not str(e.get("reason", "")).endswith("/z does not exist")]
    webhook_gets = stats.gets.get("secrets", 0)
    other_gets = {k: v for k, v in stats.gets.items() if k != "secrets"}
    goals = {
        f"pages = ceil(n/{PAGE}) per listing, none over {PAGE} objects": not bad_pages,
        "nothing listed twice": not twice,
        "no per-object GETs (only the webhook-mounted Secret)": not other_gets and webhook_gets <= 1,
        f"in flight <= --concurrency {concurrency}": stats.max_in_flight <= concurrency,
        "collect exited 0, no collection errors but the generator's two webhooks without a Service": rc == 0 and not unexpected,
    }
    return {
        "objects": cluster.count,
        "objects_requested": objects,
        "served_bytes_of_objects": cluster.bytes,
        "latency_ms": latency_ms,
        "concurrency": concurrency,
        "wall_s": round(wall, 2),
        "peak_rss_mib": round(_peak_kib(stderr) / 1024, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "exit_code": rc,
        "stderr_tail": [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip() and HWM_MARK.decode() not in line][-3:],
        "collection_errors": meta.get("collection_errors", []),
        "requests": dict(sorted(stats.requests.items())),
        "requests_total": sum(stats.requests.values()),
        "single_object_gets": dict(sorted(stats.gets.items())),
        "listings": [{"path": l.path, "selectors": l.selectors, "objects": l.matching, "pages": len(l.pages),
                      "max_page": max(l.pages, default=0)} for l in listings],
        "listed_paths_more_than_once": {p: n for p, n in paths.items() if n > 1},
        "bad_pages": bad_pages,
        "listed_twice": twice,
        "max_in_flight": stats.max_in_flight,
        "bytes_sent": stats.bytes_sent,
        "build_cluster_s": round(build_s, 1),
        "goals": goals,
    }


def _peak_kib(stderr: bytes) -> float:
    for line in reversed(stderr.splitlines()):
        if line.startswith(HWM_MARK):
            return float(line[len(HWM_MARK):])
    return float("nan")


def _mib(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB"


def markdown(result: dict) -> str:
    """The result as a Markdown table (one row per figure), then one row per goal."""
    req = result["requests"]
    pages = [l for l in result["listings"]]
    largest = max(pages, key=lambda l: l["objects"], default={"path": "-", "objects": 0, "pages": 0})
    rows = [
        ("objects served", f"{result['objects']:,} ({_mib(result['served_bytes_of_objects'])} of JSON)"),
        ("simulated latency per request", f"{result['latency_ms']:g} ms"),
        ("collect wall time", f"{result['wall_s']:.1f} s (collector CPU {result['cpu_s']:.1f} s; test server CPU {result.get('server_cpu_s', 0):.1f} s)"),
        ("latency alone (requests x latency / concurrency)", f"{result['requests_total'] * result['latency_ms'] / 1000 / result['concurrency']:.1f} s"),
        ("collector peak RSS", f"{result['peak_rss_mib']:,.0f} MiB"),
        ("requests", f"{result['requests_total']:,}: " + ", ".join(f"{k} {v:,}" for k, v in req.items())),
        ("listings", f"{len(pages)} (largest: {largest['path']}, {largest['objects']:,} objects in {largest['pages']} pages)"),
        ("objects per page (max)", f"{max((l['max_page'] for l in pages), default=0)}"),
        ("single-object GETs", ", ".join(f"{k} {v}" for k, v in result["single_object_gets"].items()) or "none"),
        ("max requests in flight (server-side)", f"{result['max_in_flight']} (--concurrency {result['concurrency']})"),
        ("bytes sent by the server", _mib(result["bytes_sent"])),
        ("snapshot written", _mib(result.get("snapshot_bytes", 0))),
    ]
    lines = ["| live collection | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]
    lines += ["", "| goal | |", "|---|---|"] + [f"| {k} | {'met' if ok else '**not met**'} |" for k, ok in result["goals"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=None, help="Node objects (default objects/100)")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=4, help="the collector's --concurrency (default 4, its default)")
    parser.add_argument("--python", default=None, help="interpreter that runs the collector (default: this one)")
    parser.add_argument("--keep", type=Path, default=None, help="write the snapshot here and keep it")
    parser.add_argument("--source", type=Path, default=None, help="checkout whose collector runs (default: this one)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = parser.parse_args(argv)
    result = run_live(args.objects, args.latency_ms, concurrency=args.concurrency, nodes=args.nodes, python=args.python, keep=args.keep, source=args.source)
    if args.json:
        print(json.dumps(result))
    else:
        print(markdown(result))
        for line in result["bad_pages"] + result["listed_twice"]:
            print("  " + line)
        for err in result["collection_errors"]:
            print(f"  collection error: {err}")
    return 0 if all(result["goals"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
