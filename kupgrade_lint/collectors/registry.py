"""The tags an image registry holds, written as ``registry/<repository>/<image>/tags.json``.

A kubeadm upgrade pulls each hop's images from the cluster's ``imageRepository``; in an
air-gapped cluster that is a private registry, and a missing tag stops the hop. This collector
asks the registry what it holds through the Docker Registry HTTP API v2
(https://distribution.github.io/distribution/spec/api/), GET only:

- ``GET /v2/`` once, to learn whether the registry answers at all;
- ``GET /v2/<name>/tags/list`` per image, following ``Link: <...>; rel="next"`` pages
  (https://distribution.github.io/distribution/spec/api/#pagination).

Authentication follows the registry's ``WWW-Authenticate`` challenge: ``Bearer`` means a token
from the realm, anonymous or with basic credentials
(https://distribution.github.io/distribution/spec/auth/token/); ``Basic`` means basic
credentials on every request. Credentials and tokens are never written anywhere.

A 404 means the repository does not exist: nothing is written for that image, and the check
reports it as missing. Anything else that fails becomes a ``collection_errors`` entry.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import time
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Sequence
from urllib.parse import urlencode, urljoin, urlsplit

import urllib3

from kupgrade_lint.collectors import kubeapi
from kupgrade_lint.collectors.kubeapi import RETRYABLE_STATUS, USER_AGENT
from kupgrade_lint.collectors.metadata import write_metadata
from kupgrade_lint.collectors.summary import CollectSummary, Tally
from kupgrade_lint.errors import UsageError

# What kubeadm pulls from its imageRepository, under both CoreDNS layouts (flat ``coredns``
# with a custom repository, ``coredns/coredns`` under the default one; see kupgrade_lint/images.py).
DEFAULT_IMAGES: tuple[str, ...] = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kube-proxy",
    "coredns",
    "coredns/coredns",
    "etcd",
    "pause",
)

# Tags asked for per page. Registries may answer with fewer and a Link to the rest.
PAGE_SIZE = 1000
# A registry whose Link headers never end is broken; stop rather than loop.
MAX_PAGES = 1000
MAX_REDIRECTS = 5
# A manifest or image config is a few KiB; anything this large is not one.
MAX_DOCUMENT = 4 << 20
# Every manifest media type kubeadm's images come as: OCI index and manifest, Docker manifest list and schema 2.
MANIFEST_ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)

# The reference grammar of distribution (reference/regexp.go): a host with an optional port,
# then lowercase path components.
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?$")
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_LINK_NEXT = re.compile(r'<([^>]*)>\s*;[^,]*\brel="?next"?', re.IGNORECASE)
_CHALLENGE_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclass(frozen=True)
class Repository:
    """An image repository ``host[:port]/path``, split."""

    host: str
    path: str  # "" when images sit directly under the host

    @classmethod
    def parse(cls, text: str) -> "Repository":
        """Validate ``host[:port][/path]``; raise UsageError for anything else (URLs included)."""
        text = text.strip().rstrip("/")
        if "://" in text:
            raise UsageError(f"--repository {text!r}: give an image repository (host[:port]/path), not a URL")
        host, _, path = text.partition("/")
        if not _HOST.match(host):
            raise UsageError(f"--repository {text!r}: {host!r} is not a registry host[:port]")
        if path and not all(_COMPONENT.match(part) for part in path.split("/")):
            raise UsageError(f"--repository {text!r}: {path!r} is not a repository path (lowercase components)")
        return cls(host, path)

    def name_of(self, image: str) -> str:
        """The repository name the registry API uses for ``image`` (no host)."""
        return f"{self.path}/{image}" if self.path else image

    def __str__(self) -> str:
        return f"{self.host}/{self.path}" if self.path else self.host


class RegistryError(Exception):
    """A registry request that failed for good; ``str()`` is the collection_errors reason."""

    def __init__(self, reason: str, *, status: int | None = None):
        super().__init__(reason)
        self.status = status


def collect_registry(
    out_dir: Path,
    *,
    repository: str,
    images: Sequence[str] = DEFAULT_IMAGES,
    insecure_http: bool = False,
    ca_file: str | None = None,
    credentials: tuple[str, str] | None = None,
    timeout: float = 30.0,
) -> CollectSummary:
    """Write the tag list of every image under ``repository`` into ``out_dir/registry/``.

    ``out_dir`` may already hold a snapshot: only ``registry/<repository>/...`` is written and
    the collection errors are merged into its ``kupgrade-snapshot.json``. Raises UsageError
    only for an invalid repository, image name or CA file; every registry failure is recorded
    instead.
    """
    out_dir = Path(out_dir)
    repo = Repository.parse(repository)
    for image in images:
        if not all(_COMPONENT.match(part) for part in str(image).split("/")):
            raise UsageError(f"--image {image!r}: not an image name (lowercase path components)")
    tally = Tally()
    client = _RegistryClient(repo.host, insecure_http=insecure_http, ca_file=ca_file, credentials=credentials, timeout=timeout)
    base = out_dir / "registry" / repo.host
    try:
        client.ping()
    except RegistryError as exc:
        tally.error(f"reach the image registry {repo.host} (GET {client.origin}/v2/)", str(exc))
    else:
        # The host directory says "this registry was collected": an image without tags.json
        # under it is then reported as missing, not as unchecked.
        base.mkdir(parents=True, exist_ok=True)
        for image in dict.fromkeys(images):
            _collect_image(client, repo, image, base, tally)
    summary = tally.summary()
    write_metadata(out_dir, errors=summary.errors, merge_existing=True)
    return summary


def _collect_image(client: "_RegistryClient", repo: Repository, image: str, base: Path, tally: Tally) -> None:
    name = repo.name_of(image)
    target = base.joinpath(*name.split("/"), "tags.json")
    try:
        tags = client.list_tags(name, on_page=lambda: tally.add(pages=1))
    except RegistryError as exc:
        tally.error(f"list the tags of {repo.host}/{name} (GET {client.origin}/v2/{name}/tags/list)", str(exc))
        return
    tally.add(resources=1)
    if tags is None:
        target.unlink(missing_ok=True)  # a copy from an earlier collection would now be wrong
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"name": name, "tags": sorted(tags)}) + "\n", encoding="utf-8")
    tally.add(objects=1)


class _RegistryClient:
    """GET requests against one registry: retries, the auth challenge, pagination."""

    def __init__(self, host: str, *, insecure_http: bool, ca_file: str | None, credentials: tuple[str, str] | None, timeout: float):
        self.origin = f"{'http' if insecure_http else 'https'}://{host}"
        self._insecure_http = insecure_http
        self._credentials = credentials
        self._timeout = urllib3.Timeout(connect=timeout, read=timeout)
        # CERT_REQUIRED and hostname checking, with the system CAs or only ca_file's.
        try:
            context = ssl.create_default_context(cafile=ca_file)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--ca-file {ca_file}: not a readable PEM CA bundle ({_short(exc)})") from None
        self._pool = urllib3.PoolManager(ssl_context=context)

    # -- single requests -------------------------------------------------------------------

    def _get(self, url: str, authorization: str | None, *, method: str = "GET", accept: str = "application/json") -> urllib3.BaseHTTPResponse:
        """GET ``url``, following redirects (registry.k8s.io redirects every request to a mirror).

        Credentials go only to the origin they were meant for, never along a redirect elsewhere.
        """
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._get_once(url, authorization, method=method, accept=accept)
            location = response.headers.get("Location")
            if response.status not in (301, 302, 303, 307, 308) or not location:
                return response
            next_url = urljoin(url, location)
            if urlsplit(next_url).scheme not in ("https", "http") or (urlsplit(next_url).scheme == "http" and not self._insecure_http):
                raise RegistryError(f"{_describe(response)}: redirected to {_origin(next_url)}, which is not https; not followed")
            if _origin(next_url) != _origin(url):
                authorization = None
            url = next_url
        raise RegistryError(f"more than {MAX_REDIRECTS} redirects")

    def _get_once(self, url: str, authorization: str | None, *, method: str = "GET", accept: str = "application/json") -> urllib3.BaseHTTPResponse:
        """One GET (or HEAD) with retries of connection failures, timeouts, 429 and 5xx."""
        headers = {"Accept": accept, "User-Agent": USER_AGENT}
        if authorization:
            headers["Authorization"] = authorization
        retry = kubeapi.DEFAULT_RETRY
        last: RegistryError | None = None
        for attempt in range(retry.attempts):
            retry_after: float | None = None
            try:
                response = self._pool.request(
                    method, url, headers=headers, timeout=self._timeout, retries=False, redirect=False, preload_content=True
                )
            except urllib3.exceptions.SSLError as exc:
                # Certificate problems do not pass by themselves.
                raise RegistryError(f"TLS failure talking to {_origin(url)}: {_short(exc)}") from None
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                last = RegistryError(f"no response from {_origin(url)}: {_short(exc)}")
            else:
                if response.status not in RETRYABLE_STATUS:
                    return response
                last = RegistryError(_describe(response), status=response.status)
                retry_after = _retry_after(response.headers.get("Retry-After"))
            if attempt + 1 < retry.attempts:
                time.sleep(retry.delay(attempt, retry_after))
        assert last is not None
        raise RegistryError(f"{last} (after {retry.attempts} attempts)", status=last.status)

    def ping(self) -> None:
        """``GET /v2/``: 200, or 401 with a challenge, means a v2 registry is there."""
        response = self._get(f"{self.origin}/v2/", None)
        if response.status == 200 or (response.status == 401 and response.headers.get("WWW-Authenticate")):
            return
        raise RegistryError(f"not a Docker Registry v2 API: {_describe(response)}", status=response.status)

    def _authorized_get(self, url: str, auth: list[str | None], *, method: str = "GET", accept: str = "application/json") -> urllib3.BaseHTTPResponse:
        """GET ``url``; on a 401 answer its challenge once and ask again. ``auth`` carries the header across pages."""
        response = self._get(url, auth[0], method=method, accept=accept)
        if response.status != 401:
            return response
        challenge = _parse_challenge(response.headers.getlist("WWW-Authenticate"))
        if challenge is None:
            raise RegistryError(f"{_describe(response)} (no usable WWW-Authenticate challenge)", status=401)
        scheme, params = challenge
        if scheme == "basic":
            if self._credentials is None:
                raise RegistryError(f"{_describe(response)}; the registry wants a username and password", status=401)
            auth[0] = _basic(self._credentials)
        else:
            auth[0] = f"Bearer {self._token(params)}"
        response = self._get(url, auth[0], method=method, accept=accept)
        if response.status == 401:
            hint = "the credentials were not accepted" if self._credentials else "the registry wants a username and password"
            raise RegistryError(f"{_describe(response)}; {hint}", status=401)
        return response

    def _token(self, params: dict[str, str]) -> str:
        """A bearer token from the challenge's realm (https://distribution.github.io/distribution/spec/auth/token/)."""
        realm = params.get("realm", "")
        parts = urlsplit(realm)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise RegistryError(f"the Bearer challenge names no usable token realm ({realm!r})", status=401)
        if parts.scheme == "http" and not self._insecure_http:
            raise RegistryError(f"the token realm {_origin(realm)} is plain http; refusing it without --insecure-http", status=401)
        query = [(key, params[key]) for key in ("service", "scope") if params.get(key)]
        url = realm + ("&" if parts.query else "?") + urlencode(query) if query else realm
        response = self._get(url, _basic(self._credentials) if self._credentials else None)
        if response.status != 200:
            who = "the credentials" if self._credentials else "an anonymous token request"
            raise RegistryError(f"the token service {_origin(realm)} refused {who}: {_describe(response)}", status=response.status)
        try:
            body = json.loads(response.data or b"")
            token = body.get("token") or body.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"the token service {_origin(realm)} sent no token")
        return token

    # -- tag lists -------------------------------------------------------------------------

    def list_tags(self, name: str, *, on_page=None) -> list[str] | None:
        """Every tag of repository ``name``, all pages merged; None if it does not exist (404)."""
        url = f"{self.origin}/v2/{name}/tags/list?{urlencode({'n': PAGE_SIZE})}"
        auth: list[str | None] = [None]
        tags: set[str] = set()
        seen: set[str] = set()
        for page_number in range(MAX_PAGES):
            seen.add(url)
            response = self._authorized_get(url, auth)
            if response.status == 404:
                if page_number == 0:
                    return None  # NAME_UNKNOWN
                raise RegistryError(f"a later page vanished: {_describe(response)}", status=404)
            if response.status != 200:
                raise RegistryError(_describe(response), status=response.status)
            try:
                body = json.loads(response.data or b"")
                page = body.get("tags") or []
                if not isinstance(page, list):
                    raise ValueError("'tags' is not a list")
            except (ValueError, AttributeError) as exc:
                raise RegistryError(f"not a tags/list response ({len(response.data or b'')} bytes): {_short(exc)}") from None
            tags.update(str(t) for t in page)
            if on_page:
                on_page()
            link = _next_link(response.headers.getlist("Link"))
            if link is None:
                return sorted(tags)
            next_url = urljoin(url, link)
            # The token or password goes with the request: never to another origin.
            if _origin(next_url) != _origin(url):
                raise RegistryError(f"the next page is on another origin ({_origin(next_url)}); not followed")
            if next_url in seen:
                raise RegistryError("the registry's next-page link repeats a page already read")
            url = next_url
        raise RegistryError(f"more than {MAX_PAGES} pages of tags; gave up")


    # -- manifests --------------------------------------------------------------------------

    def manifest(self, name: str, tag: str, *, platforms: bool, auth: list[str | None]) -> dict:
        """What the registry answers for ``name:tag``: found or not, its media type and (when asked) its platforms.

        ``HEAD /v2/<name>/manifests/<tag>`` with every manifest media type in Accept says whether
        it exists (https://distribution.github.io/distribution/spec/api/#existing-manifests); the
        platforms come from the index (OCI image index, Docker manifest list) or, for a single
        manifest, from its config blob.
        """
        url = f"{self.origin}/v2/{name}/manifests/{tag}"
        response = self._authorized_get(url, auth, method="HEAD", accept=MANIFEST_ACCEPT)
        if response.status == 404:
            return {"found": False}
        if response.status != 200:
            raise RegistryError(_describe(response), status=response.status)
        media_type = (response.headers.get("Content-Type") or "").split(";")[0].strip()
        answer: dict = {"found": True, "media_type": media_type or None, "digest": response.headers.get("Docker-Content-Digest")}
        if platforms:
            answer["platforms"] = self._platforms(name, url, auth)
        return answer

    def _platforms(self, name: str, url: str, auth: list[str | None]) -> list[str]:
        response = self._authorized_get(url, auth, accept=MANIFEST_ACCEPT)
        if response.status != 200:
            raise RegistryError(_describe(response), status=response.status)
        body = _json_object(response.data, "manifest")
        if isinstance(body.get("manifests"), list):
            found = set()
            for entry in body["manifests"]:
                platform = entry.get("platform") if isinstance(entry, dict) else None
                if isinstance(platform, dict) and platform.get("architecture"):
                    found.add(f"{platform.get('os', 'linux')}/{platform['architecture']}")
            return sorted(found)
        config = body.get("config")
        digest = config.get("digest") if isinstance(config, dict) else None
        if not isinstance(digest, str) or not digest.startswith("sha256:"):
            raise RegistryError("the manifest names no config blob")
        blob = self._authorized_get(f"{self.origin}/v2/{name}/blobs/{digest}", auth, accept="application/json")
        if blob.status != 200:
            raise RegistryError(f"config blob {digest}: {_describe(blob)}", status=blob.status)
        image = _json_object(blob.data, "image config")
        arch = image.get("architecture")
        return [f"{image.get('os', 'linux')}/{arch}"] if isinstance(arch, str) and arch else []


