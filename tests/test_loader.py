"""Snapshot loading: large amounts of YAML are parsed in worker processes, with the same result."""

from __future__ import annotations

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
    real = loader.concurrent.futures.ProcessPoolExecutor

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(loader.concurrent.futures, "ProcessPoolExecutor", spy)
    parallel = _summary(load_inputs(seed_copy, []))
    if (loader.os.cpu_count() or 1) > 1:
        assert calls, "the worker processes were not used"
    assert parallel == sequential
    assert ("cluster/broken.yaml", 3, "not valid YAML: while parsing a flow sequence, did not find expected ',' or ']'") in parallel[1]


def test_small_inputs_stay_in_process(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("no worker processes for a small snapshot")

    monkeypatch.setattr(loader.concurrent.futures, "ProcessPoolExecutor", refuse)
    assert load_inputs(SEED, []).objects
