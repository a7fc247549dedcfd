"""bench/run.py's pure parts on canned figures: tables, verdicts, the RESULTS.md rewrite, the floors' counts.

No timing is asserted here (speed is measured in bench/, never in tests); these tests make sure
the benchmark reports what it measured and judges it against the right goal.
"""

from __future__ import annotations

import cProfile
import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


run = _load("run")
floor = _load("floor")
MIB = 2**20


def snap_row(share: float, objects: int, scan: float, floor_s: float, rss_mib: float = 100.0, size: int = 100 * MIB, floor_nogc: float | None = None) -> dict:
    return {"share": share, "objects": objects, "nodes": objects // 50, "bytes": size, "path": "/x", "floor": floor_s,
            "floor_nogc": floor_nogc if floor_nogc is not None else floor_s / 2, "floor_rss_mib": 50.0, "scan": scan, "cpu": scan,
            "rss_mib": rss_mib, "phases": {"load": 1.0, "engine": 2.0, "render": 0.5}, "findings": 1234}


def mani_row(share: float | None, files: int, documents: int, scan: float, floor_s: float, rss_mib: float = 100.0, size: int = 100 * MIB) -> dict:
    return {"share": share, "files": files, "documents": documents, "bytes": size, "path": "/y", "floor": floor_s,
            "floor_rss_mib": 40.0, "scan": scan, "cpu": scan, "rss_mib": rss_mib, "findings": 7}


def by_goal(verdicts, word: str):
    (found,) = [v for v in verdicts if word in v.goal]
    return found


def test_time_goal_is_the_ratio_to_the_floor_of_the_full_size():
    rows = [snap_row(0.1, 1000, 1.0, 0.1), snap_row(0.5, 5000, 5.0, 1.0), snap_row(1.0, 10000, 14.9, 10.0)]
    verdicts = run.large_verdicts("snapshot", rows, "objects", "objects")
    time_goal = by_goal(verdicts, "floor")
    assert time_goal.met is True
    assert "14.90 s / 10.00 s = 1.49×" in time_goal.measured
    assert "the GC-off floor (5.00 s)" in time_goal.measured
    rows[-1] = snap_row(1.0, 10000, 15.1, 10.0)
    assert by_goal(run.large_verdicts("snapshot", rows, "objects", "objects"), "floor").met is False


def test_memory_goal_is_peak_rss_against_the_bytes_on_disk():
    rows = [snap_row(1.0, 10000, 1.0, 1.0, rss_mib=300.0, size=100 * MIB)]
    memory = by_goal(run.large_verdicts("snapshot", rows, "objects", "objects"), "RSS")
    assert memory.met is True and "3.00×" in memory.measured
    rows = [snap_row(1.0, 10000, 1.0, 1.0, rss_mib=301.0, size=100 * MIB)]
    assert by_goal(run.large_verdicts("snapshot", rows, "objects", "objects"), "RSS").met is False


def test_linearity_compares_time_per_object_after_the_start_up_cost():
    # 1 s of start-up on top of 1 ms per object: linear once the start-up is subtracted.
    linear = [snap_row(0.1, 1000, 2.0, 1.0), snap_row(0.5, 5000, 6.0, 5.0), snap_row(1.0, 10000, 11.0, 10.0)]
    assert by_goal(run.large_verdicts("s", linear, "objects", "objects", fixed=1.0), "linear").met is True
    # Quadratic: 10x the objects, 100x the time.
    quadratic = [snap_row(0.1, 1000, 1.1, 1.0), snap_row(0.5, 5000, 26.0, 5.0), snap_row(1.0, 10000, 101.0, 10.0)]
    verdict = by_goal(run.large_verdicts("s", quadratic, "objects", "objects", fixed=1.0), "linear")
    assert verdict.met is False
    assert "0.100 / 5.000 / 10.000 s" in verdict.measured
    # Without subtracting, a fixed cost makes a superlinear scan look linear: that is why it is subtracted.
    superlinear = [snap_row(0.1, 1000, 5.1, 1.0), snap_row(1.0, 10000, 7.0, 10.0)]
    assert by_goal(run.large_verdicts("s", superlinear, "objects", "objects"), "linear").met is True
    assert by_goal(run.large_verdicts("s", superlinear, "objects", "objects", fixed=5.0), "linear").met is False


