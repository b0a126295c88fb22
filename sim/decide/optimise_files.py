"""What ``sim optimise`` writes and prints: best_policy.yaml, the CSV files, figures, manifest.

``<out>/optimise/<name>/`` is written atomically (complete or absent); see docs/OPTIMISE.md.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.decide.optimise import (
    Objective,
    OptimiseFileError,
    Plan,
    Search,
    evaluation_measures,
    evaluation_summary,
)
from sim.outputs.folders import (
    atomic_folder,
    git_commit,
    inside,
    refuse_foreign,
    safe_name,
    versions,
    write_csv,
    write_json,
)
from sim.outputs.plots import OKABE_ITO, pyplot, save
from sim.outputs.units import folder_units
from sim.scenario import display_name


def policy_table(plan: Plan, values: np.ndarray) -> pd.DataFrame:
    """One policy per row: its budget cells (USD m per quarter) and visibilities."""
    values = np.atleast_2d(values)
    columns = [f"{s}.{k}_usd_m" for s, k in plan.cells] + \
        [f"{s}.visibility" for s in plan.states][: plan.n_var - len(plan.cells)]
    return pd.DataFrame(values, columns=columns)


def best_policy_document(found: Search, folder: Path) -> str:
    """best_policy.yaml: a scenario that extends the base and sets the chosen policy."""
    plan = found.plan
    n = len(plan.cells)
    budget: dict[str, dict[str, float]] = {}
    for (state, kind), value in zip(plan.cells, found.best[:n], strict=True):
        budget.setdefault(state, {})[kind] = float(value)
    power: dict[str, Any] = {"budget_by_state": budget}
    if plan.visibility_paths:
        power["visibility_by_state"] = {s: float(v) for s, v in
                                        zip(plan.states, found.best[n:], strict=True)}
    parent = os.path.relpath(plan.scenario_file, folder)
    objectives = "; ".join(objective_text(plan, o) for o in plan.spec.objectives)
    document = {"extends": parent, "name": f"{plan.name}_best",
                "question": (plan.spec.question
                             or f"{_power_name(plan)}'s best policy ({objectives})"),
                "powers": {plan.power: power}}
    header = (f"# The best policy sim optimise found for {plan.power} ({plan.name}).\n"
              f"# Objectives: {objectives}.\n"
              f"# Spend: USD {plan.spec.decision.total:g} m per quarter over "
              f"{', '.join(plan.states)}; see manifest.json and docs/OPTIMISE.md.\n")
    return header + yaml.safe_dump(document, sort_keys=False, width=100)


def objective_text(plan: Plan, o: Objective) -> str:
    """An objective in words: its goal, measure, quarter and robustness."""
    where = "regional" if o.states == "all" else "in " + ", ".join(o.states)
    if o.measure == "influence" and o.weighting != "equal":
        where = (f"{o.weighting}-weighted " if isinstance(o.weighting, str)
                 else "custom-weighted ") + where
    what = (f"{_power_name(plan)}'s {where} influence at {plan.at}" if o.measure == "influence"
            else f"the reactive spending {plan.power} provokes to {plan.at}")
    how = {"mean": "mean over the draws", "p10": "worst decile over the draws",
           "regret": "largest regret over the draws"}[o.robustness]
    goal = "maximise" if o.maximise else "minimise"
    return f"{goal} {what} ({how})"


def convergence_figure(found: Search):
    """The best and median objective of the population per generation."""
    objectives = found.plan.spec.objectives
    fig, axes = pyplot().subplots(len(objectives), 1, figsize=(6.4, 2.6 + 2 * len(objectives)),
                             squeeze=False)
    frame = found.convergence
    for ax, o in zip(axes[:, 0], objectives, strict=True):
        scale = 100.0 if o.measure == "influence" else 1.0
        unit = "% share" if o.measure == "influence" else "USD m per quarter"
        ax.plot(frame["runs"], frame[f"{o.column}_best"] * scale, color=OKABE_ITO[0],
                label="best in the population")
        ax.plot(frame["runs"], frame[f"{o.column}_median"] * scale, color=OKABE_ITO[1],
                linestyle="--", label="population median")
        ax.set_ylabel(textwrap.fill(f"{objective_text(found.plan, o)} ({unit})", 40),
                      fontsize=8)
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, frameon=False)
    from matplotlib.ticker import FuncFormatter

    axes[-1, 0].xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    axes[-1, 0].set_xlabel("simulated runs")
    axes[0, 0].set_title(f"{found.plan.name}: convergence ({found.algorithm}, "
                         f"{found.plan.spec.draws} draws per candidate)", fontsize=10)
    fig.tight_layout()
    return fig


COLLAPSED_SPAN = 0.01
"""A front whose span in an objective is below this (in the shown unit: points of share, or
USD m per quarter) has collapsed to one policy in that objective: there is no trade-off."""


def pareto_figure(found: Search):
    """The final front of two objectives, the chosen policy circled.

    A front that spans less than :data:`COLLAPSED_SPAN` in an objective is said to have
    collapsed (title and a note), rather than drawn as a trade-off across rounding noise.
    """
    a, b = found.plan.spec.objectives
    scale = [100.0 if o.measure == "influence" else 1.0 for o in (a, b)]
    f = found.front_objectives
    fig, ax = pyplot().subplots(figsize=(6.4, 4.6))
    ax.scatter(f[:, 0] * scale[0], f[:, 1] * scale[1], s=22, color=OKABE_ITO[2],
               label="non-dominated policies")
    ax.scatter([found.best_objectives[0] * scale[0]], [found.best_objectives[1] * scale[1]],
               s=160, facecolors="none", edgecolors="black", linewidths=1.6,
               label="chosen (best compromise)")
    for o, setter in ((a, ax.set_xlabel), (b, ax.set_ylabel)):
        unit = "% share" if o.measure == "influence" else "USD m per quarter"
        setter(textwrap.fill(f"{objective_text(found.plan, o)} ({unit})", 60), fontsize=8)
    ax.ticklabel_format(useOffset=False, style="plain")
    spans = [float(np.ptp(f[:, k] * scale[k])) if len(f) else 0.0 for k in (0, 1)]
    collapsed = [o for o, span in zip((a, b), spans, strict=True) if span < COLLAPSED_SPAN]
    if collapsed:
        what = " and ".join(objective_text(found.plan, o) for o in collapsed)
        ax.set_title(textwrap.fill(
            f"{found.plan.name}: the front collapsed ({len(f)} non-dominated policies within "
            f"{COLLAPSED_SPAN:g} of each other in {what}): no trade-off to choose", 70),
            fontsize=9)
        ax.text(0.5, 0.02, "spans: " + ", ".join(f"{s:.4f}" for s in spans)
                + " (shown units); differences this small are rounding, not a trade-off",
                transform=ax.transAxes, ha="center", va="bottom", fontsize=7, color="#555555")
    else:
        ax.set_title(f"{found.plan.name}: trade-off on {found.plan.spec.draws} draws "
                     f"({len(f)} non-dominated policies)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def destination_of(plan: Plan, out: str | Path = "results") -> Path:
    """Where a search writes: ``<out>/optimise/<name>/``."""
    return inside(Path(out), "optimise", safe_name(plan.name))


def check_destination(plan: Plan, out: str | Path = "results") -> Path:
    """Refuse a destination that holds another search's results, before the search runs.

    A search's folder is named by its file's ``name:``; a second file with the same name but
    another decision, objectives, scenario, draws or seed would silently replace the first
    search's results (sweeps refuse the same case). A rerun of the same file replaces them.

    Raises:
        OptimiseFileError: Naming the folder and what to do.
        OutputError: If the destination is a folder the simulator did not write.
    """
    destination = destination_of(plan, out)
    refuse_foreign(destination)
    try:
        old = json.loads((destination / "manifest.json").read_text())
    except (OSError, ValueError):
        return destination
    same = (isinstance(old, dict) and old.get("file") == plan.spec.model_dump(mode="json")
            and old.get("scenario_sha256") == plan.scenario.digest())
    if not same:
        raise OptimiseFileError(plan.source, [
            f"name: {plan.name!r}: {destination} holds the results of another search (its "
            f"file {old.get('source', '?') if isinstance(old, dict) else '?'} has another "
            "decision, objectives, scenario, draws or seed); give this search another name: "
            "or move that folder away"])
    return destination


def write_search(found: Search, out: str | Path = "results") -> Path:
    """Write ``<out>/optimise/<name>/`` atomically.

    Files: ``best_policy.yaml``, ``convergence.csv`` and ``convergence.png``, ``pareto.csv``
    and ``pareto.png`` (two objectives), ``evaluation.csv`` (per policy and fresh draw),
    ``evaluation_summary.csv`` and ``manifest.json``.

    Returns:
        The folder written.
    """
    plan = found.plan
    destination = check_destination(plan, out)
    files = ["best_policy.yaml", "convergence.csv", "convergence.png", "evaluation.csv",
             "evaluation_summary.csv", "manifest.json"]
    with atomic_folder(destination) as tmp:
        (tmp / "best_policy.yaml").write_text(best_policy_document(found, destination))
        write_csv(found.convergence, tmp / "convergence.csv")
        save(convergence_figure(found), tmp / "convergence.png")
        if len(plan.spec.objectives) == 2:
            columns = [o.column for o in plan.spec.objectives]
            front = pd.concat([pd.DataFrame(found.front_objectives, columns=columns),
                               policy_table(plan, found.front)], axis=1)
            write_csv(front, tmp / "pareto.csv")
            save(pareto_figure(found), tmp / "pareto.png")
            files[1:1] = ["pareto.csv", "pareto.png"]
        write_csv(found.evaluation, tmp / "evaluation.csv")
        write_csv(evaluation_summary(found), tmp / "evaluation_summary.csv")

        write_json({
            "kind": "optimise",
            "units": folder_units(tmp),
            "name": plan.name,
            "source": plan.source,
            "file": plan.spec.model_dump(mode="json"),
            "scenario": str(plan.scenario_file),
            "scenario_sha256": plan.scenario.digest(),
            "power": plan.power,
            "at": plan.at,
            "seed": plan.seed,
            "search_seeds": [plan.seed, plan.seed + plan.spec.draws - 1],
            "evaluation_seeds": [plan.seed + plan.spec.draws,
                                 plan.seed + plan.spec.draws + plan.spec.evaluation_draws - 1],
            "objectives": [objective_text(plan, o) for o in plan.spec.objectives],
            "algorithm": f"pymoo {found.algorithm}",
            "choice_rule": "single objective: the best of the final population; two: the "
                           "front member with the smallest equal-weight ASF of objectives "
                           "normalised over the front",
            "uncertainty": plan.uncertainty.manifest(),
            "held": list(plan.held),
            "best_policy": dict(zip(plan.budget_paths + plan.visibility_paths,
                                    map(float, found.best), strict=True)),
            "best_objectives_on_search_draws": dict(zip(
                [o.column for o in plan.spec.objectives], map(float, found.best_objectives),
                strict=True)),
            "runs": {"search": found.runs_search, "evaluation": found.runs_evaluation,
                     "total": found.runs_search + found.runs_evaluation,
                     "diverged": found.diverged},
            "seconds": round(found.seconds, 3),
            "runs_per_second": round(found.runs_search / found.engine_seconds, 1)
            if found.engine_seconds else None,
            "executor": found.executor,
            "files": sorted(files),
            "versions": versions() | {"pymoo": version("pymoo")},
            "git_commit": git_commit(),
            "command": shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        }, tmp / "manifest.json")
    return destination


def format_report(found: Search, folder: Path) -> str:
    """The search in a few lines, shares in % and spend in USD m per quarter.

    The runs and their speed, the objectives and the best policy, and how it did on fresh
    draws against the base.
    """
    plan = found.plan
    n = len(plan.cells)
    lines = [f"{plan.name}: {found.runs_search:,} runs in the search + "
             f"{found.runs_evaluation:,} in the evaluation, {found.seconds:.1f} s "
             f"({found.runs_search / max(found.engine_seconds, 1e-9):,.0f} runs/s; "
             f"{found.executor})"]
    for o, value in zip(plan.spec.objectives, found.best_objectives, strict=True):
        shown = f"{value:.2%}" if o.measure == "influence" and o.robustness != "regret" else (
            f"{value * 100:.2f} points" if o.measure == "influence" else f"{value:,.1f}")
        lines.append(f"  {objective_text(plan, o)}: {shown}")
    lines.append(f"  best policy (USD m per quarter{', visibility' if n < len(found.best) else ''}"
                 "):")
    for i, state in enumerate(plan.states):
        amounts = [(k, v) for (s, k), v in zip(plan.cells, found.best[:n], strict=True)
                   if s == state]
        cells = [f"{k} {v:,.0f}" for k, v in amounts]
        spends = any(round(v) > 0 for _, v in amounts)
        # A visibility where the policy spends nothing is meaningless: nothing is seen.
        vis = (f"; visibility {found.best[n + i]:.2f}" if spends else "; nothing spent"
               ) if n + i < len(found.best) else ""
        lines.append(f"    {state:<14} {', '.join(cells)}{vis}")
    summary = evaluation_summary(found)
    lines.append(f"  on {plan.spec.evaluation_draws} fresh draws (mean [10th, 90th "
                 "percentile]):")
    for column in evaluation_measures(plan):
        part = summary[summary["measure"] == column]
        cells = []
        for row in part.itertuples():
            if column.endswith("_share"):
                cells.append(f"{row.policy} {row.mean:.1%} [{row.p10:.1%}, {row.p90:.1%}]")
            else:
                # One decimal below 10 (0.1 [0.0, 0.2], not 0 [0, 0]), none above.
                digits = 1 if max(abs(row.mean), abs(row.p10), abs(row.p90)) < 10 else 0
                cells.append(f"{row.policy} {row.mean:,.{digits}f} [{row.p10:,.{digits}f}, "
                             f"{row.p90:,.{digits}f}]")
        lines.append(f"    {column}: " + "; ".join(cells))
    lines.append(f"results: {folder}")
    return "\n".join(lines)


def _power_name(plan) -> str:
    """The searched power as people read it (its label, else its key in words)."""
    actor = plan.scenario.powers.get(plan.power)
    return display_name(plan.power, getattr(actor, "label", None))

