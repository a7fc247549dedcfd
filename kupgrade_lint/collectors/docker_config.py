"""Registry credentials from a Docker ``config.json``, as ``docker login`` and ``crane auth login`` write it.

Looked for where Docker looks (https://docs.docker.com/reference/cli/docker/#configuration-files):
``--registry-config FILE``, else ``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``.
``auths.<host>.auth`` (base64 of ``user:password``) or ``username``/``password`` are used as they
are; ``credHelpers.<host>`` or ``credsStore`` name a credential helper, which is asked with
``docker-credential-<name> get`` (https://github.com/docker/docker-credential-helpers#usage).
Credentials are never written or printed; an error names the file and the host, never a secret.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from kupgrade_lint.collectors.registry import RegistryError
from kupgrade_lint.errors import UsageError

HELPER_TIMEOUT = 10.0
MAX_CONFIG_BYTES = 1 << 20


def _host_of(key: str) -> str:
    """``https://myregistry:5000/v1/`` and ``myregistry:5000`` both name ``myregistry:5000``."""
    key = key.strip()
    if "://" in key:
        return urlsplit(key).netloc.lower()
    return key.split("/", 1)[0].lower()


@dataclass(frozen=True)
class DockerConfig:
    """The parts of config.json that give credentials, keyed by registry host."""

    path: str
    auths: dict = field(default_factory=dict)
    cred_helpers: dict = field(default_factory=dict)
    creds_store: str | None = None

    def credentials_for(self, host: str) -> tuple[str, str] | None:
        """(user, password) for ``host``, None for anonymous access; RegistryError when they cannot be read."""
        host = host.lower()
        entry = self.auths.get(host)
        if isinstance(entry, dict):
            if entry.get("identitytoken"):
                raise RegistryError(f"{self.path}: the entry for {host} holds an identity token, which kupgrade-lint does not use; log in with a password or token")
            if isinstance(entry.get("auth"), str) and entry["auth"]:
                try:
                    user, sep, password = base64.b64decode(entry["auth"], validate=True).decode("utf-8").partition(":")
                except (binascii.Error, ValueError):
                    raise RegistryError(f"{self.path}: the auth of {host} is not base64 of user:password") from None
                if not sep:
                    raise RegistryError(f"{self.path}: the auth of {host} is not base64 of user:password")
                return user, password
            if isinstance(entry.get("username"), str) and isinstance(entry.get("password"), str):
                return entry["username"], entry["password"]
        helper = self.cred_helpers.get(host) or self.creds_store
        if helper:
            return _ask_helper(str(helper), host, self.path)
        return None


def _ask_helper(helper: str, host: str, path: str) -> tuple[str, str] | None:
    program = f"docker-credential-{helper}"
    try:
        done = subprocess.run([program, "get"], input=host.encode(), capture_output=True, timeout=HELPER_TIMEOUT, check=False)
    except FileNotFoundError:
        raise RegistryError(f"{path} names the credential helper {helper!r}, but {program} is not on PATH") from None
    except subprocess.TimeoutExpired:
        raise RegistryError(f"{program} get did not answer for {host} within {HELPER_TIMEOUT:.0f} s") from None
    if done.returncode != 0:
        # "credentials not found in native keychain" means: no credentials for that host.
        if b"not found" in done.stdout.lower() + done.stderr.lower():
            return None
        raise RegistryError(f"{program} get failed for {host} (exit {done.returncode})")
    try:
        answer = json.loads(done.stdout)
        return str(answer["Username"]), str(answer["Secret"])
    except (ValueError, KeyError, TypeError):
        raise RegistryError(f"{program} get gave no Username and Secret for {host}") from None


def load_docker_config(explicit: Path | None) -> DockerConfig | None:
    """The config.json to use; None when there is none (anonymous pulls). UsageError for a broken one."""
    if explicit is not None:
        candidates, required = [Path(explicit)], True
    else:
        base = os.environ.get("DOCKER_CONFIG")
        candidates = [Path(base) / "config.json"] if base else [Path.home() / ".docker" / "config.json"]
        required = False
    for path in candidates:
        try:
            data = path.read_bytes()[: MAX_CONFIG_BYTES + 1]
        except FileNotFoundError:
            if required:
                raise UsageError(f"{path}: no such Docker config file (--registry-config)") from None
            return None
        except OSError as exc:
            raise UsageError(f"{path}: cannot read the Docker config file: {exc.strerror or exc}") from None
        if len(data) > MAX_CONFIG_BYTES:
            raise UsageError(f"{path}: larger than {MAX_CONFIG_BYTES} bytes; not a Docker config file")
        try:
            body = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise UsageError(f"{path}: not a Docker config file (invalid JSON at {getattr(exc, 'lineno', '?')}:{getattr(exc, 'colno', '?')})") from None
        if not isinstance(body, dict):
            raise UsageError(f"{path}: not a Docker config file (not a JSON object)")
        auths = body.get("auths") if isinstance(body.get("auths"), dict) else {}
        helpers = body.get("credHelpers") if isinstance(body.get("credHelpers"), dict) else {}
        store = body.get("credsStore") if isinstance(body.get("credsStore"), str) and body.get("credsStore") else None
        return DockerConfig(
            str(path),
            {_host_of(k): v for k, v in auths.items()},
            {_host_of(k): v for k, v in helpers.items() if isinstance(v, str)},
            store,
        )
    return None
