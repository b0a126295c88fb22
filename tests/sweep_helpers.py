"""Shared helpers for the sweep tests: small sweep files over the baseline scenario."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def write_sweep(folder: Path, name: str = "tiny", **changes) -> Path:
    """Write a small sweep file (8 quarters, a 3 x 2 grid, 3 seeds) and return its path."""
    data = {
        "name": name,
        "scenario": str(BASELINE),
        "steps": 8,
        "design": "grid",
        "seeds": 3,
        "seed": 11,
        "parameters": {
            "powers.china.reaction.japan.sensitivity": {"bounds": [0.0, 4.0], "levels": 3},
            "powers.japan.risk_tolerance": {"values": [0.2, 0.5]},
        },
        "chunk_size": 6,
    }
    data.update(changes)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def env() -> dict[str, str]:
    """Environment for subprocesses: the checkout on PYTHONPATH."""
    out = dict(os.environ)
    out["PYTHONPATH"] = str(ROOT) + os.pathsep + out.get("PYTHONPATH", "")
    return out


def sim_command(*args: str) -> list[str]:
    """The ``sim`` command line run by this Python."""
    return [sys.executable, "-m", "sim", *args]


def read_results(folder: Path) -> dict[str, pd.DataFrame]:
    """A sweep folder's data files as DataFrames (trajectory parts concatenated in order)."""
    out = {name: pd.read_parquet(folder / f"{name}.parquet") for name in ("runs", "summary")}
    parts = sorted((folder / "trajectories").glob("part-*.parquet"))
    if parts:
        out["trajectories"] = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    return out


def data_files(folder: Path) -> dict[str, bytes]:
    """Bytes of every Parquet file of a sweep folder, by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.parquet"))}
