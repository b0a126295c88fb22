"""What a worker does with one chunk: advance its runs as one engine batch, keep what is asked.

This module is imported by worker processes (a local pool or Dask workers), so everything here
is importable at module level and nothing imports Mesa. A task carries the resolved base
scenario (a few KB); a worker compiles it once (:mod:`sim.batch.cache`). :func:`run_chunk` is
the batch runner's ``sweep_summaries`` measure (:mod:`sim.batch.measures`). The summaries are
computed while the batch runs (an ``observe`` callback keeps running values), so only small
per-run rows travel back, plus the trajectories when a sweep keeps them.
"""

from __future__ import annotations

import copy
import resource
import sys
import time
import warnings
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pyarrow as pa

from sim.batch.cache import compiled
from sim.engine import WorldState, compile_scenario, make_batch, repeat, simulate, with_values
from sim.engine.params import Params, Structure, take
from sim.engine.state import regional_share
from sim.errors import ScenarioError, SimError
from sim.scenario import set_path, validate
from sim.sweep.layout import Chunk, run_seeds

TRAJECTORY_COLUMNS = ("share", "footprint", "goodwill", "diplomatic", "effort", "stability")
"""Trajectory values kept per (run, step, state, power); stability is the state's."""

ARRAY_FIELDS = tuple(f.name for f in fields(Params) if f.name != "paths")
"""The per-run arrays of a parameter batch."""

SCENARIO_SOURCE = "<sweep scenario>"
"""The name a sweep's resolved scenario goes by in a validation message."""


@dataclass(frozen=True)
class ChunkTask:
    """Everything a worker needs to run one chunk.

    Attributes:
        key: The sweep's digest (caches the compiled scenario in the worker).
        scenario: The resolved base scenario (``model_dump(mode="json")``).
        paths: Varied field paths.
        values: Parameter values of the chunk's samples (n_samples, D), float64.
        chunk: Which samples and runs.
        sweep_seed: The sweep seed (run seeds derive from it).
        outputs: Summary output kinds (``influence_end``...).
        trajectories: Whether to keep trajectories.
        every: Keep every k-th step of the trajectories (and the last).
        compile_each: Whether each sample is compiled from the scenario rather than written
            into the base batch (:func:`compile_each_sample`, decided once for the whole sweep
            by :func:`sim.sweep.runner.run_sweep`); None decides it from this chunk's values.

    """

    key: str
    scenario: dict[str, Any]
    paths: tuple[str, ...]
    values: np.ndarray
    chunk: Chunk
    sweep_seed: int
    outputs: tuple[str, ...]
    trajectories: bool
    every: int
    compile_each: bool | None = None


@dataclass(frozen=True)
class ChunkResult:
    """A finished chunk: tables ready to write.

    Attributes:
        index: Chunk number.
        runs: Per run: run_id, sample_id, seed, the parameters, diverged_step, the outputs.
        summary: Per sample: sample_id, the parameters, n_runs, n_diverged and the mean, 5th
            and 95th percentile over seeds of each output.
        trajectories: Per (run, kept step, state, power), or None.
        seconds: Time the worker spent on the chunk.
        peak_rss_mb: The worker process's peak resident memory so far, MB.

    """

    index: int
    runs: pa.Table
    summary: pa.Table
    trajectories: pa.Table | None
    seconds: float
    peak_rss_mb: float


class SampleRefused(SimError):
    """A sample whose values together the scenario refuses (each alone was checked)."""


def _compile_with(scenario: dict[str, Any], paths: tuple[str, ...], values: np.ndarray,
                  ) -> Params:
    """Compile the scenario with ``paths`` set to ``values`` as ``sim run --set`` would.

    Raises:
        SampleRefused: If the scenario refuses the values (a plain message, so it crosses a
            process pool intact).
    """
    data = copy.deepcopy(scenario)
    shown = ", ".join(f"{p}={float(v)!r}" for p, v in zip(paths, values, strict=True))
    try:
        for path, value in zip(paths, values, strict=True):
            set_path(data, path, float(value), source="sweep")
        return compile_scenario(validate(data, source="sweep"))[1]
    except ScenarioError as exc:
        raise SampleRefused(f"the sample {shown} is refused by the scenario: "
                            f"{'; '.join(exc.problems[:3])}; narrow the parameters' bounds or "
                            "values") from None


