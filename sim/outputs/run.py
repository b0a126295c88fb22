"""Run a scenario: compile, simulate, and write a results folder.

This is what ``sim run`` does, as a Python API::

    from sim.outputs.run import run_scenario, write_run
    recording = run_scenario(load_scenario("scenarios/baseline.yaml"))
    folder = write_run(recording, out="results")
"""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.engine import WorldState, compile_scenario, make_batch, repeat, with_values
from sim.engine.state import initial_state
from sim.limits import check_replicates
from sim.outputs.folders import (
    atomic_folder,
    inside,
    manifest,
    run_id,
    safe_name,
    write_csv,
    write_files,
    write_json,
)
from sim.outputs.plots import influence_figure, save
from sim.outputs.record import TRAJECTORY_FIELDS, Recording, band_text, record, record_to_end
from sim.outputs.spending import spending_figure
from sim.outputs.units import folder_units, format_share, with_unit_column
from sim.scenario import Scenario
from sim.scenario.branch import segments
from sim.scenario.calendar import step_at
from sim.uncertainty.draws import no_draws

if TYPE_CHECKING:
    from sim.uncertainty.draws import Draws


def replicate_seeds(seed: int, replicates: int) -> list[int]:
    """Seeds of a run's replicates: ``seed, seed + 1, ...`` (each replayable with ``--seed``).

    Raises:
        OptionError: For more replicates than :data:`sim.limits.MAX_REPLICATES`, or seeds
            past :data:`sim.limits.MAX_SEED`.
    """
    check_replicates(replicates, seed)
    return [seed + i for i in range(replicates)]


def run_scenario(scenario: Scenario, replicates: int = 1, draws: Draws | None = None
                 ) -> Recording:
    """Simulate a scenario for one seed or several, as one batch.

    Args:
        scenario: The validated scenario.
        replicates: Number of seeds (``scenario.seed`` and the following ones).
        draws: Per-replicate values of uncertain fields (from
            :func:`sim.uncertainty.plan_draws`); None runs the scenario as written.

    Returns:
        The recording of every run.

    Raises:
        DivergenceError: If any run's state becomes non-finite.
    """
    seeds = replicate_seeds(scenario.seed, replicates)
    if scenario.branch is not None:  # continues another scenario's history
        recording = run_branch(scenario, seeds, draws)
    else:
        batch = _batch(scenario, seeds, draws)
        recording = record(batch, scenario=scenario)
    return replace(recording, draws=draws) if draws is not None else recording


def summary(recording: Recording) -> pd.DataFrame:
    """Mean, 5th and 95th percentile over runs per (step, state, power) of each quantity."""
    s = recording.structure
    T1, _, S, P = recording.share.shape
    frame = pd.DataFrame({
        "step": np.repeat(np.arange(T1), S * P),
        "quarter": np.repeat(np.array(recording.quarters), S * P),
        "state": np.tile(np.repeat(np.array(s.states), P), T1),
        "power": np.tile(np.array(s.powers), T1 * S),
    })
    for name in TRAJECTORY_FIELDS:
        values = getattr(recording, name).astype(np.float64)
        frame[f"{name}_mean"] = values.mean(axis=1).reshape(-1)
        low, high = np.percentile(values, [5, 95], axis=1)
        frame[f"{name}_p5"] = low.reshape(-1)
        frame[f"{name}_p95"] = high.reshape(-1)
    return frame


def run_folder(scenario: Scenario, seeds: list[int], out: str | Path = "results",
               uncertainty: str = "") -> Path:
    """Where a run's results go: ``OUT/<scenario name>/<run id>``, never outside ``OUT``."""
    return inside(Path(out), safe_name(scenario.name), run_id(scenario, seeds, uncertainty))


def uncertainty_entry(recording: Recording) -> dict:
    """The manifest's ``uncertainty`` entry of a recording."""
    return (recording.draws or no_draws()).manifest(recording.n_runs)


def parameters_table(recording: Recording) -> pd.DataFrame:
    """Each run's seed and the value of each drawn field (empty when nothing was drawn)."""
    values = recording.draws.values if recording.draws is not None else {}
    frame = pd.DataFrame({"seed": [int(x) for x in recording.seeds]})
    for path, column in values.items():
        frame[path] = column
    return frame


def write_run(recording: Recording, out: str | Path = "results", plot: bool = True,
              folder: Path | None = None) -> Path:
    """Write a recording's results folder atomically.

    One run: trajectories.csv, moves.csv, events.csv, manifest.json, influence.png.
    Several runs (replicates): trajectories.csv has a ``seed`` column, summary.csv has the
    mean and 5th-95th percentiles, moves.csv and events.csv are per seed in runs/, and the plot
    shows bands.

    Args:
        recording: From :func:`run_scenario`.
        out: The results root.
        plot: Whether to draw influence.png.
        folder: The exact destination (default: :func:`run_folder`).

    Returns:
        The folder written.
    """
    scenario = recording.scenario
    seeds = [int(x) for x in recording.seeds]
    digest = recording.draws.digest() if recording.draws is not None else ""
    destination = folder or run_folder(scenario, seeds, out, digest)
    with atomic_folder(destination) as tmp:
        if len(seeds) == 1:
            write_files(tmp, {
                "trajectories.csv": lambda p: write_csv(recording.trajectories(0), p),
                "moves.csv": lambda p: write_csv(recording.moves(0), p),
                "events.csv": lambda p: write_csv(recording.events(0), p),
                "observables.csv": lambda p: write_csv(
                    with_unit_column(recording.observables(0)), p),
            })
        else:
            write_csv(recording.trajectories(None), tmp / "trajectories.csv")
            table = summary(recording)
            table["band"] = band_text(recording)
            write_csv(table, tmp / "summary.csv")
            write_csv(with_unit_column(recording.observables(None)), tmp / "observables.csv")
            (tmp / "runs").mkdir()
            for r, seed in enumerate(seeds):
                write_csv(recording.moves(r), tmp / "runs" / f"moves-seed{seed}.csv")
                write_csv(recording.events(r), tmp / "runs" / f"events-seed{seed}.csv")
        if recording.draws is not None and recording.draws.values:
            write_csv(parameters_table(recording), tmp / "parameters.csv")
        extra = {"run_id": destination.name, "uncertainty": uncertainty_entry(recording),
                 "units": folder_units(tmp)}
        write_json(manifest(scenario, seeds, extra), tmp / "manifest.json")
        if plot:
            save(influence_figure(recording), tmp / "influence.png")
            save(spending_figure(recording), tmp / "spending.png")
    return destination


