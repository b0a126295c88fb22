"""Allow ``python -m sim``."""

from sim.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
