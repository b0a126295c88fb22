"""Helpers shared by the tests: paths, and running the ``sim`` command line.

Two ways to run it, with the same result type (``subprocess.CompletedProcess``):

- :func:`run_in_process` calls ``sim.cli.main.main(ARGS)`` in the test's own interpreter. Use it
  for refusals and other checks of what the command prints and writes: the command line's checks
  are the same code either way, and it takes milliseconds instead of an interpreter's start-up.
  An unexpected exception is not turned into a message: it fails the test with its traceback.
- :func:`run_sim` starts ``python -m sim ARGS``, a fresh interpreter. Keep it for what only a
  real process shows: the exit status of the console script, signals and ``kill -9``, several
  processes at once, start-up imports, a read that could block (a FIFO), memory let go at exit.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
BAD = DATA / "bad"
SCENARIOS = ROOT / "scenarios"
SMALL = DATA / "cli_small.yaml"
MAX_ERROR_LINES = 12


def sim_env() -> dict[str, str]:
    """The environment for a ``python -m sim`` subprocess that imports this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("MPLBACKEND", "Agg")
    return env


def run_sim(*args: str | Path, timeout: float = 120, cwd: Path | None = None,
            ) -> subprocess.CompletedProcess:
    """Run ``python -m sim ARGS`` and capture its output as text."""
    return subprocess.run(
        [sys.executable, "-m", "sim", *map(str, args)], capture_output=True, text=True,
        timeout=timeout, env=sim_env(), cwd=cwd or ROOT, check=False,
    )


def run_in_process(*args: str | Path) -> subprocess.CompletedProcess:
    """Run ``sim ARGS`` in this interpreter and capture its exit status and output as text.

    ``sys.argv`` is set to the command (manifests record it) and the SIGTERM handler that
    ``main`` installs is put back afterwards. argparse's own exits (``--help``, a usage error)
    become the exit status, as they would in the console script.
    """
    from sim.cli.main import main

    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    saved_argv, saved_handler = sys.argv, signal.getsignal(signal.SIGTERM)
    sys.argv = ["sim", *argv]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv)
            except SystemExit as exc:  # as the interpreter turns it into an exit status
                status = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
                if exc.code is not None and not isinstance(exc.code, int):
                    print(exc.code, file=sys.stderr)
    finally:
        sys.argv = saved_argv
        signal.signal(signal.SIGTERM, saved_handler)
    return subprocess.CompletedProcess(["sim", *argv], status, out.getvalue(), err.getvalue())


def files_under(folder: Path) -> list[Path]:
    """Every file and folder under ``folder`` (empty if it does not exist)."""
    return sorted(folder.rglob("*")) if folder.exists() else []


def assert_refused(result: subprocess.CompletedProcess, out: Path, status: int = 2) -> str:
    """Check a refusal: the exit status, a short message without traceback, nothing written.

    ``result`` comes from :func:`run_sim` or :func:`run_in_process`.

    Returns:
        The error message (stderr).
    """
    err = result.stderr
    assert result.returncode == status, (result.returncode, err[-2000:])
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert 1 <= len(lines) <= MAX_ERROR_LINES, err
    assert files_under(out) == [], f"left behind: {files_under(out)}"
    return err


def refused_in_process(capsys, *args: str | Path, out: Path | None = None) -> str:
    """Run ``sim ARGS`` in this process (:func:`run_in_process`) and check a refusal as
    :func:`assert_refused` does (exit 2, a short message, nothing written under ``out``).

    ``capsys`` is accepted for the tests that pass it; the output is captured without it.

    Returns:
        The message (stderr).
    """
    del capsys
    result = run_in_process(*args)
    if out is not None:
        return assert_refused(result, out)
    err = result.stderr
    assert result.returncode == 2, (result.returncode, err[-2000:])
    assert "Traceback" not in err, err
    assert 1 <= len(err.strip().splitlines()) <= MAX_ERROR_LINES, err
    return err


def raise_in_worker(module: str, name: str, args: tuple) -> None:
    """Raise ``module.name(*args)`` (run in a spawned pool worker by the pickling test)."""
    import importlib

    raise getattr(importlib.import_module(module), name)(*args)
