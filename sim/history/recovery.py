"""The identification measurement: can a fit recover parameters the model itself generated?

At each of a few known parameter vectors (*truths*, each parameter drawn uniformly from the
middle 70% of its prior) the model simulates the observed cells, the observations get
log-normal noise at the level the fit assumes, and :func:`sim.history.calibrate.calibrate` fits
them. A parameter is identified when its 90% interval is narrow against its prior's width
(:data:`sim.history.identification.IDENTIFIED_BELOW`), and the fit is honest when the intervals
hold the truths (coverage). tests/test_recovery.py runs it on the record's cells;
``benchmarks/identification.py`` runs it with cells added, to measure what a series the record
lacks (Gallup's approval, :func:`approval_cells`) would identify (docs/CALIBRATION.md,
"Identification, measured")::

    scenario, observed = load_inputs(None, None)
    measured = measure(scenario, observed, extra=approval_cells(range(2015, 2020)))
    measured.mean_share()   # each parameter's 90% width over its prior's

The random numbers are laid out so that adding cells changes neither the truths nor the noise
on the record's cells: the truths and the record's noise come from one generator (seeded
``seed``, drawn truth by truth, as the shipped test always drew them), the added cells' noise
from a second one (seeded ``[seed, truth]``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.engine.approval import APPROVAL_LEVEL, APPROVAL_SLOPE, SURVEYED
from sim.engine.params import compile_scenario
from sim.history.calibrate import (
    OBSERVATION_NOISE,
    PARAMETERS,
    Calibration,
    CalibrationError,
    HistorySimulator,
    Targets,
    calibrate,
    select_targets,
)
from sim.history.identification import IDENTIFIED_BELOW
from sim.scenario import Scenario

NOISE = OBSERVATION_NOISE
"""Observation noise on the synthetic records, sd of log(observed / model): the level the fit
assumes (:data:`sim.history.calibrate.OBSERVATION_NOISE`), which each fit also adds to its own
simulations (noisy ABC)."""

TRUTHS = 3
"""How many parameter vectors are recovered."""

SEED = 18
"""Seed of the truths and of the noise."""

POPULATION = 500
"""Particles per generation of each fit."""

GENERATIONS = 8
"""Generations of each fit, the prior's included."""

MIDDLE = (0.15, 0.85)
"""Where in its prior (as a share of the width from the low bound) a truth is drawn."""

FIRST_RUN_SEED = 123
"""Truth k's observations are the run with seed ``FIRST_RUN_SEED + k``."""

APPROVAL_PARTNERS = ("russia", "china")
"""The partners whose approval Gallup's reports give for Central Asia."""

APPROVAL_CONVENTION = "gallup_world_poll"
"""The convention of the synthetic approval cells (data/observed/README.md)."""

KEY = ["year", "state", "partner", "observable"]
"""What names a cell."""


def approval_cells(years: Iterable[int], states: Iterable[str] = SURVEYED,
                   partners: Iterable[str] = APPROVAL_PARTNERS) -> pd.DataFrame:
    """Cells of ``leadership_approval`` to add to the observed set, one per year, state, partner.

    Args:
        years: Calendar years.
        states: Surveyed states (default: the four Gallup asks).
        partners: Partners whose leadership is rated (default Russia and China).

    Returns:
        Columns year, state, partner, observable, convention; no value (the model sets it).
    """
    rows = [(int(y), s, p, "leadership_approval", APPROVAL_CONVENTION)
            for s in states for p in partners for y in years]
    return pd.DataFrame(rows, columns=[*KEY, "convention"])


@dataclass(frozen=True)
class Recovery:
    """What :func:`measure` found.

    Attributes:
        names: The fitted parameters, in the fit's order.
        low: Their priors' low bounds (d,).
        high: Their priors' high bounds (d,).
        truths: The parameter vectors the observations were made at (t, d).
        p5: Each fit's weighted 5th percentiles (t, d).
        p95: Each fit's weighted 95th percentiles (t, d).
        record_cells: How many of the cells are the record's.
        added_cells: How many were added.
        seconds: Wall time of the whole measurement.
    """

    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    truths: np.ndarray
    p5: np.ndarray
    p95: np.ndarray
    record_cells: int
    added_cells: int
    seconds: float

    def width_share(self) -> np.ndarray:
        """Each fit's 90% width as a share of the prior's (t, d)."""
        return (self.p95 - self.p5) / (self.high - self.low)

    def mean_share(self) -> np.ndarray:
        """The mean over the truths of :meth:`width_share` (d,)."""
        return self.width_share().mean(axis=0)

    def inside(self) -> np.ndarray:
        """Whether each truth lies in its fit's 90% interval (t, d)."""
        return (self.p5 <= self.truths) & (self.truths <= self.p95)

    def coverage(self) -> float:
        """The share of parameter-truth pairs inside their 90% interval."""
        return float(self.inside().mean())

    def identified(self) -> list[str]:
        """The parameters whose mean width share is below ``IDENTIFIED_BELOW``, in order."""
        return [n for n, s in zip(self.names, self.mean_share(), strict=True)
                if s < IDENTIFIED_BELOW]