def _json_object(data: bytes | None, what: str) -> dict:
    if data is not None and len(data) > MAX_DOCUMENT:
        raise RegistryError(f"the {what} is larger than {MAX_DOCUMENT} bytes")
    try:
        body = json.loads(data or b"")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise RegistryError(f"not a {what} ({len(data or b'')} bytes of something else)")
    return body


def check_images(
    out_dir: Path,
    images: Sequence[str],
    *,
    platforms: bool,
    insecure_http: bool = False,
    ca_file: str | None = None,
    credentials_for=None,
    timeout: float = 30.0,
) -> CollectSummary:
    """Ask each image's registry whether it holds the manifest; write ``registry/<name>/manifests.json``.

    ``images`` are full references ``host/path:tag``; ``credentials_for(host)`` gives the
    (user, password) for a registry or None. Nothing is judged here: the answers are recorded,
    and every failure to ask becomes a ``collection_errors`` entry naming the registry.
    """
    out_dir = Path(out_dir)
    tally = Tally()
    by_host: dict[str, list[tuple[str, str]]] = {}
    for reference in dict.fromkeys(images):
        name, _, tag = reference.rpartition(":")
        host, _, path = name.partition("/")
        by_host.setdefault(host, []).append((path, tag))
    for host, wanted in sorted(by_host.items()):
        try:
            creds = credentials_for(host) if credentials_for else None
        except RegistryError as exc:
            tally.error(f"find credentials for the image registry {host}", str(exc))
            continue
        client = _RegistryClient(host, insecure_http=insecure_http, ca_file=ca_file, credentials=creds, timeout=timeout)
        try:
            client.ping()
        except RegistryError as exc:
            tally.error(f"reach the image registry {host} (GET {client.origin}/v2/)", str(exc))
            continue
        (out_dir / "registry" / host).mkdir(parents=True, exist_ok=True)
        answers: dict[str, dict[str, dict]] = {}
        auth_by_repository: dict[str, list[str | None]] = {}
        refused: str | None = None
        for path, tag in wanted:
            auth = auth_by_repository.setdefault(path, [None])  # a Bearer token is scoped to one repository
            if refused is not None:
                # The credentials will not do for the other images either: said once, recorded for each.
                answers.setdefault(path, {})[tag] = {"error": refused}
                continue
            try:
                answers.setdefault(path, {})[tag] = client.manifest(path, tag, platforms=platforms, auth=auth)
                tally.add(resources=1)
            except RegistryError as exc:
                tally.error(f"ask {host} for the manifest {path}:{tag} (HEAD {client.origin}/v2/{path}/manifests/{tag})", str(exc))
                answers.setdefault(path, {})[tag] = {"error": str(exc)}
                if exc.status == 401:
                    refused = f"not asked: {host} refused the credentials for {path}:{tag}"
        for path, tags in answers.items():
            target = out_dir.joinpath("registry", host, *path.split("/"), "manifests.json")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps({"name": path, "manifests": tags}, sort_keys=True) + "\n", encoding="utf-8")
            tally.add(objects=1)
    summary = tally.summary()
    write_metadata(out_dir, errors=summary.errors, merge_existing=True)
    return summary


