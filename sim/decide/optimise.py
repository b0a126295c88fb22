"""Robust policy search: the best use of a power's budget over an ensemble of uncertain futures.

An optimise FILE (docs/OPTIMISE.md; its schema in :mod:`sim.decide.policy_file`) names a base
scenario, a power, the decision (its spend per state and kind of move, ``budget_by_state``, and
its visibility per state, within a fixed total per quarter), one or two objectives with a
robustness measure each, the uncertainty and the optimiser's budget; it is read into a
:class:`~sim.decide.policy_plan.Plan`. :func:`search` then runs pymoo's ask/tell loop: each
generation's whole population of candidate policies x the uncertainty draws is one set of engine
batches (the scenario is compiled once per worker; each run's policy and parameter draw are
written into its batch with ``with_values``), chunked through the batch runner
(:mod:`sim.batch`; the measure is in :mod:`sim.decide.policy_runs`).
:mod:`sim.decide.optimise_files` writes the results.

Every candidate sees the same draws and seeds (common random numbers): draw j has engine seed
``seed + j`` and the parameter draw of replicate j (:meth:`Uncertainty.draw`), so two policies
are compared on the same futures and regret is well defined. The evaluation uses the next
``evaluation_draws`` keys, which the search never saw.
"""


from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.batch import Progress, make_executor
from sim.decide.policy_file import POLICY_KINDS, Objective
from sim.decide.policy_plan import Plan, base_split, decode, initial_population
from sim.decide.policy_runs import Engine, PolicyResult
from sim.decide.weighting import state_weights, weighted_share
from sim.outputs.units import column_unit


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
