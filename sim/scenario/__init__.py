"""Scenarios: the typed schema, safe file reading, branch resolution and the calendar.

A scenario is plain YAML read safely (:mod:`sim.scenario.files`: no Python objects, duplicate
keys refused, alias expansion bounded), merged over the file it ``extends:`` (or the parent it
branches from, :mod:`sim.scenario.branch`), overridden by ``--set`` pairs, and validated
(:mod:`sim.scenario.validation`, with the checks of :mod:`sim.scenario.checks`) into the frozen
pydantic objects of :mod:`sim.scenario.schema` before anything runs. The schema is split by
concept: shared field types (:mod:`~sim.scenario.fields`), actors
(:mod:`~sim.scenario.actors`), the rules block (:mod:`~sim.scenario.rules`), the kinds of event
(:mod:`~sim.scenario.events`) and the whole scenario (:mod:`~sim.scenario.schema`). Every
problem is reported as a :class:`~sim.errors.ScenarioError` naming the file, the field path,
the value and what is allowed.
"""

from sim.scenario.actors import DEPENDENCE, RULES
from sim.scenario.events import (
    EVENT_KINDS,
    EVENT_MODELS,
    Event,
    EventBase,
    Phrase,
    event_union,
    register_event_kind,
    unregister_event_kind,
)
from sim.scenario.files import (
    MAX_FILE_BYTES,
    deep_merge,
    extend,
    parse_set,
    read_yaml,
    resolve_file,
    set_path,
)
from sim.scenario.labels import display_name
from sim.scenario.load import load_scenario
from sim.scenario.moves import (
    CHANNELS,
    DESTABILISATION,
    FALLBACK,
    INVESTMENT,
    MOVE_BY_NAME,
    MOVES,
    MoveKind,
    move,
)
from sim.scenario.schema import Scenario
from sim.scenario.validation import validate

__all__ = [
    "CHANNELS",
    "DEPENDENCE",
    "DESTABILISATION",
    "EVENT_KINDS",
    "EVENT_MODELS",
    "FALLBACK",
    "INVESTMENT",
    "MAX_FILE_BYTES",
    "MOVES",
    "MOVE_BY_NAME",
    "RULES",
    "Event",
    "EventBase",
    "MoveKind",
    "Phrase",
    "Scenario",
    "deep_merge",
    "display_name",
    "event_union",
    "extend",
    "load_scenario",
    "move",
    "parse_set",
    "read_yaml",
    "register_event_kind",
    "resolve_file",
    "set_path",
    "unregister_event_kind",
    "validate",
]
