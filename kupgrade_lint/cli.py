"""The command line: the only place that prints the final report and exits.

Exit codes (kupgrade_lint.exit_codes.ExitCode): 0 nothing at or above --fail-on; 1 findings at
or above --fail-on; 2 usage or input error; 3 internal error (a bug); 4 with --strict, part of
the input was not checked (and no finding at or above --fail-on).
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

# -- the command line's conventions: one-line usage errors, help without type placeholders -------


def _metavar(param) -> str:
    """What help shows after an option: nothing for a flag, the choices, PATH, N, or the value's name.

    Told by the click parameter type's class names, which typer keeps across its releases.
    """
    kind = param.type
    kinds = {cls.__name__ for cls in type(kind).__mro__}
    if getattr(param, "is_flag", False) or "BoolParamType" in kinds:
        return ""
    if getattr(kind, "choices", None):
        return "[" + "|".join(str(getattr(c, "value", c)) for c in kind.choices) + "]"
    if kinds & {"Path", "TyperPath", "File"}:
        return "PATH"
    if kinds & {"IntParamType", "FloatParamType"}:
        return "N"
    return {"target": "VERSION", "current": "VERSION", "version": "MINOR", "manifests": "PATH"}.get(param.name, param.name.upper())


def _plain_metavars(command) -> None:
    for param in command.params:
        if param.param_type_name == "option" and param.metavar is None:
            param.metavar = _metavar(param)
        elif param.param_type_name == "argument" and param.metavar is None:
            param.metavar = param.name.upper()
            param.display_type_rich = lambda ctx: None  # the name says it; no "<path>" after it
    for sub in getattr(command, "commands", {}).values():
        _plain_metavars(sub)


class _Commands(typer.core.TyperGroup):
    """The top-level command group: a usage error is one line on stderr and exit 2, never a framed box."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        _plain_metavars(self)
        try:
            code = super().main(args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False, **extra)
        except typer.TyperException as exc:  # click's UsageError, BadParameter, NoSuchOption, FileError ...
            if type(exc).__name__ == "NoArgsIsHelpError":  # a group called without a command: its help
                typer.echo(exc.format_message(), err=True)
            else:
                context = getattr(exc, "ctx", None)
                where = f" (see '{context.command_path} --help')" if context is not None else ""
                typer.echo(f"kupgrade-lint: error: {' '.join(exc.format_message().split()).rstrip('.')}{where}", err=True)
            code = int(ExitCode.USAGE_OR_INPUT_ERROR)
        except typer.Abort:
            typer.echo("kupgrade-lint: aborted", err=True)
            code = int(ExitCode.USAGE_OR_INPUT_ERROR)
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=_Commands,
    # Plain click help and one-line usage errors (rendering them with rich also costs ~0.2 s of imports at every --help).
    rich_markup_mode=None,
    name="kupgrade-lint",
    help=(
        "Tell, before you start, everything that will break when you upgrade a kubeadm cluster, hop by hop.\n\n"
        # \b: click keeps the lines of this paragraph as written (no re-wrapping inside --fail-on).
        "\b\nExit codes:\n"
        "0 nothing at or above --fail-on\n"
        "1 findings at or above --fail-on\n"
        "2 usage or input error\n"
        "3 internal error\n"
        "4 with --strict: something was not checked (a collection finding)\n"
        "  and nothing at or above --fail-on was found"
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_show_locals=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"kupgrade-lint {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."),
) -> None:
    """Tell, before you start, everything that will break when you upgrade a kubeadm cluster, hop by hop."""


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    markdown = "markdown"
    junit = "junit"
    github = "github"


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


def exit_code_for(report: Report, fail_on: FailOn, strict: bool = False) -> ExitCode:
    """The one place that decides the exit code of a finished scan.

    Findings at or above ``fail_on`` (1) win over ``strict``'s "not checked" (4): what breaks
    is fixed first, and 0 under ``--strict`` still means checked completely and clean.
    """
    if fail_on is not FailOn.never:
        threshold = Severity(fail_on.value)
        if any(f.severity.at_least(threshold) for f in report.active_findings):
            return ExitCode.FINDINGS
    if strict and _not_checked(report):
        return ExitCode.NOT_CHECKED
    return ExitCode.CLEAN


