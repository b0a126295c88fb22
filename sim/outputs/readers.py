"""Read a results folder back, refusing files that are truncated, damaged or foreign.

``sim explain``, ``sim report`` and ``sim replay`` read folders that the simulator wrote, but a
folder may since have been cut short (a copy that ran out of space), edited, or filled with
files of the same names from elsewhere. These readers check what the commands rely on (the
columns, the row count the manifest implies, a final newline, the manifest's shape) and raise
the command's own :class:`~sim.errors.SimError` with the file and what is wrong, instead of
letting a KeyError or a pandas error escape as a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.errors import SimError

TRAJECTORY_COLUMNS = ("step", "quarter", "state", "power", "share")
"""Columns of trajectories.csv that explain and report use."""

MOVES_COLUMNS = ("step", "type", "power", "state", "kind", "amount_usd_m", "toward", "signal",
                 "response", "effort_after")
"""Columns of moves.csv that explain uses."""

EVENTS_COLUMNS = ("step", "event", "kind", "power", "states")
"""Columns of events.csv that explain uses."""

NUMERIC_COLUMNS = ("step", "share", "amount_usd_m", "signal", "response", "effort_after", "event")
"""Columns that must hold numbers wherever they appear."""


def read_table(path: Path, error: type[SimError], columns: tuple[str, ...],
               rows: int | None = None) -> pd.DataFrame:
    """Read a CSV table the simulator wrote, or raise ``error`` saying what is wrong with it.

    Args:
        path: The CSV file.
        error: The SimError subclass to raise (the command's own).
        columns: Columns the caller needs.
        rows: The number of rows the file must hold, when the manifest implies it.

    Returns:
        The table (empty cells read as NaN, the text "NA" kept as text).
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: missing; the results folder is incomplete (run it again)")
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            if size:
                handle.seek(-1, 2)
                last = handle.read(1)
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror})") from None
    if size == 0:
        raise error(f"{path}: empty; the file was cut short or never written (run it again)")
    if last != b"\n":
        raise error(f"{path}: truncated (its last line is cut off); run it again")
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            ValueError) as exc:
        reason = " ".join(str(exc).split())[:160]
        raise error(f"{path}: not a readable table ({reason})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise error(f"{path}: not a table written by sim (no column {', '.join(missing)}); "
                    "it was replaced or damaged: run it again")
    odd = [c for c in NUMERIC_COLUMNS if c in frame.columns and len(frame)
           and not pd.api.types.is_numeric_dtype(frame[c])]
    if odd:
        raise error(f"{path}: column {odd[0]} holds text where numbers belong; the file was "
                    "damaged or replaced: run it again")
    if rows is not None and len(frame) != rows:
        raise error(f"{path}: holds {len(frame):,} rows where its manifest's run has {rows:,}; "
                    "the file is truncated or belongs to another run: run it again")
    return frame


def check_run_manifest(manifest: dict, path: Path, error: type[SimError]) -> int:
    """Check a run's manifest has what readers use; return the trajectories' row count.

    Args:
        manifest: The manifest read from ``path``.
        path: The manifest file, for messages.
        error: The SimError subclass to raise.

    Returns:
        The rows trajectories.csv must hold: (steps + 1) x states x powers x seeds.
    """
    scenario = manifest.get("scenario")
    seeds = manifest.get("seeds")
    steps = manifest.get("steps")
    problems = []
    if not isinstance(scenario, dict) or not all(
            isinstance(scenario.get(k), dict) and scenario.get(k) for k in ("powers", "states")):
        problems.append("scenario (with its powers and states)")
    if not isinstance(seeds, list) or not seeds or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        problems.append("seeds (a list of whole numbers)")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        problems.append("steps (a whole number)")
    if problems:
        raise error(f"{path}: not a run manifest written by sim run (no valid "
                    f"{'; '.join(problems)}); it was replaced or damaged: run it again")
    return (steps + 1) * len(scenario["states"]) * len(scenario["powers"]) * len(seeds)
