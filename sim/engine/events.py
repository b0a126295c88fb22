"""Events: what each kind does to the world state when it fires.

Scheduled events fire in the step that closes their quarter; random ones fire in any step with
their probability, drawn from the counter-based generator (stream ``STREAM_EVENTS``, index =
the event's position in the timeline). Cancellations are applied before summits, so a summit
cancelled in its own quarter does not happen then (it is postponed by ``delay`` quarters, or
lost).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sim.engine.params import Params, Structure
from sim.engine.random import STREAM_EVENTS, uniform
from sim.engine.state import WorldState
from sim.scenario import EVENT_KINDS

(BORDER_ACCORD, VISIT, SUMMIT, SUMMIT_CANCELLED, BUDGET_CHANGE, CAMPAIGN, SHOCK,
 REMITTANCE_SHOCK, SANCTIONS, ENERGY_PURCHASE, PLATFORM_SUMMIT, OPENING,
 ENERGY_PRICE) = range(len(EVENT_KINDS))
ENERGY = 0
"""Index of the energy channel on the dependence axis."""


def apply_events(
    state: WorldState, params: Params, structure: Structure, seeds: np.ndarray, step: int
) -> WorldState:
    """Fire the events due in ``step`` and return the changed state.

    Args:
        state: The state before the step.
        params: The batch's parameters.
        structure: The batch's structure (event kinds and targets).
        seeds: Run seeds (R,).
        step: The step being taken (1-based).

    Returns:
        The state with the events' effects and ``fired`` set.
    """
    E = structure.n_events
    R = state.n_runs
    fired = np.zeros((R, E), dtype=bool)
    if E == 0:
        return replace(state, fired=fired)
    kinds = structure.event_kind
    draws = uniform(seeds, step, STREAM_EVENTS, (E,)) if structure.event_random.any() else None
    for e in range(E):
        if structure.event_random[e]:
            fired[:, e] = draws[:, e] < params.event_probability[:, e]
        elif kinds[e] != SUMMIT:
            fired[:, e] = params.event_step[:, e] == step

    disputes = state.disputes.copy()
    stability = state.stability.copy()
    goodwill, diplomatic = state.goodwill.copy(), state.diplomatic.copy()
    budget_scale = state.budget_scale.copy()
    left, intensity = state.campaign_left.copy(), state.campaign_intensity.copy()
    summit_due = state.summit_due.copy()
    changed: dict[str, np.ndarray] = {}

    def mutable(name: str) -> np.ndarray:
        """A copy of a state array, made on the first event that changes it."""
        if name not in changed:
            changed[name] = getattr(state, name).copy()
        return changed[name]

    for e in np.flatnonzero(kinds == SUMMIT_CANCELLED):
        hit = fired[:, e]
        delay = params.event_a[:, e]
        same_power = structure.event_power == structure.event_power[e]
        for s_e in np.flatnonzero((kinds == SUMMIT) & same_power):
            due_now = hit & (summit_due[:, s_e] == step)
            later = np.where(delay > 0, step + delay, -1).astype(np.int64)
            summit_due[:, s_e] = np.where(due_now, later, summit_due[:, s_e])
    for e in np.flatnonzero((kinds == SUMMIT) & ~structure.event_random):
        fired[:, e] = summit_due[:, e] == step

    for e in range(E):
        hit = fired[:, e]
        if not hit.any():
            continue
        kind, power, mask = kinds[e], structure.event_power[e], structure.event_states[e]
        a, b, c = params.event_a[:, e], params.event_b[:, e], params.event_c[:, e]
        on = hit[:, None] & mask[None, :]  # (R, S)
        if kind == BORDER_ACCORD:
            resolved = np.where(b[:, None] < 0, disputes, np.minimum(disputes, b[:, None]))
            disputes = np.where(on, disputes - resolved, disputes)
            stability = np.where(on, np.minimum(stability + a[:, None], 1.0), stability)
        elif kind in (VISIT, SUMMIT):
            diplomatic[:, :, power] += np.where(on, a[:, None], 0.0)
            goodwill[:, :, power] += np.where(on, b[:, None], 0.0)
        elif kind == BUDGET_CHANGE:
            channel = structure.event_channel[e]
            cols = slice(None) if channel < 0 else slice(channel, channel + 1)
            factor = np.where(hit, a, 1.0)[:, None]
            budget_scale[:, power, cols] *= factor
        elif kind == CAMPAIGN:
            left[:, :, power] = np.where(on, b[:, None], left[:, :, power])
            intensity[:, :, power] = np.where(on, a[:, None], intensity[:, :, power])
        elif kind == SHOCK:
            stability = np.where(on, np.clip(stability + a[:, None], 0.0, 1.0), stability)
        elif kind == REMITTANCE_SHOCK:
            factor, until = mutable("remittance_factor"), mutable("remittance_left")
            factor[:, :, power] = np.where(on, 1.0 + a[:, None], factor[:, :, power])
            until[:, :, power] = np.where(on, b[:, None], until[:, :, power])
        elif kind == SANCTIONS:
            until = mutable("sanction_left")
            friction, rerouting = mutable("sanction_friction"), mutable("sanction_rerouting")
            until[:, power] = np.where(hit, c, until[:, power])
            friction[:, power] = np.where(hit, a, friction[:, power])
            rerouting[:, power] = np.where(hit, b, rerouting[:, power])
            if params.event_supply[:, e].any():
                supply = mutable("sanction_supply")
                supply[:, power] = np.where(hit[:, None], params.event_supply[:, e],
                                            supply[:, power])
        elif kind == ENERGY_PURCHASE:
            dependence = mutable("dependence")  # (R, 4, S, P), before decay
            scale = state.dependence_scale[:, ENERGY, None]
            energy = dependence[:, ENERGY, :, power] * scale  # now
            added = a[:, None] * params.dependence[:, :, power, ENERGY] * state.energy_price
            moved = np.maximum(energy + added, 0.0)
            dependence[:, ENERGY, :, power] = np.where(on, moved / scale,
                                                       dependence[:, ENERGY, :, power])
        elif kind == PLATFORM_SUMMIT:
            gain, until = mutable("platform_gain"), mutable("platform_left")
            gain[:, :, power] = np.where(on, a[:, None], gain[:, :, power])
            until[:, :, power] = np.where(on, b[:, None], until[:, :, power])
        elif kind == ENERGY_PRICE:
            dependence, price = mutable("dependence"), mutable("energy_price")
            factor = np.where(on, a[:, None], 1.0)  # (R, S)
            dependence[:, ENERGY] *= factor[:, :, None]
            price *= factor
        elif kind == OPENING:
            openness = mutable("openness")
            openness[:] = np.where(on, np.clip(openness + a[:, None], 0.0, 1.0), openness)
    return replace(
        state, disputes=disputes, stability=stability, goodwill=goodwill, diplomatic=diplomatic,
        budget_scale=budget_scale, campaign_left=left, campaign_intensity=intensity,
        summit_due=summit_due, fired=fired, **changed,
    )
