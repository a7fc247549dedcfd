"""Issue 9's benchmark in one command: every goal as a ratio to a floor measured in the same run.

    python bench/run.py            # everything (~17 min on 2 cores, 3 more generating the inputs once); rewrites bench/RESULTS.md
    python bench/run.py --quick    # the same cases at a tenth of the size or less (~1-2 min); RESULTS.md untouched
    python bench/run.py --check    # exit 1 when a goal is missed

Cases, each in a fresh process (wall time from here, interpreter start included; peak RSS the
largest of ``wait4``'s ``ru_maxrss`` and the summed RSS of the process and its children sampled
every 0.1 s from /proc, since the loader's YAML workers run beside the scan):

* small inputs (bench/small.py): one manifest, ``--help``, ``rules``, beside
  ``python3 -c 'import yaml, json'``;
* a collected snapshot (bench/make_snapshot.py ``--yaml-share 0``: JSON lists as ``collect``
  writes them) at 10, 50 and 100 % of 100,000 objects / 2,000 nodes: the floor
  (bench/floor.py ``floor_snapshot``, with the garbage collector running and paused) and
  ``bench/scan_once.py`` (the scan as ``kupgrade-lint scan -o json --output-file`` runs it, phase
  by phase) to 1.37;
* a manifests repository (bench/make_manifests.py) at 10, 50 and 100 % of 20,000 files /
  50,000 documents, plus the 50,000 documents in 2,000 files: the floor (``floor_manifests``)
  and ``kupgrade-lint scan --manifests DIR --current v1.14.10 --target v1.21.14 -o json``;
* a cProfile of the largest snapshot scan;
* live collection (bench/live.py ``run_live``) when that module is present.

Inputs are generated once under ``--work-dir`` and reused while the generator and its
parameters are unchanged. The goals are defined once, in the ``GOAL_*`` constants below.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import pstats
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import small  # noqa: E402

RESULTS = BENCH / "RESULTS.md"
BEGIN = "<!-- measured:begin (written by bench/run.py; do not edit by hand) -->"
END = "<!-- measured:end -->"

GOAL_RATIO = 1.5  # scan wall time / floor wall time, large inputs
GOAL_MEMORY = 3.0  # peak RSS / input bytes on disk, large inputs
GOAL_LINEAR = 1.25  # seconds per 1,000 objects at 100 % / the same at 10 %
GOAL_FLAT = 1.25  # peak RSS with 20,000 files / with the same documents in 2,000 files
SHARES = (0.1, 0.5, 1.0)
SNAPSHOT_TARGET = "1.37"
MANIFESTS_PATH = ("v1.14.10", "v1.21.14")


@dataclass(frozen=True)
class Scale:
    """The 100 % sizes of one run."""

    objects: int
    nodes: int
    files: int
    documents: int
    flat_files: int  # the same documents in fewer files: memory must not depend on the file count
    live_objects: int


FULL = Scale(objects=100_000, nodes=2_000, files=20_000, documents=50_000, flat_files=2_000, live_objects=100_000)
QUICK = Scale(objects=10_000, nodes=200, files=1_000, documents=2_500, flat_files=100, live_objects=10_000)


@dataclass(frozen=True)
class Verdict:
    goal: str
    measured: str
    met: bool | None  # None: not measured in this run


# -- running one case ---------------------------------------------------------------------------

def _tree_rss_kib(root: int) -> int:
    """The summed resident memory of ``root`` and all its descendants, from /proc (0 when unreadable)."""
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as stream:
                    fields = stream.read().rsplit(b")", 1)[1].split()
                parents[int(name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    total = 0
    page_kib = os.sysconf("SC_PAGE_SIZE") // 1024
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm", "rb") as stream:
                total += int(stream.read().split()[1]) * page_kib
        except (OSError, IndexError, ValueError):
            continue
    return total


def run_process(cmd: list[str], env: dict[str, str], timeout: float, sample: bool = True) -> dict:
    """Run ``cmd`` in a fresh process: wall and CPU seconds, peak RSS, its last stdout line; or ``error``."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tree_peak = 0
    next_sample = started
    try:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            now = time.perf_counter()
            if now - started > timeout:
                proc.kill()
                proc.wait()
                return {"error": f"timed out after {timeout:g} s"}
            if sample and now >= next_sample:
                tree_peak = max(tree_peak, _tree_rss_kib(proc.pid))
                next_sample = now + 0.1
            time.sleep(0.02)
    except KeyboardInterrupt:
        proc.kill()
        raise
    wall = time.perf_counter() - started
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        last = err.strip().splitlines()[-1] if err.strip() else ""
        return {"error": f"exit {code}: {last[:200]}"}
    lines = out.strip().splitlines()
    maxrss_mib = usage.ru_maxrss / 1024
    return {
        "wall": round(wall, 2),
        "cpu": round(usage.ru_utime + usage.ru_stime, 2),
        "maxrss_mib": round(maxrss_mib, 1),
        "rss_mib": round(max(maxrss_mib, tree_peak / 1024), 1),
        "out": json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None,
    }


