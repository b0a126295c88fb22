"""``sim optimise`` (alias ``sim optimize``): a robust search for a power's best policy."""

from __future__ import annotations

import argparse
from dataclasses import replace

from sim.cli.sweep import add_executor_options, check_executor_options
from sim.decide.optimise import OptimiseFileError, load_plan, search
from sim.decide.optimise_files import check_destination, format_report, write_search
from sim.decide.weighting_regret import compare_weightings, format_regret, parse_weightings


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
    parser.add_argument("--weightings", default=None, metavar="W1,W2,...",
                        help="search once per weighting of regional influence (equal, gdp, "
                             "population, resources) and write OUT/optimise/<name>_weightings/ "
                             "with each answer's score and regret under the others "
                             "(docs/OPTIMISE.md)")
    parser.add_argument("--generations", type=int, default=None, metavar="N",
                        help="override the FILE's optimiser.generations (for trying things)")
    return parser


def main(args: argparse.Namespace) -> int:
    """Run ``sim optimise``."""
    check_executor_options(args)
    plan = load_plan(args.file, seed=args.seed)
    if args.generations is not None:
        plan = _with_generations(plan, args.generations)
    if args.weightings is not None:
        return _weightings(plan, args)
    check_destination(plan, args.out)  # before the search, not after it
    found = search(plan, workers=args.workers, scheduler=args.scheduler, quiet=args.quiet)
    folder = write_search(found, args.out)
    if args.quiet:
        print(f"results: {folder}")
    else:
        print(format_report(found, folder))
    return 0


def _with_generations(plan, generations: int):
    """The plan with its optimiser's generation count overridden (checked like the FILE's)."""
    if not 1 <= generations <= 100_000:
        raise OptimiseFileError(plan.source, [f"--generations: {generations} is not allowed: "
                                              "1 to 100000"])
    optimiser = plan.spec.optimiser.model_copy(update={"generations": generations})
    return replace(plan, spec=plan.spec.model_copy(update={"optimiser": optimiser}))


def _weightings(plan, args: argparse.Namespace) -> int:
    """``--weightings``: the search under each weighting and the regret table."""
    try:
        weightings = parse_weightings(args.weightings)
    except ValueError as exc:
        raise OptimiseFileError(plan.source, [str(exc)]) from None
    _, table, answers, folder = compare_weightings(plan, weightings, args.out, args.workers,
                                                   args.scheduler, args.quiet)
    if not args.quiet:
        print(format_regret(table, answers, plan))
    print(f"results: {folder}")
    return 0
