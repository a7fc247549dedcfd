"""The built-in catalog compiled once: ``rules/*.yaml`` parsed, validated and written as JSON.

``kupgrade_lint/builtin_catalog.json`` holds, for every built-in catalog file, its parsed content
and a key (``catalog.compiled_key``: the file's bytes, the catalog schema's bytes, the format).
``load_catalog`` takes a file's content from there only when the key matches, so the start of
every run skips parsing and validating the built-in catalog and can never read stale data.
Regenerate with ``python scripts/compile_catalog.py`` after editing ``rules/`` (a test fails
when the file is stale).
"""

from __future__ import annotations

import json
from pathlib import Path

from kupgrade_lint.catalog import (
    BUILTIN_LABEL,
    COMPILED_FORMAT,
    COMPILED_NAME,
    Catalog,
    _read_builtin,
    builtin_rule_files,
    compiled_key,
    validate_document,
)
from kupgrade_lint.errors import CatalogError

COMPILED_PATH = Path(__file__).resolve().parent / COMPILED_NAME


def compiled_text() -> str:
    """The compiled catalog's JSON text for the built-in files as they are now; CatalogError if one is invalid."""
    documents = []
    catalog = Catalog()
    for name, content in builtin_rule_files():
        origin = f"{BUILTIN_LABEL}:rules/{name}"
        data = _read_builtin(content, origin)
        validate_document(data, origin)
        if json.loads(json.dumps(data)) != data:
            raise CatalogError(f"{origin}: holds a value JSON cannot carry (a date, a non-string key); quote it")
        catalog.add_document(data, origin, validated=True)
        documents.append({"file": name, "key": compiled_key(name, content), "data": data})
    catalog.finish()
    compiled = {
        "format": COMPILED_FORMAT,
        "generated_by": "python scripts/compile_catalog.py (from rules/*.yaml; do not edit by hand)",
        "documents": documents,
    }
    return json.dumps(compiled, ensure_ascii=False, indent=1) + "\n"
