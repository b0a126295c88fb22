"""The hindcast: run the posterior ensemble over the record and score it against the data.

``sim hindcast`` as a Python API::

    plan = plan_hindcast("scenarios/history/2015.yaml", posterior=DEFAULT_POSTERIOR,
                         observed="data/observed", cutoff=2019, draws=200)
    result = run_hindcast(plan, workers=2)
    folder = write_hindcast(result, out="results")

Each of the ``draws`` replicates runs with its own seed (``seed + i``) and, with a posterior,
its own parameter row drawn by weight (:mod:`sim.uncertainty`, the same draws ``sim
run --uncertainty posterior`` makes). The replicates are cut into chunks of at most
:data:`CHUNK_RUNS`, each one batch on the vectorised engine, run by the batch runner
(:mod:`sim.batch`: in-process, a local pool or Dask); since every random number is a function
of (seed, step, stream, index), the outputs are byte-identical for any number of workers.

Every check (the scenario, the posterior's columns against the scenario's fields, the cut-off
against the run's years, the observed data) happens in :func:`plan_hindcast`, before any run
and any write.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.batch import Progress, Task, chunk_slices, make_executor, run_ordered
from sim.batch.cache import compiled
from sim.batch.chunks import default_chunk
from sim.engine import compile_scenario, make_batch, repeat, simulate, with_values
from sim.engine.observables import QUARTERLY, quarterly, yearly
from sim.errors import DivergenceError, SimError
from sim.history.hindcast_plan import HindcastPlan, HindcastResult
from sim.history.hindcast_report import report_html, state_figures
from sim.history.observed import default_folder, load_observed
from sim.history.skill import SERIES, skill_table
from sim.limits import MAX_DRAWS, check_count
from sim.outputs.folders import (
    atomic_folder,
    inside,
    manifest,
    run_id,
    safe_name,
    write_csv,
    write_json,
)
from sim.outputs.units import folder_units, with_unit_column
from sim.scenario import Scenario, load_scenario
from sim.scenario.calendar import quarter_labels
from sim.scenario.files import not_a_file
from sim.uncertainty.draws import Draws, no_draws, plan_draws
from sim.uncertainty.posterior import DEFAULT_POSTERIOR, fitted_to, load_posterior

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCENARIO = ROOT / "scenarios" / "history" / "2015.yaml"
"""The shipped history scenario (the model from 2014Q4 through 2024Q4)."""

DEFAULT_CUTOFF = 2019
"""The last year of the calibration window (of :func:`plan_hindcast`)."""

SHIPPED_POSTERIORS = {
    2017: ROOT / "data" / "posterior-2017" / "posterior.parquet",
    2019: DEFAULT_POSTERIOR,
}
"""The shipped posterior fitted through each cut-off (``sim calibrate --cutoff YEAR``): the
rolling origin ``sim hindcast`` reports by default, each cut-off with its own fit."""

DEFAULT_CUTOFFS = tuple(sorted(SHIPPED_POSTERIORS))
"""The cut-offs ``sim hindcast`` reports by default."""

DEFAULT_DRAWS = 200
"""Replicates of the ensemble (each a seed and, with a posterior, a posterior draw)."""

CHUNK_RUNS = default_chunk("hindcast")
"""Replicates per engine batch, at most (a chunk for the batch runner; the reason is in
:data:`sim.batch.chunks.CHUNK_DEFAULTS`)."""

KEYS = ["year", "state", "partner", "observable"]
"""The key columns of ``observables.csv``."""

OBSERVABLES_COLUMNS = [*KEYS, "model_mean", "model_p5", "model_p95", "observed"]
"""The columns of the observables table (``observables.csv`` adds ``unit``, last)."""


class HindcastError(SimError):
    """A hindcast that cannot run: a missing or unusable input (exit status 2)."""


class HindcastDiverged(HindcastError):
    """A replicate whose state became non-finite (exit status 3, as for ``sim run``)."""

    exit_code = 3


# --------------------------------------------------------------------------------------------
# Planning: every check before any run
# --------------------------------------------------------------------------------------------


def _observed_sha256(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.csv")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def run_years(scenario: Scenario) -> tuple[int, ...]:
    """The years a run of the scenario reports (as :func:`sim.engine.observables.yearly`)."""
    labels = quarter_labels(scenario.start, scenario.steps)
    years = [int(q[:4]) for q in labels]
    kept = [y for y in sorted(set(years[1:])) if years[1:].count(y) == 4]
    if labels[0].endswith("4") and years[0] not in kept:
        kept.insert(0, years[0])
    return tuple(kept)


def posterior_cutoff(path: Path) -> int:
    """The last year a posterior was fitted on: ``calibration.cutoff`` of its manifest.

    ``sim calibrate`` writes ``manifest.json`` beside ``posterior.parquet`` (and ``--install``
    copies both), so the manifest beside the file is the posterior's own.

    Raises:
        HindcastError: No manifest beside the posterior, or one that records no cut-off.

    """
    manifest = path.parent / "manifest.json"
    try:
        cutoff = json.loads(manifest.read_text(encoding="utf-8"))["calibration"]["cutoff"]
        return int(cutoff)
    except FileNotFoundError:
        problem = f"no manifest.json beside it ({manifest})"
    except (ValueError, KeyError, TypeError):
        problem = f"its manifest {manifest} records no calibration.cutoff"
    raise HindcastError(
        f"--posterior {path}: {problem}, so the last year it was fitted on is unknown and the "
        "hindcast cannot tell in-sample years from out-of-sample ones; give a posterior "
        "written by `sim calibrate` (with its manifest.json), or --posterior none")


def check_posterior_cutoff(path: Path, cutoff: int) -> int:
    """Refuse a posterior fitted on years after the hindcast's cut-off; return its cut-off.

    Raises:
        HindcastError: The posterior's calibration window ends after ``cutoff`` (its test
            years would be in sample), or its cut-off is unknown.

    """
    fitted = posterior_cutoff(path)
    if fitted > cutoff:
        raise HindcastError(
            f"--posterior {path} was fitted on observations through {fitted} (its manifest's "
            f"calibration.cutoff), after the hindcast's --cutoff {cutoff}: the years "
            f"{cutoff + 1}-{fitted} would be scored as out of sample although the fit saw "
            f"them; give a posterior fitted through {cutoff} or earlier (`sim calibrate "
            f"--cutoff {cutoff}`), or --cutoff {fitted} or later")
    return fitted


def _load_posterior(posterior: str | Path | None, scenario: Scenario, n_draws: int,
                    cutoff: int | None = None) -> Draws:
    """The replicates' draws from a posterior (or none), checked against the scenario.

    With ``cutoff``, a posterior fitted past it is refused (:func:`check_posterior_cutoff`).
    """
    if posterior is None or str(posterior) == "none":
        return no_draws()
    path = Path(posterior)
    problem = not_a_file(path, "a posterior file (.parquet)")
    if problem and problem != "the file does not exist":
        raise HindcastError(f"--posterior {path}: {problem}")
    if problem:
        raise HindcastError(
            f"--posterior {path}: no posterior there; `sim calibrate --install` writes "
            "data/posterior/posterior.parquet; give --posterior FILE, or --posterior none "
            f"to run the scenario as written over {n_draws} seeds")
    if cutoff is not None:
        check_posterior_cutoff(path, cutoff)
    # history=True: the history-only columns (``history:events.china_investment_2015.factor``
    # ...) are this scenario's inputs, applied under their field paths.
    uncertainty = load_posterior(path, history=True)
    fitted_to(uncertainty, scenario, "--posterior")
    known = compile_scenario(scenario)[1].paths
    unknown = [c for c in uncertainty.columns if c not in known]
    if unknown:
        problems = []
        for column in unknown:
            hint = difflib.get_close_matches(column, list(known), n=2)
            problems.append(f"column {column!r} is not a numeric field of the scenario "
                            f"{scenario.name!r}" + (f"; did you mean {' or '.join(hint)}?"
                                                    if hint else ""))
        shown = "\n  - ".join(problems[:8])
        more = f"\n  ... and {len(problems) - 8} more" if len(problems) > 8 else ""
        raise HindcastError(f"--posterior {path}: the posterior does not fit the scenario "
                            f"(`sim sweep SWEEP --list-paths` lists its fields):\n  - "
                            f"{shown}{more}")
    # files=[None]: the posterior was fitted to this scenario, so no field of it is held.
    return plan_draws(uncertainty, [scenario], [None], n_draws)[0]


def plan_hindcast(scenario: str | Path = DEFAULT_SCENARIO,
                  posterior: str | Path | None = DEFAULT_POSTERIOR,
                  observed: str | Path | None = None, cutoff: int = DEFAULT_CUTOFF,
                  draws: int = DEFAULT_DRAWS) -> HindcastPlan:
    """Check a hindcast's inputs and draw its parameters.

    Args:
        scenario: The history scenario file.
        posterior: The posterior Parquet file, or None / ``"none"`` for the scenario as
            written (the bands then hold the seeds' noise only).
        observed: The observed-data folder (default: the repository's data/observed).
        cutoff: The last year of the calibration window; it must leave at least one year of
            the run before it and after it.
        draws: Replicates (at least 1).

    Returns:
        The plan.

    Raises:
        HindcastError: A missing scenario or posterior, a posterior column that is not a field
            of the scenario, a cut-off outside the run, a bad number of draws.
        ScenarioError: An invalid scenario or posterior values the scenario refuses.
        ObservedDataError: Missing or invalid observed data.

    """
    check_count("--draws", draws, MAX_DRAWS, "MAX_DRAWS")
    path = Path(scenario)
    problem = not_a_file(path)
    if problem == "the file does not exist":
        hint = (" (the shipped history scenario; it comes with issue 11's calibration)"
                if path.resolve() == DEFAULT_SCENARIO else "")
        raise HindcastError(f"{path}: no such scenario file{hint}; give a scenario YAML file")
    if problem:
        raise HindcastError(f"{path}: {problem}")
    loaded = load_scenario(path)
    if loaded.branch is not None:
        raise HindcastError(f"{path}: a branched scenario cannot be hindcast; give a scenario "
                            "that starts from its own initial state")
    years = run_years(loaded)
    if not years:
        raise HindcastError(f"{path}: the run ({loaded.start}, {loaded.steps} quarters) covers "
                            "no whole year")
    if not years[0] <= cutoff < years[-1]:
        raise HindcastError(
            f"--cutoff {cutoff} is outside the run: {path} reports the years {years[0]}-"
            f"{years[-1]}; give a year from {years[0]} to {years[-1] - 1} (at least one year "
            "must follow the cut-off)")
    folder = Path(observed) if observed is not None else default_folder()
    table = load_observed(folder)
    planned = _load_posterior(posterior, loaded, draws, cutoff)
    fitted = (None if posterior is None or str(posterior) == "none"
              else posterior_cutoff(Path(posterior)))
    return HindcastPlan(scenario=loaded, source=str(path), draws=planned, observed=table,
                        observed_folder=str(folder), observed_sha256=_observed_sha256(folder),
                        cutoff=cutoff, n_draws=draws, years=years, posterior_cutoff=fitted)


# --------------------------------------------------------------------------------------------
# Running: chunks of replicates through the batch runner
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HindcastTask:
    """One chunk: some replicates' seeds and parameter values.

    Attributes:
        key: The scenario's digest (caches the compiled scenario in a worker).
        scenario: The resolved scenario (``model_dump(mode="json")``).
        seeds: The replicates' seeds.
        values: Field path to one value per replicate (empty: as written).

    """

    key: str
    scenario: dict[str, Any]
    seeds: np.ndarray
    values: dict[str, np.ndarray]


@dataclass(frozen=True)
class ChunkOutcome:
    """A finished chunk: each replicate's annual observables, or why a run diverged."""

    frame: pd.DataFrame | None
    diverged: str = ""


def run_chunk(task: HindcastTask) -> ChunkOutcome:
    """Run one chunk of replicates as a single engine batch (in any worker).

    The batch runner's ``annual_observables`` measure (:mod:`sim.batch.measures`).

    Returns:
        The replicates' annual observables (``seed`` column first), or the divergence message.

    """
    structure, base = compiled(task.key, task.scenario, "<hindcast>")
    params = repeat(base, len(task.seeds))
    if task.values:
        params = with_values(params, task.values)
    batch = make_batch(structure, params, task.seeds, record_reactions=False)
    flows: list[dict[str, np.ndarray]] = []
    try:
        simulate(batch, observe=lambda state: flows.append(quarterly(state, batch.params)))
    except DivergenceError as exc:
        return ChunkOutcome(None, str(exc))
    stacked = {name: np.stack([f[name] for f in flows]) for name in QUARTERLY}
    labels = quarter_labels(structure.start, len(flows) - 1)
    frame = yearly(stacked, structure, labels, seeds=batch.seeds)
    return ChunkOutcome(frame)


def _tasks(plan: HindcastPlan, chunk_runs: int) -> list[Task]:
    data = plan.scenario.model_dump(mode="json")
    key = plan.scenario.digest()
    seeds = np.asarray(plan.seeds, dtype=np.uint64)
    return [Task(index, "annual_observables",
                 HindcastTask(key, data, seeds[part], plan.draws.take(part).values),
                 part.stop - part.start)
            for index, part in enumerate(chunk_slices(plan.n_draws, chunk_runs))]


def simulate_ensemble(plan: HindcastPlan, workers: int = 1, scheduler: Any = None,
                      quiet: bool = False, chunk_runs: int = CHUNK_RUNS
                      ) -> tuple[pd.DataFrame, str]:
    """Run every replicate and return their annual observables.

    Args:
        plan: From :func:`plan_hindcast`.
        workers: Local processes (1 runs in the calling process).
        scheduler: A Dask scheduler address (overrides ``workers``).
        quiet: No progress bar.
        chunk_runs: Replicates per engine batch.

    Returns:
        The table (columns seed, year, state, partner, observable, value; sorted by seed, then
        as the engine reports them: the same for any executor) and the executor's description.

    Raises:
        HindcastDiverged: If a replicate's state became non-finite.

    """
    with make_executor(workers, scheduler) as executor, \
            Progress(plan.n_draws, 0, quiet, desc="hindcast") as progress:
        label = executor.description
        outcomes = run_ordered(_tasks(plan, chunk_runs), executor, progress)
    for outcome in outcomes:
        if outcome.diverged:
            raise HindcastDiverged(f"{plan.source}: {outcome.diverged}")
    return pd.concat([o.frame for o in outcomes], ignore_index=True), label


def band_table(runs: pd.DataFrame, observed: pd.DataFrame) -> pd.DataFrame:
    """Mean and 5th-95th percentiles over replicates, beside the observation of each key.

    Args:
        runs: From :func:`simulate_ensemble`.
        observed: The observed record.

    Returns:
        The :data:`OBSERVABLES_COLUMNS` table, sorted by observable, state, partner and year
        (``observed`` NaN where there is no observation).

    """
    wide = runs.set_index([*KEYS, "seed"])["value"].unstack("seed").sort_index(axis=1)
    values = wide.to_numpy(dtype=np.float64)
    with np.errstate(all="ignore"):
        if np.isnan(values).any():
            mean = np.nanmean(values, axis=1)
            low, high = np.nanpercentile(values, [5, 95], axis=1)
        else:
            mean = values.mean(axis=1)
            low, high = np.percentile(values, [5, 95], axis=1)
    table = wide.index.to_frame(index=False)
    table["model_mean"], table["model_p5"], table["model_p95"] = mean, low, high
    obs = observed[KEYS + ["value"]].rename(columns={"value": "observed"})
    table = table.merge(obs, on=KEYS, how="left")
    for column in ("state", "partner", "observable"):
        table[column] = table[column].str.lower()
    return table.sort_values(["observable", "state", "partner", "year"],
                             ignore_index=True)[OBSERVABLES_COLUMNS]


def unmodelled_series(table: pd.DataFrame, observed: pd.DataFrame) -> pd.DataFrame:
    """Observed series that the model's observables do not hold (gas purchases...)."""
    modelled = set(table[SERIES].itertuples(index=False, name=None))
    found = sorted({s for s in observed[SERIES].itertuples(index=False, name=None)
                    if s not in modelled})
    return pd.DataFrame(found, columns=SERIES)


def run_hindcast(plan: HindcastPlan, workers: int = 1, scheduler: Any = None,
                 quiet: bool = False, chunk_runs: int = CHUNK_RUNS) -> HindcastResult:
    """Run the ensemble and score it (nothing is written; see :func:`write_hindcast`)."""
    start = time.perf_counter()
    runs, executor = simulate_ensemble(plan, workers, scheduler, quiet, chunk_runs)
    seconds = time.perf_counter() - start
    table = band_table(runs, plan.observed)
    skill, skipped = skill_table(table, plan.cutoff)
    return HindcastResult(plan, table, skill, skipped, unmodelled_series(table, plan.observed),
                          seconds, executor)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def hindcast_folder(plan: HindcastPlan, out: str | Path = "results") -> Path:
    """``OUT/hindcast/<scenario>-<run id>-c<cutoff>``, never outside ``OUT``."""
    name = f"{safe_name(plan.scenario.name)}-{run_id(plan.scenario, plan.seeds, plan.digest())}"
    return inside(Path(out), "hindcast", f"{name}-c{plan.cutoff}")


def manifest_extra(result: HindcastResult, folder: Path) -> dict[str, Any]:
    """The hindcast's own entries in the manifest."""
    plan = result.plan
    pooled = result.skill[result.skill["state"] == "pooled"]
    return {
        "kind": "hindcast", "hindcast_id": folder.name, "cutoff": plan.cutoff,
        "posterior_cutoff": plan.posterior_cutoff,
        "years": [plan.years[0], plan.years[-1]], "draws": plan.n_draws,
        "scenario_file": plan.source, "executor": result.executor,
        "uncertainty": plan.draws.manifest(plan.n_draws),
        "observed": {"folder": plan.observed_folder, "sha256": plan.observed_sha256,
                     "rows": len(plan.observed)},
        "pooled_rel_mae": {r.observable: {"rel_mae": r.rel_mae, "p5": r.rel_mae_p5,
                                          "p95": r.rel_mae_p95, "n_test": r.n_test,
                                          "verdict": r.verdict} for r in pooled.itertuples()},
        "skipped": result.skipped.to_dict("records"),
        "unmodelled": result.unmodelled.to_dict("records"),
    }


def write_hindcast(result: HindcastResult, out: str | Path = "results",
                   plot: bool = True) -> Path:
    """Write ``OUT/hindcast/<id>/`` atomically.

    It holds ``observables.csv``, ``skill.csv``, ``skipped.csv``, ``manifest.json``, a figure
    per state with observations (``<state>.png``) and ``report.html``.

    Returns:
        The folder written.

    """
    plan = result.plan
    destination = hindcast_folder(plan, out)
    with atomic_folder(destination) as tmp:
        write_csv(with_unit_column(result.observables), tmp / "observables.csv")
        write_csv(with_unit_column(result.skill), tmp / "skill.csv")
        write_csv(result.skipped, tmp / "skipped.csv")
        extra = manifest_extra(result, destination) | {"units": folder_units(tmp)}
        data = manifest(plan.scenario, plan.seeds, extra)
        write_json(data, tmp / "manifest.json")
        figures = state_figures(result, tmp) if plot else []
        page = report_html(result, data, [tmp / name for name in figures])
        (tmp / "report.html").write_text(page, encoding="utf-8", newline="\n")
    return destination