def best_of(commands: dict[str, list[str]], env: dict[str, str], timeout: float, runs: int) -> dict[str, dict]:
    """Each command ``runs`` times, interleaved (a, b, c, a, b, c: a burst of load elsewhere hits all alike).

    The least wall and CPU time count (the run least disturbed by the other users of the machine),
    the largest peak RSS (memory is not disturbed by them, and the goal is a ceiling).
    """
    best: dict[str, dict] = {}
    for _ in range(runs):
        for name, cmd in commands.items():
            result = run_process(cmd, env, timeout)
            if "error" in result:
                return {name: result}
            if name not in best:
                best[name] = result
            else:
                prev = best[name]
                best[name] = {**(result if result["wall"] < prev["wall"] else prev), "rss_mib": max(result["rss_mib"], prev["rss_mib"]),
                              "maxrss_mib": max(result["maxrss_mib"], prev["maxrss_mib"])}
    return best


# -- inputs -------------------------------------------------------------------------------------

def disk_bytes(root: Path) -> int:
    """Bytes of every regular file under ``root`` (apparent size, as ``du --apparent-size -b``)."""
    return sum(os.path.getsize(os.path.join(d, n)) for d, _, names in os.walk(root) for n in names)


def _generator_key(script: Path) -> str:
    return hashlib.sha256(script.read_bytes()).hexdigest()[:16]


