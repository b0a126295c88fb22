"""Robust policy search: the best use of a power's budget over an ensemble of uncertain futures.

An optimise FILE (docs/OPTIMISE.md) names a base scenario, a power, the decision (its spend per
state and kind of move, ``budget_by_state``, and its visibility per state, within a fixed total
per quarter), one or two objectives with a robustness measure each, the uncertainty and the
optimiser's budget. :func:`search` then runs pymoo's ask/tell loop: each generation's whole
population of candidate policies x the uncertainty draws is one set of engine batches (the
scenario is compiled once per worker; each run's policy and parameter draw are written into
its batch with ``with_values``), chunked through the batch runner (:mod:`sim.batch`;
the measure is in :mod:`sim.decide.policy_runs`). :mod:`sim.decide.optimise_files` writes the
results.

Every candidate sees the same draws and seeds (common random numbers): draw j has engine seed
``seed + j`` and the parameter draw of replicate j (:meth:`Uncertainty.draw`), so two policies
are compared on the same futures and regret is well defined. The evaluation uses the next
``evaluation_draws`` keys, which the search never saw.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.batch import Progress, make_executor
from sim.decide.policy_runs import Engine, PolicyResult
from sim.decide.weighting import state_weights, weighted_share, weighting_name, weighting_problems
from sim.engine import compile_scenario, make_batch
from sim.errors import ScenarioError
from sim.outputs.units import column_unit
from sim.scenario import CHANNELS, MOVES, Scenario, read_yaml
from sim.scenario.calendar import quarter_of_step, step_of_quarter
from sim.scenario.files import not_a_file, resolve_file, resolve_path
from sim.scenario.messages import describe_error
from sim.scenario.numbers import boolean_problems
from sim.scenario.validation import validate
from sim.uncertainty.posterior import load_posterior
from sim.uncertainty.priors import load_file
from sim.uncertainty.source import NONE, UncertaintyError

MEASURES = ("influence", "provoked_reaction")
"""What an objective measures: the power's influence share (maximised) or the reactive
spending of the powers that react to it (minimised)."""

ROBUSTNESS = ("mean", "p10", "regret")
"""How an objective summarises a policy's values over the draws."""

ALGORITHMS = ("auto", "ga", "de", "nsga2")
"""pymoo algorithms: ``auto`` is NSGA-II for two objectives and a GA for one."""

POLICY_KINDS = ("best", "base", "base_split")
"""The policies of evaluation.csv: the search's best, the base scenario as written, and the
base's own split over states and kinds scaled to the decision's total."""


class OptimiseFileError(ScenarioError):
    """An optimise FILE that cannot be read or does not validate (exit status 2)."""

    what = "optimise file"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Decision(_Strict):
    """What the search chooses.

    Attributes:
        total: The power's spend per quarter over the listed states and kinds, USD millions.
        states: The states it spreads the total over (``all`` or a list).
        kinds: The kinds of move it may fund.
        visibility: Whether it also chooses the power's visibility per state.
        visibility_range: The visibility it may choose from, [low, high] in [0, 1].
    """

    total: Annotated[float, Field(gt=0.0, le=1e6)]
    states: Literal["all"] | list[str] = "all"
    kinds: list[Literal[CHANNELS]] = [  # type: ignore[valid-type]
        m.name for m in MOVES if m.stock is not None]
    visibility: bool = True
    visibility_range: tuple[Annotated[float, Field(ge=0.0, le=1.0)],
                            Annotated[float, Field(ge=0.0, le=1.0)]] = (0.0, 1.0)

    @model_validator(mode="after")
    def _check(self) -> Decision:
        if self.states == []:
            raise ValueError("states: [] names no state to spread the total over; list the "
                             "states or write all")
        if not self.kinds:
            raise ValueError("kinds: give at least one kind of move")
        if len(set(self.kinds)) != len(self.kinds):
            raise ValueError(f"kinds: {self.kinds} lists a kind twice")
        if self.visibility_range[0] > self.visibility_range[1]:
            raise ValueError(f"visibility_range: {list(self.visibility_range)} must be "
                             "[low, high] with low <= high")
        return self


