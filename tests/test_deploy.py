"""The files around the tool: Dockerfile, deploy/ manifests, GitHub Action, pre-commit hook, krew.

They name options of the CLI, paths the node collector reads and an image the Dockerfile
builds; these tests derive each of those from the code, so a renamed option, a new node file
or a new image tag cannot leave one of them silently wrong.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
import yaml
from typer.testing import CliRunner

from kupgrade_lint.cli import FailOn, app
from kupgrade_lint.collectors.allowlist import NODE_FILES

REPO = Path(__file__).resolve().parent.parent
tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
DOCKERFILE = (REPO / "Dockerfile").read_text()
CREATING_HOSTPATH_TYPES = {"", "DirectoryOrCreate", "FileOrCreate"}
TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"


def _image() -> str:
    """The image the Dockerfile builds, from its `docker build -t` line."""
    m = re.search(r"docker build -t (\S+) \.", DOCKERFILE)
    assert m, "the Dockerfile names the image it builds (docker build -t IMAGE .)"
    return m.group(1)


def _docs(path: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((REPO / path).read_text()) if d]


def _pod_spec(path: str) -> dict:
    (doc,) = _docs(path)
    return doc["spec"]["template"]["spec"]


def _containers(spec: dict) -> list[dict]:
    return spec.get("initContainers", []) + spec["containers"]


MANIFESTS = ("deploy/collect-job.yaml", "deploy/node-collector-daemonset.yaml")


@pytest.fixture(scope="module")
def help_of():
    runner = CliRunner()

    def run(*command: str) -> str:
        result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"})
        assert result.exit_code == 0, result.output
        return result.output

    return run


def _options_in(words: list[str]) -> set[str]:
    return {w.split("=", 1)[0] for w in words if re.fullmatch(r"--?[A-Za-z][\w-]*(=.*)?", w)}


def _assert_options_exist(options: set[str], help_text: str, where: str) -> None:
    assert options, f"{where}: no options found (the test would prove nothing)"
    missing = sorted(o for o in options if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", help_text))
    assert not missing, f"{where} uses options the CLI does not have: {missing}"


# -- the image --------------------------------------------------------------------------------------


def test_image_tag_is_the_project_version_and_the_readme_names_it():
    name, _, tag = _image().rpartition(":")
    assert name and tag == PYPROJECT["project"]["version"]
    assert _image() in (REPO / "README.md").read_text()


def test_dockerfile_runs_the_cli_as_a_non_root_user():
    final_stage = DOCKERFILE.split("\nFROM ")[-1]
    users = re.findall(r"^USER\s+(\S+)", final_stage, re.M)
    assert users, "the final stage sets USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "a numeric non-root uid (runAsNonRoot can only verify numbers)"
    entrypoints = re.findall(r"^ENTRYPOINT\s+(.+)$", final_stage, re.M)
    assert [json.loads(e) for e in entrypoints] == [["kupgrade-lint"]]
    assert "kupgrade-lint" in PYPROJECT["project"]["scripts"]
    # No bytecode written at run time (read-only root filesystem); temporary files go to /tmp.
    assert re.search(r"PYTHONDONTWRITEBYTECODE=1", final_stage) and re.search(r"TMPDIR=/tmp", final_stage)


def test_dockerfile_copies_everything_the_wheel_is_built_from():
    copied = {PurePosixPath(p).as_posix().rstrip("/") for line in re.findall(r"^COPY\s+(?!--from)(.+)$", DOCKERFILE, re.M) for p in line.split()[:-1]}
    needed = {"pyproject.toml", PYPROJECT["project"]["readme"], "kupgrade_lint"} | set(PYPROJECT["tool"]["setuptools"]["package-dir"].values())
    assert needed <= copied
    ignored = {line.strip().rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")}
    assert not (needed & ignored)


@pytest.mark.parametrize("path", MANIFESTS)
def test_manifests_run_the_image_the_dockerfile_builds(path):
    images = {c["image"] for c in _containers(_pod_spec(path))}
    assert images == {_image()}
    assert _image() in (REPO / path).read_text()


# -- mounts and security ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", MANIFESTS)
def test_only_emptydir_volumes_are_mounted_writable(path):
    spec = _pod_spec(path)
    volumes = {v["name"]: v for v in spec["volumes"]}
    for container in _containers(spec):
        for mount in container.get("volumeMounts", []):
            volume = volumes[mount["name"]]
            assert "subPath" not in mount, "a missing subPath is created on the volume"
            if "emptyDir" not in volume:
                assert mount.get("readOnly") is True, f"{path}: {container['name']} mounts {mount['name']} writable"


@pytest.mark.parametrize("path", MANIFESTS)
def test_no_hostpath_can_create_anything_on_the_node(path):
    for volume in _pod_spec(path)["volumes"]:
        if "hostPath" in volume:
            kind = volume["hostPath"].get("type", "")
            assert kind not in CREATING_HOSTPATH_TYPES and kind in ("Directory", "File"), f"{path}: {volume['name']} has type {kind!r}"


@pytest.mark.parametrize("path", MANIFESTS)
def test_containers_are_locked_down(path):
    spec = _pod_spec(path)
    pod_ctx = spec.get("securityContext", {})
    root_containers = []
    for container in _containers(spec):
        ctx = container.get("securityContext", {})
        assert ctx.get("readOnlyRootFilesystem") is True
        assert ctx.get("allowPrivilegeEscalation") is False
        assert ctx.get("capabilities", {}).get("drop") == ["ALL"]
        assert not ctx.get("capabilities", {}).get("add")
        assert not ctx.get("privileged")
        assert "resources" in container and container["resources"]["limits"]["memory"]
        non_root = ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")) is True and ctx.get("runAsUser", pod_ctx.get("runAsUser", 1)) != 0
        if not non_root:
            root_containers.append(container["name"])
    # Only the node collector reads root's 0600 files (admin.conf); it has no capability at all.
    expected = ["collect"] if "daemonset" in path else []
    assert root_containers == expected


@pytest.mark.parametrize("path", MANIFESTS)
def test_what_the_cli_writes_goes_to_an_emptydir(path):
    """With a read-only root filesystem, /tmp (snapshot work directories) and the output must be emptyDirs."""
    spec = _pod_spec(path)
    empty = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
    for container in _containers(spec):
        command = container["command"]
        if command[0] != "kupgrade-lint":
            continue
        writable = [m["mountPath"] for m in container["volumeMounts"] if m["name"] in empty and not m.get("readOnly")]
        assert "/tmp" in writable
        outputs = [command[i + 1] for i, w in enumerate(command) if w in ("--output-file", "--to") and command[i + 1].startswith("/")]
        assert outputs
        for out in outputs:
            assert any(out.startswith(w.rstrip("/") + "/") for w in writable if w != "/tmp"), out


def test_node_collector_mounts_every_directory_it_reads():
    """Every file class of allowlist.NODE_FILES lies below a host directory mounted at /host + path."""
    spec = _pod_spec("deploy/node-collector-daemonset.yaml")
    (collect,) = [c for c in spec["initContainers"] if c["command"][:3] == ["kupgrade-lint", "collect", "node"]]
    command = collect["command"]
    root = command[command.index("--root") + 1]
    host_paths = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}
    mounted = []
    for mount in collect["volumeMounts"]:
        if mount["name"] in host_paths:
            assert mount["mountPath"] == root + host_paths[mount["name"]], "the host path appears at the same place under --root"
            mounted.append(host_paths[mount["name"]])
    assert len(mounted) == len(host_paths), "every hostPath volume is mounted by the collector"
    read = {rule.directory if rule.name is None else f"{rule.directory}/{rule.name}" for rule in NODE_FILES}
    assert read
    missed = sorted(p for p in read if not any(p == m or p.startswith(m.rstrip("/") + "/") for m in mounted))
    assert not missed, f"the DaemonSet does not mount what the collector reads: {missed}"
    assert not spec.get("automountServiceAccountToken", True), "the node collector needs no API token"


def test_node_collector_only_opens_named_files_where_pod_volumes_and_home_files_live():
    """/var/lib/kubelet (pod volumes, Secrets) and /root are mounted whole: nothing there is listed."""
    for rule in NODE_FILES:
        if rule.directory.startswith(("/var/lib/kubelet", "/root")):
            assert rule.name is not None and rule.pattern is None, rule


def test_job_uses_the_reader_service_account_and_only_the_scan_gets_the_token():
    rbac = {(d["kind"], d["metadata"]["name"]): d for d in _docs("deploy/rbac.yaml")}
    (job,) = _docs("deploy/collect-job.yaml")
    spec = job["spec"]["template"]["spec"]
    account = rbac[("ServiceAccount", spec["serviceAccountName"])]
    assert account["metadata"]["namespace"] == job["metadata"]["namespace"]
    assert spec["restartPolicy"] == "Never"
    volumes = {v["name"]: v for v in spec["volumes"]}
    for container in _containers(spec):
        masks = [m for m in container.get("volumeMounts", []) if m["mountPath"] == TOKEN_PATH]
        needs_api = container["command"][0] == "kupgrade-lint"
        if needs_api:
            assert not masks
        else:
            assert masks and "emptyDir" in volumes[masks[0]["name"]], f"{container['name']} needs no API token"


def test_manifest_commands_use_real_options(help_of):
    for path in MANIFESTS:
        for container in _containers(_pod_spec(path)):
            command = container["command"]
            if command[0] != "kupgrade-lint":
                continue
            words = command[1:]
            sub = [w for w in words[: next(i for i, w in enumerate(words) if w.startswith("-"))]]
            _assert_options_exist(_options_in(words), help_of(*sub), f"{path} ({container['name']})")
    job = _pod_spec("deploy/collect-job.yaml")["initContainers"][0]["command"]
    assert job[job.index("--output") + 1] == "json"


# -- GitHub Action ------------------------------------------------------------------------------------


ACTION = yaml.safe_load((REPO / "action.yml").read_text())
WORKFLOW = yaml.safe_load((REPO / "docs/examples/github-workflow.yml").read_text())


def _kupgrade_lines(script: str) -> list[str]:
    return [line.strip() for line in script.splitlines() if line.strip().startswith("kupgrade-lint ")]


def test_action_is_composite_with_the_documented_inputs():
    assert ACTION["runs"]["using"] == "composite"
    assert {"manifests", "current", "target", "fail-on", "sarif-file"} <= set(ACTION["inputs"])
    text = (REPO / "action.yml").read_text()
    used = set(re.findall(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", text))
    assert used == set(ACTION["inputs"]), "every input is used and nothing else is referenced"
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], "inputs reach scripts through env only (no script injection)"
            assert step["shell"] == "bash"


def test_action_runs_scan_with_real_options(help_of):
    lines = [line for step in ACTION["runs"]["steps"] if "run" in step for line in _kupgrade_lines(step["run"])]
    assert len(lines) == 1 and lines[0].startswith("kupgrade-lint scan ")
    words = lines[0].split()
    options = _options_in(words) | {"--manifests"}
    assert {"--manifests", "--current", "--target", "--fail-on", "-o", "--output-file"} <= options
    assert words[words.index("-o") + 1] == "sarif"
    _assert_options_exist(options, help_of("scan"), "action.yml")
    assert ACTION["inputs"]["fail-on"]["default"] in {level.value for level in FailOn}


def test_action_scan_step_writes_sarif(tmp_path):
    """Run the action's scan script as GitHub would, with the venv's kupgrade-lint on PATH."""
    (step,) = [s for s in ACTION["runs"]["steps"] if s.get("name") == "Scan"]
    one, two = tmp_path / "a", tmp_path / "b"
    one.mkdir()
    two.mkdir()
    (one / "deploy.yaml").write_text("apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: nginx}]\n")
    (two / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\nspec:\n  ports: [{port: 80}]\n")
    sarif = tmp_path / "out.sarif"
    env = dict(os.environ, MANIFESTS=f"{one}\n\n{two}\n", CURRENT="v1.15.12", TARGET="v1.16.15", FAIL_ON="never", SARIF_FILE=str(sarif))
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    done = subprocess.run(["bash", "-c", step["run"]], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    log = json.loads(sarif.read_text())
    results = log["runs"][0]["results"]
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for r in results for loc in r.get("locations", []) if "physicalLocation" in loc}
    assert any(u.endswith("deploy.yaml") for u in uris), uris


def test_example_workflow_uses_the_action_and_uploads_its_sarif():
    triggers = WORKFLOW.get("on", WORKFLOW.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers
    assert WORKFLOW["permissions"]["security-events"] == "write"
    (job,) = WORKFLOW["jobs"].values()
    steps = job["steps"]
    (ours,) = [s for s in steps if s.get("uses", "").startswith("kupgrade-lint/kupgrade-lint@")]
    assert set(ours["with"]) <= set(ACTION["inputs"])
    assert {k for k, v in ACTION["inputs"].items() if v.get("required")} <= set(ours["with"])
    (upload,) = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert upload["with"]["sarif_file"] == ours["with"].get("sarif-file", ACTION["inputs"]["sarif-file"]["default"])
    assert upload["if"] == "always()", "the SARIF is uploaded when the scan fails the job too"
    assert steps.index(ours) < steps.index(upload)


# -- pre-commit -----------------------------------------------------------------------------------------


def test_pre_commit_hook_runs_an_installed_wrapper(help_of):
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "kupgrade-lint" and hook["language"] == "python" and hook["pass_filenames"] is True
    entry = hook["entry"].split()
    assert PYPROJECT["project"]["scripts"][entry[0]] == "kupgrade_lint.precommit:main"
    if len(entry) > 1:
        _assert_options_exist(_options_in(entry[1:]), help_of("scan"), ".pre-commit-hooks.yaml")
    files = re.compile(hook["files"])
    exclude = re.compile(hook["exclude"])
    chosen = [f for f in ("a.yaml", "dir/b.yml", "c.json", "d.txt", "e.yaml.bak", ".pre-commit-config.yaml", "x/.kupgrade-lint.yaml") if files.search(f) and not exclude.search(f)]
    assert chosen == ["a.yaml", "dir/b.yml", "c.json", "x/.kupgrade-lint.yaml"]


def test_precommit_turns_file_names_into_manifests_options():
    from kupgrade_lint.precommit import scan_arguments

    args, files = scan_arguments(["--current", "1.20", "--target=1.21", "--strict", "-o", "json", "a.yaml", "dir/b.yml", "--", "-odd.yaml"])
    assert files == ["a.yaml", "dir/b.yml", "-odd.yaml"]
    assert args == ["scan", "--current", "1.20", "--target=1.21", "--strict", "-o", "json",
                    "--manifests", "a.yaml", "--manifests", "dir/b.yml", "--manifests", "-odd.yaml"]


def test_precommit_without_files_never_scans_the_live_cluster(capsys):
    from kupgrade_lint.precommit import main

    assert main(["--current", "1.20", "--target", "1.21"]) == 2
    assert "no files" in capsys.readouterr().err


def test_precommit_scans_the_files_and_exits_like_scan(tmp_path, monkeypatch, capsys):
    from kupgrade_lint.precommit import main

    bad = tmp_path / "deploy.yaml"
    bad.write_text("apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: nginx}]\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["--current", "v1.15.12", "--target", "v1.16.15", "-o", "json", "deploy.yaml"])
    assert exited.value.code == 1
    report = json.loads(capsys.readouterr().out)
    assert "deploy.yaml" in json.dumps(report)


# -- kubectl plugin -------------------------------------------------------------------------------------


def test_kubectl_plugin_is_the_same_cli_and_krew_installs_it():
    scripts = PYPROJECT["project"]["scripts"]
    assert scripts["kubectl-kupgrade_lint"] == scripts["kupgrade-lint"]
    (plugin,) = _docs("deploy/krew/kupgrade-lint.yaml")
    assert plugin["kind"] == "Plugin" and plugin["metadata"]["name"] == "kupgrade-lint"
    # kubectl maps `kubectl kupgrade-lint` to the executable kubectl-kupgrade_lint.
    assert "kubectl-" + plugin["metadata"]["name"].replace("-", "_") == "kubectl-kupgrade_lint"
    assert plugin["spec"]["version"] == "v" + PYPROJECT["project"]["version"]
    assert plugin["spec"]["platforms"]
    for platform in plugin["spec"]["platforms"]:
        assert platform["bin"] == "kubectl-kupgrade_lint"
        assert plugin["spec"]["version"] in platform["uri"]
        assert {"os", "arch"} <= set(platform["selector"]["matchLabels"])
