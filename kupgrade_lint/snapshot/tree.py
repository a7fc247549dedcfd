"""A directory input read only within itself: no symbolic link, hard link or special file is followed.

Every entry under the root is either a regular file (read through a descriptor opened without
following links, then checked with ``fstat``, so a file swapped for a link after the listing is
refused too) or a refusal that names it. Nothing is skipped silently and nothing hangs: a FIFO
is never opened for a blocking read.

Policy (docs/snapshot-format.md, "What is read"):

- every symbolic link is refused, also one that points inside the snapshot: a snapshot is
  plain files (collectors and archives never write links), and resolving a link against a
  directory someone else may be changing is exactly the race this module avoids;
- a regular file with more than one hard link is refused when it was found by walking a
  directory: its other name may be anywhere on the same file system (``/etc/shadow`` linked
  into a snapshot directory looks like any other file), and nothing kupgrade-lint writes has a
  second link. A file named on the command line is the user's explicit choice and is read;
- FIFOs, sockets and devices are refused without being opened.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_DIR_FLAGS = os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC
# O_NONBLOCK: a FIFO put in place of a file after the listing opens at once (and is refused).
_FILE_FLAGS = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | _CLOEXEC
# Larger than any file a snapshot holds (collectors write Lists of thousands of objects in tens of MiB).
MAX_FILE_BYTES = 512 * 1024 * 1024
# Deeper than any snapshot's node paths (nodes/<node>/etc/kubernetes/...); bounds open descriptors.
MAX_DEPTH = 40


class Refused(Exception):
    """An entry that is not read; the message says what it is (one line, no content)."""


@dataclass(frozen=True)
class Entry:
    """One entry under the walked directory: a file to read, or a refusal (``refused`` set)."""

    rel: str
    refused: str | None = None


def kind_of(mode: int) -> str | None:
    """What a non-regular, non-directory entry is, for the refusal message."""
    if stat.S_ISLNK(mode):
        return "a symbolic link; not followed (a snapshot holds regular files)"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a file; not read"
    if stat.S_ISSOCK(mode):
        return "a socket, not a file; not read"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a file; not read"
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        return "not a regular file; not read"
    return None


HARD_LINKED = "a file with more than one hard link (its other name may be outside the snapshot); not read — copy it instead of linking"


class Tree:
    """A directory read only within itself (see the module docstring for what is refused)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.realpath(root))  # the root itself is the user's choice: followed once
        self._identity: dict[str, tuple[int, int]] = {}

    # -- listing --------------------------------------------------------------------------------
    def walk(self, rel_dir: str = "") -> list[Entry]:
        """Every entry under ``rel_dir`` (recursively), files and refusals, sorted by path."""
        parts = [p for p in rel_dir.split("/") if p]
        try:
            fd = self._open_dir(parts)
        except FileNotFoundError:
            return []
        except Refused as exc:
            return [Entry(rel_dir, str(exc))]
        out: list[Entry] = []
        self._walk(fd, parts, out)
        return sorted(out, key=lambda e: tuple(e.rel.split("/")))

    def _walk(self, fd: int, parts: list[str], out: list[Entry]) -> None:
        try:
            with os.scandir(fd) as it:
                entries = sorted(it, key=lambda e: e.name)
            subdirs = []
            for entry in entries:
                rel = "/".join(parts + [entry.name])
                try:
                    mode = entry.stat(follow_symlinks=False).st_mode
                except OSError as exc:
                    out.append(Entry(rel, f"cannot read: {exc.strerror or exc}"))
                    continue
                if stat.S_ISDIR(mode):
                    subdirs.append(entry.name)
                elif stat.S_ISREG(mode):
                    out.append(Entry(rel))
                else:
                    out.append(Entry(rel, kind_of(mode)))
            for name in subdirs:
                rel = "/".join(parts + [name])
                if len(parts) + 1 > MAX_DEPTH:
                    out.append(Entry(rel, f"a directory nested deeper than {MAX_DEPTH} levels; not read"))
                    continue
                try:
                    child = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    out.append(Entry(rel, _open_refusal(exc, directory=True)))
                    continue
                self._walk(child, parts + [name], out)
        finally:
            os.close(fd)

    def _open_dir(self, parts: list[str]) -> int:
        fd = os.open(self.root, _DIR_FLAGS & ~_NOFOLLOW)
        for part in parts:
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                os.close(fd)
                raise
            except OSError as exc:
                os.close(fd)
                raise Refused(_open_refusal(exc, directory=True)) from None
            os.close(fd)
            fd = child
        return fd

    def children(self, rel_dir: str = "") -> list[tuple[str, bool, str | None]]:
        """The entries directly in ``rel_dir``: (name, is a directory, refusal or None), sorted."""
        parts = [p for p in rel_dir.split("/") if p]
        try:
            fd = self._open_dir(parts)
        except FileNotFoundError:
            return []
        except Refused as exc:
            return [("", False, str(exc))]
        out = []
        try:
            with os.scandir(fd) as it:
                for entry in sorted(it, key=lambda e: e.name):
                    try:
                        mode = entry.stat(follow_symlinks=False).st_mode
                    except OSError as exc:
                        out.append((entry.name, False, f"cannot read: {exc.strerror or exc}"))
                        continue
                    out.append((entry.name, stat.S_ISDIR(mode), None if stat.S_ISDIR(mode) or stat.S_ISREG(mode) else kind_of(mode)))
        finally:
            os.close(fd)
        return out

    # -- reading --------------------------------------------------------------------------------
    def read(self, rel: str, allow_links: bool = False, span: tuple[int, int] | None = None) -> bytes:
        """The bytes of the regular file ``rel`` (only ``[start, stop)`` of them with ``span``: a
        part of a file read before, found again for a line look-up); raises ``Refused`` naming
        why it is not read."""
        parts = [p for p in rel.split("/") if p]
        try:
            dir_fd = self._open_dir(parts[:-1])
        except FileNotFoundError:
            raise Refused("cannot read: No such file or directory") from None
        try:
            fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=dir_fd)
        except OSError as exc:
            raise Refused(_open_refusal(exc, directory=False)) from None
        finally:
            os.close(dir_fd)
        with os.fdopen(fd, "rb") as stream:
            info = os.fstat(stream.fileno())
            what = kind_of(info.st_mode)
            if what is not None or stat.S_ISDIR(info.st_mode):
                raise Refused(what or "a directory; not read")
            if info.st_nlink > 1 and not allow_links:
                raise Refused(HARD_LINKED)
            identity = (info.st_dev, info.st_ino)
            if self._identity.setdefault(rel, identity) != identity:
                raise Refused("changed while the snapshot was read; not read again")
            if span is not None:
                stream.seek(span[0])
                return _bounded_read(stream, min(info.st_size, span[1]) - span[0], span[1] - span[0])
            return _bounded_read(stream, info.st_size)


