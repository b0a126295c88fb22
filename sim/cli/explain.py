"""``sim explain``: tell a run's story in plain language, quarter by quarter."""

from __future__ import annotations

import argparse

from sim.whatif.explain import chronicle


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sim explain`` to the command line."""
    parser = sub.add_parser(
        "explain", help="print a plain-language chronicle of a run",
        description="Read a run folder (written by sim run) and print what happened quarter "
                    "by quarter: the events that fired, the largest changes in spending, and "
                    "each reaction with what triggered it and how big it was. With --power, a "
                    "'Why' section names, per state, what preceded the power's largest fall and "
                    "rise in share and its largest cut in spending.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by sim run")
    parser.add_argument("--power", default=None,
                        help="only this power (e.g. japan), and why its story went as it did")
    parser.add_argument("--state", default=None, help="only this state (e.g. turkmenistan)")
    parser.add_argument("--limit", type=int, default=3, metavar="N",
                        help="at most N moves and N reactions per quarter, largest first "
                             "(default 3); events are always shown")
    parser.add_argument("--seed", type=int, default=None,
                        help="which seed of a run with replicates (default: the first)")
    return parser


def main(args: argparse.Namespace) -> int:
    """Run ``sim explain``."""
    story = chronicle(args.run_dir, power=args.power, state=args.state, limit=args.limit,
                      seed=args.seed)
    print(story.text())
    return 0
