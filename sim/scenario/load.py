"""Load a scenario file: read it safely, merge a branch's parent, apply ``--set``, validate.

Reading is :mod:`sim.scenario.files` and validation :mod:`sim.scenario.validation` into the
schema (:mod:`sim.scenario.schema`); this module joins them in the order a run needs, merging a
branch over its parent on the way (:func:`merge_branch`; what a branch means and may change:
:mod:`sim.scenario.branch`).
"""

from __future__ import annotations

import copy
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from sim.errors import ScenarioError
from sim.scenario.events import event_union
from sim.scenario.files import (
    deep_merge,
    not_a_file,
    origin_of,
    parse_set,
    resolve_file,
    resolve_path,
    set_path,
)
from sim.scenario.schema import Scenario
from sim.scenario.validation import validate

_BRANCHING: ContextVar[tuple[Path, ...]] = ContextVar("branching", default=())
"""The branch files being loaded, outermost first (to report a cycle of ``branch.from``)."""


def load_scenario(
    path: str | Path,
    overrides: list[str] | list[tuple[str, Any]] | None = None,
    seed: int | None = None,
    steps: int | None = None,
    branch: tuple[str, str] | None = None,
) -> Scenario:
    """Load, merge, override and validate a scenario file.

    Args:
        path: The YAML file.
        overrides: ``path=value`` strings (as given to ``--set``) or (path, value) pairs.
        seed: Replaces the file's seed when given.
        steps: Replaces the file's number of steps when given.
        branch: (parent file, quarter) to branch from, replacing the file's ``branch:``
            (the command line's --branch-from/--branch-at; the file is relative to the
            working folder).

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: Naming the file, the field path, the value and what is allowed.
    """
    origins: dict[str, str] = {}
    data = resolve_file(path, origins=origins)
    if "branch" in data or branch is not None:  # merge over the parent (sim/scenario/branch.py)
        data = merge_branch(data, path, branch)
    pairs = parse_set(overrides) if overrides and isinstance(overrides[0], str) else overrides or []
    for key, value in pairs:
        set_path(data, key, value, source=f"{path}: --set")
        origins[key] = "--set"
    if seed is not None:
        data["seed"] = seed
    if steps is not None:
        data["steps"] = steps
    try:
        return validate(data, source=str(path))
    except ScenarioError as exc:
        raise ScenarioError(exc.source, _blamed(exc.problems, origins, path)) from None


def _blamed(problems: list[str], origins: dict[str, str], path: str | Path) -> list[str]:
    """Add to each problem the file of the ``extends:`` chain (or --set) that set the value."""
    top = str(Path(path).resolve())
    if len(set(origins.values())) < 2:
        return problems
    blamed = []
    for problem in problems:
        origin = origin_of(problem, origins)
        if origin is None or origin == top:
            blamed.append(problem)
        else:
            blamed.append(f"{problem} (set in {origin})")
    return blamed


def refused_value(data: dict[str, Any], path: str, value: float, source: str,
                  scenario_source: str = "<scenario>") -> str | None:
    """Why the scenario's schema refuses ``value`` at ``path``, or None if it accepts it.

    Args:
        data: A raw scenario mapping (changed in place: pass a copy).
        path: The field path.
        value: The value to try.
        source: The file that asks for the value (for a path that cannot be set).
        scenario_source: The scenario's name in the schema's messages.

    """
    set_path(data, path, value, source=source)
    try:
        validate(data, source=scenario_source)
    except ScenarioError as exc:
        return "; ".join(exc.problems)
    return None


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
