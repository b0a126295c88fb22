"""Replay one run of a sweep alone, as a normal run folder, bit for bit.

The run's parameter values and seed are read from the sweep's runs part; they are applied to
the sweep's base scenario as ``--set``-style overrides (recorded in ``replay.json`` with the
equivalent ``sim run`` command), and the run is written by
:func:`sim.outputs.run.write_run`. Because the engine's random numbers depend only on a run's
seed, the replay's trajectories equal the sweep's stored ones exactly; when the sweep kept
trajectories, the replay checks this.
"""

from __future__ import annotations

import copy
import json
import shlex
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import SimError
from sim.outputs.folders import inside
from sim.outputs.run import run_scenario, write_run
from sim.scenario import set_path, validate
from sim.sweep.layout import locate
from sim.sweep.store import SweepStore, read_plan_file, write_text
from sim.sweep.worker import TRAJECTORY_COLUMNS


class ReplayError(SimError):
    """A run that cannot be replayed (no such sweep folder or run, chunk not finished)."""


def read_plan(folder: Path) -> dict:
    """Read a sweep folder's plan.json."""
    path = Path(folder) / "plan.json"
    if not path.is_file():
        raise ReplayError(f"{folder} is not a sweep results folder (no plan.json)")
    return read_plan_file(path, ReplayError)


def run_row(folder: Path, plan: dict, run_id: int) -> dict:
    """Read the runs-table row of one run (its seed and parameter values)."""
    if not 0 <= run_id < plan["n_runs"]:
        raise ReplayError(f"run {run_id} is not in this sweep: run ids go from 0 to "
                          f"{plan['n_runs'] - 1}")
    _, _, chunk = locate(run_id, plan["seeds_per_sample"], plan["chunk_samples"])
    part = SweepStore(folder).part("runs", chunk)
    if not part.is_file():
        raise ReplayError(f"run {run_id} is in chunk {chunk}, which has not finished yet; "
                          "resume the sweep first")
    try:
        table = pq.read_table(part, filters=[("run_id", "==", run_id)])
    except (OSError, pa.ArrowException) as exc:
        reason = " ".join(str(exc).split())[:160]
        raise ReplayError(f"{part}: damaged, not a readable Parquet file ({reason}); run the "
                          "sweep's command again: it recomputes damaged chunks") from None
    needed = ["seed", "sample_id", *plan["paths"]]
    if table.num_rows != 1 or not set(needed) <= set(table.column_names):
        raise ReplayError(f"{part}: does not hold run {run_id} with its seed and parameter "
                          "values; the part was damaged or replaced: run the sweep's command "
                          "again to recompute it")
    return {name: table.column(name)[0].as_py() for name in table.column_names}


def replay(folder: str | Path, run_id: int, out: str | Path | None = None,
           plot: bool = True) -> Path:
    """Replay a sweep's run and write it as a run folder.

    Args:
        folder: The sweep's results folder.
        run_id: The run to replay.
        out: Destination folder (default: ``<sweep folder>/replays/run-<id>``).
        plot: Whether to draw influence.png.

    Returns:
        The run folder written.

    Raises:
        ReplayError: For an unknown folder or run, or if the replay differs from the
            sweep's stored trajectories.
        DivergenceError: If the run diverges (as it did in the sweep).

    """
    folder = Path(folder)
    plan = read_plan(folder)
    row = run_row(folder, plan, run_id)
    data = copy.deepcopy(plan["scenario"])
    overrides = [(path, float(row[path])) for path in plan["paths"]]
    for path, value in overrides:
        set_path(data, path, value)
    data["seed"] = int(row["seed"])
    scenario = validate(data, source=f"{folder}/plan.json (run {run_id})")
    recording = run_scenario(scenario)
    destination = Path(out) if out is not None else inside(folder, "replays", f"run-{run_id}")
    matches = None
    if plan["trajectories"]:
        matches = _matches_sweep(folder, plan, run_id, recording)
        if not matches:
            raise ReplayError(f"run {run_id} replayed differently from the sweep's stored "
                              "trajectories; the engine or scenario changed since the sweep")
    write_run(recording, plot=plot, folder=destination)
    sweep = plan["sweep"]
    base = Path(plan["source"]).parent / sweep["scenario"]
    fixed = [f"{k}={v}" for k, v in sweep.get("set", {}).items()]
    if sweep.get("steps") is not None:
        fixed.append(f"steps={sweep['steps']}")
    sets = fixed + [f"{p}={v!r}" for p, v in overrides]
    command = ["sim", "run", str(base), *[x for s in sets for x in ("--set", s)],
               "--seed", str(row["seed"])]
    info = {
        "sweep": plan["name"], "sweep_folder": str(folder), "run_id": run_id,
        "sample_id": int(row["sample_id"]), "seed": int(row["seed"]),
        "overrides": [f"{p}={v!r}" for p, v in overrides],
        "equivalent_command": shlex.join(command),
        "matches_sweep_trajectories": matches,
    }
    write_text(json.dumps(info, indent=2) + "\n", destination / "replay.json")
    return destination


def _matches_sweep(folder: Path, plan: dict, run_id: int, recording) -> bool:
    """Whether a replay's kept steps equal the sweep's stored trajectory bit for bit."""
    _, _, chunk = locate(run_id, plan["seeds_per_sample"], plan["chunk_samples"])
    table = pq.read_table(SweepStore(folder).part("trajectories", chunk),
                          filters=[("run_id", "==", run_id)])
    steps = np.unique(table.column("step").to_numpy())
    S, P = recording.structure.n_states, recording.structure.n_powers
    for name in TRAJECTORY_COLUMNS:
        stored = table.column(name).to_numpy().reshape(len(steps), S, P)
        mine = getattr(recording, name)[steps, 0]
        if mine.ndim == 2:
            mine = np.repeat(mine[..., None], P, axis=2)
        if stored.dtype != mine.dtype or stored.tobytes() != mine.tobytes():
            return False
    return True
