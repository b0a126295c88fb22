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
"""

from __future__ import annotations

import copy
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError
from sim.scenario.files import not_a_file, resolve_path

_BRANCHING: ContextVar[tuple[Path, ...]] = ContextVar("branching", default=())
"""The branch files being loaded, outermost first (to report a cycle of ``branch.from``)."""

INITIAL_ONLY = ("initial", "stability", "border_disputes", "initial_effort")
"""Fields read only at step 0 (under states.* or powers.*); a branch may not change them."""


def merge_branch(data: dict[str, Any], path: str | Path,
                 cli: tuple[str, str] | None = None) -> dict[str, Any]:
    """Merge a branch file over its parent; return the mapping to validate.

    Args:
        data: The branch file's mapping (``extends`` resolved).
        path: The branch file (its folder anchors a relative ``from:``).
        cli: (parent file, quarter) from the command line, relative to the working folder;
            replaces the file's ``branch:``.

    Returns:
        The merged mapping, with ``branch: {from, at, parent}`` (parent: the resolved parent).

    Raises:
        ScenarioError: For a malformed ``branch:`` or a parent that cannot be loaded.

    """
    from pydantic import TypeAdapter, ValidationError

    from sim.scenario import deep_merge, event_union, load_scenario

    source = str(path)
    data = dict(data)
    spec = data.pop("branch", None)
    if cli is not None:
        spec = {"from": str(resolve_path(cli[0], "--branch-from", "--branch-from")),
                "at": cli[1]}
        source = "--branch-from/--branch-at"
        anchor = Path.cwd()
    else:
        anchor = resolve_path(path, source).parent
    if not isinstance(spec, dict):
        raise ScenarioError(source, [f"branch: {spec!r} is not allowed: write it as "
                                     "branch: {from: parent.yaml, at: 2026Q3}"])
    unknown = sorted(set(spec) - {"from", "at"})
    missing = [k for k in ("from", "at") if k not in spec]
    problems = [f"branch.{k}: unknown key; allowed here: from, at" for k in unknown]
    problems += [f"branch.{k}: required field is missing" for k in missing]
    if not problems and (not isinstance(spec["from"], str) or not spec["from"].strip()):
        problems.append(f"branch.from: {spec['from']!r} is not a file path")
    if problems:
        raise ScenarioError(source, problems)
    parent_path = resolve_path(anchor / spec["from"], source, "branch.from")
    problem = not_a_file(parent_path)
    if problem:
        raise ScenarioError(source, [f"branch.from: {spec['from']!r}: {problem} "
                                     f"(looked at {parent_path})"])
    me = resolve_path(path, source)
    if cli is None and parent_path == me:
        raise ScenarioError(source, ["branch.from: a scenario cannot branch from itself"])
    chain = _BRANCHING.get()
    # From the command line a scenario may branch from its own file (its --set changes).
    if parent_path in ((*chain, me) if cli is None else chain):
        cycle = " -> ".join(p.name for p in (*chain, me, parent_path))
        raise ScenarioError(source, [f"branch.from: cycle {cycle}; a branch's parents cannot "
                                     "lead back to it"])
    token = _BRANCHING.set((*chain, me))
    try:
        parent = load_scenario(parent_path).model_dump(mode="json")
    finally:
        _BRANCHING.reset(token)

    adapter = TypeAdapter(event_union())
    parent_events = parent.pop("events", [])
    added = []
    for event in data.pop("events", None) or []:
        try:
            normal = adapter.validate_python(event).model_dump(mode="json")
        except ValidationError:
            normal = event  # left as written: validation reports it with its field path
        if normal not in parent_events:
            added.append(event)
    base = {k: v for k, v in parent.items() if k != "branch"}
    merged = deep_merge(base, data)
    merged["events"] = parent_events + added
    merged["branch"] = {"from": spec["from"], "at": spec["at"],
                        "parent": copy.deepcopy({**parent, "events": parent_events})}
    return merged


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
    from sim.scenario.calendar import step_of_quarter

    return step_of_quarter(scenario.start, scenario.branch.at)


def check_branch(scenario) -> list[str]:
    """Return the problems of a branched scenario (empty if none); see the module docstring."""
    from sim.scenario.calendar import quarter_of_step

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

