"""The same manifests in fewer files: to show that a scan's memory does not depend on the file count.

Every manifest file below ``--from`` (sorted; Kustomize's own files left out: the scan skips
them, they hold no documents it reads) is appended, with a ``---`` line between files, to one of
``--files`` files written under ``--out``, in order. The documents, and so what the scan reads,
are the same; only how many files hold them changes.

    python bench/regroup_manifests.py --from DIR --files 2000 --out OUT
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from floor import manifest_files  # noqa: E402  (bench/floor.py: the files a manifests scan reads)

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def regroup(source: Path, files: int, out: Path) -> dict:
    """Write the manifests below ``source`` into ``files`` files under ``out``; what was written."""
    paths = [p for p in manifest_files(source) if Path(p).name not in KUSTOMIZATION_FILES]
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    groups = max(1, min(files, len(paths)))
    written = 0
    for g in range(groups):
        part = paths[g * len(paths) // groups:(g + 1) * len(paths) // groups]
        texts = []
        for path in part:
            text = Path(path).read_text(encoding="utf-8")
            texts.append(text if text.endswith("\n") else text + "\n")
        (out / f"group-{g:05d}.yaml").write_text("---\n".join(texts), encoding="utf-8")
        written += len(part)
    return {"files": groups, "from_files": written}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", type=Path, required=True)
    parser.add_argument("--files", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    done = regroup(args.source, args.files, args.out)
    print(f"{args.out}: {done['from_files']} files' manifests in {done['files']} files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
