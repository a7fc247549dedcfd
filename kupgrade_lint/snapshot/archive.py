"""Pack a snapshot directory into a ``.tar.gz``, and unpack one safely.

Archives are reproducible (sorted members, fixed owner and times) and hold the snapshot's
contents at their root (``kupgrade-snapshot.json``, ``cluster/...``), which is what the
snapshot loader reads.
"""

from __future__ import annotations

import gzip
import io
import tarfile
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


def extract_tar_gz(archive: Path, dest: Path) -> Path:
    """Unpack regular files and directories only (no links, no absolute or ``..`` paths).

    Returns the snapshot root inside ``dest``: ``dest`` itself, or the single directory the
    archive wraps its contents in.
    """
    archive = Path(archive)
    dest = Path(dest)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                name = PurePosixPath(member.name)
                if name.is_absolute() or ".." in name.parts:
                    raise InputError(f"{archive}: refusing archive member with an unsafe path: {member.name}")
                target = dest.joinpath(*name.parts)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                elif member.isfile():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    if source is not None:
                        target.write_bytes(source.read())
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InputError(f"{archive}: not a readable .tar.gz snapshot: {exc}") from None
    entries = list(dest.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and entries[0].name not in TOP_LEVEL:
        return entries[0]
    return dest
