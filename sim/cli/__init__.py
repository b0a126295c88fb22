"""The ``sim`` command line: :func:`main`, and one module per subcommand."""

from sim.cli.main import main

__all__ = ["main"]
