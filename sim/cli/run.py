"""``sim run``: run one scenario (or several seeds of it) and write its results folder."""

from __future__ import annotations

import argparse

from sim.decide.weighting import check_option, region_lines
from sim.errors import ScenarioError
from sim.limits import check_replicates
from sim.outputs.record import band_text, start_band_note
from sim.outputs.run import run_scenario, share_table, write_run
from sim.scenario import load_scenario
from sim.scenario.calendar import quarter_labels, step_at
from sim.uncertainty.draws import plan_draws, resolve


def add_scenario_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by the commands that load a scenario: --set, --seed, --steps."""
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
        help="override a scenario field, e.g. --set powers.china.reaction.japan.sensitivity=0.8 "
             "(repeatable; list items by number: events.0.at=2026Q1)",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the file's)")
    parser.add_argument("--steps", type=int, default=None,
                        help="number of quarters to simulate (default: the file's, usually 40)")


def add_uncertainty_option(parser: argparse.ArgumentParser) -> None:
    """The --uncertainty option of the commands that run replicates (docs/WHATIF.md)."""
    parser.add_argument(
        "--uncertainty", default=None, metavar="posterior|none|FILE",
        help="draw each replicate's uncertain parameters: 'posterior' (the calibrated "
             "posterior, data/posterior/posterior.parquet), 'none' (parameters as written) or "
             "a YAML FILE of distributions per field path. Default: posterior when it ships "
             "and there is more than one replicate, else none",
    )


def add_at_option(parser: argparse.ArgumentParser, what: str) -> None:
    """The --at option: which quarter a command reports (default: the last)."""
    parser.add_argument("--at", default=None, metavar="QUARTER",
                        help=f"the quarter {what} reports, e.g. 2030Q4 (default: the last); "
                             "one outside the run is an error naming the allowed range")


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sim run`` to the command line."""
    parser = sub.add_parser(
        "run", help="run a scenario and write its results",
        description="Run a scenario file and write results/<name>/<run id>/ with "
                    "trajectories.csv, moves.csv, events.csv, manifest.json and influence.png.",
    )
    parser.add_argument("scenario", help="scenario YAML file, e.g. scenarios/baseline.yaml")
    add_scenario_options(parser)
    parser.add_argument("--replicates", type=int, default=1, metavar="N",
                        help="run N seeds (seed, seed+1, ...) in one batch and add a summary "
                             "with 5th-95th percentile bands (default 1)")
    add_uncertainty_option(parser)
    parser.add_argument("--out", default="results",
                        help="results root folder (default: results)")
    parser.add_argument("--branch-from", default=None, metavar="FILE",
                        help="branch: continue FILE's history and apply this scenario's "
                             "differences from --branch-at on (docs/WHATIF.md)")
    parser.add_argument("--branch-at", default=None, metavar="QUARTER",
                        help="the quarter the branch's changes start, e.g. 2026Q3")
    add_at_option(parser, "the printed table")
    parser.add_argument("--no-plot", action="store_true", help="skip influence.png")
    parser.add_argument("--quiet", action="store_true", help="print only the results folder")
    add_weighting_option(parser)
    return parser


def add_weighting_option(parser: argparse.ArgumentParser) -> None:
    """``--weighting NAME``: also print each power's weighted regional share."""
    parser.add_argument("--weighting", default=None, metavar="NAME",
                        help="also print each power's regional influence with the states "
                             "weighted: equal, gdp, population or resources (docs/OPTIMISE.md)")


def weighted_region(args: argparse.Namespace, scenarios: list, recordings: list,
                    labels: list[str]) -> list[str]:
    """The ``--weighting`` lines (empty without the option), checked against the scenarios."""
    if getattr(args, "weighting", None) is None:
        return []
    weights = check_option(scenarios[0], args.weighting)
    structure = recordings[0].structure
    if any(r.structure.states != structure.states for r in recordings):
        raise ScenarioError("--weighting", ["the scenarios' states differ; a weighted region "
                                            "needs the same states in each"])
    quarters = recordings[0].quarters
    return region_lines(labels, [r.share for r in recordings],
                        [structure.labels[p] for p in structure.powers], weights,
                        args.weighting, step_at(quarters, args.at), quarters)


def main(args: argparse.Namespace) -> int:
    """Run ``sim run``."""
    check_replicates(args.replicates, 0)  # the seeds are checked once the scenario is loaded
    branch = None
    if (args.branch_from is None) != (args.branch_at is None):
        raise ScenarioError("--branch-from/--branch-at", ["give both, or neither"])
    if args.branch_from is not None:
        branch = (args.branch_from, args.branch_at)
    scenario = load_scenario(args.scenario, args.overrides, seed=args.seed, steps=args.steps,
                             branch=branch)
    if args.at is not None:  # a bad quarter fails before anything runs
        step_at(quarter_labels(scenario.start, scenario.steps), args.at)
    uncertainty = resolve(args.uncertainty, args.replicates)
    draws = None
    if uncertainty.kind != "none":
        draws = plan_draws(uncertainty, [scenario], [args.scenario], args.replicates,
                           args.overrides)[0]
    if args.weighting is not None:  # a bad weighting fails before anything runs

        check_option(scenario, args.weighting)
    recording = run_scenario(scenario, replicates=args.replicates, draws=draws)
    folder = write_run(recording, out=args.out, plot=not args.no_plot)
    if not args.quiet:
        runs = recording.n_runs
        what = f"seed {scenario.seed}" if runs == 1 else f"{runs} seeds from {scenario.seed}"
        print(f"{scenario.name}: {scenario.steps} quarters, {what}")
        print(share_table(recording, run=0 if runs == 1 else None, at=args.at))
        for line in weighted_region(args, [scenario], [recording], [scenario.name]):
            print(line)
        if runs > 1:
            print(f"mean {band_text(recording)}")
            if note := start_band_note(recording):
                print(note)
        elif draws is not None and draws.values:
            print(f"parameters: one draw from {uncertainty.source} (parameters.csv)")
    print(f"results: {folder}")
    return 0