class Objective(_Strict):
    """One objective.

    Attributes:
        measure: ``influence`` (maximised) or ``provoked_reaction`` (minimised).
        robustness: ``mean``, ``p10`` (the worst decile: the 10th percentile of influence, the
            90th of a reaction) or ``regret`` (the largest shortfall, over the draws, from the
            best candidate evaluated on the same draw).
        states: For influence: the states it is averaged over (``all``: regional influence).
        weighting: For influence: how the states count, ``equal``, ``gdp``, ``population``,
            ``resources`` or a mapping state -> weight (:mod:`sim.decide.weighting`).
    """

    measure: Literal["influence", "provoked_reaction"] = "influence"
    robustness: Literal["mean", "p10", "regret"] = "mean"
    states: Literal["all"] | list[str] = "all"
    weighting: str | dict[str, float] = "equal"

    @model_validator(mode="after")
    def _some_state(self) -> Objective:
        if self.states == []:
            raise ValueError("states: [] names no state to measure; list the states or write "
                             "all")
        return self

    @property
    def maximise(self) -> bool:
        """Whether a larger value is better (regret is always minimised)."""
        return self.measure == "influence" and self.robustness != "regret"

    @property
    def column(self) -> str:
        """Its column name in the CSV files."""
        return f"{self.measure}{self.where}_{self.robustness}"

    @property
    def where(self) -> str:
        """The states and the weighting in a column name (empty: all states, equal)."""
        where = "" if self.states == "all" else "_" + "_".join(self.states)
        if self.weighting != "equal":
            where += "_" + weighting_name(self.weighting)
        return where


class Optimiser(_Strict):
    """The optimiser's budget.

    Attributes:
        algorithm: One of :data:`ALGORITHMS`.
        population: Candidates per generation.
        generations: Generations, the first (random, plus the base's split) included.
    """

    algorithm: Literal["auto", "ga", "de", "nsga2"] = "auto"
    population: Annotated[int, Field(ge=4, le=10_000)] = 40
    generations: Annotated[int, Field(ge=1, le=100_000)] = 20


class OptimiseFile(_Strict):
    """An optimise FILE (docs/OPTIMISE.md).

    Attributes:
        name: Names the results folder ``<out>/optimise/<name>/``.
        question: The question the search answers (for the reader).
        scenario: The base scenario, relative to the FILE.
        power: The power whose policy is searched.
        at: The quarter the objectives are measured at (default: the scenario's last).
        decision: What is chosen (:class:`Decision`).
        objectives: One or two (:class:`Objective`).
        uncertainty: ``none``, ``posterior`` or a FILE of distributions (relative to this
            FILE).
        draws: Uncertainty draws (with their seeds) each candidate is evaluated on.
        evaluation_draws: Fresh draws the best policy and the base are evaluated on.
        seed: First seed (default: the scenario's).
        chunk_runs: Runs per engine batch sent to a worker (about).
        optimiser: The optimiser's budget (:class:`Optimiser`).
    """

    name: Annotated[str, Field(min_length=1, max_length=80)]
    question: str = ""
    scenario: str
    power: str
    at: str | None = None
    decision: Decision
    objectives: Annotated[list[Objective], Field(min_length=1, max_length=2)]
    uncertainty: str = "none"
    draws: Annotated[int, Field(ge=1, le=100_000)] = 32
    evaluation_draws: Annotated[int, Field(ge=1, le=1_000_000)] = 200
    seed: Annotated[int, Field(ge=0, le=2**62)] | None = None
    chunk_runs: Annotated[int, Field(ge=1, le=1_000_000)] = 4096
    optimiser: Optimiser = Optimiser()

    @model_validator(mode="after")
    def _check(self) -> OptimiseFile:
        if self.optimiser.algorithm in ("ga", "de") and len(self.objectives) > 1:
            raise ValueError(f"optimiser.algorithm: {self.optimiser.algorithm} takes one "
                             "objective; use nsga2 (or auto) for two")
        if len({o.column for o in self.objectives}) < len(self.objectives):
            raise ValueError("objectives: the two objectives are the same")
        return self


def _describe(error: dict[str, Any]) -> str:
    """One pydantic error as 'path: value is not allowed: why' (unknown keys get a hint)."""
    return describe_error(error, _allowed_keys)