def measure(scenario: Scenario, observed: pd.DataFrame, cutoff: int = 2019, *,
            extra: pd.DataFrame | None = None, truths: int = TRUTHS, noise: float = NOISE,
            extra_noise: float | None = None, population: int = POPULATION,
            generations: int = GENERATIONS, seed: int = SEED, on_fit=None,
            abc_noise: float | None = None) -> Recovery:
    """Recover :data:`sim.history.calibrate.PARAMETERS` at ``truths`` known vectors.

    Args:
        scenario: The history scenario.
        observed: The record (:func:`sim.history.observed.load_observed`); its cells up to
            ``cutoff`` are the ones fitted, and only their places are used, not their values.
        cutoff: Last year of the fit.
        extra: Cells to add (year, state, partner, observable, convention, as
            :func:`approval_cells` makes); a cell the record already has is not added twice.
        truths: How many parameter vectors.
        noise: sd of the log-normal observation noise.
        extra_noise: The added cells' sd (default ``noise``): a survey's sampling error can be
            smaller than the record's misfit.
        population: Particles per generation.
        generations: Generations per fit.
        seed: Seed of the truths and the noise.
        on_fit: Called with (k, the :class:`~sim.history.calibrate.Calibration`) after fit k.
        abc_noise: Observation noise the fit adds to its simulated values (noisy ABC,
            :func:`sim.history.calibrate.calibrate`'s ``noise_sd``); default ``noise``, the
            level the records carry, as the shipped fit assumes; 0 adds none (the plain ABC).

    Returns:
        The :class:`Recovery`.

    Raises:
        CalibrationError: An added cell the model does not produce.
    """
    began = time.perf_counter()
    setup = _setup(scenario, observed, cutoff, extra)
    record, added, targets, simulator = setup.record, setup.added, setup.targets, setup.simulator
    names, low, high = setup.names, setup.low, setup.high
    rng = np.random.default_rng(seed)
    drawn, p5s, p95s = [], [], []
    for k in range(truths):
        truth = low + (high - low) * rng.uniform(*MIDDLE, size=len(names))
        clean = simulator.values(truth[None, :], np.array([FIRST_RUN_SEED + k]))[0]
        error = np.concatenate([
            rng.normal(0.0, noise, size=len(record)),
            np.random.default_rng([seed, k]).normal(
                0.0, noise if extra_noise is None else extra_noise, size=len(added))])
        # Kept to six significant figures, as an observed-data file holds them.
        synthetic = targets.table.assign(value=[float(f"{v:.6g}")
                                                for v in clean * np.exp(error)])
        fit: Calibration = calibrate(scenario, synthetic, cutoff, population=population,
                                     generations=generations, seed=k,
                                     noise_sd=noise if abc_noise is None else abc_noise)
        p5, p95 = fit.result.quantile([0.05, 0.95])
        drawn.append(truth)
        p5s.append(p5)
        p95s.append(p95)
        if on_fit is not None:
            on_fit(k, fit)
    return Recovery(names=names, low=low, high=high, truths=np.array(drawn), p5=np.array(p5s),
                    p95=np.array(p95s), record_cells=len(record), added_cells=len(added),
                    seconds=time.perf_counter() - began)


@dataclass(frozen=True)
class _Setup:
    """The record's cells, the added ones, their targets, and the simulator over them."""

    record: pd.DataFrame
    added: pd.DataFrame
    targets: Targets
    simulator: HistorySimulator
    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray


def _setup(scenario: Scenario, observed: pd.DataFrame, cutoff: int,
           extra: pd.DataFrame | None) -> _Setup:
    """Select the record's cells, add ``extra``'s new ones, and compile the simulator once."""
    record = select_targets(observed, scenario, cutoff).table
    added = _new_cells(record, extra)
    cells = pd.concat([record, added.assign(value=1.0)], ignore_index=True)
    targets = select_targets(cells, scenario, cutoff)
    _check_produced(cells, targets.table)
    structure, params = compile_scenario(scenario)
    names = tuple(PARAMETERS)
    return _Setup(record=record, added=added, targets=targets,
                  simulator=HistorySimulator(structure, params, names, targets, scenario.start),
                  names=names, low=np.array([d.low for d in PARAMETERS.values()]),
                  high=np.array([d.high for d in PARAMETERS.values()]))


def _check_produced(cells: pd.DataFrame, selected: pd.DataFrame) -> None:
    """Refuse cells that selection dropped, and approval outside the surveyed states."""
    kept = set(selected[KEY].itertuples(index=False, name=None))
    lost = [row for row in cells[KEY].itertuples(index=False, name=None)
            if row not in kept or (row[3] == "leadership_approval" and row[1] not in SURVEYED)]
    if lost:
        raise CalibrationError(
            f"added cells the model does not produce: {', '.join(map(str, lost[:5]))}; allowed: "
            f"years up to the cut-off, leadership_approval in {', '.join(SURVEYED)}, "
            "remittances from a power that sends them")


