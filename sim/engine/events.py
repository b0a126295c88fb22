"""Events: which fire in a step, and their effects in timeline order.

Scheduled events fire in the step that closes their quarter; random ones fire in any step with
their probability, drawn from the counter-based generator (stream ``STREAM_EVENTS``, index =
the event's position in the timeline). What each kind does is its entry in
:mod:`sim.engine.event_kinds`. Effects on timing (cancellations) are applied before summits
fire, so a summit cancelled in its own quarter does not happen then (it is postponed by
``delay`` quarters, or lost).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sim.engine.event_kinds import EVENT_EFFECTS, Changes, Firing
from sim.engine.params import Params, Structure
from sim.engine.random import STREAM_EVENTS, uniform
from sim.engine.state import WorldState
from sim.scenario import EVENT_KINDS


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
    effects = [EVENT_EFFECTS[EVENT_KINDS[k]] for k in kinds]
    summits = (kinds == EVENT_KINDS.index("summit")) & ~structure.event_random
    draws = uniform(seeds, step, STREAM_EVENTS, (E,)) if structure.event_random.any() else None
    for e in range(E):
        if structure.event_random[e]:
            fired[:, e] = draws[:, e] < params.event_probability[:, e]
        elif not summits[e]:
            fired[:, e] = params.event_step[:, e] == step

    changes = Changes(state, params, structure, step)

    def fire(e: int) -> None:
        hit = fired[:, e]
        on = hit[:, None] & structure.event_states[e][None, :]  # (R, S)
        effects[e].apply(changes, Firing(
            index=e, hit=hit, on=on, power=int(structure.event_power[e]),
            channel=int(structure.event_channel[e]), a=params.event_a[:, e],
            b=params.event_b[:, e], c=params.event_c[:, e]))

    for e in range(E):
        if effects[e].reschedules:
            fire(e)
    summit_due = changes["summit_due"]
    for e in np.flatnonzero(summits):
        fired[:, e] = summit_due[:, e] == step
    for e in range(E):
        if not effects[e].reschedules and fired[:, e].any():
            fire(e)
    return replace(state, fired=fired, **changes.changed)