def _allowed_keys(where: Sequence[Any]) -> list[str]:
    """The keys allowed at a location of an optimise file."""
    model: type[BaseModel] = OptimiseFile
    for part in where:
        inner = model.model_fields.get(str(part)) if isinstance(part, str) else None
        kind = getattr(inner, "annotation", None) if inner else None
        model = kind if isinstance(kind, type) and issubclass(kind, BaseModel) else (
            Objective if part == "objectives" or isinstance(part, int) else model)
    return list(model.model_fields)


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


def measure_values(plan: Plan, objective: Objective, result: PolicyResult) -> np.ndarray:
    """An objective's measure per (candidate, draw), in its own units (share or USD m).

    A diverged run counts as the worst outcome (influence 0, infinite reaction).
    """
    if objective.measure == "influence":
        names = plan.scenario.state_names
        chosen = names if objective.states == "all" else objective.states
        weights = state_weights(plan.scenario, objective.weighting, chosen)
        values = weighted_share(result.share[:, :, [names.index(s) for s in chosen]], weights)
        return np.nan_to_num(values, nan=0.0)
    return np.nan_to_num(result.reaction, nan=np.inf)


def robust(objective: Objective, values: np.ndarray,
           reference: np.ndarray | None = None) -> np.ndarray:
    """Summarise each candidate's values over the draws (axis 1) by the objective's measure.

    Args:
        objective: The objective.
        values: (N, D) its measure per candidate and draw.
        reference: For regret: the best value on each draw so far (D,).

    Returns:
        (N,) the robust value: mean, the worst decile, or the largest regret.
    """
    better_high = objective.measure == "influence"
    if objective.robustness == "mean":
        return values.mean(axis=1)
    if objective.robustness == "p10":
        return np.percentile(values, 10 if better_high else 90, axis=1)
    gap = (reference[None, :] - values) if better_high else (values - reference[None, :])
    return gap.max(axis=1)


def best_per_draw(objective: Objective, values: np.ndarray) -> np.ndarray:
    """The best value on each draw among ``values`` (N, D) (for regret)."""
    return values.max(axis=0) if objective.measure == "influence" else values.min(axis=0)


# --- The search -----------------------------------------------------------------------------


@dataclass
class Search:
    """A finished search.

    Attributes:
        plan: The plan.
        best: The chosen policy's values (budget cells then visibilities).
        front: The final population's non-dominated policies (values) and their objectives.
        front_objectives: (M, n_obj) in natural units.
        best_objectives: (n_obj,) the chosen policy's objectives on the search draws.
        convergence: One row per generation.
        evaluation: One row per (policy, fresh draw).
        runs_search: Runs of the search.
        runs_evaluation: Runs of the evaluation.
        seconds: Wall time of the whole search and evaluation.
        engine_seconds: Time spent waiting for the engine's chunks.
        diverged: Runs that diverged.
        algorithm: The pymoo algorithm used.
        executor: The executor's description.
    """

    plan: Plan
    best: np.ndarray
    front: np.ndarray
    front_objectives: np.ndarray
    best_objectives: np.ndarray
    convergence: pd.DataFrame
    evaluation: pd.DataFrame = field(default_factory=pd.DataFrame)
    runs_search: int = 0
    runs_evaluation: int = 0
    seconds: float = 0.0
    engine_seconds: float = 0.0
    diverged: int = 0
    algorithm: str = ""
    executor: str = ""


def _algorithm(plan: Plan):
    """The pymoo algorithm the plan asks for, seeded with the initial population."""
    from pymoo.config import Config

    Config.warnings["not_compiled"] = False
    name = plan.spec.optimiser.algorithm
    if name == "auto":
        name = "nsga2" if len(plan.spec.objectives) == 2 else "ga"
    size, start = plan.spec.optimiser.population, initial_population(plan)
    if name == "nsga2":
        from pymoo.algorithms.moo.nsga2 import NSGA2

        return name, NSGA2(pop_size=size, sampling=start)
    if name == "de":
        from pymoo.algorithms.soo.nonconvex.de import DE

        return name, DE(pop_size=size, sampling=start)
    from pymoo.algorithms.soo.nonconvex.ga import GA

    return name, GA(pop_size=size, sampling=start)


