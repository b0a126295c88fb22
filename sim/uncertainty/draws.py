"""Each scenario's parameter draws: what ``--uncertainty`` asks for, what is drawn and held.

Every compared scenario gets the same draw i for replicate i; a field that a scenario changes
from its base (:func:`held_paths`) is held at its value. The draws are applied to the batch
with :func:`sim.engine.with_values`, so R replicates with R parameter draws are one engine
batch.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from sim.engine import compile_scenario
from sim.limits import check_replicates
from sim.scenario import Scenario, load_scenario, parse_set, read_yaml
from sim.uncertainty.posterior import DEFAULT_POSTERIOR, load_posterior
from sim.uncertainty.priors import load_file
from sim.uncertainty.source import NONE, Uncertainty, UncertaintyError

KINDS = ("none", "posterior")
"""The named kinds of uncertainty; anything else given to ``--uncertainty`` is a FILE."""

def resolve(choice: str | None, replicates: int) -> Uncertainty:
    """The uncertainty ``--uncertainty`` asks for.

    Args:
        choice: ``none``, ``posterior``, a FILE, or None for the default: ``posterior`` when one
            ships (:data:`DEFAULT_POSTERIOR`) and there is more than one replicate, else none.
        replicates: Replicates per scenario.

    """
    if choice is None:
        choice = "posterior" if replicates > 1 and DEFAULT_POSTERIOR.is_file() else "none"
    if choice == "none":
        return NONE
    if choice == "posterior":
        return load_posterior(DEFAULT_POSTERIOR)
    if not Path(choice).exists():
        hint = difflib.get_close_matches(choice, KINDS, n=1)
        raise UncertaintyError(choice, [
            "--uncertainty: no such file; give posterior, none or a YAML file of "
            "distributions per field path" + (f"; did you mean {hint[0]!r}?" if hint else "")])
    return load_file(choice)


@dataclass(frozen=True)
class Draws:
    """One scenario's parameter draws: what is drawn per replicate, and what is held.

    Attributes:
        uncertainty: Where the draws come from.
        values: Field path to one value per replicate, applied to the runs (the held fields
            and the fields the scenario lacks are left out).
        held: Uncertain fields held at the scenario's value.
        parent: For a branched scenario, the draws of its parent's history (before the branch
            quarter), or None.

    """

    uncertainty: Uncertainty
    values: dict[str, np.ndarray]
    held: tuple[str, ...] = ()
    parent: Draws | None = None

    def digest(self) -> str:
        """SHA-256 of the uncertainty and the held fields ("" for none: run ids stay as today)."""
        if self.uncertainty.kind == "none":
            return ""
        text = json.dumps({"sha256": self.uncertainty.sha256, "kind": self.uncertainty.kind,
                           "held": list(self.held), "drawn": sorted(self.values)},
                          sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def take(self, index: slice) -> Draws:
        """The draws of some replicates only."""
        parent = self.parent.take(index) if self.parent is not None else None
        return replace(self, values={k: v[index] for k, v in self.values.items()}, parent=parent)

    def manifest(self, runs: int) -> dict[str, Any]:
        """The manifest entry: the uncertainty, what was drawn and held, the band's wording."""
        return {**self.uncertainty.manifest(), "drawn": list(self.values),
                "held": list(self.held), "band": self.uncertainty.band(runs),
                "sha256_with_held": self.digest()}


def no_draws() -> Draws:
    """The draws of ``--uncertainty none``: nothing drawn."""
    return Draws(NONE, {})


def changed_paths(scenario: Scenario, base: Scenario, paths: tuple[str, ...]) -> set[str]:
    """The ``paths`` whose resolved value in ``scenario`` differs from ``base``'s (or is new)."""
    mine, theirs = compile_scenario(scenario)[1], compile_scenario(base)[1]
    changed = set()
    for path in paths:
        if path not in mine.paths:
            continue
        if path not in theirs.paths or _value(mine, path) != _value(theirs, path):
            changed.add(path)
    return changed


def _value(params, path: str) -> float:
    name, index = params.paths[path]
    return float(getattr(params, name)[(0, *index)])


def base_of(scenario: Scenario, file: str | Path | None) -> Scenario | None:
    """A scenario's base: its branch parent, or the resolved file its ``extends:`` names."""
    if scenario.branch is not None:
        return scenario.branch.parent
    if file is None:
        return None
    parent = read_yaml(file).get("extends")
    if not isinstance(parent, str):
        return None
    return load_scenario(Path(file).resolve().parent / parent, seed=scenario.seed,
                         steps=scenario.steps)


def held_paths(scenario: Scenario, uncertain: tuple[str, ...], base: Scenario | None = None,
               reference: Scenario | None = None, set_paths: list[str] | None = None) -> set[str]:
    """The uncertain fields a scenario holds at its own value.

    A field is held when the scenario changes it: it is given with ``--set``, or the
    scenario's resolved value differs from its base's (the ``extends:`` file or branch parent)
    or, in a comparison, from the reference's (the first scenario).
    """
    held = {p for p in set_paths or [] if p in uncertain}
    for other in (base, reference):
        if other is not None:
            held |= changed_paths(scenario, other, uncertain)
    return held


def plan_draws(uncertainty: Uncertainty, scenarios: list[Scenario], files: list[str | None],
               replicates: int, overrides: list[str] | None = None,
               compared: bool = False) -> list[Draws]:
    """Check an uncertainty against scenarios and draw each one's parameters, paired.

    Every scenario gets the same draw i for replicate i (from the first scenario's seed);
    each leaves out the fields it holds (:func:`held_paths`).

    Args:
        uncertainty: From :func:`resolve`.
        scenarios: The scenarios to run (in a comparison the first is the reference).
        files: Each scenario's file (to find its ``extends:`` base), or None.
        replicates: Replicates per scenario.
        overrides: The ``--set`` pairs given to every scenario.
        compared: Whether the scenarios are compared with the first.

    Returns:
        One :class:`Draws` per scenario.

    Raises:
        UncertaintyError: For a field a scenario does not have or whose draws it refuses.

    """
    check_replicates(replicates, 0)  # before a draw is made: draws are held in memory
    if uncertainty.kind == "none":
        return [no_draws() for _ in scenarios]
    for scenario in scenarios:
        uncertainty.check(scenario, uncertainty.source)
    set_paths = [p for p, _ in parse_set(overrides or [])]
    drawn = uncertainty.draw(scenarios[0].seed, replicates)
    paths = uncertainty.paths
    result = []
    for i, (scenario, file) in enumerate(zip(scenarios, files, strict=True)):
        base = base_of(scenario, file)
        reference = scenarios[0] if compared and i > 0 else None
        held = held_paths(scenario, paths, base, reference, set_paths)
        result.append(_applied(uncertainty, drawn, scenario, held))
    return result


def _applied(uncertainty: Uncertainty, drawn: dict[str, np.ndarray], scenario: Scenario,
             held: set[str]) -> Draws:
    """The draws a scenario applies: its fields, less the held ones.

    A branch's parent history holds what the branch holds, except the branch's own changes
    (the parent has not made them yet): those are drawn before the branch quarter.
    """
    known = compile_scenario(scenario)[1].paths
    values = {p: v for p, v in drawn.items() if p in known and p not in held}
    parent = None
    if scenario.branch is not None:
        before = scenario.branch.parent
        kept = held - changed_paths(scenario, before, uncertainty.paths)
        parent = _applied(uncertainty, drawn, before, kept)
    return Draws(uncertainty, values, tuple(sorted(p for p in held if p in known)), parent)
