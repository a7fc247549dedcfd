"""A read-only Kubernetes API transport: raw JSON over the kubernetes client's configuration.

The ``kubernetes`` package is used only for what it does well and what we must not redo:
loading a kubeconfig or the in-cluster configuration (contexts, exec and OIDC auth plugins,
custom CAs, client certificates, proxies) and its configured urllib3 pool. Responses are kept
as raw JSON (``dict``), never deserialised into the typed models: the models drop fields they
do not know, and the engine needs objects exactly as the apiserver sends them.

Only GET is ever sent.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

import urllib3

from kupgrade_lint import __version__
from kupgrade_lint.errors import CollectionError
from kupgrade_lint.urls import strip_userinfo

USER_AGENT = f"kupgrade-lint/{__version__}"

# Status codes worth another try: throttling and server-side trouble. An apiserver under
# API Priority and Fairness answers 429 with Retry-After
# (https://kubernetes.io/docs/concepts/cluster-administration/flow-control/).
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a request that failed in a way that may pass."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 10.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``: Retry-After if given, else backoff."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        backoff = self.base_delay * (2**attempt)
        return min(backoff * (0.5 + random.random() / 2), self.max_delay)


DEFAULT_RETRY = RetryPolicy()

# How many times a paginated list restarts after its continue token expired (410 Gone)
# before giving up on that resource.
MAX_LIST_RESTARTS = 3
PAGE_SIZE = 500

# A response is read within DEADLINE_FACTOR x timeout seconds in all (the timeout alone bounds
# each read, so a server that trickles bytes would otherwise hold a request forever) and may
# not exceed MAX_BODY_BYTES.
DEADLINE_FACTOR = 4
MAX_BODY_BYTES = 512 * 1024 * 1024
_CHUNK = 1024 * 1024


class JsonFloat(float):
    """A float read from a response, kept apart from plain floats so writers can tell.

    ``json.dumps`` prints it exactly as a float (``float.__repr__``); a faster encoder that
    prints floats differently (orjson writes ``1e-7`` where ``json`` writes ``1e-07``) refuses
    it, so a writer can use that encoder for objects without floats and stay byte-identical.
    ``NaN`` and ``Infinity`` (which ``json.loads`` accepts) become one too.
    """

    __slots__ = ()


def parse_json(raw: bytes | str) -> Any:
    """``json.loads``, with every float (and NaN/Infinity) a ``JsonFloat``."""
    return json.loads(raw, parse_float=JsonFloat, parse_constant=JsonFloat)


class _BodyError(Exception):
    """A response body that could not be read whole in time or within the size cap."""


class ApiError(Exception):
    """A request that failed for good: HTTP status (None if no response), reason, message."""

    def __init__(self, status: int | None, message: str, *, body: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.body = body or {}

    def describe(self) -> str:
        """One line for collection_errors, e.g. ``403 Forbidden: <Status message>``."""
        if self.status is None:
            return self.message
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "HTTP error"
        return f"{self.status} {phrase}: {self.message}" if self.message else f"{self.status} {phrase}"


class Unauthorized(ApiError):
    """401: the credentials are not accepted; nothing else can be read either."""


class Unreachable(ApiError):
    """No HTTP response at all (connection refused, TLS failure, timeouts) after retries."""


def _status_message(raw: bytes) -> tuple[str, dict | None]:
    """The message of a ``kind: Status`` body, or a short excerpt of whatever was sent."""
    try:
        body = json.loads(raw)
    except ValueError:
        text = raw[:200].decode("utf-8", "replace").strip()
        return text, None
    if isinstance(body, dict):
        return str(body.get("message") or body.get("reason") or ""), body
    return "", None


class KubeAPI:
    """GET requests against one apiserver, with timeouts, retries and pagination."""

    def __init__(self, api_client: Any, *, timeout: float = 30.0, retry: RetryPolicy | None = None):
        self._client = api_client
        self._config = api_client.configuration
        self._pool = api_client.rest_client.pool_manager
        self._host = str(self._config.host).rstrip("/")
        self._timeout = timeout
        self._retry = retry or DEFAULT_RETRY
        self._auth_lock = threading.Lock()
        self.host = strip_userinfo(self._host)  # for messages: never a password in a URL

    @classmethod
    def connect(
        cls, *, kubeconfig: str | None, context: str | None, timeout: float, retry: RetryPolicy | None = None
    ) -> "KubeAPI":
        """Load the configuration the way kubectl would; raise CollectionError if there is none."""
        from kubernetes import client as k8s_client
        from kubernetes import config as k8s_config

        configuration = k8s_client.Configuration()
        try:
            if kubeconfig is None and _should_use_in_cluster():
                k8s_config.load_incluster_config(client_configuration=configuration)
            else:
                k8s_config.load_kube_config(
                    config_file=kubeconfig, context=context, client_configuration=configuration, persist_config=False
                )
        except (k8s_config.ConfigException, OSError, ValueError, TypeError) as exc:
            where = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
            raise CollectionError(strip_userinfo(f"cannot load the Kubernetes configuration from {where}: {exc}")) from None
        return cls(k8s_client.ApiClient(configuration=configuration), timeout=timeout, retry=retry)

    # -- single requests -------------------------------------------------------------------

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": USER_AGENT}
        # auth_settings() runs the exec/OIDC refresh hook; keep it single-threaded.
        with self._auth_lock:
            settings = self._config.auth_settings()
        for setting in settings.values():
            if setting.get("in") == "header" and setting.get("value"):
                headers[setting["key"]] = setting["value"]
        return headers

    def _send_once(self, path: str, query: dict[str, Any] | None, accept: str) -> tuple[int, Any, bytes]:
        """(status, headers, body) of one GET; raises urllib3/OS errors and _BodyError."""
        url = self._host + path
        if query:
            url += "?" + urlencode(query)
        deadline = time.monotonic() + DEADLINE_FACTOR * self._timeout
        response = self._pool.request(
            "GET",
            url,
            headers=self._headers(accept),
            timeout=urllib3.Timeout(connect=self._timeout, read=self._timeout),
            retries=False,
            preload_content=False,
        )
        complete = False
        try:
            chunks: list[bytes] = []
            size = 0
            # read1 returns what has arrived, so the deadline is checked while a body trickles in.
            read = getattr(response, "read1", None) or response.read
            while True:
                chunk = read(_CHUNK)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise _BodyError(f"response larger than {MAX_BODY_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise _BodyError(f"response not complete after {DEADLINE_FACTOR * self._timeout:g} s")
            complete = True
            return response.status, response.headers, b"".join(chunks)
        finally:
            if complete:
                response.release_conn()
            else:
                response.close()

    def get_raw(self, path: str, query: dict[str, Any] | None = None, *, accept: str = "application/json") -> bytes:
        """GET ``path``; retry throttling, server errors and timeouts; return the body bytes."""
        return self._request(path, query, accept, parse=False)

    def get_json(self, path: str, query: dict[str, Any] | None = None) -> dict:
        """GET ``path`` and parse it as a JSON object (a broken body is retried, then an error)."""
        return self._request(path, query, "application/json", parse=True)

    def _request(self, path: str, query: dict[str, Any] | None, accept: str, *, parse: bool) -> Any:
        last: ApiError | None = None
        for attempt in range(self._retry.attempts):
            retry_after: float | None = None
            try:
                status, headers, raw = self._send_once(path, query, accept)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                last = Unreachable(None, f"no response from {self.host}: {_short(exc)}")
            except _BodyError as exc:
                last = Unreachable(None, f"broken response from {self.host}: {exc}")
            else:
                if 200 <= status < 300:
                    if not parse:
                        return raw
                    try:
                        body = parse_json(raw)
                        if not isinstance(body, dict):
                            raise ValueError("not a JSON object")
                        return body
                    except ValueError as exc:
                        last = ApiError(None, f"invalid JSON in the response ({len(raw)} bytes): {_short(exc)}")
                else:
                    message, body = _status_message(raw)
                    if status == 401:
                        raise Unauthorized(status, message or "the credentials were not accepted", body=body)
                    if status not in RETRYABLE_STATUS:
                        raise ApiError(status, message, body=body)
                    last = ApiError(status, message, body=body)
                    retry_after = _retry_after(headers.get("Retry-After"))
            if attempt + 1 < self._retry.attempts:
                time.sleep(self._retry.delay(attempt, retry_after))
        assert last is not None
        if last.status is None and not isinstance(last, Unreachable):
            raise ApiError(None, f"{last.message}, after {self._retry.attempts} attempts")
        if isinstance(last, Unreachable):
            raise Unreachable(None, f"{last.message} (after {self._retry.attempts} attempts)")
        raise ApiError(last.status, f"{last.message} (after {self._retry.attempts} attempts)", body=last.body)

    # -- lists -----------------------------------------------------------------------------

    def list_all(
        self,
        path: str,
        query: dict[str, Any] | None = None,
        *,
        on_page: Callable[[int], None] | None = None,
        each: Callable[[dict], Any] | None = None,
    ) -> dict:
        """Every item of a collection, page by page (``limit``/``continue``).

        Returns the first page's List envelope with ``items`` holding all items; with ``each``,
        ``items`` holds what ``each`` returned for every item (``None`` is left out), called as
        each page arrives so that only one page of raw items is alive at a time. A continue
        token that expired (410 Gone) is replaced by the inconsistent token the Status carries
        when there is one, else the list restarts from the beginning
        (https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks).
        """
        base = dict(query or {})
        for _restart in range(MAX_LIST_RESTARTS + 1):
            items: list[dict] = []
            envelope: dict | None = None
            token: str | None = None
            while True:
                params = dict(base, limit=PAGE_SIZE)
                if token:
                    params["continue"] = token
                try:
                    page = self.get_json(path, params)
                except ApiError as exc:
                    if exc.status == 410 and token:
                        inconsistent = (exc.body.get("metadata") or {}).get("continue")
                        if inconsistent:
                            token = inconsistent
                            continue
                        break  # restart the whole list
                    raise
                if on_page:
                    on_page(len(page.get("items") or []))
                if envelope is None:
                    envelope = page
                raw_items = page.pop("items", None) or []
                if each is None:
                    items.extend(i for i in raw_items if isinstance(i, dict))
                else:
                    items.extend(kept for kept in (each(i) for i in raw_items if isinstance(i, dict)) if kept is not None)
                del raw_items
                token = (page.get("metadata") or {}).get("continue") or None
                if not token:
                    envelope = dict(envelope)
                    envelope["items"] = items
                    meta = dict(envelope.get("metadata") or {})
                    meta.pop("continue", None)
                    meta.pop("remainingItemCount", None)
                    envelope["metadata"] = meta
                    return envelope
        raise ApiError(410, f"the list kept expiring; gave up after {MAX_LIST_RESTARTS} restarts")


def _should_use_in_cluster() -> bool:
    """In a pod without a kubeconfig, use the service account (as client-go's defaults do)."""
    if os.environ.get("KUBECONFIG"):
        return False
    if (Path.home() / ".kube" / "config").exists():
        return False
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _short(exc: BaseException) -> str:
    text = strip_userinfo(str(exc) or type(exc).__name__)
    return text if len(text) <= 200 else text[:197] + "..."
