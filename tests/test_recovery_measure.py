"""The identification measurement itself (sim/history/recovery.py), on tiny fits.

tests/test_recovery.py runs it at full size (slow tier); here each fit is 10 particles of one
generation (the prior), a few seconds, to check what the measurement promises: the truths and
the record's noisy cells do not change when cells are added, the added cells are the ones asked
for, a cell the model does not produce is refused, and the width and coverage arithmetic.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.history import calibrate as cal
from sim.history.recovery import (
    Recovery,
    approval_cells,
    directions,
    measure,
    sensitivity,
)

TINY = {"truths": 2, "population": 10, "generations": 1}


@pytest.fixture(scope="module")
def inputs():
    return cal.load_inputs(None, None)


def _observations(inputs, extra=None, **settings):
    """The synthetic observations each fit saw, and the :class:`Recovery`."""
    seen = []
    measured = measure(*inputs, extra=extra, on_fit=lambda k, fit: seen.append(fit.targets),
                       **TINY | settings)
    return seen, measured


def test_approval_cells_are_the_surveyed_states_by_partner_and_year():
    cells = approval_cells(range(2015, 2020))
    assert len(cells) == 40
    assert set(cells["state"]) == {"kazakhstan", "kyrgyzstan", "tajikistan", "uzbekistan"}
    assert set(cells["partner"]) == {"russia", "china"}
    assert set(cells["observable"]) == {"leadership_approval"}
    assert not cells.duplicated(["year", "state", "partner"]).any()


def test_added_cells_leave_the_truths_and_the_record_cells_alone(inputs):
    """Adding the 40 approval cells changes neither the truths nor the noisy values of the
    record's cells (the added cells draw their noise from a generator of their own); the
    mutant, drawing them from the truths' generator, would move the second truth."""
    base, plain = _observations(inputs)
    more, added = _observations(inputs, extra=approval_cells(range(2015, 2020)))
    assert (plain.record_cells, plain.added_cells) == (27, 0)
    assert (added.record_cells, added.added_cells) == (27, 40)
    np.testing.assert_array_equal(plain.truths, added.truths)
    for few, many in zip(base, more, strict=True):
        assert len(many.values) == 67
        np.testing.assert_array_equal(few.values, many.values[:27])
        tail = many.table.iloc[27:]
        assert set(tail["observable"]) == {"leadership_approval"}
        assert tail["value"].between(0.0, 1.5).all()  # the model's approval, times the noise
    # A different noise level for the added cells moves them only.
    quiet, _ = _observations(inputs, extra=approval_cells(range(2015, 2020)),
                             extra_noise=0.01)
    np.testing.assert_array_equal(quiet[0].values[:27], more[0].values[:27])
    assert not np.array_equal(quiet[0].values[27:], more[0].values[27:])


def test_a_cell_the_record_has_is_not_added_twice(inputs):
    record = cal.select_targets(inputs[1], inputs[0], 2019).table
    again = record.iloc[:3][["year", "state", "partner", "observable", "convention"]]
    _, measured = _observations(inputs, extra=again, truths=1)
    assert measured.added_cells == 0


def test_a_cell_the_model_does_not_produce_is_refused(inputs):
    turkmen = approval_cells([2017], states=["turkmenistan"])  # Gallup does not survey it
    with pytest.raises(cal.CalibrationError, match="turkmenistan"):
        measure(*inputs, extra=turkmen, **TINY)
    region = approval_cells([2017], states=["region"])
    with pytest.raises(cal.CalibrationError, match="region"):
        measure(*inputs, extra=region, **TINY)
    late = approval_cells([2021])  # after the cut-off
    with pytest.raises(cal.CalibrationError, match="2021"):
        sensitivity(*inputs, extra=late)


def test_widths_coverage_and_identified():
    r = Recovery(names=("a", "b"), low=np.array([0.0, 0.0]), high=np.array([1.0, 10.0]),
                 truths=np.array([[0.5, 5.0], [0.5, 9.5]]),
                 p5=np.array([[0.4, 1.0], [0.45, 1.0]]), p95=np.array([[0.6, 9.0], [0.55, 9.0]]),
                 record_cells=27, added_cells=0, seconds=1.0)
    np.testing.assert_allclose(r.mean_share(), [0.15, 0.8])
    assert r.inside().tolist() == [[True, True], [True, False]]
    assert r.coverage() == 0.75
    assert r.identified() == ["a"]


def test_sensitivity_names_what_moves_each_kind_of_cell(inputs):
    """The remittance decay moves the remittance cells most; the hedging premium, which only
    moves reception, moves trade by well under the noise and approval by more."""
    table = sensitivity(*inputs, extra=approval_cells([2018]), points=3).set_index(
        ["parameter", "observable"])
    rms = table["log_range_rms"]
    assert rms["rules.dependence.decay.remittances", "remittances_usd_bn"] > 0.3
    assert rms["rules.hedging_max_premium", "trade_share"] < 0.02
    assert rms["rules.hedging_max_premium", "leadership_approval"] > \
        5 * rms["rules.hedging_max_premium", "trade_share"]
    assert table.loc[("rules.hedging", "trade_share"), "soft_range_max"] != \
        table.loc[("rules.hedging", "trade_share"), "soft_range_max"]  # NaN off approval
    assert table.loc[("rules.hedging", "leadership_approval"), "cells"] == 8


def test_approval_cells_add_combinations_the_record_cannot_tell_apart(inputs):
    """On the record's cells the parameters' effects have one large combination and a second
    of about 3 noise sd; approval moves another combination by more (measured 9.05: 11.42,
    3.24 without, 12.68, 9.05 with)."""
    alone, cosines = directions(*inputs)
    assert alone.shape == (9,) and np.all(np.diff(alone) <= 0)
    np.testing.assert_allclose(np.diag(cosines), 1.0)
    np.testing.assert_allclose(cosines, cosines.T)
    with_approval, _ = directions(*inputs, extra=approval_cells(range(2015, 2020)))
    assert alone[1] < 5 < with_approval[1]
    assert with_approval[0] >= alone[0]  # adding cells never loses a direction