def test_a_failed_or_missing_case_is_not_a_met_goal():
    failed = [dict(snap_row(1.0, 10000, 1.0, 1.0), error="scan: exit 2: boom")]
    verdicts = run.large_verdicts("snapshot", failed, "objects", "objects")
    assert [v.met for v in verdicts] == [False, False, False]
    assert all("boom" in v.measured for v in verdicts)
    missing = run.large_verdicts("snapshot", [], "objects", "objects")
    assert [v.met for v in missing] == [None, None, None]
    assert not run.all_met(missing)
    assert run.all_met([run.Verdict("g", "m", True)])
    assert not run.all_met([run.Verdict("g", "m", True), run.Verdict("h", "not run", None)])


def test_memory_flat_in_the_number_of_files():
    rows = [mani_row(1.0, 20000, 50000, 10.0, 8.0, rss_mib=120.0), mani_row(None, 2000, 50000, 9.0, 7.5, rss_mib=100.0)]
    verdict = run.flat_verdict(rows)
    assert verdict.met is True and "1.20×" in verdict.measured
    rows[0]["rss_mib"] = 126.0
    assert run.flat_verdict(rows).met is False
    assert run.flat_verdict(rows[:1]).met is None


def test_tables_put_the_floor_and_the_ratio_beside_each_figure():
    snap = run.snapshot_table([snap_row(1.0, 10000, 15.0, 10.0, rss_mib=250.0), dict(snap_row(0.1, 1000, 1, 1), error="floor: timed out after 9 s")])
    lines = snap.splitlines()
    assert len(lines) == 4
    assert all(line.count("|") == lines[0].count("|") for line in lines)
    assert "| 10.00 | 5.00 | 15.00 | 1.50× | 3.00× |" in lines[2]
    assert "| 250 | 2.50× |" in lines[2]
    assert "floor: timed out after 9 s" in lines[3]
    mani = run.manifests_table([mani_row(1.0, 20000, 50000, 12.0, 8.0), mani_row(None, 2000, 50000, 11.0, 8.0)])
    lines = mani.splitlines()
    assert all(line.count("|") == lines[0].count("|") for line in lines)
    assert "100%: 20,000 files, 50,000 documents | 100 | 8.00 | 12.00 | 1.50× |" in lines[2]
    assert lines[3].startswith("| fewer files: 2,000 files")


def test_verdict_table_marks_each_goal():
    table = run.verdict_table([run.Verdict("a", "1×", True), run.Verdict("b", "2×", False), run.Verdict("c", "not run", None)])
    assert table.splitlines()[2:] == ["| a | 1× | yes |", "| b | 2× | **no** |", "| c | not run | – |"]


def test_results_rewrite_keeps_everything_outside_the_markers():
    text = f"# Results\n\nintro\n\n{run.BEGIN}\nold figures\n{run.END}\n\n## History\n\nolder\n"
    new = run.rewrite_between(text, "new figures\n")
    assert new == f"# Results\n\nintro\n\n{run.BEGIN}\nnew figures\n{run.END}\n\n## History\n\nolder\n"
    assert run.rewrite_between(new, "new figures") == new
    appended = run.rewrite_between("# Results\n", "figures")
    assert appended == f"# Results\n\n{run.BEGIN}\nfigures\n{run.END}\n"


def test_render_of_saved_figures_gives_every_section_and_verdict():
    figures = {
        "quick": False, "machine": "Measured on test.", "load_before": 1.0, "minutes": 9.5, "runs": 2,
        "small": {"repeat": 3, "floor": {"name": "python3 -c 'import yaml, json'", "best": 0.05, "median": 0.06, "cpu": 0.05},
                  "timings": [{"name": "scan --manifests one.yaml", "best": 0.2, "median": 0.25, "cpu": 0.2},
                              {"name": "--help", "best": 0.31, "median": 0.4, "cpu": 0.3}]},
        "snapshot": [snap_row(0.1, 10000, 2.2, 1.5), snap_row(0.5, 50000, 10.2, 7.0), snap_row(1.0, 100000, 20.2, 14.0, rss_mib=2000.0, size=800 * MIB)],
        "manifests": [mani_row(0.1, 2000, 5000, 1.2, 1.0), mani_row(0.5, 10000, 25000, 5.2, 4.0), mani_row(1.0, 20000, 50000, 10.2, 8.0),
                      mani_row(None, 2000, 50000, 10.0, 7.9)],
        "live": None, "live_text": "not run: no bench/live.py.", "profile_text": "| cum s | own s |",
    }
    text, verdicts = run.render(json.loads(json.dumps(figures)))
    for heading in ("### Goals", "### Small inputs", "### Collected snapshot", "### Manifests repository", "### Live collection", "### Profile of the largest case"):
        assert heading in text
    assert "snapshot, 100,000 objects + 2,000 nodes: scan ≤ 1.5× the floor" in text
    assert "manifests, 20,000 files / 50,000 documents" in text
    assert "the least time of 2 fresh processes" in text
    assert [v.met for v in verdicts] == [True, False, True, True, True, True, True, True, True, None]
    assert not run.all_met(verdicts)


