"""One place per kind: a toy event kind, declared once, validates, runs, is drawn and is told.

The toy kind ``goodwill_gift`` is written the way docs/ODD.md (section 7.9, "Adding a kind of
event") says a new kind is: its model (fields, figure label, chronicle sentence) registered
with ``register_event_kind``, and its engine effect registered with ``register_event_effect``
(the third place, its row in docs/ODD.md, is for a shipped kind). Nothing else is edited: the
schema, the engine, the figures and ``sim explain`` pick it up from the registries. The kind is
removed again after each test.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pytest
import yaml

from sim.cli import main
from sim.engine.event_kinds import (
    EVENT_EFFECTS,
    Changes,
    EventEffect,
    Firing,
    register_event_effect,
    unregister_event_effect,
)
from sim.errors import ScenarioError
from sim.outputs.plots import event_markers
from sim.outputs.run import run_scenario, write_run
from sim.scenario import (
    EVENT_KINDS,
    EVENT_MODELS,
    EventBase,
    Phrase,
    load_scenario,
    register_event_kind,
    unregister_event_kind,
)
from sim.whatif.explain import chronicle

DATA = Path(__file__).parent / "data"


class GoodwillGift(EventBase):
    """A toy kind: a power's gift adds ``amount`` to its goodwill in the listed states."""

    figure_label: ClassVar[str] = "{power} gift {amount:g}"
    chronicle: ClassVar[str] = "{power} gives {where} a gift: goodwill {amount:+usd_m}{why}"
    phrases: ClassVar[dict[str, Phrase]] = {"why": Phrase("reason", {"": ""}, " for {reason}")}

    kind: Literal["goodwill_gift"]
    power: str
    states: list[str] | Literal["all"] = "all"
    amount: float = 25.0
    reason: str = ""


def _gift(changes: Changes, firing: Firing) -> None:
    goodwill = changes.mutable("goodwill")  # (R, S, P)
    goodwill[:, :, firing.power] += np.where(firing.on, firing.a[:, None], 0.0)


@pytest.fixture
def toy_kind():
    register_event_kind(GoodwillGift)
    register_event_effect("goodwill_gift", EventEffect(("amount", None, None), _gift))
    try:
        yield "goodwill_gift"
    finally:
        unregister_event_effect("goodwill_gift")
        unregister_event_kind("goodwill_gift")


def _scenario_file(tmp_path: Path, events: list[dict]) -> Path:
    data = yaml.safe_load((DATA / "small.yaml").read_text())
    data["rules"] = {"noise": {"stability_sd": 0.0, "reception_sd": 0.0}}
    data["precision"] = "float64"
    data["events"] = events
    path = tmp_path / "gift.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


GIFT = {"kind": "goodwill_gift", "at": "2025Q3", "power": "japan", "states": ["beta"],
        "amount": 40, "reason": "the new hospital"}


def test_the_toy_kind_validates_from_yaml(toy_kind, tmp_path):
    scenario = load_scenario(_scenario_file(tmp_path, [GIFT]))
    (event,) = scenario.events
    assert isinstance(event, GoodwillGift) and event.amount == 40.0
    assert EVENT_KINDS[-1] == "goodwill_gift"
    with pytest.raises(ScenarioError) as bad:
        load_scenario(_scenario_file(tmp_path, [{**GIFT, "amount": "lots"}]))
    assert "events.0.amount" in str(bad.value) and '"lots"' in str(bad.value)
    with pytest.raises(ScenarioError) as unknown:
        load_scenario(_scenario_file(tmp_path, [{**GIFT, "colour": "red"}]))
    assert "events.0.colour: unknown key" in str(unknown.value)
    assert "amount" in str(unknown.value)  # the toy's own fields are the allowed keys


def test_the_toy_kind_runs_in_the_engine(toy_kind, tmp_path):
    scenario = load_scenario(_scenario_file(tmp_path, [GIFT]))
    gift = run_scenario(scenario)
    none = run_scenario(load_scenario(_scenario_file(tmp_path, [])))
    japan, beta, alpha = 0, 1, 0
    fired_at = np.flatnonzero(gift.fired[:, 0, 0]).tolist()
    assert fired_at == [3]  # the step closing 2025Q3 (step 0 is the quarter before the start)
    before = none.goodwill[:3, 0, beta, japan]
    assert np.array_equal(gift.goodwill[:3, 0, beta, japan], before)  # nothing until it fires
    added = gift.goodwill[3, 0, beta, japan] - none.goodwill[3, 0, beta, japan]
    assert added == pytest.approx(40.0 * (1 - scenario.rules.decay.goodwill))  # then it decays
    assert gift.goodwill[3, 0, alpha, japan] == none.goodwill[3, 0, alpha, japan]


