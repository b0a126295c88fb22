"""Sweep speed and memory, side by side in one run.

First, the batch runner's overhead (issue 19, item 6), measured alternately so both sides of
each ratio see the same load:

a. a 100,000-run summaries-only ``sim sweep`` in one process (``--workers 1``, wall time of
   ``run_sweep``: chunks, Parquet parts, merged files, plot, manifest) against the engine's own
   batch time for the same runs (the same parameter values and seeds, in the sweep's chunks of
   4,096 runs, ``make_batch`` and ``simulate`` only): the sweep's time per run over the
   engine's (target: at most 1.3);
b. the same sweep on 2 workers against 1 (target: a speed-up of at least 1.8), beside the
   engine alone in two processes at once against one, in the same round: what this machine
   gives two processes at best (its two cores share a cache and a memory bus).

Then the rows (all over the 40-step baseline, keeping summaries only):

1. the engine advancing one batch of 10,000 runs in one process (no chunks, no files), and
   the engine alone in two processes at once (what two workers could do at best right now);
2. ``sim sweep`` with ``--workers 2`` (local process pool), wall time of the whole sweep:
   pool start, chunks, Parquet parts, merged files, plot and manifest (best of two);
3. ``sim sweep`` with ``--workers 1`` (in-process), for reference;
4. ``mesa.batch_run`` over :class:`sim.model.InfluenceModel` with the same parameter values and
   seeds as the sweep's first runs (``number_processes=2``). batch_run runs one step more than
   ``max_steps``, so ``max_steps=39`` gives 40 steps; its ``iterations`` do not vary the seed,
   so each run's seed is passed with its parameter values in one ``overrides`` list (one model
   per list item, no cross product);
5. a 1,000,000-run summaries-only sweep (``--workers 2``) in a child process, with the peak
   resident memory of its main process and of its largest worker;
6. ``sim calibrate --workers 2`` with the shipped settings (the history scenario, 2,000
   particles, 12 generations, docs/CALIBRATION.md): simulated runs per second during the
   ABC-SMC, and the wall time of the whole command (issue 11: under 5 minutes, at least
   100,000 runs).

Usage::

    python benchmarks/sweep_benchmark.py             # everything (about 2 minutes)
    python benchmarks/sweep_benchmark.py --quick     # smaller sizes, no million-run sweep
    python benchmarks/sweep_benchmark.py --calibration-only   # row 6 alone (about a minute)
    python benchmarks/sweep_benchmark.py --overhead-only      # the two ratios alone

The machine's load average is printed: other processes on the 2 cores slow every row.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASELINE = ROOT / "scenarios" / "baseline.yaml"
PARAMETERS = {
    "powers.china.reaction.japan.sensitivity": {"bounds": [0.0, 4.0]},
    "powers.russia.reaction.japan.sensitivity": {"bounds": [0.0, 3.0]},
}


def sweep_data(name: str, runs: int, seeds: int = 10) -> dict:
    """Describe a random-design sweep over China's and Russia's reaction to Japan."""
    return {"name": name, "scenario": str(BASELINE), "design": "random", "samples": runs // seeds,
            "seeds": seeds, "seed": 1, "parameters": PARAMETERS}


def engine_one_batch(runs: int = 10_000, repeats: int = 3) -> float:
    """Time the engine advancing one batch in one process (best of repeats)."""
    from sim.engine import compile_scenario, make_batch, repeat, simulate
    from sim.scenario import load_scenario

    structure, params = compile_scenario(load_scenario(BASELINE))
    batch = make_batch(structure, repeat(params, runs), np.arange(runs), record_reactions=False)
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        simulate(batch, on_divergence="flag")
        best = max(best, runs / (time.perf_counter() - start))
    return best


def engine_for(seconds: float, runs: int) -> float:
    """Advance batches of ``runs`` runs for about ``seconds``; runs per second."""
    from sim.engine import compile_scenario, make_batch, repeat, simulate
    from sim.scenario import load_scenario

    structure, params = compile_scenario(load_scenario(BASELINE))
    batch = make_batch(structure, repeat(params, runs), np.arange(runs), record_reactions=False)
    simulate(batch, on_divergence="flag")
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        simulate(batch, on_divergence="flag")
        done += runs
    return done / (time.perf_counter() - start)


def engine_two_processes(runs: int = 4096, seconds: float = 6.0, processes: int = 2) -> float:
    """Run the engine alone in ``processes`` processes at once, no sweep machinery.

    With two, this is the most two workers could do on this machine right now (runs per
    second, added).
    """
    command = [sys.executable, __file__, "--engine-rate", str(runs), str(seconds)]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
             for _ in range(processes)]
    return sum(float(p.communicate()[0].strip()) for p in procs)


def sweep_speed(out: Path, runs: int, workers: int, repeats: int = 2) -> tuple[float, float]:
    """Time a whole sweep (best of ``repeats``, each from scratch with ``--fresh``).

    Returns:
        Runs per second over the wall time of ``run_sweep`` (pool start, chunks, files,
        merged tables, plot, manifest), and over its computing part only.

    """
    from sim.sweep import build_plan, run_sweep

    plan = build_plan(sweep_data(f"bench_w{workers}", runs))
    best = (0.0, 0.0)
    for _ in range(repeats):
        start = time.perf_counter()
        outcome = run_sweep(plan, out=out, workers=workers, fresh=True, quiet=True)
        wall = time.perf_counter() - start
        best = max(best, (outcome.n_runs / wall, outcome.runs_per_second))
    return best


def engine_same_runs(plan) -> tuple[float, float]:
    """Seconds the engine takes for a sweep's runs: same values and seeds, in its chunks.

    Returns wall seconds and this process's CPU seconds (``time.process_time``: what a loaded
    machine disturbs least).

    Only ``make_batch`` and ``simulate`` are timed (no summaries, no tables, no files); each
    chunk's parameters are built as the sweep's worker builds them, outside the clock.
    """
    from sim.batch.cache import compiled
    from sim.engine import make_batch, simulate
    from sim.engine.params import take
    from sim.sweep import layout
    from sim.sweep.runner import _tasks
    from sim.sweep.sampling import sample
    from sim.sweep.worker import sample_params

    values = sample(plan.spec)
    chunks = layout.chunks(len(values), plan.chunk_samples, plan.spec.seeds)
    seconds = cpu = 0.0
    for task in _tasks(plan, values, chunks):
        chunk_task = task.payload
        structure, base = compiled(chunk_task.key, chunk_task.scenario)
        chunk = chunk_task.chunk
        params = take(sample_params(chunk_task, base),
                      np.repeat(np.arange(chunk.n_samples), chunk.seeds_per_sample))
        seeds = layout.run_seeds(chunk_task.sweep_seed, chunk.run_ids)
        start, start_cpu = time.perf_counter(), time.process_time()
        simulate(make_batch(structure, params, seeds, record_reactions=False),
                 on_divergence="flag")
        seconds += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
    return seconds, cpu


def overhead(out: Path, runs: int = 100_000, repeats: int = 7) -> dict:
    """The batch runner's two ratios, measured in alternating rounds.

    Each round times the engine alone, the sweep on 1 worker and on 2, one after another, and
    forms both ratios from that round's own times: a pair of times minutes apart on a shared
    or throttled machine is not a ratio. The ratios are then summarised over the rounds
    (median, and the lowest and highest).

    Returns:
        ``rounds``: per round a dict of wall seconds (``engine``, ``sweep_1``, ``sweep_2``) and
        CPU seconds of this process (``engine_cpu``, ``sweep_1_cpu``); the engine's own
        speed-up in two processes over one (``engine_scaling``); and ``runs``.

    """
    from sim.sweep import build_plan, run_sweep

    plan = build_plan(sweep_data("bench_overhead", runs))
    engine_same_runs(plan)  # compile and warm up once
    run_sweep(plan, out=out / "warm-up", workers=1, quiet=True)  # imports, first figure
    rounds = []
    for repeat in range(repeats):
        wall, cpu = engine_same_runs(plan)
        times = {"engine": wall, "engine_cpu": cpu}
        for workers in (1, 2):
            # Each timed sweep writes a folder that does not exist yet, as the first run of a
            # sweep does: deleting the last one's files (--fresh) is not the sweep's work.
            root = out / f"workers-{workers}-{repeat}"
            start, start_cpu = time.perf_counter(), time.process_time()
            run_sweep(plan, out=root, workers=workers, quiet=True)
            times[f"sweep_{workers}"] = time.perf_counter() - start
            if workers == 1:
                times["sweep_1_cpu"] = time.process_time() - start_cpu
            shutil.rmtree(root)
        # The machine's own ceiling for (b) in this round: the engine alone (no sweep) in two
        # processes at once over one, in the sweep's chunks of 4,096 runs.
        times["engine_scaling"] = (engine_two_processes(4096, 2.0, 2)
                                   / engine_two_processes(4096, 2.0, 1))
        rounds.append(times)
    return {"rounds": rounds, "runs": plan.spec.samples * plan.spec.seeds}


def print_overhead(ratios: dict) -> None:
    """Print the two ratios of the batch runner's overhead, with their targets.

    Each ratio is the median over the rounds of that round's own ratio, with the lowest and
    highest beside it; the target is judged on the median.
    """
    runs, rounds = ratios["runs"], ratios["rounds"]
    per_run = [r["sweep_1"] / r["engine"] for r in rounds]
    per_run_cpu = [r["sweep_1_cpu"] / r["engine_cpu"] for r in rounds]
    speedup = [r["sweep_1"] / r["sweep_2"] for r in rounds]
    scaling = [r["engine_scaling"] for r in rounds]

    def median(key: str) -> float:
        return float(np.median([r[key] for r in rounds]))

    print(f"{len(rounds)} rounds; each ratio: the median of the rounds' own ratios "
          "(lowest-highest)")
    rows = [
        (f"engine alone, the sweep's {runs:,} runs, chunks of 4,096", runs / median("engine")),
        (f"sim sweep --workers 1, {runs:,} runs (wall)", runs / median("sweep_1")),
        (f"sim sweep --workers 2, {runs:,} runs (wall)", runs / median("sweep_2")),
    ]
    print(f"| {'what':<58} | {'median':>8} | {'range':>11} | {'target':>8} | {'met':>3} |")
    print(f"|{'-' * 60}|{'-' * 10}|{'-' * 13}|{'-' * 10}|{'-' * 5}|")
    for what, value in rows:
        print(f"| {what:<58} | {value:>8,.0f} | {'runs/s':>11} | {'':>8} | {'':>3} |")
    for what, values, target, met in (
            ("(a) sweep --workers 1 time per run / engine time per run", per_run, "<= 1.3x",
             lambda m: m <= 1.3),
            ("    the same in CPU seconds of the process", per_run_cpu, "<= 1.3x",
             lambda m: m <= 1.3),
            ("(b) sweep --workers 2 speed-up over --workers 1", speedup, ">= 1.8x",
             lambda m: m >= 1.8),
            ("    the engine alone, 2 processes over 1 (the ceiling)", scaling, "", None)):
        m = float(np.median(values))
        spread = f"{min(values):.2f}-{max(values):.2f}"
        verdict = "" if met is None else "yes" if met(m) else "NO"
        print(f"| {what:<58} | {m:>7.2f}x | {spread:>11} | {target:>8} | {verdict:>3} |")


def mesa_speed(out: Path, runs: int) -> float:
    """Time mesa.batch_run over the same model and the sweep's first runs."""
    import pandas as pd
    from mesa.batchrunner import batch_run

    from sim.model import InfluenceModel
    from sim.scenario import load_scenario

    table = pd.read_parquet(out / "bench_w2" / "runs.parquet").head(runs)
    overrides = [
        {**{path: float(row[path]) for path in PARAMETERS}, "seed": int(row["seed"])}
        for _, row in table.iterrows()
    ]
    scenario = load_scenario(BASELINE)
    start = time.perf_counter()
    results = batch_run(InfluenceModel, parameters={"scenario": [scenario], "overrides": overrides},
                        iterations=1, max_steps=39, number_processes=2,
                        data_collection_period=-1, display_progress=False)
    seconds = time.perf_counter() - start
    assert len({r["RunId"] for r in results}) == runs
    return runs / seconds


