"""GitHub Actions annotations (``-o github``): each finding as a workflow command.

``::error file=deploy/app.yaml,line=4,col=5,title=KUP001 removed-api (hop to 1.16)::message``,
written to stdout inside a workflow step, becomes an annotation on the run and on the pull
request's changed files (https://docs.github.com/en/actions/using-workflows/workflow-commands-for-github-actions).
Data is escaped as the Actions toolkit does (``%`` → ``%25``, CR → ``%0D``, LF → ``%0A``;
properties also ``:`` → ``%3A`` and ``,`` → ``%2C``: actions/toolkit packages/core/src/command.ts).

GitHub shows at most 10 error, 10 warning and 10 notice annotations per step (and 50 per job:
actions/toolkit docs/problem-matchers.md, "Limitations"); every command is still written to the
log. So the summary comes first, then what was not checked, then the findings, most severe first,
and the summary says when more were written than GitHub shows.
"""

from __future__ import annotations

from typing import TextIO
from urllib.parse import unquote

from kupgrade_lint.findings import Finding, Report, Severity, summary_counts
from kupgrade_lint.reporters.sarif import SRCROOT, Artifacts

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
SHOWN_PER_LEVEL = 10  # annotations of one level GitHub shows per step


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: object) -> str:
    """One workflow command line; properties that are None are left out."""
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items() if value is not None)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _path(artifacts: Artifacts, f: Finding) -> str | None:
    """The file as GitHub names it (from the repository root), or None when it is no file of the repository."""
    if not f.location.file:
        return None
    artifact = artifacts.location(f.location)
    uri = artifact["uri"]
    if artifact.get("uriBaseId") == SRCROOT:
        return unquote(uri)
    if uri.startswith("file://"):
        return unquote(uri[len("file://"):])
    return None  # inside a snapshot that is not a directory of the repository: said in the message


def _annotation(artifacts: Artifacts, f: Finding) -> str:
    path = _path(artifacts, f)
    where = f.location.describe()
    title = f"{f.rule_id} {f.rule_name} " + (f"(hop to {f.hop})" if f.hop else "(not checked)")
    message = f"{f.message}\n{where}\nFix: {f.remediation}" if where != "(cluster)" else f"{f.message}\nFix: {f.remediation}"
    return command(
        _COMMAND[f.severity],
        message,
        file=path,
        line=f.location.line if path else None,
        col=f.location.column if path and f.location.line else None,
        title=title,
    )


def render(report: Report, stream: TextIO, color: bool = False) -> None:
    artifacts = Artifacts(report)
    active = sorted(report.active_findings, key=lambda f: f.severity.rank)  # stable: report order within a level
    counts = summary_counts(report)
    summary = (
        f"kupgrade-lint {report.current_version} -> {report.target_version}: {counts['error']} error(s), "
        f"{counts['warning']} warning(s), {counts['info']} info, {counts['suppressed']} suppressed, "
        f"{counts['not_checked']} input(s) not checked"
    )
    not_checked = list(report.coverage.not_checked) if report.coverage else []
    per_level = {
        "error": counts["error"],
        "warning": counts["warning"] + len(not_checked),
        "notice": counts["info"] + 1,
    }
    over = [f"{n} {level}s" for level, n in per_level.items() if n > SHOWN_PER_LEVEL]
    if over:
        summary += (f". GitHub shows {SHOWN_PER_LEVEL} annotations of each level per step; this step wrote {', '.join(over)}: "
                    "all are in this log, and in -o sarif for code scanning")
    lines = [command("notice", summary, title="kupgrade-lint summary")]
    lines += [command("warning", f"not checked: {text}", title="kupgrade-lint: not checked") for text in not_checked]
    lines += [_annotation(artifacts, f) for f in active]
    stream.write("".join(line + "\n" for line in lines))
