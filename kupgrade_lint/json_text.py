"""JSON text exactly as ``json.dumps(value, indent=2, ensure_ascii=False)`` writes it, made fast.

The json module encodes in Python: seconds for a report of tens of thousands of findings or a
List of a cluster's pods. orjson's ``OPT_INDENT_2`` writes the same text for strings, integers up
to 64 bits, booleans, null, lists and string-keyed dicts, and refuses (``TypeError``) a
non-string key, a larger integer, a lone surrogate and any type it does not know; those values
go to the json module, which decides as it always did. The one type the two spell differently
is a plain float (``1e-07`` against ``1e-7``, ``NaN`` against ``null``): reports hold none, and
``collect`` reads floats as ``kubeapi.JsonFloat``, which orjson refuses. Used by ``collect``
(List files) and by the JSON and SARIF reports, so the rule lives in one place.
"""

from __future__ import annotations

import json
from typing import Any


def _fast(value: Any) -> bytes | None:
    try:
        import orjson  # lazy: only writing JSON pays for the import
    except ImportError:  # pragma: no cover - orjson is a dependency; a bare checkout still works
        return None
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2)
    except TypeError:
        return None


def indented_bytes(value: Any) -> bytes:
    """The UTF-8 of ``json.dumps(value, indent=2, ensure_ascii=False)``."""
    data = _fast(value)
    return data if data is not None else json.dumps(value, indent=2, ensure_ascii=False).encode("utf-8")


def indented_text(value: Any) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)`` (what orjson refuses stays a ``str``,
    lone surrogates included, for the stream it is written to to decide)."""
    data = _fast(value)
    return data.decode("utf-8") if data is not None else json.dumps(value, indent=2, ensure_ascii=False)