MILLION_DRIVER = """
import json, sys, time
sys.path.insert(0, {root!r})
from sim.sweep import build_plan, run_sweep
if __name__ == "__main__":
    plan = build_plan(json.loads({data!r}))
    start = time.perf_counter()
    outcome = run_sweep(plan, out={out!r}, workers=2, fresh=True, quiet=True)
    wall = time.perf_counter() - start
    print(json.dumps({{"runs": outcome.n_runs, "wall": wall,
                      "main_mb": outcome.main_peak_rss_mb,
                      "worker_mb": outcome.worker_peak_rss_mb}}))
"""


def million(out: Path, runs: int) -> dict:
    """Run a summaries-only sweep in a child process; its time and peak memory."""
    data = json.dumps(sweep_data("bench_million", runs))
    code = MILLION_DRIVER.format(root=str(ROOT), data=data, out=str(out))
    script = out / "million_driver.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def calibration_speed(out: Path, quick: bool = False) -> dict:
    """Run ``sim calibrate --workers 2`` (shipped settings; smaller with ``quick``).

    Returns:
        ``runs`` simulated, ``abc_seconds`` and ``runs_per_second`` of the ABC-SMC (from the
        manifest), and ``wall`` seconds of the whole command (start-up and files included).

    """
    from sim.cli.main import main as sim_main

    size = ["--population", "500", "--generations", "6"] if quick else []
    start = time.perf_counter()
    code = sim_main(["calibrate", "--workers", "2", "--out", str(out), "--no-plot", "--quiet",
                     *size])
    wall = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"sim calibrate failed with status {code}")
    manifest = json.loads(next((out / "calibrate").glob("*/manifest.json")).read_text())
    return {"runs": manifest["n_simulations"], "abc_seconds": manifest["seconds"],
            "runs_per_second": manifest["runs_per_second"], "wall": wall}


