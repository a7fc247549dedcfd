"""The parse-only floor of a manifests repository: read and parse every file in one process.

Issue 9 measures ``scan --manifests DIR`` against this: every ``.yaml``/``.yml``/``.json`` file
below DIR read and parsed with ``yaml.load_all(text, Loader=yaml.CSafeLoader)`` (JSON is YAML,
and a manifests repository holds very little of it), with the garbage collector as it is by
default. Nothing else (no line index, no checks), so ``scan`` seconds / floor seconds is what the
scan costs beyond parsing.

    python bench/floor.py DIR          # one JSON line: seconds, bytes, documents, files, peak RSS
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

import yaml

SUFFIXES = (".yaml", ".yml", ".json")


def manifest_files(root: str | Path) -> list[str]:
    """Every manifest file below ``root``, in a stable order (symbolic links not followed)."""
    found = []
    for top, dirs, names in os.walk(root):
        dirs.sort()
        found.extend(os.path.join(top, n) for n in sorted(names) if n.endswith(SUFFIXES))
    return found


def floor_manifests(root: str | Path) -> dict:
    """Seconds (wall, and CPU: steadier on a busy machine) to read and parse every manifest below
    ``root`` with CSafeLoader, the bytes read, the documents and the files."""
    start = time.perf_counter()
    cpu = time.process_time()
    size = documents = 0
    files = manifest_files(root)
    for path in files:
        with open(path, "rb") as handle:
            data = handle.read()
        size += len(data)
        for _ in yaml.load_all(data.decode("utf-8"), Loader=yaml.CSafeLoader):
            documents += 1
    return {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu, "bytes": size, "documents": documents, "files": len(files)}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python bench/floor.py DIR", file=sys.stderr)
        return 2
    result = floor_manifests(args[0])
    result["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
