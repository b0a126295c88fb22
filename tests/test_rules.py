"""Each rule alone, against values computed by hand."""

import numpy as np
import pytest

from sim.engine import rules
from sim.engine.state import influence_shares
from sim.scenario import CHANNELS

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


def test_spend_splits_reactive_spending_gates_and_redirects():
    budget_allocation = np.zeros((1, 4, 1, 1))
    budget_allocation[0, :, 0, 0] = [100.0, 10.0, 4.0, 0.0]
    scale = np.ones((1, 1, 4))
    gate, redirect, pressure_share = np.full((1, 1, 1), 0.4), A([0.5]), A([0.25])
    spent, pressure = rules.spend(budget_allocation, scale, np.full((1, 1, 1), 40.0), gate,
                                  redirect, pressure_share)
    # 40 reactive: 10 is leverage, 30 is invested; planned invest 130, 40% passes = 52,
    # half of the blocked 78 moves to soft power
    assert pressure[0, 0, 0] == pytest.approx(10.0)
    assert spent[0, :, 0, 0] == pytest.approx([52.0, 10.0 + 39.0, 4.0, 0.0])
    scale[0, 0, CHANNELS.index("diplomacy")] = 0.5
    halved, none = rules.spend(budget_allocation, scale, np.zeros((1, 1, 1)), gate, redirect,
                               pressure_share)
    assert halved[0, CHANNELS.index("diplomacy"), 0, 0] == pytest.approx(2.0)
    assert none[0, 0, 0] == 0.0


def test_absorb_shares_the_capacity_in_proportion():
    spent = np.zeros((1, 4, 2, 2))
    spent[0, rules.INVEST] = [[300.0, 100.0], [10.0, 20.0]]
    spent[0, rules.SOFT_POWER] = 5.0
    rules.absorb(spent, A([[200.0, 1000.0]]))
    # state 0: demand 400 > 200, each power gets half; state 1 is under its capacity
    assert spent[0, rules.INVEST] == pytest.approx(A([[150.0, 50.0], [10.0, 20.0]]))
    assert spent[0, rules.SOFT_POWER] == pytest.approx(np.full((2, 2), 5.0))
    unlimited = np.ones((1, 4, 1, 1))
    rules.absorb(unlimited, A([[np.finfo(np.float64).max]]))  # how the batch says "no limit"
    assert unlimited[0, rules.INVEST, 0, 0] == 1.0
    nothing = np.zeros((1, 4, 1, 1))
    rules.absorb(nothing, A([[100.0]]))  # no demand: nothing to ration, no division by zero
    assert nothing[0, rules.INVEST, 0, 0] == 0.0


def test_pressure_falls_on_the_rivals_the_power_reacts_to():
    pressure = A([[[0.0, 20.0, 0.0]]])  # power 1 spends 20 on leverage
    leverage_share = A([[[0.1, 0.5, 0.2]]])
    targets = A([[0.0, 0.0, 0.0], [0.5, 0.0, 0.5], [0.0, 0.0, 0.0]])  # 1 reacts to 0 and 2
    on = rules.pressure_on(pressure, leverage_share, targets, A([[100.0]]))
    assert on[0, 0] == pytest.approx([0.5 * 0.5 * 20 / 100, 0.0, 0.5 * 0.5 * 20 / 100])


def test_hedging_premium_is_bounded():
    share = A([[[0.6, 0.1, 0.0]]])
    factor = rules.hedging_factor(share, A([2.0]), A([10.0]))  # bound not reached
    expected = np.exp(2.0 * A([0.1 - 0.6, 0.6 - 0.1, 0.6 - 0.0]))
    assert factor[0, 0] == pytest.approx(expected)
    bounded = rules.hedging_factor(share, A([2.0]), A([0.5]))
    assert bounded[0, 0] == pytest.approx([1 / 1.5, 1.5, 1.5])
    none = rules.hedging_factor(share, A([2.0]), A([0.0]))
    assert none[0, 0] == pytest.approx([1.0, 1.0, 1.0])


def test_reception_combines_openness_hedging_events_and_leverage():
    share = A([[[0.5, 0.1]]])
    pressure = A([[[0.0, 0.2]]])
    modifier = A([[[1.0, 1.1]]])
    eff = rules.reception(share, A([[0.8]]), A([2.0]), A([0.5]), pressure, A([5.0]), modifier)
    hedge = rules.hedging_factor(share, A([2.0]), A([0.5]))[0, 0]
    assert eff[0, 0] == pytest.approx(0.8 * hedge * A([1.0, 1.1 / (1 + 5.0 * 0.2)]))


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
           restraint=0.0, loud=(1.0, 1.0), ceiling=np.inf, past=None, gain=None):
    R, S, P = 1, 1, 2
    share = np.zeros((R, S, P)) if share is None else A(share).reshape(R, S, P)
    spend = np.zeros((R, S, P)) if spend is None else A(spend).reshape(R, S, P)
    base = np.ones((R, S, P)) if base is None else A(base).reshape(R, S, P)
    gain = np.zeros((P, P), dtype=bool) if gain is None else A(gain, dtype=bool)
    full = lambda v: np.full((R, P, P), v)  # noqa: E731
    return rules.react(A(rule, dtype=np.int8), A(effort).reshape(R, S, P), share, past, gain,
                       spend, base, A([[loud]]), full(sens), full(thr), full(griev),
                       np.full((R, S, P), restraint), np.full((R, S, P), ceiling))