def _not_checked(report: Report) -> int:
    return sum(1 for f in report.active_findings if f.category == "collection")


def _fail(message: str, code: ExitCode = ExitCode.USAGE_OR_INPUT_ERROR) -> None:
    from kupgrade_lint.urls import strip_userinfo

    typer.echo(f"kupgrade-lint: error: {strip_userinfo(message)}", err=True)
    raise typer.Exit(int(code))


def _selected_hop(report: Report, only_hop: Optional[str], next_hop: bool) -> Report:
    """``--only-hop``/``--next-hop``: the finished report narrowed to one hop (the exit code follows it)."""
    from kupgrade_lint.report_views import select_hop
    from kupgrade_lint.versions import KubeVersion

    if only_hop is not None and next_hop:
        raise UsageError("--only-hop and --next-hop cannot be combined")
    if next_hop:
        return select_hop(report, report.hops[0].minor)
    if only_hop is not None:
        minor = KubeVersion.parse(only_hop)
        if minor.patch is not None:
            raise UsageError(f"--only-hop {only_hop}: give the minor the hop arrives at (e.g. {minor.minor_string}), not a patch")
        return select_hop(report, minor.minor_string)
    return report


def _shown(report: Report, output: OutputFormat, baseline: Optional[Path]) -> Report:
    """With --baseline, the reports people read (text, markdown) show only new findings; a note on
    stderr counts the ones left out. JSON, SARIF and JUnit keep them, marked suppressed."""
    if baseline is None or output not in (OutputFormat.text, OutputFormat.markdown):
        return report
    from kupgrade_lint.report_views import without_baselined

    shown, hidden = without_baselined(report)
    if hidden:
        typer.echo(f"kupgrade-lint: --baseline: {hidden} known finding(s) not shown (JSON and SARIF list them as suppressed)", err=True)
    return shown


def _write(render, report: Report, output_file: Optional[Path], color: ColorMode) -> None:
    if output_file is not None:
        try:
            with open(output_file, "w", encoding="utf-8") as stream:
                render(report, stream, color is ColorMode.always)
        except OSError as exc:
            _fail(f"{output_file}: cannot write the report: {exc.strerror}")
        return
    _to_stdout(lambda: render(report, _stdout_for(render), _use_color(color, sys.stdout)))


def _use_color(color: ColorMode, stream) -> bool:
    """``--color auto``: only on a terminal, and not when NO_COLOR is set (https://no-color.org) or TERM=dumb."""
    import os

    if color is ColorMode.always:
        return True
    if color is ColorMode.never or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return stream.isatty()


_ASCII = str.maketrans({"→": "->", "─": "-", "—": "-", "–": "-", "…": "...", "•": "*", "≥": ">=", "≤": "<=", "×": "x"})


class _AsciiStream:
    """A stdout that cannot encode UTF-8 (PYTHONIOENCODING=ascii, a C locale): arrows and rules in ASCII, the rest escaped."""

    def __init__(self, stream):
        self._stream = stream
        self._encoding = stream.encoding or "ascii"

    def write(self, text: str) -> int:
        text = text.translate(_ASCII).encode(self._encoding, "backslashreplace").decode(self._encoding)
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()


def _stdout_for(render):
    """stdout as the format needs it when the terminal's encoding is not UTF-8.

    JSON, SARIF and JUnit XML are UTF-8 by definition (RFC 8259; the XML declaration says so), so
    they go to the byte stream as UTF-8 whatever the locale; text and markdown are for people
    and are written in ASCII there.
    """
    import codecs

    stream = sys.stdout
    try:
        utf = codecs.lookup(stream.encoding or "").name.startswith("utf")
    except LookupError:
        utf = False
    if utf:
        return stream
    from kupgrade_lint.reporters import RENDERERS

    machine = {RENDERERS[name] for name in ("json", "sarif", "junit")}
    if render in machine and hasattr(stream, "buffer"):
        stream.flush()
        return _Utf8Stream(stream)
    return _AsciiStream(stream)