def _new_cells(record: pd.DataFrame, extra: pd.DataFrame | None) -> pd.DataFrame:
    """The rows of ``extra`` whose cell the record does not have."""
    columns = [*KEY, "convention"]
    if extra is None or extra.empty:
        return pd.DataFrame(columns=columns)
    have = set(record[KEY].itertuples(index=False, name=None))
    new = [tuple(row) not in have for row in extra[KEY].itertuples(index=False, name=None)]
    return extra.loc[new, columns].drop_duplicates(KEY).reset_index(drop=True)


def _grid_values(scenario: Scenario, observed: pd.DataFrame, cutoff: int,
                 extra: pd.DataFrame | None, points: int, seed: int
                 ) -> tuple[pd.DataFrame, np.ndarray]:
    """The cells, and the model's values over a one-at-a-time grid (d, points, cells).

    One parameter at a time is moved over :data:`MIDDLE` of its prior at ``points`` values, the
    others at their prior's centre, every run with ``seed``.
    """
    setup = _setup(scenario, observed, cutoff, extra)
    names, low, high = setup.names, setup.low, setup.high
    grid = np.linspace(*MIDDLE, points)
    theta = np.tile((low + high) / 2.0, (len(names) * points, 1))
    for j in range(len(names)):
        theta[j * points:(j + 1) * points, j] = low[j] + (high[j] - low[j]) * grid
    values = setup.simulator.values(theta, np.full(len(theta), seed))
    return setup.targets.table, values.reshape(len(names), points, -1)


def directions(scenario: Scenario, observed: pd.DataFrame, cutoff: int = 2019, *,
               extra: pd.DataFrame | None = None, noise: float = NOISE,
               seed: int = FIRST_RUN_SEED) -> tuple[np.ndarray, np.ndarray]:
    """How many directions of the parameters the cells can tell apart, near the prior's centre.

    Each parameter's effect is the change of every cell's log value when it moves from one end
    of :data:`MIDDLE` of its prior to the other (others at the centre, common random numbers),
    in units of the noise sd: the rows of a (d, cells) matrix. Its singular values say how far,
    in noise sd over all the cells together, each independent combination of parameters moves
    the cells as it crosses 70% of the prior: a combination whose value is small cannot be
    learnt whatever each parameter does alone. The cosines between the rows say which
    parameters move the cells alike (near 1 or -1: one combination, not two parameters).

    Returns:
        The singular values, largest first (d,), and the cosines between the effects (d, d).
    """
    _, values = _grid_values(scenario, observed, cutoff, extra, 2, seed)
    effect = np.log(values[:, 1] / values[:, 0]) / noise
    norm = np.linalg.norm(effect, axis=1)
    return (np.linalg.svd(effect, compute_uv=False),
            effect @ effect.T / np.outer(norm, norm))


def sensitivity(scenario: Scenario, observed: pd.DataFrame, cutoff: int = 2019, *,
                extra: pd.DataFrame | None = None, points: int = 11,
                seed: int = FIRST_RUN_SEED) -> pd.DataFrame:
    """How far each fitted parameter, moved across the middle of its prior, moves the cells.

    One parameter at a time is set at ``points`` values evenly over :data:`MIDDLE` of its
    prior, the others at their prior's centre, every run with the same seed (common random
    numbers, so the differences are the parameter's). For each cell the range (largest minus
    smallest) of the log value is taken: against the noise sd it says how much one cell can
    tell about the parameter. For approval cells the range of the soft share behind the
    approval (:mod:`sim.engine.approval`, inverted) is given too.

    Args:
        scenario: The history scenario.
        observed: The record; its cells up to ``cutoff`` are measured.
        cutoff: Last year.
        extra: Cells to add, as for :func:`measure`.
        points: Values per parameter.
        seed: The runs' seed.

    Returns:
        Rows (parameter, observable) in the fit's order: ``cells``, ``log_range_rms`` and
        ``log_range_max`` (over the observable's cells), ``soft_range_max`` (approval only,
        else NaN).
    """
    table, values = _grid_values(scenario, observed, cutoff, extra, points, seed)
    names = tuple(PARAMETERS)
    observable = table["observable"].to_numpy()
    rows = []
    for j, name in enumerate(names):
        span = np.ptp(np.log(values[j]), axis=0)  # (cells,)
        for kind in dict.fromkeys(observable):
            mask = observable == kind
            soft = np.nan
            if kind == "leadership_approval":
                share = (np.log(values[j][:, mask] / (1.0 - values[j][:, mask]))
                         - APPROVAL_LEVEL) / APPROVAL_SLOPE
                soft = float(np.ptp(share, axis=0).max())
            rows.append({"parameter": name, "observable": kind, "cells": int(mask.sum()),
                         "log_range_rms": float(np.sqrt(np.mean(span[mask] ** 2))),
                         "log_range_max": float(span[mask].max()), "soft_range_max": soft})
    return pd.DataFrame(rows)
