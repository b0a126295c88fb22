"""``sim sweep``: run (or resume) a batch sweep from a sweep file."""

from __future__ import annotations

import argparse
import os

from sim.limits import MAX_WORKERS, check_count
from sim.sweep.runner import run_sweep
from sim.sweep.spec import load_sweep, numeric_paths


def add_executor_options(parser: argparse.ArgumentParser) -> None:
    """Add --workers and --scheduler: where a command that runs many runs runs them.

    The batch runner's executors (:mod:`sim.batch`: a local process pool or a Dask cluster)
    serve sweeps, calibration, hindcasts and policy searches alike.
    """
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="local worker processes (default: one per CPU; 1 runs in-process)")
    parser.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                        help="run on a Dask distributed cluster instead (pip install -e '.[dask]')")


def check_executor_options(args: argparse.Namespace) -> None:
    """Refuse a --workers count outside 1 to :data:`sim.limits.MAX_WORKERS` before any work."""
    if getattr(args, "scheduler", None) is None:
        check_count("--workers", args.workers, MAX_WORKERS, "MAX_WORKERS")


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sim sweep`` to the command line."""
    parser = sub.add_parser(
        "sweep", help="run a batch sweep (grid, random, latin, sobol, morris)",
        description="Run the sweep a sweep file describes and write results/<sweep name>/: "
                    "runs.parquet, summary.parquet, trajectories/ (if kept), sensitivity.csv "
                    "and sensitivity.png (Sobol, Morris), response.png and manifest.json. "
                    "A sweep started again with the same command computes only missing chunks.",
    )
    parser.add_argument("sweep", help="sweep YAML file, e.g. scenarios/sweeps/china_reaction.yaml")
    add_executor_options(parser)
    parser.add_argument("--out", default="results", help="results root folder (default: results)")
    parser.add_argument("--fresh", action="store_true",
                        help="discard an earlier sweep of the same name instead of resuming it")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--list-paths", action="store_true",
                        help="list the field paths this sweep's scenario lets you vary, and stop")
    return parser


def main(args: argparse.Namespace) -> int:
    """Run ``sim sweep``."""
    if args.list_paths:
        print("\n".join(numeric_paths(args.sweep)))
        return 0
    check_executor_options(args)
    plan = load_sweep(args.sweep)
    outcome = run_sweep(plan, out=args.out, workers=args.workers, scheduler=args.scheduler,
                        fresh=args.fresh, quiet=args.quiet)
    o = outcome
    reused = f", {o.chunks_reused} already done" if o.chunks_reused else ""
    diverged = f"; {o.n_diverged} runs diverged (NaN outputs)" if o.n_diverged else ""
    print(f"{plan.name}: {o.n_runs:,} runs ({o.n_samples:,} samples x "
          f"{plan.seeds_per_sample} seeds); computed {o.chunks_computed} of {o.chunks_total} "
          f"chunks{reused} in {o.seconds:.1f} s ({o.runs_per_second:,.0f} runs/s){diverged}")
    print(f"results: {o.folder}")
    return 0