class _Utf8Stream:
    """Text written as UTF-8 bytes to a stream's buffer (which stays open: it is stdout's)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.buffer.write(text.encode("utf-8"))
        return len(text)

    def flush(self) -> None:
        self._stream.buffer.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()


def _to_stdout(write) -> None:
    """Run ``write`` (which writes to stdout) and flush; a reader that went away (``| head``) or a
    full disk ends the command with one line on stderr and exit 2, not a traceback."""
    try:
        write()
        sys.stdout.flush()
    except OSError as exc:
        # Whatever is still buffered cannot be written either: point stdout at /dev/null so that
        # the interpreter's own flush at exit does not fail a second time.
        import os

        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        _fail(f"cannot write the report to stdout: {exc.strerror or exc}")


def _read_stdin() -> str:
    """``--manifests -``: stdin as UTF-8 text (a leading byte order mark is dropped later)."""
    try:
        return sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"<stdin> (--manifests -): not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"<stdin> (--manifests -): cannot read: {exc.strerror or exc}") from None


def _check_live_options(snapshot: Optional[Path], manifests: List[str], kubeconfig: Optional[str], context: Optional[str], nodes: List[Path]) -> None:
    """Options of a live scan are an error with --snapshot/--manifests (they would be ignored),
    and each --nodes must be a node snapshot: found before a long collection starts."""
    if snapshot is not None or manifests:
        given = [name for name, value in (("--kubeconfig", kubeconfig), ("--context", context), ("--nodes", nodes)) if value]
        if given:
            scanned = "--snapshot" if snapshot is not None else "--manifests"
            raise UsageError(f"{', '.join(given)} select(s) the live cluster to scan and cannot be combined with {scanned}")
        return
    _check_node_snapshots(nodes)


def _check_node_snapshots(nodes: List[Path]) -> None:
    for path in nodes:
        problem = _node_snapshot_problem(Path(path))
        if problem:
            raise UsageError(f"{path}: {problem} (--nodes takes the output of `kupgrade-lint collect node`)")


def _node_snapshot_problem(path: Path) -> Optional[str]:
    """Why ``path`` is not a node snapshot (a directory or .tar.gz holding nodes/<name>/), or None."""
    if path.is_dir():
        nodes = path / "nodes"
        if nodes.is_dir() and any(p.is_dir() for p in nodes.iterdir()):
            return None
        return "not a node snapshot: no nodes/<node name>/ directory in it"
    if not path.exists():
        return "no such node snapshot directory or archive"
    if not path.name.endswith((".tar.gz", ".tgz")):
        return "not a node snapshot: a node snapshot is a directory or a .tar.gz of one"
    import tarfile

    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:  # streamed: stops at the first node file
                parts = member.name.lstrip("./").split("/")
                if len(parts) >= 3 and parts[0] == "nodes" and parts[1]:
                    return None
    except (tarfile.TarError, OSError, EOFError) as exc:
        return f"not a readable .tar.gz ({exc})"
    return "not a node snapshot: no nodes/<node name>/ in the archive"


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
    cert_expiry_days: int = typer.Option(30, "--cert-expiry-days", min=0, max=3650, help="Report serving certificates that expire within this many days."),
    check_registry: bool = typer.Option(False, "--check-registry", help="Ask the registries the cluster pulls from for every image of every hop (Registry API v2 HEAD, with the nodes' architectures)."),
    registry_config: Optional[Path] = typer.Option(None, "--registry-config", help="Docker config.json with registry credentials [default: $DOCKER_CONFIG/config.json or ~/.docker/config.json]."),
    registry_ca_file: Optional[Path] = typer.Option(None, "--registry-ca-file", help="CA bundle to verify the registries with, instead of the system CAs."),
    insecure_registry: bool = typer.Option(False, "--insecure-registry", help="Talk plain http to the registries (only when they really are plain http)."),
    strict: bool = typer.Option(False, "--strict", help="Exit 4 when part of the input was not checked (a collection finding, KUP090) and nothing at or above --fail-on was found."),
    only_hop: Optional[str] = typer.Option(None, "--only-hop", metavar="MINOR", help="Report (and exit on) only the hop to this minor, e.g. 1.22, of the path planned to --target, plus what was not checked."),
    next_hop: bool = typer.Option(False, "--next-hop", help="Report (and exit on) only the first hop of the path, plus what was not checked."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Text report: add each finding's sources."),
) -> None:
    """Report what breaks at each hop of the upgrade to --target.

    Reads a snapshot (--snapshot), manifests (--manifests), or, when neither is given, the live
    cluster of the current kube context (collected into a temporary snapshot first).
    """
    from kupgrade_lint.catalog import load_catalog
    from kupgrade_lint.checks import ScanOptions
    from kupgrade_lint.config import load_config
    from kupgrade_lint.engine import ScanRequest, judge, prepare
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
            options=ScanOptions(kubelet_strategy=strategy, cert_expiry_days=cert_expiry_days),
        )
        newest = catalog.known_minors()[-1]
        if request.target.minor_key > minor_key(newest):
            raise UsageError(f"unknown Kubernetes release {request.target.minor_string}: the newest release the catalog knows is {newest}")
        _check_live_options(snapshot, manifests, kubeconfig, context, node_snapshots)
        stdin_text = _read_stdin() if "-" in manifests else None
        if snapshot is None and not manifests:
            live_dir = tempfile.TemporaryDirectory(prefix="kupgrade-live-")
            snapshot = Path(live_dir.name)
            _collect_cluster_into(snapshot, kubeconfig, context, node_snapshots, catalog)
        inputs = load_inputs(snapshot, manifests, stdin_text=stdin_text, audit_logs=audit_logs)
        prepared = prepare(inputs, catalog, request)
        if check_registry:
            _ask_registries(prepared, registry_config, registry_ca_file, insecure_registry)
        report = judge(prepared)
        report = apply_suppressions(report, inputs, config.suppress, read_baseline(baseline) if baseline else None)
        if generate_baseline is not None:
            recorded = write_baseline(report, generate_baseline)
            typer.echo(f"kupgrade-lint: wrote a baseline of {recorded} finding(s) to {generate_baseline}; exit 0 (--generate-baseline does not fail on findings)", err=True)
        report = _selected_hop(report, only_hop, next_hop)
    except KupgradeError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{exc.filename or 'output'}: {exc.strerror}")
    finally:
        if live_dir is not None:
            live_dir.cleanup()
    render = RENDERERS[output.value]
    _write(_verbose_text(render) if verbose and output is OutputFormat.text else render, _shown(report, output, baseline), output_file, color)
    code = ExitCode.CLEAN if generate_baseline is not None else exit_code_for(report, fail_on, strict)
    if code is ExitCode.NOT_CHECKED:
        typer.echo(f"kupgrade-lint: --strict: {_not_checked(report)} part(s) of the input were not checked (KUP090 not-checked findings)", err=True)
    raise typer.Exit(int(code))


def _verbose_text(render):
    """The text renderer with each finding's sources (``-v``)."""
    return lambda report, stream, color: render(report, stream, color, verbose=True)


