"""Checks of a validated scenario that field types alone cannot make.

Names (a reaction toward an unknown power, a state no power knows), timing (an event outside
the run), events that would change nothing, misspelt resource sectors, numbers a float32
engine cannot hold, and more actors than :mod:`sim.limits` allows. Each returns the problems
as 'field path: what is wrong' lines; :func:`sim.scenario.validation.validate` raises them.
"""

from __future__ import annotations

import copy
import difflib
from typing import Any

from pydantic import ValidationError

from sim.limits import MAX_POWERS, MAX_STATES
from sim.scenario.actors import DEPENDENCE
from sim.scenario.branch import check_branch
from sim.scenario.calendar import quarter_index, quarter_label
from sim.scenario.schema import Scenario

FLOAT32_MAX = 3.4028234663852886e38
"""Largest finite float32: a scenario in float32 precision may not hold a larger number."""
FLOAT32_TINY = 1.401298464324817e-45
"""The smallest positive float32 (a subnormal); a non-zero number below it rounds to 0."""


def cross_check(scenario: Scenario) -> list[str]:
    """Check names and timing that the field types alone cannot check."""
    problems: list[str] = []
    powers, states = scenario.power_names, scenario.state_names

    def actor(path: str, name: str, known: list[str], kind: str) -> None:
        if name not in known:
            hint = difflib.get_close_matches(name, known, n=1)
            extra = f"; did you mean {hint[0]!r}?" if hint else ""
            known_text = ", ".join(known)
            problems.append(f"{path}: unknown {kind} {name!r}; known {kind}s: {known_text}{extra}")

    for key, power in scenario.powers.items():
        for rival in power.reaction:
            actor(f"powers.{key}.reaction.{rival}", rival, powers, "power")
            if rival == key:
                problems.append(f"powers.{key}.reaction.{rival}: a power cannot react to itself")
        for state in power.allocation or {}:
            actor(f"powers.{key}.allocation.{state}", state, states, "state")
        for state in power.visibility_by_state:
            actor(f"powers.{key}.visibility_by_state.{state}", state, states, "state")
        for state in power.budget_by_state:
            actor(f"powers.{key}.budget_by_state.{state}", state, states, "state")
        if power.allocation is not None and sum(power.allocation.values()) <= 0:
            problems.append(
                f"powers.{key}.allocation: the weights sum to 0; give some state weight > 0"
            )
    for key, state in scenario.states.items():
        for channel in ("footprint", "goodwill", "diplomatic"):
            for name in getattr(state.initial, channel):
                actor(f"states.{key}.initial.{channel}.{name}", name, powers, "power")
        for channel in DEPENDENCE:
            for name in getattr(state.dependence, channel):
                actor(f"states.{key}.dependence.{channel}.{name}", name, powers, "power")
        for name in state.economy.trade_with:
            actor(f"states.{key}.economy.trade_with.{name}", name, powers, "power")
        if sum(state.economy.trade_with.values()) > state.economy.trade_usd_bn:
            problems.append(f"states.{key}.economy.trade_with: the trade with the powers sums to "
                            f"more than trade_usd_bn ({state.economy.trade_usd_bn:g})")
    for name in scenario.rules.goods.export_growth:
        actor(f"rules.goods.export_growth.{name}", name, powers, "power")
    problems += _check_sectors(scenario)
    if scenario.precision == "float32":
        dumped = scenario.model_dump(mode="python")
        problems += _too_big_for_float32(dumped) + _underflow_float32(dumped)
    end_step = scenario.steps
    first_of: dict[str, int] = {}
    for i, event in enumerate(scenario.events):
        path = f"events.{i}"
        if event.id is not None and first_of.setdefault(event.id, i) != i:
            problems.append(f"{path}.id: {event.id!r} is already the id of "
                            f"events.{first_of[event.id]}; give each event its own id")
        if hasattr(event, "power"):
            actor(f"{path}.power", event.power, powers, "power")
        if hasattr(event, "state"):
            actor(f"{path}.state", event.state, states, "state")
        supply = getattr(event, "supplied_by", {})
        for name in supply:
            actor(f"{path}.supplied_by.{name}", name, powers, "power")
            if name == getattr(event, "power", None):
                problems.append(f"{path}.supplied_by.{name}: the sanctioned power cannot supply "
                                "the goods rerouted to it")
        if sum(supply.values()) > 1.0 + 1e-9:
            problems.append(f"{path}.supplied_by: the shares sum to {sum(supply.values()):g}; "
                            "at most 1 (the whole rerouted amount)")
        if isinstance(getattr(event, "states", None), list):
            for j, name in enumerate(event.states):
                actor(f"{path}.states.{j}", name, states, "state")
        step = scenario.event_step(event)
        if step is not None and not 1 <= step <= end_step:
            last = f"step {end_step}"
            if isinstance(event.at, str):
                first = quarter_index(scenario.start)
                last = f"{scenario.start} to {quarter_label(first + end_step - 1)}"
            problems.append(f"{path}.at: {event.at!r} is outside the run ({last})")
    problems += _events_that_do_nothing(scenario)
    if scenario.branch is not None:  # the branch point and what a branch may change
        problems += check_branch(scenario)
    return problems