def test_profile_summary_lists_our_functions_by_cumulative_and_any_by_own_time(tmp_path):
    from kupgrade_lint.versions import KubeVersion

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(200):
        KubeVersion.parse("v1.21.14")
    profiler.disable()
    dump = tmp_path / "p.pstats"
    profiler.dump_stats(str(dump))
    summary = run.profile_summary(dump, limit=5)
    ours, anyone = summary.split("By own time")
    assert "kupgrade_lint/versions.py:" in ours
    assert "| 200 | `kupgrade_lint/versions.py:" in ours
    assert all(line.split("`")[1].startswith("kupgrade_lint/") for line in ours.splitlines() if line.startswith("| ") and "`" in line)
    assert anyone.count("\n| ") == 1 + 5  # the header, then the five functions with the most own time


def test_live_collection_goals_come_from_bench_live():
    (not_run,) = run.live_verdicts(None)
    assert not_run.met is None and not_run.measured == "not run"
    result = {"objects": 100000, "latency_ms": 20, "wall_s": 61.23, "requests_total": 612,
              "goals": {"pages = ceil(n/500)": True, "no per-object GETs": False}}
    verdicts = run.live_verdicts(result)
    assert [(v.goal, v.met) for v in verdicts] == [("live collection (100,000 objects, 20 ms latency): pages = ceil(n/500)", True),
                                                    ("live collection (100,000 objects, 20 ms latency): no per-object GETs", False)]
    assert verdicts[0].measured == "collect 61.2 s, 612 requests"


def test_best_of_keeps_the_least_time_and_the_largest_memory(monkeypatch):
    results = iter([{"wall": 3.0, "cpu": 3.0, "rss_mib": 10.0, "maxrss_mib": 10.0}, {"wall": 2.0, "cpu": 2.0, "rss_mib": 5.0, "maxrss_mib": 5.0}])
    monkeypatch.setattr(run, "run_process", lambda cmd, env, timeout: next(results))
    best = run.best_of({"scan": ["x"]}, {}, 1.0, runs=2)
    assert best["scan"]["wall"] == 2.0 and best["scan"]["rss_mib"] == 10.0
    monkeypatch.setattr(run, "run_process", lambda cmd, env, timeout: {"error": "exit 2: no"})
    assert run.best_of({"floor": ["x"], "scan": ["y"]}, {}, 1.0, runs=2) == {"floor": {"error": "exit 2: no"}}


def test_run_process_measures_a_fresh_process_and_reports_failures():
    ok = run.run_process([sys.executable, "-c", "print('{\"n\": 3}')"], dict(os.environ), 60)
    assert ok["out"] == {"n": 3} and ok["wall"] > 0 and ok["rss_mib"] > 1
    failed = run.run_process([sys.executable, "-c", "import sys; sys.exit('bad input')"], dict(os.environ), 60)
    assert failed == {"error": "exit 1: bad input"}
    assert run._tree_rss_kib(os.getpid()) > 1024


def test_floors_read_the_files_the_scan_reads(tmp_path):
    (tmp_path / "cluster" / "core" / "v1").mkdir(parents=True)
    (tmp_path / "cluster" / "core" / "v1" / "pods.json").write_text(json.dumps({"kind": "List", "items": [{"kind": "Pod"}]}))
    (tmp_path / "helm").mkdir()
    (tmp_path / "helm" / "r.yaml").write_text("kind: A\n---\nkind: B\n---\nkind: C\n")
    (tmp_path / "nodes" / "n1").mkdir(parents=True)
    (tmp_path / "nodes" / "n1" / "kubelet.env").write_text("KUBELET_ARGS=--foo\n")
    (tmp_path / ".bench-stamp.json").write_text("not json")
    result = floor.floor_snapshot(tmp_path)
    assert (result["files"], result["documents"]) == (3, 4)
    assert result["bytes"] == sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file() and not p.name.startswith("."))
    assert floor.floor_snapshot(tmp_path, gc_enabled=False)["documents"] == 4
    import gc

    assert gc.isenabled()
    manifests = floor.floor_manifests(tmp_path)
    assert (manifests["files"], manifests["documents"]) == (2, 4)  # the .env file is no manifest
    with pytest.raises(SystemExit):
        floor.main([str(tmp_path), "--gc-off"])
