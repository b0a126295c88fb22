"""The engine as a whole: batch independence, invariants, events and divergence."""

import numpy as np
import pytest
from clihelp import SCENARIOS

from sim.engine import compile_scenario, make_batch, repeat, simulate, take, with_values
from sim.errors import DivergenceError
from sim.outputs.record import record
from sim.scenario import load_scenario, validate


def batch_of(scenario, n=1, seeds=None, **kw):
    structure, params = compile_scenario(scenario)
    seeds = list(range(n)) if seeds is None else seeds
    return make_batch(structure, repeat(params, len(seeds)), seeds, **kw)


def test_a_run_is_the_same_alone_or_in_any_batch():
    sc = load_scenario(SCENARIOS / "border_accord.yaml")
    seeds = [11, 12, 13, 14, 15, 16, 17]
    together = simulate(batch_of(sc, seeds=seeds))
    for r in (0, 3, 6):
        alone = simulate(batch_of(sc, seeds=[seeds[r]]))
        for name in ("share", "footprint", "goodwill", "diplomatic", "effort", "stability"):
            assert np.array_equal(getattr(together, name)[r], getattr(alone, name)[0]), name
    # A different split of the same runs gives the same numbers too.
    structure, params = compile_scenario(sc)
    full = repeat(params, len(seeds))
    part = simulate(make_batch(structure, take(full, slice(2, 5)), seeds[2:5]))
    assert np.array_equal(part.share, together.share[2:5])


def test_same_seed_same_result_and_other_seed_differs():
    sc = load_scenario(SCENARIOS / "baseline.yaml")
    a = simulate(batch_of(sc, seeds=[4]))
    b = simulate(batch_of(sc, seeds=[4]))
    c = simulate(batch_of(sc, seeds=[5]))
    assert np.array_equal(a.share, b.share)
    assert not np.array_equal(a.share, c.share)


def test_record_reactions_does_not_change_the_run():
    sc = load_scenario(SCENARIOS / "border_accord.yaml")
    a = simulate(batch_of(sc, seeds=[1, 2], record_reactions=True))
    b = simulate(batch_of(sc, seeds=[1, 2], record_reactions=False))
    assert np.array_equal(a.share, b.share) and np.array_equal(a.effort, b.effort)


@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_invariants_hold_at_every_step_over_random_parameters(precision):
    sc = load_scenario(SCENARIOS / "border_accord.yaml", [("precision", precision)])
    structure, params = compile_scenario(sc)
    rng = np.random.default_rng(0)
    n = 200
    params = with_values(repeat(params, n), {
        "powers.china.reaction.japan.sensitivity": rng.uniform(0, 20, n),
        "powers.china.reaction.japan.threshold": rng.uniform(0, 0.3, n),
        "powers.russia.reaction.japan.sensitivity": rng.uniform(0, 20, n),
        "powers.japan.risk_tolerance": rng.uniform(0, 1, n),
        "powers.japan.visibility": rng.uniform(0, 1, n),
        "powers.russia.budget.destabilise": rng.uniform(0, 200, n),
        "rules.hedging": rng.uniform(0, 6, n),
        "rules.noise.stability_sd": rng.uniform(0, 0.2, n),
        "rules.noise.reception_sd": rng.uniform(0, 0.5, n),
        "states.kyrgyzstan.stability": rng.uniform(0, 1, n),
    })
    batch = make_batch(structure, params, np.arange(n))
    tol = 1e-5 if precision == "float32" else 1e-12
    reserve = batch.reserve.astype(np.float64)  # (R, P) reactive spending over the states

    def check(state):
        assert np.all(state.share >= 0) and np.all(state.share <= 1)
        residual = 1.0 - state.share.astype(np.float64).sum(axis=2)
        assert np.all(residual >= -tol)
        for stock in (state.footprint, state.goodwill, state.diplomatic, state.effort):
            assert np.all(stock >= 0) and np.all(np.isfinite(stock))
        assert np.all((state.stability >= 0) & (state.stability <= 1))
        # Total spend per power (blocked investment may move to soft power, so the check is
        # on the total over channels) never exceeds budget x scale plus the reserve.
        spent = state.spend.astype(np.float64).sum(axis=(1, 2))  # (R, P)
        limit = (params.budget.astype(np.float64) * state.budget_scale).sum(axis=2) + reserve
        assert np.all(spent <= limit * (1 + tol) + tol)

    simulate(batch, observe=check)