def _ask_registries(ctx, registry_config: Optional[Path], ca_file: Optional[Path], insecure_http: bool) -> None:
    """``--check-registry``: ask each registry for the images the path needs and add the answers to the snapshot."""
    from kupgrade_lint.collectors.docker_config import load_docker_config
    from kupgrade_lint.collectors.registry import check_images
    from kupgrade_lint.engine import required_images
    from kupgrade_lint.snapshot.loader import load_registry_answers

    docker_config = load_docker_config(registry_config)
    images = sorted({str(image) for _, hop_list in required_images(ctx) for image in hop_list if image.tag and not image.digest})
    with tempfile.TemporaryDirectory(prefix="kupgrade-registry-") as tmp:
        summary = check_images(
            Path(tmp), images, platforms=bool(ctx.facts.platforms), insecure_http=insecure_http,
            ca_file=str(ca_file) if ca_file else None, credentials_for=docker_config.credentials_for if docker_config else None,
        )
        load_registry_answers(Path(tmp), ctx.snapshot)
    typer.echo(f"kupgrade-lint: asked the registries for {summary.resources_listed} of {len(images)} image(s); {len(summary.errors)} could not be asked", err=True)


# -o/--output is the format of a report everywhere; collectors write a snapshot, given with --to.
# The old -o/--output of collect is refused with a pointer to --to rather than taken as a path.
_RENAMED_OUTPUT = typer.Option(None, "--output", "-o", hidden=True)


def _refuse_renamed(renamed: Optional[str]) -> None:
    if renamed is not None:
        _fail(f"-o/--output {renamed}: collect writes a snapshot, not a report; give where with --to {renamed} (-o/--output is a report's format)")


