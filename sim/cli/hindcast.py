"""``sim hindcast``: run the posterior ensemble over the record and score it (docs/HINDCAST.md)."""

from __future__ import annotations

import argparse

from sim.cli.sweep import add_executor_options, check_executor_options


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sim hindcast`` to the command line."""
    from sim.history.hindcast import DEFAULT_CUTOFF, DEFAULT_DRAWS

    parser = sub.add_parser(
        "hindcast", help="run the calibrated model over 2015-2024 and score it against the record",
        description="Run the history scenario over the posterior ensemble (one seed and one "
                    "posterior draw per replicate) and write results/hindcast/<id>/ with "
                    "observables.csv (model mean, 90% band and observation per year), skill.csv "
                    "(out-of-sample error of the model, persistence and a trend; MASE), a figure "
                    "per state and report.html.",
    )
    parser.add_argument("scenario", nargs="?", default=None,
                        help="history scenario YAML (default: the shipped "
                             "scenarios/history/2015.yaml)")
    parser.add_argument("--posterior", default=None, metavar="FILE|none",
                        help="posterior Parquet file (one column per field path, plus weight); "
                             "'none' runs the scenario as written over the seeds (default: the "
                             "shipped data/posterior/posterior.parquet)")
    parser.add_argument("--observed", default=None, metavar="DIR",
                        help="observed-data folder (default: the repository's data/observed)")
    parser.add_argument("--cutoff", type=int, default=DEFAULT_CUTOFF, metavar="YEAR",
                        help="last year of the calibration window; later years are out of "
                             "sample (default: %(default)s)")
    parser.add_argument("--draws", type=int, default=DEFAULT_DRAWS, metavar="N",
                        help="replicates, each with its own seed and posterior draw "
                             "(default: %(default)s)")
    parser.add_argument("--out", default="results", help="results root folder (default: results)")
    add_executor_options(parser)
    parser.add_argument("--no-plot", action="store_true", help="skip the figures")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar and no tables: print only the results folder")
    return parser


def main(args: argparse.Namespace) -> int:
    """Run ``sim hindcast``."""
    from sim.history.hindcast import DEFAULT_SCENARIO, plan_hindcast, run_hindcast, write_hindcast
    from sim.history.hindcast_report import summary_text
    from sim.whatif.uncertainty import DEFAULT_POSTERIOR

    check_executor_options(args)
    plan = plan_hindcast(args.scenario or DEFAULT_SCENARIO,
                         posterior=args.posterior or DEFAULT_POSTERIOR, observed=args.observed,
                         cutoff=args.cutoff, draws=args.draws)
    result = run_hindcast(plan, workers=args.workers, scheduler=args.scheduler, quiet=args.quiet)
    folder = write_hindcast(result, out=args.out, plot=not args.no_plot)
    if not args.quiet:
        print(summary_text(result))
        runs_per_second = plan.n_draws / result.seconds if result.seconds > 0 else float("nan")
        print(f"{plan.n_draws} runs in {result.seconds:.1f} s ({runs_per_second:,.0f} runs/s)")
    print(f"results: {folder}")
    return 0
