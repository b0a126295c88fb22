"""Subcommands of the ``sim`` command line, one module each (``register`` and ``main``)."""
