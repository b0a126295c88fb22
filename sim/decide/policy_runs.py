"""Running candidate policies x uncertainty draws on the engine, through the batch runner.

A chunk is a few candidates, each run on every draw, as one engine batch (candidate-major):
the worker compiles the searched scenario once (:mod:`sim.batch.cache`, by the plan's digest)
and writes each run's policy and parameter draw into the batch with ``with_values``.
:func:`run_policies` is the batch runner's ``policy_outcomes`` measure; this module is imported
by worker processes, so it imports neither pymoo nor Mesa.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.batch import Progress, Task, chunk_slices, run_ordered
from sim.batch.cache import compiled
from sim.engine import make_batch, repeat, simulate, with_values

if TYPE_CHECKING:
    from sim.decide.optimise import Plan


@dataclass(frozen=True)
class PolicyTask:
    """A chunk of candidate policies, each run on every draw, for one worker.

    Attributes:
        key: The plan's digest (caches the compiled scenario in the worker).
        scenario: The resolved base scenario, cut at ``at`` (``model_dump``-able mapping).
        paths: Field paths each candidate sets.
        values: (n_candidates, len(paths)) their values.
        draw_paths: Uncertain field paths.
        draw_values: (n_draws, len(draw_paths)) the draws.
        seeds: (n_draws,) engine seeds, one per draw.
        power: Index of the power whose influence is measured.
        reactors: Indices of the powers whose reactive spending is summed.
    """

    key: str
    scenario: dict[str, Any]
    paths: tuple[str, ...]
    values: np.ndarray
    draw_paths: tuple[str, ...]
    draw_values: np.ndarray
    seeds: np.ndarray
    power: int
    reactors: tuple[int, ...]


@dataclass(frozen=True)
class PolicyResult:
    """What a chunk returns.

    Attributes:
        share: (n_candidates, n_draws, S) the power's influence share per state at ``at``.
        reaction: (n_candidates, n_draws) the reactors' reactive spending, USD m per quarter,
            summed over them and the states, averaged over the quarters to ``at``.
        diverged: Runs whose state became non-finite (their values are NaN).
    """

    share: np.ndarray
    reaction: np.ndarray
    diverged: int


def run_policies(task: PolicyTask) -> PolicyResult:
    """Run a chunk: every candidate on every draw, as one engine batch (candidate-major)."""
    structure, base = compiled(task.key, task.scenario, "<policy search scenario>")
    n_c, n_d = len(task.values), len(task.seeds)
    values = {path: np.repeat(task.values[:, j], n_d) for j, path in enumerate(task.paths)}
    values |= {path: np.tile(task.draw_values[:, j], n_c)
               for j, path in enumerate(task.draw_paths)}
    params = with_values(repeat(base, n_c * n_d), values)
    batch = make_batch(structure, params, np.tile(task.seeds, n_c), record_reactions=False)
    reactors = list(task.reactors)
    total = np.zeros(n_c * n_d, dtype=np.float64)

    def observe(state) -> None:
        if state.step > 0 and reactors:
            effort = state.effort[:, :, reactors].astype(np.float64)
            total[:] += effort.reshape(len(total), -1).sum(axis=1)

    final = simulate(batch, observe=observe, on_divergence="flag")
    share = final.share[:, :, task.power].astype(np.float64)
    bad = final.diverged_step >= 0
    share[bad] = np.nan
    reaction = total / structure.steps
    reaction[bad] = np.nan
    return PolicyResult(share.reshape(n_c, n_d, -1), reaction.reshape(n_c, n_d),
                        int(bad.sum()))


@dataclass
class Engine:
    """Evaluates policies on draws through an executor, counting runs on a progress display."""

    plan: Plan
    executor: Any
    progress: Progress | None = None
    runs: int = 0
    diverged: int = 0
    seconds: float = 0.0

    def evaluate(self, paths: tuple[str, ...], values: np.ndarray, first_key: int,
                 n_draws: int) -> PolicyResult:
        """Run ``values`` (one row per policy) on draws ``first_key .. + n_draws - 1``.

        The uncertain fields a policy sets itself are held at its value.
        """
        plan = self.plan
        drawn = plan.uncertainty.draw(first_key, n_draws)
        draw_paths = tuple(p for p in drawn if p not in paths)
        draw_values = np.column_stack([drawn[p] for p in draw_paths]) if draw_paths else \
            np.zeros((n_draws, 0))
        seeds = np.arange(first_key, first_key + n_draws, dtype=np.uint64)
        per_chunk = max(1, plan.spec.chunk_runs // n_draws)
        power = plan.scenario.power_names.index(plan.power)
        key = plan.digest()
        tasks = [Task(i, "policy_outcomes",
                      PolicyTask(key, plan.searched, paths, values[rows], draw_paths, draw_values,
                                 seeds, power, plan.reactors), (rows.stop - rows.start) * n_draws)
                 for i, rows in enumerate(chunk_slices(len(values), per_chunk,
                                                       self.executor.workers))]
        start = time.perf_counter()
        ordered = run_ordered(tasks, self.executor, self.progress)
        self.seconds += time.perf_counter() - start
        result = PolicyResult(np.concatenate([r.share for r in ordered]),
                              np.concatenate([r.reaction for r in ordered]),
                              sum(r.diverged for r in ordered))
        self.runs += result.reaction.size
        self.diverged += result.diverged
        return result
