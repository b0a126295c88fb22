"""Trade's goods channel (docs/ODD.md 7.11, issue 17 item 4): trade with a power is goods, which
grow with the partner's export supply and the state's import demand, beside the investment and
energy ties, every term a flow in USD m a year; and its mutant (``rules.goods.enabled: false``,
trade from the ties alone) fails two facts of the record (pattern 14)."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml
from clihelp import run_sim
from test_record import china_outgrows_russia

from sim.history.hindcast import DEFAULT_SCENARIO
from sim.outputs.run import run_scenario
from sim.scenario import validate
from sim.uncertainty import DEFAULT_POSTERIOR

WORLD = {
    "name": "goods", "start": "2025Q1", "steps": 8, "seed": 1, "precision": "float64",
    "powers": {
        "china": {"budget": {"invest": 100}, "risk_tolerance": 0.9},
        "russia": {"budget": {"invest": 0}, "risk_tolerance": 0.9},
    },
    "states": {
        "east": {"stability": 0.8, "autonomy": 3000,
                 "initial": {"footprint": {"china": 1000, "russia": 500}},
                 "dependence": {"energy": {"china": 2000}},
                 "economy": {"gdp_usd_bn": 10, "trade_usd_bn": 20, "trade_growth": 0.05,
                             "trade_with": {"china": 6.0, "russia": 4.0}}},
    },
    "rules": {"noise": {"stability_sd": 0.0, "reception_sd": 0.0},
              "decay": {"footprint": 0.0},
              "dependence": {"decay": {"energy": 0.0}},
              "goods": {"investment_trade": 0.1, "export_growth": {"china": 0.10},
                        "world_export_growth": 0.0}},
}
CHINA, RUSSIA = 0, 1


def run(**goods):
    data = copy.deepcopy(WORLD)
    data["rules"]["goods"] |= goods
    return run_scenario(validate(data, source="goods world"))


def test_trade_is_goods_grown_by_supply_and_demand_plus_the_ties():
    rec = run()
    trade = rec.flows["trade"][:, 0, 0]  # (T + 1, P), USD m a quarter
    footprint = rec.footprint[:, 0, 0]
    assert trade[0] * 4 == pytest.approx([6000.0, 4000.0])  # step 0 is the record
    # China: goods 6,000 - (0.1 x 1,000 + 2,000) = 3,900 a year at the start, grown by its
    # supply (1.10 a year over a world at 0) and the state's demand (1.05 a year).
    for t in (4, 8):
        goods = 3900.0 * (1.10 * 1.05) ** (t / 4)
        assert trade[t, CHINA] * 4 == pytest.approx(goods + 0.1 * footprint[t, CHINA] + 2000.0)
        # Russia: no investment budget, its exports grow as the world's: demand alone.
        russia = (4000.0 - 50.0) * 1.05 ** (t / 4) + 0.1 * footprint[t, RUSSIA]
        assert trade[t, RUSSIA] * 4 == pytest.approx(russia)
    # Everyone else grows with the state's demand.
    assert rec.flows["other_trade"][4, 0, 0] * 4 == pytest.approx(10000.0 * 1.05)


def test_investment_moves_trade_only_through_a_flow_per_unit_of_stock():
    rec, flat = run(investment_trade=0.3), run(investment_trade=0.0)
    stock = rec.footprint[8, 0, 0, CHINA]
    assert stock > 1300  # China invested
    # With k = 0 China's trade is blind to its investment. With k = 0.3 its stock carries 0.3
    # of itself in trade a year, and the goods at the start are 0.3 x 1,000 smaller (the record
    # is split, not added to), those goods growing by supply x demand.
    grown = (1.10 * 1.05) ** 2
    gap = (rec.flows["trade"][8, 0, 0, CHINA] - flat.flows["trade"][8, 0, 0, CHINA]) * 4
    assert gap == pytest.approx(0.3 * stock - 0.3 * 1000.0 * grown, rel=1e-9)
    assert np.array_equal(rec.footprint, flat.footprint)  # trade does not feed back


def test_ties_never_carry_more_than_the_observed_trade():
    data = copy.deepcopy(WORLD)
    data["states"]["east"]["dependence"]["energy"]["china"] = 9000  # a tie above the 6 bn traded
    rec = run_scenario(validate(data, source="goods world"))
    trade = rec.flows["trade"][:, 0, 0, CHINA] * 4
    assert trade[0] == pytest.approx(6000.0)  # the record, not 9,100
    assert np.all(trade > 0)


def test_export_growth_names_known_powers():
    data = copy.deepcopy(WORLD)
    data["rules"]["goods"]["export_growth"]["europe"] = 0.02
    with pytest.raises(Exception, match=r"rules\.goods\.export_growth\.europe"):
        validate(data, source="goods world")


def test_goods_do_not_feed_influence():
    rec, fast = run(), run(export_growth={"china": 0.5})
    assert not np.array_equal(rec.flows["trade"], fast.flows["trade"])
    assert np.array_equal(rec.share, fast.share)  # trade is observed; influence is untouched


@pytest.fixture(scope="module")
def hindcasts(tmp_path_factory) -> dict[str, Path]:
    """The history scenario's hindcast with the goods channel and its mutant without it.

    Both as written, over seeds only (``--posterior none``): the shipped posterior was fitted
    to the scenario with goods, and a posterior is applied only to the scenario it was fitted
    to (a foreign one is refused).
    """
    absent = [p for p in (DEFAULT_SCENARIO, DEFAULT_POSTERIOR) if not p.is_file()]
    if absent:
        pytest.skip(f"the shipped hindcast needs {absent}")
    root = tmp_path_factory.mktemp("goods")
    mutant = root / "no_goods.yaml"
    mutant.write_text(yaml.safe_dump({"extends": str(DEFAULT_SCENARIO.resolve()),
                                      "rules": {"goods": {"enabled": False}}}))
    folders = {}
    for name, args in (("goods", []), ("no_goods", [mutant])):
        out = root / name
        result = run_sim("hindcast", *args, "--cutoff", "2019", "--posterior", "none",
                         "--draws", "100", "--workers", "2",
                         "--quiet",
                         "--no-plot", "--out", out, timeout=600)
        assert result.returncode == 0, result.stderr
        (folders[name],) = (out / "hindcast").iterdir()
    return folders


# China overtaking Russia in Kazakhstan held with goods only while the sanctions' rerouting was
# set from a 2022 figure; with the model's default (issue 18, docs/HINDCAST.md) it fails either
# way, a strict xfail in tests/test_record.py.
@pytest.mark.parametrize("fact", [china_outgrows_russia], ids=lambda f: f.__name__)
def test_mutant_no_goods_channel_fails_the_record(hindcasts, fact):
    """Without goods, trade follows investment and energy: Russia's Kazakh stock (about +60% to
    2024) outgrows China's ties, so Russia keeps Kazakhstan and outgrows China in the region."""
    holds, measured = fact(hindcasts["goods"])
    assert holds, measured
    holds, measured = fact(hindcasts["no_goods"])
    assert not holds, f"the mutant still passes: {measured}"
