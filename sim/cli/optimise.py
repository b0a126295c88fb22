"""``sim optimise`` (alias ``sim optimize``): a robust search for a power's best policy."""

from __future__ import annotations

import argparse

from sim.cli.sweep import add_executor_options, check_executor_options


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sim optimise`` (and its alias ``sim optimize``) to the command line."""
    parser = sub.add_parser(
        "optimise", aliases=["optimize"],
        help="search a power's best spend per state and kind of move, robust to uncertainty",
        description="Robust policy search (pymoo): evaluate whole populations of candidate "
                    "policies x uncertainty draws on the engine and write "
                    "OUT/optimise/<name>/: best_policy.yaml (a scenario that sim run and sim "
                    "compare take), convergence.csv/.png, pareto.csv/.png (two objectives), "
                    "evaluation.csv (the best policy and the base on fresh draws), "
                    "evaluation_summary.csv and manifest.json. See docs/OPTIMISE.md.",
    )
    parser.add_argument("file", metavar="FILE",
                        help="optimise YAML file, e.g. scenarios/optimise/japan_allocation.yaml")
    parser.add_argument("--out", default="results", help="results root folder (default: results)")
    add_executor_options(parser)
    parser.add_argument("--seed", type=int, default=None, metavar="S",
                        help="first seed (default: the FILE's, else the scenario's)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar; print only the results folder")
    return parser


def main(args: argparse.Namespace) -> int:
    """Run ``sim optimise``."""
    from sim.decide.optimise import load_plan, search
    from sim.decide.optimise_files import check_destination, format_report, write_search
    check_executor_options(args)
    plan = load_plan(args.file, seed=args.seed)
    check_destination(plan, args.out)  # before the search, not after it
    found = search(plan, workers=args.workers, scheduler=args.scheduler, quiet=args.quiet)
    folder = write_search(found, args.out)
    if args.quiet:
        print(f"results: {folder}")
    else:
        print(format_report(found, folder))
    return 0
