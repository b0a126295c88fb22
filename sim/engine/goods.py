"""Trade with the powers: a goods channel beside the investment and energy ties (ODD 7.11).

Every term is a flow in USD millions a year (a quarter is a fourth of it); no stock is ever added
to a flow. A state's trade with power p is

    trade[s,p](t) = goods[s,p](t) + w[s,p] x tie[s,p](t)
    tie[s,p](t)   = k x E[s,p](t) + energy[s,p](t)
    goods[s,p](t) = goods0[s,p] x supply[p](t)^a x demand[s](t)^b

where k (``rules.goods.investment_trade``, per year) turns the investment stock E (USD m) into
the trade it carries a year (equipment, inputs, output shipped home), energy is the energy tie
(USD m a year), supply[p](t) = ((1 + g_p) / (1 + g_world))^(t/4) is the partner's share of world
export supply relative to the start, demand[s](t) = (1 + trade_growth[s])^(t/4) is the state's
import demand relative to the start, and a, b are the gravity elasticities. The start is the
record: goods0 = 1000 x trade_with - w x tie(0), with w = min(1, 1000 x trade_with / tie(0))
so the ties never carry more than the observed trade (w = 0 where nothing is traded). This is
the gravity equation with its masses and frictions (distance, affinity) folded into goods0,
which the observed start pins: the frictions are taken as constant over a run.

With the goods channel off (``rules.goods.enabled: false``, the mutant) trade follows the ties
alone: trade = 1000 x trade_with x tie(t) / tie(0) x demand(t) (a pair with no tie keeps its
observed start times demand).
"""

from __future__ import annotations

import math

import numpy as np

from sim.engine.params import Params
from sim.engine.state import WorldState
from sim.scenario import DEPENDENCE

ENERGY = DEPENDENCE.index("energy")
"""The energy channel's index in the dependence axis."""


def power(base: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """The power ``base ** exponent`` elementwise, the same whatever the batch around it.

    numpy's vectorised ``power`` may round an element differently depending on where it falls
    in its loop (vector lanes or the scalar tail), so a run's value would depend on how many runs
    share its batch and the files on the chunk size. This takes each distinct (base, exponent)
    pair once through ``math.pow``: a handful of pairs (states or powers x distinct elasticities).
    """
    base, exponent = np.broadcast_arrays(np.asarray(base, dtype=np.float64),
                                         np.asarray(exponent, dtype=np.float64))
    if base.ndim and (base == base[:1]).all() and (exponent == exponent[:1]).all():
        row = np.array([math.pow(b, e) for b, e in zip(base[0].ravel(), exponent[0].ravel(),
                                                         strict=True)])
        return np.broadcast_to(row.reshape(base.shape[1:]), base.shape).copy()
    pairs = np.stack([base.ravel(), exponent.ravel()], axis=1)
    unique, inverse = np.unique(pairs, axis=0, return_inverse=True)
    values = np.array([math.pow(b, e) for b, e in unique])
    return values[inverse.ravel()].reshape(base.shape)


def demand_growth(params: Params, step: int) -> np.ndarray:
    """The state's import demand relative to the start, demand[s](t)^b, (R, S)."""
    years = step / 4.0
    b = params.demand_elasticity.astype(np.float64)[:, None]
    return power(1.0 + params.trade_growth.astype(np.float64), years * b)


def supply_growth(params: Params, step: int) -> np.ndarray:
    """The partner's share of world export supply relative to the start, supply[p](t)^a, (R, P)."""
    years = step / 4.0
    a = params.supply_elasticity.astype(np.float64)[:, None]
    relative = ((1.0 + params.export_growth.astype(np.float64))
                / (1.0 + params.world_export_growth.astype(np.float64))[:, None])
    return power(relative, years * a)


def ties(footprint: np.ndarray, energy: np.ndarray, params: Params) -> np.ndarray:
    """The investment-linked and energy trade, k x E + energy, USD m a year (R, S, P)."""
    k = params.investment_trade.astype(np.float64)[:, None, None]
    return k * footprint + energy


def split_start(params: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The observed start split into goods and ties.

    Returns:
        ``goods0`` (R, S, P) USD m a year, ``tie0`` (R, S, P) USD m a year and the ties' weight
        ``w`` (R, S, P) in [0, 1].
    """
    observed = 1000.0 * params.trade_with.astype(np.float64)
    tie0 = ties(params.footprint.astype(np.float64),
                params.dependence[..., ENERGY].astype(np.float64), params)
    w = np.minimum(1.0, np.divide(observed, tie0, out=np.zeros_like(tie0), where=tie0 > 0))
    goods0 = np.maximum(observed - w * tie0, 0.0)
    return goods0, tie0, w


def trade_with_powers(state: WorldState, params: Params) -> np.ndarray:
    """Trade with each power this step, before any sanctions' rerouting, USD m a quarter.

    Returns:
        (R, S, P): goods plus the weighted ties (or the ties alone, scaled to the observed
        start, where the goods channel is off).
    """
    demand = demand_growth(params, state.step)
    tie = ties(state.footprint.astype(np.float64),
               state.dependence_now(ENERGY).astype(np.float64), params)
    goods0, tie0, w = split_start(params)
    with_goods = (goods0 * supply_growth(params, state.step)[:, None, :] * demand[:, :, None]
                  + w * tie)
    observed = 1000.0 * params.trade_with.astype(np.float64)
    ratio = np.divide(tie, tie0, out=np.ones_like(tie), where=tie0 > 0)
    ties_only = observed * ratio * demand[:, :, None]
    on = params.goods_on.astype(bool)[:, None, None]
    return np.where(on, with_goods, ties_only) / 4.0
