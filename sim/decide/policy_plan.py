"""The plan of a policy search: an optimise FILE with its base scenario and uncertainty resolved.

:func:`load_plan` reads and checks a FILE (:mod:`sim.decide.policy_file`) against its base
scenario; :func:`decode` turns the optimiser's unit-box vectors into spend per (state, kind) and
visibility per state; :func:`base_split` and :func:`initial_population` give the policies the
search starts from (the base scenario's own split among them).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from sim.decide.policy_file import (
    OptimiseFile,
    OptimiseFileError,
    _describe,
)
from sim.decide.weighting import weighting_problems
from sim.engine import compile_scenario, make_batch
from sim.errors import ScenarioError
from sim.scenario import CHANNELS, Scenario, read_yaml
from sim.scenario.calendar import quarter_of_step, step_of_quarter
from sim.scenario.files import not_a_file, resolve_file, resolve_path
from sim.scenario.numbers import boolean_problems
from sim.scenario.validation import validate
from sim.uncertainty.posterior import load_posterior
from sim.uncertainty.priors import load_file
from sim.uncertainty.source import NONE, UncertaintyError


@dataclass(frozen=True)
class Plan:
    """A validated optimise FILE with its base scenario resolved.

    Attributes:
        spec: The FILE's contents.
        source: The FILE.
        scenario_file: The base scenario file (absolute).
        scenario: The base scenario as written.
        searched: The resolved base scenario mapping, cut at ``at`` (what the runs simulate).
        steps: Steps to ``at``.
        at: The quarter the objectives are measured at.
        seed: First seed.
        states: The decision's states.
        cells: The decision's budget cells, (state, kind) pairs in order.
        uncertainty: What the draws come from.
        held: Uncertain fields held because the decision sets them.
        reactors: Indices of the powers with a reaction rule toward the power.
    """

    spec: OptimiseFile
    source: str
    scenario_file: Path
    scenario: Scenario
    searched: dict[str, Any]
    steps: int
    at: str
    seed: int
    states: tuple[str, ...]
    cells: tuple[tuple[str, str], ...]
    uncertainty: Any
    held: tuple[str, ...] = ()
    reactors: tuple[int, ...] = ()

    @property
    def name(self) -> str:
        """The search's name."""
        return self.spec.name

    @property
    def power(self) -> str:
        """The power whose policy is searched."""
        return self.spec.power

    @property
    def budget_paths(self) -> tuple[str, ...]:
        """Field paths of the decision's budget cells."""
        return tuple(f"powers.{self.power}.budget_by_state.{s}.{k}" for s, k in self.cells)

    @property
    def visibility_paths(self) -> tuple[str, ...]:
        """Field paths of the decision's visibility per state (none if not chosen)."""
        if not self.spec.decision.visibility:
            return ()
        return tuple(f"powers.{self.power}.visibility_by_state.{s}" for s in self.states)

    @property
    def n_var(self) -> int:
        """Number of the optimiser's variables."""
        return len(self.cells) + len(self.visibility_paths)

    def digest(self) -> str:
        """SHA-256 of what the runs depend on (caches the compiled scenario in workers)."""
        text = json.dumps([self.searched, self.spec.model_dump(mode="json")], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def load_plan(path: str | Path, seed: int | None = None) -> Plan:
    """Read and validate an optimise FILE and its base scenario.

    Args:
        path: The FILE.
        seed: Overrides the FILE's seed (``--seed``).

    Raises:
        OptimiseFileError: Naming the file, the field, the value and what is allowed.
    """
    source = str(path)
    try:
        data = read_yaml(path)
    except ScenarioError as exc:
        raise OptimiseFileError(exc.source, exc.problems) from None
    booleans = boolean_problems(data, ("decision.visibility",))
    if booleans:
        raise OptimiseFileError(source, booleans)
    try:
        spec = OptimiseFile.model_validate(data)
    except ValidationError as exc:
        raise OptimiseFileError(source, [_describe(e) for e in exc.errors()]) from None
    if seed is not None:
        if not 0 <= seed <= 2**62:
            raise OptimiseFileError(source, [f"--seed: {seed} is not allowed: 0 to 2^62"])
        spec = spec.model_copy(update={"seed": seed})
    folder = resolve_path(path, source).parent
    scenario_file = resolve_path(folder / spec.scenario, source, "scenario")
    problem = not_a_file(scenario_file)
    if problem:
        what = ("does not exist" if problem == "the file does not exist"
                else f"is not a file: {problem}")
        raise OptimiseFileError(source, [f"scenario: {spec.scenario!r} {what} "
                                         f"(looked at {scenario_file})"])
    try:
        raw = resolve_file(scenario_file)
        scenario = validate(dict(raw), str(scenario_file))
    except ScenarioError as exc:
        raise OptimiseFileError(source, [f"scenario: {exc.source}: {p}"
                                         for p in exc.problems]) from None
    problems = []
    if scenario.branch is not None:
        problems.append(f"scenario: {spec.scenario!r} is a branch; give a scenario that "
                        "starts from its own initial state (branches are not searched)")
    powers, states = scenario.power_names, scenario.state_names

    def known(where: str, name: str, names: list[str], kind: str) -> bool:
        if name in names:
            return True
        hint = difflib.get_close_matches(name, names, n=1)
        problems.append(f"{where}: {name!r} is not a {kind} of {scenario.name!r}; known: "
                        f"{', '.join(names)}" + (f"; did you mean {hint[0]!r}?" if hint else ""))
        return False

    known("power", spec.power, powers, "power")
    chosen = states if spec.decision.states == "all" else spec.decision.states
    for s in chosen:
        known("decision.states", s, states, "state")
    if len(set(chosen)) != len(chosen):
        problems.append(f"decision.states: {chosen} lists a state twice")
    for i, objective in enumerate(spec.objectives):
        if objective.states != "all":
            if objective.measure != "influence":
                problems.append(f"objectives.{i}.states: only an influence objective takes "
                                "states")
            for s in objective.states:
                known(f"objectives.{i}.states", s, states, "state")
        if objective.measure != "influence" and objective.weighting != "equal":
            problems.append(f"objectives.{i}.weighting: only an influence objective is "
                            "weighted over states")
        elif objective.states == "all" or all(s in states for s in objective.states):
            counted = states if objective.states == "all" else objective.states
            problems += weighting_problems(scenario, objective.weighting, counted,
                                           f"objectives.{i}.weighting")
    at = spec.at or quarter_of_step(scenario.start, scenario.steps)
    try:
        steps = step_of_quarter(scenario.start, at)
    except ValueError as exc:
        problems.append(f"at: {exc}")
        steps = scenario.steps
    if not 1 <= steps <= scenario.steps:
        problems.append(f"at: {at!r} is not allowed: a quarter of the scenario's run, "
                        f"{quarter_of_step(scenario.start, 1)} to "
                        f"{quarter_of_step(scenario.start, scenario.steps)}")
    if problems:
        raise OptimiseFileError(source, problems)
    reactors = tuple(q for q, key in enumerate(powers)
                     if spec.power in scenario.powers[key].reaction
                     and scenario.powers[key].reaction[spec.power].rule != "none")
    if not reactors and any(o.measure == "provoked_reaction" for o in spec.objectives):
        raise OptimiseFileError(source, [f"objectives: provoked_reaction needs a power that "
                                         f"reacts to {spec.power!r}; none does in "
                                         f"{scenario.name!r}"])
    searched = dict(raw)
    searched["steps"] = steps
    cells = tuple((s, k) for s in chosen for k in spec.decision.kinds)
    plan = Plan(spec=spec, source=source, scenario_file=scenario_file, scenario=scenario,
                searched=searched, steps=steps, at=at,
                seed=scenario.seed if spec.seed is None else spec.seed, states=tuple(chosen),
                cells=cells, uncertainty=None, reactors=reactors)
    return _with_uncertainty(plan, folder)


def _with_uncertainty(plan: Plan, folder: Path) -> Plan:
    """Resolve the FILE's uncertainty (relative to the FILE) and check it on the scenario."""
    choice = plan.spec.uncertainty
    try:
        if choice == "none":
            uncertainty = NONE
        elif choice == "posterior":
            uncertainty = load_posterior()
        else:
            file = resolve_path(folder / choice, plan.source, "uncertainty")
            if not_a_file(file) is not None:
                raise OptimiseFileError(plan.source, [
                    f"uncertainty: {choice!r} is not allowed: give none, posterior or a YAML "
                    f"file of distributions (looked at {file})"])
            uncertainty = load_file(file)
        uncertainty.check(plan.scenario, uncertainty.source)
    except UncertaintyError as exc:
        raise OptimiseFileError(plan.source, [
            f"uncertainty: {exc.source}: {p}".replace("give --uncertainty", "give uncertainty:")
            for p in exc.problems]) from None
    decided = set(plan.budget_paths) | set(plan.visibility_paths)
    held = tuple(p for p in uncertainty.paths if p in decided)
    return replace(plan, uncertainty=uncertainty, held=held)


# --- The decision: the optimiser's variables and the policy they stand for -----------------


def decode(plan: Plan, x: np.ndarray) -> np.ndarray:
    """Turn the optimiser's variables into policies: USD m per cell, then visibilities.

    The first ``len(cells)`` variables, each in [0, 1], are weights; a policy spends
    ``total x weight / sum(weights)`` in each cell (an all-zero row spreads evenly), so every
    candidate spends exactly the total. The rest are visibilities, already in range.

    Args:
        plan: The plan.
        x: (N, n_var) variables.

    Returns:
        (N, n_var) values for :attr:`Plan.budget_paths` then :attr:`Plan.visibility_paths`.
    """
    x = np.asarray(x, dtype=np.float64)
    n = len(plan.cells)
    weights = x[:, :n]
    total = weights.sum(axis=1, keepdims=True)
    shares = np.where(total > 0, weights / np.where(total > 0, total, 1.0), 1.0 / n)
    return np.hstack([plan.spec.decision.total * shares, x[:, n:]])


def base_split(plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """The base scenario's own split of spend over the decision's cells, and its visibilities.

    Returns:
        (weights over the cells summing to 1, visibility per decision state).
    """
    structure, params = compile_scenario(plan.scenario)
    batch = make_batch(structure, params, [0])
    p = structure.powers.index(plan.power)
    spend = np.array([batch.budget_allocation[0, CHANNELS.index(k), structure.states.index(s), p]
                      for s, k in plan.cells], dtype=np.float64)
    weights = spend / spend.sum() if spend.sum() > 0 else np.full(len(spend), 1 / len(spend))
    visibility = np.array([batch.visibility[0, structure.states.index(s), p]
                           for s in plan.states], dtype=np.float64)
    return weights, visibility


def initial_population(plan: Plan) -> np.ndarray:
    """The first generation: the base's own split (the search starts from it) and random ones.

    Seeded by the plan's seed, so the search is reproducible.
    """
    rng = np.random.default_rng(plan.seed)
    size = plan.spec.optimiser.population
    low, high = plan.spec.decision.visibility_range
    x = rng.random((size, plan.n_var))
    n = len(plan.cells)
    x[:, n:] = low + (high - low) * x[:, n:]
    weights, visibility = base_split(plan)
    x[0, :n] = weights
    x[0, n:] = np.clip(visibility, low, high)[: plan.n_var - n]
    return x


# --- Objectives and robustness ------------------------------------------------------------