def ensure_input(work: Path, name: str, script: str, args: list[str], timeout: float) -> tuple[Path, int, float]:
    """(directory, bytes on disk, seconds spent generating it now) of the input ``script args`` writes, generated when missing or stale.

    The parameters are stamped beside the directory (never inside it: a manifests scan would
    read a JSON file there), keyed by the generator's own bytes and the arguments.
    """
    out = work / name
    stamp = work / f"{name}.params.json"
    params = {"script": script, "generator": _generator_key(BENCH / script), "args": args}
    if stamp.is_file() and out.is_dir():
        saved = json.loads(stamp.read_text())
        if saved.get("params") == params:
            return out, saved["bytes"], 0.0
    stamp.unlink(missing_ok=True)
    print(f"generating {out} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, str(BENCH / script), *args, "--out", str(out)], check=True, timeout=timeout)
    size = disk_bytes(out)
    seconds = round(time.perf_counter() - started, 1)
    stamp.write_text(json.dumps({"params": params, "bytes": size, "generate_seconds": seconds}))
    return out, size, seconds


# -- the cases ----------------------------------------------------------------------------------

def snapshot_case(work: Path, env: dict[str, str], objects: int, nodes: int, share: float, seed: int, timeout: float, source: list[str], runs: int = 1) -> dict:
    snapshot, size, generated = ensure_input(work, f"snapshot-{objects}-{nodes}-json-s{seed}", "make_snapshot.py",
                                  ["--objects", str(objects), "--nodes", str(nodes), "--yaml-share", "0", "--seed", str(seed)], timeout)
    row: dict = {"share": share, "objects": objects, "nodes": nodes, "bytes": size, "path": str(snapshot), "generated_s": generated}
    print(f"snapshot {objects} objects / {nodes} nodes: floor, floor with GC off, scan ...", file=sys.stderr, flush=True)
    results = best_of({
        "floor": [sys.executable, str(BENCH / "floor.py"), "--snapshot", str(snapshot)],
        "floor_nogc": [sys.executable, str(BENCH / "floor.py"), "--snapshot", str(snapshot), "--gc-off"],
        "scan": [sys.executable, str(BENCH / "scan_once.py"), "--snapshot", str(snapshot), "--target", SNAPSHOT_TARGET,
                 "--report", str(work / f"report-snapshot-{objects}.json"), *source],
    }, env, timeout, runs)
    for name, result in results.items():
        if "error" in result:
            row["error"] = f"{name}: {result['error']}"
            return row
    floor, floor_nogc, scan = results["floor"], results["floor_nogc"], results["scan"]
    row.update(floor=floor["wall"], floor_rss_mib=floor["rss_mib"], floor_nogc=floor_nogc["wall"], scan=scan["wall"], cpu=scan["cpu"],
               rss_mib=scan["rss_mib"], phases=scan["out"]["phases"], findings=scan["out"]["findings"])
    print(f"  floor {floor['wall']} s, GC off {floor_nogc['wall']} s, scan {scan['wall']} s, {scan['rss_mib']} MiB", file=sys.stderr, flush=True)
    return row


def manifests_case(work: Path, env: dict[str, str], files: int, documents: int, share: float | None, seed: int, timeout: float, runs: int = 1,
                   regroup: Path | None = None) -> dict:
    """One manifests case; with ``regroup`` (the 100 % repository), the same documents in ``files`` files."""
    if regroup is None:
        repo, size, generated = ensure_input(work, f"manifests-{files}-{documents}-s{seed}", "make_manifests.py",
                                  ["--files", str(files), "--documents", str(documents), "--seed", str(seed)], timeout)
    else:
        repo, size, generated = ensure_input(work, f"manifests-{regroup.name}-in-{files}", "regroup_manifests.py",
                                  ["--from", str(regroup), "--files", str(files)], timeout)
    row: dict = {"share": share, "files": files, "documents": documents, "bytes": size, "path": str(repo), "generated_s": generated}
    print(f"manifests {files} files / {documents} documents: floor, scan ...", file=sys.stderr, flush=True)
    report = work / f"report-manifests-{files}-{documents}.json"
    results = best_of({
        "floor": [sys.executable, str(BENCH / "floor.py"), str(repo)],
        "scan": [sys.executable, "-m", "kupgrade_lint", "scan", "--manifests", str(repo), "--current", MANIFESTS_PATH[0],
                 "--target", MANIFESTS_PATH[1], "-o", "json", "--output-file", str(report), "--fail-on", "never"],
    }, env, timeout, runs)
    for name, result in results.items():
        if "error" in result:
            row["error"] = f"{name}: {result['error']}"
            return row
    floor, scan = results["floor"], results["scan"]
    try:
        findings = len(json.loads(report.read_text(encoding="utf-8")).get("findings", []))
    except (OSError, ValueError, AttributeError):
        findings = None
    row.update(floor=floor["wall"], floor_rss_mib=floor["rss_mib"], scan=scan["wall"], cpu=scan["cpu"], rss_mib=scan["rss_mib"], findings=findings)
    print(f"  floor {floor['wall']} s, scan {scan['wall']} s, {scan['rss_mib']} MiB", file=sys.stderr, flush=True)
    return row


def live_case(objects: int, latency_ms: float) -> tuple[dict | None, str]:
    """(bench/live.py's result, its markdown), or (None, why it did not run)."""
    try:
        import live  # type: ignore[import-not-found]
    except ImportError:
        return None, "not run: `bench/live.py` (with `run_live(objects, latency_ms)`) is not in this tree."
    print(f"live collection, {objects} objects, {latency_ms:g} ms latency ...", file=sys.stderr, flush=True)
    try:
        result = live.run_live(objects, latency_ms)
        return result, live.markdown(result)
    except Exception as exc:  # noqa: BLE001 - a broken helper is reported, the other figures stay
        return None, f"not run: `bench/live.py` failed: {type(exc).__name__}: {exc}"


# -- pure functions: figures -> tables and verdicts ---------------------------------------------

def _mib(size: float) -> str:
    return f"{size / 2**20:.0f}"


def _x(value: float) -> str:
    return f"{value:.2f}×"


def per_1k(row: dict, count_key: str, fixed: float = 0.0) -> float:
    """Scan seconds per 1,000 objects (documents) of a row, less ``fixed`` seconds (the start-up every run pays)."""
    return max(row["scan"] - fixed, 0.0) / row[count_key] * 1000


def snapshot_table(rows: list[dict], fixed: float = 0.0) -> str:
    head = ("| input | MiB on disk | floor s (GC on) | floor s (GC off) | scan s | ratio to floor | ratio to GC-off floor "
            "| s per 1k objects, start-up less | load / engine / render s | findings | peak RSS MiB | RSS / disk |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        what = f"{r['share']:.0%}: {r['objects']:,} objects, {r['nodes']:,} nodes"
        if "error" in r:
            lines.append(f"| {what} | {_mib(r['bytes'])} | {r['error']} |" + " |" * (head.count("|") - 4))
            continue
        ph = r["phases"]
        lines.append(
            f"| {what} | {_mib(r['bytes'])} | {r['floor']:.2f} | {r['floor_nogc']:.2f} | {r['scan']:.2f} | {_x(r['scan'] / r['floor'])} "
            f"| {_x(r['scan'] / r['floor_nogc'])} | {per_1k(r, 'objects', fixed):.3f} | {ph['load']:.1f} / {ph['engine']:.1f} / {ph['render']:.1f} "
            f"| {r['findings']:,} | {r['rss_mib']:.0f} | {_x(r['rss_mib'] * 2**20 / r['bytes'])} |"
        )
    return "\n".join(lines)


def manifests_table(rows: list[dict], fixed: float = 0.0) -> str:
    head = "| input | MiB on disk | floor s | scan s | ratio to floor | s per 1k documents, start-up less | findings | peak RSS MiB | RSS / disk |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        share = f"{r['share']:.0%}" if r["share"] is not None else "fewer files"
        what = f"{share}: {r['files']:,} files, {r['documents']:,} documents"
        if "error" in r:
            lines.append(f"| {what} | {_mib(r['bytes'])} | {r['error']} |" + " |" * (head.count("|") - 4))
            continue
        findings = f"{r['findings']:,}" if r.get("findings") is not None else "?"
        lines.append(
            f"| {what} | {_mib(r['bytes'])} | {r['floor']:.2f} | {r['scan']:.2f} | {_x(r['scan'] / r['floor'])} | {per_1k(r, 'documents', fixed):.3f} "
            f"| {findings} | {r['rss_mib']:.0f} | {_x(r['rss_mib'] * 2**20 / r['bytes'])} |"
        )
    return "\n".join(lines)


def _by_share(rows: list[dict]) -> dict[float, dict]:
    return {r["share"]: r for r in rows if r.get("share") is not None}


def large_verdicts(label: str, rows: list[dict], count_key: str, noun: str, fixed: float = 0.0) -> list[Verdict]:
    """Time to floor, memory to disk and linearity of the 10/50/100 % rows of one kind of input.

    Linearity compares seconds per 1,000 objects less ``fixed``, the start-up every scan pays
    (the one-manifest scan's time), so that a constant cost does not pass for a falling slope.
    """
    shares = _by_share(rows)
    full, tenth = shares.get(1.0), shares.get(0.1)
    goals = (
        f"{label}: scan ≤ {GOAL_RATIO:g}× the floor",
        f"{label}: peak RSS ≤ {GOAL_MEMORY:g}× the input on disk",
        f"{label}: linear: s per 1k {noun} (start-up less) at 100 % ≤ {GOAL_LINEAR:g}× that at 10 %",
    )
    if full is None or "error" in full:
        why = full["error"] if full else "not measured in this run"
        return [Verdict(g, why, False if full else None) for g in goals]
    ratio = full["scan"] / full["floor"]
    extra = f"; {_x(full['scan'] / full['floor_nogc'])} the GC-off floor ({full['floor_nogc']:.2f} s)" if "floor_nogc" in full else ""
    out = [Verdict(goals[0], f"{full['scan']:.2f} s / {full['floor']:.2f} s = {_x(ratio)}{extra}", ratio <= GOAL_RATIO)]
    memory = full["rss_mib"] * 2**20 / full["bytes"]
    out.append(Verdict(goals[1], f"{full['rss_mib']:.0f} MiB / {_mib(full['bytes'])} MiB = {_x(memory)}", memory <= GOAL_MEMORY))
    if tenth is None or "error" in tenth:
        out.append(Verdict(goals[2], "the 10 % case was not measured", None if tenth is None else False))
    else:
        per = [f"{per_1k(shares[s], count_key, fixed):.3f}" for s in SHARES if s in shares and "error" not in shares[s]]
        growth = per_1k(full, count_key, fixed) / max(per_1k(tenth, count_key, fixed), 1e-9)
        out.append(Verdict(goals[2], f"{' / '.join(per)} s at {' / '.join(f'{s:.0%}' for s in SHARES if s in shares)}: {_x(growth)}", growth <= GOAL_LINEAR))
    return out


def flat_verdict(rows: list[dict]) -> Verdict:
    """Peak RSS of the 100 % manifests case against the same documents in fewer files."""
    full = _by_share(rows).get(1.0)
    flat = next((r for r in rows if r.get("share") is None), None)
    goal = f"manifests: memory flat in the number of files (peak RSS ≤ {GOAL_FLAT:g}× that of the same documents in fewer files)"
    if full is None or flat is None:
        return Verdict(goal, "not measured in this run", None)
    if "error" in full or "error" in flat:
        return Verdict(goal, full.get("error") or flat["error"], False)
    growth = full["rss_mib"] / flat["rss_mib"]
    return Verdict(goal, f"{full['files']:,} files {full['rss_mib']:.0f} MiB, {flat['files']:,} files {flat['rss_mib']:.0f} MiB: {_x(growth)}", growth <= GOAL_FLAT)


def small_verdicts(timings: list, floor) -> list[Verdict]:
    return [
        Verdict(f"`kupgrade-lint {t.name}` < {small.GOAL_SECONDS:g} s wall",
                f"{t.best:.3f} s (floor {floor.best:.3f} s, {t.best / floor.best:.1f}×)", t.best < small.GOAL_SECONDS)
        for t in timings
    ]


def live_verdicts(result: dict | None) -> list[Verdict]:
    """bench/live.py's own goals (``result["goals"]``: name -> met), or one row saying it did not run."""
    if result is None:
        return [Verdict("live collection: one LIST page per 500 objects per resource, no per-object GETs, bounded concurrency", "not run", None)]
    where = f"{result.get('objects', '?'):,} objects, {result.get('latency_ms', '?')} ms latency" if isinstance(result.get("objects"), int) else "live"
    measured = f"collect {result['wall_s']:.1f} s, {result.get('requests_total', '?')} requests" if "wall_s" in result else "see the live collection section"
    goals = result.get("goals")
    if not isinstance(goals, dict) or not goals:
        return [Verdict(f"live collection ({where})", measured, None)]
    return [Verdict(f"live collection ({where}): {name}", measured, bool(ok)) for name, ok in goals.items()]


def verdict_table(verdicts: list[Verdict]) -> str:
    lines = ["| goal | measured | met |", "|---|---|---|"]
    for v in verdicts:
        met = "–" if v.met is None else ("yes" if v.met else "**no**")
        lines.append(f"| {v.goal} | {v.measured} | {met} |")
    return "\n".join(lines)


def all_met(verdicts: list[Verdict]) -> bool:
    """Every goal measured and met (a goal not measured is not met)."""
    return all(v.met is True for v in verdicts)


def rewrite_between(text: str, body: str, begin: str = BEGIN, end: str = END) -> str:
    """``text`` with what lies between the ``begin`` and ``end`` markers replaced by ``body`` (markers appended when missing)."""
    if begin not in text or end not in text:
        text = text.rstrip() + f"\n\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body.strip()}\n{end}{tail}"


def profile_summary(path: Path, limit: int = 20) -> str:
    """The functions with the most cumulative time (kupgrade_lint's own) and the most own time, of a cProfile dump."""
    stats = pstats.Stats(str(path))
    total = stats.total_tt  # type: ignore[attr-defined]
    entries = []
    for (file, line, name), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        short = "kupgrade_lint/" + file.split("/kupgrade_lint/")[-1] if "/kupgrade_lint/" in file else Path(file).name
        entries.append((tt, ct, nc, f"{short}:{line}({name})"))
    out = [f"Total {total:.1f} s under cProfile (slower than the unprofiled run).", "",
           "By cumulative time (kupgrade_lint's functions):", "", "| cum s | own s | calls | function |", "|---|---|---|---|"]
    ours = [e for e in entries if e[3].startswith("kupgrade_lint/")]
    for tt, ct, nc, where in sorted(ours, key=lambda e: -e[1])[:limit]:
        out.append(f"| {ct:.1f} | {tt:.1f} | {nc} | `{where}` |")
    out += ["", "By own time (any function):", "", "| own s | cum s | calls | function |", "|---|---|---|---|"]
    for tt, ct, nc, where in sorted(entries, key=lambda e: -e[0])[:limit]:
        out.append(f"| {tt:.1f} | {ct:.1f} | {nc} | `{where}` |")
    return "\n".join(out)


# -- the run ------------------------------------------------------------------------------------

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


def machine(source_desc: str) -> str:
    import yaml

    return (
        f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'}: {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, PyYAML {yaml.__version__} with{'' if yaml.__with_libyaml__ else 'out'} libyaml. "
        f"Code measured: {source_desc}."
    )


def render(figures: dict) -> tuple[str, list[Verdict]]:
    """The measured part of RESULTS.md, and the verdicts, from the figures of one run (``measure``'s result)."""
    timings = [small.Timing(**t) for t in figures["small"]["timings"]]
    floor = small.Timing(**figures["small"]["floor"])
    small_text, _ = small.table(timings, floor, figures["small"]["repeat"])
    fixed = next((t.best for t in timings if t.name.startswith("scan ")), 0.0)
    quick = figures["quick"]
    snap, mani = figures["snapshot"], figures["manifests"]
    full_snap = next((r for r in snap if r["share"] == 1.0), None)
    full_mani = next((r for r in mani if r["share"] == 1.0), None)
    snap_label = f"snapshot, {full_snap['objects']:,} objects + {full_snap['nodes']:,} nodes" if full_snap else "snapshot"
    mani_label = f"manifests, {full_mani['files']:,} files / {full_mani['documents']:,} documents" if full_mani else "manifests"
    verdicts = small_verdicts(timings, floor)
    verdicts += large_verdicts(snap_label, snap, "objects", "objects", fixed)
    verdicts += large_verdicts(mani_label, mani, "documents", "documents", fixed)
    verdicts.append(flat_verdict(mani))
    verdicts += live_verdicts(figures.get("live"))
    runs = figures.get("runs", 1)
    generating = f" (of which {figures['generate_minutes']:.1f} min generating the inputs)" if figures.get("generate_minutes") else ""
    header = (f"{figures['machine']} `python bench/run.py{' --quick' if quick else ''}`: {figures['minutes']:.1f} min{generating}, load average "
              f"{figures['load_before']:.2f} before the run. Wall times include interpreter start (and teardown); peak RSS is the scan "
              f"process and its children. Large cases: the least time of {runs} fresh process{'es' if runs > 1 else ''} each (floor and scan interleaved), "
              "the largest peak RSS. The machine is shared, so compare the ratios, not the seconds, across runs.")
    text = "\n".join([
        header, "",
        "### Goals", "", verdict_table(verdicts), "",
        f"Linearity subtracts the start-up every scan pays (the one-manifest scan, {fixed:.3f} s) before dividing by the objects."
        + (" `--quick` runs a tenth of the issue's sizes or less, a smoke test of the harness: a memory goal missed there can be the"
           " interpreter's own ~30 MiB over a few MiB of input; the goals are judged by the full run." if quick else ""), "",
        "### Small inputs", "", small_text, "",
        f"### Collected snapshot (JSON lists as `collect` writes them), scan to {SNAPSHOT_TARGET}", "",
        "Floor: `bench/floor.py --snapshot` (json.loads / CSafeLoader / bytes of the same files, kept, one process) with the garbage "
        "collector running, as plain `json.loads` has it, and paused (the scan pauses it while loading). Scan: `bench/scan_once.py` "
        "(the calls of `kupgrade-lint scan -o json --output-file`, phase by phase).", "",
        snapshot_table(snap, fixed), "",
        f"### Manifests repository, `scan --manifests DIR --current {MANIFESTS_PATH[0]} --target {MANIFESTS_PATH[1]} -o json`", "",
        "Floor: `bench/floor.py` (`yaml.load_all(CSafeLoader)` of each file, one process). "
        "The last row holds the same documents as the 100 % row in a tenth of the files (`bench/regroup_manifests.py`: "
        "the files appended in order, `---` between them; Kustomize's files, which the scan skips, left out).", "",
        manifests_table(mani, fixed), "",
        "### Live collection", "", figures["live_text"].strip(), "",
        "### Profile of the largest case", "", figures["profile_text"] or "not run (`--no-profile`).",
    ])
    return text, verdicts


def measure(args: argparse.Namespace) -> dict:
    """Run every case; the figures, as plain data (saved as JSON beside the inputs; ``--from-json`` renders them again)."""
    scale = QUICK if args.quick else FULL
    repeat = args.repeat or (3 if args.quick else 7)
    work = args.work_dir
    run_started = time.perf_counter()
    load_before = os.getloadavg()[0]
    source_dir, source_desc = prepare_source(args.source, work)
    source_args = ["--source", source_dir] if source_dir else []
    env = small._environment(work, source_dir)
    print(f"benchmarking {source_desc}", file=sys.stderr)

    print(f"small inputs, {repeat} runs each ...", file=sys.stderr, flush=True)
    timings, floor = small.measure(work, source_dir, repeat)
    print(small.table(timings, floor, repeat)[0] + "\n", file=sys.stderr, flush=True)
    figures: dict = {"quick": args.quick, "machine": machine(source_desc), "load_before": load_before,
                     "small": {"repeat": repeat, "timings": [asdict(t) for t in timings], "floor": asdict(floor)},
                     "runs": args.runs or (1 if args.quick else 2), "snapshot": [], "manifests": [], "live": None, "live_text": "not run (`--small-only`).", "profile_text": ""}
    if args.small_only:
        figures["minutes"] = (time.perf_counter() - run_started) / 60
        return figures

    runs = args.runs or (1 if args.quick else 2)
    snap = [snapshot_case(work, env, round(scale.objects * s), round(scale.nodes * s), s, args.seed, args.timeout, source_args, runs) for s in SHARES]
    mani = [manifests_case(work, env, round(scale.files * s), round(scale.documents * s), s, args.seed, args.timeout, runs) for s in SHARES]
    # Only its memory is judged (memory does not vary with the load on the machine): one run.
    mani.append(manifests_case(work, env, scale.flat_files, scale.documents, None, args.seed, args.timeout, 1, regroup=Path(mani[-1]["path"])))

    profile_text = ""
    largest = snap[-1]
    if not args.no_profile and "error" not in largest:
        dump = work / f"profile-snapshot-{largest['objects']}.pstats"
        print(f"profiling the {largest['objects']} object snapshot scan (cProfile) ...", file=sys.stderr, flush=True)
        result = run_process([sys.executable, str(BENCH / "scan_once.py"), "--snapshot", largest["path"], "--target", SNAPSHOT_TARGET,
                              "--report", str(work / "report-profile.json"), "--profile", str(dump), *source_args], env, args.timeout * 2, sample=False)
        profile_text = (f"profiling failed: {result['error']}" if "error" in result else
                        f"`bench/scan_once.py --snapshot` {largest['objects']:,} objects, {largest['nodes']:,} nodes, to {SNAPSHOT_TARGET}, "
                        f"{result['wall']:.1f} s wall under the profiler.\n\n" + profile_summary(dump))
    live_result, live_text = live_case(scale.live_objects, args.live_latency_ms)
    figures.update(snapshot=snap, manifests=mani, live=live_result, live_text=live_text, profile_text=profile_text,
                   minutes=(time.perf_counter() - run_started) / 60, generate_minutes=sum(r.get("generated_s", 0.0) for r in snap + mani) / 60)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes or less, 3 runs of each small case; implies --no-results")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work-dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "kupgrade-bench")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per process before it is killed (default 900)")
    parser.add_argument("--source", metavar="REV", help="benchmark this git revision (e.g. HEAD) instead of the working tree")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile run of the largest snapshot")
    parser.add_argument("--live-latency-ms", type=float, default=20.0, help="simulated API latency for bench/live.py (default 20)")
    parser.add_argument("--no-results", action="store_true", help="do not rewrite bench/RESULTS.md")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every goal is measured and met")
    parser.add_argument("--small-only", action="store_true", help="run only the small-input cases (one manifest, --help, rules); implies --no-results")
    parser.add_argument("--repeat", type=int, default=None, help="runs of each small-input case; the best counts (default 7, --quick 3)")
    parser.add_argument("--runs", type=int, default=None, help="runs of each large case (floor and scan, interleaved); the least time counts (default 2, --quick 1)")
    parser.add_argument("--from-json", type=Path, metavar="FILE", help="measure nothing: render the figures a run saved (WORK_DIR/last-run*.json)")
    args = parser.parse_args(argv)

    if args.from_json:
        figures = json.loads(args.from_json.read_text(encoding="utf-8"))
    else:
        args.work_dir.mkdir(parents=True, exist_ok=True)
        figures = measure(args)
        saved = args.work_dir / f"last-run{'-quick' if args.quick else ''}.json"
        saved.write_text(json.dumps(figures, indent=1, default=str), encoding="utf-8")
        print(f"figures saved in {saved}", file=sys.stderr)
    text, verdicts = render(figures)
    print(text)
    if not (args.no_results or figures["quick"] or args.small_only):
        RESULTS.write_text(rewrite_between(RESULTS.read_text(encoding="utf-8") if RESULTS.is_file() else "# Benchmark results\n", text), encoding="utf-8")
        print(f"\nwrote {RESULTS}", file=sys.stderr)
    return 1 if args.check and not all_met(verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
