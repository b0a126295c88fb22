"""Compile a validated scenario into the engine's inputs.

Two frozen objects come out:

- :class:`Structure`: what is shared by every run of a batch (actor names, reaction rule codes,
  the event list's kinds and targets, the calendar).
- :class:`Params`: every number a run depends on, each array with a leading run axis, so that a
  batch may give each run its own values (a sweep). A single scenario compiles to a batch of one.

While compiling, every numeric scenario field is recorded with the array cell it fills
(:attr:`Params.paths`), so a sweep can vary any numeric field path by writing arrays into those
cells with :func:`with_values`, without building a scenario object per run.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from sim.engine.event_kinds import EVENT_EFFECTS
from sim.scenario import (
    CHANNELS,
    DEPENDENCE,
    EVENT_KINDS,
    INVESTMENT,
    RULES,
    Scenario,
    display_name,
)

STOCKS = ("footprint", "goodwill", "diplomatic")


@dataclass(frozen=True)
class Structure:
    """The batch-wide structure of a scenario.

    Attributes:
        powers: Power keys (axis P).
        states: State keys (axis S).
        labels: Display names by key.
        sectors: Resource sectors (axis K).
        start: First quarter label.
        steps: Number of steps.
        rule: Reaction rule code per (power, rival), index into ``sim.scenario.RULES``.
        gain_signal: Whether a threshold reaction watches the rival's gain over a window
            rather than its level, per (power, rival).
        window: Quarters over which that gain is measured, per (power, rival).
        history: Quarters of past shares a step keeps (the largest gain window, 0 if none).
        event_kind: Code of each event (index into ``sim.scenario.EVENT_KINDS``).
        event_power: Power index of each event (-1 if none).
        event_states: Boolean mask (E, S) of the states each event touches.
        event_channel: Channel index of budget changes (-1: all channels or not relevant).
        event_random: Whether each event is drawn with a probability rather than scheduled.
        event_notes: Each event's note (for the event log).
    """

    powers: tuple[str, ...]
    states: tuple[str, ...]
    labels: dict[str, str]
    sectors: tuple[str, ...]
    start: str
    steps: int
    rule: np.ndarray
    gain_signal: np.ndarray
    window: np.ndarray
    history: int
    event_kind: np.ndarray
    event_power: np.ndarray
    event_states: np.ndarray
    event_channel: np.ndarray
    event_random: np.ndarray
    event_notes: tuple[str, ...]

    @property
    def n_powers(self) -> int:
        """Number of powers."""
        return len(self.powers)

    @property
    def n_states(self) -> int:
        """Number of states."""
        return len(self.states)

    @property
    def n_events(self) -> int:
        """Number of events in the timeline."""
        return len(self.event_kind)


@dataclass(frozen=True)
class Params:
    """Every number a run depends on; each array has a leading run axis R.

    Shapes use R runs, S states, P powers, K resource sectors, C channels
    (the kinds of move, ``sim.scenario.MOVES``) and E events. Units are given per field.
    """

    budget: np.ndarray  # (R, P, C) USD millions per quarter at zero reactive effort
    risk_tolerance: np.ndarray  # (R, P) risk in [0, 1]
    visibility: np.ndarray  # (R, P) 0 quiet .. 1 high-profile
    visibility_by_state: np.ndarray  # (R, S, P) visibility in a state; -1: the power's own
    restraint: np.ndarray  # (R, P) fraction of effort fading per quarter
    initial_effort: np.ndarray  # (R, P) USD millions per quarter of reactive spending
    reserve: np.ndarray  # (R, P) reactive spending over the states / regional budget (inf: none)
    max_spend_multiplier: np.ndarray  # (R, P) ceiling on spend / base spend (inf: none)
    allocation: np.ndarray  # (R, P, S) relative weights
    budget_by_state: np.ndarray  # (R, S, P, C) USD m per quarter in a listed state; -1: unlisted
    resource_interest: np.ndarray  # (R, P, K) pull per unit resource index
    sensitivity: np.ndarray  # (R, P, P) scale of the reaction (see Reaction)
    threshold: np.ndarray  # (R, P, P) perceived share or gain
    width: np.ndarray  # (R, P, P) width of the threshold's ramp (0: a step)
    grievance: np.ndarray  # (R, P, P) USD millions per quarter
    stability: np.ndarray  # (R, S) initial stability
    stability_target: np.ndarray  # (R, S)
    border_disputes: np.ndarray  # (R, S) initial open disputes
    openness: np.ndarray  # (R, S) fraction
    autonomy: np.ndarray  # (R, S) USD millions equivalent
    resources: np.ndarray  # (R, S, K) index in [0, 1]
    footprint: np.ndarray  # (R, S, P) initial USD millions
    goodwill: np.ndarray  # (R, S, P) initial USD millions equivalent
    diplomatic: np.ndarray  # (R, S, P) initial USD millions equivalent
    dependence: np.ndarray  # (R, S, P, 4) initial, USD millions (a year for flows)
    absorption: np.ndarray  # (R, S, C) absorptive scale, USD m/q (inf: no limit; NaN: from GDP)
    gdp: np.ndarray  # (R, S) USD billions a year, the year before the start
    gdp_growth: np.ndarray  # (R, S) per year
    trade_total: np.ndarray  # (R, S) USD billions a year, the year before the start
    trade_growth: np.ndarray  # (R, S) per year
    trade_with: np.ndarray  # (R, S, P) USD billions a year, the year before the start
    dependence_weights: np.ndarray  # (R, 4) influence per USD million of dependence
    dependence_decay: np.ndarray  # (R, 4) per quarter
    decay: np.ndarray  # (R, 3) per quarter, footprint/goodwill/diplomatic
    weights: np.ndarray  # (R, 3) attraction weights
    instability_weight: np.ndarray  # (R,)
    dispute_weight: np.ndarray  # (R,)
    risk_softness: np.ndarray  # (R,)
    hedging: np.ndarray  # (R,)
    hedging_max_premium: np.ndarray  # (R,) fraction
    pressure_share: np.ndarray  # (R,) fraction of reactive spending used as leverage
    leverage: np.ndarray  # (R,)
    blocked_to_soft_power: np.ndarray  # (R,)
    visibility_reaction_gain: np.ndarray  # (R,)
    visibility_diplomatic_gain: np.ndarray  # (R,)
    stability_recovery: np.ndarray  # (R,)
    destabilise_per_usd_m: np.ndarray  # (R,)
    stability_sd: np.ndarray  # (R,)
    reception_sd: np.ndarray  # (R,)
    event_step: np.ndarray  # (R, E) scheduled step, -1 for random events (float64)
    event_probability: np.ndarray  # (R, E) per-step probability (0 for scheduled)
    event_a: np.ndarray  # (R, E) first magnitude (see ODD: events)
    event_b: np.ndarray  # (R, E) second magnitude
    event_c: np.ndarray  # (R, E) third magnitude
    event_supply: np.ndarray  # (R, E, P) sanctions: share of the rerouted trade a power supplies
    goods_on: np.ndarray  # (R,) 1: trade has a goods channel, 0: the mutant without it
    supply_elasticity: np.ndarray  # (R,) goods trade per unit of the partner's export supply
    demand_elasticity: np.ndarray  # (R,) goods trade per unit of the state's import demand
    investment_trade: np.ndarray  # (R,) trade per year per USD of investment stock
    export_growth: np.ndarray  # (R, P) per year, each power's merchandise exports
    world_export_growth: np.ndarray  # (R,) per year, world merchandise exports
    paths: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict, compare=False)

    @property
    def n_runs(self) -> int:
        """Number of runs in the batch."""
        return self.budget.shape[0]

    @property
    def dtype(self) -> np.dtype:
        """The floating-point type of the batch (the scenario's ``precision``)."""
        return self.budget.dtype


def _array_fields() -> list[str]:
    return [f.name for f in fields(Params) if f.name != "paths"]


class _Compiler:
    """Fills Params arrays from a scenario, recording each field path's cell."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.powers = scenario.power_names
        self.states = scenario.state_names
        sectors: list[str] = []
        for state in scenario.states.values():
            sectors += [k for k in state.resources if k not in sectors]
        for power in scenario.powers.values():
            sectors += [k for k in power.resource_interest if k not in sectors]
        self.sectors = sectors
        P, S, K, E = len(self.powers), len(self.states), len(sectors), len(scenario.events)
        C = len(CHANNELS)
        shapes = {
            "budget": (P, C), "risk_tolerance": (P,), "visibility": (P,), "restraint": (P,),
            "visibility_by_state": (S, P),
            "initial_effort": (P,), "reserve": (P,), "max_spend_multiplier": (P,),
            "allocation": (P, S),
            "budget_by_state": (S, P, C),
            "resource_interest": (P, K), "sensitivity": (P, P), "threshold": (P, P),
            "width": (P, P),
            "grievance": (P, P), "stability": (S,), "stability_target": (S,),
            "border_disputes": (S,), "openness": (S,), "autonomy": (S,), "resources": (S, K),
            "footprint": (S, P), "goodwill": (S, P), "diplomatic": (S, P), "decay": (3,),
            "weights": (3,), "event_step": (E,), "event_probability": (E,), "event_a": (E,),
            "event_b": (E,), "event_c": (E,), "event_supply": (E, P),
            "dependence": (S, P, len(DEPENDENCE)), "absorption": (S, C),
            "gdp": (S,), "gdp_growth": (S,), "trade_total": (S,), "trade_growth": (S,),
            "trade_with": (S, P), "dependence_weights": (len(DEPENDENCE),),
            "dependence_decay": (len(DEPENDENCE),),
            "export_growth": (P,),
        }
        self.arrays: dict[str, np.ndarray] = {}
        for name in _array_fields():
            self.arrays[name] = np.zeros((1, *shapes.get(name, ())), dtype=np.float64)
        self.paths: dict[str, tuple[str, tuple[int, ...]]] = {}

    def put(self, path: str, name: str, index: tuple[int, ...], value: float) -> None:
        self.arrays[name][(0, *index)] = value
        self.paths[path] = (name, index)

    def compile(self) -> tuple[Structure, Params]:
        sc = self.scenario
        P = len(self.powers)
        rule = np.zeros((P, P), dtype=np.int8)
        gain_signal = np.zeros((P, P), dtype=bool)
        window = np.zeros((P, P), dtype=np.int64)
        for p, key in enumerate(self.powers):
            power = sc.powers[key]
            base = f"powers.{key}"
            for c, channel in enumerate(CHANNELS):
                value = getattr(power.budget, channel)
                self.put(f"{base}.budget.{channel}", "budget", (p, c), value)
            for name in ("risk_tolerance", "visibility", "restraint", "initial_effort"):
                self.put(f"{base}.{name}", name, (p,), getattr(power, name))
            reserve = power.reserve
            self.put(f"{base}.reserve", "reserve", (p,), np.inf if reserve is None else reserve)
            ceiling = power.max_spend_multiplier
            self.put(f"{base}.max_spend_multiplier", "max_spend_multiplier", (p,),
                     np.inf if ceiling is None else ceiling)
            for s, state in enumerate(self.states):
                value = power.visibility_by_state.get(state, -1.0)
                self.put(f"{base}.visibility_by_state.{state}", "visibility_by_state", (s, p),
                         value)
            weights = power.allocation or {}
            for s, state in enumerate(self.states):
                value = weights.get(state, 0.0) if power.allocation is not None else 1.0
                self.put(f"{base}.allocation.{state}", "allocation", (p, s), value)
            for s, state in enumerate(self.states):
                listed = power.budget_by_state.get(state)
                for c, channel in enumerate(CHANNELS):
                    value = -1.0 if listed is None else getattr(listed, channel)
                    self.put(f"{base}.budget_by_state.{state}.{channel}", "budget_by_state",
                             (s, p, c), value)
            for k, sector in enumerate(self.sectors):
                self.put(f"{base}.resource_interest.{sector}", "resource_interest", (p, k),
                         power.resource_interest.get(sector, 0.0))
            for q, rival in enumerate(self.powers):
                reaction = power.reaction.get(rival)
                if reaction is None or q == p:
                    continue
                rule[p, q] = RULES.index(reaction.rule)
                gain_signal[p, q] = reaction.rule == "threshold" and reaction.signal == "gain"
                window[p, q] = reaction.window
                for name in ("sensitivity", "threshold", "width", "grievance"):
                    value = getattr(reaction, name)
                    self.put(f"{base}.reaction.{rival}.{name}", name, (p, q), value)
        for s, key in enumerate(self.states):
            state = sc.states[key]
            base = f"states.{key}"
            self.put(f"{base}.stability", "stability", (s,), state.stability)
            target = state.stability if state.stability_target is None else state.stability_target
            self.put(f"{base}.stability_target", "stability_target", (s,), target)
            for name in ("border_disputes", "openness", "autonomy"):
                self.put(f"{base}.{name}", name, (s,), getattr(state, name))
            for k, sector in enumerate(self.sectors):
                self.put(f"{base}.resources.{sector}", "resources", (s, k),
                         state.resources.get(sector, 0.0))
            for channel in STOCKS:
                held = getattr(state.initial, channel)
                for p, power in enumerate(self.powers):
                    value = held.get(power, 0.0)
                    self.put(f"{base}.initial.{channel}.{power}", channel, (s, p), value)
            for c, channel in enumerate(DEPENDENCE):
                held = getattr(state.dependence, channel)
                for p, power in enumerate(self.powers):
                    self.put(f"{base}.dependence.{channel}.{power}", "dependence", (s, p, c),
                             held.get(power, 0.0))
            capacity = state.absorptive_capacity
            for c, kind in enumerate(CHANNELS):
                if kind == INVESTMENT:
                    path, value = f"{base}.absorptive_capacity", capacity
                else:
                    path, value = f"{base}.absorption.{kind}", getattr(state.absorption, kind)
                value = np.inf if value is None else np.nan if value == "gdp" else value
                self.put(path, "absorption", (s, c), value)
            economy = state.economy
            for path, name in (("gdp_usd_bn", "gdp"), ("gdp_growth", "gdp_growth"),
                               ("trade_usd_bn", "trade_total"), ("trade_growth", "trade_growth")):
                self.put(f"{base}.economy.{path}", name, (s,), getattr(economy, path))
            for p, power in enumerate(self.powers):
                self.put(f"{base}.economy.trade_with.{power}", "trade_with", (s, p),
                         economy.trade_with.get(power, 0.0))
        rules = sc.rules
        for c, channel in enumerate(DEPENDENCE):
            self.put(f"rules.dependence.weights.{channel}", "dependence_weights", (c,),
                     getattr(rules.dependence.weights, channel))
            self.put(f"rules.dependence.decay.{channel}", "dependence_decay", (c,),
                     getattr(rules.dependence.decay, channel))
        for i, channel in enumerate(STOCKS):
            self.put(f"rules.decay.{channel}", "decay", (i,), getattr(rules.decay, channel))
            self.put(f"rules.weights.{channel}", "weights", (i,), getattr(rules.weights, channel))
        scalar_rules = {
            "rules.risk.instability_weight": ("instability_weight", rules.risk.instability_weight),
            "rules.risk.dispute_weight": ("dispute_weight", rules.risk.dispute_weight),
            "rules.risk.softness": ("risk_softness", rules.risk.softness),
            "rules.hedging": ("hedging", rules.hedging),
            "rules.hedging_max_premium": ("hedging_max_premium", rules.hedging_max_premium),
            "rules.reaction.pressure_share": ("pressure_share", rules.reaction.pressure_share),
            "rules.reaction.leverage": ("leverage", rules.reaction.leverage),
            "rules.blocked_investment_to_soft_power": (
                "blocked_to_soft_power", rules.blocked_investment_to_soft_power),
            "rules.visibility.reaction_gain": (
                "visibility_reaction_gain", rules.visibility.reaction_gain),
            "rules.visibility.diplomatic_gain": (
                "visibility_diplomatic_gain", rules.visibility.diplomatic_gain),
            "rules.stability.recovery": ("stability_recovery", rules.stability.recovery),
            "rules.stability.destabilise_per_usd_m": (
                "destabilise_per_usd_m", rules.stability.destabilise_per_usd_m),
            "rules.noise.stability_sd": ("stability_sd", rules.noise.stability_sd),
            "rules.noise.reception_sd": ("reception_sd", rules.noise.reception_sd),
        }
        for path, (name, value) in scalar_rules.items():
            self.put(path, name, (), value)
        self._compile_goods(rules.goods)
        structure = self._compile_events(rule, gain_signal, window)
        dtype = np.dtype(sc.precision)
        arrays = {
            name: (a if name == "event_step" else a.astype(dtype))
            for name, a in self.arrays.items()
        }
        params = Params(**arrays, paths=self.paths)
        return structure, params

    def _compile_goods(self, goods: Any) -> None:
        """The goods channel's rules (an unlisted power's exports grow as the world's)."""
        self.arrays["goods_on"][0] = float(goods.enabled)
        for name in ("supply_elasticity", "demand_elasticity", "investment_trade",
                     "world_export_growth"):
            self.put(f"rules.goods.{name}", name, (), getattr(goods, name))
        for p, power in enumerate(self.powers):
            self.put(f"rules.goods.export_growth.{power}", "export_growth", (p,),
                     goods.export_growth.get(power, goods.world_export_growth))

    def _compile_events(self, rule: np.ndarray, gain_signal: np.ndarray,
                        window: np.ndarray) -> Structure:
        sc = self.scenario
        E, S = len(sc.events), len(self.states)
        kind = np.zeros(E, dtype=np.int8)
        power = np.full(E, -1, dtype=np.int64)
        mask = np.zeros((E, S), dtype=bool)
        channel = np.full(E, -1, dtype=np.int64)
        random = np.zeros(E, dtype=bool)
        notes = []
        for e, event in enumerate(sc.events):
            base = f"events.{e if event.id is None else event.id}"
            kind[e] = EVENT_KINDS.index(event.kind)
            notes.append(event.note)
            if hasattr(event, "power"):
                power[e] = self.powers.index(event.power)
            targets: Any = getattr(event, "states", None)
            if hasattr(event, "state"):
                targets = [event.state]
            if targets == "all":
                mask[e] = True
            elif targets:
                for name in targets:
                    mask[e, self.states.index(name)] = True
            if getattr(event, "channel", "all") != "all":
                channel[e] = CHANNELS.index(event.channel)
            step = sc.event_step(event)
            random[e] = step is None
            self.arrays["event_step"][0, e] = -1 if step is None else step
            if step is None:
                self.put(f"{base}.probability", "event_probability", (e,), event.probability)
            for name, value in getattr(event, "supplied_by", {}).items():
                self.put(f"{base}.supplied_by.{name}", "event_supply",
                         (e, self.powers.index(name)), value)
            for slot, name in zip(("event_a", "event_b", "event_c"),
                                  EVENT_EFFECTS[event.kind].slots, strict=True):
                if name:
                    value = getattr(event, name)
                    self.put(f"{base}.{name}", slot, (e,), -1.0 if value is None else value)
        labels = {k: display_name(k, v.label) for k, v in sc.powers.items()}
        labels |= {k: display_name(k, v.label) for k, v in sc.states.items()}
        return Structure(
            powers=tuple(self.powers), states=tuple(self.states), labels=labels,
            sectors=tuple(self.sectors), start=sc.start, steps=sc.steps, rule=rule,
            gain_signal=gain_signal, window=window,
            history=int(window[gain_signal].max()) if gain_signal.any() else 0,
            event_kind=kind, event_power=power, event_states=mask, event_channel=channel,
            event_random=random, event_notes=tuple(notes),
        )


def compile_scenario(scenario: Scenario) -> tuple[Structure, Params]:
    """Compile a validated scenario into its structure and a batch of one run's parameters."""
    return _Compiler(scenario).compile()


def repeat(params: Params, n_runs: int) -> Params:
    """Return a batch of ``n_runs`` copies of a one-run batch."""
    arrays = {
        name: np.repeat(getattr(params, name), n_runs, axis=0) for name in _array_fields()
    }
    return Params(**arrays, paths=params.paths)


def take(params: Params, index: np.ndarray | slice) -> Params:
    """Return the runs ``index`` of a batch as a new batch."""
    arrays = {name: getattr(params, name)[index] for name in _array_fields()}
    return Params(**arrays, paths=params.paths)


def with_values(params: Params, values: dict[str, np.ndarray | float]) -> Params:
    """Return a copy of a batch with numeric scenario fields set per run.

    Args:
        params: The batch (R runs).
        values: Field path (as in the scenario file, e.g.
            ``powers.china.reaction.japan.sensitivity``) to a scalar or an array of R values.

    Returns:
        The new batch.

    Raises:
        KeyError: For a path that is not a numeric field of this scenario; the message lists
            close matches.
    """
    changed: dict[str, np.ndarray] = {}
    for path, value in values.items():
        if path not in params.paths:
            hint = difflib.get_close_matches(path, list(params.paths), n=3)
            raise KeyError(
                f"{path!r} is not a numeric field of this scenario"
                + (f"; did you mean {', '.join(hint)}?" if hint else "")
            )
        name, index = params.paths[path]
        if name not in changed:
            changed[name] = getattr(params, name).copy()
        changed[name][(slice(None), *index)] = np.asarray(value, dtype=changed[name].dtype)
    return replace(params, **changed)
