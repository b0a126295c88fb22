"""Property-based tests: invariants at every step of random valid scenarios; a loader that only
ever raises its own error type, whatever it is fed.
"""

from __future__ import annotations

import datetime
import itertools
import string

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine import compile_scenario, make_batch, repeat, simulate
from sim.errors import ScenarioError
from sim.scenario import CHANNELS, EVENT_KINDS, RULES, Scenario, load_scenario, validate

POWERS = ("japan", "china", "russia", "eu")
STATES = ("kazakhstan", "kyrgyzstan", "tajikistan", "turkmenistan", "uzbekistan")
SECTORS = ("oil", "gas", "uranium", "metals", "hydro")

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])
FUZZ_SETTINGS = settings(max_examples=100, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow,
                                                HealthCheck.function_scoped_fixture])

fraction = st.floats(0.0, 1.0, allow_nan=False, allow_subnormal=False)
money = st.one_of(st.just(0.0), st.floats(0.1, 1000.0, allow_nan=False))
stock = st.one_of(st.just(0.0), st.floats(1.0, 10_000.0, allow_nan=False))


def _reaction():
    return st.fixed_dictionaries({
        "rule": st.sampled_from(RULES),
        "sensitivity": st.floats(0.0, 2.0),
        "threshold": fraction,
        "grievance": st.floats(-1.0, 1.0),
    })


@st.composite
def scenarios(draw) -> dict:
    """A random valid scenario mapping: 1-4 powers, 1-5 states, every kind of event."""
    powers = draw(st.lists(st.sampled_from(POWERS), min_size=1, max_size=4, unique=True))
    states = draw(st.lists(st.sampled_from(STATES), min_size=1, max_size=5, unique=True))
    steps = draw(st.integers(1, 16))
    power_map = {}
    for p in powers:
        power = {
            "budget": {c: draw(money) for c in CHANNELS},
            "risk_tolerance": draw(fraction),
            "visibility": draw(fraction),
            "restraint": draw(fraction),
            "initial_effort": draw(st.floats(0.0, 5.0)),
            "max_spend_multiplier": draw(st.floats(1.0, 5.0)),
            "reserve": draw(st.floats(0.0, 2.0)),
            "resource_interest": draw(st.dictionaries(st.sampled_from(SECTORS),
                                                      st.floats(0.0, 2.0), max_size=3)),
            "reaction": {q: draw(_reaction()) for q in powers if q != p and draw(st.booleans())},
        }
        if draw(st.booleans()):
            weights = {s: draw(st.integers(0, 10)) for s in states}
            weights[draw(st.sampled_from(states))] = draw(st.integers(1, 10))
            power["allocation"] = weights
        power_map[p] = power
    state_map = {}
    for s in states:
        state_map[s] = {
            "stability": draw(fraction),
            "stability_target": draw(st.one_of(st.none(), fraction)),
            "border_disputes": draw(st.integers(0, 3)),
            "openness": draw(fraction),
            "autonomy": draw(st.floats(10.0, 100_000.0)),
            "resources": draw(st.dictionaries(st.sampled_from(SECTORS), fraction, max_size=3)),
            "initial": {k: {p: draw(stock) for p in powers if draw(st.booleans())}
                        for k in ("footprint", "goodwill", "diplomatic")},
        }
    held = {k for state in state_map.values() for k in state["resources"]}
    for power in power_map.values():  # an interest in a sector no state holds is refused
        power["resource_interest"] = {k: v for k, v in power["resource_interest"].items()
                                      if k in held}
    rules = {
        "decay": {k: draw(fraction) for k in ("footprint", "goodwill", "diplomatic")},
        "weights": {k: draw(st.floats(0.0, 2.0)) for k in ("footprint", "goodwill", "diplomatic")},
        "hedging": draw(fraction),
        "blocked_investment_to_soft_power": draw(fraction),
        "risk": {"instability_weight": draw(st.floats(0.0, 2.0)),
                 "dispute_weight": draw(st.floats(0.0, 0.5)),
                 "softness": draw(st.floats(0.01, 1.0))},
        "stability": {"recovery": draw(fraction),
                      "destabilise_per_usd_m": draw(st.floats(0.0, 0.01))},
        "noise": {"stability_sd": draw(st.floats(0.0, 0.2)),
                  "reception_sd": draw(st.floats(0.0, 0.3))},
    }
    return {
        "name": "random",
        "steps": steps,
        "seed": draw(st.integers(0, 2**40)),
        "precision": draw(st.sampled_from(["float32", "float64"])),
        "powers": power_map,
        "states": state_map,
        "rules": rules,
        "events": draw(st.lists(_event(powers, states, steps), max_size=6)),
    }


