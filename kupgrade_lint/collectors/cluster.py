"""Collect a live cluster into a snapshot directory (cluster/, helm/, tls/, metrics/).

Read-only by construction: only GET requests, matching the get/list ClusterRole shipped in
deploy/rbac.yaml. What cannot be read (403, 404, timeouts after retries, broken responses)
is recorded in ``collection_errors`` and everything else is still collected; only "nothing
can be collected at all" (no configuration, no connection, 401) raises CollectionError.

Every resource is listed through the version discovery prefers for its group, never through
a deprecated version when a current one serves it: listing through ``extensions/v1beta1``
would both mislead and show up in the cluster's own deprecated-API telemetry
(``apiserver_requested_deprecated_apis``,
https://kubernetes.io/blog/2020/09/03/warnings/#metrics). Which apiVersion an object is
really managed with is judged later by the engine, from the evidence kept in each object:
its last-applied-configuration annotation and its managedFields.
"""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Sequence, TextIO

from kupgrade_lint.collectors.discovery import APIResource, Discovery, discover
from kupgrade_lint.collectors.helm import (
    HelmDecodeError,
    HelmRelease,
    decode_helm2,
    decode_helm3,
    decode_helm3_secret_value,
    latest_deployed,
)
from kupgrade_lint.collectors.kubeapi import ApiError, KubeAPI, Unauthorized, Unreachable
from kupgrade_lint.collectors.metadata import write_metadata
from kupgrade_lint.collectors.redact import sanitize_manifest, sanitize_object
from kupgrade_lint.collectors.summary import CollectSummary, Tally
from kupgrade_lint.collectors.wanted import (
    LISTED,
    NOT_LISTABLE,
    NOT_SERVED,
    OWN_READS,
    PARTIAL,
    PARTIAL_DETAIL,
    WantedKind,
    coverage_entry,
    status_of_error,
)
from kupgrade_lint.collectors.tlscerts import (
    WebhookEndpoint,
    fetch_presented_chain,
    mounted_secret_names,
    pods_behind_service,
    public_certificates_from_secret,
    webhook_endpoints,
)
from kupgrade_lint.errors import CollectionError
from kupgrade_lint.json_text import indented_bytes


# kube-system ConfigMaps that hold cluster configuration kubeadm (and kubespray, which runs
# kubeadm) writes: https://kubernetes.io/docs/reference/setup-tools/kubeadm/implementation-details/
# kubelet-config-1.X became kubelet-config in v1.24 (kubeadm UnversionedKubeletConfigMap).
KUBE_SYSTEM_CONFIGMAPS = re.compile(r"^(kubeadm-config|kube-proxy|coredns|kubelet-config|kubelet-config-1\.\d+)$")

# Only these metric families are kept from /metrics: the apiserver's own record of which
# deprecated APIs were requested since it started
# (https://kubernetes.io/docs/reference/using-api/deprecation-guide/#migrate-to-non-deprecated-apis).
KEPT_METRICS = ("apiserver_requested_deprecated_apis",)

HELM3_SECRETS = ("owner=helm,status=deployed", "type=helm.sh/release.v1")
HELM3_CONFIGMAPS = "owner=helm,status=deployed"
HELM2_CONFIGMAPS = "OWNER=TILLER,STATUS=DEPLOYED"


def collect_cluster(
    out_dir: Path,
    *,
    wanted: Sequence[WantedKind],
    kubeconfig: str | None = None,
    context: str | None = None,
    progress: TextIO | None = None,
    concurrency: int = 4,
    timeout: float = 30.0,
) -> CollectSummary:
    """Write a snapshot of the cluster the kubeconfig (or in-cluster config) points at.

    ``wanted``: the kinds to list (``kupgrade_lint.scan_needs.wanted_kinds``); each is listed
    through the version discovery prefers, and its fate is recorded in the metadata's
    ``coverage``. ``progress`` gets a one-line running count when it is a terminal. Raises
    CollectionError only when nothing can be collected at all.
    """
    out_dir = Path(out_dir)
    tally = Tally(progress)
    api = KubeAPI.connect(kubeconfig=kubeconfig, context=context, timeout=timeout)
    collector = _ClusterCollector(api, out_dir, tally, max(1, int(concurrency)), timeout, tuple(wanted))
    from kupgrade_lint.heap import bulk_allocation

    # Parsed pages are trees (no cycles) and the largest resource lives until it is written:
    # the cyclic collector's runs would walk it again and again for nothing.
    with bulk_allocation():
        collector.run()
    summary = tally.summary()
    write_metadata(
        out_dir, server_version=collector.server_version, errors=summary.errors, merge_existing=False,
        coverage={"cluster": {"resources": collector.coverage_entries()}},
    )
    return summary


