"""Identification, measured: recover every calibrated parameter at three truths (issue 18, 2).

Observations are simulated by the model itself at three known parameter vectors (each of the
nine fitted parameters drawn uniformly from the middle 70% of its prior, seed 18), at the
observed cells of 2015-2019, with log-normal observation noise of sd 0.2, the level the fit
assumes (its final tolerance, the RMS log error, is about 0.22 on the record). Each set is
calibrated by ``sim.history.calibrate.calibrate`` (500 particles, 8 generations); the
measurement is :func:`sim.history.recovery.measure`. About 50 s on an idle machine: the slow
tier.
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


def test_the_90_percent_intervals_cover_the_truth(recovery):
    """Measured: 22 of 27 parameter-truth pairs (81%); required: at least 80%."""
    sets, _ = recovery
    inside = np.concatenate([(p5 <= truth) & (truth <= p95) for truth, p5, p95 in sets])
    assert inside.mean() >= 0.8, inside.reshape(3, -1)


@pytest.mark.xfail(strict=True, reason=(
    "only 2 of 9 parameters have 90% intervals under half their prior's width (mean over the "
    "three truths: remittance decay 0.07, energy decay 0.28; China's budget 0.62, footprint "
    "decay 0.63, Russia's budget 0.88, the four influence weights 0.89 each): trade and "
    "remittances do not identify how influence is weighed, and the record has no approval "
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