def _event(powers, states, steps):
    timing = st.one_of(
        st.integers(1, steps).map(lambda t: {"at": t}),
        fraction.map(lambda p: {"probability": p}),
    )
    some_states = st.one_of(st.just("all"),
                            st.lists(st.sampled_from(states), min_size=1, unique=True))
    power = st.sampled_from(powers)
    kinds = [
        st.fixed_dictionaries({"kind": st.just("border_accord"), "states": some_states,
                               "disputes_resolved": st.one_of(st.none(), st.integers(1, 3)),
                               "stability_gain": fraction}),
        st.fixed_dictionaries({"kind": st.just("visit"), "power": power,
                               "state": st.sampled_from(states),
                               "diplomatic_gain": st.floats(0, 200),
                               "goodwill_gain": st.floats(0, 200)}),
        st.fixed_dictionaries({"kind": st.just("summit"), "power": power, "states": some_states,
                               "diplomatic_gain": st.floats(0, 200)}),
        st.fixed_dictionaries({"kind": st.just("summit_cancelled"), "power": power,
                               "delay": st.one_of(st.none(), st.integers(1, 8))}),
        st.fixed_dictionaries({"kind": st.just("budget_change"), "power": power,
                               "channel": st.sampled_from([*CHANNELS, "all"]),
                               "factor": st.floats(0.0, 5.0)}),
        st.fixed_dictionaries({"kind": st.just("destabilisation_campaign"), "power": power,
                               "states": some_states, "intensity": fraction,
                               "duration": st.integers(1, 6)}),
        st.fixed_dictionaries({"kind": st.just("stability_shock"), "states": some_states,
                               "delta": st.floats(-1.0, 1.0)}),
        st.fixed_dictionaries({"kind": st.just("remittance_shock"), "power": power,
                               "states": some_states, "change": st.floats(-1.0, 2.0),
                               "quarters": st.integers(1, 8)}),
        st.fixed_dictionaries({"kind": st.just("sanctions"), "power": power,
                               "trade_friction": fraction, "rerouting": st.floats(0.0, 2.0),
                               "quarters": st.integers(1, 12)}),
        *([st.fixed_dictionaries({"kind": st.just("sanctions"), "power": st.just(powers[0]),
                                  "rerouting": st.floats(0.0, 2.0),
                                  "supplied_by": st.fixed_dictionaries(
                                      {powers[-1]: st.floats(0.0, 1.0)})})]
          if len(powers) > 1 else []),
        st.fixed_dictionaries({"kind": st.just("energy_purchase"), "power": power,
                               "states": some_states, "change": st.floats(-1.0, 2.0)}),
        st.fixed_dictionaries({"kind": st.just("platform_summit"), "power": power,
                               "states": some_states, "reception_gain": st.floats(0.0, 1.0),
                               "quarters": st.integers(1, 8)}),
        st.fixed_dictionaries({"kind": st.just("opening"), "states": some_states,
                               "openness_change": st.floats(-1.0, 1.0)}),
        st.fixed_dictionaries({"kind": st.just("energy_price"), "states": some_states,
                               "factor": st.floats(0.1, 3.0)}),
    ]
    return st.tuples(st.one_of(kinds), timing).map(lambda pair: {**pair[0], **pair[1]})


