"""Pack a snapshot directory into a ``.tar.gz``, and unpack one safely.

Archives are reproducible (sorted members, fixed owner and times) and hold the snapshot's
contents at their root (``kupgrade-snapshot.json``, ``cluster/...``), which is what the
snapshot loader reads.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zlib
from pathlib import Path, PurePosixPath

from kupgrade_lint.errors import InputError
from kupgrade_lint.snapshot.layout import TOP_LEVEL


def write_tar_gz(snapshot_dir: Path, path: Path) -> Path:
    """Write ``snapshot_dir``'s regular files and directories to ``path`` (a .tar.gz); return it."""
    snapshot_dir = Path(snapshot_dir)
    path = Path(path)
    if not snapshot_dir.is_dir():
        raise InputError(f"{snapshot_dir}: not a snapshot directory")
    entries = sorted(p for p in snapshot_dir.rglob("*") if not p.is_symlink() and (p.is_file() or p.is_dir()))
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            rel = entry.relative_to(snapshot_dir).as_posix()
            if entry.resolve() == path.resolve():
                continue  # an archive written inside the directory it packs
            info = tarfile.TarInfo(rel)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if entry.is_dir():
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                data = entry.read_bytes()
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(buffer.getvalue())
    return path


# Bounds on what one archive may expand to (each a one-line input error when exceeded). A
# snapshot compresses about 10-30 times; gzip cannot compress more than about 1030 times.
MAX_MEMBERS = 200_000
MAX_MEMBER_BYTES = 512 * 1024 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
MAX_RATIO = 200
RATIO_FREE_BYTES = 64 * 1024 * 1024  # below this much output any ratio is fine
_GZIP_MAGIC = b"\x1f\x8b"


class _Bounded(io.RawIOBase):
    """The decompressed stream of an archive, refusing to expand beyond the bounds above."""

    def __init__(self, archive: Path, raw, gz) -> None:
        self.archive, self.raw, self.gz, self.out = archive, raw, gz, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.gz.read(len(buffer))
        self.out += len(data)
        if self.out > MAX_TOTAL_BYTES:
            raise InputError(f"{self.archive}: the archive expands to more than {MAX_TOTAL_BYTES} bytes; refusing it")
        if self.out > RATIO_FREE_BYTES and self.out > MAX_RATIO * max(self.raw.tell(), 1):
            raise InputError(f"{self.archive}: the archive expands more than {MAX_RATIO} times its size (a compression bomb?); refusing it")
        buffer[: len(data)] = data
        return len(data)


def _member_name(name: str) -> str:
    """A member's name for a message: bounded, one line."""
    shown = name if len(name) <= 120 else name[:120] + "..."
    return shown.encode("unicode_escape").decode("ascii") if not shown.isprintable() else shown


def _refusal(member: tarfile.TarInfo) -> str | None:
    """Why a member is not extracted (``tarfile``'s ``data`` filter, and regular files only)."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or member.name.startswith("/"):
        return "an absolute path in the archive; not extracted"
    if ".." in name.parts:
        return "a path with '..' in the archive (it leads outside the snapshot); not extracted"
    if member.issym() or member.islnk():
        return "a link in the archive; not extracted (a snapshot holds regular files)"
    if member.ischr() or member.isblk():
        return "a device in the archive; not extracted"
    if member.isfifo():
        return "a named pipe (FIFO) in the archive; not extracted"
    if not (member.isfile() or member.isdir()):
        return "not a regular file or directory in the archive; not extracted"
    if member.isfile() and member.size > MAX_MEMBER_BYTES:
        return f"larger than {MAX_MEMBER_BYTES} bytes; not extracted"
    return None


def extract_tar_gz(archive: Path, dest: Path, refused: list[tuple[str, str]] | None = None) -> Path:
    """Unpack regular files and directories only, within bounds, into ``dest``.

    Read as one stream (never seeking, never holding the archive in memory). Members that are
    links, devices, FIFOs, absolute or ``..`` paths, or too large are not extracted and are
    appended to ``refused`` as (member name relative to the root, why) so that the scan names them. Too many members, too many
    bytes in all or too high an expansion ratio, and a truncated or non-gzip file refuse the
    whole archive (``InputError``). Returns the snapshot root inside ``dest``: ``dest`` itself,
    or the single directory the archive wraps its contents in.
    """
    archive = Path(archive)
    dest = Path(dest)
    found: list[tuple[str, str]] = []
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with open(archive, "rb") as raw:
            if raw.read(2) != _GZIP_MAGIC:
                raise InputError(f"{archive}: not a gzip file; a snapshot archive is a .tar.gz")
            raw.seek(0)
            with gzip.GzipFile(fileobj=raw, mode="rb") as gz, tarfile.open(fileobj=io.BufferedReader(_Bounded(archive, raw, gz)), mode="r|") as tar:
                for count, member in enumerate(tar, 1):
                    if count > MAX_MEMBERS:
                        raise InputError(f"{archive}: more than {MAX_MEMBERS} members; refusing the archive")
                    tar.members.clear()  # a stream: nothing to look back at, nothing to keep
                    why = _refusal(member)
                    if why is not None:
                        found.append((_member_name(member.name), why))
                        continue
                    parts = PurePosixPath(member.name).parts
                    if not parts:
                        continue
                    target = dest.joinpath(*parts)
                    try:
                        if member.isdir():
                            target.mkdir(parents=True, exist_ok=True)
                            continue
                        target.parent.mkdir(parents=True, exist_ok=True)
                        source = tar.extractfile(member)
                        with open(target, "wb") as out:
                            while source is not None and (chunk := source.read(1024 * 1024)):
                                out.write(chunk)
                    except (FileExistsError, NotADirectoryError, IsADirectoryError):
                        found.append((_member_name(member.name), "clashes with another member of the archive; not extracted"))
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(f"{archive}: not a readable .tar.gz snapshot (truncated or damaged: {str(exc)[:80]})") from None
    except OSError as exc:
        raise InputError(f"{archive}: cannot read the archive: {exc.strerror or exc}") from None
    entries = list(dest.iterdir())
    root = dest
    if len(entries) == 1 and entries[0].is_dir() and entries[0].name not in TOP_LEVEL:
        root = entries[0]
    prefix = "" if root == dest else root.name + "/"
    if refused is None and found:
        # A caller that cannot report single members (merging node snapshots) refuses the archive.
        raise InputError(f"{archive}: refusing the archive: member {found[0][0]} is {found[0][1]}")
    if refused is not None:
        refused.extend((n[len(prefix):] if prefix and n.startswith(prefix) else n, why) for n, why in found)
    return root
