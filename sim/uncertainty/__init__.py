"""Parametric uncertainty: draw each replicate's uncertain scenario fields, paired by seed.

Three kinds of uncertainty (``--uncertainty`` on ``sim run`` and ``sim compare``):

- ``none``: every field as written; bands hold the seeds' noise only.
- ``posterior``: the calibrated posterior, ``data/posterior/posterior.parquet`` (one column per
  scenario field path, plus ``weight``): replicate i takes one row, drawn with probability
  proportional to its weight.
- ``FILE``: a YAML file of distributions per field path, a strategist's own priors::

      powers.china.reaction.japan.sensitivity: {dist: lognormal, median: 2.0, sigma: 0.5}
      rules.hedging: {dist: uniform, low: 0.1, high: 0.4}
      rules.decay.goodwill: {dist: normal, mean: 0.05, sd: 0.01, bounds: [0.0, 0.2]}
      powers.japan.restraint: {dist: triangular, low: 0.0, mode: 0.1, high: 0.3}

  ``bounds: [lo, hi]`` truncates a distribution: a draw is as if redrawn until it falls inside
  (computed exactly by the inverse CDF restricted to the bounds); nothing is clipped.

Draw i is a pure function of (the scenario seed + i, the field path): replicate i, which runs
with seed ``seed + i``, gets the same parameter draw in every compared scenario (the draws are
*paired*, like the seeds), and adding a field to a FILE does not change the others' draws.
A field that a scenario changes from its base (see :func:`held_paths`) is held at its value.
The draws are applied to the batch with :func:`sim.engine.with_values`, so R replicates with R
parameter draws are still one engine batch.

The package, from the ground up: :mod:`~sim.uncertainty.distributions` (the distributions and
the project's one log-normal), :mod:`~sim.uncertainty.source` (what runs draw from),
:mod:`~sim.uncertainty.priors` (a FILE), :mod:`~sim.uncertainty.posterior` (the calibrated
posterior) and :mod:`~sim.uncertainty.draws` (each scenario's draws). It stands on the engine
and the scenario and below everything that draws (outputs, sweeps, what-ifs, decisions,
history).
"""

from sim.uncertainty.distributions import DISTRIBUTIONS, Distribution, lognormal
from sim.uncertainty.draws import (
    KINDS,
    Draws,
    base_of,
    changed_paths,
    held_paths,
    no_draws,
    plan_draws,
    resolve,
)
from sim.uncertainty.posterior import (
    DEFAULT_POSTERIOR,
    HISTORY_PREFIX,
    field_path,
    fitted_to,
    load_posterior,
)
from sim.uncertainty.priors import MAX_FIELDS, load_file
from sim.uncertainty.source import NONE, STREAM_PARAMETERS, Uncertainty, UncertaintyError

__all__ = [
    "DEFAULT_POSTERIOR",
    "DISTRIBUTIONS",
    "HISTORY_PREFIX",
    "KINDS",
    "MAX_FIELDS",
    "NONE",
    "STREAM_PARAMETERS",
    "Distribution",
    "Draws",
    "Uncertainty",
    "UncertaintyError",
    "base_of",
    "changed_paths",
    "field_path",
    "fitted_to",
    "held_paths",
    "load_file",
    "load_posterior",
    "lognormal",
    "no_draws",
    "plan_draws",
    "resolve",
]
