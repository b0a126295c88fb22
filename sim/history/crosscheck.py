"""Cross-check the ABC posterior by an independent method: neural posterior estimation (sbi).

The ABC-SMC of :mod:`sim.history.calibrate` is the project's own code; this module fits the
same problem with a maintained library, sbi's NPE (SNPE-C, Greenberg, Nonnenmacher and Macke
2019, with a masked autoregressive flow), and compares the two posteriors. Same problem means:

- the calibration's own prior (:data:`sim.history.calibrate.PARAMETERS`, uniform bounds);
- its own simulator (:class:`sim.history.calibrate.HistorySimulator`: the history scenario
  compiled once, each batch's values written by ``with_values``, simulated to the cut-off,
  the yearly observables of every run at once), run in chunks on the batch runner;
- its own summaries: the log observables at the observed cells (2015 to the cut-off);
- a likelihood matching what the ABC accepts: each simulated log summary gets independent
  normal noise of sd equal to the ABC's final tolerance (an RMS log error, read from the ABC
  posterior's manifest), so the record is a plausible draw for the network and the noise the
  network learns is the misfit the ABC tolerates; for a noisy-ABC fit, the fit's own
  observation noise (:attr:`ABCPosterior.noise_sd`).

The network is trained on prior draws the engine simulates, conditioned on the record and
sampled; per parameter the comparison gives both medians, both 90% intervals, their width
ratio and whether each median lies inside the other method's interval. Simulation-based
calibration (Talts et al. 2018; sbi's ``run_sbc``) at held-out prior draws gives each
parameter's coverage of the NPE's 90% interval and a Kolmogorov-Smirnov p-value of its ranks.

torch and sbi are optional (the ``crosscheck`` extra) and imported inside the functions that
need them. Training is single-threaded, deterministic and seeded, so the same inputs and seed
give byte-identical tables for any number of simulation workers. docs/CALIBRATION.md,
"Cross-check: neural posterior estimation", has the method and the measured table.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import io
import json
import logging
import math
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.batch import chunk_slices
from sim.engine.params import compile_scenario
from sim.errors import SimError
from sim.history.abc import MapChunks, Prior, Uniform, in_process, weighted_quantiles
from sim.history.calibrate import (
    CHUNK_SIZE,
    MAX_OBSERVATION_NOISE,
    PARAMETERS,
    HistorySimulator,
    Targets,
    prior_of,
    select_targets,
    valid_observation_noise,
)
from sim.history.hindcast import SHIPPED_POSTERIORS
from sim.outputs.folders import atomic_folder, inside, manifest, write_csv, write_json
from sim.scenario import Scenario

INSTALL_HINT = "pip install torch==2.13.0 && pip install -e '.[crosscheck]'"
"""How to install the optional libraries (the CPU build of torch first, from its pin)."""

DEFAULT_SIMULATIONS = 30_000
"""Prior draws simulated to train the network (docs/CALIBRATION.md measures what is enough)."""

DEFAULT_SBC = 300
"""Held-out prior draws for simulation-based calibration."""

DEFAULT_SAMPLES = 10_000
"""NPE posterior samples at the record."""

SBC_SAMPLES = 1000
"""NPE posterior samples per held-out draw (the ranks run from 0 to this)."""

NETWORK = {"model": "maf", "hidden_features": 50, "num_transforms": 5}
"""The density estimator: sbi's masked autoregressive flow, its default size."""

TRAINING = {"training_batch_size": 200, "learning_rate": 5e-4, "validation_fraction": 0.1,
            "stop_after_epochs": 20, "max_num_epochs": 1000}
"""sbi's training settings: its defaults, with a bound on the epochs."""

LEVEL = 0.90
"""The credible level compared (central intervals, 5th to 95th percentile)."""

STREAMS = {"training": 0, "sbc": 1, "recovery": 2}
"""Spawn keys of the numpy streams drawing parameters, seeds and noise for each use."""


class CrossCheckError(SimError):
    """A cross-check that cannot run: a missing library, an ABC posterior of another problem."""


