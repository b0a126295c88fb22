"""An extending file may leave out its parent's events by id (``drop_events``).

The 2017 origin's history scenario uses it to leave out the events set from figures known only
after 2017 (scenarios/history/2015-known-2017.yaml).
"""

from __future__ import annotations

import pytest
import yaml

from sim.errors import ScenarioError
from sim.history.origins import scenario_for
from sim.scenario import load_scenario

PARENT = {
    "name": "parent", "start": "2025Q1", "steps": 4, "seed": 1,
    "powers": {"japan": {"budget": {"invest": 10}}},
    "states": {"kazakhstan": {}},
    "events": [
        {"id": "first", "kind": "summit", "power": "japan", "states": "all", "at": "2025Q2"},
        {"id": "second", "kind": "summit", "power": "japan", "states": "all", "at": "2025Q3"},
        {"kind": "summit", "power": "japan", "states": "all", "at": "2025Q4"},
    ],
}


def _files(tmp_path, child: dict) -> str:
    (tmp_path / "parent.yaml").write_text(yaml.safe_dump(PARENT))
    path = tmp_path / "child.yaml"
    path.write_text(yaml.safe_dump({"extends": "parent.yaml", **child}))
    return str(path)


def test_the_named_events_are_left_out_and_the_child_appends(tmp_path):
    path = _files(tmp_path, {"drop_events": ["first"], "events": [
        {"kind": "summit", "power": "japan", "states": "all", "at": "2025Q1"}]})
    scenario = load_scenario(path)
    assert [e.at for e in scenario.events] == ["2025Q3", "2025Q4", "2025Q1"]
    assert scenario.events[0].id == "second"


def test_an_unknown_id_is_refused_naming_the_file_and_the_ids(tmp_path):
    path = _files(tmp_path, {"drop_events": ["secnd"]})
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    text = str(error.value)
    assert "child.yaml" in text and "'secnd'" in text and "did you mean 'second'" in text


def test_drop_events_needs_a_parent_and_a_list(tmp_path):
    alone = tmp_path / "alone.yaml"
    alone.write_text(yaml.safe_dump({**PARENT, "drop_events": ["first"]}))
    with pytest.raises(ScenarioError, match="extends none"):
        load_scenario(alone)
    with pytest.raises(ScenarioError, match="not a list of event ids"):
        load_scenario(_files(tmp_path, {"drop_events": "first"}))


def test_a_bad_child_event_after_a_drop_is_blamed_on_the_child(tmp_path):
    path = _files(tmp_path, {"drop_events": ["first"], "events": [
        {"kind": "summit", "power": "japan", "states": "all", "at": "2031Q1"}]})
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert "child.yaml" in str(error.value) and "events.2.at" in str(error.value)


def test_the_2017_origin_leaves_out_the_later_kazakh_crude():
    later = load_scenario(scenario_for(2019))
    earlier = load_scenario(scenario_for(2017))
    ids = {e.id for e in later.events} - {e.id for e in earlier.events}
    assert ids == {"kazakh_crude_2018", "kazakh_crude_2020"}
    assert len(earlier.events) == len(later.events) - 2
