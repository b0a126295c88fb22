"""``sim hindcast``: run the posterior ensemble over the record and score it (docs/HINDCAST.md)."""

from __future__ import annotations

import argparse

from sim.cli.sweep import add_executor_options, check_executor_options
from sim.history.hindcast import (
    DEFAULT_CUTOFFS,
    DEFAULT_DRAWS,
    SHIPPED_POSTERIORS,
    HindcastError,
    plan_hindcast,
    run_hindcast,
    write_hindcast,
)
from sim.history.hindcast_report import rolling_origin_text, summary_text
from sim.history.origins import scenario_for


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sim hindcast`` to the command line."""
    parser = sub.add_parser(
        "hindcast", help="run the calibrated model over 2015-2024 and score it against the record",
        description="Run the history scenario over the posterior ensemble (one seed and one "
                    "posterior draw per replicate) and write results/hindcast/<id>/ with "
                    "observables.csv (model mean, 90% band and observation per year), skill.csv "
                    "(out-of-sample error of the model, persistence and a trend; relative MAE "
                    "with a 90% bootstrap interval), a figure per state and report.html, for "
                    "each cut-off (by default 2017 and 2019, each with its own shipped fit).",
    )
    parser.add_argument("scenario", nargs="?", default=None,
                        help="history scenario YAML (default: for each cut-off the one "
                             "written for it: scenarios/history/2015-known-2017.yaml for 2017, "
                             "2015.yaml for 2019)")
    parser.add_argument("--posterior", default=None, metavar="FILE|none",
                        help="posterior Parquet file (one column per field path, plus weight, "
                             "with the manifest.json `sim calibrate` writes beside it); 'none' "
                             "runs the scenario as written over the seeds (default: for each "
                             "cut-off the shipped posterior fitted through it: "
                             "data/posterior-2017/ for 2017, data/posterior/ for 2019)")
    parser.add_argument("--observed", default=None, metavar="DIR",
                        help="observed-data folder (default: the repository's data/observed)")
    parser.add_argument("--cutoff", type=int, nargs="+", default=list(DEFAULT_CUTOFFS),
                        metavar="YEAR",
                        help="last year of the calibration window, one or more (a rolling "
                             "origin); later years are out of sample; a posterior fitted past "
                             "a cut-off is refused (default: 2017 2019)")
    parser.add_argument("--draws", type=int, default=DEFAULT_DRAWS, metavar="N",
                        help="replicates, each with its own seed and posterior draw "
                             "(default: %(default)s)")
    parser.add_argument("--out", default="results", help="results root folder (default: results)")
    add_executor_options(parser)
    parser.add_argument("--no-plot", action="store_true", help="skip the figures")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar and no tables: print only the results folder")
    return parser


def shipped_posterior(cutoff: int):
    """The shipped posterior fitted through ``cutoff``, or a HindcastError saying there is none."""
    if cutoff not in SHIPPED_POSTERIORS:
        years = " and ".join(str(y) for y in SHIPPED_POSTERIORS)
        raise HindcastError(
            f"--cutoff {cutoff}: no shipped posterior is fitted through {cutoff} (shipped: "
            f"{years}); run `sim calibrate --cutoff {cutoff}` and give its posterior with "
            "--posterior FILE, or give --posterior none")
    return SHIPPED_POSTERIORS[cutoff]


def main(args: argparse.Namespace) -> int:
    """Run ``sim hindcast``: every cut-off is checked before any runs."""
    check_executor_options(args)
    cutoffs = sorted(set(args.cutoff))
    plans = [plan_hindcast(args.scenario or scenario_for(cutoff),
                           posterior=args.posterior or shipped_posterior(cutoff),
                           observed=args.observed, cutoff=cutoff, draws=args.draws)
             for cutoff in cutoffs]
    results = []
    for plan in plans:
        result = run_hindcast(plan, workers=args.workers, scheduler=args.scheduler,
                              quiet=args.quiet)
        folder = write_hindcast(result, out=args.out, plot=not args.no_plot)
        results.append(result)
        if not args.quiet:
            print(summary_text(result))
            runs_per_second = (plan.n_draws / result.seconds if result.seconds > 0
                               else float("nan"))
            print(f"{plan.n_draws} runs in {result.seconds:.1f} s ({runs_per_second:,.0f} "
                  "runs/s)")
        print(f"results: {folder}")
    if len(results) > 1 and not args.quiet:
        print(rolling_origin_text(results))
    return 0
