"""The ``sim`` command line: ``sim run``, and one subcommand per module in sim/cli/.

Errors the user can fix (a bad scenario, a diverging run, an unwritable folder) are printed as
a few plain lines with exit status 2 (3 for divergence), never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading

from sim import __version__
from sim.errors import SimError

COMMANDS = ("run", "compare", "explain", "report", "sweep", "replay", "discover", "optimise",
            "calibrate", "hindcast", "dashboard")
"""Subcommands, each a module ``sim.cli.<name>`` with ``register`` and ``main``."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with every subcommand, or with ``only`` that one.

    Each subcommand's module imports what it runs at its top, so a command loads only its own
    module (``sim run`` never imports the optimiser); ``sim --help`` loads them all.
    """
    parser = argparse.ArgumentParser(
        prog="sim",
        description="Simulate great-power influence (Japan, China, Russia) in Central Asia.",
    )
    parser.add_argument("--version", action="version", version=f"sim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS if only not in COMMANDS else (only,):
        module = importlib.import_module(f"sim.cli.{name}")
        command = module.register(sub)
        command.set_defaults(handler=module.main)
    return parser


def _terminated(signum: int, frame: object) -> None:
    """Turn SIGTERM into KeyboardInterrupt, so temporary results are cleaned up as on Ctrl-C."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    named = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(named).parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
    try:
        return int(args.handler(args) or 0)
    except SimError as exc:
        print(f"sim {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # The reader went away (``sim explain ... | head``): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"sim {args.command}: interrupted; nothing partial was left behind", file=sys.stderr)
        return 130
    except OSError as exc:
        # The system refused a file operation the command's own checks did not foresee (a
        # full disk, a read-only folder): say so plainly, as for any output folder problem.
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"sim {args.command}: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