def _fatal(api: KubeAPI, exc: ApiError) -> CollectionError:
    if isinstance(exc, Unauthorized):
        return CollectionError(f"{api.host} refused the credentials: {exc.describe()}")
    return CollectionError(f"cannot connect to {api.host}: {exc.message}")


def _scope(res: APIResource, namespace: str | None) -> str:
    if namespace:
        return f" in namespace {namespace}"
    return " in all namespaces" if res.namespaced else ""


class _ClusterCollector:
    def __init__(self, api: KubeAPI, out_dir: Path, tally: Tally, concurrency: int, timeout: float, wanted: tuple[WantedKind, ...]):
        self.api = api
        self.wanted = wanted
        self._coverage: list[dict] = []
        self._coverage_lock = threading.Lock()
        self.out = out_dir
        self.tally = tally
        self.concurrency = concurrency
        self.timeout = timeout
        self.server_version: dict | None = None
        self.listed: dict[str, list[dict]] = {}
        self.helm: list[HelmRelease] = []

    # -- orchestration ---------------------------------------------------------------------

    def run(self) -> None:
        try:
            self.server_version = self.api.get_json("/version")
        except (Unauthorized, Unreachable) as exc:
            raise _fatal(self.api, exc) from None
        except ApiError as exc:
            self.tally.error("read the server version (/version)", exc.describe())
        try:
            discovery = discover(self.api, concurrency=self.concurrency, on_error=self.tally.error)
        except (Unauthorized, Unreachable) as exc:
            raise _fatal(self.api, exc) from None
        for stem, doc in sorted(discovery.documents.items()):
            self._write_json(Path("discovery", f"{stem}.json"), doc)
        jobs = self._plan(discovery)
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for future in [pool.submit(job) for job in jobs]:
                future.result()
        self._guarded("read the serving certificates of webhooks", self._collect_webhook_certificates)()
        self._guarded("write the Helm releases", self._write_helm)()

    def _plan(self, discovery: Discovery) -> list[Callable[[], None]]:
        jobs: list[Callable[[], None]] = []
        for want in self.wanted:
            if want.kind in OWN_READS:
                continue
            res = discovery.find_kind(want.kind, want.groups, want.avoid)
            if res is not None:
                jobs.append(self._guarded(f"list {res.group_version} {res.name}", lambda res=res: self._list_resource(res)))
                continue
            failed = discovery.unresolved_because_failed(want.groups)
            if failed:
                reason = f"not found in discovery; discovery of {', '.join(failed)} failed"
                self.tally.error(f"list {want.kind} ({', '.join(g or 'core' for g in want.groups)})", reason)
                self._cover(coverage_entry(want.kind, "error", detail=reason))
            elif discovery.serves_kind(want.kind, want.groups):
                self._cover(coverage_entry(want.kind, NOT_LISTABLE, detail="served without the list verb"))
            else:
                groups = ", ".join(g or "core" for g in want.groups)
                self._cover(coverage_entry(want.kind, NOT_SERVED, detail=f"no version of {groups} serves it: nothing there to check"))
        core_cm = discovery.find("configmaps", ("",))
        core_secret = discovery.find("secrets", ("",))
        if core_cm is not None:
            jobs.append(self._guarded("list kube-system configmaps", lambda: self._list_kube_system_configmaps(core_cm)))
            jobs.append(self._guarded("list Helm 3 release configmaps", lambda: self._list_helm_configmaps(core_cm, HELM3_CONFIGMAPS, 3)))
            jobs.append(self._guarded("list Helm 2 release configmaps", lambda: self._list_helm_configmaps(core_cm, HELM2_CONFIGMAPS, 2)))
        if core_secret is not None:
            jobs.append(self._guarded("list Helm 3 release secrets", lambda: self._list_helm3_secrets(core_secret)))
        for kind, res in (("ConfigMap", core_cm), ("Secret", core_secret)):
            if res is not None:
                self._cover(coverage_entry(kind, PARTIAL, group="", version=res.version, resource=res.name, detail=PARTIAL_DETAIL[kind]))
            else:
                self._cover(coverage_entry(kind, NOT_SERVED, detail="the core API does not offer it"))
        jobs.append(self._guarded("read the apiserver metrics (/metrics)", self._read_metrics))
        return jobs

    def _cover(self, entry: dict) -> None:
        with self._coverage_lock:
            self._coverage.append(entry)

    def coverage_entries(self) -> list[dict]:
        """Every coverage entry, in a stable order (kind, then group)."""
        with self._coverage_lock:
            return sorted(self._coverage, key=lambda e: (e["kind"], e["group"] or "", e["status"]))

    def _guarded(self, what: str, job: Callable[[], None]) -> Callable[[], None]:
        """``job``, with anything it did not expect from the server recorded instead of raised.

        A response of an unexpected shape must cost that one resource, never the collection.
        """

        def run() -> None:
            try:
                job()
            except ApiError as exc:
                self.tally.error(what, exc.describe())
            except Exception as exc:  # noqa: BLE001 - the server's data, not our state, is at fault
                self.tally.error(what, f"unexpected response ({type(exc).__name__}: {str(exc)[:200]}); not collected")

        return run

    # -- lists -----------------------------------------------------------------------------

    def _list(
        self,
        res: APIResource,
        what: str,
        *,
        namespace: str | None = None,
        query: dict | None = None,
        cover: bool = False,
        keep: Callable[[dict], Any] | None = None,
    ) -> list | None:
        """The items of a list, typed and sorted by namespace and name.

        With ``keep``, what ``keep`` returns for each typed item, in the order the server sent
        them (the caller sorts); it runs as each page arrives, so the raw page is dropped early.
        """

        def typed(item: dict) -> Any:
            # List responses leave apiVersion/kind off built-in items; kubectl puts them back.
            out = {"apiVersion": item.get("apiVersion") or res.api_version, "kind": item.get("kind") or res.kind}
            out.update((k, v) for k, v in item.items() if k not in out)
            return out if keep is None else keep(out)

        try:
            envelope = self.api.list_all(
                res.collection_path(namespace), query, on_page=lambda _n: self.tally.add(pages=1), each=typed
            )
        except ApiError as exc:
            self.tally.error(what, exc.describe())
            if cover:
                self._cover(coverage_entry(res.kind, status_of_error(exc.status), group=res.group, version=res.version, resource=res.name, detail=exc.describe()))
            return None
        self.tally.add(resources=1)
        items = envelope.get("items") or []
        if keep is None:
            items.sort(key=_sort_key)
        return items

    def _list_resource(self, res: APIResource) -> None:
        what = f"list {res.group_version} {res.name}{_scope(res, None)}"
        kept_for_certificates = CERTIFICATE_INPUTS.get(res.name)

        def keep(item: dict) -> tuple:
            # Secrets are never written; everything else keeps only what allowlist.py allows,
            # held as the bytes to write (a fraction of the memory of the parsed object).
            cleaned = sanitize_object(item) if item.get("kind") != "Secret" else None
            written = indented_bytes(cleaned) if cleaned is not None else None
            return _sort_key(item), written, kept_for_certificates(item) if kept_for_certificates else None

        rows = self._list(res, what, cover=True, keep=keep)
        if rows is None:
            return
        rows.sort(key=lambda row: row[0])
        if kept_for_certificates:
            self.listed[res.name] = [row[2] for row in rows]
        written = self._write_dumped(Path("cluster", res.group or "core", res.version, f"{res.name}.json"), [row[1] for row in rows if row[1] is not None])
        self._cover(coverage_entry(res.kind, LISTED, group=res.group, version=res.version, resource=res.name, objects=written))

    def _list_kube_system_configmaps(self, res: APIResource) -> None:
        what = f"list {res.group_version} configmaps in namespace kube-system"
        items = self._list(res, what, namespace="kube-system")
        if items is None:
            return
        kept = [i for i in items if KUBE_SYSTEM_CONFIGMAPS.match(str((i.get("metadata") or {}).get("name", "")))]
        self._write_list(Path("cluster", "core", res.version, "configmaps.kube-system.json"), kept)

    def _list_helm_configmaps(self, res: APIResource, selector: str, major: int) -> None:
        what = f"list {res.group_version} configmaps labelled {selector} in all namespaces (Helm {major} releases)"
        items = self._list(res, what, query={"labelSelector": selector})
        if items is None:
            return
        decode = decode_helm3 if major == 3 else decode_helm2
        for item in items:
            self._decode_release(item, lambda value: decode(value))

    def _list_helm3_secrets(self, res: APIResource) -> None:
        labels, fields = HELM3_SECRETS
        what = f"list {res.group_version} secrets labelled {labels} in all namespaces (Helm 3 releases)"
        items = self._list(res, what, query={"labelSelector": labels, "fieldSelector": fields})
        if items is None:
            return
        for item in items:
            self._decode_release(item, decode_helm3_secret_value)

    def _decode_release(self, item: dict, decode: Callable[[str], HelmRelease]) -> None:
        meta = item.get("metadata") or {}
        label = f"{item.get('kind', 'object')} {meta.get('namespace', '')}/{meta.get('name', '')}"
        value = (item.get("data") or {}).get("release")
        if not isinstance(value, str):
            self.tally.error(f"decode the Helm release in {label}", "no data.release")
            return
        try:
            release = decode(value)
        except (HelmDecodeError, ValueError) as exc:
            self.tally.error(f"decode the Helm release in {label}", str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a hostile or broken record costs only itself
            self.tally.error(f"decode the Helm release in {label}", f"{type(exc).__name__}: {str(exc)[:200]}")
            return
        if release.helm_major == 3 and not release.namespace:
            release = HelmRelease(release.name, str(meta.get("namespace", "")), release.version, release.status, release.manifest, 3)
        self.helm.append(release)

    def _read_metrics(self) -> None:
        try:
            raw = self.api.get_raw("/metrics", accept="text/plain")
        except ApiError as exc:
            self.tally.error("read the apiserver metrics (/metrics)", exc.describe())
            return
        self.tally.add(resources=1)
        kept = [
            line
            for line in raw.decode("utf-8", "replace").splitlines()
            if any(
                line.startswith(name) or line.startswith(f"# HELP {name} ") or line.startswith(f"# TYPE {name} ")
                for name in KEPT_METRICS
            )
        ]
        header = f"# kupgrade-lint kept only: {', '.join(KEPT_METRICS)}\n"
        self._write_text(Path("metrics", "kube-apiserver.txt"), header + "".join(line + "\n" for line in kept))

    # -- webhook certificates --------------------------------------------------------------

    def _collect_webhook_certificates(self) -> None:
        configs = [
            obj
            for resource in ("mutatingwebhookconfigurations", "validatingwebhookconfigurations", "customresourcedefinitions", "apiservices")
            for obj in self.listed.get(resource, [])
        ]
        endpoints = webhook_endpoints(configs)
        if not endpoints:
            return
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            list(pool.map(lambda ep: self._guarded(f"read the serving certificate of {ep.webhook}", lambda: self._certificate_of(ep))(), endpoints))

    def _certificate_of(self, ep: WebhookEndpoint) -> None:
        what = f"read the serving certificate of {ep.webhook} ({ep.host}:{ep.port})"
        if ep.url:
            try:
                pem = fetch_presented_chain(ep.host, ep.port, self.timeout)
            except (OSError, ValueError) as exc:
                self.tally.error(what, f"TLS handshake failed: {exc}")
                return
        else:
            if "services" not in self.listed or "pods" not in self.listed:
                self.tally.error(what, "services or pods could not be listed")
                return
            pem = self._certificate_from_service(ep, what)
            if not pem:
                return
        self._write_text(Path("tls", f"{ep.file_stem}.pem"), pem)
        self.tally.add(objects=1)

    def _certificate_from_service(self, ep: WebhookEndpoint, what: str) -> str:
        service = next(
            (
                s
                for s in self.listed["services"]
                if (s.get("metadata") or {}).get("namespace") == ep.service_namespace
                and (s.get("metadata") or {}).get("name") == ep.service_name
            ),
            None,
        )
        if service is None:
            self.tally.error(what, f"service {ep.service_namespace}/{ep.service_name} does not exist")
            return ""
        names: list[str] = []
        for pod in pods_behind_service(service, self.listed["pods"]):
            names.extend(n for n in mounted_secret_names(pod) if n not in names)
        reasons = []
        for name in names:
            path = f"/api/v1/namespaces/{ep.service_namespace}/secrets/{name}"
            try:
                secret = self.api.get_json(path)
            except ApiError as exc:
                reasons.append(f"secret {name}: {exc.describe()}")
                continue
            pem = public_certificates_from_secret(secret)
            del secret  # the rest of the Secret is never kept
            if pem:
                return pem
        detail = "; ".join(reasons) if reasons else "no mounted Secret with a tls.crt"
        self.tally.error(what, f"no serving certificate found in the pods behind the service: {detail}")
        return ""

    # -- Helm ------------------------------------------------------------------------------

    def _write_helm(self) -> None:
        chosen: dict[tuple[str, str], HelmRelease] = {}
        # Helm 3 wins over a Helm 2 record of the same release (a helm-2to3 migration).
        for (_major, ns, name), rel in sorted(latest_deployed(self.helm).items()):
            chosen[(ns, name)] = rel
        for (ns, name), rel in sorted(chosen.items()):
            if not _safe_segment(ns) or not _safe_segment(name):
                self.tally.error(f"write Helm release {ns}/{name}", "unsafe namespace or release name")
                continue
            clean = sanitize_manifest(rel.manifest)
            for dropped in clean.dropped:
                self.tally.error(f"write Helm release {ns}/{name}", f"{dropped} was removed and not checked (it could be a Secret)")
            self._write_text(Path("helm", ns, f"{name}.yaml"), clean.text)
            self.tally.add(objects=1)

    # -- writing ---------------------------------------------------------------------------

    def _write_list(self, rel: Path, items: list[dict]) -> int:
        # Secrets are never written; everything else keeps only what allowlist.py allows.
        cleaned = [c for c in (sanitize_object(i) for i in items if i.get("kind") != "Secret") if c is not None]
        return self._write_cleaned(rel, cleaned)

    def _write_cleaned(self, rel: Path, items: list[dict]) -> int:
        """Write ``items`` (already sanitized) as one ``kind: List``."""
        return self._write_dumped(rel, [indented_bytes(item) for item in items])

    def _write_dumped(self, rel: Path, dumped: list[bytes]) -> int:
        """Write a ``kind: List`` of items already dumped by ``json_text.indented_bytes``, one at a time."""
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not dumped:
            path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": []}, indent=2) + "\n", encoding="utf-8")
        else:
            # Byte for byte what json.dumps(list, indent=2, ensure_ascii=False) writes: each item
            # indented by its depth (two levels); JSON strings hold no raw newline.
            with path.open("wb") as out:
                out.write(_LIST_HEAD)
                for index, item in enumerate(dumped):
                    if index:
                        out.write(b",\n")
                    out.write(b"    " + item.replace(b"\n", b"\n    "))
                out.write(b"\n  ]\n}\n")
        self.tally.add(objects=len(dumped))
        return len(dumped)

    def _write_json(self, rel: Path, data: dict) -> None:
        self._write_text(rel, json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def _write_text(self, rel: Path, text: str) -> None:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


_LIST_HEAD = b'{\n  "apiVersion": "v1",\n  "kind": "List",\n  "metadata": {},\n  "items": [\n'


def _slim(metadata: tuple[str, ...], spec: tuple[str, ...]) -> Callable[[dict], dict]:
    """What finding a webhook's certificate reads of an object: these metadata and spec fields."""

    def slim(obj: dict) -> dict:
        meta, body = obj.get("metadata"), obj.get("spec")
        if not isinstance(meta, dict) or not isinstance(body, dict):
            return obj
        return {"metadata": {k: meta[k] for k in metadata if k in meta}, "spec": {k: body[k] for k in spec if k in body}}

    return slim


# Listed resources kept in memory after they are written, for the webhook certificates (what
# of each object is kept); the rest of the cluster is dropped once written.
CERTIFICATE_INPUTS: dict[str, Callable[[dict], dict]] = {
    "mutatingwebhookconfigurations": lambda obj: obj,
    "validatingwebhookconfigurations": lambda obj: obj,
    "customresourcedefinitions": lambda obj: obj,
    "apiservices": lambda obj: obj,
    "services": _slim(("namespace", "name"), ("selector",)),
    "pods": _slim(("namespace", "labels"), ("volumes",)),
}


def _sort_key(obj: dict) -> tuple[str, str]:
    return (str(_meta(obj).get("namespace") or ""), str(_meta(obj).get("name") or ""))


def _meta(obj: dict) -> dict:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _safe_segment(name: str) -> bool:
    return bool(name) and "/" not in name and name not in (".", "..") and "\x00" not in name


__all__ = ["collect_cluster"]
