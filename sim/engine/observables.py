"""Observables: what the record shows (trade, remittances), computed from the model's stocks.

Influence is latent; trade and remittances are measured. Each quarter the model maps its stocks
to flows (docs/ODD.md, "Observables"), all in USD millions per quarter:

- trade with power p: the goods channel plus the investment and energy ties
  (:func:`sim.engine.goods.trade_with_powers`, all flows) x (1 + rerouting[p] while p is
  sanctioned) + sum over sanctioned q of supply[q, p] x rerouting[q] x (q's trade before
  rerouting);
- trade with everyone else: other[s] = 1000 x (trade_usd_bn - sum_p trade_with) / 4 x
  demand[s](t), the state's import demand (1 + trade_growth)^(t / 4 x demand_elasticity);
- remittances from p: remit[s, p] = dep_remittances[s, p] x remittance factor / 4;
- GDP: gdp[s] = 1000 x gdp_usd_bn / 4 x (1 + gdp_growth)^(t / 4).

A year sums its four quarters (:func:`yearly`): trade_share = trade / (other + sum of trade),
trade_usd_bn, remittances_gdp = remittances / GDP, remittances_usd_bn, and ``region`` sums the
five states' trade; leadership_approval is a logistic of the year's mean soft share
(:mod:`sim.engine.approval`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.engine import approval, goods
from sim.engine.params import Params, Structure
from sim.engine.state import REMITTANCES, WorldState

QUARTERLY = ("trade", "other_trade", "remittances", "gdp", "soft_share")
"""The quarterly flows recorded per step (``soft_share``: a fraction, averaged by year)."""


def quarterly(state: WorldState, params: Params) -> dict[str, np.ndarray]:
    """The observable flows of one step, USD millions per quarter.

    Returns:
        ``trade`` (R, S, P), ``other_trade`` (R, S), ``remittances`` (R, S, P), ``gdp`` (R, S),
        and ``soft_share`` (R, S, P), a fraction (:func:`sim.engine.approval.soft_share`).
    """
    years = state.step / 4.0
    gdp_growth = (1.0 + params.gdp_growth.astype(np.float64)) ** years
    trade = goods.trade_with_powers(state, params)
    rerouting = np.where(state.sanction_left > 0, state.sanction_rerouting, 0.0)
    before = trade
    trade = trade * (1.0 + rerouting[:, None, :])
    if state.sanction_supply.any():  # the suppliers of the rerouted goods trade more too
        rerouted = before * rerouting[:, None, :]  # (R, S, P sanctioned)
        trade = trade + np.einsum("rsp,rpq->rsq", rerouted, state.sanction_supply)
    other = (250.0 * (params.trade_total - params.trade_with.sum(axis=2))
             * goods.demand_growth(params, state.step))
    remittances = state.dependence_now(REMITTANCES) * state.remittance_factor / 4.0
    gdp = 250.0 * params.gdp * gdp_growth
    return {"trade": trade, "other_trade": other, "remittances": remittances, "gdp": gdp,
            "soft_share": approval.soft_share(state, params)}


def yearly(flows: dict[str, np.ndarray], structure: Structure, quarters: list[str],
           runs: list[int] | None = None, seeds: np.ndarray | None = None) -> pd.DataFrame:
    """Annual observables in long format from per-step flows.

    A year is kept when the run covers its four quarters; the year of step 0 is kept too when
    step 0 closes a fourth quarter, its flows taken at their step-0 annual rate.

    Args:
        flows: Each of :data:`QUARTERLY` stacked over steps, (T + 1, R, ...).
        structure: The batch's structure (names).
        quarters: The label of each step (step 0 first).
        runs: Which runs to report (default: all).
        seeds: Run seeds; when given, a ``seed`` column is added.

    Returns:
        Columns [seed,] year, state, partner, observable, value; fractions for shares and
        ratios, USD billions for trade_usd_bn and remittances_usd_bn.
    """
    labels = np.array(quarters)
    years = np.array([int(q[:4]) for q in labels])
    quarter = np.array([int(q[-1]) for q in labels])
    rows: list[pd.DataFrame] = []
    runs = list(range(flows["trade"].shape[1])) if runs is None else runs
    annual: dict[int, np.ndarray] = {}
    for year in np.unique(years):
        steps = np.flatnonzero((years == year) & (np.arange(len(labels)) > 0))
        if len(steps) == 4:
            annual[int(year)] = steps
        elif quarter[0] == 4 and years[0] == year:
            annual[int(year)] = np.array([0, 0, 0, 0])
    states, powers = list(structure.states), list(structure.powers)
    for r in runs:
        for year, steps in annual.items():
            trade = flows["trade"][steps, r].astype(np.float64).sum(axis=0)  # (S, P)
            other = flows["other_trade"][steps, r].astype(np.float64).sum(axis=0)  # (S,)
            remit = flows["remittances"][steps, r].astype(np.float64).sum(axis=0)
            gdp = flows["gdp"][steps, r].astype(np.float64).sum(axis=0)
            approve = approval.approval(flows["soft_share"][steps, r].astype(np.float64)
                                        .mean(axis=0))  # (S, P)
            total = other + trade.sum(axis=1)
            records = []
            for s, state in enumerate(states):
                for p, power in enumerate(powers):
                    records.append((year, state, power, "trade_share", trade[s, p] / total[s]))
                    records.append((year, state, power, "trade_usd_bn", trade[s, p] / 1000.0))
                    if remit[s, p] > 0:
                        records.append((year, state, power, "remittances_gdp",
                                        remit[s, p] / gdp[s]))
                        records.append((year, state, power, "remittances_usd_bn",
                                        remit[s, p] / 1000.0))
                    if state in approval.SURVEYED:
                        records.append((year, state, power, "leadership_approval",
                                        approve[s, p]))
            for p, power in enumerate(powers):
                records.append((year, "region", power, "trade_share",
                                trade[:, p].sum() / total.sum()))
                records.append((year, "region", power, "trade_usd_bn", trade[:, p].sum() / 1000))
            frame = pd.DataFrame(records, columns=["year", "state", "partner", "observable",
                                                   "value"])
            if seeds is not None:
                frame.insert(0, "seed", int(seeds[r]))
            rows.append(frame)
    columns = (["seed"] if seeds is not None else []) + ["year", "state", "partner",
                                                          "observable", "value"]
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.concat(rows, ignore_index=True)


def annual_observables(trade: np.ndarray, other: np.ndarray, remittances: np.ndarray,
                       gdp: np.ndarray, soft_share: np.ndarray | None = None
                       ) -> dict[str, np.ndarray]:
    """The annual observables of many runs and years at once, from a year's summed flows.

    The vectorised form of :func:`yearly`'s formulas, for calibration: leading axes (years,
    runs, ...) are free; no table is built.

    Args:
        trade: Trade with each power summed over the year's quarters (..., S, P).
        other: Trade with everyone else (..., S).
        remittances: Remittances from each power (..., S, P).
        gdp: GDP (..., S).
        soft_share: The soft share summed over the year's four quarters (..., S, P); when
            given, ``leadership_approval`` is returned too.

    Returns:
        ``trade_share`` and ``trade_usd_bn`` (..., S + 1, P), the last state row being the
        region; ``remittances_gdp`` and ``remittances_usd_bn`` (..., S, P), NaN where a power
        sends no remittances; ``leadership_approval`` (..., S, P) with ``soft_share``.
        Fractions and USD billions, as in :func:`yearly`.
    """
    total = other + trade.sum(axis=-1)
    region_trade = trade.sum(axis=-2, keepdims=True)
    region_total = total.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.concatenate([trade / total[..., None], region_trade / region_total[..., None]],
                               axis=-2)
        sent = np.where(remittances > 0, remittances, np.nan)
        annual = {
            "trade_share": share,
            "trade_usd_bn": np.concatenate([trade, region_trade], axis=-2) / 1000.0,
            "remittances_gdp": sent / gdp[..., None],
            "remittances_usd_bn": sent / 1000.0,
        }
    if soft_share is not None:
        annual["leadership_approval"] = approval.approval(soft_share / 4.0)
    return annual
