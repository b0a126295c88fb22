"""The engine's table of event kinds: what each kind does to the world state when it fires.

Each kind of event (its fields, figure label and chronicle sentence are declared with its model
in :mod:`sim.scenario.events`) has one entry here, an :class:`EventEffect`: which of its fields
fill the engine's three magnitude arrays (``event_a``, ``event_b``, ``event_c`` of
:class:`~sim.engine.params.Params`, so a sweep can vary them per run) and a function that applies
the event to the runs in which it fired. :func:`sim.engine.events.apply_events` decides which
events fire and calls the effects in timeline order; nothing else in the engine names a kind.

A new kind of event is written in three places: its model (schema), its effect here (or
through :func:`register_event_effect`) and its section of docs/ODD.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.scenario import EVENT_KINDS

ENERGY = 0
"""Index of the energy channel on the dependence axis."""


class Changes:
    """The state arrays a step's events change, copied on first change.

    Read an array with ``changes[name]`` (the latest value, changed or not), replace it with
    ``changes[name] = new``, or edit it in place through :meth:`mutable` (a private copy).

    Attributes:
        state: The state before the events (a :class:`~sim.engine.state.WorldState`).
        params: The batch's parameters (:class:`~sim.engine.params.Params`).
        structure: The batch's structure (:class:`~sim.engine.params.Structure`).
        step: The step being taken (1-based).
        changed: The arrays changed so far, by state field name.
    """

    def __init__(self, state: Any, params: Any, structure: Any, step: int):
        self.state, self.params, self.structure, self.step = state, params, structure, step
        self.changed: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name in self.changed:
            return self.changed[name]
        return getattr(self.state, name)

    def __setitem__(self, name: str, value: np.ndarray) -> None:
        self.changed[name] = value

    def mutable(self, name: str) -> np.ndarray:
        """A copy of a state array to edit in place, made on the first event that changes it."""
        if name not in self.changed:
            self.changed[name] = getattr(self.state, name).copy(order="K")  # keeps its layout
        return self.changed[name]


@dataclass(frozen=True)
class Firing:
    """One event of the timeline, in the runs where it fired.

    Attributes:
        index: Its position in the timeline (axis E).
        hit: Whether it fired, per run (R,).
        on: Whether it fired and touches the state, per run and state (R, S).
        power: Index of its power (-1 if none).
        channel: Index of its kind of move (-1: all, or none).
        a: Its first magnitude per run (R,), the field named first in its effect's ``slots``.
        b: Its second magnitude (R,).
        c: Its third magnitude (R,).
    """

    index: int
    hit: np.ndarray
    on: np.ndarray
    power: int
    channel: int
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray


@dataclass(frozen=True)
class EventEffect:
    """What a kind of event does in the engine.

    Attributes:
        slots: The event fields that fill ``event_a``, ``event_b`` and ``event_c`` (None: the
            slot is unused; a field left empty in the scenario compiles to -1, "all" or
            "never").
        apply: Applies the event to the runs where it fired: ``apply(changes, firing)``.
        reschedules: True for an effect on other events' timing (a summit's cancellation),
            applied before the postponable events (summits) decide whether they fire.
    """

    slots: tuple[str | None, str | None, str | None]
    apply: Callable[[Changes, Firing], None]
    reschedules: bool = False


EVENT_EFFECTS: dict[str, EventEffect] = {}
"""The effect of each kind of event, by kind."""


def register_event_effect(kind: str, effect: EventEffect) -> EventEffect:
    """Add the engine effect of a kind of event (its model is registered in the schema).

    Args:
        kind: The kind, as in the scenario's ``kind:``.
        effect: What it does.

    Returns:
        The effect.

    Raises:
        ValueError: If the kind already has an effect.
    """
    if kind in EVENT_EFFECTS:
        raise ValueError(f"event kind {kind!r} already has an effect")
    EVENT_EFFECTS[kind] = effect
    return effect


def unregister_event_effect(kind: str) -> None:
    """Remove a kind's effect (for tests that add a kind for a while)."""
    EVENT_EFFECTS.pop(kind, None)


def _border_accord(w: Changes, f: Firing) -> None:
    disputes, stability = w["disputes"], w["stability"]
    resolved = np.where(f.b[:, None] < 0, disputes, np.minimum(disputes, f.b[:, None]))
    w["disputes"] = np.where(f.on, disputes - resolved, disputes)
    w["stability"] = np.where(f.on, np.minimum(stability + f.a[:, None], 1.0), stability)


def _diplomatic_gain(w: Changes, f: Firing) -> None:
    diplomatic, goodwill = w.mutable("diplomatic"), w.mutable("goodwill")
    diplomatic[:, :, f.power] += np.where(f.on, f.a[:, None], 0.0)
    goodwill[:, :, f.power] += np.where(f.on, f.b[:, None], 0.0)


