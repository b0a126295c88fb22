"""Derive the baseline's computed initial values (docs/DATA.md, "Goodwill and diplomatic capital").

Investment stocks, dependence, trade and GDP are sourced figures (docs/DATA_STRUCTURAL.md,
section 7); this script computes the rest from them and the scenario's budgets and rules, and
prints the state blocks of scenarios/baseline.yaml:

- goodwill and diplomatic capital at their steady state under the baseline's spending:
  G = openness x soft-power spend / goodwill decay, D = openness x (diplomacy spend + k_v x
  visibility x gated investment) / diplomatic decay;
- autonomy (the residual) such that the three powers' initial influence shares sum to the sum
  of their trade shares (the residual keeps the meaning of the state's ties to everyone else);
- absorptive capacity = a year's foreign investment and loans x the three powers' part / 4.

Run from anywhere: ``python data/derive_baseline.py`` (it reads the scenario's budgets, so run
it after changing them and paste the printed blocks back).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from sim.engine import compile_scenario, make_batch, rules
from sim.scenario import DEPENDENCE, load_scenario

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"

INVESTMENT_STOCK = {
    "kazakhstan": {"china": 10900, "russia": 8500, "japan": 6000},
    "kyrgyzstan": {"china": 1900, "russia": 1900, "japan": 50},
    "tajikistan": {"china": 2100, "russia": 1200, "japan": 100},
    "turkmenistan": {"china": 9500, "russia": 300, "japan": 100},
    "uzbekistan": {"china": 10000, "russia": 9000, "japan": 500},
}
"""Investment stock by origin, USD millions, end of 2024 (DATA_STRUCTURAL.md section 7.1)."""

STRUCTURAL = {
    "kazakhstan": {
        "energy": {"china": 5100, "russia": 5900, "japan": 300},
        "remittances": {"russia": 300},
        "security": {"china": 20, "russia": 500},
        "debt": {"china": 1000, "japan": 200},
    },
    "kyrgyzstan": {
        "energy": {"russia": 600},
        "remittances": {"russia": 2566},
        "security": {"china": 20, "russia": 200},
        "debt": {"china": 1650, "japan": 250},
    },
    "tajikistan": {
        "energy": {"russia": 665},
        "remittances": {"russia": 4600},
        "security": {"china": 100, "russia": 600, "japan": 5},
        "debt": {"china": 1000, "japan": 10},
    },
    "turkmenistan": {
        "energy": {"china": 9600, "russia": 600},
        "remittances": {"russia": 50},
        "security": {"china": 50, "russia": 50},
        "debt": {"japan": 100},
    },
    "uzbekistan": {
        "energy": {"china": 400, "russia": 900},
        "remittances": {"china": 20, "russia": 11400, "japan": 20},
        "security": {"china": 20, "russia": 150},
        "debt": {"china": 3800, "russia": 300, "japan": 2300},
    },
}
"""Structural dependence by channel, USD millions (a year for flows; DATA_STRUCTURAL 7.2)."""

ECONOMY = {
    "kazakhstan": (291, 0.07, 140, 0.04, {"china": 31.5, "russia": 26.0, "japan": 1.9}),
    "kyrgyzstan": (17.1, 0.08, 17.0, 0.05, {"china": 5.8, "russia": 2.8, "japan": 0.08}),
    "tajikistan": (13.7, 0.08, 8.9, 0.05, {"china": 1.74, "russia": 1.83, "japan": 0.04}),
    "turkmenistan": (64.0, 0.05, 19.5, 0.03, {"china": 10.6, "russia": 1.3, "japan": 0.08}),
    "uzbekistan": (115.0, 0.09, 65.9, 0.06, {"china": 14.4, "russia": 10.4, "japan": 1.4}),
}
"""GDP (USD bn), GDP growth, trade turnover (USD bn), trade growth, trade with each power
(USD bn); 2024 unless docs/DATA.md says otherwise."""

POOL = {
    "kazakhstan": (25000, 0.17),
    "kyrgyzstan": (2000, 0.46),
    "tajikistan": (4900, 0.085),
    "turkmenistan": (2000, 0.8),
    "uzbekistan": (27700, 0.42),
}
"""Foreign investment and loans a year from all sources (USD millions) and the three powers'
part of it (DATA_STRUCTURAL.md sections 4 and 7.3)."""


def attraction_of_dependence(dependence: dict, weights: dict[str, float], power: str) -> float:
    """A power's structural attraction in a state: sum over channels of weight x dependence.

    Args:
        dependence: The state's dependence, channel -> power -> USD millions.
        weights: Influence per USD million of each channel (``rules.dependence.weights``).
        power: The power's key.

    Returns:
        The weighted sum, USD millions equivalent.
    """
    return sum(weights[c] * dependence.get(c, {}).get(power, 0) for c in weights)


def autonomy_for(attraction: float, share_sum: float) -> int:
    """The residual stock that makes the powers' shares sum to their trade shares.

    With the powers' total attraction A and the sum of their trade shares f, the residual R
    solves A / (A + R) = f, so R = A (1 - f) / f.

    Args:
        attraction: The three powers' total attraction in the state, USD millions equivalent.
        share_sum: The sum of the powers' shares of the state's trade turnover.

    Returns:
        The residual, rounded to whole USD millions.
    """
    return round(attraction * (1 - share_sum) / share_sum)


def main() -> None:
    """Print each state's derived values, then the state blocks for scenarios/baseline.yaml."""
    sc = load_scenario(BASELINE)
    structure, params = compile_scenario(sc)
    batch = make_batch(structure, params, [1])
    allocated = batch.budget_allocation[0].astype(float)  # (channel, state, power), USD m/q
    risk = rules.state_risk(params.stability, params.border_disputes,
                            params.instability_weight, params.dispute_weight)
    gate = rules.investment_gate(risk, batch.tolerance, params.risk_softness)[0].astype(float)
    decay_goodwill = sc.rules.decay.goodwill
    decay_diplomatic = sc.rules.decay.diplomatic
    diplomatic_gain = sc.rules.visibility.diplomatic_gain
    weights = {c: getattr(sc.rules.dependence.weights, c) for c in DEPENDENCE}
    out = {}
    for i, state in enumerate(structure.states):
        openness = sc.states[state].openness
        initial = {"footprint": {}, "goodwill": {}, "diplomatic": {}}
        attraction = 0.0
        for j, power in enumerate(structure.powers):
            visibility = sc.powers[power].visibility
            goodwill = round(openness * allocated[1, i, j] / decay_goodwill)
            visible = diplomatic_gain * visibility * allocated[0, i, j] * gate[i, j]
            diplomatic = round(openness * (allocated[2, i, j] + visible) / decay_diplomatic)
            initial["footprint"][power] = INVESTMENT_STOCK[state][power]
            initial["goodwill"][power] = goodwill
            initial["diplomatic"][power] = diplomatic
            attraction += (INVESTMENT_STOCK[state][power] + goodwill + diplomatic
                           + attraction_of_dependence(STRUCTURAL[state], weights, power))
        gdp, gdp_growth, trade_total, trade_growth, trade_with = ECONOMY[state]
        share_sum = sum(trade_with.values()) / trade_total
        autonomy = autonomy_for(attraction, share_sum)
        pool, part = POOL[state]
        capacity = round(pool * part / 4)
        demand = float((allocated[0, i] * gate[i]).sum())  # the powers' gated investment, USD m/q
        out[state] = {
            "initial": initial,
            "dependence": STRUCTURAL[state],
            "autonomy": autonomy,
            "capacity": capacity,
            "economy": {"gdp_usd_bn": gdp, "gdp_growth": gdp_growth,
                        "trade_usd_bn": trade_total, "trade_growth": trade_growth,
                        "trade_with": trade_with},
        }
        print(state, "autonomy", autonomy, "capacity", capacity, "demand", round(demand),
              "share_sum", round(share_sum, 3))
    print(yaml.safe_dump(out, sort_keys=False, default_flow_style=None))


if __name__ == "__main__":
    main()
