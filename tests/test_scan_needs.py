"""What a scan needs from a cluster has one source: every kind a check asks the snapshot for is in it."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from kupgrade_lint.catalog import load_catalog
from kupgrade_lint.checks.reads import CHECK_READS
from kupgrade_lint.scan_needs import NOT_STORED, resource_of, wanted_kinds

PACKAGE = Path(__file__).resolve().parent.parent / "kupgrade_lint"
CATALOG = load_catalog()
READERS = sorted((PACKAGE / "checks").glob("*.py")) + [PACKAGE / "component_config.py", PACKAGE / "cluster_facts.py"]


def _module_name(path: Path) -> str:
    return ".".join(("kupgrade_lint",) + path.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")


def _kinds_asked_for(path: Path) -> set[str]:
    """Kinds named in ``of_kind(...)`` and ``find(kind, ...)`` calls, literal or through a module constant."""
    module = importlib.import_module(_module_name(path))
    tree = ast.parse(path.read_text())
    loops = _loop_values(tree)
    kinds: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr == "of_kind":
            args = node.args
        elif node.func.attr == "find" and node.args and isinstance(node.args[0], ast.Constant) and len(node.args) == 3:
            args = node.args[:1]
        else:
            continue
        for arg in args:
            value = arg.value if isinstance(arg, ast.Starred) else arg
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                kinds.add(value.value)
            elif isinstance(value, ast.Name) and value.id in loops:
                kinds.update(loops[value.id])
            elif isinstance(value, ast.Name):
                resolved = getattr(module, value.id)
                kinds.update(resolved if isinstance(resolved, (tuple, list)) else [resolved])
            else:
                raise AssertionError(f"{path.name}:{node.lineno}: of_kind/find with a kind this test cannot read")
    return kinds


def _loop_values(tree: ast.AST) -> dict[str, set[str]]:
    """``for kind, key in (("ServiceMonitor", "endpoints"), ...)``: the strings each loop name takes."""
    values: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.For) or not isinstance(node.iter, (ast.Tuple, ast.List)):
            continue
        names = [node.target] if isinstance(node.target, ast.Name) else list(getattr(node.target, "elts", []))
        for element in node.iter.elts:
            parts = [element] if isinstance(node.target, ast.Name) else list(getattr(element, "elts", []))
            for name, part in zip(names, parts):
                if isinstance(name, ast.Name) and isinstance(part, ast.Constant) and isinstance(part.value, str):
                    values.setdefault(name.id, set()).add(part.value)
    return values


def test_every_kind_a_check_reads_is_in_the_table():
    asked = {path.name: _kinds_asked_for(path) for path in READERS}
    assert asked["workload.py"] >= {"Deployment", "Pod", "ServiceAccount"}  # the scan is not vacuous
    missing = {name: sorted(kinds - set(CHECK_READS)) for name, kinds in asked.items() if kinds - set(CHECK_READS)}
    assert missing == {}, f"add these kinds to kupgrade_lint/checks/reads.py so live scans list them: {missing}"
    unused = set(CHECK_READS) - set().union(*asked.values())
    assert unused == set(), f"kupgrade_lint/checks/reads.py lists kinds no check reads: {sorted(unused)}"


def test_every_stored_kind_with_a_removed_served_version_is_wanted():
    wanted = {(w.kind, g) for w in wanted_kinds(CATALOG) for g in w.groups}
    for entry in CATALOG.apis.values():
        if entry.read_by == "kube-apiserver" and entry.kind not in NOT_STORED:
            assert (entry.kind, entry.api_version.rpartition("/")[0]) in wanted, entry


def test_kinds_of_one_storage_are_one_entry_listed_through_the_current_group():
    by_kind = {w.kind: w for w in wanted_kinds(CATALOG)}
    assert by_kind["Deployment"].groups == ("apps", "extensions")
    assert by_kind["Ingress"].groups == ("networking.k8s.io", "extensions")
    assert by_kind["PodSecurityPolicy"].groups == ("policy", "extensions")
    assert set(by_kind["Event"].groups) == {"", "events.k8s.io"}
    assert "extensions/v1beta1" in by_kind["Ingress"].avoid and "networking.k8s.io/v1" not in by_kind["Ingress"].avoid
    assert len([w for w in wanted_kinds(CATALOG) if w.kind == "Deployment"]) == 1


def test_plural_guess():
    assert [resource_of(k) for k in ("Ingress", "PodSecurityPolicy", "Endpoints", "Prometheus", "CSIStorageCapacity")] == [
        "ingresses", "podsecuritypolicies", "endpoints", "prometheuses", "csistoragecapacities"]
