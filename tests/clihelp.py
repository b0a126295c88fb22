"""Helpers shared by the tests: paths, and running the real ``sim`` command line."""

from __future__ import annotations

import os
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


def files_under(folder: Path) -> list[Path]:
    """Every file and folder under ``folder`` (empty if it does not exist)."""
    return sorted(folder.rglob("*")) if folder.exists() else []


def assert_refused(result: subprocess.CompletedProcess, out: Path, status: int = 2) -> str:
    """Check a refusal: the exit status, a short message without traceback, nothing written.

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
    """Run ``sim ARGS`` in this process and check a refusal: exit 2, a short message, nothing
    written under ``out``. Returns the message (stderr)."""
    from sim.cli.main import main

    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    err = captured.err
    assert status == 2, (status, err[-2000:])
    assert "Traceback" not in err, err
    assert 1 <= len(err.strip().splitlines()) <= MAX_ERROR_LINES, err
    if out is not None:
        assert files_under(out) == [], f"left behind: {files_under(out)}"
    return err


def raise_in_worker(module: str, name: str, args: tuple) -> None:
    """Raise ``module.name(*args)`` (run in a spawned pool worker by the pickling test)."""
    import importlib

    raise getattr(importlib.import_module(module), name)(*args)
