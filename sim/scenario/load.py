"""Load a scenario file: read it safely, merge a branch's parent, apply ``--set``, validate.

Reading is :mod:`sim.scenario.files`, branch resolution :mod:`sim.scenario.branch`, and
validation :mod:`sim.scenario.validation` into the schema (:mod:`sim.scenario.schema`); this
module joins them in the order a run needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.errors import ScenarioError
from sim.scenario.branch import merge_branch
from sim.scenario.files import origin_of, parse_set, resolve_file, set_path
from sim.scenario.schema import Scenario
from sim.scenario.validation import validate


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
    if "branch" in data or branch is not None:  # merge over the parent: sim/scenario/branch.py
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