def _choose(front_f: np.ndarray) -> int:
    """The front member the search recommends: with two objectives, the best compromise.

    Objectives (minimised) are normalised to [0, 1] over the front and the member with the
    smallest achievement scalarising function with equal weights (pymoo's ASF) is chosen: the
    one whose worse normalised objective is best.
    """
    if front_f.shape[1] == 1:
        return int(np.argmin(front_f[:, 0]))
    from pymoo.decomposition.asf import ASF

    low, high = front_f.min(axis=0), front_f.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    weights = np.full(front_f.shape[1], 1.0 / front_f.shape[1])
    return int(np.argmin(ASF().do((front_f - low) / span, weights)))


def search(plan: Plan, workers: int = 1, scheduler: Any = None, quiet: bool = False) -> Search:
    """Run the robust policy search and evaluate its best policy on fresh draws.

    Args:
        plan: From :func:`load_plan`.
        workers: Local worker processes (1 runs in this process).
        scheduler: A Dask scheduler address instead.
        quiet: No progress bar.

    Returns:
        The finished search (write it with :func:`write_search`).
    """
    from pymoo.core.evaluator import Evaluator
    from pymoo.core.problem import Problem
    from pymoo.problems.static import StaticProblem

    spec = plan.spec
    objectives = spec.objectives
    n_draws, size = spec.draws, spec.optimiser.population
    paths = plan.budget_paths + plan.visibility_paths
    low, high = spec.decision.visibility_range
    xl = np.concatenate([np.zeros(len(plan.cells)), np.full(plan.n_var - len(plan.cells), low)])
    xu = np.concatenate([np.ones(len(plan.cells)), np.full(plan.n_var - len(plan.cells), high)])
    problem = Problem(n_var=plan.n_var, n_obj=len(objectives), xl=xl, xu=xu)
    name, algorithm = _algorithm(plan)
    algorithm.setup(problem, termination=("n_gen", spec.optimiser.generations), seed=plan.seed,
                    verbose=False)
    expected = size * n_draws * spec.optimiser.generations + \
        len(POLICY_KINDS) * spec.evaluation_draws
    progress = Progress(expected, 0, quiet, desc="optimise")
    reference = [None] * len(objectives)
    rows = []
    started = time.perf_counter()
    with make_executor(workers, scheduler) as executor, progress:
        engine = Engine(plan, executor, progress)
        generation = 0
        while algorithm.has_next():
            population = algorithm.ask()
            x = population.get("X")
            result = engine.evaluate(paths, decode(plan, x), plan.seed, n_draws)
            raw = np.stack([measure_values(plan, o, result) for o in objectives], axis=1)
            population.set("M", raw)  # (N, n_obj, D): kept with the survivors, for regret
            for i, o in enumerate(objectives):
                if o.robustness == "regret":
                    best = best_per_draw(o, raw[:, i])
                    reference[i] = best if reference[i] is None else \
                        best_per_draw(o, np.vstack([reference[i], best]))
            f = _fitness(objectives, raw, reference)
            if generation > 0 and any(o.robustness == "regret" for o in objectives):
                algorithm.pop.set("F", _fitness(objectives, np.stack(algorithm.pop.get("M")),
                                                 reference))
            Evaluator().eval(StaticProblem(problem, F=f), population)
            algorithm.tell(infills=population)
            generation += 1
            current = _fitness(objectives, np.stack(algorithm.pop.get("M")), reference)
            row: dict[str, Any] = {"generation": generation, "runs": engine.runs}
            for i, o in enumerate(objectives):
                natural = -current[:, i] if o.maximise else current[:, i]
                row[f"{o.column}_best"] = float(natural.max() if o.maximise else natural.min())
                row[f"{o.column}_median"] = float(np.median(natural))
            rows.append(row)
        runs_search = engine.runs
        final = algorithm.pop
        front_f = _fitness(objectives, np.stack(final.get("M")), reference)
        if len(objectives) == 2:
            from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

            keep = NonDominatedSorting().do(front_f, only_non_dominated_front=True)
        else:
            keep = np.arange(len(front_f))
        keep = np.sort(np.asarray(keep))
        front_x, front_f = final.get("X")[keep], front_f[keep]
        order = np.lexsort(front_f.T[::-1])
        front_x, front_f = front_x[order], front_f[order]
        pick = _choose(front_f)
        best = rounded_policy(plan, decode(plan, front_x[pick:pick + 1])[0])
        natural = np.where([o.maximise for o in objectives], -front_f, front_f)
        found = Search(plan=plan, best=best, front=decode(plan, front_x),
                       front_objectives=natural if len(objectives) == 2 else natural[pick:pick + 1],
                       best_objectives=natural[pick], convergence=pd.DataFrame(rows),
                       runs_search=runs_search, algorithm=name, executor=executor.description)
        found.evaluation = evaluate_policies(plan, engine, best)
    found.runs_evaluation = engine.runs - runs_search
    found.seconds = time.perf_counter() - started
    found.engine_seconds = engine.seconds
    found.diverged = engine.diverged
    return found


