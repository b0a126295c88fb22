"""The whole scenario: its typed, frozen pydantic object, and where a branch leaves its parent.

A scenario is plain YAML read safely (:mod:`sim.scenario.files`: no Python objects, duplicate
keys refused, alias expansion bounded), merged over the file it ``extends:``, overridden by
``--set`` pairs, and validated (:func:`sim.scenario.validation.validate`) into the objects
below before anything runs: actors (:mod:`sim.scenario.actors`), rules
(:mod:`sim.scenario.rules`) and events (:mod:`sim.scenario.events`).

Units: money in USD millions per quarter (budgets) or USD millions (stocks); shares, stability,
openness, probabilities and tolerances are fractions in [0, 1].
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator
from pydantic.fields import FieldInfo

from sim.scenario import events as event_registry
from sim.scenario.actors import Power, State
from sim.scenario.calendar import parse_quarter, step_of_quarter
from sim.scenario.events import Event, EventBase, event_union
from sim.scenario.fields import InputInfo, _Strict
from sim.scenario.rules import Rules


class Branch(_Strict):
    """Where a branched scenario leaves its parent (see sim/scenario/branch.py and docs/WHATIF.md).

    Attributes:
        from_: The parent scenario file, as written (``from:`` in YAML; relative to the file).
        at: The first quarter whose step uses the branch's changes; every step before it is
            the parent's, seed for seed.
        parent: The parent's resolved scenario, filled in by :func:`load_scenario` (so a
            manifest holds everything needed to rerun the branch).

    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True,
                              validate_by_alias=True, serialize_by_alias=True)
    from_: str = Field(alias="from")
    at: str
    parent: Scenario | None = None

    @field_validator("at")
    @classmethod
    def _at_is_quarter(cls, value: str) -> str:
        parse_quarter(value)
        return value


class Scenario(_Strict):
    """A whole scenario: actors, rules, events and run settings.

    Attributes:
        name: Short name; names the results folder.
        question: The question the scenario answers (shown in reports).
        description: Free text.
        start: First simulated quarter.
        steps: Number of quarters to simulate.
        seed: Random seed.
        precision: Floating-point type of the engine's arrays (float32 is several times
            faster for large batches; float64 for exact checks).
        powers: Outside powers by key (lower-case).
        states: Host states by key (lower-case).
        rules: Model-wide parameters.
        events: Timeline of events.
        branch: Set when the scenario continues another's history from a quarter on.
        inputs: When the values of some fields became known (:class:`InputInfo`), by field
            path: an annotation for hindcasts (docs/HINDCAST.md), excluded from the digest.
    """

    name: Annotated[str, Field(min_length=1, max_length=80)] = "scenario"
    question: str = ""
    description: str = ""
    start: str = "2025Q1"
    steps: Annotated[int, Field(ge=1, le=10_000)] = 40
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    precision: Literal["float32", "float64"] = "float32"
    powers: dict[str, Power]
    states: dict[str, State]
    rules: Rules = Rules()
    events: list[Event] = []
    branch: Branch | None = None
    # Annotation only (excluded from dumps and digests): field path -> when its value was known.
    inputs: dict[str, InputInfo] = Field(default_factory=dict, exclude=True)

    @field_validator("start")
    @classmethod
    def _start_is_quarter(cls, value: str) -> str:
        parse_quarter(value)
        return value

    @field_validator("powers", "states")
    @classmethod
    def _non_empty(cls, value: dict) -> dict:
        if not value:
            raise ValueError("name at least one")
        return value

    @property
    def power_names(self) -> list[str]:
        """Power keys in file order."""
        return list(self.powers)

    @property
    def state_names(self) -> list[str]:
        """State keys in file order."""
        return list(self.states)

    def event_step(self, event: EventBase) -> int | None:
        """Return the step an event is scheduled at (None for a random event)."""
        if event.at is None:
            return None
        if isinstance(event.at, int):
            return event.at
        return step_of_quarter(self.start, event.at)

    def digest(self) -> str:
        """Return a SHA-256 of the resolved scenario (compact JSON, fields in schema order).

        Keys are not sorted: the order of powers and states is the order of the engine's axes
        and of every output table, so two scenarios listing actors in another order differ.
        """
        text = json.dumps(self.model_dump(mode="json"), separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


Branch.model_rebuild()


def _rebuild_scenario() -> None:
    """Make the scenario's ``events`` field accept exactly the registered kinds."""
    Scenario.model_fields["events"] = FieldInfo.from_annotated_attribute(list[event_union()], [])
    Scenario.model_rebuild(force=True)
    Branch.model_rebuild(force=True)


event_registry.SCHEMA_REBUILDERS.append(_rebuild_scenario)