def _snapshot_destination(output: Optional[Path], renamed: Optional[str], command: str) -> Path:
    _refuse_renamed(renamed)
    if output is None:
        _fail(f"{command} needs --to DIR or --to FILE.tar.gz (where to write the snapshot)")
    return output


class PlanFormat(str, Enum):
    text = "text"
    markdown = "markdown"


@app.command("plan")
def plan_command(
    target: str = typer.Option(..., "--target", "-t", help="Version to upgrade to: a minor (1.21) or a patch (v1.21.14)."),
    snapshot: Optional[Path] = typer.Option(None, "--snapshot", "-s", help="Snapshot directory or .tar.gz [default: collect the live cluster of the current kube context]."),
    current: Optional[str] = typer.Option(None, "--current", help="Current version (default: detected from the snapshot)."),
    output: PlanFormat = typer.Option(PlanFormat.text, "--output", "-o", help="Runbook format."),
) -> None:
    """Print the upgrade runbook of this cluster: etcd snapshot, each hop's images, fixes, commands and checks, the kubelets."""
    from kupgrade_lint.catalog import load_catalog
    from kupgrade_lint.engine import ScanRequest, judge, prepare
    from kupgrade_lint.runbook import render_runbook
    from kupgrade_lint.snapshot.loader import load_inputs
    from kupgrade_lint.versions import KubeVersion

    live_dir: Optional[tempfile.TemporaryDirectory] = None
    try:
        catalog = load_catalog()
        request = ScanRequest(target=KubeVersion.parse(target), current=KubeVersion.parse(current) if current else None)
        if snapshot is None:
            live_dir = tempfile.TemporaryDirectory(prefix="kupgrade-live-")
            snapshot = Path(live_dir.name)
            _collect_cluster_into(snapshot, None, None, [], catalog)
        prepared = prepare(load_inputs(snapshot, []), catalog, request)
        text = render_runbook(judge(prepared), _cluster_shape(prepared), output.value)
    except KupgradeError as exc:
        _fail(str(exc))
    finally:
        if live_dir is not None:
            live_dir.cleanup()
    _to_stdout(lambda: _stdout_for(None).write(text))  # in ASCII where stdout is not UTF-8


def _cluster_shape(ctx):
    """The control-plane nodes (role label, or a kube-apiserver static pod in the node's files), the others, and etcd."""
    from kupgrade_lint.runbook import ClusterShape

    files = ctx.snapshot.node_files
    names = sorted({n.name for n in ctx.facts.nodes} | set(files))
    roles = {"node-role.kubernetes.io/master", "node-role.kubernetes.io/control-plane"}
    control = {o.name for o in ctx.snapshot.of_kind("Node") if isinstance(o.metadata.get("labels"), dict) and roles & set(o.metadata["labels"])}
    control |= {node for node, by_path in files.items() if "/etc/kubernetes/manifests/kube-apiserver.yaml" in by_path}
    return ClusterShape(
        control_plane=tuple(n for n in names if n in control),
        workers=tuple(n for n in names if n not in control),
        etcd_external=ctx.facts.etcd_external,
    )


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
                          catalog, concurrency: int = 4, timeout: float = 30.0) -> None:
    """Collect the live cluster (and merge node snapshots) into ``directory``; say what is missing on stderr.

    What is listed comes from the catalog and the checks (``scan_needs.wanted_kinds``).
    """
    from kupgrade_lint.collectors.cluster import collect_cluster
    from kupgrade_lint.collectors.merge import merge_snapshots
    from kupgrade_lint.scan_needs import wanted_kinds

    summary = collect_cluster(
        directory, wanted=wanted_kinds(catalog), kubeconfig=kubeconfig, context=context, progress=sys.stderr,
        concurrency=concurrency, timeout=timeout,
    )
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
    output: Optional[Path] = typer.Option(None, "--to", help="Snapshot directory (new or empty) or FILE.tar.gz."),
    renamed: Optional[str] = _RENAMED_OUTPUT,
    kubeconfig: Optional[str] = typer.Option(None, "--kubeconfig", help="Kubeconfig file [default: $KUBECONFIG, ~/.kube/config, in-cluster]."),
    context: Optional[str] = typer.Option(None, "--context", help="Kubeconfig context [default: current]."),
    node_snapshots: List[Path] = typer.Option([], "--nodes", help="Node snapshots (`collect node` output) to merge in; repeatable."),
    concurrency: int = typer.Option(4, "--concurrency", min=1, max=32, help="Requests at once."),
    timeout: float = typer.Option(30.0, "--timeout", min=1.0, help="Seconds per request."),
    catalog_files: List[Path] = typer.Option([], "--catalog", help="Extra catalog file: its custom resources with removed versions are listed too; repeatable."),
) -> None:
    """Collect the live cluster (read-only: get and list) into a snapshot."""
    from kupgrade_lint.catalog import load_catalog

    if ctx.invoked_subcommand is not None:
        return
    _refuse_renamed(renamed)
    if output is None:
        _fail("collect needs --to DIR or --to FILE.tar.gz (where to write the snapshot)")
    try:
        catalog = load_catalog(catalog_files)
        _check_node_snapshots(node_snapshots)
    except KupgradeError as exc:
        _fail(str(exc))
    _into(output, lambda directory: _collect_cluster_into(directory, kubeconfig, context, node_snapshots, catalog, concurrency, timeout))