# --------------------------------------------------------------------------------------------
# The ABC posterior to compare with, and the refusal of another problem's
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ABCPosterior:
    """A posterior written by ``sim calibrate`` and what its manifest says of it.

    Attributes:
        path: Its ``posterior.parquet``.
        names: The fitted columns, in the cross-check's order.
        particles: Their values (n, d).
        weights: The particles' normalised weights (n,).
        epsilon: The ABC's final tolerance (an RMS log error).
        cutoff: The last year it was fitted on.
        sha256: The SHA-256 of ``posterior.parquet``.
        observation_noise: The noise a noisy-ABC fit added to its simulations
            (``calibration.observation_noise_sd``), or None for a plain fit.
    """

    path: Path
    names: tuple[str, ...]
    particles: np.ndarray
    weights: np.ndarray
    epsilon: float
    cutoff: int
    sha256: str
    observation_noise: float | None = None

    @property
    def noise_sd(self) -> float:
        """The noise the cross-check adds to its simulations: the problem the ABC solved.

        A noisy-ABC fit's own observation noise; for a plain fit, its final tolerance (the
        RMS log error it accepted), so the record is a plausible draw for the network.
        """
        return self.epsilon if self.observation_noise is None else self.observation_noise

    def quantile(self, q: list[float]) -> np.ndarray:
        """Weighted quantiles, shape (len(q), d)."""
        return weighted_quantiles(self.particles, self.weights, q)


def default_posterior(cutoff: int) -> Path:
    """The shipped posterior fitted through ``cutoff`` (``data/posterior`` for 2019).

    Raises:
        CrossCheckError: No shipped posterior for that cut-off.
    """
    if cutoff not in SHIPPED_POSTERIORS:
        raise CrossCheckError(
            f"--cutoff {cutoff}: no shipped posterior is fitted through it (shipped: "
            f"{', '.join(map(str, sorted(SHIPPED_POSTERIORS)))}); give --posterior DIR, a "
            f"folder written by `sim calibrate --cutoff {cutoff}`")
    return SHIPPED_POSTERIORS[cutoff].parent


