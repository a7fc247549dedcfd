"""Collect a node's kubelet, static pod, kubeconfig and containerd files into a snapshot.

Files are copied to ``<out>/nodes/<node-name>/<absolute path>`` (docs/snapshot-format.md).
``root`` is where the node's filesystem is visible: ``/`` on the node itself, or the
hostPath mount of deploy/node-collector-daemonset.yaml. Symlinks are followed inside
``root`` only.

Which files are copied, and what of each is kept, is the allow-list in ``allowlist.py``
(NODE_FILES): every file is reduced to the fields the checks read, and a file that does not
parse as its form is not copied. Never read: anything that resolves into the PKI directories,
any ``*.key`` file, a hard link (its other names cannot be checked); never copied: a file
that holds a PEM private key.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path, PurePosixPath
from typing import Callable

from kupgrade_lint.collectors.allowlist import NODE_FILES, forbidden_node_path, node_file_rule
from kupgrade_lint.collectors.metadata import write_metadata
from kupgrade_lint.collectors.redact import (
    PRIVATE_KEY_MARKER,
    certificates_only,
    Unparseable,
    redact_config_file,
    redact_containerd_toml,
    redact_env_file,
    redact_kubeconfig_text,
    redact_manifest_file,
    redact_unit_file,
)
from kupgrade_lint.collectors.summary import CollectSummary
from kupgrade_lint.errors import CollectionError
from kupgrade_lint.urls import strip_userinfo

def _certificates(text: str) -> str:
    pem = certificates_only(text)
    if not pem:
        raise Unparseable("no PEM CERTIFICATE block")
    return pem


# How each form of file is reduced before it is written (allowlist.NodeFileRule.form).
REDUCERS: dict[str, Callable[[str], str]] = {
    "env": redact_env_file,
    "unit": redact_unit_file,
    "kubeconfig": redact_kubeconfig_text,
    "config": redact_config_file,
    "manifest": redact_manifest_file,
    "toml": redact_containerd_toml,
    "certificate": _certificates,
}

MAX_FILE_BYTES = 4 * 1024 * 1024
_MAX_LINK_HOPS = 40

_HOSTNAME_OVERRIDE = re.compile(r"--hostname-override(?:=|\s+)[\"']?([A-Za-z0-9][A-Za-z0-9._-]*)")


def collect_node(root: Path, out_dir: Path, *, node_name: str | None = None) -> CollectSummary:
    """Copy the node files the engine reads from ``root`` into ``out_dir/nodes/<node-name>/``.

    The node name is ``node_name``, else the kubelet's ``--hostname-override`` found in its
    env or unit files, else ``root/etc/hostname``. Raises CollectionError when ``root`` is not
    a directory or no node name can be found.
    """
    root = Path(root)
    out_dir = Path(out_dir)
    if not root.is_dir():
        raise CollectionError(f"{root}: not a directory (the node's root filesystem)")
    errors: list[dict] = []
    candidates = _candidate_paths(root)
    name = node_name or _hostname_override(root, candidates) or _etc_hostname(root)
    if not name:
        raise CollectionError(f"{root}: cannot tell the node name (no --hostname-override, no /etc/hostname); pass one")
    if "/" in name or name in (".", "..") or "\x00" in name:
        raise CollectionError(f"{name!r} is not a usable node name")
    target = out_dir / "nodes" / name
    written = 0
    for abs_path in candidates:
        what = f"copy {abs_path} from node {name}"
        outcome = _read_allowed(root, abs_path)
        if outcome is None:
            continue
        text, refusal = outcome
        if refusal:
            errors.append({"what": what, "reason": refusal})
            continue
        dest = target / abs_path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8")
        written += 1
    if written == 0:
        errors.append({"what": f"collect node files of {name}", "reason": f"no kubelet, kubeadm or kubespray files found under {root}"})
    write_metadata(out_dir, errors=errors)
    errors.sort(key=lambda e: (e["what"], e["reason"]))
    return CollectSummary(resources_listed=0, objects_written=written, pages=0, errors=tuple(errors))


def _read_allowed(root: Path, abs_path: str) -> tuple[str, str] | None:
    """(reduced text, "") of an allowed file, ("", why it is refused), or None if it is not there."""
    rule = node_file_rule(abs_path)
    if rule is None:
        return "", "not in the list of files the checks read; not copied"
    real = _resolve(root, abs_path)
    if real is None:
        return None
    if _forbidden(real):
        return "", f"it points into {real}, which is never read (private keys)"
    host_path = root / real.lstrip("/")
    try:
        info = host_path.lstat()
        if not stat.S_ISREG(info.st_mode):
            return None if stat.S_ISDIR(info.st_mode) else ("", "not a regular file; not copied")
        if info.st_nlink > 1:
            return "", f"a hard link ({info.st_nlink} names); not copied: its other names cannot be checked"
        if info.st_size > MAX_FILE_BYTES:
            return "", f"larger than {MAX_FILE_BYTES} bytes; skipped"
        data = host_path.read_bytes()
    except OSError as exc:
        return "", f"cannot read: {exc.strerror or exc}"
    return reduce_node_file(abs_path, data)


def reduce_node_file(abs_path: str, data: bytes) -> tuple[str, str]:
    """(text as it may be written, "") for a node file's content, or ("", why it is refused).

    Used for files read from a node and for node files merged in from other snapshots, so a
    snapshot holds only what the allow-list lets through, whoever wrote it.
    """
    rule = node_file_rule(abs_path)
    if rule is None:
        return "", "not in the list of files the checks read; not copied"
    if PRIVATE_KEY_MARKER.search(data.decode("latin-1")):
        return "", "it holds a private key; never copied"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "", "not a UTF-8 text file; skipped"
    try:
        reduced = REDUCERS[rule.form](text)
    except Unparseable as exc:
        return "", f"{exc}; not copied (only the fields the checks read are kept, and this cannot be reduced to them)"
    return strip_userinfo(reduced), ""


def _candidate_paths(root: Path) -> list[str]:
    """Absolute paths (on the node) of every file worth copying that exists under root."""
    paths: list[str] = []
    for rule in NODE_FILES:
        if rule.name is not None:
            paths.append(f"{rule.directory}/{rule.name}")
            continue
        real_dir = _resolve(root, rule.directory)
        if real_dir is None or _forbidden(real_dir):
            continue
        host_dir = root / real_dir.lstrip("/")
        try:
            names = sorted(os.listdir(host_dir))
        except OSError:
            continue
        paths.extend(f"{rule.directory}/{n}" for n in names if rule.matches(rule.directory, n))
    return sorted(dict.fromkeys(paths))


def _resolve(root: Path, abs_path: str) -> str | None:
    """The node path that ``abs_path`` resolves to, following symlinks as if ``root`` were ``/``.

    Returns None when it does not exist. An absolute link target is taken relative to root,
    so nothing outside root is ever read.
    """
    parts = list(PurePosixPath(abs_path).parts[1:])
    resolved: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        host = root.joinpath(*resolved, part)
        if host.is_symlink():
            hops += 1
            if hops > _MAX_LINK_HOPS:
                return None
            try:
                link = os.readlink(host)
            except OSError:
                return None
            link_parts = list(PurePosixPath(link).parts)
            if link.startswith("/"):
                resolved = []
                link_parts = link_parts[1:]
            parts = link_parts + parts
            continue
        if not host.exists():
            return None
        resolved.append(part)
    return "/" + "/".join(resolved)


def _forbidden(node_path: str) -> bool:
    return forbidden_node_path(node_path)


def _read_small(root: Path, abs_path: str) -> str:
    real = _resolve(root, abs_path)
    if real is None or _forbidden(real):
        return ""
    try:
        host_path = root / real.lstrip("/")
        if not host_path.is_file() or host_path.stat().st_size > MAX_FILE_BYTES:
            return ""
        return host_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _hostname_override(root: Path, candidates: list[str]) -> str | None:
    """The kubelet's --hostname-override from its env files and units (kubespray sets it)."""
    for abs_path in candidates:
        if abs_path.endswith(".env") or "kubelet" in abs_path:
            for line in _read_small(root, abs_path).splitlines():
                if line.lstrip().startswith("#"):
                    continue
                m = _HOSTNAME_OVERRIDE.search(line)
                if m:
                    return m.group(1)
    return None


def _etc_hostname(root: Path) -> str | None:
    for line in _read_small(root, "/etc/hostname").splitlines():
        name = line.strip()
        if name and not name.startswith("#"):
            return name
    return None
