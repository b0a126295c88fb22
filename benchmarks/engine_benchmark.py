"""Benchmark the engine against the Mesa model, side by side in one process.

Times one 40-step run through the Mesa model, the same run through the engine, and a
10,000-run batch, side by side in one process; then `sim run` on the default scenario.

Usage: python benchmarks/engine_benchmark.py [--runs 10000] [--repeat 3]

Prints a table of runs per second (best of --repeat) and the ratios the foundation issue names:
the batch reaches at least 20,000 runs of 40 steps per second and at least 30 times the runs per
second of stepping the Mesa model; `sim run` finishes in under 3 seconds wall time. The CPU
time of `sim run` is printed beside its wall time, and the load average at the start and the
end: on a shared machine the wall time grows with the load, the CPU time much less.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.engine import compile_scenario, make_batch, repeat, simulate  # noqa: E402
from sim.model import InfluenceModel  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

SCENARIO = ROOT / "scenarios" / "baseline.yaml"
LOAD_BEFORE = os.getloadavg()
"""The machine's load average when the benchmark starts (a busy machine runs slower)."""


def best(fn, repeats: int) -> float:
    """Best wall time of ``repeats`` calls, seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def children_cpu() -> float:
    """CPU seconds (user + system) used so far by this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scenario = load_scenario(SCENARIO)
    structure, params = compile_scenario(scenario)
    steps = scenario.steps

    def mesa_runs(n: int = 20) -> None:
        for seed in range(n):
            model = InfluenceModel(scenario, seed=seed)
            for _ in range(steps):
                model.step()

    def engine_runs(n: int = 20) -> None:
        for seed in range(n):
            simulate(make_batch(structure, params, [seed], record_reactions=False))

    big = make_batch(structure, repeat(params, args.runs), np.arange(args.runs),
                     record_reactions=False)

    rows = [
        ("Mesa model, one run at a time", 20, best(mesa_runs, args.repeat)),
        ("engine alone, one run at a time", 20, best(engine_runs, args.repeat)),
        (f"engine, {args.runs:,} runs as one batch", args.runs,
         best(lambda: simulate(big), args.repeat)),
    ]
    mesa_rate = rows[0][1] / rows[0][2]
    load = " ".join(f"{x:.2f}" for x in LOAD_BEFORE)
    print(f"{steps}-step runs of {SCENARIO.name} ({scenario.precision}), best of {args.repeat}; "
          f"load average before start {load} on {os.cpu_count()} CPUs")
    print(f"{'what':<40}{'runs':>8}{'seconds':>10}{'runs/s':>12}{'x Mesa':>9}")
    for name, n, seconds in rows:
        rate = n / seconds
        print(f"{name:<40}{n:>8,}{seconds:>10.3f}{rate:>12,.0f}{rate / mesa_rate:>9.1f}")

    cli, cpu = [], []
    for _ in range(args.repeat):
        start, used = time.perf_counter(), children_cpu()
        subprocess.run([sys.executable, "-m", "sim", "run", str(SCENARIO), "--out",
                        "/tmp/sim-benchmark", "--quiet"], cwd=ROOT, check=True,
                       capture_output=True)
        cli.append(time.perf_counter() - start)
        cpu.append(children_cpu() - used)
    print(f"{'sim run baseline.yaml (wall, with start-up)':<40}{1:>8}{min(cli):>10.3f}")
    print(f"{'the same, CPU time (user + sys)':<40}{1:>8}{min(cpu):>10.3f}")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at the end {load} (wall times above CPU times: other work on the "
          "machine)")
    batch_rate = rows[2][1] / rows[2][2]
    print(f"targets: batch >= 20,000 runs/s: {'met' if batch_rate >= 20_000 else 'NOT met'}; "
          f"batch >= 30 x Mesa: {'met' if batch_rate >= 30 * mesa_rate else 'NOT met'}; "
          f"sim run < 3 s: {'met' if min(cli) < 3 else 'NOT met'}")


if __name__ == "__main__":
    main()
