"""What a hindcast runs and what it gives back: :class:`HindcastPlan` and :class:`HindcastResult`.

:func:`sim.history.hindcast.plan_hindcast` makes the plan (every check before any run),
:func:`sim.history.hindcast.run_hindcast` the result, and :mod:`sim.history.hindcast_report`
shows it; the two types sit here, below both.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import pandas as pd

from sim.outputs.run import replicate_seeds
from sim.scenario import Scenario
from sim.uncertainty.draws import Draws


@dataclass(frozen=True)
class HindcastPlan:
    """A checked hindcast, ready to run.

    Attributes:
        scenario: The validated scenario.
        source: Its file.
        draws: Each replicate's parameter values (nothing drawn with ``--posterior none``).
        observed: The observed record (:func:`sim.history.observed.load_observed`).
        observed_folder: Where it was read.
        observed_sha256: SHA-256 of the observed files (names and bytes).
        cutoff: The last year of the calibration window.
        n_draws: Replicates.
        years: The run's years (step 0's year first).
        posterior_cutoff: The last year the posterior was fitted on (None: no posterior).

    """

    scenario: Scenario
    source: str
    draws: Draws
    observed: pd.DataFrame = field(repr=False)
    observed_folder: str
    observed_sha256: str
    cutoff: int
    n_draws: int
    years: tuple[int, ...]
    posterior_cutoff: int | None = None

    @property
    def seeds(self) -> list[int]:
        """The replicates' seeds."""
        return replicate_seeds(self.scenario.seed, self.n_draws)

    @property
    def band(self) -> str:
        """What the bands span, in words."""
        return self.draws.uncertainty.band(self.n_draws)

    def digest(self) -> str:
        """SHA-256 of everything but the scenario and seeds that makes the outputs."""
        text = json.dumps({"draws": self.draws.digest(), "cutoff": self.cutoff,
                           "observed": self.observed_sha256}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class HindcastResult:
    """A finished hindcast.

    Attributes:
        plan: What was run.
        observables: The :data:`sim.history.hindcast.OBSERVABLES_COLUMNS` table.
        skill: From :func:`sim.history.skill.skill_table`.
        skipped: The series that could not be scored, with the reason.
        unmodelled: Observed series the model does not produce (SERIES columns).
        seconds: Time spent running the ensemble.
        executor: Where it ran (for the manifest).

    """

    plan: HindcastPlan
    observables: pd.DataFrame
    skill: pd.DataFrame
    skipped: pd.DataFrame
    unmodelled: pd.DataFrame
    seconds: float
    executor: str = ""
