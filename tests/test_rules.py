"""Each rule alone, against values computed by hand."""

import numpy as np
import pytest

from sim.engine import rules
from sim.engine.state import influence_shares

A = np.array


def test_state_risk():
    risk = rules.state_risk(A([[0.6, 0.9, 0.0]]), A([[2.0, 0.0, 5.0]]), A([0.5]), A([0.15]))
    assert risk == pytest.approx(A([[0.5, 0.05, 1.0]]))  # 0.2 + 0.3; 0.05; clipped to 1


def test_investment_gate_is_a_logistic_around_the_tolerance():
    risk = A([[0.3, 0.2, 0.5]])
    tolerance = np.full((1, 3, 1), 0.3)
    gate = rules.investment_gate(risk, tolerance, A([0.05]))
    assert gate[0, :, 0] == pytest.approx([0.5, 1 / (1 + np.exp(-2.0)), 1 / (1 + np.exp(4.0))])


def test_channel_allocation_normalises_and_pulls_investment_toward_resources():
    allocation = A([[[1.0, 3.0]]])  # (R, P, S): one power, two states
    interest = A([[[1.0]]])  # (R, P, K)
    resources = A([[[1.0], [0.0]]])  # (R, S, K): only the first state has the resource
    out = rules.channel_allocation(allocation, interest, resources)  # (R, C, S, P)
    assert out[0, rules.SOFT_POWER, :, 0] == pytest.approx([0.25, 0.75])
    assert out[0, rules.INVEST, :, 0] == pytest.approx([0.4, 0.6])  # weights 1 x 2, 3 x 1


def test_spend_ceiling_gate_and_redirect():
    budget_allocation = np.zeros((1, 4, 1, 1))
    budget_allocation[0, :, 0, 0] = [100.0, 10.0, 4.0, 0.0]
    scale = np.ones((1, 1, 4))
    args = (scale, np.full((1, 1, 1), 3.0), np.full((1, 1, 1), 0.4), A([0.5]))
    spent = rules.spend(budget_allocation, args[0], np.full((1, 1, 1), 0.5), *args[1:])
    # multiplier 1.5: planned 150 invest, 40% passes the gate = 60, half of the blocked 90 moves
    assert spent[0, :, 0, 0] == pytest.approx([60.0, 15.0 + 45.0, 6.0, 0.0])
    capped = rules.spend(budget_allocation, args[0], np.full((1, 1, 1), 10.0), *args[1:])
    assert capped[0, rules.DIPLOMACY, 0, 0] == pytest.approx(12.0)  # ceiling 3 x 4
    scale[0, 0, rules.DIPLOMACY] = 0.5
    halved = rules.spend(budget_allocation, scale, np.zeros((1, 1, 1)), *args[1:])
    assert halved[0, rules.DIPLOMACY, 0, 0] == pytest.approx(2.0)


def test_reception_hedges_against_the_strongest_rival():
    share = A([[[0.5, 0.1, 0.0]]])
    openness = np.full((1, 1, 3), 0.8)
    eff = rules.reception(share, openness, A([2.0]))
    expected = 0.8 * np.exp(2.0 * A([0.1 - 0.5, 0.5 - 0.1, 0.5 - 0.0]))
    assert eff[0, 0] == pytest.approx(expected)
    alone = rules.reception(A([[[0.3]]]), np.full((1, 1, 1), 0.8), A([2.0]))
    assert alone[0, 0, 0] == pytest.approx(0.8 * np.exp(-0.6))


def test_update_stocks():
    footprint, goodwill, diplomatic = (np.full((1, 1, 1), v) for v in (100.0, 50.0, 20.0))
    spend = np.zeros((1, 4, 1, 1))
    spend[0, :, 0, 0] = [10.0, 4.0, 2.0, 0.0]
    eff = np.full((1, 1, 1), 0.5)
    decay = A([[0.1, 0.2, 0.5]])
    vis_gain = np.full((1, 1, 1), 0.3)  # k_v x v_p
    e, g, d = rules.update_stocks(footprint, goodwill, diplomatic, spend, eff, decay, vis_gain)
    assert e[0, 0, 0] == pytest.approx(0.9 * 100 + 0.5 * 10)
    assert g[0, 0, 0] == pytest.approx(0.8 * 50 + 0.5 * 4)
    assert d[0, 0, 0] == pytest.approx(0.5 * 20 + 0.5 * (2 + 0.3 * 10))