def test_the_toy_kind_is_drawn_and_told(toy_kind, tmp_path, capsys):
    recording = run_scenario(load_scenario(_scenario_file(tmp_path, [GIFT])))
    assert (3, "Japan gift 40", {1}) in event_markers(recording)
    folder = write_run(recording, out=tmp_path / "runs", plot=True)
    assert (folder / "influence.png").is_file()
    story = dict(chronicle(folder).quarters)
    told = "Japan gives Beta a gift: goodwill +USD 40.0 m for the new hospital."
    assert told in story["2025Q3"]
    assert main(["explain", str(folder)]) == 0
    assert told in capsys.readouterr().out


def test_a_kind_is_registered_once_and_removed_cleanly(tmp_path):
    with pytest.raises(ValueError, match="already registered"):
        register_event_kind(EVENT_MODELS["visit"])
    with pytest.raises(ValueError, match="already has an effect"):
        register_event_effect("visit", EVENT_EFFECTS["visit"])
    register_event_kind(GoodwillGift)
    unregister_event_kind("goodwill_gift")
    assert "goodwill_gift" not in EVENT_KINDS
    with pytest.raises(ScenarioError, match="not a kind of event"):
        load_scenario(_scenario_file(tmp_path, [GIFT]))


def test_every_kind_has_an_effect_a_label_and_a_sentence():
    assert list(EVENT_EFFECTS) == EVENT_KINDS
    for kind, model in EVENT_MODELS.items():
        slots = [s for s in EVENT_EFFECTS[kind].slots if s]
        assert set(slots) <= set(model.model_fields), kind
        assert model.figure_label and model.chronicle, kind


def test_a_kind_without_a_label_or_a_sentence_is_refused():
    class Untold(EventBase):
        kind: Literal["untold"]

    with pytest.raises(ValueError, match="needs a figure_label and a chronicle sentence"):
        register_event_kind(Untold)
    assert "untold" not in EVENT_KINDS


@pytest.mark.parametrize(("event", "label", "sentence"), [
    ({"kind": "remittance_shock", "power": "china", "states": "all", "change": -0.5},
     "China remittances -50%",
     "Remittances from China to Alpha and Beta change by -50% for 4 quarters."),
    ({"kind": "sanctions", "power": "china", "quarters": 1},
     "China sanctions",
     "Sanctions on China for 1 quarter: its moves buy 20% less, and its trade with the states "
     "grows by 30% (trade rerouted through them)."),
    ({"kind": "energy_purchase", "power": "china", "states": ["beta"], "change": -1},
     "China energy -100%", "China stops its energy purchases in Beta."),
    ({"kind": "energy_purchase", "power": "china", "states": ["beta"], "change": 0.25},
     "China energy +25%",
     "China changes its energy purchases in Beta by +25% of their value at the start."),
    ({"kind": "energy_price", "states": "all", "factor": 0.53},
     "energy price x0.53",
     "Energy price: the value of every energy tie in Alpha and Beta is multiplied by 0.53."),
    ({"kind": "platform_summit", "power": "japan", "states": ["alpha"]},
     "Japan platform",
     "Japan convenes a standing platform with Alpha: its moves buy 10% more there for 8 "
     "quarters."),
    ({"kind": "opening", "states": ["alpha"], "openness_change": 0.1},
     "opening +0.10", "Opening in Alpha: openness +0.10."),
])
def test_the_shipped_kinds_are_drawn_and_told(tmp_path, event, label, sentence):
    scenario = load_scenario(_scenario_file(tmp_path, [{**event, "at": "2025Q2"}]))
    recording = run_scenario(scenario)
    assert [m[1] for m in event_markers(recording)] == [label]
    folder = write_run(recording, out=tmp_path / "runs", plot=False)
    assert sentence in dict(chronicle(folder).quarters)["2025Q2"]