def share_table(recording: Recording, run: int | None = 0, at: str | None = None) -> str:
    """A plain-text table of each power's influence share (%) in each state, first and ``at``.

    Args:
        recording: From :func:`run_scenario`.
        run: Which run, or None for the mean over runs.
        at: The quarter to report, e.g. ``2030Q4`` (default: the last).

    Raises:
        SimError: If ``at`` is not a quarter of the run.
    """
    s = recording.structure
    quarters = recording.quarters
    step = step_at(quarters, at)
    values = recording.share.astype(np.float64)
    values = values.mean(axis=1) if run is None else values[:, run]
    first, last = values[0], values[step]
    width = max(len(s.labels[x]) for x in s.states) + 2
    head = f"{'influence share':<{width}}" + "".join(
        f"{s.labels[p]:>18}" for p in s.powers) + f"{'residual':>18}"
    arrow = f"{quarters[0]} -> {quarters[step]}"
    lines = [head, f"{'':<{width}}" + "".join(f"{arrow:>18}" for _ in range(len(s.powers) + 1))]
    for i, state in enumerate(s.states):
        pairs = [(first[i, p], last[i, p]) for p in range(len(s.powers))]
        pairs.append((1 - first[i].sum(), 1 - last[i].sum()))
        cells = [f"{format_share(a)} -> {format_share(b)}" for a, b in pairs]
        lines.append(f"{s.labels[state]:<{width}}" + "".join(f"{c:>18}" for c in cells))
    return "\n".join(lines)


def run_branch(scenario, seeds: list[int], draws: Draws | None = None) -> Recording:
    """Simulate a branched scenario for the given seeds, as one batch.

    The branch is resolved once, before the run (:func:`sim.scenario.branch.segments`); each
    stretch is then compiled, simulated from the state the one before it ended in, and
    recorded, and the recordings are joined.

    Args:
        scenario: A validated scenario with ``branch`` set.
        seeds: One seed per run.
        draws: Per-run values of uncertain fields (``draws.parent`` for the parent's history).

    Returns:
        The recording, rows 0 to T: rows up to the branch point are the parent's.
    """
    recording, state = None, None
    for segment in segments(scenario):
        batch = _batch(segment.scenario, seeds, _draws_at(draws, segment.depth))
        if state is None:
            recording, state = record_to_end(batch, segment.last, scenario=segment.scenario)
            continue
        state = _with_new_events(state, batch)
        tail, state = record_to_end(batch, segment.last - state.step, scenario=segment.scenario,
                                    initial=state)
        recording = _stitch(recording, tail)
    return recording


def _draws_at(draws: Draws | None, depth: int) -> Draws | None:
    """The drawn values of the scenario ``depth`` branches up (``draws.parent``, ...)."""
    for _ in range(depth):
        draws = draws.parent if draws is not None else None
    return draws


def _batch(scenario, seeds, draws: Draws | None = None):
    """Compile a scenario into a batch of one run per seed, with any drawn values applied."""
    structure, params = compile_scenario(scenario)
    params = repeat(params, len(seeds))
    if draws is not None and draws.values:
        params = with_values(params, draws.values)
    return make_batch(structure, params, seeds)


def _with_new_events(state: WorldState, batch) -> WorldState:
    """A parent's last state, with room for the events a branch adds (not yet fired or due)."""
    fresh = initial_state(batch.structure, batch.params)
    n = state.fired.shape[1]
    return replace(
        state,
        fired=np.concatenate([state.fired, fresh.fired[:, n:]], axis=1),
        summit_due=np.concatenate([state.summit_due, fresh.summit_due[:, n:]], axis=1),
    )


def _stitch(head, tail):
    """Join a parent's rows 0..k-1 and a branch's rows k-1..T (its first row is the parent's)."""
    per_step = {"share", "footprint", "goodwill", "diplomatic", "effort", "stability", "spend",
                "signal", "response", "fired", "dependence"}
    joined = {}
    for f in fields(tail):
        if f.name not in per_step:
            continue
        before, after = getattr(head, f.name), getattr(tail, f.name)[1:]
        if f.name == "fired" and before.shape[2] < after.shape[2]:
            pad = np.zeros((*before.shape[:2], after.shape[2] - before.shape[2]), dtype=bool)
            before = np.concatenate([before, pad], axis=2)
        joined[f.name] = np.concatenate([before, after], axis=0)
    joined["flows"] = {name: np.concatenate([head.flows[name], tail.flows[name][1:]], axis=0)
                       for name in tail.flows}
    return replace(tail, **joined)
