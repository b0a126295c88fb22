"""Scenarios: the typed schema, safe file reading, branch resolution and the calendar.

A scenario is plain YAML read safely (:mod:`sim.scenario.files`: no Python objects, duplicate
keys refused, alias expansion bounded), merged over the file it ``extends:`` (or the parent it
branches from, :mod:`sim.scenario.branch`), overridden by ``--set`` pairs, and validated into
the frozen pydantic objects of :mod:`sim.scenario.schema` before anything runs. Every problem
is reported as a :class:`~sim.errors.ScenarioError` naming the file, the field path, the value
and what is allowed.
"""

from sim.scenario.files import (
    MAX_FILE_BYTES,
    deep_merge,
    extend,
    parse_set,
    read_yaml,
    resolve_file,
    set_path,
)
from sim.scenario.load import load_scenario
from sim.scenario.moves import (
    DESTABILISATION,
    FALLBACK,
    INVESTMENT,
    MOVE_BY_NAME,
    MOVES,
    MoveKind,
    move,
)
from sim.scenario.schema import (
    CHANNELS,
    DEPENDENCE,
    EVENT_KINDS,
    RULES,
    Event,
    Scenario,
    validate,
)

__all__ = [
    "CHANNELS",
    "DEPENDENCE",
    "DESTABILISATION",
    "EVENT_KINDS",
    "FALLBACK",
    "INVESTMENT",
    "MAX_FILE_BYTES",
    "MOVES",
    "MOVE_BY_NAME",
    "RULES",
    "Event",
    "MoveKind",
    "Scenario",
    "deep_merge",
    "extend",
    "load_scenario",
    "move",
    "parse_set",
    "read_yaml",
    "resolve_file",
    "set_path",
    "validate",
]
