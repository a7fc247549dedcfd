"""Snapshot loading: large amounts of YAML are parsed in worker processes, with the same result."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

from kupgrade_lint.snapshot import loader
from kupgrade_lint.snapshot.loader import load_inputs
from tests.conftest import SEED


def _summary(snapshot):
    objects = [(o.source.file, o.kind, o.namespace, o.name, o.line("metadata", "name"), o.data) for o in snapshot.objects]
    problems = [(p.file, p.line, p.message) for p in snapshot.problems]
    return objects, problems


def test_parallel_yaml_parsing_gives_the_same_snapshot(seed_copy: Path, monkeypatch):
    (seed_copy / "cluster" / "broken.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n")
    sequential = _summary(load_inputs(seed_copy, []))
    monkeypatch.setattr(loader, "PARALLEL_YAML_BYTES", 0)
    calls = []
    real = concurrent.futures.ProcessPoolExecutor

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", spy)
    parallel = _summary(load_inputs(seed_copy, []))
    if (loader.os.cpu_count() or 1) > 1:
        assert calls, "the worker processes were not used"
    assert parallel == sequential
    assert ("cluster/broken.yaml", 3, "not valid YAML: while parsing a flow sequence, did not find expected ',' or ']'") in parallel[1]


def test_small_inputs_stay_in_process(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("no worker processes for a small snapshot")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", refuse)
    assert load_inputs(SEED, []).objects


def test_python_dash_m_with_parallel_parsing(seed_copy: Path):
    """Spawned workers import the main module again: ``python -m kupgrade_lint`` must not rerun the CLI."""
    import subprocess
    import sys

    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n  namespace: x\ndata:\n" + "".join(f"  k{j}: {'v' * 60}\n" for j in range(40))
    big = "---\n".join(doc.format(i=i) for i in range(1800))
    assert len(big) > loader.PARALLEL_YAML_BYTES
    (seed_copy / "cluster" / "big.yaml").write_text(big)
    proc = subprocess.run(
        [sys.executable, "-m", "kupgrade_lint", "scan", "--snapshot", str(seed_copy), "--target", "v1.21.14", "-o", "json"],
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.count('"format_version"') == 1  # one report: no child ran the command again
    assert proc.stderr == ""


def test_thousands_of_flags_in_one_variable_share_one_list_of_names(seed_copy: Path):
    """Each flag of a variable names all the variable's flags; one shared tuple keeps that linear."""
    from kupgrade_lint.component_config import ComponentConfig

    env = seed_copy / "nodes" / "master-1" / "etc" / "kubernetes" / "kubelet.env"
    env.write_text(env.read_text() + 'MANY="' + " ".join(f"--f{i}" for i in range(14_000)) + '"\n')
    unit = seed_copy / "nodes" / "master-1" / "etc" / "systemd" / "system" / "kubelet.service"
    unit.write_text(unit.read_text().replace("ExecStart=/usr/local/bin/kubelet", "ExecStart=/usr/local/bin/kubelet $MANY", 1))
    config = ComponentConfig(load_inputs(seed_copy, []))
    many = [f for f in config.flags if f.via_variable == "MANY"]
    assert len(many) == 14_000
    assert len({id(f.variable_flags) for f in many}) == 1 and len(many[0].variable_flags) == 14_000


def test_a_manifests_directory_skips_kustomize_files(tmp_path: Path):
    """kustomization.yaml says how to build objects and is none itself (often without apiVersion
    or kind): a directory walk does not report it as a broken object, nor check it as one."""
    app = tmp_path / "app" / "base"
    app.mkdir(parents=True)
    (app / "kustomization.yaml").write_text("resources:\n- deployment.yaml\n")
    (app / "kustomization.yml").write_text("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
    (app / "Kustomization").write_text("resources: []\n")
    (app / "deployment.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n")
    (app / "values.yaml").write_text("replicas: 2\n")  # not Kustomize's: still named, as before
    snapshot = load_inputs(None, [str(tmp_path)])
    assert [(o.kind, o.name) for o in snapshot.objects] == [("Deployment", "web")]
    assert [(Path(p.file).name, p.message) for p in snapshot.problems] == [("values.yaml", "document has no apiVersion or kind; not a Kubernetes object")]
    # Skipped, never silently: the coverage (said near the top of every report) names them.
    assert sorted(Path(p).name for p in snapshot.kustomizations) == ["Kustomization", "kustomization.yaml", "kustomization.yml"]
    from kupgrade_lint.catalog import load_catalog
    from kupgrade_lint.coverage import read_coverage

    said = [s for s in read_coverage(snapshot, load_catalog()).not_checked if "Kustomize" in s]
    assert len(said) == 1 and said[0].startswith("3 Kustomize file(s) were NOT checked") and "kustomize build" in said[0]


def test_a_scan_leaves_object_data_as_it_was_loaded():
    """Documents share equal small mappings and strings (parsers/yaml_documents ``_LEAVES``), so no
    check may change the data it reads: after a full scan of the seed snapshot every object's
    data is what was loaded."""
    import copy

    from kupgrade_lint.catalog import load_catalog
    from kupgrade_lint.config import Config
    from kupgrade_lint.engine import ScanRequest, scan
    from kupgrade_lint.versions import KubeVersion

    snapshot = load_inputs(SEED, [])
    shared = [o.data["spec"]["selector"] for o in snapshot.objects if o.kind == "Service" and isinstance(o.data.get("spec", {}).get("selector"), dict)]
    before = copy.deepcopy([o.data for o in snapshot.objects])
    report = scan(snapshot, load_catalog(list(Config().catalog)), ScanRequest(target=KubeVersion.parse("v1.21.14")))
    assert report.findings
    assert [o.data for o in snapshot.objects] == before
    assert shared  # the seed has Service selectors: small mappings of scalars, the shared kind
