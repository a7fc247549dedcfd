"""The command line: the only place that prints the final report and exits.

Exit codes (kupgrade_lint.exit_codes.ExitCode): 0 nothing at or above --fail-on; 1 findings at
or above --fail-on; 2 usage or input error; 3 internal error (a bug).
"""

from __future__ import annotations

import sys
import tempfile
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from kupgrade_lint import __version__
from kupgrade_lint.errors import KupgradeError, UsageError
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
    from kupgrade_lint.urls import strip_userinfo

    typer.echo(f"kupgrade-lint: error: {strip_userinfo(message)}", err=True)
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
    fail_on: Optional[FailOn] = typer.Option(None, "--fail-on", help="Exit 1 when a finding at or above this severity is found [default: error]."),
    kubelet_strategy: Optional[KubeletStrategy] = typer.Option(
        None, "--kubelet-strategy", help="'last' (default): kubelets are upgraded once the control plane reaches the target (report skew); 'each-hop': with every hop."
    ),
    catalog_files: List[Path] = typer.Option([], "--catalog", help="Extra catalog file (same schema as rules/); repeatable."),
    kubeconfig: Optional[str] = typer.Option(None, "--kubeconfig", help="Scan the live cluster of this kubeconfig (default when neither --snapshot nor --manifests is given)."),
    context: Optional[str] = typer.Option(None, "--context", help="Kubeconfig context of the live cluster."),
    node_snapshots: List[Path] = typer.Option([], "--nodes", help="With a live scan: node snapshots (`collect node` output) to merge in; repeatable."),
    audit_logs: List[Path] = typer.Option([], "--audit-log", help="kube-apiserver audit log (JSON lines): shows which clients call removed APIs; repeatable."),
    config_file: Optional[Path] = typer.Option(None, "--config", help="Config file [default: ./.kupgrade-lint.yaml when present]."),
    baseline: Optional[Path] = typer.Option(None, "--baseline", help="Suppress the findings recorded in this baseline file."),
    generate_baseline: Optional[Path] = typer.Option(None, "--generate-baseline", help="Record the current findings as a baseline file."),
    color: ColorMode = typer.Option(ColorMode.auto, "--color", help="Colour in the text report."),
) -> None:
    """Report what breaks at each hop of the upgrade to --target.

    Reads a snapshot (--snapshot), manifests (--manifests), or, when neither is given, the live
    cluster of the current kube context (collected into a temporary snapshot first).
    """
    from kupgrade_lint.catalog import load_catalog
    from kupgrade_lint.checks import ScanOptions
    from kupgrade_lint.config import load_config
    from kupgrade_lint.engine import ScanRequest, scan as run_scan
    from kupgrade_lint.reporters import RENDERERS
    from kupgrade_lint.snapshot.loader import load_inputs
    from kupgrade_lint.suppress import apply_suppressions, read_baseline, write_baseline
    from kupgrade_lint.versions import KubeVersion, minor_key

    live_dir: Optional[tempfile.TemporaryDirectory] = None
    try:
        # Everything that can be wrong with the command line is found before a long collection.
        config = load_config(config_file)
        fail_on = fail_on or FailOn(config.fail_on or "error")
        strategy = kubelet_strategy.value if kubelet_strategy else (config.kubelet_strategy or "last")
        catalog = load_catalog(list(config.catalog) + list(catalog_files))
        request = ScanRequest(
            target=KubeVersion.parse(target),
            current=KubeVersion.parse(current) if current else None,
            options=ScanOptions(kubelet_strategy=strategy),
        )
        newest = catalog.known_minors()[-1]
        if request.target.minor_key > minor_key(newest):
            raise UsageError(f"unknown Kubernetes release {request.target.minor_string}: the newest release the catalog knows is {newest}")
        if snapshot is None and not manifests:
            live_dir = tempfile.TemporaryDirectory(prefix="kupgrade-live-")
            snapshot = Path(live_dir.name)
            _collect_cluster_into(snapshot, kubeconfig, context, node_snapshots)
        inputs = load_inputs(snapshot, manifests, audit_logs=audit_logs)
        report = run_scan(inputs, catalog, request)
        report = apply_suppressions(report, inputs, config.suppress, read_baseline(baseline) if baseline else None)
        if generate_baseline is not None:
            write_baseline(report, generate_baseline)
            typer.echo(f"kupgrade-lint: wrote a baseline of {len(report.findings)} finding(s) to {generate_baseline}", err=True)
    except KupgradeError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{exc.filename or 'output'}: {exc.strerror}")
    finally:
        if live_dir is not None:
            live_dir.cleanup()
    _write(RENDERERS[output.value], report, output_file, color)
    raise typer.Exit(int(exit_code_for(report, fail_on)))


collect_app = typer.Typer(help="Write a snapshot (directory or .tar.gz) from a live cluster or from a node.", no_args_is_help=False)
app.add_typer(collect_app, name="collect")