@collect_app.command("node")
def collect_node_command(
    output: Optional[Path] = typer.Option(None, "--to", help="Snapshot directory (new or empty) or FILE.tar.gz [required]."),
    renamed: Optional[str] = _RENAMED_OUTPUT,
    root: Path = typer.Option(Path("/"), "--root", help="The node's filesystem root (a mounted or copied node works too)."),
    node_name: Optional[str] = typer.Option(None, "--node-name", help="Node name [default: the kubelet's --hostname-override, else /etc/hostname]."),
) -> None:
    """Copy the node files the checks read (kubelet env files and units, static pods, kubeconfigs without credentials)."""
    from kupgrade_lint.collectors.node import collect_node

    output = _snapshot_destination(output, renamed, "collect node")

    def write(directory: Path) -> None:
        summary = collect_node(root, directory, node_name=node_name)
        typer.echo(f"kupgrade-lint: copied {summary.objects_written} node file(s)", err=True)

    _into(output, write)


@collect_app.command("registry")
def collect_registry_command(
    repository: str = typer.Option(..., "--repository", "-r", help="The cluster's imageRepository: host[:port]/path, e.g. myregistry:5000/google-containers."),
    output: Optional[Path] = typer.Option(None, "--to", help="Snapshot directory (new, empty, or an existing snapshot to add registry/ to) or FILE.tar.gz [required]."),
    renamed: Optional[str] = _RENAMED_OUTPUT,
    images: List[str] = typer.Option([], "--image", help="Image name under the repository; repeatable [default: the images kubeadm pulls]."),
    insecure_http: bool = typer.Option(False, "--insecure-http", help="Talk plain http instead of https."),
    ca_file: Optional[Path] = typer.Option(None, "--ca-file", help="CA bundle to verify the registry with, instead of the system CAs."),
    username: Optional[str] = typer.Option(None, "--username", "-u", help="Registry user (needs --password-stdin)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the registry password from stdin."),
    timeout: float = typer.Option(30.0, "--timeout", min=1.0, help="Seconds per request."),
) -> None:
    """List the tags the image registry holds for each image kubeadm pulls (GET only)."""
    from kupgrade_lint.collectors.registry import DEFAULT_IMAGES, collect_registry

    output = _snapshot_destination(output, renamed, "collect registry")
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
    config_fields = "config-fields"
    volume_plugins = "volume-plugins"
    cloud_providers = "cloud-providers"
    coredns_corefile = "coredns-corefile"
    removed_metrics = "removed-metrics"
    kubeadm_defaults = "kubeadm-defaults"
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
    _emit(text)


class ImagesFormat(str, Enum):
    text = "text"
    json = "json"


class MirrorTool(str, Enum):
    skopeo = "skopeo"
    crane = "crane"


