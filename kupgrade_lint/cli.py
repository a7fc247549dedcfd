"""The command line: the only place that prints the final report and exits.

Exit codes (kupgrade_lint.exit_codes.ExitCode): 0 nothing at or above --fail-on; 1 findings at
or above --fail-on; 2 usage or input error; 3 internal error (a bug).
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from kupgrade_lint import __version__
from kupgrade_lint.errors import KupgradeError
from kupgrade_lint.exit_codes import ExitCode
from kupgrade_lint.findings import Report, Severity

app = typer.Typer(
    name="kupgrade-lint",
    help=(
        "Tell, before you start, everything that will break when you upgrade a kubeadm cluster, hop by hop.\n\n"
        "Exit codes: 0 nothing at or above --fail-on; 1 findings at or above --fail-on; "
        "2 usage or input error; 3 internal error."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"
    never = "never"


class KubeletStrategy(str, Enum):
    last = "last"
    each_hop = "each-hop"


class ColorMode(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


def exit_code_for(report: Report, fail_on: FailOn) -> ExitCode:
    """The one place that decides the exit code of a finished scan."""
    if fail_on is FailOn.never:
        return ExitCode.CLEAN
    threshold = Severity(fail_on.value)
    if any(f.severity.at_least(threshold) for f in report.active_findings):
        return ExitCode.FINDINGS
    return ExitCode.CLEAN


def _fail(message: str, code: ExitCode = ExitCode.USAGE_OR_INPUT_ERROR) -> None:
    typer.echo(f"kupgrade-lint: error: {message}", err=True)
    raise typer.Exit(int(code))


def _write(render, report: Report, output_file: Optional[Path], color: ColorMode) -> None:
    if output_file is not None:
        try:
            with open(output_file, "w", encoding="utf-8") as stream:
                render(report, stream, color is ColorMode.always)
        except OSError as exc:
            _fail(f"{output_file}: cannot write the report: {exc.strerror}")
        return
    use_color = color is ColorMode.always or (color is ColorMode.auto and sys.stdout.isatty())
    render(report, sys.stdout, use_color)


@app.command()
def scan(
    target: str = typer.Option(..., "--target", "-t", help="Version to upgrade to: a minor (1.21) or a patch (v1.21.14)."),
    snapshot: Optional[Path] = typer.Option(None, "--snapshot", "-s", help="Snapshot directory or .tar.gz (see docs/snapshot-format.md)."),
    manifests: List[str] = typer.Option([], "--manifests", "-m", help="Manifest file or directory (recursive); '-' reads stdin. Repeatable."),
    current: Optional[str] = typer.Option(None, "--current", help="Current version (default: detected from the snapshot)."),
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o", help="Report format."),
    output_file: Optional[Path] = typer.Option(None, "--output-file", help="Write the report here instead of stdout."),
    fail_on: FailOn = typer.Option(FailOn.error, "--fail-on", help="Exit 1 when a finding at or above this severity is found."),
    kubelet_strategy: KubeletStrategy = typer.Option(
        KubeletStrategy.last, "--kubelet-strategy", help="'last': kubelets are upgraded once the control plane reaches the target (report skew); 'each-hop': with every hop."
    ),
    catalog_files: List[Path] = typer.Option([], "--catalog", help="Extra catalog file (same schema as rules/); repeatable."),
    color: ColorMode = typer.Option(ColorMode.auto, "--color", help="Colour in the text report."),
) -> None:
    """Report what breaks at each hop of the upgrade to --target."""
    from kupgrade_lint.catalog import load_catalog
    from kupgrade_lint.checks import ScanOptions
    from kupgrade_lint.engine import ScanRequest, scan as run_scan
    from kupgrade_lint.reporters import RENDERERS
    from kupgrade_lint.snapshot.loader import load_inputs
    from kupgrade_lint.versions import KubeVersion

    try:
        if snapshot is None and not manifests:
            _fail("give --snapshot DIR and/or --manifests PATH (a snapshot is written by `kupgrade-lint collect` or assembled by hand)")
        catalog = load_catalog(catalog_files)
        request = ScanRequest(
            target=KubeVersion.parse(target),
            current=KubeVersion.parse(current) if current else None,
            options=ScanOptions(kubelet_strategy=kubelet_strategy.value),
        )
        inputs = load_inputs(snapshot, manifests)
        report = run_scan(inputs, catalog, request)
    except KupgradeError as exc:
        _fail(str(exc))
    _write(RENDERERS[output.value], report, output_file, color)
    raise typer.Exit(int(exit_code_for(report, fail_on)))


class RulesFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


class CatalogKind(str, Enum):
    rules = "rules"
    apis = "apis"
    flags = "flags"
    feature_gates = "feature-gates"
    admission_plugins = "admission-plugins"
    releases = "releases"


@app.command("rules")
def rules_command(
    kind: List[CatalogKind] = typer.Option([], "--kind", "-k", help="Only these parts of the catalog (repeatable)."),
    version: Optional[str] = typer.Option(None, "--version", help="Only facts that change at this minor (e.g. 1.22)."),
    output: RulesFormat = typer.Option(RulesFormat.text, "--output", "-o", help="Listing format."),
    catalog_files: List[Path] = typer.Option([], "--catalog", help="Extra catalog file to include; repeatable."),
) -> None:
    """List everything the catalog knows: rules, removed APIs, flags, feature gates, plugins, releases."""
    from kupgrade_lint.catalog import load_catalog
    from kupgrade_lint.catalog_listing import render_catalog
    from kupgrade_lint.versions import KubeVersion

    try:
        catalog = load_catalog(catalog_files)
        minor = KubeVersion.parse(version).minor_string if version else None
        text = render_catalog(catalog, [k.value for k in kind], minor, output.value)
    except KupgradeError as exc:
        _fail(str(exc))
    sys.stdout.write(text)


@app.command("version")
def version_command() -> None:
    """Print the version."""
    typer.echo(f"kupgrade-lint {__version__}")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KupgradeError as exc:  # pragma: no cover - commands catch their own
        typer.echo(f"kupgrade-lint: error: {exc}", err=True)
        sys.exit(int(ExitCode.USAGE_OR_INPUT_ERROR))
    except Exception:  # a bug: say so, with the traceback (never local variables), and exit 3
        import traceback

        typer.echo("kupgrade-lint: internal error (a bug in kupgrade-lint; please report it):", err=True)
        traceback.print_exc()
        sys.exit(int(ExitCode.INTERNAL_ERROR))