def print_calibration(calibration: dict) -> None:
    """Print the calibration row (and its targets)."""
    runs, wall = calibration["runs"], calibration["wall"]
    met = "yes" if runs >= 100_000 and wall < 300 else "NO"
    label = f"sim calibrate --workers 2: {runs:,} runs, {wall:.0f} s wall"
    print(f"| {label:<58} | {calibration['runs_per_second']:>9,.0f} "
          f"| {'>=100k, <5m':>10} | {met:>3} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200_000, help="runs of the timed sweeps")
    parser.add_argument("--mesa-runs", type=int, default=200, help="runs given to batch_run")
    parser.add_argument("--million", type=int, default=1_000_000,
                        help="runs of the memory sweep (0 to skip)")
    parser.add_argument("--quick", action="store_true", help="40,000 runs, no memory sweep")
    parser.add_argument("--calibration-only", action="store_true",
                        help="time sim calibrate alone (row 6)")
    parser.add_argument("--overhead-only", action="store_true",
                        help="the batch runner's two overhead ratios alone")
    parser.add_argument("--overhead-runs", type=int, default=100_000,
                        help="runs of the overhead sweep (default 100,000)")
    parser.add_argument("--engine-rate", nargs=2, type=float, metavar=("RUNS", "SECONDS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_rate:
        print(engine_for(args.engine_rate[1], int(args.engine_rate[0])))
        return 0
    if args.quick:
        args.runs, args.mesa_runs, args.million = 40_000, 60, 0
    load = os.getloadavg()
    if args.overhead_only:
        with tempfile.TemporaryDirectory(prefix="overhead-bench-") as tmp:
            ratios = overhead(Path(tmp), args.overhead_runs)
        after = os.getloadavg()
        print(f"Batch runner overhead: 40-step baseline, summaries only; {os.cpu_count()} CPUs, "
              f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} before, "
              f"{after[0]:.2f} {after[1]:.2f} {after[2]:.2f} after")
        print()
        print_overhead(ratios)
        return 0
    if args.calibration_only:
        with tempfile.TemporaryDirectory(prefix="calibrate-bench-") as tmp:
            calibration = calibration_speed(Path(tmp), args.quick)
        print(f"Calibration benchmark: {os.cpu_count()} CPUs, load average before start "
              f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        print_calibration(calibration)
        return 0
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        out = Path(tmp)
        ratios = overhead(out, args.overhead_runs)
        calibration = calibration_speed(out, args.quick)
        engine = engine_one_batch()
        ceiling = engine_two_processes()
        pool_wall, pool_compute = sweep_speed(out, args.runs, workers=2)
        one_wall, _ = sweep_speed(out, args.runs, workers=1)
        mesa = mesa_speed(out, args.mesa_runs)
        memory = million(out, args.million) if args.million else None
    rows = [
        ("engine, one batch of 10,000 runs, 1 process", engine, "", ""),
        ("engine alone in 2 processes at once, batches of 4,096", ceiling, "", ""),
        (f"sim sweep --workers 2, {args.runs:,} runs (wall)", pool_wall, ">= 40,000",
         "yes" if pool_wall >= 40_000 else "NO"),
        ("  (its computing part only)", pool_compute, "", ""),
        (f"sim sweep --workers 1, {args.runs:,} runs (wall)", one_wall, "", ""),
        (f"mesa.batch_run, 2 processes, {args.mesa_runs} of the same runs", mesa, "", ""),
    ]
    print(f"Sweep benchmark: 40-step baseline, summaries only; {os.cpu_count()} CPUs, "
          f"load average before start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print()
    print_overhead(ratios)
    print()
    print(f"| {'what':<58} | {'runs/s':>9} | {'target':>10} | {'met':>3} |")
    print(f"|{'-' * 60}|{'-' * 11}|{'-' * 12}|{'-' * 5}|")
    for what, value, target, met in rows:
        print(f"| {what:<58} | {value:>9,.0f} | {target:>10} | {met:>3} |")
    ratio_mesa = pool_wall / mesa
    ratio_engine = pool_wall / engine
    print(f"| {'sweep --workers 2 / mesa.batch_run':<58} | {ratio_mesa:>8,.0f}x | {'>= 50x':>10} "
          f"| {'yes' if ratio_mesa >= 50 else 'NO':>3} |")
    print(f"| {'sweep --workers 2 / engine one batch one process':<58} | {ratio_engine:>8.2f}x "
          f"| {'>= 0.5x':>10} | {'yes' if ratio_engine >= 0.5 else 'NO':>3} |")
    if memory:
        rate = memory["runs"] / memory["wall"]
        main_mb, worker_mb = memory["main_mb"], memory["worker_mb"]
        label = f"{memory['runs']:,}-run sweep, --workers 2 (wall)"
        print(f"| {label:<58} | {rate:>9,.0f} "
              f"| {'':>10} | {'':>3} |")
        print(f"| {'  peak RSS, main process (MB)':<58} | {main_mb:>9,.0f} | {'< 1024':>10} "
              f"| {'yes' if main_mb < 1024 else 'NO':>3} |")
        print(f"| {'  peak RSS, largest worker process (MB)':<58} | {worker_mb:>9,.0f} "
              f"| {'< 1024':>10} | {'yes' if worker_mb < 1024 else 'NO':>3} |")
    print_calibration(calibration)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
