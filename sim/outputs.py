"""Write a run's results folder: CSV tables, a manifest and a plot, atomically.

Files are written into a hidden temporary folder beside the destination and renamed into
place when complete, so an interrupted run leaves either a whole results folder or none.
Floats are written as the shortest text that reads back to the same value in the engine's
precision, so the same scenario and seed give byte-identical CSV files.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import sim
from sim.errors import SimError
from sim.scenario import Scenario


class OutputError(SimError):
    """A results folder that cannot be written where asked."""


def safe_name(name: str) -> str:
    """Turn a scenario name into a folder name that stays inside its parent.

    Anything but letters, digits, ``-``, ``_`` and ``.`` becomes ``_``; leading dots are
    dropped, so ``../../etc`` cannot climb out of the results folder.
    """
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).lstrip(".")
    return cleaned[:80] or "scenario"


def run_id(scenario: Scenario, seeds: list[int]) -> str:
    """A deterministic run id: the seed(s) and the start of the scenario's hash."""
    seed_part = f"s{seeds[0]}" if len(seeds) == 1 else f"s{seeds[0]}x{len(seeds)}"
    return f"{seed_part}-{scenario.digest()[:10]}"


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a table (shortest round-trip floats, Unix line endings)."""
    frame.to_csv(path, index=False, lineterminator="\n")


def git_commit() -> str | None:
    """The git commit of the source tree the package runs from, if it is a checkout."""
    root = Path(sim.__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
            timeout=5, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def versions() -> dict[str, str]:
    """Versions of the package, Python and the main libraries."""
    import pydantic
    import yaml

    found = {
        "sim": sim.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "pydantic": pydantic.VERSION,
        "pyyaml": yaml.__version__,
    }
    try:
        from importlib.metadata import version

        found["mesa"] = version("mesa")
    except Exception:  # noqa: BLE001 - mesa metadata missing is not an error here
        found["mesa"] = "not installed"
    return found


def manifest(scenario: Scenario, seeds: list[int], extra: dict[str, Any] | None = None) -> dict:
    """The manifest of a run: resolved scenario, its hash, seeds, versions, commit, command."""
    data = {
        "scenario": scenario.model_dump(mode="json"),
        "scenario_sha256": scenario.digest(),
        "seed": seeds[0] if len(seeds) == 1 else None,
        "seeds": seeds,
        "steps": scenario.steps,
        "versions": versions(),
        "git_commit": git_commit(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }
    if extra:
        data.update(extra)
    return data


def write_json(data: dict, path: Path) -> None:
    """Write JSON with sorted keys and a final newline."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


@contextmanager
def atomic_folder(destination: Path):
    """Yield a temporary folder that becomes ``destination`` only if the block succeeds.

    An existing destination is replaced as a whole. On any error (or interruption) the
    temporary folder is removed and the destination is left as it was.
    """
    destination = Path(destination)
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {destination.parent}: {exc.strerror}") from None
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{destination.name}-", dir=destination.parent))
    try:
        yield tmp
        old = None
        if destination.exists():
            old = destination.with_name(f".old-{destination.name}-{os.getpid()}")
            os.replace(destination, old)
        os.replace(tmp, destination)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def inside(base: Path, *parts: str) -> Path:
    """Join ``parts`` under ``base`` and refuse a result that escapes it."""
    base = Path(base).resolve()
    path = base.joinpath(*parts).resolve()
    if base != path and base not in path.parents:
        raise OutputError(f"{path} is outside {base}")
    return path


def write_files(folder: Path, writers: dict[str, Callable[[Path], None]]) -> None:
    """Call each writer with its file path inside ``folder``."""
    for name, write in writers.items():
        write(folder / name)
