"""One full scan in this process, phase by phase, as ``kupgrade-lint scan -o json --output-file`` runs it.

Prints one JSON line on stdout: the seconds of each phase (imports, catalog, load, engine,
suppress, render), the findings count, and this process's peak RSS (getrusage ru_maxrss).
bench/run.py starts it once per case so that every case gets a fresh process and its own peak.

    python bench/scan_once.py --snapshot DIR --target 1.37 [--report FILE] [--profile FILE.pstats] [--tracemalloc] [--source DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _use_source(argv: list[str] | None) -> None:
    """Import kupgrade_lint from ``--source DIR`` when given (a checkout; bench/run.py --source), else this repo."""
    args = list(sys.argv[1:] if argv is None else argv)
    source = args[args.index("--source") + 1] if "--source" in args else str(REPO)
    sys.path.insert(0, source)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--snapshot", type=Path, required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--report", type=Path, default=Path("/dev/null"), help="where the JSON report goes (default /dev/null)")
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the whole scan here")
    parser.add_argument("--tracemalloc", action="store_true", help="also report the peak of Python allocations (slower)")
    parser.add_argument("--source", help="directory holding the kupgrade_lint package to benchmark (default: this repo)")
    args = parser.parse_args(argv)
    _use_source(argv)

    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()

    phases: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        phases[name] = round(now - t0, 3)
        t0 = now

    # The same calls, in the same order, as kupgrade_lint.cli.scan.
    from kupgrade_lint.catalog import load_catalog
    from kupgrade_lint.checks import ScanOptions
    from kupgrade_lint.config import Config
    from kupgrade_lint.engine import ScanRequest, scan as run_scan
    from kupgrade_lint.reporters import RENDERERS
    from kupgrade_lint.snapshot.loader import load_inputs
    from kupgrade_lint.suppress import apply_suppressions
    from kupgrade_lint.versions import KubeVersion

    lap("imports")
    config = Config()
    catalog = load_catalog(list(config.catalog))
    request = ScanRequest(target=KubeVersion.parse(args.target), options=ScanOptions(kubelet_strategy="last"))
    lap("catalog")
    inputs = load_inputs(args.snapshot, [])
    lap("load")
    report = run_scan(inputs, catalog, request)
    lap("engine")
    report = apply_suppressions(report, inputs, config.suppress, None)
    lap("suppress")
    with open(args.report, "w", encoding="utf-8") as stream:
        RENDERERS["json"](report, stream, False)
    lap("render")

    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    result = {
        "phases": phases,
        "objects": len(inputs.objects),
        "nodes": len(inputs.node_files),
        "hops": len(report.hops),
        "findings": len(report.findings),
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        # the loader's YAML worker processes (the largest one), alive only while loading
        "workers_maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }
    if args.tracemalloc:
        import tracemalloc

        result["tracemalloc_peak_bytes"] = tracemalloc.get_traced_memory()[1]
    import kupgrade_lint

    result["source"] = str(Path(kupgrade_lint.__file__).resolve().parent.parent)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
