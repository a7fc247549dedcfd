"""Benchmark a full ``scan`` (load + engine + JSON render) on synthetic snapshots and check the goals.

For every size (Kubernetes objects; nodes = objects / 100 unless --nodes-ratio says otherwise) and
every target, a fresh process (bench/scan_once.py) runs the scan; its wall time (interpreter start
included) and peak RSS (``wait4`` rusage ``ru_maxrss``) are measured from here. Snapshots are made by
bench/make_snapshot.py under --work-dir and reused while their parameters are unchanged.

Prints a table, and (unless --no-results) rewrites the measured part of bench/RESULTS.md, between
the ``measured:begin``/``measured:end`` markers; the rest of that file (the analysis) is kept.

    python bench/run.py                                    # 1k, 10k, 50k x 1.21, 1.37 (~10 min on 2 cores)
    python bench/run.py --sizes 1000,10000 --no-results    # quick
    python bench/run.py --sizes 50000 --targets 1.37 --profile --no-results
    python bench/run.py --check                            # exit 1 when a goal is missed
    python bench/run.py --small-only                       # one manifest, --help, rules, beside the floor (~1 min)

The small-input cases (bench/small.py) run first in every run and go between the
``small:begin``/``small:end`` markers of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import pstats
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import make_snapshot  # noqa: E402
import small  # noqa: E402

RESULTS = BENCH / "RESULTS.md"
BEGIN = "<!-- measured:begin (written by bench/run.py; do not edit by hand) -->"
END = "<!-- measured:end -->"
SMALL_BEGIN = "<!-- small:begin (written by bench/run.py; do not edit by hand) -->"
SMALL_END = "<!-- small:end -->"


@dataclass(frozen=True)
class Goal:
    """A budget for the slowest path of one size."""

    objects: int
    nodes: int
    seconds: float
    rss_mib: float

    def describe(self) -> str:
        return f"{self.objects // 1000}k objects + {self.nodes} nodes, any path up to 1.14→1.37: < {self.seconds:g} s and < {_mib(self.rss_mib)} peak RSS"


# Goals for a full scan on a 2-core CI runner. 50k objects is a large production cluster; the
# scan must stay usable in CI (seconds, not minutes) and fit a default 2-4 GiB CI container.
GOALS = (
    Goal(1_000, 10, 2.0, 256),
    Goal(10_000, 100, 8.0, 512),
    Goal(50_000, 500, 30.0, 2048),
)


def _mib(value: float) -> str:
    return f"{value / 1024:g} GiB" if value >= 1024 else f"{value:g} MiB"


def ensure_snapshot(work: Path, objects: int, nodes: int, seed: int) -> tuple[Path, dict]:
    """The snapshot for these parameters, generated when missing or stale."""
    out = work / f"snapshot-{objects}-{nodes}-s{seed}"
    stamp = out / ".bench-params.json"
    params = {"objects": objects, "nodes": nodes, "seed": seed, "generator": make_snapshot.GENERATOR_VERSION}
    if stamp.is_file():
        saved = json.loads(stamp.read_text())
        if saved.get("params") == params:
            return out, saved["stats"]
    print(f"generating {out} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    stats = make_snapshot.generate(out, objects, nodes, seed)
    stats["generate_seconds"] = round(time.perf_counter() - started, 1)
    stamp.write_text(json.dumps({"params": params, "stats": stats}))
    return out, stats


def run_case(snapshot: Path, target: str, report: Path, timeout: float, extra: list[str]) -> dict:
    """One scan in a fresh process: wall time and peak RSS measured from outside, phases from inside."""
    cmd = [sys.executable, str(BENCH / "scan_once.py"), "--snapshot", str(snapshot), "--target", target, "--report", str(report), *extra]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = started + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            proc.wait()
            return {"error": f"timed out after {timeout:g} s"}
        time.sleep(0.05)
    wall = time.perf_counter() - started
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}: {err.strip().splitlines()[-1] if err.strip() else ''}"}
    result = json.loads(out.strip().splitlines()[-1])
    result["wall_seconds"] = round(wall, 2)
    result["peak_rss_mib"] = round(usage.ru_maxrss / 1024, 1)
    result["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
    return result


def prepare_source(rev: str | None, work: Path) -> tuple[str | None, str]:
    """(directory to import kupgrade_lint from, description). ``rev``: None = this working tree, else a git revision.

    A revision is exported with ``git archive`` (read-only for the repository) so that the numbers
    belong to one commit even while the working tree changes.
    """
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True).stdout.strip()

    try:
        if rev is None:
            head = git("rev-parse", "--short", "HEAD")
            dirty = [line for line in git("status", "--porcelain", "--", "kupgrade_lint", "rules").splitlines() if line]
            state = f", plus uncommitted changes to {len(dirty)} file(s) of kupgrade_lint/ and rules/" if dirty else ""
            return None, f"the working tree at commit {head}{state}"
        sha = git("rev-parse", rev)
    except (OSError, subprocess.CalledProcessError):
        return (None, "the working tree (not a git checkout)") if rev is None else sys.exit(f"unknown git revision {rev}")
    dest = work / f"src-{sha[:12]}"
    if not (dest / "kupgrade_lint").is_dir():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", sha, "kupgrade_lint", "rules"], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        # rules/ ships as kupgrade_lint.builtin_rules (pyproject package-dir); mirror that mapping.
        (dest / "kupgrade_lint" / "builtin_rules").symlink_to("../rules")
    return str(dest), f"commit {sha[:12]} (exported with git archive)"


def goal_for(objects: int) -> Goal | None:
    return next((g for g in GOALS if g.objects == objects), None)


def table(rows: list[dict]) -> str:
    head = "| objects | nodes | snapshot MiB | path | hops | findings | wall s | CPU s | peak RSS MiB | load s | engine s | render s |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        res = r["result"]
        if "error" in res:
            lines.append(f"| {r['objects']} | {r['nodes']} | {r['mib']:.0f} | 1.14→{r['target']} | | | {res['error']} | | | | | |")
            continue
        ph = res["phases"]
        lines.append(
            f"| {r['objects']} | {r['nodes']} | {r['mib']:.0f} | 1.14→{r['target']} | {res['hops']} | {res['findings']} | {res['wall_seconds']:.1f} | {res['cpu_seconds']:.1f} "
            f"| {res['peak_rss_mib']:.0f} | {ph['load']:.1f} | {ph['engine']:.1f} | {ph['render']:.2f} |"
        )
    return "\n".join(lines)


def verdicts(rows: list[dict]) -> tuple[str, bool]:
    lines = ["| goal | measured (slowest path) | met |", "|---|---|---|"]
    all_met = True
    for goal in GOALS:
        cases = [r for r in rows if r["objects"] == goal.objects and r["nodes"] == goal.nodes]
        if not cases:
            lines.append(f"| {goal.describe()} | not measured in this run | – |")
            continue
        if any("error" in r["result"] for r in cases):
            lines.append(f"| {goal.describe()} | {'; '.join(r['result'].get('error', '') for r in cases)} | **no** |")
            all_met = False
            continue
        wall = max(r["result"]["wall_seconds"] for r in cases)
        rss = max(r["result"]["peak_rss_mib"] for r in cases)
        met = wall < goal.seconds and rss < goal.rss_mib
        all_met &= met
        lines.append(f"| {goal.describe()} | {wall:.1f} s, {rss:.0f} MiB | {'yes' if met else '**no**'} |")
    return "\n".join(lines), all_met


def profile_summary(path: Path, limit: int = 25) -> str:
    """The functions with the most own time, and the most cumulative time, of a cProfile dump."""
    stats = pstats.Stats(str(path))
    total = stats.total_tt  # type: ignore[attr-defined]
    entries = []
    for (file, line, name), (cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        short = file.split("/kupgrade_lint/")[-1] if "/kupgrade_lint/" in file else Path(file).name
        entries.append((tt, ct, nc, f"{short}:{line}({name})"))
    out = [f"total {total:.1f} s (under cProfile)", "", "own time:", "| own s | cum s | calls | function |", "|---|---|---|---|"]
    for tt, ct, nc, where in sorted(entries, reverse=True)[:limit]:
        out.append(f"| {tt:.1f} | {ct:.1f} | {nc} | `{where}` |")
    out += ["", "cumulative time (kupgrade_lint only):", "| cum s | own s | calls | function |", "|---|---|---|---|"]
    ours = [e for e in entries if not e[3].startswith(("<", "{")) and ".py:" in e[3] and not e[3].split(":")[0].endswith(("yaml/__init__.py", "constructor.py", "composer.py"))]
    for tt, ct, nc, where in sorted(ours, key=lambda e: -e[1])[:limit]:
        out.append(f"| {ct:.1f} | {tt:.1f} | {nc} | `{where}` |")
    return "\n".join(out)


def write_results(measured: str, begin: str = BEGIN, end: str = END) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.is_file() else "# Benchmark results\n"
    if begin not in text or end not in text:
        text = text.rstrip() + f"\n\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    RESULTS.write_text(f"{head}{begin}\n{measured.strip()}\n{end}{tail}", encoding="utf-8")


def machine(source_desc: str) -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"Measured {dt.date.today().isoformat()} on {platform.node() or 'this machine'}: {os.cpu_count()} CPUs ({cpu}), "
        f"Python {platform.python_version()}, PyYAML with{'out' if not hasattr(__import__('yaml'), 'CSafeLoader') else ''} libyaml. "
        f"Code measured: {source_desc}."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="comma-separated object counts (default 1000,10000,50000)")
    parser.add_argument("--targets", default="1.21,1.37", help="comma-separated targets; the snapshot is at v1.14 (default 1.21,1.37)")
    parser.add_argument("--nodes-ratio", type=int, default=100, help="objects per node (default 100: 50k objects -> 500 nodes)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work-dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "kupgrade-bench")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per case before it is killed (default 600)")
    parser.add_argument("--profile", action="store_true", help="profile the largest size x last target with cProfile (an extra run)")
    parser.add_argument("--tracemalloc", action="store_true", help="also report the peak of Python allocations (slows the scans)")
    parser.add_argument("--source", metavar="REV", help="benchmark this git revision (e.g. HEAD) instead of the working tree")
    parser.add_argument("--no-results", action="store_true", help="do not rewrite bench/RESULTS.md")
    parser.add_argument("--check", action="store_true", help="exit 1 when a measured goal is not met")
    parser.add_argument("--small-only", action="store_true", help="run only the small-input cases (one manifest, --help, rules)")
    parser.add_argument("--repeat", type=int, default=7, help="runs of each small-input case; the best counts (default 7)")
    args = parser.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",") if s]
    targets = [t for t in args.targets.split(",") if t]
    args.work_dir.mkdir(parents=True, exist_ok=True)
    source_dir, source_desc = prepare_source(args.source, args.work_dir)
    source_args = ["--source", source_dir] if source_dir else []
    print(f"benchmarking {source_desc}", file=sys.stderr)
    print(f"small inputs, {args.repeat} runs each ...", file=sys.stderr, flush=True)
    timings, floor = small.measure(args.work_dir, source_dir, args.repeat)
    small_table, small_met = small.table(timings, floor, args.repeat)
    print(small_table)
    print()
    if not args.no_results:
        load = os.getloadavg()
        write_results(f"{machine(source_desc)} Load average before the run: {load[0]:.2f}.\n\n{small_table}", SMALL_BEGIN, SMALL_END)
    if args.small_only:
        return 1 if args.check and not small_met else 0
    rows: list[dict] = []
    for objects in sizes:
        nodes = max(1, objects // args.nodes_ratio)
        snapshot, stats = ensure_snapshot(args.work_dir, objects, nodes, args.seed)
        for target in targets:
            print(f"scan {objects} objects, {nodes} nodes, 1.14 -> {target} ...", file=sys.stderr, flush=True)
            extra = source_args + (["--tracemalloc"] if args.tracemalloc else [])
            result = run_case(snapshot, target, args.work_dir / f"report-{objects}-{target}.json", args.timeout, extra)
            rows.append({"objects": objects, "nodes": nodes, "target": target, "mib": stats["bytes"] / 2**20, "result": result})
            print(f"  {json.dumps(result)}", file=sys.stderr, flush=True)

    profile_text = ""
    if args.profile and sizes and targets:
        objects, target = sizes[-1], targets[-1]
        nodes = max(1, objects // args.nodes_ratio)
        snapshot, _ = ensure_snapshot(args.work_dir, objects, nodes, args.seed)
        dump = args.work_dir / f"profile-{objects}-{target}.pstats"
        print(f"profiling {objects} objects, 1.14 -> {target} (cProfile) ...", file=sys.stderr, flush=True)
        result = run_case(snapshot, target, args.work_dir / "report-profile.json", args.timeout * 2, source_args + ["--profile", str(dump)])
        if "error" in result:
            profile_text = f"profiling failed: {result['error']}"
        else:
            profile_text = f"cProfile of {objects} objects, 1.14→{target} ({dump}):\n\n" + profile_summary(dump)
        print(profile_text)

    measured_table = table(rows)
    goal_table, all_met = verdicts(rows)
    print(measured_table)
    print()
    print(goal_table)
    if not args.no_results:
        section = [
            f"{machine(source_desc)} Wall time includes interpreter start; peak RSS is the scan process's ru_maxrss.",
            "",
            measured_table,
            "",
            "### Goals",
            "",
            goal_table,
        ]
        if profile_text:
            section += ["", "### Profile", "", profile_text]
        write_results("\n".join(section))
        print(f"\nwrote {RESULTS}", file=sys.stderr)
    return 1 if args.check and not (all_met and small_met) else 0


if __name__ == "__main__":
    sys.exit(main())