def _summit_cancelled(w: Changes, f: Firing) -> None:
    """Postpone the power's summits due this step by ``delay`` quarters (-1: never)."""
    structure, step = w.structure, w.step
    summit_due = w.mutable("summit_due")
    same_power = structure.event_power == structure.event_power[f.index]
    summits = structure.event_kind == EVENT_KINDS.index("summit")
    for s_e in np.flatnonzero(summits & same_power):
        due_now = f.hit & (summit_due[:, s_e] == step)
        later = np.where(f.a > 0, step + f.a, -1).astype(np.int64)
        summit_due[:, s_e] = np.where(due_now, later, summit_due[:, s_e])


def _budget_change(w: Changes, f: Firing) -> None:
    cols = slice(None) if f.channel < 0 else slice(f.channel, f.channel + 1)
    factor = np.where(f.hit, f.a, 1.0)[:, None]
    w.mutable("budget_scale")[:, f.power, cols] *= factor


def _campaign(w: Changes, f: Firing) -> None:
    left, intensity = w.mutable("campaign_left"), w.mutable("campaign_intensity")
    left[:, :, f.power] = np.where(f.on, f.b[:, None], left[:, :, f.power])
    intensity[:, :, f.power] = np.where(f.on, f.a[:, None], intensity[:, :, f.power])


def _stability_shock(w: Changes, f: Firing) -> None:
    stability = w["stability"]
    w["stability"] = np.where(f.on, np.clip(stability + f.a[:, None], 0.0, 1.0), stability)


def _remittance_shock(w: Changes, f: Firing) -> None:
    factor, until = w.mutable("remittance_factor"), w.mutable("remittance_left")
    factor[:, :, f.power] = np.where(f.on, 1.0 + f.a[:, None], factor[:, :, f.power])
    until[:, :, f.power] = np.where(f.on, f.b[:, None], until[:, :, f.power])


def _sanctions(w: Changes, f: Firing) -> None:
    hit, power = f.hit, f.power
    until = w.mutable("sanction_left")
    friction, rerouting = w.mutable("sanction_friction"), w.mutable("sanction_rerouting")
    until[:, power] = np.where(hit, f.c, until[:, power])
    friction[:, power] = np.where(hit, f.a, friction[:, power])
    rerouting[:, power] = np.where(hit, f.b, rerouting[:, power])
    supplied = w.params.event_supply[:, f.index]  # (R, P)
    if supplied.any():
        supply = w.mutable("sanction_supply")
        supply[:, power] = np.where(hit[:, None], supplied, supply[:, power])


def _energy_purchase(w: Changes, f: Firing) -> None:
    state, power = w.state, f.power
    dependence = w.mutable("dependence")  # (R, 4, S, P), before decay
    scale = state.dependence_scale[:, ENERGY, None]
    energy = dependence[:, ENERGY, :, power] * scale  # now
    added = f.a[:, None] * w.params.dependence[:, :, power, ENERGY] * state.energy_price
    moved = np.maximum(energy + added, 0.0)
    dependence[:, ENERGY, :, power] = np.where(f.on, moved / scale,
                                               dependence[:, ENERGY, :, power])


def _platform_summit(w: Changes, f: Firing) -> None:
    gain, until = w.mutable("platform_gain"), w.mutable("platform_left")
    gain[:, :, f.power] = np.where(f.on, f.a[:, None], gain[:, :, f.power])
    until[:, :, f.power] = np.where(f.on, f.b[:, None], until[:, :, f.power])


def _opening(w: Changes, f: Firing) -> None:
    openness = w.mutable("openness")
    openness[:] = np.where(f.on, np.clip(openness + f.a[:, None], 0.0, 1.0), openness)


def _energy_price(w: Changes, f: Firing) -> None:
    dependence, price = w.mutable("dependence"), w.mutable("energy_price")
    factor = np.where(f.on, f.a[:, None], 1.0)  # (R, S)
    dependence[:, ENERGY] *= factor[:, :, None]
    price *= factor


for _kind, _effect in {
    "border_accord": EventEffect(("stability_gain", "disputes_resolved", None), _border_accord),
    "visit": EventEffect(("diplomatic_gain", "goodwill_gain", None), _diplomatic_gain),
    "summit": EventEffect(("diplomatic_gain", "goodwill_gain", None), _diplomatic_gain),
    "summit_cancelled": EventEffect(("delay", None, None), _summit_cancelled, reschedules=True),
    "budget_change": EventEffect(("factor", None, None), _budget_change),
    "destabilisation_campaign": EventEffect(("intensity", "duration", None), _campaign),
    "stability_shock": EventEffect(("delta", None, None), _stability_shock),
    "remittance_shock": EventEffect(("change", "quarters", None), _remittance_shock),
    "sanctions": EventEffect(("trade_friction", "rerouting", "quarters"), _sanctions),
    "energy_purchase": EventEffect(("change", None, None), _energy_purchase),
    "platform_summit": EventEffect(("reception_gain", "quarters", None), _platform_summit),
    "opening": EventEffect(("openness_change", None, None), _opening),
    "energy_price": EventEffect(("factor", None, None), _energy_price),
}.items():
    register_event_effect(_kind, _effect)
