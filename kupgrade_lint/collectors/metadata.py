"""``kupgrade-snapshot.json``: who made a snapshot, when, of what server, and what is missing."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Iterable

from kupgrade_lint import __version__
from kupgrade_lint.snapshot.layout import METADATA_FILE
from kupgrade_lint.urls import strip_userinfo

FORMAT_VERSION = 1


def read_metadata(snapshot_dir: Path) -> dict:
    """The metadata of a snapshot directory, or {} if it has none (or it is unreadable)."""
    try:
        data = json.loads((snapshot_dir / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_metadata(
    snapshot_dir: Path,
    *,
    server_version: dict | None = None,
    errors: Iterable[dict] = (),
    merge_existing: bool = True,
    coverage: dict | None = None,
) -> dict:
    """Write the metadata file, keeping the server version, errors and coverage already recorded there.

    ``coverage`` (written by the cluster collector) records what was asked of the cluster and
    what became of it: ``{"cluster": {"resources": [entry, ...]}}`` with entries from
    ``collectors.wanted.coverage_entry``.
    """
    existing = read_metadata(snapshot_dir) if merge_existing else {}
    all_errors: list[dict] = []
    seen: set[tuple[str, str]] = set()
    for err in list(existing.get("collection_errors") or []) + list(errors):
        if not isinstance(err, dict):
            continue
        # Every collector's errors are written here: none keeps a password in a URL.
        key = (strip_userinfo(str(err.get("what", ""))), strip_userinfo(str(err.get("reason", ""))))
        if key not in seen:
            seen.add(key)
            all_errors.append({"what": key[0], "reason": key[1]})
    all_errors.sort(key=lambda e: (e["what"], e["reason"]))
    data = {
        "format_version": FORMAT_VERSION,
        "created_by": f"kupgrade-lint {__version__}",
        "created_at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    version = server_version or existing.get("server_version")
    if version:
        data["server_version"] = version
    data["collection_errors"] = all_errors
    recorded = coverage if coverage is not None else existing.get("coverage")
    if isinstance(recorded, dict):
        data["coverage"] = recorded
    snapshot_dir.mkdir(parents=True, exist_ok=True)
    (snapshot_dir / METADATA_FILE).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return data