def load_abc_posterior(folder: str | Path, cutoff: int,
                       parameters: dict[str, Uniform] | None = None) -> ABCPosterior:
    """Read an ABC posterior, refusing one fitted to another prior or another cut-off.

    Args:
        folder: A folder holding ``posterior.parquet`` and its ``manifest.json`` (a ``sim
            calibrate`` folder or ``data/posterior``), or the parquet file itself.
        cutoff: The cross-check's cut-off.
        parameters: The cross-check's prior (default :data:`PARAMETERS`).

    Raises:
        CrossCheckError: A missing file, a manifest without the calibration's fields, priors
            or a cut-off that differ from the cross-check's, or columns that are missing.
    """
    parameters = dict(PARAMETERS if parameters is None else parameters)
    folder = Path(folder)
    if folder.suffix == ".parquet":
        folder = folder.parent
    table_path, manifest_path = folder / "posterior.parquet", folder / "manifest.json"
    for path in (table_path, manifest_path):
        if not path.is_file():
            raise CrossCheckError(f"--posterior {folder}: {path} does not exist; give a folder "
                                  "written by `sim calibrate` (posterior.parquet and its "
                                  "manifest.json), such as data/posterior")
    try:
        info = json.loads(manifest_path.read_text(encoding="utf-8"))
        calibration = info["calibration"]
        priors, fitted_cutoff = calibration["priors"], calibration["cutoff"]
        epsilon = float(info["final_epsilon"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CrossCheckError(f"{manifest_path}: not the manifest of a calibration (it lacks "
                              f"calibration.priors, calibration.cutoff or final_epsilon: "
                              f"{exc}); give a folder written by `sim calibrate`") from None
    expected = {name: [d.low, d.high] for name, d in parameters.items()}
    for name in sorted(set(expected) | set(priors)):
        if name not in priors:
            raise CrossCheckError(
                f"{manifest_path}: field calibration.priors has no {name}: the ABC fitted "
                f"other parameters than the cross-check's prior {sorted(expected)}; "
                "cross-check a posterior fitted with the calibration's own prior")
        if name not in expected:
            raise CrossCheckError(
                f"{manifest_path}: field calibration.priors.{name} is not in the cross-check's "
                f"prior (allowed: {', '.join(sorted(expected))}); cross-check a posterior "
                "fitted with the calibration's own prior")
        got = [float(v) for v in priors[name]]
        if got != expected[name]:
            raise CrossCheckError(
                f"{manifest_path}: field calibration.priors.{name} is {got}, the cross-check's "
                f"prior is U{tuple(expected[name])}: the two methods would fit different "
                "problems; cross-check a posterior fitted with the calibration's own prior")
    if fitted_cutoff != cutoff:
        raise CrossCheckError(
            f"{manifest_path}: field calibration.cutoff is {fitted_cutoff}, the cross-check's "
            f"--cutoff is {cutoff}: the two methods would fit different observations; give "
            f"--cutoff {fitted_cutoff} or a posterior fitted through {cutoff}")
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise CrossCheckError(f"{manifest_path}: field final_epsilon is {epsilon}; the noise "
                              "of the cross-check is set from it: it must be a number above 0")
    noise = calibration.get("observation_noise_sd")
    if noise is not None and not (valid_observation_noise(noise) and noise > 0):
        raise CrossCheckError(f"{manifest_path}: field calibration.observation_noise_sd is "
                              f"{noise!r}; the noise of the cross-check is set from it: it "
                              f"must be a number above 0 and at most {MAX_OBSERVATION_NOISE:g}")
    table = pd.read_parquet(table_path)
    missing = [c for c in [*parameters, "weight"] if c not in table.columns]
    if missing:
        raise CrossCheckError(f"{table_path}: columns {', '.join(missing)} are missing; give "
                              "a posterior written by `sim calibrate`")
    weights = table["weight"].to_numpy(dtype=float)
    return ABCPosterior(
        path=table_path, names=tuple(parameters),
        particles=table[list(parameters)].to_numpy(dtype=float),
        weights=weights / weights.sum(), epsilon=epsilon, cutoff=int(fitted_cutoff),
        sha256=hashlib.sha256(table_path.read_bytes()).hexdigest(),
        observation_noise=None if noise is None else float(noise))


def require_sbi() -> None:
    """Refuse to start without torch and sbi (the ``crosscheck`` extra).

    Raises:
        CrossCheckError: One of them is not installed.
    """
    missing = [name for name in ("torch", "sbi") if importlib.util.find_spec(name) is None]
    if missing:
        raise CrossCheckError(f"the cross-check needs {' and '.join(missing)}, not installed; "
                              f"install the optional libraries with `{INSTALL_HINT}`")


# --------------------------------------------------------------------------------------------
# Simulations: the calibration's simulator, prior and summaries, plus the matching noise
# --------------------------------------------------------------------------------------------


def _run_chunk(simulator: HistorySimulator, chunk: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    theta, seeds = chunk
    return simulator(theta, seeds)


@dataclass(frozen=True)
class Problem:
    """The calibration problem as the cross-check sees it.

    Attributes:
        prior: The calibration's prior.
        simulator: Its simulator (log observables at the targets).
        targets: The observed cells.
        noise_sd: The sd of the normal noise added to each log summary.
    """

    prior: Prior
    simulator: HistorySimulator
    targets: Targets
    noise_sd: float

    @property
    def observed(self) -> np.ndarray:
        """The record's log summaries (k,)."""
        return np.log(self.targets.values)

    def simulate(self, n: int, seed: int, stream: str, map_chunks: MapChunks | None = None,
                 theta: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Simulate ``n`` prior draws (or the given ``theta``) with noise: theta (n, d), x (n, k).

        Parameters, engine seeds and noise come from the numpy stream ``STREAMS[stream]`` of
        ``seed``, drawn before the batch is cut into chunks, so the result does not depend on
        the chunks or the workers. Runs that diverged have NaN rows in x.
        """
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STREAMS[stream],)))
        theta = (self.prior.sample(rng, n) if theta is None
                 else np.atleast_2d(np.asarray(theta, dtype=float)))
        n = len(theta)
        seeds = rng.integers(0, 2**63 - 1, size=n, dtype=np.int64)
        noise = rng.standard_normal((n, len(self.targets.values))) * self.noise_sd
        chunks = [(theta[part], seeds[part]) for part in chunk_slices(n, CHUNK_SIZE)]
        parts = (map_chunks or in_process)(functools.partial(_run_chunk, self.simulator), chunks)
        return theta, np.concatenate(parts) + noise


def problem_of(scenario: Scenario, observed: pd.DataFrame, cutoff: int, noise_sd: float,
               parameters: dict[str, Uniform] | None = None) -> Problem:
    """The calibration's prior, simulator and targets for ``scenario`` up to ``cutoff``."""
    parameters = dict(PARAMETERS if parameters is None else parameters)
    targets = select_targets(observed, scenario, cutoff)
    structure, params = compile_scenario(scenario)
    prior = prior_of(parameters, params)
    simulator = HistorySimulator(structure, params, prior.names, targets, scenario.start)
    return Problem(prior=prior, simulator=simulator, targets=targets, noise_sd=noise_sd)


# --------------------------------------------------------------------------------------------
# The network: train, sample, calibrate (torch and sbi imported here only)
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _torch_quiet(seed: int) -> Iterator[Any]:
    """Seed torch, make it deterministic and single-threaded, and silence sbi and torch."""
    import torch

    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    loggers = [logging.getLogger(name) for name in ("sbi", "torch")]
    levels = [logger.level for logger in loggers]
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            for logger in loggers:
                logger.setLevel(logging.ERROR)
            yield torch
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


class NoTracker:
    """sbi's training tracker, doing nothing.

    By default sbi writes TensorBoard logs into ``./sbi-logs`` of the working folder, and a
    command writes only its results folder.
    """

    log_dir = None

    def log_metric(self, name: str, value: float, step: int | None = None) -> None:
        """Drop a metric."""

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        """Drop metrics."""

    def log_params(self, params: dict[str, Any]) -> None:
        """Drop parameters."""

    def add_figure(self, name: str, figure: Any, step: int | None = None) -> None:
        """Drop a figure."""

    def flush(self) -> None:
        """Nothing to flush."""


@dataclass
class Network:
    """A trained NPE posterior, the map to its unbounded space, and how its training went.

    The network works on ``logit((theta - low) / (high - low))`` per parameter, where the
    uniform prior becomes an independent standard logistic: the flow's samples never leave the
    prior's support, so none is rejected (sbi's rejection of samples outside a box prior can
    take minutes for a network still learning). Ranks, hence the calibration check, are the
    same in either space (the map is increasing).

    Attributes:
        posterior: sbi's ``DirectPosterior`` over the unbounded parameters.
        low: The prior's lower bounds (d,).
        high: Its upper bounds (d,).
        epochs: Epochs trained (early stopping on the validation loss).
        validation_loss: The best validation loss (negative log density per draw).
        used: Training draws used (those whose runs did not diverge).
        seconds: Training time.
    """

    posterior: Any
    low: np.ndarray
    high: np.ndarray
    epochs: int
    validation_loss: float
    used: int
    seconds: float

    def free(self, theta: np.ndarray) -> np.ndarray:
        """Parameters (n, d) in the network's unbounded space."""
        share = np.clip((theta - self.low) / (self.high - self.low), 1e-7, 1 - 1e-7)
        return np.log(share) - np.log1p(-share)

    def bounded(self, free: np.ndarray) -> np.ndarray:
        """Unbounded values (n, d) back to parameters."""
        return self.low + (self.high - self.low) / (1.0 + np.exp(-free))


def train(prior: Prior, theta: np.ndarray, x: np.ndarray, seed: int) -> Network:
    """Train sbi's NPE (SNPE-C, a masked autoregressive flow) on simulated pairs.

    Rows of ``x`` with a non-finite value (a run that diverged) are left out.
    """
    keep = np.isfinite(x).all(axis=1)
    began = time.perf_counter()
    with _torch_quiet(seed) as torch:
        from sbi.inference import NPE
        from sbi.neural_nets import posterior_nn
        from torch.distributions import (
            Independent,
            SigmoidTransform,
            TransformedDistribution,
        )
        from torch.distributions import Uniform as TorchUniform

        d = prior.dim
        logistic = Independent(TransformedDistribution(
            TorchUniform(torch.zeros(d), torch.ones(d)), [SigmoidTransform().inv]), 1)
        network = Network(posterior=None, low=prior.bounds[:, 0], high=prior.bounds[:, 1],
                          epochs=0, validation_loss=math.nan, used=int(keep.sum()),
                          seconds=0.0)
        settings = {k: v for k, v in NETWORK.items() if k != "model"}
        inference = NPE(prior=logistic,
                        density_estimator=posterior_nn(NETWORK["model"], **settings),
                        show_progress_bars=False, tracker=NoTracker())
        inference.append_simulations(
            torch.tensor(network.free(theta[keep]), dtype=torch.float32),
            torch.tensor(x[keep], dtype=torch.float32))
        inference.train(**TRAINING, show_train_summary=False)
        network.posterior = inference.build_posterior()
        summary = inference.summary
    network.epochs = int(summary["epochs_trained"][-1])
    network.validation_loss = float(summary["best_validation_loss"][-1])
    network.seconds = time.perf_counter() - began
    return network


def sample(network: Network, x: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` NPE posterior samples at one observation ``x`` (k,), shape (n, d)."""
    with _torch_quiet(seed) as torch:
        out = network.posterior.sample((n,), x=torch.tensor(x, dtype=torch.float32),
                                       show_progress_bars=False)
    return network.bounded(out.numpy().astype(float))


def covered(ranks: np.ndarray, n_samples: int, level: float = LEVEL) -> np.ndarray:
    """Whether each truth lies in the central ``level`` interval, from its rank among samples.

    A rank r counts the posterior samples below the truth; the truth is inside the interval
    from the (1 - level) / 2 to the (1 + level) / 2 quantile of the samples when r lies between
    those fractions of ``n_samples``.
    """
    tail = (1.0 - level) / 2.0
    return (ranks >= tail * n_samples) & (ranks < (1.0 - tail) * n_samples)


def calibration_check(network: Network, names: tuple[str, ...], theta: np.ndarray,
                      x: np.ndarray, seed: int, n_samples: int = SBC_SAMPLES) -> pd.DataFrame:
    """Simulation-based calibration at held-out prior draws (sbi's ``run_sbc``).

    Returns:
        One row per parameter: draws, the coverage of the 90% interval (the share of draws
        whose truth lies inside it), the mean normalised rank (0.5 when calibrated) and the
        Kolmogorov-Smirnov p-value of the ranks against the uniform (sbi's
        ``check_uniformity_frequentist``).
    """
    keep = np.isfinite(x).all(axis=1)
    with _torch_quiet(seed) as torch:
        from sbi.diagnostics import run_sbc
        from sbi.diagnostics.sbc import check_uniformity_frequentist

        thetas = torch.tensor(network.free(theta[keep]), dtype=torch.float32)
        ranks, _ = run_sbc(thetas, torch.tensor(x[keep], dtype=torch.float32),
                           network.posterior, num_posterior_samples=n_samples,
                           show_progress_bar=False)
        ks = check_uniformity_frequentist(ranks, n_samples).numpy().astype(float)
    ranks = ranks.numpy().astype(float)
    inside_ = covered(ranks, n_samples)
    return pd.DataFrame({
        "parameter": list(names), "draws": int(keep.sum()),
        "coverage_90": inside_.mean(axis=0), "mean_rank": ranks.mean(axis=0) / n_samples,
        "ks_pvalue": ks,
    })


# --------------------------------------------------------------------------------------------
# The comparison
# --------------------------------------------------------------------------------------------


def compare(names: tuple[str, ...], bounds: np.ndarray, npe: np.ndarray,
            abc: ABCPosterior) -> pd.DataFrame:
    """Both posteriors side by side, one row per parameter.

    Args:
        names: Parameter names.
        bounds: The prior's bounds (d, 2).
        npe: NPE posterior samples (n, d), equally weighted.
        abc: The ABC posterior (weighted particles).

    Returns:
        Per parameter: prior bounds; each method's median and 5th and 95th percentiles; each
        90% width as a share of the prior's; the width ratio NPE / ABC; whether the NPE
        median lies in the ABC interval and the ABC median in the NPE interval.
    """
    qs = [0.05, 0.5, 0.95]
    a = abc.quantile(qs)
    n = weighted_quantiles(npe, np.full(len(npe), 1.0 / len(npe)), qs)
    prior_width = bounds[:, 1] - bounds[:, 0]
    abc_width, npe_width = a[2] - a[0], n[2] - n[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = npe_width / abc_width
    return pd.DataFrame({
        "parameter": list(names), "prior_low": bounds[:, 0], "prior_high": bounds[:, 1],
        "abc_median": a[1], "abc_p5": a[0], "abc_p95": a[2],
        "npe_median": n[1], "npe_p5": n[0], "npe_p95": n[2],
        "abc_width_share": abc_width / prior_width, "npe_width_share": npe_width / prior_width,
        "width_ratio": ratio,
        "npe_median_in_abc": (n[1] >= a[0]) & (n[1] <= a[2]),
        "abc_median_in_npe": (a[1] >= n[0]) & (a[1] <= n[2]),
    })


# --------------------------------------------------------------------------------------------
# The whole cross-check
# --------------------------------------------------------------------------------------------


@dataclass
class CrossCheck:
    """What :func:`crosscheck` computed.

    Attributes:
        comparison: :func:`compare`'s table.
        sbc: :func:`calibration_check`'s table.
        network: The trained network.
        problem: The problem it was trained on.
        abc: The ABC posterior compared with.
        settings: The settings, as recorded in the manifest.
        simulated: Runs simulated (training and held-out).
        diverged: Of those, runs that diverged (left out).
        seconds: Wall time, by stage (simulate, train, sample, sbc).
    """

    comparison: pd.DataFrame
    sbc: pd.DataFrame
    network: Network
    problem: Problem
    abc: ABCPosterior
    settings: dict[str, Any]
    simulated: int
    diverged: int
    seconds: dict[str, float]


def check_settings(simulations: int, sbc: int, samples: int) -> None:
    """Refuse sizes that cannot give a cross-check.

    Raises:
        CrossCheckError: Too few training draws, held-out draws or samples, or too many.
    """
    for option, value, least, most in (("--simulations", simulations, 500, 1_000_000),
                                       ("--sbc", sbc, 20, 10_000),
                                       ("--samples", samples, 100, 1_000_000)):
        if not least <= value <= most:
            raise CrossCheckError(f"{option} {value}: give a whole number from {least:,} to "
                                  f"{most:,}")


def crosscheck(scenario: Scenario, observed: pd.DataFrame, abc: ABCPosterior, *,
               simulations: int = DEFAULT_SIMULATIONS, sbc: int = DEFAULT_SBC,
               samples: int = DEFAULT_SAMPLES, seed: int = 0,
               map_chunks: MapChunks | None = None,
               on_stage: Callable[[str], None] | None = None) -> CrossCheck:
    """Fit the calibration problem by NPE and compare with the ABC posterior ``abc``.

    Args:
        scenario: The history scenario.
        observed: :func:`sim.history.observed.load_observed`'s table.
        abc: The ABC posterior (:func:`load_abc_posterior`; its cut-off is the cross-check's,
            its final tolerance the noise's sd).
        simulations: Prior draws simulated for training.
        sbc: Held-out prior draws for the calibration check.
        samples: NPE posterior samples at the record.
        seed: The seed of every draw, the network's initial weights and its training.
        map_chunks: Where simulation chunks run (default in-process; see
            :func:`sim.history.abc.batch_map`).
        on_stage: Called with a line as each stage begins (progress).

    Returns:
        The comparison, the calibration check and what was done.
    """
    require_sbi()
    check_settings(simulations, sbc, samples)
    say = on_stage or (lambda line: None)
    problem = problem_of(scenario, observed, abc.cutoff, abc.noise_sd)
    seconds: dict[str, float] = {}
    began = time.perf_counter()
    say(f"simulating {simulations:,} prior draws and {sbc:,} held-out ones")
    theta, x = problem.simulate(simulations, seed, "training", map_chunks)
    held_theta, held_x = problem.simulate(sbc, seed, "sbc", map_chunks)
    seconds["simulate"] = time.perf_counter() - began
    say(f"training the network on {simulations:,} draws")
    network = train(problem.prior, theta, x, seed)
    seconds["train"] = network.seconds
    began = time.perf_counter()
    npe = sample(network, problem.observed, samples, seed)
    comparison = compare(problem.prior.names, problem.prior.bounds, npe, abc)
    seconds["sample"] = time.perf_counter() - began
    say(f"simulation-based calibration at {sbc:,} held-out draws")
    began = time.perf_counter()
    table = calibration_check(network, problem.prior.names, held_theta, held_x, seed)
    seconds["sbc"] = time.perf_counter() - began
    diverged = int((~np.isfinite(x).all(axis=1)).sum() + (~np.isfinite(held_x).all(axis=1)).sum())
    settings = {
        "seed": seed, "cutoff": abc.cutoff, "simulations": simulations, "sbc": sbc,
        "samples": samples, "sbc_samples": SBC_SAMPLES, "noise_sd": abc.noise_sd,
        "noise": ("normal on each log summary, sd = the ABC's final tolerance (RMS log error)"
                  if abc.observation_noise is None else
                  "normal on each log summary, sd = the noisy-ABC fit's observation noise"),
        "network": dict(NETWORK), "training": dict(TRAINING), "method": "sbi NPE (SNPE-C)",
        "priors": {n: [float(lo), float(hi)] for n, (lo, hi)
                   in zip(problem.prior.names, problem.prior.bounds, strict=True)},
        "summaries": len(problem.observed),
        "abc_posterior_sha256": abc.sha256,
    }
    return CrossCheck(comparison=comparison, sbc=table, network=network, problem=problem,
                      abc=abc, settings=settings, simulated=simulations + sbc,
                      diverged=diverged, seconds=seconds)


def library_versions() -> dict[str, str]:
    """Versions of torch and sbi, for the manifest."""
    import sbi
    import torch

    return {"torch": torch.__version__, "sbi": sbi.__version__}


def folder_id(scenario: Scenario, observed: pd.DataFrame, settings: dict[str, Any]) -> str:
    """A deterministic folder name: seed, then a hash of the scenario, data and settings."""
    text = json.dumps({"scenario": scenario.digest(),
                       "observed": int(pd.util.hash_pandas_object(observed, index=False).sum()),
                       "settings": settings}, sort_keys=True, default=str)
    return f"s{settings['seed']}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


FILES = ["comparison.csv", "sbc.csv", "manifest.json"]
"""What ``<out>/crosscheck/<id>/`` holds."""


def write_results(check: CrossCheck, scenario: Scenario, out: str | Path = "results",
                  run_info: dict[str, Any] | None = None) -> Path:
    """Write ``<out>/crosscheck/<id>/`` atomically and return it.

    Files: ``comparison.csv`` (:func:`compare`), ``sbc.csv`` (:func:`calibration_check`) and
    ``manifest.json`` (settings, the ABC posterior's path and SHA-256, runs, timings,
    training, library versions).
    """
    folder = inside(Path(out), "crosscheck", folder_id(scenario, check.problem.targets.table,
                                                      check.settings))
    with atomic_folder(folder) as tmp:
        write_csv(check.comparison, tmp / "comparison.csv")
        write_csv(check.sbc, tmp / "sbc.csv")
        extra = {
            "kind": "crosscheck",
            "crosscheck": check.settings,
            "abc_posterior": str(check.abc.path),
            "simulated_runs": check.simulated,
            "diverged_runs": check.diverged,
            "training": {"epochs": check.network.epochs, "draws_used": check.network.used,
                         "best_validation_loss": check.network.validation_loss},
            "seconds": {k: round(v, 3) for k, v in check.seconds.items()},
            "libraries": library_versions(),
            "files": FILES,
        }
        extra |= run_info or {}
        write_json(manifest(scenario, [check.settings["seed"]], extra), tmp / "manifest.json")
    return folder