class Invariants:
    """An observe callback that checks the model's invariants at every step."""

    def __init__(self, batch):
        self.batch = batch
        self.steps_seen = []

    def __call__(self, state) -> None:
        p = self.batch.params
        dtype = p.dtype
        tol = 1e-4 if dtype == np.float32 else 1e-9
        self.steps_seen.append(state.step)
        for name in ("footprint", "goodwill", "diplomatic", "share", "stability", "effort",
                     "spend"):
            assert np.isfinite(getattr(state, name)).all(), (state.step, name)
        for name in ("footprint", "goodwill", "diplomatic", "spend"):
            assert (getattr(state, name) >= 0).all(), (state.step, name)
        assert (state.effort >= 0).all()
        assert ((state.stability >= 0) & (state.stability <= 1)).all()
        share = state.share.astype(np.float64)
        assert ((share >= 0) & (share <= 1)).all()
        total = share.sum(axis=2)
        assert (total <= 1 + tol).all()
        # The residual computed on its own: autonomy / (sum of attractions + autonomy), with
        # structural dependence (remittances times the shock factor) in the attraction.
        w = p.weights.astype(np.float64)[:, None, None, :]
        dep = state.dependence_now().astype(np.float64) * p.dependence_weights.astype(
            np.float64)[:, :, None, None]  # (R, 4, S, P)
        dep[:, 1] *= state.remittance_factor
        attraction = (w[..., 0] * state.footprint + w[..., 1] * state.goodwill
                      + w[..., 2] * state.diplomatic + dep.sum(axis=1))
        autonomy = p.autonomy.astype(np.float64)
        residual = autonomy / (attraction.sum(axis=2) + autonomy)
        assert np.allclose(total + residual, 1.0, rtol=0, atol=tol)
        # Reactive spending never passes its ceiling: (max_spend_multiplier - 1) x base spend.
        base = self.batch.base_spend.astype(np.float64)  # (R, S, P)
        ceiling = (p.max_spend_multiplier.astype(np.float64)[:, None, :] - 1.0) * base
        assert (state.effort <= ceiling + tol * (1 + ceiling) * 10).all(), state.step
        # Over the states it never passes the power's reserve (reserve x regional budget).
        if self.batch.reserve is not None:
            reserve = self.batch.reserve.astype(np.float64)
            total = state.effort.astype(np.float64).sum(axis=1)
            assert (total <= reserve + tol * (1 + reserve) * 10).all(), state.step
        # Spend in a state is at most the (scaled) base spend plus the reactive spending,
        # every dollar of which is matched: what is not leverage is spent.
        scale = np.transpose(state.budget_scale, (0, 2, 1)).astype(np.float64)  # (R, C, P)
        planned = (self.batch.budget_allocation.astype(np.float64)
                   * scale[:, :, None, :]).sum(axis=1)  # (R, S, P)
        spent = state.spend.astype(np.float64).sum(axis=1)  # (R, S, P)
        if state.step > 0:
            previous = self.previous_effort
            slack = tol * (1 + planned + previous) * 10
            assert (spent <= planned + previous + slack).all(), state.step
        self.previous_effort = state.effort.astype(np.float64)


@PROPERTY_SETTINGS
@given(data=scenarios(), runs=st.integers(1, 3))
def test_invariants_hold_at_every_step(data, runs):
    scenario = validate(data)
    structure, params = compile_scenario(scenario)
    seeds = [scenario.seed + i for i in range(runs)]
    batch = make_batch(structure, repeat(params, runs), seeds)
    check = Invariants(batch)
    final = simulate(batch, observe=check)
    assert check.steps_seen == list(range(scenario.steps + 1))
    assert final.step == scenario.steps
    assert (final.diverged_step == -1).all()


@PROPERTY_SETTINGS
@given(data=scenarios())
def test_a_run_in_a_batch_equals_the_run_alone(data):
    scenario = validate(data)
    structure, params = compile_scenario(scenario)
    seeds = [scenario.seed, scenario.seed + 1]
    pair = simulate(make_batch(structure, repeat(params, 2), seeds))
    alone = simulate(make_batch(structure, params, seeds[1:]))
    for name in ("footprint", "goodwill", "diplomatic", "share", "stability", "effort"):
        assert np.array_equal(getattr(pair, name)[1:], getattr(alone, name)), name


# ----------------------------------------------------------------------------- loader fuzzing

YAMLISH = string.ascii_letters[:12] + string.digits + " \t\n:-[]{},&*!|>'\"#%@`?.~\\"


def _load_text(path, content) -> None:
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(content)
    try:
        result = load_scenario(path)
    except ScenarioError as exc:
        assert str(path) in str(exc)
        assert len(str(exc).splitlines()) <= 12
    else:
        assert isinstance(result, Scenario)


@FUZZ_SETTINGS
@given(content=st.binary(max_size=2000))
def test_loader_random_bytes(content, tmp_path):
    _load_text(tmp_path / "fuzz.yaml", content)


@FUZZ_SETTINGS
@given(content=st.text(alphabet=YAMLISH, max_size=400))
def test_loader_yamlish_text(content, tmp_path):
    _load_text(tmp_path / "fuzz.yaml", content)