def test_update_stability():
    new = rules.update_stability(
        stability=A([[0.5, 0.05]]), target=A([[0.7, 0.7]]), recovery=A([0.1]),
        destabilise_spend=A([[[10.0, 0.0], [0.0, 0.0]]]), destabilise_per_usd_m=A([0.002]),
        campaign_loss=A([[0.0, 0.2]]), noise=A([[0.01, 0.0]]),
    )
    assert new[0] == pytest.approx([0.5 + 0.02 - 0.02 + 0.01, 0.0])  # second clipped at 0


def test_perceived_loudness():
    assert rules.perceived(A([[0.5, 1.0, 0.0]]), A([0.8]))[0] == pytest.approx([1.0, 1.8, 0.2])
    per_state = rules.perceived(A([[[0.5, 1.0], [0.0, 0.5]]]), A([0.8]))
    np.testing.assert_allclose(per_state[0], [[1.0, 1.8], [0.2, 1.0]])


def _react(rule, effort, share=None, spend=None, base=None, sens=0.0, thr=0.0, griev=0.0,
           restraint=0.0, loud=(1.0, 1.0)):
    R, S, P = 1, 1, 2
    share = np.zeros((R, S, P)) if share is None else A(share).reshape(R, S, P)
    spend = np.zeros((R, S, P)) if spend is None else A(spend).reshape(R, S, P)
    base = np.ones((R, S, P)) if base is None else A(base).reshape(R, S, P)
    full = lambda v: np.full((R, P, P), v)  # noqa: E731
    return rules.react(A(rule, dtype=np.int8), A(effort).reshape(R, S, P), share, spend, base,
                       A([[loud]]), full(sens), full(thr), full(griev),
                       np.full((R, S, P), restraint))


def test_react_linear_is_richardson():
    # power 0 reacts linearly to power 1: x' = x + a y - m x + g
    new, signal, response = _react([[0, 1], [0, 0]], [0.4, 2.0], sens=0.3, griev=0.05,
                                   restraint=0.5, loud=(1.0, 1.5))
    assert new[0, 0, 0] == pytest.approx(0.4 + 0.3 * 1.5 * 2.0 - 0.5 * 0.4 + 0.05)
    assert new[0, 0, 1] == pytest.approx(2.0 - 0.5 * 2.0)  # no rule: restraint only
    assert signal[0, 0, 0, 1] == pytest.approx(3.0)
    assert response[0, 0, 0, 1] == pytest.approx(0.3 * 3.0 + 0.05)


def test_react_threshold_only_past_the_threshold():
    rule = [[0, 2], [0, 0]]
    below, _, _ = _react(rule, [0.0, 0.0], share=[0.0, 0.04], sens=2.0, thr=0.05)
    above, _, _ = _react(rule, [0.0, 0.0], share=[0.0, 0.08], sens=2.0, thr=0.05)
    assert below[0, 0, 0] == 0.0
    assert above[0, 0, 0] == pytest.approx(2.0 * 0.03)


def test_react_tit_for_tat_matches_visible_spend():
    # power 0 matches power 1's 30 of visible spend; its own spend at zero effort is 10
    new, signal, _ = _react([[0, 3], [0, 0]], [0.0, 0.0], spend=[0.0, 30.0], base=[10.0, 5.0],
                            sens=1.0)
    assert signal[0, 0, 0, 1] == pytest.approx(30.0)
    assert new[0, 0, 0] == pytest.approx(2.0)  # 10 x (1 + 2) = 30
    quiet, _, _ = _react([[0, 3], [0, 0]], [0.7, 0.0], spend=[0.0, 5.0], base=[10.0, 5.0],
                         sens=1.0, restraint=0.5)
    assert quiet[0, 0, 0] == pytest.approx(0.35)  # nothing to match: restraint only


def test_react_effort_never_negative():
    new, _, _ = _react([[0, 1], [0, 0]], [0.1, 0.0], sens=0.0, griev=-1.0)
    assert new[0, 0, 0] == 0.0


def test_influence_shares_and_residual_sum_to_one():
    footprint = A([[[100.0, 300.0]]])
    goodwill = A([[[50.0, 0.0]]])
    diplomatic = A([[[10.0, 40.0]]])
    share = influence_shares(footprint, goodwill, diplomatic, A([[1.0, 2.0, 0.5]]), A([[500.0]]))
    attraction = A([100 + 100 + 5, 300 + 0 + 20])
    assert share[0, 0] == pytest.approx(attraction / (attraction.sum() + 500))
    assert share.sum() + 500 / (attraction.sum() + 500) == pytest.approx(1.0)
