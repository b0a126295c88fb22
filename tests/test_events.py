"""The events the record names (remittance shocks, sanctions, energy purchases, standing
platforms, openings): each one's fields, defaults and effect, on a small two-power world."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.outputs.run import run_scenario
from sim.scenario import validate

WORLD = {
    "name": "events", "start": "2025Q1", "steps": 12, "seed": 3, "precision": "float64",
    "powers": {
        "russia": {"budget": {"invest": 40, "soft_power": 20, "diplomacy": 5},
                   "risk_tolerance": 0.9},
        "china": {"budget": {"invest": 100, "soft_power": 10, "diplomacy": 5},
                  "risk_tolerance": 0.9},
    },
    "states": {
        "north": {"stability": 0.8, "openness": 0.7, "autonomy": 3000,
                  "initial": {"footprint": {"russia": 300, "china": 500}},
                  "dependence": {"remittances": {"russia": 800}, "energy": {"china": 1000}},
                  "economy": {"gdp_usd_bn": 10, "trade_usd_bn": 8,
                              "trade_with": {"russia": 1.5, "china": 2.0}}},
        "south": {"stability": 0.8, "openness": 0.7, "autonomy": 3000,
                  "initial": {"footprint": {"russia": 300, "china": 500}},
                  "dependence": {"remittances": {"russia": 800}, "energy": {"china": 1000}},
                  "economy": {"gdp_usd_bn": 10, "trade_usd_bn": 8,
                              "trade_with": {"russia": 1.5, "china": 2.0}}},
    },
    "rules": {"noise": {"stability_sd": 0.0, "reception_sd": 0.0},
              "dependence": {"decay": {"energy": 0.0, "remittances": 0.0, "security": 0.0,
                                       "debt": 0.0}}},
}
RUSSIA, CHINA = 0, 1
NORTH, SOUTH = 0, 1
ENERGY, REMITTANCES = 0, 1


def world(*events: dict):
    data = copy.deepcopy(WORLD)
    data["events"] = list(events)
    return run_scenario(validate(data, source="test world"))


def observed(rec, observable, state, partner):
    frame = rec.observables(0)
    rows = frame[(frame.observable == observable) & (frame.state == state)
                 & (frame.partner == partner)]
    return dict(zip(rows.year, rows.value, strict=True))


def test_remittance_shock_cuts_remittances_and_their_influence_while_it_lasts():
    calm = world()
    shock = world({"kind": "remittance_shock", "at": "2025Q2", "power": "russia",
                   "states": ["north"], "change": -0.5, "quarters": 4})
    # Steps 2-5 (2025Q2 to 2026Q1) carry half the remittances, in north only.
    kept = shock.dependence[:, 0, NORTH, RUSSIA, REMITTANCES]
    assert np.all(kept == 800)  # the stock itself is untouched: the flow is scaled
    share_gap = calm.share[:, 0, :, RUSSIA] - shock.share[:, 0, :, RUSSIA]
    assert np.all(share_gap[2:6, NORTH] > 0) and np.all(share_gap[:2, NORTH] == 0)
    assert np.all(share_gap[:, SOUTH] == 0)
    flows = shock.flows["remittances"][:, 0, NORTH, RUSSIA]
    assert flows[1] == pytest.approx(200) and flows[2] == pytest.approx(100)
    assert flows[5] == pytest.approx(100) and flows[6] == pytest.approx(200)  # over after 4
    # Observed: 2025's remittances are (200 + 3 x 100) / 2,500 of a 10 bn GDP.
    assert observed(shock, "remittances_gdp", "north", "russia")[2025] == pytest.approx(0.05)
    assert observed(calm, "remittances_gdp", "north", "russia")[2025] == pytest.approx(0.08)


def test_sanctions_lower_the_sanctioned_powers_reception_and_reroute_trade():
    calm = world()
    sanctioned = world({"kind": "sanctions", "at": "2025Q1", "power": "russia",
                        "trade_friction": 0.3, "rerouting": 0.5, "quarters": 4})
    lost = 1 - sanctioned.footprint[:, 0] / calm.footprint[:, 0]  # (T + 1, S, P), relative
    assert np.all(lost[1:, :, RUSSIA] > 0)  # its investment bought less in every state
    # Others move only through hedging against a weaker Russia, far less.
    assert np.all(np.abs(lost[1:, :, CHINA]) < 0.2 * lost[1:, :, RUSSIA])
    trade = sanctioned.flows["trade"][:, 0, NORTH, RUSSIA]
    base = calm.flows["trade"][:, 0, NORTH, RUSSIA]
    # Trade is goods (1,500 observed less 0.1 x the 300 stock, no growth here) plus 0.1 x the
    # investment stock a year (ODD 7.11), times 1 + rerouting while it lasts.
    unrouted = (1470.0 + 0.1 * sanctioned.footprint[:, 0, NORTH, RUSSIA]) / 4.0
    assert trade[1] == pytest.approx(1.5 * unrouted[1])
    assert trade[4] == pytest.approx(1.5 * unrouted[4])
    assert trade[5] == pytest.approx(unrouted[5])  # four quarters, then over
    assert base[5] == pytest.approx((1470.0 + 0.1 * calm.footprint[5, 0, NORTH, RUSSIA]) / 4)


def test_sanctions_suppliers_trade_what_is_rerouted_to_the_sanctioned_power():
    calm = world()
    plain = world({"kind": "sanctions", "at": "2025Q1", "power": "russia", "rerouting": 0.5,
                   "quarters": 4})
    supplied = world({"kind": "sanctions", "at": "2025Q1", "power": "russia", "rerouting": 0.5,
                      "quarters": 4, "supplied_by": {"china": 0.6}})
    russia = supplied.flows["trade"][:, 0, :, RUSSIA]
    assert np.array_equal(russia, plain.flows["trade"][:, 0, :, RUSSIA])  # its own: unchanged
    # Russia's trade is its base x 1.5 while rerouted: the rerouted amount is a third of it.
    rerouted = plain.flows["trade"][:, 0, :, RUSSIA] / 3.0
    extra = supplied.flows["trade"][:, 0, :, CHINA] - plain.flows["trade"][:, 0, :, CHINA]
    assert np.all(plain.flows["trade"][1:5, 0, :, RUSSIA] > calm.flows["trade"][1:5, 0, :, RUSSIA])
    assert extra[1:5] == pytest.approx(0.6 * rerouted[1:5])
    assert np.all(extra[5:] == 0) and np.all(extra[0] == 0)  # only while the sanctions last
    # Trade is observed, not influence: the shares are those of plain sanctions.
    assert np.array_equal(supplied.share, plain.share)


@pytest.mark.parametrize("supply, message", [
    ({"chna": 0.5}, "did you mean 'china'"),
    ({"russia": 0.5}, "cannot supply"),
    ({"china": 0.7, "russia": 0.0}, "cannot supply"),
    ({"china": 1.5}, "events.0.supplied_by.china"),
])
def test_bad_suppliers_are_refused(supply, message):
    data = copy.deepcopy(WORLD)
    data["events"] = [{"kind": "sanctions", "at": "2025Q1", "power": "russia",
                       "supplied_by": supply}]
    with pytest.raises(ScenarioError, match=message):
        validate(data, source="test world")


def test_energy_purchase_stops_and_resumes():
    stop = world({"kind": "energy_purchase", "at": "2025Q2", "power": "china",
                  "states": ["north"], "change": -1.0},
                 {"kind": "energy_purchase", "at": "2026Q1", "power": "china",
                  "states": ["north"], "change": 0.6})
    energy = stop.dependence[:, 0, :, CHINA, ENERGY]
    assert energy[1, NORTH] == 1000 and energy[2, NORTH] == 0
    assert energy[5, NORTH] == pytest.approx(600)  # 0.6 of the structural stock at the start
    assert np.all(energy[:, SOUTH] == 1000)
    calm = world()
    assert np.all(stop.share[2:, 0, NORTH, CHINA] < calm.share[2:, 0, NORTH, CHINA])


def test_energy_price_rescales_every_energy_tie_and_the_trade_it_carries():
    calm = world()
    cheap = world({"kind": "energy_price", "at": "2025Q2", "states": ["north"], "factor": 0.5},
                  {"kind": "energy_price", "at": "2026Q1", "factor": 1.5})
    energy = cheap.dependence[:, 0, :, CHINA, ENERGY]
    assert energy[1, NORTH] == 1000 and energy[2, NORTH] == pytest.approx(500)
    assert energy[5, NORTH] == pytest.approx(750) and energy[5, SOUTH] == pytest.approx(1500)
    # Trade follows the tie (investment stock + energy), so China's trade in north falls.
    trade = cheap.flows["trade"][:, 0, NORTH, CHINA] / calm.flows["trade"][:, 0, NORTH, CHINA]
    assert trade[1] == pytest.approx(1.0) and 0.6 < trade[2] < 1.0
    assert np.all(cheap.share[2:5, 0, NORTH, CHINA] < calm.share[2:5, 0, NORTH, CHINA])
    # A purchase after a price change adds its volume at the price then.
    later = world({"kind": "energy_price", "at": "2025Q2", "states": ["north"], "factor": 0.5},
                  {"kind": "energy_purchase", "at": "2025Q3", "power": "china",
                   "states": ["north"], "change": 1.0})
    assert later.dependence[3, 0, NORTH, CHINA, ENERGY] == pytest.approx(1000)


def test_platform_summit_raises_the_conveners_reception_for_its_quarters():
    calm = world()
    platform = world({"kind": "platform_summit", "at": "2025Q2", "power": "china",
                      "reception_gain": 0.5, "quarters": 2})
    gained = platform.footprint[:, 0, :, CHINA] - calm.footprint[:, 0, :, CHINA]
    assert np.all(gained[:2] == 0)
    assert np.all(np.diff(gained[1:4], axis=0) > 0)  # grows in its two quarters
    # Afterwards the extra stock only decays: no further gain from the platform.
    increments = np.diff(gained[3:], axis=0)
    assert np.all(increments <= 1e-9)


def test_opening_moves_openness_and_what_a_dollar_buys():
    calm = world()
    opened = world({"kind": "opening", "at": "2025Q1", "states": ["south"],
                    "openness_change": 0.3})
    more = opened.footprint[1:, 0, SOUTH] - calm.footprint[1:, 0, SOUTH]
    assert np.all(more > 0)
    assert np.all(opened.footprint[:, 0, NORTH] == calm.footprint[:, 0, NORTH])
    closed = world({"kind": "opening", "at": "2025Q1", "states": "all",
                    "openness_change": -1.0})
    assert np.all(closed.footprint[1:, 0] < calm.footprint[1:, 0])  # nothing let in


@pytest.mark.parametrize("event, message", [
    ({"kind": "remittance_shock", "at": "2025Q2", "power": "russia", "change": -2},
     "events.0.change"),
    ({"kind": "sanctions", "at": "2025Q2", "power": "rusia"}, "did you mean 'russia'"),
    ({"kind": "opening", "at": "2025Q2", "states": ["north"]}, "openness_change"),
    ({"kind": "energy_price", "at": "2025Q2", "factor": 0}, "events.0.factor"),
    ({"kind": "platform_summit", "at": "2025Q2", "power": "china", "quarters": 0},
     "events.0.quarters"),
])
def test_bad_event_fields_are_refused_with_the_path(event, message):
    data = copy.deepcopy(WORLD)
    data["events"] = [event]
    with pytest.raises(ScenarioError, match=message):
        validate(data, source="test world")


def test_new_events_have_their_documented_defaults():
    data = copy.deepcopy(WORLD)
    data["events"] = [{"kind": "sanctions", "at": 2, "power": "russia"},
                      {"kind": "platform_summit", "at": 2, "power": "china"},
                      {"kind": "remittance_shock", "at": 2, "power": "russia", "change": -0.2}]
    sanctions, platform, shock = validate(data).events
    assert (sanctions.trade_friction, sanctions.rerouting, sanctions.quarters) == (0.2, 0.3, 12)
    assert (platform.reception_gain, platform.quarters, platform.states) == (0.1, 8, "all")
    assert (shock.quarters, shock.states) == (4, "all")
