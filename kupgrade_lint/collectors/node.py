"""Collect a node's kubelet, static pod, kubeconfig and containerd files into a snapshot.

Files are copied to ``<out>/nodes/<node-name>/<absolute path>`` (docs/snapshot-format.md).
``root`` is where the node's filesystem is visible: ``/`` on the node itself, or the
hostPath mount of deploy/node-collector-daemonset.yaml. Symlinks are followed inside
``root`` only.

Never copied: anything under the PKI directories (kubeadm's /etc/kubernetes/pki, kubespray's
/etc/kubernetes/ssl, the kubelet's /var/lib/kubelet/pki), any file holding a PEM private key,
and kubeconfig credentials (replaced by ``REDACTED``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from kupgrade_lint.collectors.metadata import write_metadata
from kupgrade_lint.collectors.redact import (
    PRIVATE_KEY_MARKER,
    redact_config_text,
    redact_kubeconfig_text,
    redact_toml_secrets,
)
from kupgrade_lint.collectors.summary import CollectSummary
from kupgrade_lint.errors import CollectionError

# Where systemd looks for units, most specific first
# (https://www.freedesktop.org/software/systemd/man/latest/systemd.unit.html#Unit%20File%20Load%20Path).
SYSTEMD_UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")

# Exact files: kubeadm's kubelet flags and config
# (https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/kubelet-integration/),
# the distro environment files its drop-in sources, containerd's config, root's kubeconfig.
FIXED_FILES = (
    "/etc/default/kubelet",
    "/etc/sysconfig/kubelet",
    "/var/lib/kubelet/kubeadm-flags.env",
    "/var/lib/kubelet/config.yaml",
    "/etc/containerd/config.toml",
    "/root/.kube/config",
)

# Directory + filename pattern: kubespray's env files (kubelet.env, ...), static pod
# manifests, kubeadm's kubeconfigs (admin.conf, kubelet.conf, ...).
GLOBBED = (
    ("/etc/kubernetes", re.compile(r"^[^/]+\.env$")),
    ("/etc/kubernetes/manifests", re.compile(r"^[^/]+$")),
    ("/etc/kubernetes", re.compile(r"^[^/]+\.conf$")),
) + tuple((f"{d}/kubelet.service.d", re.compile(r"^[^/]+\.conf$")) for d in SYSTEMD_UNIT_DIRS)

UNIT_FILES = tuple(f"{d}/kubelet.service" for d in SYSTEMD_UNIT_DIRS)

KUBECONFIGS = re.compile(r"^(/etc/kubernetes/[^/]+\.conf|/root/\.kube/config)$")

# Never read, whatever links point there.
FORBIDDEN_DIRS = ("/etc/kubernetes/pki", "/etc/kubernetes/ssl", "/var/lib/kubelet/pki", "/etc/ssl/private")

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
        real = _resolve(root, abs_path)
        if real is None:
            continue
        if _forbidden(real):
            errors.append({"what": what, "reason": f"it points into {real}, which is never read (private keys)"})
            continue
        host_path = root / real.lstrip("/")
        try:
            if not host_path.is_file():
                continue
            if host_path.stat().st_size > MAX_FILE_BYTES:
                errors.append({"what": what, "reason": f"larger than {MAX_FILE_BYTES} bytes; skipped"})
                continue
            data = host_path.read_bytes()
        except OSError as exc:
            errors.append({"what": what, "reason": f"cannot read: {exc.strerror or exc}"})
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            errors.append({"what": what, "reason": "not a UTF-8 text file; skipped"})
            continue
        if KUBECONFIGS.match(abs_path):
            text = redact_kubeconfig_text(text)
        elif abs_path.endswith(".toml"):
            text = redact_toml_secrets(text)
        elif abs_path.endswith((".yaml", ".yml", ".conf", "/config")):
            text = redact_config_text(text)
        if PRIVATE_KEY_MARKER.search(text):
            errors.append({"what": what, "reason": "it holds a private key; never copied"})
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


def _candidate_paths(root: Path) -> list[str]:
    """Absolute paths (on the node) of every file worth copying that exists under root."""
    paths: list[str] = list(FIXED_FILES) + list(UNIT_FILES)
    for directory, pattern in GLOBBED:
        real_dir = _resolve(root, directory)
        if real_dir is None or _forbidden(real_dir):
            continue
        host_dir = root / real_dir.lstrip("/")
        try:
            names = sorted(os.listdir(host_dir))
        except OSError:
            continue
        paths.extend(f"{directory}/{n}" for n in names if pattern.match(n))
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
    return any(node_path == d or node_path.startswith(d + "/") for d in FORBIDDEN_DIRS)


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