def _events_that_do_nothing(scenario: Scenario) -> list[str]:
    """Events that would be logged as fired but change nothing (docs/ODD.md, events).

    - ``states: []`` targets no state (``all`` or a list of states is meant);
    - a ``summit_cancelled`` at a quarter cancels the power's summit scheduled (``at:``) in that
      quarter, so it needs one there; a random one (``probability:``) needs the power to have
      some scheduled summit.
    """
    problems = []
    summits = {(event.power, scenario.event_step(event)) for event in scenario.events
               if event.kind == "summit" and event.at is not None}
    for i, event in enumerate(scenario.events):
        if getattr(event, "states", None) == []:
            problems.append(f"events.{i}.states: [] names no state, so the {event.kind} would "
                            "change nothing; list the states or write all")
        if event.kind != "summit_cancelled":
            continue
        if event.at is not None and (event.power, scenario.event_step(event)) not in summits:
            problems.append(f"events.{i}: summit_cancelled at {event.at!r}: {event.power} has no "
                            f"summit scheduled at {event.at!r}, so it cancels nothing; a "
                            "cancellation goes in the quarter of the summit it cancels")
        elif event.at is None and not any(power == event.power for power, _ in summits):
            problems.append(f"events.{i}: a random summit_cancelled of {event.power}, who has no "
                            "scheduled summit (kind: summit with at:), cancels nothing")
    return problems


def _check_sectors(scenario: Scenario) -> list[str]:
    """Resource sectors that would silently have no effect (a misspelt name).

    A power's ``resource_interest`` in a sector no state holds pulls nothing, and a state's
    resource in a sector no power is interested in pulls no one: the first is refused, the
    second when its name is a near miss of a sector some power is interested in (``oill`` for
    ``oil``). Sectors are free names otherwise (a state may list resources no power wants).
    """
    held = list(dict.fromkeys(k for state in scenario.states.values() for k in state.resources))
    wanted = list(dict.fromkeys(
        k for power in scenario.powers.values() for k in power.resource_interest))
    problems = []
    for key, power in scenario.powers.items():
        for sector in power.resource_interest:
            if sector not in held:
                hint = difflib.get_close_matches(sector, held, n=1)
                problems.append(
                    f"powers.{key}.resource_interest.{sector}: no state holds sector {sector!r} "
                    f"(sectors in states' resources: {', '.join(held) or 'none'})"
                    + (f"; did you mean {hint[0]!r}?" if hint else ""))
    matched = [k for k in wanted if k in held]
    for key, state in scenario.states.items():
        for sector in state.resources:
            hint = difflib.get_close_matches(sector, matched, n=1, cutoff=0.8)
            if sector not in wanted and hint:
                problems.append(
                    f"states.{key}.resources.{sector}: no power is interested in sector "
                    f"{sector!r}; did you mean {hint[0]!r}?")
    return problems


def _too_big_for_float32(node: Any, path: str = "") -> list[str]:
    """Numbers a float32 engine could not hold (they would become infinite when compiled)."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _too_big_for_float32(v, f"{path}{k}.")]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _too_big_for_float32(v, f"{path}{i}.")]
    if isinstance(node, float) and abs(node) > FLOAT32_MAX:
        return [f"{path[:-1]}: {node:g} is too large for precision float32 (at most "
                f"{FLOAT32_MAX:.3g}); use a smaller number or precision: float64"]
    return []


def _tiny_for_float32(node: Any, path: tuple = ()) -> list[tuple[tuple, float]]:
    """(path, value) of each non-zero number that float32 rounds to 0."""
    if isinstance(node, dict):
        return [t for k, v in node.items() for t in _tiny_for_float32(v, (*path, k))]
    if isinstance(node, list):
        return [t for i, v in enumerate(node) for t in _tiny_for_float32(v, (*path, i))]
    if isinstance(node, float) and node != 0 and abs(node) <= FLOAT32_TINY / 2:
        return [(path, node)]
    return []


def _underflow_float32(data: dict[str, Any]) -> list[str]:
    """Numbers float32 rounds to 0 in fields where 0 is not allowed (an autonomy of 1e-46).

    Elsewhere a number that small is as good as 0 (a noise of 1e-200 is no noise), so it is
    accepted; where 0 is refused (a divisor), the run would divide by zero.
    """
    tiny = _tiny_for_float32(data)
    if not tiny:
        return []
    zeroed = copy.deepcopy(data)
    for path, _ in tiny:
        node = zeroed
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = 0.0
    try:
        Scenario.model_validate(zeroed)
    except ValidationError as exc:
        refused = {tuple(str(p) for p in e["loc"]) for e in exc.errors()}
        named = [(p, v) for p, v in tiny if tuple(map(str, p)) in refused] or tiny
        return [f"{'.'.join(map(str, p))}: {v:g} is too small for precision float32: it would "
                f"round to 0, which is not allowed here (the smallest positive float32 is "
                f"{FLOAT32_TINY:.3g}); give a larger number, or precision: float64"
                for p, v in named]
    return []


def too_many_actors(data: dict[str, Any]) -> list[str]:
    """Refuse more powers or states than :mod:`sim.limits` allows, before building anything."""
    problems = []
    for group, limit in (("powers", MAX_POWERS), ("states", MAX_STATES)):
        actors = data.get(group)
        if isinstance(actors, dict) and len(actors) > limit:
            problems.append(f"{group}: {len(actors):,} {group} named; at most {limit} are "
                            f"allowed (sim.limits.MAX_{group.upper()})")
    return problems