def test_react_linear_is_richardson():
    # power 0 reacts linearly to power 1: x' = x + a y - m x + g (USD m a quarter)
    new, signal, response = _react([[0, 1], [0, 0]], [40.0, 200.0], sens=0.3, griev=5.0,
                                   restraint=0.5, loud=(1.0, 1.5))
    assert new[0, 0, 0] == pytest.approx(40 + 0.3 * 1.5 * 200 - 0.5 * 40 + 5)
    assert new[0, 0, 1] == pytest.approx(200 - 0.5 * 200)  # no rule: restraint only
    assert signal[0, 0, 0, 1] == pytest.approx(300.0)
    assert response[0, 0, 0, 1] == pytest.approx(0.3 * 300 + 5)


def test_react_threshold_only_past_the_threshold_in_money():
    rule = [[0, 2], [0, 0]]
    base = [150.0, 10.0]  # power 0 spends 150 a quarter in the state with no reaction
    below, _, _ = _react(rule, [0.0, 0.0], share=[0.0, 0.04], base=base, sens=2.0, thr=0.05)
    above, _, _ = _react(rule, [0.0, 0.0], share=[0.0, 0.08], base=base, sens=2.0, thr=0.05)
    assert below[0, 0, 0] == 0.0
    assert above[0, 0, 0] == pytest.approx(2.0 * 0.03 * 150)


def test_react_to_a_gain_over_a_window():
    rule, gain = [[0, 2], [0, 0]], [[False, True], [False, False]]
    past = {(0, 1): A([[[0.0, 0.05]]])}
    rose, signal, _ = _react(rule, [0.0, 0.0], share=[0.0, 0.09], base=[100.0, 1.0], sens=1.0,
                             thr=0.02, past=past, gain=gain)
    assert signal[0, 0, 0, 1] == pytest.approx(0.04)  # gained 0.04 since the window began
    assert rose[0, 0, 0] == pytest.approx(1.0 * (0.04 - 0.02) * 100)
    flat, _, _ = _react(rule, [0.0, 0.0], share=[0.0, 0.5], base=[100.0, 1.0], sens=1.0,
                        thr=0.02, past={(0, 1): A([[[0.0, 0.5]]])}, gain=gain)
    assert flat[0, 0, 0] == 0.0  # a high but steady share is no gain


def test_react_tit_for_tat_matches_visible_spend():
    # power 0 matches power 1's 30 of visible spend; its own spend with no reaction is 10
    new, signal, _ = _react([[0, 3], [0, 0]], [0.0, 0.0], spend=[0.0, 30.0], base=[10.0, 5.0],
                            sens=1.0)
    assert signal[0, 0, 0, 1] == pytest.approx(30.0)
    assert new[0, 0, 0] == pytest.approx(20.0)  # 10 + 20 = 30
    quiet, _, _ = _react([[0, 3], [0, 0]], [7.0, 0.0], spend=[0.0, 5.0], base=[10.0, 5.0],
                         sens=1.0, restraint=0.5)
    assert quiet[0, 0, 0] == pytest.approx(3.5)  # nothing to match: restraint only


def test_react_never_negative_and_never_past_the_ceiling():
    new, _, _ = _react([[0, 1], [0, 0]], [0.1, 0.0], sens=0.0, griev=-1.0)
    assert new[0, 0, 0] == 0.0
    capped, _, _ = _react([[0, 1], [0, 0]], [0.0, 1000.0], sens=1.0, ceiling=300.0)
    assert capped[0, 0, 0] == 300.0


def test_influence_shares_and_residual_sum_to_one():
    footprint = A([[[100.0, 300.0]]])
    goodwill = A([[[50.0, 0.0]]])
    diplomatic = A([[[10.0, 40.0]]])
    share = influence_shares(footprint, goodwill, diplomatic, A([[1.0, 2.0, 0.5]]), A([[500.0]]))
    attraction = A([100 + 100 + 5, 300 + 0 + 20])
    assert share[0, 0] == pytest.approx(attraction / (attraction.sum() + 500))
    assert share.sum() + 500 / (attraction.sum() + 500) == pytest.approx(1.0)


def test_structural_dependence_adds_to_attraction():
    from sim.engine.state import structural_attraction

    dependence = np.zeros((1, 4, 1, 2))  # (R, channel, S, P)
    dependence[0, :, 0, 0] = [100.0, 200.0, 0.0, 50.0]
    scale = A([[1.0, 1.0, 1.0, 0.8]])  # debt has decayed by a fifth since the start
    factor = A([[[0.5, 1.0]]])  # remittances from power 0 halved by a shock
    x = structural_attraction(dependence, scale, factor, A([[0.5, 1.0, 1.0, 2.0]]))
    assert x[0, 0] == pytest.approx([0.5 * 100 + 1.0 * 200 * 0.5 + 2.0 * 50 * 0.8, 0.0])
    zero = np.zeros((1, 1, 2))
    share, lev = influence_shares(zero, zero, zero, A([[1.0, 1.0, 1.0]]), A([[100.0]]), x,
                                  leverage=True)
    assert share[0, 0, 0] == pytest.approx(230 / 330) and lev[0, 0, 0] == pytest.approx(230 / 330)


