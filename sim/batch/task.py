"""A task: one chunk of runs and the name of what to measure on it.

This module is imported by worker processes (a local pool or Dask workers): :func:`run_task` is
what they run. It looks the measure up by name (:mod:`sim.batch.measures`), so a task carries
only data and a name, and the front end's module is imported in the worker when first needed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sim.batch.measures import measure


@dataclass(frozen=True)
class Task:
    """One chunk of runs for a worker.

    Attributes:
        index: The chunk's number; results are put back in this order.
        measure: The name of a measure in :data:`sim.batch.measures.MEASURES`.
        payload: What the measure's function takes (the front end's chunk: a scenario key
            and mapping, parameter values, seeds...).
        n_runs: Runs in the chunk (the progress display counts them).

    """

    index: int
    measure: str
    payload: Any
    n_runs: int


@dataclass(frozen=True)
class Finished:
    """A finished task.

    Attributes:
        index: The task's number.
        n_runs: Its runs.
        value: What the measure returned.
        seconds: Time the worker spent on it.

    """

    index: int
    n_runs: int
    value: Any
    seconds: float


def run_task(task: Task) -> Finished:
    """Run one task in this process: its measure's function on its payload."""
    start = time.perf_counter()
    value = measure(task.measure).function()(task.payload)
    return Finished(task.index, task.n_runs, value, time.perf_counter() - start)
