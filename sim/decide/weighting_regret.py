"""The same search under several weightings of regional influence, and each answer's regret.

``sim optimise FILE --weightings equal,gdp,resources`` runs the FILE's search once per
weighting (its influence objectives weighted so, :mod:`sim.decide.weighting`), writes each
answer's folder ``<out>/optimise/<name>_<weighting>/`` as a plain search does, then scores every
answer under every weighting on the same fresh draws (the evaluation keys, which no search saw)
and writes ``<out>/optimise/<name>_weightings/``:

- ``regret.csv``: one row per answer (``policy``: the weighting it was optimised under, and
  ``base_split``, the base scenario's own split of spend scaled to the decision's total, for
  reference) and
  weighting it is scored under (``measure``): ``influence_<robustness>``, the answer's regional
  influence at ``at`` weighted so and summarised by the FILE's influence robustness (``p10``, the
  worst decile over the draws, or ``mean``), and ``influence_<robustness>_regret``, the best
  score under that weighting among the rows minus its own (fractions);
- ``answers.csv``: each answer's spend per state and kind (USD m per quarter) and visibility;
- ``manifest.json``.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch import make_executor
from sim.decide.optimise import OptimiseFileError, Plan, Search, policy_values, search
from sim.decide.optimise_files import policy_table, write_search
from sim.decide.policy_runs import Engine
from sim.decide.weighting import (
    WEIGHTINGS,
    state_weights,
    weighted_share,
    weighting_name,
    weighting_problems,
)
from sim.outputs.folders import (
    atomic_folder,
    git_commit,
    inside,
    safe_name,
    versions,
    write_csv,
    write_json,
)
from sim.outputs.units import folder_units
from sim.scenario import display_name


def parse_weightings(text: str) -> list[str]:
    """``equal,gdp,resources`` -> the list, each checked against :data:`WEIGHTINGS`.

    Raises:
        ValueError: Naming the bad entry and what is allowed.
    """
    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in WEIGHTINGS]
    if bad or len(names) < 2 or len(set(names)) < len(names):
        raise ValueError(f"--weightings: {text!r} is not allowed: two or more distinct "
                         f"names of {', '.join(WEIGHTINGS)}, separated by commas")
    return names


def with_weighting(plan: Plan, weighting: str) -> Plan:
    """The plan with every influence objective weighted by ``weighting``, named for it.

    Raises:
        OptimiseFileError: When the scenario lacks the data the weighting needs.
    """
    objectives, problems = [], []
    for i, o in enumerate(plan.spec.objectives):
        if o.measure == "influence":
            states = list(plan.scenario.state_names if o.states == "all" else o.states)
            problems += weighting_problems(plan.scenario, weighting, states,
                                           f"--weightings ({weighting}), objectives.{i}")
            o = o.model_copy(update={"weighting": weighting})
        objectives.append(o)
    if problems:
        raise OptimiseFileError(plan.source, problems)
    if not any(o.measure == "influence" for o in objectives):
        raise OptimiseFileError(plan.source, ["--weightings: the FILE has no influence "
                                              "objective to weight"])
    spec = plan.spec.model_copy(update={"objectives": objectives,
                                        "name": f"{plan.spec.name}_{weighting}"})
    return replace(plan, spec=spec)


def influence_objective(plan: Plan):
    """The FILE's (first) influence objective: its states and robustness score the answers."""
    return next(o for o in plan.spec.objectives if o.measure == "influence")


def score_answers(plan: Plan, answers: dict[str, np.ndarray], weightings: list[str],
                  workers: int = 1, scheduler=None) -> pd.DataFrame:
    """Every answer scored under every weighting on the FILE's fresh evaluation draws.

    Returns:
        Columns policy (optimised under), measure (scored under), ``influence_<r>`` and
        ``influence_<r>_regret`` (fractions; r = p10 or mean).
    """
    objective = influence_objective(plan)
    names = plan.scenario.state_names
    counted = names if objective.states == "all" else list(objective.states)
    columns = [names.index(s) for s in counted]
    first, n = plan.seed + plan.spec.draws, plan.spec.evaluation_draws
    values = np.vstack([answers[a] for a in answers])
    with make_executor(workers, scheduler) as executor:
        result = Engine(plan, executor).evaluate(plan.budget_paths + plan.visibility_paths,
                                                 values, first, n)
    share = np.nan_to_num(result.share[:, :, columns], nan=0.0)  # (answers, draws, states)
    robustness = "mean" if objective.robustness == "mean" else "p10"  # regret: its worst decile
    column = f"influence_{robustness}"
    rows = []
    for b in weightings:
        values_b = weighted_share(share, state_weights(plan.scenario, b, counted))
        scores = (values_b.mean(axis=1) if robustness == "mean"
                  else np.percentile(values_b, 10, axis=1))
        for a, score in zip(answers, scores, strict=True):
            rows.append({"policy": a, "measure": b, column: float(score),
                         f"{column}_regret": float(scores.max() - score)})
    return pd.DataFrame(rows)


