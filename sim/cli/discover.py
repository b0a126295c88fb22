"""``sim discover``: the parameter ranges (a PRIM box) behind an outcome of a sweep."""

from __future__ import annotations

import argparse

from sim.decide.discover import Discovery, discover, format_report, write_discovery


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sim discover`` to the command line."""
    parser = sub.add_parser(
        "discover", help="find the parameter ranges behind an outcome of a sweep (PRIM)",
        description="Scenario discovery: find, with PRIM, a box of the sweep's varied "
                    "parameters that holds many of the runs with the outcome and few others. "
                    "Prints the chosen box (the densest with coverage at least "
                    "--min-coverage) and writes SWEEP_DIR/discover/<digest>/: trajectory.csv "
                    "(coverage and density of every box PRIM peeled), box.csv (the chosen "
                    "box's limits), boxes.csv, tradeoff.png and manifest.json. See "
                    "docs/DISCOVER.md.",
    )
    parser.add_argument("sweep", metavar="SWEEP_DIR",
                        help="a finished sweep's results folder, e.g. results/china_reaction")
    parser.add_argument("--outcome", required=True, metavar="EXPR",
                        help="a condition on runs.parquet's columns: names, numbers, + - * /, "
                             "< <= > >= == !=, and/or/not, parentheses, e.g. "
                             "\"influence_end_japan > 0.08\"; field paths in backticks")
    parser.add_argument("--min-coverage", type=float, default=0.5, metavar="C",
                        help="the chosen box holds at least this share of the runs with the "
                             "outcome (0-1, default 0.5)")
    parser.add_argument("--threshold", type=float, default=0.8, metavar="D",
                        help="PRIM's density threshold: its box must reach this density "
                             "(0-1, default 0.8)")
    parser.add_argument("--alpha", type=float, default=0.05, metavar="A",
                        help="share of the box's runs peeled off at each step (default 0.05)")
    parser.add_argument("--no-plot", action="store_true", help="skip tradeoff.png")
    parser.add_argument("--quiet", action="store_true", help="print only the results folder")
    return parser


def main(args: argparse.Namespace) -> int:
    """Run ``sim discover``."""
    discovery = Discovery(args.outcome, min_coverage=args.min_coverage,
                          threshold=args.threshold, alpha=args.alpha)
    found = discover(args.sweep, discovery)
    folder = write_discovery(found, plot=not args.no_plot)
    if not args.quiet:
        print(format_report(found))
    print(f"results: {folder}")
    return 0
