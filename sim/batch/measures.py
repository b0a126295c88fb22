"""Named measures: what a front end asks the engine to return for each run of a chunk.

A front end names a measure in its tasks (:class:`sim.batch.task.Task`) instead of shipping a
function, so a task is plain data, a worker imports only the module of the measure it runs, and
the batch runner (which the front ends import) imports none of them: the table below names
each function by module and attribute, resolved in the worker on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim.errors import SimError


@dataclass(frozen=True)
class Measure:
    """What a chunk's runs return, and the function that runs them.

    Attributes:
        name: The name tasks give.
        module: The module holding the function.
        attribute: The function's name there; it takes a task's payload.
        returns: What it returns per run, in words (for messages and docs).

    """

    name: str
    module: str
    attribute: str
    returns: str

    def function(self) -> Callable[[Any], Any]:
        """The function (imports its module the first time)."""
        return getattr(importlib.import_module(self.module), self.attribute)


MEASURES: dict[str, Measure] = {m.name: m for m in (
    Measure("sweep_summaries", "sim.sweep.worker", "run_chunk",
            "a sweep sample's outputs (influence, spend, effort) per run, their mean and "
            "5th-95th percentiles per sample, and the trajectories when the sweep keeps them"),
    Measure("policy_outcomes", "sim.decide.policy_runs", "run_policies",
            "a candidate policy's influence share per state and the reaction it provokes, on "
            "every uncertainty draw"),
    Measure("annual_observables", "sim.history.hindcast", "run_chunk",
            "a replicate's annual observables (trade, shares, remittances) over the record"),
    Measure("abc_summaries", "sim.history.abc", "simulate_chunk",
            "a candidate parameter row's summary statistics for ABC-SMC"),
)}
"""Every measure, by name."""


class UnknownMeasure(SimError):
    """A task names a measure that is not in :data:`MEASURES`."""


def measure(name: str) -> Measure:
    """The measure called ``name``.

    Raises:
        UnknownMeasure: If there is none (the message lists the known ones).

    """
    try:
        return MEASURES[name]
    except KeyError:
        known = ", ".join(sorted(MEASURES))
        raise UnknownMeasure(f"no measure called {name!r}; known: {known}") from None