def _fitness(objectives: list[Objective], raw: np.ndarray, reference: list) -> np.ndarray:
    """The optimiser's F (minimised) for raw measures (N, n_obj, D)."""
    columns = []
    for i, o in enumerate(objectives):
        value = robust(o, raw[:, i], reference[i])
        columns.append(-value if o.maximise else value)
    return np.column_stack(columns)


def rounded_policy(plan: Plan, values: np.ndarray) -> np.ndarray:
    """A policy as best_policy.yaml writes it, with the total exact.

    USD m to the cent of a million and visibility to three decimals; the largest cell absorbs
    the rounding so the cells still add up to the total.
    """
    n = len(plan.cells)
    money = np.round(values[:n], 2)
    money[np.argmax(money)] += round(plan.spec.decision.total - money.sum(), 2)
    return np.concatenate([np.round(money, 2), np.round(values[n:], 3)])


def policy_values(plan: Plan, kind: str, best: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    """The field paths and values a policy of evaluation.csv sets (:data:`POLICY_KINDS`)."""
    if kind == "best":
        return plan.budget_paths + plan.visibility_paths, best[None, :]
    if kind == "base":
        return (), np.zeros((1, 0))
    weights, visibility = base_split(plan)
    values = np.concatenate([plan.spec.decision.total * weights,
                             visibility if plan.visibility_paths else []])
    return plan.budget_paths + plan.visibility_paths, values[None, :]


def evaluate_policies(plan: Plan, engine: Engine, best: np.ndarray) -> pd.DataFrame:
    """The best policy, the base and the base's split at the same total on fresh draws.

    The fresh draws have the keys after the search's (``seed + draws`` onwards): seeds and
    parameter draws the search never used.
    """
    first = plan.seed + plan.spec.draws
    n = plan.spec.evaluation_draws
    drawn = plan.uncertainty.draw(first, n)
    frames = []
    measures = evaluation_measures(plan)
    for kind in POLICY_KINDS:
        paths, values = policy_values(plan, kind, best)
        result = engine.evaluate(paths, values, first, n)
        frame = pd.DataFrame({"policy": kind, "draw": np.arange(n),
                              "seed": np.arange(first, first + n, dtype=np.int64)})
        for path, v in drawn.items():
            frame[path] = v
        for column, objective in measures.items():
            frame[column] = measure_values(plan, objective, result)[0]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def evaluation_measures(plan: Plan) -> dict[str, Objective]:
    """The measures evaluation.csv keeps, by column name.

    Every objective's measure, plus regional influence and the provoked reaction (when some
    power reacts).
    """
    measures: dict[str, Objective] = {}
    for o in [*plan.spec.objectives, Objective(measure="influence")] + (
            [Objective(measure="provoked_reaction")] if plan.reactors else []):
        unit = "share" if o.measure == "influence" else "usd_m_per_quarter"
        measures.setdefault(f"{o.measure}{o.where}_{unit}", o)
    return measures


def evaluation_summary(found: Search) -> pd.DataFrame:
    """Mean, 10th and 90th percentile (and unit) of each measure per policy on the fresh draws."""
    frame = found.evaluation
    rows = []
    for kind in POLICY_KINDS:
        part = frame[frame["policy"] == kind]
        for column in evaluation_measures(found.plan):
            values = part[column].to_numpy()
            rows.append({"policy": kind, "measure": column, "mean": values.mean(),
                         "p10": np.percentile(values, 10), "p90": np.percentile(values, 90),
                         "unit": column_unit(column)})
    return pd.DataFrame(rows)