def base_split_policy(plan: Plan) -> np.ndarray:
    """The base's own split of spend over the decision's cells, at the decision's total.

    The table's reference row: what the base would do with the same money.
    """
    return policy_values(plan, "base_split", np.zeros(plan.n_var))[1][0]


def answers_table(plan: Plan, answers: dict[str, np.ndarray]) -> pd.DataFrame:
    """Each answer's policy: spend per (state, kind) and visibility per state."""
    frame = policy_table(plan, np.vstack(list(answers.values())))
    frame.insert(0, "policy", list(answers))
    return frame


def format_regret(table: pd.DataFrame, answers: pd.DataFrame, plan: Plan) -> str:
    """The regret table in words: rows = answer optimised under A, columns = scored under B."""
    weightings = list(dict.fromkeys(table["measure"]))
    column = next(c for c in table.columns if c.startswith("influence_")
                  and not c.endswith("_regret"))
    robustness = column.removeprefix("influence_")
    lines = [f"{plan.spec.name}: {_power_name(plan)}'s regional influence at {plan.at} "
             f"({'worst decile' if robustness == 'p10' else 'mean'} over "
             f"{plan.spec.evaluation_draws} fresh draws), score [regret] by weighting"]
    lines.append(f"  {'optimised under':<16}" + "".join(f"{'scored ' + b:>22}" for b in weightings))
    for a in dict.fromkeys(table["policy"]):
        cells = []
        for b in weightings:
            row = table[(table["policy"] == a) & (table["measure"] == b)].iloc[0]
            cells.append(f"{row[column]:>13.2%} [{row[column + '_regret'] * 100:.2f}]")
        lines.append(f"  {a:<16}" + "".join(f"{c:>22}" for c in cells))
    lines.append("  (regret in points of share against the column's best answer)")
    lines.append("  answers (USD m per quarter by state, all kinds):")
    money = [c for c in answers.columns if c.endswith("_usd_m")]
    for row in answers.itertuples(index=False):
        record = dict(zip(answers.columns, row, strict=True))
        by_state: dict[str, float] = {}
        for c in money:
            state = c.split(".")[0]
            by_state[state] = by_state.get(state, 0.0) + record[c]
        kinds: dict[str, float] = {}
        for c in money:
            kind = c.split(".")[1].removesuffix("_usd_m")
            kinds[kind] = kinds.get(kind, 0.0) + record[c]
        lines.append(f"    {record['policy']:<11} " + ", ".join(
            f"{s} {v:,.0f}" for s, v in by_state.items() if v >= 0.5) + "; by kind: " +
            ", ".join(f"{k} {v:,.0f}" for k, v in kinds.items() if v >= 0.5))
    return "\n".join(lines)


def compare_weightings(plan: Plan, weightings: list[str], out: str | Path = "results",
                       workers: int = 1, scheduler=None, quiet: bool = False,
                       ) -> tuple[dict[str, Search], pd.DataFrame, pd.DataFrame, Path]:
    """Search under each weighting, write each answer, score all under all, write the table.

    Returns:
        The searches by weighting, the regret table, the answers table and the folder.
    """
    plans = {w: with_weighting(plan, w) for w in weightings}  # all checked before any runs
    found = {}
    for w, p in plans.items():
        found[w] = search(p, workers=workers, scheduler=scheduler, quiet=quiet)
        write_search(found[w], out)
    answers = {w: found[w].best for w in weightings} | {"base_split": base_split_policy(plan)}
    table = score_answers(plan, answers, weightings, workers, scheduler)
    policies = answers_table(plan, answers)
    destination = inside(Path(out), "optimise", safe_name(f"{plan.spec.name}_weightings"))
    with atomic_folder(destination) as tmp:
        write_csv(table, tmp / "regret.csv")
        write_csv(policies, tmp / "answers.csv")
        write_json({
            "kind": "optimise_weightings",
            "units": folder_units(tmp),
            "name": plan.spec.name,
            "source": plan.source,
            "weightings": {w: dict(zip(plan.scenario.state_names,
                                       map(float, state_weights(plan.scenario, w)),
                                       strict=True)) for w in weightings},
            "answers": {w: f"optimise/{safe_name(f'{plan.spec.name}_{w}')}" for w in weightings},
            "scored_on": {"seeds": [plan.seed + plan.spec.draws,
                                    plan.seed + plan.spec.draws + plan.spec.evaluation_draws - 1],
                          "at": plan.at},
            "seconds": {w: round(found[w].seconds, 3) for w in weightings},
            "versions": versions(),
            "git_commit": git_commit(),
            "command": shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "files": ["answers.csv", "manifest.json", "regret.csv"],
        }, tmp / "manifest.json")
    return found, table, policies, destination


__all__ = ["compare_weightings", "format_regret", "parse_weightings", "score_answers",
           "weighting_name", "with_weighting"]


def _power_name(plan) -> str:
    """The searched power as people read it (its label, else its key in words)."""
    actor = plan.scenario.powers.get(plan.power)
    return display_name(plan.power, getattr(actor, "label", None))