def _open_refusal(exc: OSError, directory: bool) -> str:
    if exc.errno == errno.ELOOP or (directory and exc.errno == errno.ENOTDIR):
        return "a symbolic link; not followed (a snapshot holds regular files)" if exc.errno == errno.ELOOP else "not a directory; not read"
    if exc.errno == errno.EACCES:
        return f"cannot read{' the directory' if directory else ''}: Permission denied"
    return f"cannot read: {exc.strerror or exc}"


def read_file(path: Path) -> bytes:
    """A file named on the command line: its own links are the user's choice, but it must be a
    regular file (a FIFO or device is refused without blocking)."""
    path = Path(path)
    try:
        what = kind_of(os.stat(path).st_mode)  # a device is not even opened
        if what is not None:
            raise Refused(what)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _CLOEXEC)
    except OSError as exc:
        raise Refused(f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(stream.fileno())
        what = kind_of(info.st_mode)
        if what is not None:
            raise Refused(what)
        if stat.S_ISDIR(info.st_mode):
            raise Refused("a directory; not read")
        return _bounded_read(stream, info.st_size)


def _bounded_read(stream, size: int, most: int = MAX_FILE_BYTES + 1) -> bytes:
    too_large = f"larger than {MAX_FILE_BYTES} bytes; not read"
    if size > MAX_FILE_BYTES:
        raise Refused(too_large)
    # Asking for the size fstat gave (and a byte more, to see growth): ``read(n)`` allocates n
    # bytes first, and 512 MiB for each of 20,000 small manifests costs seconds of page mapping.
    limit = min(most, MAX_FILE_BYTES + 1)  # a file that grows after fstat is still bounded
    want = min(size + 1, limit)
    try:
        data = stream.read(want)
        if len(data) == want < limit:  # it grew after fstat: read on, still bounded
            data += stream.read(limit - len(data))
    except OSError as exc:
        raise Refused(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise Refused(too_large)
    return data
