"""The command line: exit codes, stdout/stderr and one-line errors (asserted together)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kupgrade_lint.cli import app
from tests.conftest import SEED

runner = CliRunner()


def run(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def test_seed_scan_exits_1_with_errors_and_report_on_stdout_only():
    result = run("scan", "--snapshot", str(SEED), "--target", "v1.21.14")
    assert result.exit_code == 1
    assert "upgrade v1.14.5 → v1.21.14 in 7 hop(s)" in result.stdout
    assert result.stderr == ""


def test_fail_on_never_exits_0():
    result = run("scan", "--snapshot", str(SEED), "--target", "v1.21.14", "--fail-on", "never", "-o", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["target_version"] == "v1.21.14"


def test_clean_path_exits_0(tmp_path: Path):
    manifest = tmp_path / "app.yaml"
    manifest.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: b}\nspec: {}\n")
    result = run("scan", "--manifests", str(manifest), "--current", "v1.20.15", "--target", "1.21", "-o", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["target_version"] == "v1.21.14"
    # Only the honest "not checked" note: no registry contents were given.
    assert [(f["rule_id"], f["severity"], f["location"]["file"]) for f in data["findings"]] == [("KUP090", "warning", "registry/k8s.gcr.io")]


@pytest.mark.parametrize(
    "target, message",
    [
        ("v1.99.1", "unknown Kubernetes release 1.99: the newest release the catalog knows is 1.37"),
        ("v1.13.0", "is lower than the current version v1.14.5"),
        ("v1.14.5", "is not newer than the current version v1.14.5"),
        ("banana", "'banana' is not a Kubernetes version"),
    ],
)
def test_bad_target_is_a_one_line_error_exit_2(target: str, message: str):
    result = run("scan", "--snapshot", str(SEED), "--target", target)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr and result.stderr.startswith("kupgrade-lint: error:")


def test_an_unknown_target_is_refused_before_collecting_a_live_cluster(tmp_path: Path):
    # No kubeconfig exists: had collection started, the error would be about the configuration.
    result = run("scan", "--target", "1.99", "--kubeconfig", str(tmp_path / "none"))
    assert result.exit_code == 2 and "unknown Kubernetes release 1.99" in result.stderr


def test_missing_snapshot_is_a_one_line_error(tmp_path: Path):
    result = run("scan", "--snapshot", str(tmp_path / "nope"), "--target", "1.21")
    assert result.exit_code == 2
    assert "no such snapshot directory" in result.stderr and result.stderr.count("\n") == 1


def test_no_input_means_the_live_cluster_and_no_kubeconfig_is_a_one_line_error(tmp_path: Path):
    missing = tmp_path / "no-kubeconfig"
    result = run("scan", "--target", "1.21", "--kubeconfig", str(missing))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "cannot load the Kubernetes configuration" in result.stderr and str(missing) in result.stderr


def test_broken_and_unreadable_files_become_collection_findings_and_the_scan_goes_on(seed_copy: Path):
    (seed_copy / "cluster" / "broken.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n")
    (seed_copy / "cluster" / "binary.yaml").write_bytes(b"\xff\xfe\x00garbage")
    (seed_copy / "cluster" / "dangling.yaml").symlink_to(seed_copy / "does-not-exist.yaml")
    result = run("scan", "--snapshot", str(seed_copy), "--target", "v1.21.14", "-o", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    collection = {f["location"]["file"]: f for f in data["findings"] if f["category"] == "collection"}
    assert set(collection) == {"cluster/broken.yaml", "cluster/binary.yaml", "cluster/dangling.yaml"}
    assert collection["cluster/broken.yaml"]["location"]["line"] == 3
    assert "not valid YAML" in collection["cluster/broken.yaml"]["message"]
    assert "not a UTF-8 text file" in collection["cluster/binary.yaml"]["message"]
    assert "a symbolic link; not followed" in collection["cluster/dangling.yaml"]["message"]
    assert all(f["hop"] is None for f in collection.values())
    # everything else was still checked
    assert any(f["rule_id"] == "KUP010" for f in data["findings"])
    text = run("scan", "--snapshot", str(seed_copy), "--target", "v1.21.14").stdout
    assert "not checked" in text and "cluster/broken.yaml:3" in text


def test_manifests_from_stdin():
    doc = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: shop, namespace: shop}\nspec: {}\n"
    result = run("scan", "--manifests", "-", "--current", "v1.21.14", "--target", "v1.22.17", "-o", "json", input=doc)
    data = json.loads(result.stdout)
    found = [(f["rule_id"], f["hop"], f["location"]["file"], f["location"]["line"]) for f in data["findings"]]
    assert ("KUP001", "1.22", "<stdin>", 1) in found
    assert result.exit_code == 1


def test_tar_gz_snapshot_scans_like_the_directory(tmp_path: Path):
    import tarfile

    archive = tmp_path / "seed.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(SEED, arcname="seed-cluster")
    from_dir = run("scan", "--snapshot", str(SEED), "--target", "v1.21.14", "-o", "json").stdout
    from_tar = run("scan", "--snapshot", str(archive), "--target", "v1.21.14", "-o", "json").stdout
    strip = lambda s: {k: v for k, v in json.loads(s).items() if k != "inputs"}  # noqa: E731
    assert strip(from_dir) == strip(from_tar)


def test_output_file_and_sarif(tmp_path: Path):
    out = tmp_path / "report.sarif"
    result = run("scan", "--snapshot", str(SEED), "--target", "v1.21.14", "-o", "sarif", "--output-file", str(out))
    assert result.exit_code == 1 and result.stdout == ""
    assert json.loads(out.read_text())["version"] == "2.1.0"


def test_console_script_runs_as_a_program():
    proc = subprocess.run(
        [sys.executable, "-m", "kupgrade_lint", "scan", "--snapshot", str(SEED), "--target", "1.16", "--color", "never"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 1
    assert "hop to 1.16: v1.15.12 → v1.16.15" in proc.stdout
    assert "hop to 1.17" not in proc.stdout
    assert proc.stderr == ""


def test_help_documents_exit_codes():
    result = run("--help")
    assert result.exit_code == 0
    assert "Exit codes" in result.stdout and "2 usage or input error" in result.stdout


def test_collect_node_refuses_a_non_empty_directory_and_writes_an_archive(tmp_path: Path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("")
    refused = run("collect", "node", "--root", str(SEED / "nodes" / "master-1"), "--to", str(busy))
    assert refused.exit_code == 2 and "must be new or empty" in refused.stderr
    archive = tmp_path / "master-1.tar.gz"
    done = run("collect", "node", "--root", str(SEED / "nodes" / "master-1"), "--to", str(archive))
    assert done.exit_code == 0 and done.stdout.strip() == str(archive) and archive.stat().st_size > 0
    scanned = run("scan", "--snapshot", str(archive), "--current", "v1.14.5", "--target", "1.15", "-o", "json")
    assert any(f["rule_id"] == "KUP010" and f["location"]["node"] == "master-1" for f in json.loads(scanned.stdout)["findings"])


def _subprocess_scan(*args: str, env_extra: dict) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ, **env_extra)
    return subprocess.run([sys.executable, "-m", "kupgrade_lint", "scan", "--snapshot", str(SEED), "--target", "v1.21.14", *args], capture_output=True, env=env, timeout=300)


def test_an_ascii_stdout_gets_ascii_text_and_utf8_json():
    text = _subprocess_scan(env_extra={"PYTHONIOENCODING": "ascii"})
    assert text.returncode == 1, text.stderr
    assert b"Traceback" not in text.stderr
    assert text.stdout.startswith(b"kupgrade-lint 0.1.0: upgrade v1.14.5 -> v1.21.14 in 7 hop(s)")
    assert all(b < 128 for b in text.stdout)
    machine = _subprocess_scan("-o", "json", env_extra={"PYTHONIOENCODING": "ascii"})
    assert json.loads(machine.stdout.decode("utf-8"))["summary"]["error"] == 31


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}])
def test_no_color_and_dumb_terminals_get_no_escape_codes(env):
    from kupgrade_lint.cli import ColorMode, _use_color

    class Tty:
        def isatty(self):
            return True

    import os

    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        assert _use_color(ColorMode.auto, Tty()) is False
        assert _use_color(ColorMode.always, Tty()) is True
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# -- one hop of the path: --only-hop / --next-hop ----------------------------------------------

def _report_schema() -> dict:
    from kupgrade_lint.reporters import json_report

    return json.loads((Path(json_report.__file__).parent.parent / "schemas" / "report.schema.json").read_text())


def test_only_hop_reports_and_exits_on_that_hop_of_the_whole_path():
    import jsonschema

    whole = json.loads(run("scan", "--snapshot", str(SEED), "--target", "v1.21.14", "-o", "json").stdout)
    text = run("scan", "--snapshot", str(SEED), "--target", "v1.21.14", "--only-hop", "1.16")
    assert text.exit_code == 1 and text.stderr == ""
    assert text.stdout.startswith("kupgrade-lint 0.1.0: upgrade v1.15.12 → v1.16.15 in 1 hop(s)")
    assert [line for line in text.stdout.splitlines() if line.startswith("── hop to")] == ["── hop to 1.16: v1.15.12 → v1.16.15 (1 of 1) ──"]
    result = run("scan", "--snapshot", str(SEED), "--target", "v1.21.14", "--only-hop", "1.16", "-o", "json")
    data = json.loads(result.stdout)
    jsonschema.Draft202012Validator(_report_schema()).validate(data)
    assert data["selected_hop"] == {
        "minor": "1.16",
        "path": {"current_version": "v1.14.5", "target_version": "v1.21.14", "hops": ["1.15", "1.16", "1.17", "1.18", "1.19", "1.20", "1.21"]},
    }
    assert [h["minor"] for h in data["hops"]] == ["1.16"] and (data["current_version"], data["target_version"]) == ("v1.15.12", "v1.16.15")
    assert data["findings"] == [f for f in whole["findings"] if f["hop"] in ("1.16", None)]
    assert data["summary"]["error"] == sum(1 for f in data["findings"] if f["severity"] == "error") > 0
    assert whole["selected_hop"] is None


def test_the_exit_code_follows_the_selected_hop_only():
    # The seed's hop to 1.17 has warnings but no error; the path as a whole has errors.
    result = run("scan", "--snapshot", str(SEED), "--target", "v1.21.14", "--only-hop", "1.17", "-o", "sarif")
    assert result.exit_code == 0 and result.stderr == ""
    run_ = json.loads(result.stdout)["runs"][0]
    assert run_["properties"]["selected_hop"]["minor"] == "1.17"
    assert {r["properties"]["hop"] for r in run_["results"] if "hop" in r.get("properties", {})} <= {"1.17"}
    assert run("scan", "--snapshot", str(SEED), "--target", "v1.21.14", "--only-hop", "1.17", "--fail-on", "warning").exit_code == 1


def test_next_hop_is_the_first_hop_and_keeps_what_was_not_checked(tmp_path: Path):
    manifest = tmp_path / "app.yaml"
    manifest.write_text("apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: a, namespace: b}\nspec: {}\n")
    result = run("scan", "--manifests", str(manifest), "--current", "v1.19.16", "--target", "1.22", "--next-hop", "-o", "json")
    assert result.exit_code == 0, result.stderr  # the Ingress breaks at 1.22, not at the next hop (1.20)
    data = json.loads(result.stdout)
    assert data["selected_hop"]["minor"] == "1.20" and data["selected_hop"]["path"]["hops"] == ["1.20", "1.21", "1.22"]
    # The "not checked" note concerns the whole scan, so it stays.
    assert data["findings"] and {(f["rule_id"], f["hop"]) for f in data["findings"]} == {("KUP090", None)}
    last = run("scan", "--manifests", str(manifest), "--current", "v1.19.16", "--target", "1.22", "--only-hop", "1.22", "-o", "json")
    assert last.exit_code == 1 and {f["rule_id"] for f in json.loads(last.stdout)["findings"]} == {"KUP001", "KUP090"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--only-hop", "1.30"], "--only-hop 1.30: the path v1.14.5 → v1.21.14 has no hop to 1.30 (its hops: 1.15, 1.16, 1.17, 1.18, 1.19, 1.20, 1.21)"),
        (["--only-hop", "v1.16.15"], "--only-hop v1.16.15: give the minor the hop arrives at (e.g. 1.16), not a patch"),
        (["--only-hop", "1.16", "--next-hop"], "--only-hop and --next-hop cannot be combined"),
    ],
)
def test_a_hop_selection_outside_the_path_is_a_one_line_error(args: list, message: str):
    result = run("scan", "--snapshot", str(SEED), "--target", "v1.21.14", *args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"kupgrade-lint: error: {message}\n")


# -- versions on the command line --------------------------------------------------------------

def test_a_patch_above_an_end_of_life_minors_final_release_is_refused():
    result = run("scan", "--snapshot", str(SEED), "--target", "v1.21.99")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "kupgrade-lint: error: v1.21.99 does not exist: 1.21 is end of life and its final release is v1.21.14\n"
    images = run("images", "--current", "v1.20.15", "--target", "v1.21.99")
    assert (images.exit_code, images.stdout, images.stderr) == (2, "", result.stderr)


def test_a_newer_patch_of_a_supported_minor_is_accepted_with_the_assumption_said(tmp_path: Path):
    from kupgrade_lint.catalog import load_catalog

    catalog = load_catalog()
    newest = catalog.known_minors()[-1]
    assert not catalog.final_patch(newest) and catalog.final_patch("1.21")
    last = catalog.last_patch(newest)
    beyond = f"v{newest}.{int(last.rsplit('.', 1)[1]) + 5}"
    manifest = tmp_path / "app.yaml"
    manifest.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: b}\nspec: {}\n")
    result = run("scan", "--manifests", str(manifest), "--current", f"v{last}", "--target", beyond, "-o", "json")
    assert result.exit_code == 0 and result.stderr == ""
    data = json.loads(result.stdout)
    assert data["target_version"] == beyond
    assert f"the catalog's newest {newest} release is v{last}; {beyond} is assumed" in " ".join(f["message"] for f in data["findings"])


def test_current_may_be_a_minor():
    import jsonschema

    result = run("scan", "--manifests", str(SEED / "cluster"), "--current", "1.20", "--target", "1.22", "-o", "json")
    assert result.exit_code == 1 and result.stderr == ""
    data = json.loads(result.stdout)
    jsonschema.Draft202012Validator(_report_schema()).validate(data)
    assert data["current_version"] == "v1.20"
    assert [(h["from"], h["to"]) for h in data["hops"]] == [("v1.20", "v1.21.14"), ("v1.21.14", "v1.22.17")]
    within = run("scan", "--manifests", str(SEED / "cluster"), "--current", "1.20", "--target", "v1.20.15")
    assert (within.exit_code, within.stdout) == (2, "")
    assert within.stderr == "kupgrade-lint: error: the current version v1.20 needs a patch release to upgrade within 1.20 (e.g. v1.20.0)\n"


# -- the command line's conventions ------------------------------------------------------------

@pytest.mark.parametrize(
    "args, message",
    [
        (["scan", "--zzz"], "kupgrade-lint: error: No such option: --zzz (see 'kupgrade-lint scan --help')\n"),
        (["scan", "--snapshot", "x"], "kupgrade-lint: error: Missing option '--target' / '-t' (see 'kupgrade-lint scan --help')\n"),
        (["bogus"], "kupgrade-lint: error: No such command 'bogus' (see 'kupgrade-lint --help')\n"),
        (["rules", "-o", "yaml"], None),
    ],
)
def test_every_usage_error_is_one_line_on_stderr_with_exit_2(args: list, message: str | None):
    result = run(*args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("kupgrade-lint: error: ")
    assert "╭" not in result.stderr and "│" not in result.stderr
    if message is not None:
        assert result.stderr == message
    else:
        assert "'yaml' is not one of 'text', 'json', 'markdown'" in result.stderr


def test_a_usage_error_from_the_installed_program_is_one_line_too():
    proc = subprocess.run([sys.executable, "-m", "kupgrade_lint", "images", "--nope"], capture_output=True, text=True, check=False)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == "kupgrade-lint: error: No such option: --nope (see 'python -m kupgrade_lint images --help')\n"


@pytest.mark.parametrize("command", [[], ["scan"], ["collect"], ["collect", "node"], ["collect", "registry"], ["rules"], ["images"], ["diff"], ["report", "merge"]])
def test_help_has_no_type_placeholders_and_no_frames(command: list):
    import re

    result = run(*command, "--help")
    assert result.exit_code == 0 and result.stderr == ""
    assert not re.search(r"<(str|bool|int|float|path|list\[)", result.stdout, re.IGNORECASE), result.stdout
    assert "╭" not in result.stdout and "│" not in result.stdout


def test_scan_help_names_values_not_types():
    out = run("scan", "--help").stdout
    for shown in ("--target VERSION", "--current VERSION", "--only-hop MINOR", "--snapshot PATH", "--output [text|json|sarif|markdown|junit|github]", "--cert-expiry-days N"):
        assert shown in out, shown
    assert "--strict " in out and "--strict <" not in out and "--next-hop " in out


def test_shell_completion_is_offered():
    result = run("--help")
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


@pytest.mark.parametrize("command", [["collect"], ["collect", "node"], ["collect", "registry", "-r", "r.example/k8s"]])
def test_collect_takes_the_snapshot_path_with_to_and_refuses_the_old_output_option(command: list, tmp_path: Path):
    old = run(*command, "-o", str(tmp_path / "snap"))
    assert (old.exit_code, old.stdout) == (2, "")
    assert old.stderr == (
        f"kupgrade-lint: error: -o/--output {tmp_path / 'snap'}: collect writes a snapshot, not a report; "
        f"give where with --to {tmp_path / 'snap'} (-o/--output is a report's format)\n"
    )
    assert not (tmp_path / "snap").exists()
    missing = run(*command)
    assert (missing.exit_code, missing.stdout) == (2, "")
    assert missing.stderr == f"kupgrade-lint: error: {' '.join(command[:2]) if command[1:2] and not command[1].startswith('-') else 'collect'} needs --to DIR or --to FILE.tar.gz (where to write the snapshot)\n"


def test_rules_lists_what_kubeadm_renders():
    """The kubeadm model's data (rules/kubeadm.yaml) is part of what `rules` shows, filtered by minor."""
    result = run("rules", "--kind", "kubeadm-defaults", "--version", "1.16", "-o", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["kubeadm_defaults"]
    assert {"component": "etcd", "flag": "listen-metrics-urls", "rendered_from": "1.16"}.items() <= next(r for r in rows if r["flag"] == "listen-metrics-urls").items()
    assert all(r["rendered_from"] == "1.16" or r["rendered_until"] == "1.16" or any(b.startswith("1.16.") for b in r["backported_to"]) for r in rows)