def test_each_event_kind_does_what_it_says():
    data = {
        "steps": 6, "seed": 1, "precision": "float64",
        "powers": {"japan": {"budget": {"invest": 10}}, "russia": {"budget": {"invest": 10}}},
        "states": {"kyrgyzstan": {"stability": 0.5, "border_disputes": 2},
                   "tajikistan": {"stability": 0.5, "border_disputes": 1}},
        "rules": {"noise": {"stability_sd": 0, "reception_sd": 0},
                  "stability": {"recovery": 0.0}},
        "events": [
            {"kind": "border_accord", "at": 2, "states": ["kyrgyzstan"], "disputes_resolved": 1,
             "stability_gain": 0.1},
            {"kind": "visit", "at": 1, "power": "japan", "state": "tajikistan",
             "diplomatic_gain": 50, "goodwill_gain": 5},
            {"kind": "summit", "at": 3, "power": "japan", "states": "all", "diplomatic_gain": 7},
            {"kind": "summit_cancelled", "at": 3, "power": "japan", "delay": 2},
            {"kind": "budget_change", "at": 2, "power": "russia", "channel": "invest",
             "factor": 2.0},
            {"kind": "destabilisation_campaign", "at": 4, "power": "russia",
             "states": ["tajikistan"], "intensity": 0.1, "duration": 2},
            {"kind": "stability_shock", "at": 1, "states": ["kyrgyzstan"], "delta": -0.2},
        ],
    }
    sc = validate(data)
    rec = record(batch_of(sc), scenario=sc)
    k, t = 0, 1
    japan, russia = 0, 1
    assert list(np.flatnonzero(rec.fired[:, 0, 0])) == [2]
    # shock at step 1, accord (+0.1) at step 2; no recovery
    assert rec.stability[1, 0, k] == pytest.approx(0.3)
    assert rec.stability[2, 0, k] == pytest.approx(0.4)
    # the summit due at step 3 is cancelled and held at step 5
    assert list(np.flatnonzero(rec.fired[:, 0, 2])) == [5]
    assert list(np.flatnonzero(rec.fired[:, 0, 1])) == [1]
    # budget doubles from step 2: Russia's planned investment is 10 then 20 over two states
    planned = rec.spend[:, 0, 0, :, russia].sum(axis=1) + rec.spend[:, 0, 1, :, russia].sum(
        axis=1)
    assert planned[2] > planned[1] * 1.5
    # the campaign lowers Tajikistan's stability by 0.1 in steps 4 and 5 only
    drops = -np.diff(rec.stability[:, 0, t])
    assert drops[3:5] == pytest.approx([0.1, 0.1]) and drops[5] == pytest.approx(0.0)
    # the visit added 50 diplomatic capital to Japan in Tajikistan in step 1 (then 8% decay)
    gain_visited = rec.diplomatic[1, 0, t, japan] - rec.diplomatic[0, 0, t, japan]
    gain_other = rec.diplomatic[1, 0, k, japan] - rec.diplomatic[0, 0, k, japan]
    assert gain_visited - gain_other == pytest.approx(50 * 0.92, rel=0.02)


def test_random_events_fire_with_their_probability():
    data = {
        "steps": 200, "seed": 9,
        "powers": {"japan": {}},
        "states": {"uzbekistan": {}},
        "events": [{"kind": "stability_shock", "probability": 0.25, "delta": -0.01}],
    }
    rec = record(batch_of(validate(data), n=20))
    rate = rec.fired[1:, :, 0].mean()
    assert 0.22 < rate < 0.28


def test_divergence_is_caught_with_step_actor_and_quantity():
    sc = load_scenario(SCENARIOS / "richardson.yaml", [
        ("powers.blue.reaction.red.sensitivity", 100), ("powers.red.reaction.blue.sensitivity",
                                                        100),
        ("powers.blue.restraint", 0), ("powers.red.restraint", 0),
    ], steps=1000)
    with pytest.raises(DivergenceError) as info:
        simulate(batch_of(sc))
    error = info.value
    assert 1 < error.step < 1000 and "effort" in error.quantity and "region" in error.actor
    flagged = simulate(batch_of(sc, seeds=[1, 2]), on_divergence="flag")
    assert np.all(flagged.diverged_step == error.step)


def test_with_values_refuses_unknown_fields():
    _, params = compile_scenario(load_scenario(SCENARIOS / "baseline.yaml"))
    with pytest.raises(KeyError, match="did you mean"):
        with_values(params, {"powers.china.reaction.japan.sensitivty": 1.0})


def test_visibility_in_one_state_draws_the_reaction_there():
    spotlight = load_scenario(SCENARIOS / "japan_turkmenistan_spotlight.yaml")
    quiet = load_scenario(SCENARIOS / "japan_turkmenistan_spotlight.yaml",
                          [("powers.japan.visibility_by_state.turkmenistan", 0.2)])
    loud_run, quiet_run = (record(batch_of(sc, seeds=[1, 2, 3]), scenario=sc)
                           for sc in (spotlight, quiet))
    states, powers = loud_run.structure.states, loud_run.structure.powers
    t, k, c, j = (states.index("turkmenistan"), states.index("kazakhstan"),
                  powers.index("china"), powers.index("japan"))
    assert np.all(loud_run.effort[-1, :, t, c] > 2 * quiet_run.effort[-1, :, t, c])
    assert np.all(loud_run.effort[-1, :, k, c] <= quiet_run.effort[-1, :, k, c])
    # The moves log carries the visibility of each move where it was made.
    moves = loud_run.moves(0)
    japan_moves = moves[(moves.type == "move") & (moves.power == "japan")]
    assert set(japan_moves[japan_moves.state == "turkmenistan"].visibility) == {np.float32(0.95)}
    assert set(japan_moves[japan_moves.state == "kazakhstan"].visibility) == {np.float32(0.2)}
    assert loud_run.diplomatic[-1, :, t, j].mean() > quiet_run.diplomatic[-1, :, t, j].mean()
