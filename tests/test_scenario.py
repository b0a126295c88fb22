"""Loading, extending, overriding and validating scenario files."""

import textwrap

import pytest
import yaml
from clihelp import SCENARIOS

from sim.errors import ScenarioError
from sim.scenario import load_scenario, parse_set, validate


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def problems(excinfo) -> str:
    return "\n".join(excinfo.value.problems)


def test_every_shipped_scenario_validates():
    names = sorted(p.name for p in SCENARIOS.glob("*.yaml"))
    assert "baseline.yaml" in names and len(names) >= 8
    for name in names:
        sc = load_scenario(SCENARIOS / name)
        assert sc.powers and sc.states


def test_defaults_are_the_three_powers_and_five_states():
    sc = load_scenario(SCENARIOS / "baseline.yaml")
    assert sc.power_names == ["japan", "china", "russia"]
    assert sorted(sc.state_names) == ["kazakhstan", "kyrgyzstan", "tajikistan", "turkmenistan",
                                      "uzbekistan"]
    assert sc.steps == 40 and sc.start == "2025Q1"


def test_extends_merges_and_appends_events(tmp_path, tiny):
    tiny["events"] = [{"kind": "stability_shock", "at": 2, "delta": -0.1}]
    write(tmp_path, "parent.yaml", tiny)
    child = write(tmp_path, "child.yaml", {
        "extends": "parent.yaml", "name": "child",
        "powers": {"japan": {"visibility": 0.9}},
        "events": [{"kind": "border_accord", "at": 3}],
    })
    sc = load_scenario(child)
    assert sc.name == "child"
    assert sc.powers["japan"].visibility == 0.9
    assert sc.powers["japan"].budget.invest == 10  # kept from the parent
    assert [e.kind for e in sc.events] == ["stability_shock", "border_accord"]


def test_set_overrides_and_seed_and_steps(tmp_path, tiny):
    path = write(tmp_path, "s.yaml", tiny)
    sc = load_scenario(path, ["powers.china.reaction.japan.sensitivity=0.8",
                              "states.kyrgyzstan.openness=0.5"], seed=12, steps=5)
    assert sc.powers["china"].reaction["japan"].sensitivity == 0.8
    assert sc.states["kyrgyzstan"].openness == 0.5
    assert (sc.seed, sc.steps) == (12, 5)
    assert parse_set(["a.b=true", "c=2025Q2", "d=3"]) == [("a.b", True), ("c", "2025Q2"),
                                                          ("d", 3)]


def test_unknown_key_gets_did_you_mean(tmp_path, tiny):
    tiny["powers"]["japan"]["risk_tolerence"] = 0.3
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, "s.yaml", tiny))
    text = problems(info)
    assert "powers.japan.risk_tolerence" in text and "did you mean 'risk_tolerance'" in text
    assert str(tmp_path / "s.yaml") in str(info.value)


def test_unknown_actor_gets_did_you_mean(tmp_path, tiny):
    tiny["powers"]["china"]["reaction"] = {"japna": {"rule": "linear"}}
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, "s.yaml", tiny))
    assert "powers.china.reaction.japna" in problems(info)
    assert "did you mean 'japan'" in problems(info)


@pytest.mark.parametrize("path,value,fragment", [
    ("powers.japan.budget.invest", -5, "greater than or equal to 0"),
    ("powers.japan.risk_tolerance", 1.5, "less than or equal to 1"),
    ("powers.china.reaction.japan.rule", "angry", "'none', 'linear', 'threshold'"),
    ("states.kyrgyzstan.stability", "high", "valid number"),
    ("steps", 0, "greater than or equal to 1"),
    ("start", "2025-1", "not a quarter"),
])
def test_bad_values_name_the_field_the_value_and_what_is_allowed(tmp_path, tiny, path, value,
                                                                fragment):
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, "s.yaml", tiny), [(path, value)])
    text = problems(info)
    assert path in text and fragment in text and str(value) in text


def test_event_outside_the_run_is_refused(tmp_path, tiny):
    tiny["events"] = [{"kind": "border_accord", "at": "2030Q1"}]
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, "s.yaml", tiny))
    assert "events.0.at" in problems(info) and "outside the run" in problems(info)


def test_event_needs_exactly_one_timing(tiny):
    tiny["events"] = [{"kind": "border_accord"}]
    with pytest.raises(ScenarioError, match="exactly one of 'at'"):
        validate(tiny)


def test_duplicate_keys_and_extends_cycles_are_refused(tmp_path, tiny):
    dup = write(tmp_path, "dup.yaml", textwrap.dedent("""
        powers:
          japan: {}
          japan: {}
        states: {uzbekistan: {}}
    """))
    with pytest.raises(ScenarioError, match="duplicate key 'japan'"):
        load_scenario(dup)
    write(tmp_path, "a.yaml", {"extends": "b.yaml"})
    write(tmp_path, "b.yaml", {"extends": "a.yaml"})
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "a.yaml")


def test_digest_changes_with_content(tiny):
    a = validate(tiny)
    tiny["seed"] = 4
    assert a.digest() != validate(tiny).digest() and a.digest() == validate(
        {**tiny, "seed": 3}).digest()


def test_digest_sees_the_order_of_actors(tiny):
    swapped = dict(tiny, powers=dict(reversed(list(tiny["powers"].items()))))
    assert validate(tiny).digest() != validate(swapped).digest()
