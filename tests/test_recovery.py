"""Identification, measured: recover every calibrated parameter at three truths (issue 18, 2).

Observations are simulated by the model itself at three known parameter vectors (each of the
nine fitted parameters drawn uniformly from the middle 70% of its prior, seed 18), at the
observed cells of 2015-2019, with log-normal observation noise of sd 0.2, the level the fit
assumes (its final tolerance, the RMS log error, is about 0.22 on the record). Each set is
calibrated by ``sim.history.calibrate.calibrate`` as the shipped fit is, with the same noise in
its own simulations (noisy ABC; 500 particles, 8 generations); the measurement is
:func:`sim.history.recovery.measure`. The plain ABC (no noise in the simulations) is this
module's mutant: its intervals contract onto points the record does not pin, and the
per-parameter coverage test shows it. A few minutes: the slow tier.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.history import calibrate as cal
from sim.history.identification import IDENTIFIED_BELOW, RECOVERY_WIDTH
from sim.history.recovery import measure

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def recovery():
    """(truth, p5, p95) per truth set, each (9,), and the priors' widths (9,).

    :func:`sim.history.recovery.measure` at its defaults, on the record's cells (the settings
    of this module's docstring); ``benchmarks/identification.py`` prints the same table.
    """
    scenario, observed = cal.load_inputs(None, None)
    measured = measure(scenario, observed, 2019)
    sets = list(zip(measured.truths, measured.p5, measured.p95, strict=True))
    return sets, measured.high - measured.low


def held(sets) -> np.ndarray:
    """Whether each truth lies in its 90% interval: (truths, parameters)."""
    return np.array([(p5 <= truth) & (truth <= p95) for truth, p5, p95 in sets])


def test_the_90_percent_intervals_cover_the_truth(recovery):
    """Measured: 27 of 27 parameter-truth pairs (100%); required: at least 80% (issue 18)."""
    sets, _ = recovery
    inside = held(sets)
    assert inside.mean() >= 0.8, inside


def test_every_parameter_holds_its_truth_at_two_of_the_three_truths(recovery):
    """A posterior that is narrow and off for one parameter fails, however well the others
    cover: measured, every parameter holds its truth at all three."""
    sets, _ = recovery
    assert (held(sets).sum(axis=0) >= 2).all(), held(sets)


def test_the_plain_abc_fails_the_per_parameter_coverage():
    """The mutant: without the noise in its simulations the fit contracts onto the best-fitting
    point. It still covers 22 of 27 pairs (81%), but the energy decay's interval (0.28 of its
    prior) holds the truth at none of the three truths, so the test above fails it."""
    scenario, observed = cal.load_inputs(None, None)
    plain = measure(scenario, observed, 2019, abc_noise=0.0)
    inside = held(list(zip(plain.truths, plain.p5, plain.p95, strict=True)))
    assert not (inside.sum(axis=0) >= 2).all(), inside


@pytest.mark.xfail(strict=True, reason=(
    "only 1 of 9 parameters has a 90% interval under half its prior's width (mean over the "
    "three truths: remittance decay 0.32; energy decay 0.78, the other seven 0.89-0.91): trade "
    "and remittances do not identify how influence is weighed, and the record has no approval "
    "figure in 2015-2019 (docs/CALIBRATION.md)"))
def test_two_thirds_of_the_parameters_are_identified(recovery):
    sets, widths = recovery
    share = np.mean([(p95 - p5) / widths for _, p5, p95 in sets], axis=0)
    assert (share < 0.5).sum() >= 6, share


def test_the_identification_table_is_what_this_test_measures(recovery):
    """sim/history/identification.py's widths, which decide what a forecast draws, are on the
    same side of one half as measured here: a change that identifies a parameter (or loses
    one) fails until the table is remeasured."""
    sets, widths = recovery
    share = np.mean([(p95 - p5) / widths for _, p5, p95 in sets], axis=0)
    measured = {n: bool(s < IDENTIFIED_BELOW) for n, s in zip(cal.PARAMETERS, share, strict=True)}
    table = {n: RECOVERY_WIDTH[n] < IDENTIFIED_BELOW for n in cal.PARAMETERS}
    assert measured == table, dict(zip(cal.PARAMETERS, np.round(share, 2), strict=True))
