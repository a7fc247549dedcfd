"""The floors of issue 9: reading and parsing the same files the scan reads, in one process, nothing else.

``floor_snapshot(dir)``: every file of a snapshot directory, as the loader reads them —
``json.loads`` for ``.json``, ``yaml.load_all(..., Loader=yaml.CSafeLoader)`` for ``.yaml``/``.yml``,
the bytes of every other file (node unit files, PEM, metrics). The parsed data is kept until the
end, as the loader keeps it for the checks. ``gc_enabled=False`` is the stricter floor: the scan
pauses the cyclic collector while it loads (kupgrade_lint/heap.py), plain ``json.loads`` does not.

``floor_manifests(dir)``: every ``.yaml``/``.yml``/``.json`` file of a manifests repository, each
parsed with ``yaml.load_all(..., Loader=yaml.CSafeLoader)`` and dropped (a scan can stream them).

bench/run.py runs each floor in a fresh process, beside the scan of the same directory:

    python bench/floor.py DIR                        # a manifests repository
    python bench/floor.py --snapshot DIR [--gc-off]  # a snapshot directory

prints one JSON line: seconds spent reading and parsing, files, bytes, documents, peak RSS.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time
from pathlib import Path

import yaml

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def _files(root: Path) -> list[str]:
    """Every regular file under ``root``, in a stable order (dot files are not part of a snapshot)."""
    out = []
    for dirpath, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(os.path.join(dirpath, n) for n in sorted(names) if not n.startswith("."))
    return out


def floor_snapshot(root: Path | str, gc_enabled: bool = True) -> dict:
    """Read and parse every file of the snapshot ``root``, keeping what was parsed; seconds and counts."""
    was_enabled = gc.isenabled()
    if not gc_enabled:
        gc.disable()
    kept: list[object] = []
    files = size = documents = 0
    started = time.perf_counter()
    try:
        for path in _files(Path(root)):
            with open(path, "rb") as stream:
                data = stream.read()
            files += 1
            size += len(data)
            if path.endswith(".json"):
                kept.append(json.loads(data))
                documents += 1
            elif path.endswith((".yaml", ".yml")):
                for document in yaml.load_all(data, Loader=yaml.CSafeLoader):
                    kept.append(document)
                    documents += 1
            else:
                kept.append(data)
        seconds = time.perf_counter() - started
    finally:
        if was_enabled:
            gc.enable()
    return {"seconds": round(seconds, 3), "files": files, "bytes": size, "documents": documents, "gc": gc_enabled}


def manifest_files(root: Path | str) -> list[str]:
    """Every manifest file below ``root``, in a stable order."""
    return [path for path in _files(Path(root)) if path.endswith(MANIFEST_SUFFIXES)]


def floor_manifests(root: Path | str) -> dict:
    """Parse every manifest file under ``root`` with PyYAML's C loader, one file at a time; seconds and counts."""
    files = size = documents = 0
    started = time.perf_counter()
    for path in manifest_files(root):
        with open(path, "rb") as stream:
            data = stream.read()
        files += 1
        size += len(data)
        for _ in yaml.load_all(data.decode("utf-8"), Loader=yaml.CSafeLoader):
            documents += 1
    return {"seconds": round(time.perf_counter() - started, 3), "files": files, "bytes": size, "documents": documents}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="a manifests repository, or with --snapshot a snapshot directory")
    parser.add_argument("--snapshot", action="store_true", help="DIR is a snapshot: every file, as the loader reads it, kept")
    parser.add_argument("--gc-off", action="store_true", help="with --snapshot: pause the cyclic garbage collector while parsing")
    args = parser.parse_args(argv)
    if args.gc_off and not args.snapshot:
        parser.error("--gc-off goes with --snapshot")
    result = floor_snapshot(args.directory, gc_enabled=not args.gc_off) if args.snapshot else floor_manifests(args.directory)
    result["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
