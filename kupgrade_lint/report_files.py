"""JSON reports read back from disk (for ``diff`` and ``report merge``), validated against their schema."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from kupgrade_lint.errors import InputError
from kupgrade_lint.findings import fingerprint_of

MAX_REPORT_BYTES = 512 << 20


def report_schema_text() -> str:
    """The published JSON Schema of the report (``kupgrade-lint schema report``)."""
    return resources.files("kupgrade_lint").joinpath("schemas/report.schema.json").read_text(encoding="utf-8")


@dataclass(frozen=True)
class SavedReport:
    """A JSON report and where it was read."""

    path: str
    data: dict

    @property
    def findings(self) -> list[dict]:
        return self.data["findings"]

    @property
    def label(self) -> str:
        name = Path(self.path).name
        return name[: -len(".json")] if name.endswith(".json") else name


def finding_fingerprint(finding: dict) -> str:
    """The fingerprint a finding of a saved report carries, or the one it would have had (older reports)."""
    if isinstance(finding.get("fingerprint"), str):
        return finding["fingerprint"]
    loc = finding.get("location") or {}
    return fingerprint_of(
        finding["rule_id"], finding.get("hop"), loc.get("node"), loc.get("file"), loc.get("kind"), loc.get("namespace"), loc.get("name"), loc.get("field"), finding["message"]
    )


def read_report(path: Path) -> SavedReport:
    """Read and validate one ``scan -o json`` report; InputError naming the file and the problem otherwise."""
    import jsonschema

    try:
        if path.stat().st_size > MAX_REPORT_BYTES:
            raise InputError(f"{path}: larger than {MAX_REPORT_BYTES >> 20} MiB; not a kupgrade-lint report")
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such report file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; not a kupgrade-lint JSON report") from None
    except ValueError as exc:
        raise InputError(f"{path}: not JSON ({exc}); give a report written by scan -o json") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    schema = json.loads(report_schema_text())
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise InputError(f"{path}: not a kupgrade-lint JSON report (format_version 1): at {where}: {error.message[:200]}")
    return SavedReport(str(path), data)
