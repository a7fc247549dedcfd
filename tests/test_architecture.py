"""The layering is one-way: collectors never judge, checks never collect, reporters only render."""

from __future__ import annotations

import sys

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kupgrade_lint"

# module prefix → kupgrade_lint modules it must not import
FORBIDDEN = {
    "collectors": ("kupgrade_lint.checks", "kupgrade_lint.engine", "kupgrade_lint.reporters", "kupgrade_lint.catalog", "kupgrade_lint.cli", "kupgrade_lint.suppress"),
    "checks": ("kupgrade_lint.collectors", "kupgrade_lint.reporters", "kupgrade_lint.cli", "kupgrade_lint.engine"),
    "reporters": tuple(
        f"kupgrade_lint.{m}" for m in ("checks", "collectors", "engine", "catalog", "snapshot", "parsers", "cli", "component_config", "cluster_facts", "settings", "kubeadm_render")
    ),
    # The runbook is built from a finished Report, like a reporter: it never reads the snapshot or judges.
    "runbook.py": tuple(
        f"kupgrade_lint.{m}" for m in ("checks", "collectors", "engine", "catalog", "snapshot", "parsers", "cli", "component_config", "cluster_facts", "settings", "kubeadm_render")
    ),
    "parsers": ("kupgrade_lint.checks", "kupgrade_lint.collectors", "kupgrade_lint.engine", "kupgrade_lint.reporters", "kupgrade_lint.catalog", "kupgrade_lint.cli"),
    "snapshot": ("kupgrade_lint.checks", "kupgrade_lint.collectors", "kupgrade_lint.engine", "kupgrade_lint.reporters", "kupgrade_lint.cli"),
    "engine.py": ("kupgrade_lint.collectors", "kupgrade_lint.reporters", "kupgrade_lint.cli"),
    # Settings and kubeadm's render model say what is set and what kubeadm writes; they never judge.
    "settings": ("kupgrade_lint.checks", "kupgrade_lint.engine", "kupgrade_lint.collectors", "kupgrade_lint.reporters", "kupgrade_lint.cli"),
    "kubeadm_render.py": ("kupgrade_lint.checks", "kupgrade_lint.engine", "kupgrade_lint.collectors", "kupgrade_lint.reporters", "kupgrade_lint.cli", "kupgrade_lint.settings"),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_stay_one_way(layer: str):
    files = [PACKAGE / layer] if layer.endswith(".py") else sorted((PACKAGE / layer).rglob("*.py"))
    assert files
    for file in files:
        bad = sorted(n for n in _imports(file) if n.startswith(FORBIDDEN[layer]))
        assert not bad, f"{file.relative_to(PACKAGE)} imports {bad}"


def test_only_the_cli_exits():
    for file in sorted(PACKAGE.rglob("*.py")):
        if file.name in ("cli.py", "__main__.py"):
            continue
        text = file.read_text()
        for call in ("sys.exit(", "typer.Exit(", "os._exit(", "raise SystemExit"):
            assert call not in text, f"{file.relative_to(PACKAGE)} exits ({call})"


def test_every_package_ships_in_the_wheel():
    """pyproject.toml lists the packages explicitly: a new subpackage left out would be missing from the wheel."""
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(PACKAGE.parent).parts) for p in PACKAGE.rglob("__init__.py")}
    assert found - listed == set()