@app.command("images")
def images_command(
    target: str = typer.Option(..., "--target", "-t", help="Version to upgrade to: a minor (1.21) or a patch (v1.21.14)."),
    snapshot: Optional[Path] = typer.Option(None, "--snapshot", "-s", help="Snapshot directory or .tar.gz: its version, imageRepository and nodes' pause images."),
    current: Optional[str] = typer.Option(None, "--current", help="Current version (default: detected from the snapshot)."),
    image_repository: Optional[str] = typer.Option(None, "--image-repository", help="The cluster's kubeadm imageRepository (default: the snapshot's, else kubeadm's)."),
    output: ImagesFormat = typer.Option(ImagesFormat.text, "--output", "-o", help="Listing format."),
    mirror_script: bool = typer.Option(False, "--mirror-script", help="Print a shell script that copies every image from upstream into the registry."),
    tool: MirrorTool = typer.Option(MirrorTool.skopeo, "--tool", help="Copy command of the mirror script."),
    source: Optional[str] = typer.Option(None, "--source-repository", help="Copy from this mirror of registry.k8s.io instead."),
) -> None:
    """List the images every hop pulls, or print the commands that mirror them."""
    import dataclasses

    from kupgrade_lint.catalog import load_catalog
    from kupgrade_lint.engine import ScanRequest, prepare, required_images
    from kupgrade_lint.image_listing import render_images
    from kupgrade_lint.snapshot.loader import load_inputs
    from kupgrade_lint.snapshot.model import Snapshot
    from kupgrade_lint.versions import KubeVersion

    try:
        if snapshot is None and current is None:
            raise UsageError("give --snapshot (to read the cluster) or --current (the version it runs)")
        catalog = load_catalog()
        request = ScanRequest(target=KubeVersion.parse(target), current=KubeVersion.parse(current) if current else None)
        inputs = load_inputs(snapshot, []) if snapshot is not None else Snapshot()
        ctx = prepare(inputs, catalog, request)
        if image_repository:
            ctx = dataclasses.replace(ctx, facts=dataclasses.replace(ctx.facts, image_repository=image_repository.rstrip("/")))
        text = render_images(required_images(ctx), tool.value if mirror_script else output.value, source=source)
    except KupgradeError as exc:
        _fail(str(exc))
    _emit(text)


class ReviewFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


@app.command("diff")
def diff_command(
    old: Path = typer.Argument(..., help="The JSON report before the change (scan -o json)."),
    new: Path = typer.Argument(..., help="The JSON report after the change."),
    output: ReviewFormat = typer.Option(ReviewFormat.text, "--output", "-o", help="Format."),
    fail_on_new: bool = typer.Option(False, "--fail-on-new", help="Exit 1 when the change introduces an error."),
) -> None:
    """Show what a change fixed, introduced and left, per hop, between two JSON reports."""
    from kupgrade_lint.report_diff import diff_reports, render_diff
    from kupgrade_lint.report_files import read_report

    try:
        result = diff_reports(read_report(old), read_report(new))
    except KupgradeError as exc:
        _fail(str(exc))
    _emit(render_diff(result, output.value))
    if fail_on_new and any(f["severity"] == "error" for f in result.introduced):
        raise typer.Exit(int(ExitCode.FINDINGS))


report_app = typer.Typer(help="Work with JSON reports: merge many clusters' reports into one fleet summary.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("merge")
def report_merge_command(
    reports: List[Path] = typer.Argument(..., help="JSON reports (scan -o json), one per cluster; each is named after its file."),
    output: ReviewFormat = typer.Option(ReviewFormat.text, "--output", "-o", help="Format."),
) -> None:
    """One fleet summary: per cluster and per hop, blockers, warnings and what was not checked."""
    from kupgrade_lint.fleet import render_fleet, summarize
    from kupgrade_lint.report_files import read_report

    try:
        clusters = summarize([read_report(p) for p in reports])
    except KupgradeError as exc:
        _fail(str(exc))
    _emit(render_fleet(clusters, output.value))


schema_app = typer.Typer(help="Print the published JSON Schemas.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")


@schema_app.command("report")
def schema_report_command() -> None:
    """The JSON Schema of `scan -o json` reports (format_version 1)."""
    from kupgrade_lint.report_files import report_schema_text

    _emit(report_schema_text())


def _emit(text: str) -> None:
    """Write a finished text to stdout, with the same handling of a closed pipe or a full disk as the report."""
    _to_stdout(lambda: sys.stdout.write(text))


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