def _parse_challenge(values: list[str]) -> tuple[str, dict[str, str]] | None:
    """The first Bearer or Basic challenge of the WWW-Authenticate header(s), scheme lowercased."""
    found: dict[str, dict[str, str]] = {}
    for value in values:
        # Challenges are "<scheme> k=v, k=v"; a new scheme starts where a bare word precedes a param.
        for match in re.finditer(r"(?:^|,)\s*(Bearer|Basic)\b((?:(?!,\s*(?:Bearer|Basic)\b).)*)", value, re.IGNORECASE):
            params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3) for m in _CHALLENGE_PARAM.finditer(match.group(2))}
            found.setdefault(match.group(1).lower(), params)
    for scheme in ("bearer", "basic"):
        if scheme in found:
            return scheme, found[scheme]
    return None


def _next_link(values: list[str]) -> str | None:
    for value in values:
        match = _LINK_NEXT.search(value)
        if match:
            return match.group(1)
    return None


def _basic(credentials: tuple[str, str]) -> str:
    user, password = credentials
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _describe(response: urllib3.BaseHTTPResponse) -> str:
    """``<status> <phrase>: <CODE message>`` from the registry's error body, if it sent one."""
    try:
        phrase = HTTPStatus(response.status).phrase
    except ValueError:
        phrase = "HTTP error"
    raw = response.data or b""
    detail = ""
    try:
        body = json.loads(raw)
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list):
            detail = "; ".join(
                f"{e.get('code', '')} {e.get('message', '')}".strip() for e in errors if isinstance(e, dict)
            )
    except ValueError:
        detail = raw[:200].decode("utf-8", "replace").strip()
    return f"{response.status} {phrase}: {detail}" if detail else f"{response.status} {phrase}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
