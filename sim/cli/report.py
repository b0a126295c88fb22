"""``sim report``: write one self-contained HTML page for a run or a comparison."""

from __future__ import annotations

import argparse

from sim.cli.run import add_at_option
from sim.whatif.report import write_report


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sim report`` to the command line."""
    parser = sub.add_parser(
        "report", help="write a self-contained HTML report for a run or a comparison",
        description="Write DIR/report.html: the scenario's question, its parameters, the "
                    "figures (embedded), one quarter's tables (the last, or --at) and the "
                    "chronicle. The page needs no server and no network.",
    )
    parser.add_argument("folder", metavar="DIR",
                        help="a folder written by sim run or sim compare")
    add_at_option(parser, "the report's tables")
    return parser


def main(args: argparse.Namespace) -> int:
    """Run ``sim report``."""
    print(f"report: {write_report(args.folder, at=args.at)}")
    return 0
