"""``powers.P.budget_by_state``: spend set per state and kind of move (docs/ODD.md 7.3)."""

import numpy as np
import pytest
from clihelp import SCENARIOS

from sim.engine import compile_scenario, make_batch, repeat, simulate, with_values
from sim.errors import ScenarioError
from sim.scenario import CHANNELS, load_scenario

JAPAN_IN = {"kazakhstan": {"invest": 300.0, "diplomacy": 25.0},
            "turkmenistan": {"soft_power": 80.0, "destabilise": 0.0}}


def _scenario(**overrides):
    sets = [(f"powers.japan.budget_by_state.{s}.{k}", v)
            for s, kinds in JAPAN_IN.items() for k, v in kinds.items()]
    return load_scenario(SCENARIOS / "baseline.yaml", sets + list(overrides.items()))


def test_listed_states_spend_exactly_the_listed_amounts():
    scenario = _scenario()
    structure, params = compile_scenario(scenario)
    batch = make_batch(structure, params, [1])
    j = structure.powers.index("japan")
    spend = batch.budget_allocation[0, :, :, j].astype(np.float64)  # (C, S)
    for state, kinds in JAPAN_IN.items():
        s = structure.states.index(state)
        expected = [kinds.get(c, 0.0) for c in CHANNELS]
        np.testing.assert_allclose(spend[:, s], expected, rtol=1e-6)
    # The power's budget x allocation now spreads over the three unlisted states only.
    budget = scenario.powers["japan"].budget
    unlisted = [structure.states.index(s) for s in structure.states if s not in JAPAN_IN]
    for c, channel in enumerate(CHANNELS):
        assert spend[c, unlisted].sum() == pytest.approx(getattr(budget, channel), rel=1e-5)
    weights = scenario.powers["japan"].allocation
    shares = spend[2, unlisted] / spend[2, unlisted].sum()  # diplomacy follows the weights
    names = [structure.states[s] for s in unlisted]
    raw = np.array([weights[n] for n in names])
    np.testing.assert_allclose(shares, raw / raw.sum(), rtol=1e-5)
    # The other powers are untouched.
    plain = make_batch(*compile_scenario(load_scenario(SCENARIOS / "baseline.yaml")), [1])
    others = [p for p in range(structure.n_powers) if p != j]
    np.testing.assert_array_equal(batch.budget_allocation[..., others],
                                  plain.budget_allocation[..., others])


def test_diplomacy_spent_in_a_run_is_the_listed_amount():
    # With Kazakhstan's diplomacy unrationed (rationing has its own tests in test_rules.py).
    structure, params = compile_scenario(_scenario(
        **{"states.kazakhstan.absorption.diplomacy": None}))
    final = simulate(make_batch(structure, params, [3]), steps=2)
    j, k = structure.powers.index("japan"), structure.states.index("kazakhstan")
    # Diplomacy is not gated and Japan does not react in the first quarters at this level.
    assert final.spend[0, CHANNELS.index("diplomacy"), k, j] == pytest.approx(25.0)


def test_every_cell_is_a_sweepable_path():
    structure, params = compile_scenario(load_scenario(SCENARIOS / "baseline.yaml"))
    for state in structure.states:
        for channel in CHANNELS:
            assert f"powers.japan.budget_by_state.{state}.{channel}" in params.paths
    path = "powers.japan.budget_by_state.uzbekistan.invest"
    swept = with_values(repeat(params, 3), {path: np.array([0.0, 100.0, 400.0])})
    batch = make_batch(structure, swept, [1, 1, 1])
    j, u = structure.powers.index("japan"), structure.states.index("uzbekistan")
    np.testing.assert_allclose(batch.budget_allocation[:, 0, u, j], [0.0, 100.0, 400.0])
    # The other kinds of a state listed by one swept cell are zero there.
    assert np.all(batch.budget_allocation[:, 1:, u, j] == 0.0)
    # The same values through the scenario file give the same runs.
    one = make_batch(*compile_scenario(load_scenario(SCENARIOS / "baseline.yaml",
                                                     [(path, 400.0)])), [1])
    np.testing.assert_array_equal(one.budget_allocation[0], batch.budget_allocation[2])


def test_unknown_state_and_negative_amount_are_refused():
    with pytest.raises(ScenarioError, match="budget_by_state.narnia: unknown state"):
        load_scenario(SCENARIOS / "baseline.yaml",
                      [("powers.japan.budget_by_state.narnia.invest", 10.0)])
    with pytest.raises(ScenarioError, match="budget_by_state.kazakhstan.invest"):
        load_scenario(SCENARIOS / "baseline.yaml",
                      [("powers.japan.budget_by_state.kazakhstan.invest", -1.0)])


def test_a_sweep_varies_a_cell(tmp_path):
    import pandas as pd
    from sweep_helpers import write_sweep

    from sim.sweep.plan import load_sweep
    from sim.sweep.runner import run_sweep

    path = "powers.japan.budget_by_state.turkmenistan.soft_power"
    file = write_sweep(tmp_path, parameters={path: {"values": [0.0, 600.0]}}, seeds=1,
                       keep={"outputs": ["spend_total"]})
    outcome = run_sweep(load_sweep(file), out=tmp_path / "results", workers=1, quiet=True)
    runs = pd.read_parquet(outcome.folder / "runs.parquet").sort_values(path)
    assert list(runs[path]) == [0.0, 600.0]
    # Each run spends what the same scenario with the cell set by --set spends.
    for row in runs.itertuples(index=False):
        row = dict(zip(runs.columns, row, strict=True))
        scenario = load_scenario(SCENARIOS / "baseline.yaml", [(path, row[path])], steps=8)
        final_spend = np.zeros(1)

        def add(state, total=final_spend):
            if state.step > 0:
                total += state.spend[0, :, :, 0].astype(np.float32).sum()

        structure, params = compile_scenario(scenario)
        simulate(make_batch(structure, params, [row["seed"]], record_reactions=False),
                 observe=add)
        assert structure.powers[0] == "japan"
        assert final_spend[0] == pytest.approx(row["spend_total_japan"], rel=1e-5)
    low, high = runs["spend_total_japan"].to_numpy()
    # Turkmenistan absorbs soft power up to its scale (USD 160 m a quarter): the extra 600 a
    # quarter is spent only in part, but spent.
    assert 8 * 100.0 < high - low < 0.5 * 8 * 600.0
