"""Calibrate the model on the record: ABC-SMC of the uncertain rules against data/observed.

The history scenario (``scenarios/history/2015.yaml``, step 0 = 2014Q4) is compiled once; each
candidate's parameters are written into a batch with :func:`sim.engine.params.with_values`, the
batch is simulated up to the cut-off year, and the yearly observables of every run are computed
at once (:func:`sim.engine.observables.annual_observables`). The summaries are the logarithms
of the model's values at the observed (year, state, partner, observable) cells from the first
simulated year through the cut-off; the distance is the root mean square of the log ratios,
model against observed (:data:`DISTANCE`): 0.1 means the model is off by about 10% on a typical
observation. docs/CALIBRATION.md says which parameters are fitted and why.

Generations run as batches through :func:`sim.history.abc.abc_smc` on the sweeps' executors, so
the posterior is byte-identical for any number of workers.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.batch.chunks import default_chunk
from sim.engine import observables
from sim.engine.params import Params, Structure, compile_scenario, repeat, with_values
from sim.engine.random import STREAM_OBSERVATION, normal
from sim.engine.step import make_batch, simulate
from sim.errors import SimError
from sim.history.abc import (
    ABCResult,
    Euclidean,
    Generation,
    Prior,
    Uniform,
    abc_smc,
    weighted_quantiles,
)
from sim.history.identification import BOUND_QUANTILES, bound_limited, unidentified
from sim.history.observed import load_observed
from sim.history.posterior_plots import marginals_figure, pairs_figure
from sim.limits import MAX_GENERATIONS, MAX_POPULATION, check_count, check_seed
from sim.outputs.folders import atomic_folder, inside, manifest, write_csv, write_json
from sim.outputs.units import folder_units, with_unit_column
from sim.scenario import Scenario, load_scenario
from sim.scenario.calendar import parse_quarter, quarter_labels, step_of_quarter
from sim.sweep.sensitivity import morris_table
from sim.sweep.store import save_figure, write_parquet
from sim.uncertainty.posterior import DEFAULT_POSTERIOR, HISTORY_PREFIX, field_path

DEFAULT_SCENARIO = Path(__file__).resolve().parent.parent.parent / "scenarios" / "history" / \
    "2015.yaml"
"""The shipped history scenario."""

INSTALL_DIR = DEFAULT_POSTERIOR.parent
"""Where ``--install`` puts the posterior: the folder ``--uncertainty posterior`` reads."""

PARAMETERS: dict[str, Uniform] = {
    "rules.dependence.decay.remittances": Uniform(-0.06, 0.06),
    "rules.decay.footprint": Uniform(0.0, 0.1),
    "rules.dependence.decay.energy": Uniform(-0.03, 0.1),
    "rules.dependence.weights.remittances": Uniform(0.0, 2.0),
    "rules.hedging": Uniform(0.0, 10.0),
    "rules.hedging_max_premium": Uniform(0.0, 2.0),
    "rules.weights.footprint": Uniform(0.25, 4.0),
    "history:events.china_investment_2015.factor": Uniform(0.05, 1.5),
    "history:events.russia_investment_2015.factor": Uniform(0.05, 1.5),
}
"""The fitted parameters and their (uniform) priors; docs/CALIBRATION.md defends the choice
with the screening of :data:`CANDIDATES`. A name starting with ``history:``
(:data:`sim.uncertainty.HISTORY_PREFIX`) is a history-only input, the field path after
the prefix: here China's and Russia's investment budgets from 2015 as a factor of 2024's
(the history scenario's events with ids ``china_investment_2015`` and
``russia_investment_2015``: addressed by id, so reordering the file cannot make the calibration
fit other fields; they persist through 2024). The hindcast applies them; ``--uncertainty
posterior`` never draws them into another scenario."""

TIED: dict[str, str] = {}
"""Columns computed from a fitted one as its reciprocal, set in every simulated run and written
to the posterior beside the fitted columns (the hindcast applies them like any other). None
now: the 2020Q1 events that put the investment budgets back to 2024's (1 / the fitted factor)
set an input from test-window figures and were removed (docs/HINDCAST.md)."""

CANDIDATES: dict[str, Uniform] = {
    **PARAMETERS,
    "powers.china.budget.invest": Uniform(1000.0, 3000.0),
    "rules.noise.reception_sd": Uniform(0.0, 0.2),
    "rules.dependence.weights.energy": Uniform(0.0, 2.0),
    "powers.china.reaction.japan.sensitivity": Uniform(0.0, 8.0),
    "rules.reaction.pressure_share": Uniform(0.0, 1.0),
    "rules.blocked_investment_to_soft_power": Uniform(0.0, 1.0),
    "rules.reaction.leverage": Uniform(0.0, 20.0),
}
"""Parameters screened by the sensitivity analysis (:func:`screen`)."""

OBSERVABLES = ("trade_share", "trade_usd_bn", "remittances_gdp", "remittances_usd_bn",
               "leadership_approval")
"""Observed series the model produces (gas purchases in bcm and favourable views it does
not); ``leadership_approval`` counts only for the states Gallup surveys, not the region."""

EXCLUDED_CONVENTIONS = ("chinese_customs",)
"""Series left out of the fit: the model's trade follows the host states' statistics, which
Chinese customs exceed by up to four times (data/observed/README.md)."""

DISTANCE = "root mean square of log(model / observed) over the observed cells"
"""What the distance is, for the manifest."""

OBSERVATION_NOISE = 0.2
"""The observation noise the fit assumes the record carries: sd of log(observed / model), the
size of the plain fit's final tolerance on the record (an RMS log error of about 0.22). The fit
adds it to every simulated log value (noisy ABC, :class:`HistorySimulator`), so its posterior is
the one this noise implies instead of a contraction onto the best-fitting point
(docs/CALIBRATION.md, "Noisy ABC"); the recovery test puts the same noise on its synthetic
records (:data:`sim.history.recovery.NOISE`)."""

MAX_OBSERVATION_NOISE = 2.0
"""Largest observation-noise sd (of the log values) a fit takes."""


def valid_observation_noise(sd: object) -> bool:
    """Whether ``sd`` is an observation-noise sd a fit takes: a number from 0 to the maximum."""
    return (isinstance(sd, int | float) and not isinstance(sd, bool) and math.isfinite(sd)
            and 0.0 <= sd <= MAX_OBSERVATION_NOISE)


CHUNK_SIZE = default_chunk("calibrate")
"""Candidates per chunk, at most (the reason is in :data:`sim.batch.chunks.CHUNK_DEFAULTS`)."""


class CalibrationError(SimError):
    """A calibration that cannot run: bad settings, no observation to fit, a bad folder."""


@dataclass(frozen=True)
class Targets:
    """The observed cells a calibration fits.

    Attributes:
        table: year, state, partner, observable, value, convention, one row per cell.
        year: Index of each cell's year among the simulated years (k,).
        state: State index (the number of states for ``region``) (k,).
        partner: Power index (k,).
        observable: Index into :data:`OBSERVABLES` (k,).
        years: The simulated calendar years, first to last.
    """

    table: pd.DataFrame
    year: np.ndarray
    state: np.ndarray
    partner: np.ndarray
    observable: np.ndarray
    years: tuple[int, ...]

    @property
    def values(self) -> np.ndarray:
        """The observed values (k,)."""
        return self.table["value"].to_numpy(dtype=float)


def first_year(scenario: Scenario) -> int:
    """The first calendar year whose four quarters the scenario simulates."""
    year, quarter = parse_quarter(scenario.start)
    return year if quarter == 1 else year + 1


def select_targets(observed: pd.DataFrame, scenario: Scenario, cutoff: int) -> Targets:
    """Pick the observations the model can be compared with, from its first year to the cutoff.

    Remittances count only from a power the scenario has sending them (the model has none
    otherwise), and not for the region.

    Raises:
        CalibrationError: A cut-off outside the run, or no observation to fit.
    """
    first = first_year(scenario)
    end_year, end_quarter = parse_quarter(quarter_labels(scenario.start, scenario.steps)[-1])
    last = end_year if end_quarter == 4 else end_year - 1
    if not first <= cutoff <= last:
        raise CalibrationError(f"--cutoff {cutoff}: the scenario {scenario.name} simulates the "
                               f"years {first}-{last}; give a year in that range")
    states = list(scenario.state_names)
    powers = list(scenario.power_names)
    keep = (observed["year"].between(first, cutoff)
            & observed["observable"].isin(OBSERVABLES)
            & ~observed["convention"].isin(EXCLUDED_CONVENTIONS)
            & observed["state"].isin([*states, "region"])
            & observed["partner"].isin(powers)
            & (observed["value"] > 0))
    table = observed.loc[keep, ["year", "state", "partner", "observable", "value", "convention"]]
    table = table.reset_index(drop=True)
    remit = table["observable"].str.startswith("remittances")
    sent = [row.state != "region" and scenario.states[row.state].dependence.remittances
            .get(row.partner, 0.0) > 0 for row in table.itertuples()]
    table = table[~remit | np.array(sent, dtype=bool)].reset_index(drop=True)
    table = table[(table["observable"] != "leadership_approval")
                  | (table["state"] != "region")].reset_index(drop=True)
    if table.empty:
        raise CalibrationError(f"no observation to fit between {first} and the cut-off {cutoff} "
                               f"(observables {', '.join(OBSERVABLES)}, conventions other than "
                               f"{', '.join(EXCLUDED_CONVENTIONS)})")
    index = {name: i for i, name in enumerate(states)} | {"region": len(states)}
    return Targets(
        table=table,
        year=(table["year"].to_numpy() - first).astype(np.int64),
        state=table["state"].map(index).to_numpy(dtype=np.int64),
        partner=table["partner"].map({p: i for i, p in enumerate(powers)}).to_numpy(np.int64),
        observable=table["observable"].map({o: i for i, o in enumerate(OBSERVABLES)})
        .to_numpy(dtype=np.int64),
        years=tuple(range(first, cutoff + 1)),
    )


class HistorySimulator:
    """The model as ABC sees it: parameters and seeds in, log observables at the targets out.

    Picklable (it holds arrays only), so chunks run in worker processes and on Dask.

    Args:
        structure: The compiled scenario's structure.
        params: Its one-run parameters.
        names: The field paths ``theta``'s columns set.
        targets: The observed cells.
        start: The scenario's first quarter.
        noise_sd: sd of the normal noise added to each log summary (0: none). Noisy ABC: with
            the noise the record is assumed to carry added to every simulated value, a small
            tolerance gives the posterior that noise implies instead of contracting onto the
            best-fitting point (Wilkinson 2013). The noise of cell i of a run is a function of
            the run's seed and i alone (:data:`sim.engine.random.STREAM_OBSERVATION`), so it
            does not depend on the chunking.
    """

    def __init__(self, structure: Structure, params: Params, names: tuple[str, ...],
                 targets: Targets, start: str, noise_sd: float = 0.0):
        self.structure, self.params, self.names, self.targets = structure, params, names, targets
        self.noise_sd = float(noise_sd)
        self.steps = step_of_quarter(start, f"{targets.years[-1]}Q4")
        labels = quarter_labels(start, self.steps)
        self.step_year = np.array([int(q[:4]) for q in labels]) - targets.years[0]

    def values(self, theta: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        """The model's values at the target cells (n, k); NaN for a run that diverged."""
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        n = len(theta)
        params = repeat(self.params, n)
        values = with_tied({name: theta[:, j] for j, name in enumerate(self.names)})
        params = with_values(params, {field_path(k): v for k, v in values.items()})
        batch = make_batch(self.structure, params, np.asarray(seeds).astype(np.uint64),
                           record_reactions=False)
        S, P, Y = self.structure.n_states, self.structure.n_powers, len(self.targets.years)
        sums = {"trade": np.zeros((Y, n, S, P)), "other_trade": np.zeros((Y, n, S)),
                "remittances": np.zeros((Y, n, S, P)), "gdp": np.zeros((Y, n, S)),
                "soft_share": np.zeros((Y, n, S, P))}

        def observe(state) -> None:
            y = self.step_year[state.step]
            if state.step == 0 or not 0 <= y < Y:
                return
            for name, flow in observables.quarterly(state, params).items():
                sums[name][y] += flow

        final = simulate(batch, steps=self.steps, observe=observe, on_divergence="flag")
        annual = observables.annual_observables(sums["trade"], sums["other_trade"],
                                                sums["remittances"], sums["gdp"],
                                                sums["soft_share"])
        t = self.targets
        out = np.empty((n, len(t.year)))
        for o, name in enumerate(OBSERVABLES):
            cells = np.flatnonzero(t.observable == o)
            if len(cells):
                out[:, cells] = annual[name][t.year[cells], :, t.state[cells], t.partner[cells]].T
        out[final.diverged_step >= 0] = np.nan
        return out

    def __call__(self, theta: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        """Log values at the targets (n, k), plus the observation noise: what ABC compares."""
        with np.errstate(divide="ignore", invalid="ignore"):
            summaries = np.log(self.values(theta, seeds))
        if self.noise_sd > 0:
            seeds = np.asarray(seeds).astype(np.uint64)
            summaries += self.noise_sd * normal(seeds, 0, STREAM_OBSERVATION,
                                                (summaries.shape[1],))
        return summaries


def distance(k: int) -> Euclidean:
    """Root mean square over k summaries: Euclidean distance divided by sqrt(k)."""
    return Euclidean(scale=(math.sqrt(k),) * k)


def with_tied(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``values`` plus each :data:`TIED` column whose source is among them (1 / the source)."""
    return values | {tied: 1.0 / values[source] for tied, source in TIED.items()
                     if source in values}


def prior_of(parameters: dict[str, Uniform], params: Params) -> Prior:
    """The prior over ``parameters``, after checking each is a numeric field of the scenario.

    A ``history:`` name is checked without its prefix.
    """
    missing = [p for p in parameters if field_path(p) not in params.paths]
    if missing:
        raise CalibrationError(f"not numeric fields of the history scenario: {', '.join(missing)}")
    return Prior(dict(parameters))


@dataclass
class Calibration:
    """What :func:`calibrate` computed.

    Attributes:
        result: The ABC result (posterior, diagnostics).
        targets: The observed cells.
        fit: Per target: observed, posterior mean and 5th/95th percentiles of the model.
        seconds: Wall time of the ABC-SMC.
        settings: The settings, as recorded in the manifest.
    """

    result: ABCResult
    targets: Targets
    fit: pd.DataFrame
    seconds: float
    settings: dict[str, Any]

    @property
    def runs_per_second(self) -> float:
        """Simulated runs per second over the whole fit."""
        return self.result.n_simulations / max(self.seconds, 1e-9)

    def parameters(self) -> pd.DataFrame:
        """One row per parameter: prior bounds, posterior mean, sd, 5%, 50% and 95%."""
        r = self.result
        q = r.quantile([0.05, 0.5, 0.95])
        priors = self.settings["priors"]
        return pd.DataFrame({
            "parameter": list(r.names),
            "prior_low": [priors[n][0] for n in r.names],
            "prior_high": [priors[n][1] for n in r.names],
            "mean": r.mean(), "sd": r.sd(), "p5": q[0], "p50": q[1], "p95": q[2],
            "history_only": [n.startswith(HISTORY_PREFIX) for n in r.names],
        })


def calibrate(scenario: Scenario, observed: pd.DataFrame, cutoff: int = 2019, *,
              parameters: dict[str, Uniform] | None = None, population: int = 1000,
              generations: int = 8, seed: int = 0, max_simulations: int = 2_000_000,
              chunk_size: int = CHUNK_SIZE, map_chunks=None,
              on_generation=None, noise_sd: float = OBSERVATION_NOISE) -> Calibration:
    """Fit the parameters to the observations up to ``cutoff`` by ABC-SMC.

    Args:
        scenario: The history scenario.
        observed: :func:`sim.history.observed.load_observed`'s table.
        cutoff: Last year of the fit.
        parameters: Field path to uniform prior (default :data:`PARAMETERS`).
        population: Particles per generation.
        generations: Generations, the prior's included.
        seed: The fit's seed.
        max_simulations: Budget of simulated runs.
        chunk_size: Runs per chunk handed to an executor.
        map_chunks: Where chunks run (:func:`sim.history.abc.batch_map`); default in-process.
        on_generation: Called after each generation.
        noise_sd: Observation noise added to each simulated log summary (noisy ABC,
            :class:`HistorySimulator`; default :data:`OBSERVATION_NOISE`); 0 adds none, the
            plain ABC.

    Returns:
        The :class:`Calibration`.
    """
    parameters = dict(PARAMETERS if parameters is None else parameters)
    if population < 10:
        raise CalibrationError(f"--population {population} is too small: give 10 or more")
    if generations < 1:
        raise CalibrationError(f"--generations {generations} must be 1 or more")
    check_count("--population", population, MAX_POPULATION, "MAX_POPULATION", least=10)
    check_count("--generations", generations, MAX_GENERATIONS, "MAX_GENERATIONS")
    check_seed("--seed", seed)
    if not valid_observation_noise(noise_sd):
        raise CalibrationError(f"observation noise sd {noise_sd} must be in "
                               f"[0, {MAX_OBSERVATION_NOISE:g}]")
    targets = select_targets(observed, scenario, cutoff)
    structure, params = compile_scenario(scenario)
    prior = prior_of(parameters, params)
    simulator = HistorySimulator(structure, params, prior.names, targets, scenario.start,
                                 noise_sd=noise_sd)
    observed_log = np.log(targets.values)
    began = time.perf_counter()
    result = abc_smc(simulator, observed_log, prior, distance=distance(len(observed_log)),
                     n_particles=population, seed=seed, max_generations=generations,
                     max_simulations=max_simulations, chunk_size=chunk_size,
                     map_chunks=map_chunks, on_generation=on_generation)
    seconds = time.perf_counter() - began
    settings = {
        "cutoff": cutoff, "population": population, "generations": generations, "seed": seed,
        "priors": {n: [d.low, d.high] for n, d in parameters.items()},
        "history_only": history_only(parameters),
        "unidentified": unidentified(parameters),
        "tied_reciprocal": {k: v for k, v in TIED.items() if v in parameters},
        "distance": DISTANCE, "summaries": len(observed_log),
        "excluded_conventions": list(EXCLUDED_CONVENTIONS),
    }
    if noise_sd > 0:  # a plain fit (0) records none: its cross-check takes the final tolerance
        settings["observation_noise_sd"] = noise_sd
    p10, p90 = result.quantile(BOUND_QUANTILES)
    settings["bound_limited"] = bound_limited(
        {n: (d.low, d.high) for n, d in parameters.items()}, p10, p90)
    values = np.exp(result.summaries)
    if noise_sd > 0:  # the accepted summaries carry noise chosen to match the record
        seeds = np.random.default_rng([seed, FIT_TABLE_STREAM]).integers(
            0, 2**63, size=len(result.particles), dtype=np.uint64)
        values = simulator.values(result.particles, seeds)  # values() adds no noise
    return Calibration(result=result, targets=targets, fit=fit_table(result, targets, values),
                       seconds=seconds, settings=settings)


FIT_TABLE_STREAM = 4
"""Stream (with the fit's seed) of the seeds the final particles are rerun with for the fit
table of a noisy fit."""


def fit_table(result: ABCResult, targets: Targets, values: np.ndarray) -> pd.DataFrame:
    """Observed against the posterior's simulated values at each target cell.

    Args:
        result: The fit.
        targets: The observed cells.
        values: The model's values (not logs) of each particle at each cell, (n, k). For a
            noisy fit these are the particles rerun without the observation noise: the
            accepted summaries carry noise that was selected for matching the record, so
            their errors would look smaller than the model's. A rerun that diverged (a row
            that is not finite) is left out, the other rows' weights rescaled.
    """
    weights, finite = result.weights, np.isfinite(values).all(axis=1)
    if not finite.all() and (weights[finite] > 0).any():
        values, weights = values[finite], weights[finite] / weights[finite].sum()
    q = weighted_quantiles(values, weights, [0.05, 0.95])
    table = targets.table.rename(columns={"value": "observed"}).copy()
    table["model_mean"] = weights @ values
    table["model_p5"], table["model_p95"] = q[0], q[1]
    table["log_error"] = np.log(table["model_mean"] / table["observed"])
    return table


def folder_id(scenario: Scenario, observed: pd.DataFrame, settings: dict[str, Any]) -> str:
    """A deterministic folder name: seed, then a hash of the scenario, data and settings."""
    text = json.dumps({"scenario": scenario.digest(),
                       "observed": pd.util.hash_pandas_object(observed, index=False).sum(),
                       "settings": settings}, sort_keys=True, default=str)
    return f"s{settings['seed']}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def log_generation(generation: Generation) -> str:
    """One line about a finished generation."""
    eps = "inf" if math.isinf(generation.epsilon) else f"{generation.epsilon:.4f}"
    return (f"generation {generation.index}: epsilon {eps}, {generation.simulated:,} runs, "
            f"acceptance {generation.acceptance_rate:.3f}, ESS {generation.ess:,.0f}")


def check_out(out: str | Path, kind: str = "calibrate") -> None:
    """Refuse, before any computing, a results root that cannot be created or written.

    The folders the probe creates (``<out>/<kind>``) are removed again, so a refused or failed
    calibration leaves nothing behind.
    """
    target = Path(out).absolute() / kind
    first_new = target
    while not first_new.parent.exists():
        first_new = first_new.parent
    created = not first_new.exists()
    try:
        target.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryDirectory(dir=target).cleanup()
    except OSError as exc:
        raise CalibrationError(f"--out {out}: cannot write there ({exc.strerror or exc}); "
                               "give a writable folder") from None
    finally:
        if created:
            shutil.rmtree(first_new, ignore_errors=True)


def load_inputs(scenario_path: str | Path | None, observed_dir: str | Path | None,
                seed: int | None = None) -> tuple[Scenario, pd.DataFrame]:
    """Load the history scenario and the observations (errors name the file)."""
    scenario = load_scenario(scenario_path or DEFAULT_SCENARIO, seed=seed)
    return scenario, load_observed(observed_dir)


def write_results(cal: Calibration, scenario: Scenario, observed_dir: str | Path | None,
                  out: str | Path = "results", run_info: dict[str, Any] | None = None,
                  plot: bool = True) -> Path:
    """Write ``<out>/calibrate/<id>/`` atomically and return it.

    Files: ``posterior.parquet`` (one column per field path, plus ``weight``),
    ``parameters.csv`` (prior and posterior summary), ``diagnostics.csv`` (per generation:
    epsilon, runs, acceptance, ESS), ``fit.csv`` (observed against the posterior's model values
    at each target), ``marginals.png`` and ``pairs.png`` (unless ``plot`` is false) and
    ``manifest.json``.
    """
    observed = cal.targets.table
    folder = inside(Path(out), "calibrate", folder_id(scenario, observed, cal.settings))
    r = cal.result
    bounds = [tuple(cal.settings["priors"][n]) for n in r.names]
    with atomic_folder(folder) as tmp:
        write_parquet(pa.Table.from_pandas(posterior_frame(r), preserve_index=False),
                      tmp / "posterior.parquet")
        write_csv(cal.parameters(), tmp / "parameters.csv")
        write_csv(r.diagnostics(), tmp / "diagnostics.csv")
        write_csv(with_unit_column(cal.fit), tmp / "fit.csv")
        figures = ["marginals.png", "pairs.png"] if plot else []
        if plot:
            save_figure(marginals_figure(r.particles, r.weights, r.names, bounds),
                        tmp / "marginals.png")
            save_figure(pairs_figure(r.particles, r.weights, r.names, bounds),
                        tmp / "pairs.png")
        extra = {
            "kind": "calibration",
            "calibration": cal.settings,
            "observed_folder": str(observed_dir or "data/observed"),
            "n_simulations": r.n_simulations,
            "generations_completed": len(r.generations),
            "stop_reason": r.stop_reason,
            "ess": r.ess,
            "final_epsilon": float(r.epsilons[-1]),
            "median_distance": float(np.median(r.distances)),
            "seconds": round(cal.seconds, 3),
            "runs_per_second": round(cal.runs_per_second, 1),
            "posterior_sha256": hashlib.sha256((tmp / "posterior.parquet").read_bytes())
            .hexdigest(),
            "files": ["posterior.parquet", "parameters.csv", "diagnostics.csv", "fit.csv",
                      *figures, "manifest.json"],
            "units": folder_units(tmp),
        }
        extra |= run_info or {}
        write_json(manifest(scenario, [scenario.seed], extra), tmp / "manifest.json")
    return folder


def posterior_frame(result: ABCResult) -> pd.DataFrame:
    """The posterior's table: the fitted columns, the :data:`TIED` ones, then ``weight``."""
    frame = result.frame()
    fitted = {name: frame[name].to_numpy() for name in result.names}
    tied = {k: v for k, v in with_tied(fitted).items() if k not in fitted}
    weight = frame.pop("weight")
    return frame.assign(**tied, weight=weight)


def history_only(names) -> list[str]:
    """The history-only names among ``names`` (those with the ``history:`` prefix)."""
    return [n for n in names if n.startswith(HISTORY_PREFIX)]


def install(folder: Path, destination: Path | None = None) -> Path:
    """Replace the shipped posterior (``data/posterior``) with a calibration's, atomically."""
    destination = Path(destination or INSTALL_DIR)
    with atomic_folder(destination) as tmp:
        for name in ("posterior.parquet", "manifest.json"):
            shutil.copyfile(folder / name, tmp / name)
    return destination


GROUPS = {"trade shares": ("trade_share",), "trade in USD": ("trade_usd_bn",),
          "remittances": ("remittances_gdp", "remittances_usd_bn"),
          "approval": ("leadership_approval",)}
"""Parts of the distance the screening reports separately."""


def screen(scenario: Scenario, observed: pd.DataFrame, cutoff: int = 2019,
           candidates: dict[str, Uniform] | None = None, trajectories: int = 100,
           levels: int = 4, seed: int = 0) -> pd.DataFrame:
    """Morris screening: how much each candidate parameter moves the distance to the data.

    A Morris design (SALib) over the candidates' prior ranges, every run with the same seed
    (common random numbers), outputs: the whole distance and its part per :data:`GROUPS`.

    Returns:
        Rows (output, parameter) with mu, mu_star, mu_star_conf and sigma, sorted by the
        whole distance's mu_star.
    """
    from SALib.sample import morris as morris_sample

    candidates = dict(CANDIDATES if candidates is None else candidates)
    targets = select_targets(observed, scenario, cutoff)
    structure, params = compile_scenario(scenario)
    prior = prior_of(candidates, params)
    problem = {"num_vars": prior.dim, "names": list(prior.names),
               "bounds": [[d.low, d.high] for d in candidates.values()]}
    X = morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    simulator = HistorySimulator(structure, params, prior.names, targets, scenario.start)
    errors = simulator(X, np.full(len(X), scenario.seed)) - np.log(targets.values)
    outputs = {"distance": np.sqrt(np.mean(errors**2, axis=1))}
    for group, names in GROUPS.items():
        cells = targets.table["observable"].isin(names).to_numpy()
        if cells.any():
            outputs[f"distance: {group}"] = np.sqrt(np.mean(errors[:, cells] ** 2, axis=1))
    table = morris_table(problem, X, outputs, levels=levels, seed=seed)
    order = (table[table["output"] == "distance"].set_index("parameter")["mu_star"]
             .sort_values(ascending=False).index)
    rank = {p: i for i, p in enumerate(order)}
    return table.sort_values(["output", "parameter"], key=lambda c: c.map(rank)
                             if c.name == "parameter" else c).reset_index(drop=True)