def feeds_derived_fields(scenario: dict[str, Any], base: Params, path: str,
                         values: np.ndarray) -> bool:
    """Whether setting ``path`` changes more than its own cell when the scenario compiles.

    Some fields fill other cells too (a state's stability is also its stability target when the
    scenario sets none; one allocation weight, where a power has none, makes every other state's
    weight 0). For those, writing the value into the path's cell (:func:`with_values`) is not
    the run that ``sim run --set path=value`` gives. Found by compiling the scenario with the
    path set to one of the chunk's values that differs from the base and comparing every
    array with :func:`with_values`, so no list of such fields is kept by hand. The probe uses
    the chunk's largest value that differs from the base, so the choice depends only on the
    sweep file, never on which worker runs the chunk.
    """
    name, index = base.paths[path]
    current = getattr(base, name)[(0, *index)]
    differing = [v for v in np.unique(values) if v != current]
    if not differing:
        return False  # every sample keeps the base value: nothing to derive
    value = differing[-1]  # one value shows a structural derivation (about 1 ms)
    try:
        exact = _compile_with(scenario, (path,), np.array([value]))
    except SimError:
        return True  # the scenario refuses the value alone: compile each sample (and say so)
    quick = with_values(base, {path: value})
    return any(not np.array_equal(getattr(exact, f), getattr(quick, f), equal_nan=True)
               for f in ARRAY_FIELDS)


def compile_each_sample(scenario: dict[str, Any], base: Params, paths: tuple[str, ...],
                        values: np.ndarray) -> bool:
    """Whether samples of these values must each be compiled (:func:`sample_params`).

    True if any varied path feeds derived fields (:func:`feeds_derived_fields`), probed with
    the largest of ``values`` (n_samples, D) that differs from the base. A sweep decides it
    once, from all its samples, so the answer is the same for every chunk and every worker.
    """
    return any(feeds_derived_fields(scenario, base, path, values[:, j])
               for j, path in enumerate(paths))


def sample_params(task: ChunkTask, base: Params) -> Params:
    """Return the parameters of the chunk's samples, one row per sample.

    Each row is exactly what ``sim run --set path=value ...`` compiles for that sample. Fields
    that fill only their own cell are written into a copy of the base batch (fast).
    If any varied field feeds fields derived from it (:func:`compile_each_sample`, decided by
    the task or else from its values), each sample is compiled from the scenario with its
    values set instead (about half a millisecond a sample).
    """
    values = task.values
    each = task.compile_each
    if each is None:
        each = compile_each_sample(task.scenario, base, task.paths, values)
    if not each:
        return with_values(repeat(base, len(values)),
                           {path: values[:, j] for j, path in enumerate(task.paths)})
    rows = [_compile_with(task.scenario, task.paths, row) for row in values]
    return Params(**{f: np.concatenate([getattr(r, f) for r in rows]) for f in ARRAY_FIELDS},
                  paths=base.paths)


class SummaryObserver:
    """Keeps running summaries (and optionally trajectories) while a batch runs.

    Running values are kept in the engine's precision (float32 by default: the values summed
    are float32 already), and turned into float64 at the end. Sums over states and channels are
    explicit loops in a fixed order, so a run's numbers do not depend on the batch size.

    Attributes:
        influence_end: Regional influence (mean share over states) at the last step (R, P).
        influence_peak: Highest regional influence so far (R, P).
        spend_total: Spend over the run, all channels and states, USD millions (R, P).
        effort_end: Mean reactive effort over states at the last step (R, P).
        kept: Kept steps' arrays by column, each a list of (R, S, P) (or (R, S)) arrays.
        kept_steps: The step numbers kept.

    """

    def __init__(self, n_runs: int, n_powers: int, steps: int, trajectories: bool, every: int,
                 dtype: np.dtype = np.float32):
        self.steps, self.trajectories, self.every = steps, trajectories, every
        self.influence_end = np.zeros((n_runs, n_powers), dtype=dtype)
        self.influence_peak = np.full((n_runs, n_powers), -np.inf, dtype=dtype)
        self.spend_total = np.zeros((n_runs, n_powers), dtype=dtype)
        self.effort_end = np.zeros((n_runs, n_powers), dtype=dtype)
        self.kept: dict[str, list[np.ndarray]] = {name: [] for name in TRAJECTORY_COLUMNS}
        self.kept_steps: list[int] = []
        self._spend: np.ndarray | None = None  # running spend by channel and state (R, C, S, P)

    @staticmethod
    def _state_mean(values: np.ndarray) -> np.ndarray:
        total = values[:, 0].copy()
        for s in range(1, values.shape[1]):
            total += values[:, s]
        total /= values.shape[1]
        return total

    def __call__(self, state: WorldState) -> None:
        """Update the running summaries with the state after a step."""
        regional = regional_share(state.share)
        np.fmax(self.influence_peak, regional, out=self.influence_peak)
        if self._spend is None:
            self._spend = state.spend.copy()
        else:
            self._spend += state.spend
        if state.step == self.steps:
            for c in range(self._spend.shape[1]):
                for s in range(self._spend.shape[2]):
                    self.spend_total += self._spend[:, c, s]
            self.influence_end = regional
            self.effort_end = self._state_mean(state.effort)
        if self.trajectories and (state.step % self.every == 0 or state.step == self.steps):
            self.kept_steps.append(state.step)
            for name in TRAJECTORY_COLUMNS:
                self.kept[name].append(getattr(state, name))


