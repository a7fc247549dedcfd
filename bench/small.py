"""The small-input cases: one manifest, ``--help``, ``rules`` — each in a fresh process, beside the floor.

The floor is ``python3 -c 'import yaml, json'`` run the same way in the same run: an interpreter
start plus the two parsers, the least any run of the tool can cost. Each case runs ``repeat``
times after one warm-up run and the best wall time counts (the machine is shared; the best run
is the one least disturbed). Byte code is cached under the work directory
(``PYTHONPYCACHEPREFIX``), as an installed wheel has it, even when the environment says
``PYTHONDONTWRITEBYTECODE``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

GOAL_SECONDS = 0.3
MANIFEST = """\
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: web
  namespace: default
spec:
  backend:
    serviceName: web
    servicePort: 80
"""


@dataclass(frozen=True)
class Timing:
    name: str
    best: float
    median: float
    cpu: float


def _environment(work: Path, source: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source or str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH")) if p)
    return env


def _time(cmd: list[str], cwd: Path, env: dict[str, str], repeat: int) -> tuple[float, float, float]:
    """(best wall, median wall, least CPU) seconds of ``repeat`` runs after a warm-up run."""
    walls, cpus = [], []
    for i in range(repeat + 1):
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        err = proc.stderr.read().decode(errors="replace")  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):  # 1: the scan found something at or above --fail-on
            raise RuntimeError(f"{' '.join(cmd)}: exit {code}: {err.strip()[-300:]}")
        if i:  # the first run is the warm-up (it writes the byte code cache)
            walls.append(wall)
            cpus.append(usage.ru_utime + usage.ru_stime)
    return min(walls), statistics.median(walls), min(cpus)


def measure(work: Path, source: str | None, repeat: int = 7) -> tuple[list[Timing], Timing]:
    """(the cases, the floor), each timed ``repeat`` times in fresh processes."""
    cwd = work / "small"
    cwd.mkdir(parents=True, exist_ok=True)  # no .kupgrade-lint.yaml here: the defaults apply
    manifest = cwd / "one.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    env = _environment(work, source)
    tool = [sys.executable, "-m", "kupgrade_lint"]
    cases = {
        "scan --manifests one.yaml --current v1.20.15 --target v1.22.17 -o json": [*tool, "scan", "--manifests", str(manifest), "--current", "v1.20.15", "--target", "v1.22.17", "-o", "json"],
        "--help": [*tool, "--help"],
        "rules": [*tool, "rules"],
    }
    floor = Timing("python3 -c 'import yaml, json'", *_time([sys.executable, "-c", "import yaml, json"], cwd, env, repeat))
    timings = [Timing(name, *_time(cmd, cwd, env, repeat)) for name, cmd in cases.items()]
    return timings, floor


def table(timings: list[Timing], floor: Timing, repeat: int) -> tuple[str, bool]:
    lines = [
        f"Best and median of {repeat} runs each (after one warm-up run), wall time including interpreter start. "
        f"Floor: `{floor.name}` in the same run, best {floor.best:.3f} s, median {floor.median:.3f} s, CPU {floor.cpu:.3f} s. "
        "CPU (user + system, least of the runs) varies less than wall time on a shared machine.",
        "",
        f"| case | best wall s | median wall s | CPU s | floor best wall s | ratio to floor | goal: < {GOAL_SECONDS:g} s wall | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    all_met = True
    for t in timings:
        met = t.best < GOAL_SECONDS
        all_met &= met
        lines.append(f"| `kupgrade-lint {t.name}` | {t.best:.3f} | {t.median:.3f} | {t.cpu:.3f} | {floor.best:.3f} | {t.best / floor.best:.1f}× | < {GOAL_SECONDS:g} s | {'yes' if met else '**no**'} |")
    return "\n".join(lines), all_met
