"""The world state: numpy arrays with a leading run axis, and how a batch starts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.params import Params, Structure
from sim.engine.rules import over_powers, within_reserve
from sim.scenario import CHANNELS, EVENT_KINDS

SUMMIT = EVENT_KINDS.index("summit")
REMITTANCES = 1
"""Index of the remittances channel on the dependence axis (``sim.scenario.DEPENDENCE``)."""


@dataclass(frozen=True)
class WorldState:
    """The state of R runs after ``step`` quarters.

    Shapes use R runs, S states, P powers, C channels (kinds of move) and E events.

    Attributes:
        step: Quarters simulated so far (0 = initial state).
        footprint: Economic footprint E (R, S, P), USD millions of investment stock.
        goodwill: Goodwill G (R, S, P), USD millions equivalent of soft-power stock.
        diplomatic: Diplomatic capital D (R, S, P), USD millions equivalent.
        share: Influence share I (R, S, P); the residual is 1 minus its sum over powers.
        stability: Stability (R, S) in [0, 1].
        disputes: Open border disputes (R, S).
        effort: Reactive spending (R, S, P), USD millions per quarter, >= 0; over the states
            at most the power's reserve (``reserve`` x its regional budget), and in a state at
            most (max_spend_multiplier - 1) x base spend there where that is set.
        dependence: Structural dependence by channel (energy, remittances, security, debt),
            channel first (R, 4, S, P), each channel's block contiguous in memory (a view of
            a (4, R, S, P) array), USD millions (a year, for flows), before the decay
            since the start: the value now is ``dependence x dependence_scale``
            (:meth:`dependence_now`). Keeping the decay as a per-run factor spares the step a
            pass over the whole array.
        dependence_scale: (R, 4) the product of (1 - decay) over the quarters so far.
        remittance_factor: Multiplier on remittances from a power while a shock lasts (R, S, P).
        remittance_left: Quarters left of that shock (R, S, P).
        sanction_left: Quarters left of sanctions on each power (R, P).
        sanction_friction: Fraction of a sanctioned power's reception lost (R, P).
        sanction_rerouting: Extra trade of a sanctioned power through the states (R, P).
        sanction_supply: The share of a sanctioned power's rerouted trade each power supplies
            (R, P sanctioned, P supplier): the supplier's trade with the states grows by it.
        platform_left: Quarters left of a power's standing platform in a state (R, S, P).
        platform_gain: Extra reception that platform gives (R, S, P).
        openness: Each state's openness (R, S), changed by ``opening`` events.
        energy_price: The price of energy in each state relative to the start (R, S), changed
            by ``energy_price`` events (which rescale ``dependence``'s energy channel too).
        leverage_share: Each power's structural share of the state's influence (R, S, P): the
            leverage its reactions can use.
        share_history: Shares of the last H quarters (R, H, S, P), a ring indexed by step
            modulo H, for reactions to a rival's gain (H = 0 when none watches a gain).
        budget_scale: Multiplier on each power's budget by channel (R, P, C), from events.
        campaign_left: Quarters left of a destabilisation campaign by power in a state (R, S, P).
        campaign_intensity: Stability lost per quarter by that campaign (R, S, P).
        summit_due: Step at which each summit event is due (R, E); -1 if none pending.
        spend: Spend in the last quarter (R, C, S, P), USD millions.
        signal: Signal each power saw of each rival in each state (R, S, P, P).
        response: Effort change each power made toward each rival (R, S, P, P).
        fired: Which events fired in the last quarter (R, E).
        diverged_step: First step at which a run became non-finite (R,), -1 if never.
    """

    step: int
    footprint: np.ndarray
    goodwill: np.ndarray
    diplomatic: np.ndarray
    share: np.ndarray
    stability: np.ndarray
    disputes: np.ndarray
    effort: np.ndarray
    dependence: np.ndarray
    dependence_scale: np.ndarray
    remittance_factor: np.ndarray
    remittance_left: np.ndarray
    sanction_left: np.ndarray
    sanction_friction: np.ndarray
    sanction_rerouting: np.ndarray
    platform_left: np.ndarray
    platform_gain: np.ndarray
    openness: np.ndarray
    energy_price: np.ndarray
    sanction_supply: np.ndarray
    leverage_share: np.ndarray
    share_history: np.ndarray
    budget_scale: np.ndarray
    campaign_left: np.ndarray
    campaign_intensity: np.ndarray
    summit_due: np.ndarray
    spend: np.ndarray
    signal: np.ndarray
    response: np.ndarray
    fired: np.ndarray
    diverged_step: np.ndarray

    @property
    def n_runs(self) -> int:
        """Number of runs in the batch."""
        return self.footprint.shape[0]

    def dependence_now(self, channel: int | None = None) -> np.ndarray:
        """Structural dependence now, (R, 4, S, P), or one channel's (R, S, P)."""
        if channel is None:
            return self.dependence * self.dependence_scale[:, :, None, None]
        return self.dependence[:, channel] * self.dependence_scale[:, channel, None, None]


def structural_attraction(
    dependence: np.ndarray, scale: np.ndarray, remittance_factor: np.ndarray | None,
    weights: np.ndarray,
) -> np.ndarray:
    """Influence stock each power holds through structural dependence, (R, S, P).

    X[s, p] = sum_c w_c scale_c dep[c, s, p], remittances counted times the shock factor.

    Args:
        dependence: (R, 4, S, P) by channel, before the decay since the start.
        scale: (R, 4) the decay since the start.
        remittance_factor: (R, S, P) multiplier on remittances while a shock lasts, or None
            when none does.
        weights: (R, 4) influence per USD million of each channel.
    """
    coef = weights * scale  # (R, 4)
    if (coef == coef[:1]).all():  # one value per channel for the whole batch: plain scalars
        coef = [float(x) for x in coef[0]]  # (numpy is much faster than broadcasting (R, 1, 1))
    else:
        coef = [coef[:, c, None, None] for c in range(coef.shape[1])]
    out = dependence[:, 0] * coef[0]
    term = dependence[:, REMITTANCES] * coef[REMITTANCES]
    if remittance_factor is not None:
        term *= remittance_factor
    out += term
    for c in range(2, dependence.shape[1]):
        np.multiply(dependence[:, c], coef[c], out=term)
        out += term
    return out


def influence_shares(
    footprint: np.ndarray,
    goodwill: np.ndarray,
    diplomatic: np.ndarray,
    weights: np.ndarray,
    autonomy: np.ndarray,
    structural: np.ndarray | None = None,
    leverage: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Influence share of each power in each state.

    I[s, p] = A[s, p] / (sum_q A[s, q] + autonomy[s]), with attraction
    A = w_E E + w_G G + w_D D + X (X from :func:`structural_attraction`). Shares lie in
    [0, 1) and, with the residual autonomy / (sum A + autonomy), sum to one in every state.

    Args:
        footprint: E (R, S, P).
        goodwill: G (R, S, P).
        diplomatic: D (R, S, P).
        weights: (R, 3) channel weights.
        autonomy: (R, S) residual stock, > 0.
        structural: X (R, S, P), or None for none.
        leverage: Also return each power's structural share X / (sum_q A[s, q] + autonomy).

    Returns:
        Shares (R, S, P), and the structural shares (R, S, P) if ``leverage``. Where a state's
        total attraction overflowed (even with each term finite), the largest power's share is
        NaN, so the run is flagged as diverged (naming that power) rather than giving shares
        of 0.
    """
    w = weights[:, None, None, :]
    attraction = w[..., 0] * footprint + w[..., 1] * goodwill + w[..., 2] * diplomatic
    if structural is not None:
        attraction += structural
    total = autonomy.copy()
    for q in range(attraction.shape[2]):
        total += attraction[:, :, q]
    share = over_powers(np.divide, attraction, total)
    if not np.isfinite(total).all():  # the sum overflowed: a divergence, not shares of 0
        r, s = np.nonzero(~np.isfinite(total))
        largest = np.argmax(np.nan_to_num(attraction[r, s], nan=np.inf), axis=-1)
        share[r, s, largest] = np.nan
    if leverage:
        return share, over_powers(np.divide, structural, total)
    return share


def regional_share(share: np.ndarray, axis: int = -2) -> np.ndarray:
    """A power's regional influence: the unweighted mean of its shares over the states.

    Every state counts the same, whatever its size. This is the one definition used by the
    recording, the sweep's summaries, policy search, and the Mesa model's agents.

    Args:
        share: Influence shares with a state axis, by default the engine's (..., S, P).
        axis: The state axis.

    Returns:
        The shares without the state axis (..., P).
    """
    # The states are added one by one in order, then divided by their number: the same bits
    # as ``share.mean(axis)`` along a strided axis, about 3x faster on the engine's (R, S, P)
    # float32 arrays (numpy's mean along a short middle axis is slow), and a run's value does
    # not depend on the batch it is in.
    by_state = np.moveaxis(share, axis, 0)
    total = by_state[0].copy()
    for row in by_state[1:]:
        total += row
    total /= by_state.shape[0]
    return total


def initial_state(structure: Structure, params: Params,
                  ceiling: np.ndarray | None = None,
                  reserve: np.ndarray | None = None) -> WorldState:
    """Build step 0 of a batch from its parameters.

    Args:
        structure: The batch's structure.
        params: Its parameters.
        ceiling: The most reactive spending each power can make in each state (R, S, P); the
            initial effort is capped by it, as every later one is.
        reserve: Each power's reserve over all states (R, P), USD millions per quarter; the
            initial effort is scaled to it, as every later one is (None: no limit).
    """
    R, S, P, E = params.n_runs, structure.n_states, structure.n_powers, structure.n_events
    dtype = params.dtype
    footprint = params.footprint.copy()
    goodwill = params.goodwill.copy()
    diplomatic = params.diplomatic.copy()
    is_summit = (structure.event_kind == SUMMIT) & ~structure.event_random
    summit_due = np.where(is_summit[None, :], params.event_step, -1).astype(np.int64)
    # (R, 4, S, P), each channel's (R, S, P) block contiguous (a view of a (4, R, S, P) array)
    dependence = np.moveaxis(np.ascontiguousarray(np.moveaxis(params.dependence, -1, 0)), 0, 1)
    dependence_scale = np.ones((R, dependence.shape[1]), dtype=dtype)
    ones = np.ones((R, S, P), dtype=dtype)
    structural = structural_attraction(dependence, dependence_scale, ones,
                                       params.dependence_weights)
    share, leverage_share = influence_shares(
        footprint, goodwill, diplomatic, params.weights, params.autonomy, structural,
        leverage=True)
    H = structure.history
    effort = np.broadcast_to(params.initial_effort[:, None, :], (R, S, P)).copy()
    if ceiling is not None:
        np.minimum(effort, ceiling, out=effort)
    if reserve is not None:
        within_reserve(effort, reserve)
    return WorldState(
        step=0,
        footprint=footprint,
        goodwill=goodwill,
        diplomatic=diplomatic,
        share=share,
        stability=params.stability.copy(),
        disputes=params.border_disputes.copy(),
        effort=effort,
        dependence=dependence,
        dependence_scale=dependence_scale,
        remittance_factor=ones,
        remittance_left=np.zeros((R, S, P), dtype=dtype),
        sanction_left=np.zeros((R, P), dtype=dtype),
        sanction_friction=np.zeros((R, P), dtype=dtype),
        sanction_rerouting=np.zeros((R, P), dtype=dtype),
        platform_left=np.zeros((R, S, P), dtype=dtype),
        platform_gain=np.zeros((R, S, P), dtype=dtype),
        openness=params.openness.copy(),
        energy_price=np.ones((R, S), dtype=dtype),
        sanction_supply=np.zeros((R, P, P), dtype=dtype),
        leverage_share=leverage_share,
        share_history=np.repeat(share[:, None], H, axis=1),
        budget_scale=np.ones((R, P, len(CHANNELS)), dtype=dtype),
        campaign_left=np.zeros((R, S, P), dtype=dtype),
        campaign_intensity=np.zeros((R, S, P), dtype=dtype),
        summit_due=summit_due,
        spend=np.zeros((R, len(CHANNELS), S, P), dtype=dtype),
        signal=np.zeros((R, S, P, P), dtype=dtype),
        response=np.zeros((R, S, P, P), dtype=dtype),
        fired=np.zeros((R, E), dtype=bool),
        diverged_step=np.full(R, -1, dtype=np.int64),
    )
