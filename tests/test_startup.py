"""What a short run imports: heavy libraries stay lazy (speed is measured in bench/, never timed here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


# Imported only by the runs that need them: the live cluster, TLS, registries, user catalogs and
# config files (schema validation), rich output, typer's pydantic-based option parsing (typer >= 0.29).
HEAVY = ("kubernetes", "cryptography", "jsonschema", "urllib3", "rich", "pydantic", "requests")

PROBE = """
import json, sys
from kupgrade_lint.cli import main
sys.argv = ["kupgrade-lint", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
with open({out!r}, "w") as f:
    json.dump({{"code": code, "modules": sorted({{m.split(".")[0] for m in sys.modules}})}}, f)
"""


def _imported_by(tmp_path: Path, *args: str) -> tuple[int, set[str]]:
    out = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(out=str(out)), json.dumps(list(args))],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert out.is_file(), proc.stderr
    result = json.loads(out.read_text())
    return result["code"], set(result["modules"])


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "one.yaml"
    path.write_text("apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: web, namespace: default}\n")
    return path


@pytest.mark.parametrize("output", ["json", "text", "sarif", "markdown", "junit"])
def test_a_manifests_scan_imports_no_heavy_library(tmp_path: Path, manifest: Path, output: str):
    code, modules = _imported_by(tmp_path, "scan", "--manifests", str(manifest), "--current", "v1.20.15", "--target", "v1.22.17", "-o", output)
    assert code == 1  # the Ingress API is removed in 1.22: the scan really ran
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))


@pytest.mark.parametrize("args", [["--help"], ["rules"], ["scan", "--help"]])
def test_help_and_rules_import_no_heavy_library(tmp_path: Path, args: list[str]):
    code, modules = _imported_by(tmp_path, *args)
    assert code == 0
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))


def test_a_user_catalog_is_still_validated(tmp_path: Path, manifest: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("flags:\n  - component: kubelet\n    flag: x\n    removed_in: '1.30'\n")
    proc = subprocess.run(
        [sys.executable, "-m", "kupgrade_lint", "scan", "--manifests", str(manifest), "--current", "v1.20.15",
         "--target", "v1.22.17", "--catalog", str(bad)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert f"{bad}: flags/0: 'sources' is a required property" in proc.stderr


def test_the_probe_sees_what_a_run_imports(tmp_path: Path):
    # The probe is not blind: a live scan against an unreachable kubeconfig imports the kubernetes client.
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    _, modules = _imported_by(tmp_path, "scan", "--kubeconfig", str(kubeconfig), "--target", "1.22")
    assert "kubernetes" in modules or "urllib3" in modules, sorted(modules)
