"""Write kupgrade_lint/builtin_catalog.json from rules/*.yaml (``--check``: exit 1 when it is stale).

    python scripts/compile_catalog.py
    python scripts/compile_catalog.py --check
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kupgrade_lint.catalog_compile import COMPILED_PATH, compiled_text  # noqa: E402
from kupgrade_lint.errors import CatalogError  # noqa: E402


def main(argv: list[str]) -> int:
    try:
        text = compiled_text()
    except CatalogError as exc:
        print(f"compile_catalog: {exc}", file=sys.stderr)
        return 2
    current = COMPILED_PATH.read_text(encoding="utf-8") if COMPILED_PATH.is_file() else None
    if "--check" in argv:
        if current != text:
            print(f"{COMPILED_PATH.name} is stale: run python scripts/compile_catalog.py", file=sys.stderr)
            return 1
        return 0
    if current != text:
        COMPILED_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {COMPILED_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
