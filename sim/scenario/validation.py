"""Validate a raw scenario mapping into a :class:`~sim.scenario.schema.Scenario`.

Every problem is reported as a :class:`~sim.errors.ScenarioError` naming the file, the field
path, the value and what is allowed (with the nearest allowed name for a misspelt key).
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.errors import ScenarioError
from sim.scenario.actors import Power, Reaction, State
from sim.scenario.checks import cross_check, too_many_actors
from sim.scenario.events import EVENT_KINDS, EVENT_MODELS
from sim.scenario.files import actor_problems
from sim.scenario.messages import describe_error, show_value
from sim.scenario.numbers import boolean_problems
from sim.scenario.schema import Scenario

SWITCHES = ("**.rules.goods.enabled",)
"""The scenario fields that are yes/no switches: the only places a YAML boolean is taken."""


def _field_names(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _describe(error: dict[str, Any], data: dict[str, Any]) -> str:
    """Turn one pydantic error into 'path: value: what is allowed (did you mean ...)'."""
    loc = [str(p) for p in error["loc"]]
    # Drop the discriminator tag pydantic inserts for tagged unions (events.0.visit.power).
    if len(loc) >= 3 and loc[0] == "events" and loc[2] in EVENT_KINDS:
        loc = loc[:2] + loc[3:]
    if error["type"] in ("union_tag_invalid", "union_tag_not_found") and loc[0] == "events":
        return _describe_event_kind(".".join(loc), error.get("input"))
    return describe_error({**error, "loc": tuple(loc)},
                          lambda where: _allowed_keys(list(where), data))


def _describe_event_kind(path: str, event: Any) -> str:
    """An event whose ``kind`` is missing or unknown: the allowed kinds and the nearest one."""
    allowed = ", ".join(EVENT_KINDS)
    if not isinstance(event, dict) or "kind" not in event:
        return f"{path}.kind: required field is missing; allowed: {allowed}"
    given = event["kind"]
    hint = difflib.get_close_matches(str(given), EVENT_KINDS, n=1, cutoff=0.5)
    did = f"; did you mean {hint[0]}?" if hint else ""
    return f"{path}.kind: {show_value(given)} is not a kind of event; allowed: {allowed}{did}"


def _allowed_keys(loc: list[str], data: dict[str, Any]) -> list[str]:
    """The field names allowed at a location (for unknown-key messages)."""
    model: Any = Scenario
    i = 0
    while i < len(loc):
        part = loc[i]
        if model is Scenario and part in ("powers", "states"):
            model = Power if part == "powers" else State
            i += 2
            continue
        if model is Scenario and part == "events":
            try:
                kind = data["events"][int(loc[i + 1])]["kind"]
                model = EVENT_MODELS[kind]
            except (KeyError, IndexError, ValueError, TypeError):
                return []
            i += 2
            continue
        if model is Power and part == "reaction":
            model = Reaction
            i += 2
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation if is_model else None
        if model is None:
            return []
        i += 1
    return _field_names(model) if model else []


def validate(data: dict[str, Any], source: str = "<dict>") -> Scenario:
    """Validate a raw scenario mapping.

    Args:
        data: The merged mapping (``extends`` already resolved).
        source: Name of the file, for messages.

    Returns:
        The typed, frozen scenario.

    Raises:
        ScenarioError: Listing every problem found.
    """
    if "extends" in data:
        raise ScenarioError(source, ["extends: resolve it with load_scenario(), not validate()"])
    too_many = too_many_actors(data) or actor_problems(data)
    if too_many:
        raise ScenarioError(source, too_many)
    booleans = boolean_problems(data, SWITCHES)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(e, data) for e in exc.errors()]
        named = {p.split(":", 1)[0] for p in problems}
        raise ScenarioError(source, problems + [b for b in booleans
                                                if b.split(":", 1)[0] not in named]) from None
    if booleans:
        raise ScenarioError(source, booleans)
    problems = cross_check(scenario)
    if problems:
        raise ScenarioError(source, problems)
    return scenario
