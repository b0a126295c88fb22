"""The world state: numpy arrays with a leading run axis, and how a batch starts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.params import Params, Structure
from sim.scenario import EVENT_KINDS

SUMMIT = EVENT_KINDS.index("summit")


@dataclass(frozen=True)
class WorldState:
    """The state of R runs after ``step`` quarters.

    Shapes use R runs, S states, P powers, C = 4 channels and E events.

    Attributes:
        step: Quarters simulated so far (0 = initial state).
        footprint: Economic footprint E (R, S, P), USD millions of investment stock.
        goodwill: Goodwill G (R, S, P), USD millions equivalent of soft-power stock.
        diplomatic: Diplomatic capital D (R, S, P), USD millions equivalent.
        share: Influence share I (R, S, P); the residual is 1 minus its sum over powers.
        stability: Stability (R, S) in [0, 1].
        disputes: Open border disputes (R, S).
        effort: Reactive effort (R, S, P), >= 0; spend is budget x min(1 + effort, ceiling).
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


def influence_shares(
    footprint: np.ndarray,
    goodwill: np.ndarray,
    diplomatic: np.ndarray,
    weights: np.ndarray,
    autonomy: np.ndarray,
) -> np.ndarray:
    """Influence share of each power in each state.

    I[s, p] = A[s, p] / (sum_q A[s, q] + autonomy[s]), with attraction
    A = w_E E + w_G G + w_D D. Shares lie in [0, 1) and, with the residual
    autonomy / (sum A + autonomy), sum to one in every state.

    Args:
        footprint: E (R, S, P).
        goodwill: G (R, S, P).
        diplomatic: D (R, S, P).
        weights: (R, 3) channel weights.
        autonomy: (R, S) residual stock, > 0.

    Returns:
        Shares (R, S, P). Where a state's total attraction overflowed (even with each term
        finite), the largest power's share is NaN, so the run is flagged as diverged (naming
        that power) rather than giving shares of 0.
    """
    w = weights[:, None, None, :]
    attraction = w[..., 0] * footprint + w[..., 1] * goodwill + w[..., 2] * diplomatic
    total = autonomy.copy()
    for q in range(attraction.shape[2]):
        total += attraction[:, :, q]
    share = attraction / total[:, :, None]
    if not np.isfinite(total).all():  # the sum overflowed: a divergence, not shares of 0
        r, s = np.nonzero(~np.isfinite(total))
        largest = np.argmax(np.nan_to_num(attraction[r, s], nan=np.inf), axis=-1)
        share[r, s, largest] = np.nan
    return share


def initial_state(structure: Structure, params: Params) -> WorldState:
    """Build step 0 of a batch from its parameters."""
    R, S, P, E = params.n_runs, structure.n_states, structure.n_powers, structure.n_events
    dtype = params.dtype
    footprint = params.footprint.copy()
    goodwill = params.goodwill.copy()
    diplomatic = params.diplomatic.copy()
    is_summit = (structure.event_kind == SUMMIT) & ~structure.event_random
    summit_due = np.where(is_summit[None, :], params.event_step, -1).astype(np.int64)
    return WorldState(
        step=0,
        footprint=footprint,
        goodwill=goodwill,
        diplomatic=diplomatic,
        share=influence_shares(footprint, goodwill, diplomatic, params.weights, params.autonomy),
        stability=params.stability.copy(),
        disputes=params.border_disputes.copy(),
        effort=np.broadcast_to(params.initial_effort[:, None, :], (R, S, P)).copy(),
        budget_scale=np.ones((R, P, 4), dtype=dtype),
        campaign_left=np.zeros((R, S, P), dtype=dtype),
        campaign_intensity=np.zeros((R, S, P), dtype=dtype),
        summit_due=summit_due,
        spend=np.zeros((R, 4, S, P), dtype=dtype),
        signal=np.zeros((R, S, P, P), dtype=dtype),
        response=np.zeros((R, S, P, P), dtype=dtype),
        fired=np.zeros((R, E), dtype=bool),
        diverged_step=np.full(R, -1, dtype=np.int64),
    )