junk_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12), st.binary(max_size=6),
    st.dates(), st.datetimes(), st.sampled_from(["all", "2025Q2", "linear", "japan", ""]),
)
FIELD_NAMES = sorted({
    "name", "steps", "seed", "start", "precision", "powers", "states", "rules", "events",
    "budget", "invest", "reaction", "rule", "sensitivity", "allocation", "initial", "footprint",
    "kind", "at", "probability", "power", "state", "japan", "china", "kazakhstan",
    "extends", "decay", "noise", "label", "autonomy", "stability",
})
keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=6), st.integers(-3, 3),
                 st.none(), st.booleans(), st.floats(allow_nan=True), st.dates(),
                 st.tuples(st.integers(), st.text(max_size=3)))
junk = st.recursive(
    junk_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(keys, inner, max_size=5)),
    max_leaves=30,
)


@FUZZ_SETTINGS
@given(data=st.dictionaries(keys, junk, max_size=8))
def test_validate_random_nested_mappings(data):
    try:
        validate(data, source="fuzz")
    except ScenarioError as exc:
        assert exc.problems and str(exc).startswith("fuzz: ")


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


@FUZZ_SETTINGS
@given(data=scenarios(), pick=st.integers(0, 10_000), value=junk)
def test_validate_a_valid_scenario_with_one_field_broken(data, pick, value):
    paths = [p for p in _paths(data) if p]
    path = paths[pick % len(paths)]
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    try:
        validate(data, source="fuzz")
    except ScenarioError as exc:
        assert exc.problems


@FUZZ_SETTINGS
@given(data=scenarios(), sets=st.lists(st.tuples(
    st.lists(st.one_of(st.sampled_from(FIELD_NAMES), st.sampled_from(["0", "1", "99", ""])),
             min_size=1, max_size=5).map(".".join),
    st.text(alphabet=YAMLISH, max_size=20)), max_size=3))
def test_load_with_random_overrides(data, sets, tmp_path):
    path = tmp_path / "base.yaml"
    path.write_text(yaml.safe_dump(data))
    pairs = [f"{k}={v}" for k, v in sets]
    try:
        load_scenario(path, pairs)
    except ScenarioError as exc:
        assert exc.problems


@FUZZ_SETTINGS
@given(data=scenarios(), chain=st.lists(st.integers(0, 3), min_size=1, max_size=4))
def test_extends_chains_never_crash(data, chain, tmp_path):
    """Files extending each other in random (possibly cyclic) patterns."""
    names = [f"f{i}.yaml" for i in range(4)]
    for i, name in enumerate(names):
        body = {"name": f"layer{i}"} if i else data
        (tmp_path / name).write_text(yaml.safe_dump(body))
    for i, j in itertools.pairwise([*chain, chain[0]]):
        text = (tmp_path / names[i]).read_text()
        if not text.startswith("extends"):
            (tmp_path / names[i]).write_text(f"extends: {names[j]}\n{text}")
    try:
        load_scenario(tmp_path / names[chain[0]])
    except ScenarioError as exc:
        assert exc.problems


def test_generated_scenarios_are_valid_and_varied():
    """The strategy itself produces valid scenarios with every event kind (not vacuous)."""
    kinds, sizes = set(), set()

    @settings(max_examples=200, deadline=None, database=None, derandomize=True)
    @given(data=scenarios())
    def collect(data):
        scenario = validate(data)
        kinds.update(e.kind for e in scenario.events)
        sizes.add((len(scenario.powers), len(scenario.states)))

    collect()
    assert kinds == set(EVENT_KINDS)
    assert len(sizes) >= 6


@pytest.mark.parametrize("value", [datetime.date(2025, 1, 1), b"\x00\x01", float("nan"), 2**80,
                                   {"a": {"b": []}}, [{datetime.date(2025, 1, 1): 1}]])
def test_odd_values_in_every_top_level_field(value):
    """Either accepted (pydantic reads bytes as text) or refused naming the field."""
    base = {"powers": {"japan": {}}, "states": {"kazakhstan": {}}}
    refused = 0
    for key in ("name", "steps", "seed", "start", "precision", "powers", "states", "rules",
                "events"):
        try:
            validate({**base, key: value}, source="odd")
        except ScenarioError as exc:
            assert key in " ".join(exc.problems)
            refused += 1
    assert refused >= 7