def _trajectory_table(obs: SummaryObserver, run_ids: np.ndarray, structure: Structure) -> pa.Table:
    """Long table: one row per (run, kept step, state, power)."""
    T, R = len(obs.kept_steps), len(run_ids)
    S, P = structure.n_states, structure.n_powers
    per_run = T * S * P
    columns: dict[str, Any] = {
        "run_id": np.repeat(run_ids, per_run),
        "step": np.tile(np.repeat(np.asarray(obs.kept_steps, dtype=np.int16), S * P), R),
        "state": pa.DictionaryArray.from_arrays(
            np.tile(np.repeat(np.arange(S, dtype=np.int8), P), R * T), list(structure.states)),
        "power": pa.DictionaryArray.from_arrays(
            np.tile(np.arange(P, dtype=np.int8), R * T * S), list(structure.powers)),
    }
    for name in TRAJECTORY_COLUMNS:
        stacked = np.stack(obs.kept[name], axis=1)  # (R, T, S[, P])
        if stacked.ndim == 3:
            stacked = np.repeat(stacked[..., None], P, axis=3)
        columns[name] = stacked.reshape(-1)
    return pa.table(columns)


def _percentiles(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, 5th and 95th percentile over axis 1, ignoring diverged (NaN) runs."""
    if np.isnan(values).any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = np.nanpercentile(values, [5, 95], axis=1)
            return np.nanmean(values, axis=1), low, high
    low, high = np.percentile(values, [5, 95], axis=1)
    return values.mean(axis=1), low, high


def flag_nonfinite_outputs(diverged_step: np.ndarray, obs: SummaryObserver,
                           outputs: tuple[str, ...], steps: int) -> np.ndarray:
    """Mark as diverged the runs whose summaries are not finite although their state was.

    A summary adds many finite values (spend over steps, states and channels), and the sum can
    overflow the engine's precision; such a run is recorded as diverged at the last step, so
    ``n_diverged`` counts it and no inf reaches the outputs.

    Returns:
        The diverged step of each run (-1: finite).
    """
    diverged = diverged_step.copy()
    for kind in outputs:
        finite = np.isfinite(getattr(obs, kind)).all(axis=1)
        diverged[~finite & (diverged < 0)] = steps
    return diverged


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Run one chunk of a sweep as a single engine batch.

    Args:
        task: The chunk and everything it needs.

    Returns:
        Its tables.

    """
    start = time.perf_counter()
    structure, base = compiled(task.key, task.scenario, SCENARIO_SOURCE)
    chunk = task.chunk
    k = chunk.seeds_per_sample
    run_ids, sample_ids = chunk.run_ids, chunk.sample_ids
    seeds = run_seeds(task.sweep_seed, run_ids)
    per_run = np.repeat(task.values, k, axis=0)
    params = take(sample_params(task, base), np.repeat(np.arange(chunk.n_samples), k))
    batch = make_batch(structure, params, seeds, record_reactions=False)
    obs = SummaryObserver(chunk.n_runs, structure.n_powers, structure.steps, task.trajectories,
                          task.every, dtype=params.dtype)
    final = simulate(batch, observe=obs, on_divergence="flag")
    diverged = flag_nonfinite_outputs(final.diverged_step, obs, task.outputs, structure.steps)
    bad = diverged >= 0

    runs: dict[str, Any] = {"run_id": run_ids, "sample_id": sample_ids, "seed": seeds}
    for j, path in enumerate(task.paths):
        runs[path] = per_run[:, j]
    runs["diverged_step"] = diverged.astype(np.int32)
    summary: dict[str, Any] = {
        "sample_id": np.arange(chunk.first_sample, chunk.first_sample + chunk.n_samples),
    }
    for j, path in enumerate(task.paths):
        summary[path] = task.values[:, j]
    summary["n_runs"] = np.full(chunk.n_samples, k, dtype=np.int32)
    summary["n_diverged"] = bad.reshape(chunk.n_samples, k).sum(axis=1).astype(np.int32)
    for kind in task.outputs:
        values = getattr(obs, kind).astype(np.float64)
        values[bad] = np.nan
        mean, low, high = _percentiles(values.reshape(chunk.n_samples, k, -1))
        for p, power in enumerate(structure.powers):
            column = f"{kind}_{power}"
            runs[column] = values[:, p]
            summary[f"{column}_mean"] = mean[:, p]
            summary[f"{column}_p5"] = low[:, p]
            summary[f"{column}_p95"] = high[:, p]
    trajectories = _trajectory_table(obs, run_ids, structure) if task.trajectories else None
    return ChunkResult(
        index=chunk.index, runs=pa.table(runs), summary=pa.table(summary),
        trajectories=trajectories, seconds=time.perf_counter() - start,
        peak_rss_mb=peak_rss_mb(),
    )


def peak_rss_mb() -> float:
    """Return this process's peak resident memory so far, MB (Linux gives KB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024
