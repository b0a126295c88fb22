"""``sim calibrate``: fit the uncertain rules to the observed record (ABC-SMC)."""

from __future__ import annotations

import argparse

import numpy as np

from sim.batch import Progress, make_executor
from sim.cli.sweep import add_executor_options, check_executor_options
from sim.history import calibrate as cal
from sim.history.abc import batch_map
from sim.history.origins import scenario_for
from sim.limits import MAX_GENERATIONS, MAX_POPULATION, check_count, check_seed


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sim calibrate`` to the command line."""
    parser = sub.add_parser(
        "calibrate", help="fit the uncertain parameters to the observed record (ABC-SMC)",
        description="Fit the uncertain rules (docs/CALIBRATION.md) to data/observed up to the "
                    "cut-off year with a batched ABC-SMC, and write "
                    "<out>/calibrate/<id>/: posterior.parquet, parameters.csv, "
                    "diagnostics.csv, fit.csv, marginals.png, pairs.png and manifest.json. "
                    "The shipped posterior (data/posterior) is replaced only with --install.",
    )
    parser.add_argument("scenario", nargs="?", default=None,
                        help="history scenario (default: the one written for the cut-off: "
                             "scenarios/history/2015-known-2017.yaml for 2017 and 2018, "
                             "2015.yaml for 2019 and later)")
    parser.add_argument("--observed", default=None, metavar="DIR",
                        help="observed-data folder (default: data/observed)")
    parser.add_argument("--cutoff", type=int, default=2019, metavar="YEAR",
                        help="last year fitted (default 2019; later years are left for the "
                             "hindcast)")
    parser.add_argument("--out", default="results", help="results root folder (default: results)")
    add_executor_options(parser)
    parser.add_argument("--seed", type=int, default=0, help="the fit's seed (default 0)")
    parser.add_argument("--population", type=int, default=2000, metavar="N",
                        help="particles per generation (default 2000)")
    parser.add_argument("--generations", type=int, default=12, metavar="G",
                        help="generations, the prior's included (default 12)")
    parser.add_argument("--install", action="store_true",
                        help="replace the shipped posterior, data/posterior, with this one")
    parser.add_argument("--no-plot", action="store_true", help="skip marginals.png and pairs.png")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or log lines")
    return parser


def main(args: argparse.Namespace) -> int:
    """Run ``sim calibrate``."""
    check_executor_options(args)
    check_seed("--seed", args.seed)
    check_count("--population", args.population, MAX_POPULATION, "MAX_POPULATION", least=10)
    check_count("--generations", args.generations, MAX_GENERATIONS, "MAX_GENERATIONS")
    scenario, observed = cal.load_inputs(args.scenario or scenario_for(args.cutoff),
                                         args.observed)
    cal.check_out(args.out)
    progress = Progress(None, 0, args.quiet, desc="calibrate")

    def log(generation) -> None:
        if not args.quiet:
            progress.write(cal.log_generation(generation))

    with make_executor(args.workers, args.scheduler) as executor, progress:
        calibration = cal.calibrate(
            scenario, observed, args.cutoff, population=args.population,
            generations=args.generations, seed=args.seed,
            map_chunks=batch_map(executor, progress), on_generation=log)
        description = executor.description or "in-process"
    run_info = {"executor": description, "workers": args.workers}
    folder = cal.write_results(calibration, scenario, args.observed, args.out, run_info,
                               plot=not args.no_plot)
    r = calibration.result
    print(f"{scenario.name}: {r.n_simulations:,} runs in {len(r.generations)} generations, "
          f"{calibration.seconds:.1f} s ({calibration.runs_per_second:,.0f} runs/s); "
          f"{r.stop_reason}")
    if not args.quiet:
        table = calibration.parameters()
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(f"fit: median distance {float(np.median(r.distances)):.4f} "
              f"(root mean square log ratio over {len(calibration.fit)} observations)")
    print(f"results: {folder}")
    if args.install:
        print(f"installed: {cal.install(folder)}")
    return 0
