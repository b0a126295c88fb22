"""``sim compare``: run scenarios over the same seeds and compare them with the first."""

from __future__ import annotations

import argparse

from sim.cli.run import (
    add_at_option,
    add_scenario_options,
    add_uncertainty_option,
    add_weighting_option,
    weighted_region,
)
from sim.decide.weighting import check_option
from sim.limits import check_replicates
from sim.scenario import load_scenario
from sim.scenario.calendar import quarter_labels, step_at
from sim.uncertainty.draws import plan_draws, resolve
from sim.whatif.compare import (
    CompareError,
    compare_scenarios,
    distinct_labels,
    format_table,
    write_comparison,
)


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sim compare`` to the command line."""
    parser = sub.add_parser(
        "compare", help="compare scenarios over the same seeds",
        description="Run two or more scenarios over the same seeds and compare each with the "
                    "first: one figure per state (trajectories with bands, and the paired "
                    "difference), a table of the last quarter with the difference and its 90% "
                    "interval. Writes OUT/compare/<names>-<hash>/.",
    )
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                        help="scenario YAML files; the first is the reference")
    add_scenario_options(parser)
    parser.add_argument("--replicates", type=int, default=30, metavar="N",
                        help="seeds per scenario, the same for every scenario (default 30)")
    add_uncertainty_option(parser)
    parser.add_argument("--metric", default="share",
                        choices=("share", "footprint", "goodwill", "diplomatic"),
                        help="quantity to compare: influence share (default), economic "
                             "footprint, goodwill or diplomatic capital")
    add_at_option(parser, "the printed table")
    parser.add_argument("--out", default="results", help="results root folder (default: results)")
    parser.add_argument("--no-plot", action="store_true", help="skip the figures")
    parser.add_argument("--quiet", action="store_true", help="print only the results folder")
    add_weighting_option(parser)
    return parser


def main(args: argparse.Namespace) -> int:
    """Run ``sim compare``."""
    if len(args.scenarios) < 2:
        raise CompareError("give at least two scenario files (the first is the reference)")
    check_replicates(args.replicates, 0)  # before any draw is made (the seeds: once loaded)
    scenarios = [load_scenario(path, args.overrides, seed=args.seed, steps=args.steps)
                 for path in args.scenarios]
    if args.at is not None:  # a bad quarter fails before anything runs
        step_at(quarter_labels(scenarios[0].start, scenarios[0].steps), args.at)
    labels = distinct_labels(scenarios, args.scenarios)
    if args.weighting is not None:  # a bad weighting fails before anything runs

        check_option(scenarios[0], args.weighting)
    uncertainty = resolve(args.uncertainty, args.replicates)
    draws = None
    if uncertainty.kind != "none":
        paired = [s.model_copy(update={"seed": scenarios[0].seed}) for s in scenarios]
        draws = plan_draws(uncertainty, paired, args.scenarios, args.replicates,
                           args.overrides, compared=True)
    comparison = compare_scenarios(scenarios, replicates=args.replicates, metric=args.metric,
                                   labels=labels, draws=draws)
    folder = write_comparison(comparison, out=args.out, plot=not args.no_plot)
    if not args.quiet:
        print(format_table(comparison, at=args.at))
        lines = weighted_region(args, comparison.scenarios, comparison.recordings,
                                comparison.labels)
        if lines:
            print("\n" + "\n".join(lines))
    print(f"results: {folder}")
    return 0
