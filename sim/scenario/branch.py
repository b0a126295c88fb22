"""Branching: a scenario that continues another's history from a quarter on, seed for seed.

A branch file names its parent and the quarter where it leaves it, and holds its changes::

    branch: {from: border_accord.yaml, at: 2026Q3}
    powers:
      japan: {visibility: 0.9}
    events:
      - {kind: summit, power: japan, at: 2027Q1}

Meaning (docs/WHATIF.md):

- The branch is its parent with the branch file's fields merged over it (mappings merge,
  values replace, as with ``extends:``), except ``events``: the branch's events are the
  parent's, in order, followed by those of the file's events that the parent does not already
  have. ``--set`` overrides apply to the branch only.
- Let k be the step that closes quarter ``at``. Steps 1 to k - 1 are the parent's: the branch
  simulates the parent to step k - 1 and continues from that world state with its own
  parameters, so its changes take effect from step k (the quarter ``at``) on. The engine's
  randomness is counter-based on (seed, step, stream, index), so with the same seed the
  recorded rows 0 to k - 1 are bit for bit the parent's.
- Refused (ScenarioError): a quarter outside the run, other actors or start quarter than the
  parent, changing or dropping the parent's events, new events scheduled before ``at``, and
  changing initial values (the stocks, stability, disputes or effort at step 0), which would
  have no effect because the branch's state at ``at`` comes from the parent.

Loading merges the parent (:func:`sim.scenario.load.merge_branch`); the schema checks the
result with :func:`check_branch`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.scenario.calendar import quarter_of_step, step_of_quarter

INITIAL_ONLY = ("initial", "stability", "border_disputes", "initial_effort")
"""Fields read only at step 0 (under states.* or powers.*); a branch may not change them."""


@dataclass(frozen=True)
class Segment:
    """A stretch of a run simulated with one scenario's rules, events and values.

    Attributes:
        scenario: The scenario in force (the run's own, or an ancestor it branches from, with
            the run's seed).
        depth: How many branches up from the run this scenario is (0: the run's own).
        first: The first step of the stretch (1 for the oldest ancestor's).
        last: The last step of the stretch.
    """

    scenario: Any
    depth: int
    first: int
    last: int


def segments(scenario) -> list[Segment]:
    """Resolve a branched scenario, once, into the stretches that run one after another.

    A branch at step k runs its parent's history up to step k - 1 (seed for seed) and its own
    rules from step k on; a parent may itself be a branch. The stretches returned cover steps 1
    to ``scenario.steps`` in order, oldest ancestor first, each non-empty; an ancestor whose
    stretch the next branch point leaves empty is not listed. A scenario that is not a branch
    is one stretch.
    """
    chain = [scenario]
    while chain[-1].branch is not None:
        chain.append(chain[-1].branch.parent.model_copy(update={"seed": scenario.seed}))
    stretches = []
    last = scenario.steps
    for depth, current in enumerate(chain):
        first = branch_step(current) if current.branch is not None else 1
        if last >= first:
            stretches.append(Segment(current, depth, first, last))
            last = first - 1
    return stretches[::-1]


def branch_step(scenario) -> int:
    """Return k, the step closing the branch quarter: the first step run with the changes."""
    return step_of_quarter(scenario.start, scenario.branch.at)


def check_branch(scenario) -> list[str]:
    """Return the problems of a branched scenario (empty if none); see the module docstring."""
    branch = scenario.branch
    parent = branch.parent
    if parent is None:
        return ["branch.parent: missing; load branched scenarios with load_scenario(), which "
                "reads the parent named by branch.from"]
    problems = []
    k = branch_step(scenario)
    if not 1 <= k <= scenario.steps:
        last = quarter_of_step(scenario.start, scenario.steps)
        problems.append(f"branch.at: {branch.at!r} is outside the run ({scenario.start} to "
                        f"{last})")
    for name in ("start", "precision"):
        if getattr(scenario, name) != getattr(parent, name):
            problems.append(f"{name}: {getattr(scenario, name)!r} differs from the parent's "
                            f"{getattr(parent, name)!r}; a branch keeps its parent's {name}")
    for group in ("power_names", "state_names"):
        if getattr(scenario, group) != getattr(parent, group):
            problems.append(f"{group.split('_')[0]}s: {', '.join(getattr(scenario, group))} "
                            f"differ from the parent's {', '.join(getattr(parent, group))}; a "
                            "branch has the same actors, in the same order")
    n = len(parent.events)
    if scenario.events[:n] != parent.events:
        problems.append("events: a branch keeps its parent's events unchanged and in order "
                        "(add events after them; change a power's course with budget_change)")
    for i, event in enumerate(scenario.events[n:], start=n):
        step = scenario.event_step(event)
        if step is not None and step < k:
            problems.append(f"events.{i}.at: {event.at!r} is before the branch point "
                            f"{branch.at}; a branch changes only what happens from {branch.at} on")
    for group in ("powers", "states"):
        for key in set(getattr(scenario, group)) & set(getattr(parent, group)):
            mine = getattr(scenario, group)[key]
            theirs = getattr(parent, group)[key]
            for name in INITIAL_ONLY:
                if hasattr(mine, name) and getattr(mine, name) != getattr(theirs, name):
                    problems.append(
                        f"{group}.{key}.{name}: differs from the parent's, but an initial value "
                        f"has no effect in a branch (its state at {branch.at} comes from the "
                        "parent); use an event instead (stability_shock, border_accord, visit)")
    return problems

