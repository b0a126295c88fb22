"""``sim replay``: replay one run of a sweep alone and write it as a normal run folder."""

from __future__ import annotations

import argparse

from sim.sweep.replay import replay


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sim replay`` to the command line."""
    parser = sub.add_parser(
        "replay", help="replay one run of a sweep as a normal run folder",
        description="Replay run RUN_ID of a sweep (see runs.parquet) with its parameter values "
                    "and seed, and write trajectories.csv, moves.csv, events.csv, "
                    "manifest.json, influence.png and replay.json (the overrides and the "
                    "equivalent `sim run` command) to <sweep folder>/replays/run-<RUN_ID>/.",
    )
    parser.add_argument("folder", help="the sweep's results folder, e.g. results/china_reaction")
    parser.add_argument("run_id", type=int, help="the run id (column run_id of runs.parquet)")
    parser.add_argument("--out", default=None,
                        help="destination folder (default: FOLDER/replays/run-RUN_ID)")
    parser.add_argument("--no-plot", action="store_true", help="skip influence.png")
    return parser


def main(args: argparse.Namespace) -> int:
    """Run ``sim replay``."""
    folder = replay(args.folder, args.run_id, out=args.out, plot=not args.no_plot)
    print(f"results: {folder}")
    return 0