def test_update_dependence_decays_each_channel():
    new = rules.update_dependence(A([[1.0, 1.0, 0.5, 1.0]]), A([[0.01, 0.0, 0.5, -0.1]]))
    assert new[0] == pytest.approx([0.99, 1.0, 0.25, 1.1])


def test_graded_excess_is_the_hinge_at_width_zero_and_a_rounded_ramp_otherwise():
    x = np.linspace(-0.1, 0.1, 401)[None, :]
    assert np.array_equal(rules.graded_excess(x, np.zeros((1, 1))), np.maximum(x, 0.0))
    w = np.full((1, 1), 0.04)
    ramp = rules.graded_excess(x, w)[0]
    assert (np.diff(ramp) >= 0).all()  # never decreasing: a larger signal, a larger response
    below, inside, above = x[0] <= -0.02, np.abs(x[0]) < 0.02, x[0] >= 0.02
    assert (ramp[below] == 0).all() and np.allclose(ramp[above], x[0, above])
    assert (ramp[inside] > 0).all() or not inside.any()
    assert ramp[200] == pytest.approx(0.04 / 8)  # at the threshold: w / 8
    assert np.abs(ramp - np.maximum(x[0], 0.0)).max() <= 0.04 / 8 + 1e-12


def test_a_graded_threshold_reacts_below_the_threshold_and_more_with_sensitivity():
    effort = np.zeros((1, 1, 2))
    share = np.array([[[0.048, 0.0]]])  # the rival (0) just under a 5% threshold

    def reaction(sensitivity: float, width: float) -> float:
        rule = np.array([[0, 0], [2, 0]], dtype=np.int8)  # power 1 watches power 0: threshold
        sens = np.zeros((1, 2, 2))
        sens[0, 1, 0] = sensitivity
        thr = np.full((1, 2, 2), 0.05)
        wid = np.full((1, 2, 2), width)
        out, _, _ = rules.react(rule, effort, share, None, np.zeros((2, 2), bool),
                                np.zeros((1, 1, 2)), np.full((1, 1, 2), 100.0),
                                np.ones((1, 1, 2)), sens, thr, np.zeros((1, 2, 2)),
                                np.zeros((1, 1, 2)), np.full((1, 1, 2), np.inf), width=wid)
        return float(out[0, 0, 1])

    assert reaction(2.0, 0.0) == 0.0 and reaction(4.0, 0.0) == 0.0  # the step: nothing
    assert 0 < reaction(2.0, 0.04) < reaction(4.0, 0.04)
    assert reaction(2.0, 0.04) == pytest.approx(2.0 * (0.048 - 0.03) ** 2 / 0.08 * 100.0)


def test_saturate_absorbs_k_one_minus_exp_shared_pro_rata():
    spent = np.zeros((1, len(CHANNELS), 2, 2))
    soft = CHANNELS.index("soft_power")
    spent[0, soft, 0] = [30.0, 10.0]  # demand 40 against a scale of 40 in state 0
    spent[0, soft, 1] = [1e-3, 0.0]  # a trickle in state 1: absorbed in full
    scale = np.array([[40.0, 40.0]])
    rules.saturate(spent, soft, scale)
    absorbed = 40.0 * (1.0 - np.exp(-1.0))
    assert spent[0, soft, 0].sum() == pytest.approx(absorbed)
    assert spent[0, soft, 0, 0] / spent[0, soft, 0, 1] == pytest.approx(3.0)  # pro rata
    assert spent[0, soft, 1, 0] == pytest.approx(1e-3, rel=1e-4)
    # More demand never absorbs less, never more than the scale.
    totals = []
    for demand in (10.0, 40.0, 160.0, 1e4):
        x = np.zeros((1, len(CHANNELS), 1, 1))
        x[0, soft, 0, 0] = demand
        rules.saturate(x, soft, np.array([[40.0]]))
        totals.append(float(x[0, soft, 0, 0]))
    assert totals == sorted(totals) and totals[-1] <= 40.0


def test_ration_keeps_investments_hard_pool_and_saturates_the_rest():
    spent = np.full((1, len(CHANNELS), 1, 2), 50.0)
    scale = np.full((1, len(CHANNELS), 1), 60.0)
    rules.ration(spent, scale, tuple(range(len(CHANNELS))))
    assert spent[0, rules.INVEST, 0].sum() == pytest.approx(60.0)  # min(1, K / D)
    assert spent[0, rules.SOFT_POWER, 0].sum() == pytest.approx(60.0 * (1 - np.exp(-100 / 60)))