def _into(output: Path, write, *, add_to_snapshot: bool = False) -> None:
    """Run ``write(dir)`` into ``output`` and print where it went.

    ``output`` is a new or empty directory, a .tar.gz packed from a temporary one, or (with
    ``add_to_snapshot``) an existing snapshot directory that gets another part.
    """
    from kupgrade_lint.snapshot.archive import write_tar_gz
    from kupgrade_lint.snapshot.layout import TOP_LEVEL

    try:
        if output.name.endswith((".tar.gz", ".tgz")):
            with tempfile.TemporaryDirectory(prefix="kupgrade-collect-") as tmp:
                write(Path(tmp))
                write_tar_gz(Path(tmp), output)
        elif output.is_dir() and any(output.iterdir()):
            if not add_to_snapshot:
                _fail(f"{output}: the output directory must be new or empty")
            if not any((output / entry).exists() for entry in TOP_LEVEL):
                _fail(f"{output}: neither empty nor a snapshot directory")
            write(output)
        elif output.exists() and not output.is_dir():
            _fail(f"{output}: the output directory must be new or empty")
        else:
            output.mkdir(parents=True, exist_ok=True)
            write(output)
    except KupgradeError as exc:
        _fail(str(exc))
    typer.echo(str(output))


def _collect_cluster_into(directory: Path, kubeconfig: Optional[str], context: Optional[str], nodes: List[Path],
                          concurrency: int = 4, timeout: float = 30.0) -> None:
    """Collect the live cluster (and merge node snapshots) into ``directory``; say what is missing on stderr."""
    from kupgrade_lint.collectors.cluster import collect_cluster
    from kupgrade_lint.collectors.merge import merge_snapshots

    summary = collect_cluster(directory, kubeconfig=kubeconfig, context=context, progress=sys.stderr, concurrency=concurrency, timeout=timeout)
    if nodes:
        merge_snapshots(list(nodes), directory)
    typer.echo(
        f"kupgrade-lint: collected {summary.objects_written} object(s) from {summary.resources_listed} resource list(s); "
        f"{len(summary.errors)} could not be collected (the report and kupgrade-snapshot.json name them)",
        err=True,
    )


@collect_app.callback(invoke_without_command=True)
def collect(
    ctx: typer.Context,
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Snapshot directory (new or empty) or FILE.tar.gz."),
    kubeconfig: Optional[str] = typer.Option(None, "--kubeconfig", help="Kubeconfig file [default: $KUBECONFIG, ~/.kube/config, in-cluster]."),
    context: Optional[str] = typer.Option(None, "--context", help="Kubeconfig context [default: current]."),
    node_snapshots: List[Path] = typer.Option([], "--nodes", help="Node snapshots (`collect node` output) to merge in; repeatable."),
    concurrency: int = typer.Option(4, "--concurrency", min=1, max=32, help="Requests at once."),
    timeout: float = typer.Option(30.0, "--timeout", min=1.0, help="Seconds per request."),
) -> None:
    """Collect the live cluster (read-only: get and list) into a snapshot."""
    if ctx.invoked_subcommand is not None:
        return
    if output is None:
        _fail("collect needs --output DIR or --output FILE.tar.gz")
    _into(output, lambda directory: _collect_cluster_into(directory, kubeconfig, context, node_snapshots, concurrency, timeout))


@collect_app.command("node")
def collect_node_command(
    output: Path = typer.Option(..., "--output", "-o", help="Snapshot directory (new or empty) or FILE.tar.gz."),
    root: Path = typer.Option(Path("/"), "--root", help="The node's filesystem root (a mounted or copied node works too)."),
    node_name: Optional[str] = typer.Option(None, "--node-name", help="Node name [default: the kubelet's --hostname-override, else /etc/hostname]."),
) -> None:
    """Copy the node files the checks read (kubelet env files and units, static pods, kubeconfigs without credentials)."""
    from kupgrade_lint.collectors.node import collect_node

    def write(directory: Path) -> None:
        summary = collect_node(root, directory, node_name=node_name)
        typer.echo(f"kupgrade-lint: copied {summary.objects_written} node file(s)", err=True)

    _into(output, write)


@collect_app.command("registry")
def collect_registry_command(
    repository: str = typer.Option(..., "--repository", "-r", help="The cluster's imageRepository: host[:port]/path, e.g. myregistry:5000/google-containers."),
    output: Path = typer.Option(..., "--output", "-o", help="Snapshot directory (new, empty, or an existing snapshot to add registry/ to) or FILE.tar.gz."),
    images: List[str] = typer.Option([], "--image", help="Image name under the repository; repeatable [default: the images kubeadm pulls]."),
    insecure_http: bool = typer.Option(False, "--insecure-http", help="Talk plain http instead of https."),
    ca_file: Optional[Path] = typer.Option(None, "--ca-file", help="CA bundle to verify the registry with, instead of the system CAs."),
    username: Optional[str] = typer.Option(None, "--username", "-u", help="Registry user (needs --password-stdin)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the registry password from stdin."),
    timeout: float = typer.Option(30.0, "--timeout", min=1.0, help="Seconds per request."),
) -> None:
    """List the tags the image registry holds for each image kubeadm pulls (GET only)."""
    from kupgrade_lint.collectors.registry import DEFAULT_IMAGES, collect_registry

    if password_stdin != (username is not None):
        _fail("--username and --password-stdin go together")
    credentials = None
    if username is not None:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            _fail("--password-stdin: no password on stdin")
        credentials = (username, password)

    def write(directory: Path) -> None:
        summary = collect_registry(
            directory, repository=repository, images=tuple(images) or DEFAULT_IMAGES, insecure_http=insecure_http,
            ca_file=str(ca_file) if ca_file else None, credentials=credentials, timeout=timeout,
        )
        typer.echo(
            f"kupgrade-lint: listed the tags of {summary.resources_listed} image(s) in {repository} "
            f"({summary.objects_written} found); {len(summary.errors)} could not be read (listed in kupgrade-snapshot.json)",
            err=True,
        )

    # Unlike the other collectors this one may add to an existing snapshot directory.
    _into(output, write, add_to_snapshot=True)


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
