"""A batched ABC-SMC: approximate Bayesian computation by sequential Monte Carlo.

Population Monte Carlo ABC (Beaumont, Cornuet, Marin and Robert 2009; Toni, Welch, Strelkowa,
Ipsen and Stumpf 2009; Del Moral, Doucet and Jasra 2012 for the adaptive tolerance), written
to evaluate WHOLE GENERATIONS as batches on a vectorised simulator::

    prior = Prior({"mu": Normal(0.0, 1.0), "sigma": LogNormal(1.0, 0.5)})
    result = abc_smc(simulate, observed, prior, n_particles=1000, seed=7)
    result.mean(), result.quantile([0.05, 0.95]), result.ess

Generation 0 draws from the prior and accepts every candidate whose distance is finite.
Generation t >= 1 sets its tolerance to a quantile of generation t-1's distances, then proposes
candidates in rounds: pick a particle of generation t-1 by weight, move it by a multivariate
normal kernel with twice the weighted covariance of generation t-1 (Beaumont et al. 2009),
drop candidates outside the prior's support (prior density zero: rejected without a
simulation), simulate the rest as one batch, and accept those within the tolerance, until
``n_particles`` are accepted (the first ones in proposal order). Weights are the importance
ratio prior / proposal: ``w_i ~ prior(theta_i) / sum_j w_j K(theta_i | theta_j)``.

Determinism: every random number comes from ``numpy.random.Generator`` streams seeded by
``SeedSequence(seed, spawn_key=(generation, round))``, including the per-candidate seeds handed
to ``simulate``. A round's batch is cut into chunks only to run them (in-process, or on the
batch runner's process pool or Dask cluster, see :func:`batch_map`); provided ``simulate``
computes each row from that row's parameters and seed alone (as the engine's counter-based
random numbers do), the posterior is byte-identical for any chunk size and any number of
workers.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import logsumexp

from sim.batch import Executor, Progress, Task, chunk_slices, run_ordered
from sim.errors import SimError
from sim.uncertainty.distributions import lognormal

Simulate = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``simulate(theta (n, d), seeds (n,) int64) -> summaries (n, k)``; NaN marks a failed run."""

MapChunks = Callable[[Callable[[Any], np.ndarray], list[Any]], list[np.ndarray]]
"""``map_chunks(fn, chunks) -> [fn(chunk) for chunk in chunks]``, in the chunks' order."""


class ABCError(SimError):
    """A calibration that cannot run: a bad prior, bad settings or a simulator's bad output."""


# --------------------------------------------------------------------------------------------
# Priors
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Uniform:
    """A uniform prior on [low, high]."""

    low: float
    high: float

    def problems(self) -> list[str]:
        """Return what is wrong with the settings (empty when they are fine)."""
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            return [f"uniform low {self.low} and high {self.high} must be finite numbers"]
        if not self.low < self.high:
            return [f"uniform low {self.low} must be below high {self.high}"]
        return []

    def frozen(self) -> Any:
        """Return the scipy distribution."""
        return stats.uniform(loc=self.low, scale=self.high - self.low)


@dataclass(frozen=True)
class Normal:
    """A normal prior, truncated to [low, high] when bounds are given."""

    mean: float
    sd: float
    low: float = -math.inf
    high: float = math.inf

    def problems(self) -> list[str]:
        """Return what is wrong with the settings (empty when they are fine)."""
        if not math.isfinite(self.mean):
            return [f"normal mean {self.mean} must be a finite number"]
        if not (math.isfinite(self.sd) and self.sd > 0):
            return [f"normal sd {self.sd} must be a finite number above 0"]
        return []

    def frozen(self) -> Any:
        """Return the scipy distribution (before truncation)."""
        return stats.norm(loc=self.mean, scale=self.sd)


@dataclass(frozen=True)
class LogNormal:
    """A log-normal prior: log(theta) ~ Normal(log(median), sigma); truncated to [low, high].

    The parameters are those of an uncertainty file's ``lognormal`` (docs/WHATIF.md), drawn by
    the same :func:`sim.uncertainty.lognormal`.
    """

    median: float
    sigma: float
    low: float = 0.0
    high: float = math.inf

    def problems(self) -> list[str]:
        """Return what is wrong with the settings (empty when they are fine)."""
        if not (math.isfinite(self.median) and self.median > 0):
            return [f"lognormal median {self.median} must be a finite number above 0"]
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            return [f"lognormal sigma {self.sigma} must be a finite number above 0"]
        return []

    def frozen(self) -> Any:
        """Return the scipy distribution (before truncation)."""
        return lognormal(self.median, self.sigma)


Distribution = Uniform | Normal | LogNormal


class Prior:
    """Independent priors, one per parameter, each possibly truncated to bounds.

    Sampling is by the inverse CDF of the (truncated) distribution, so a draw is a pure
    function of the generator's uniforms. Densities are scipy's, renormalised for truncation.

    Args:
        parameters: Parameter name (e.g. a scenario field path) -> distribution, in order.

    Raises:
        ABCError: An empty prior, a bad distribution or bounds that hold no probability.

    """

    def __init__(self, parameters: Mapping[str, Distribution]):
        problems: list[str] = []
        if not parameters:
            problems.append("the prior has no parameters: give at least one")
        self.names: tuple[str, ...] = tuple(parameters)
        self._dists: list[Any] = []
        self._lows: list[float] = []
        self._highs: list[float] = []
        self._cdf_low: list[float] = []
        self._log_mass: list[float] = []
        for name, spec in parameters.items():
            if not isinstance(spec, Uniform | Normal | LogNormal):
                problems.append(f"{name}: {spec!r} is not a prior; use Uniform, Normal or "
                                "LogNormal")
                continue
            own = spec.problems()
            if own:
                problems.extend(f"{name}: {p}" for p in own)
                continue
            dist = spec.frozen()
            support_low, support_high = dist.support()
            low = max(getattr(spec, "low", -math.inf), support_low)
            high = min(getattr(spec, "high", math.inf), support_high)
            mass = float(dist.cdf(high) - dist.cdf(low)) if low < high else 0.0
            if not mass > 0:
                problems.append(f"{name}: bounds [{low}, {high}] hold no prior probability; "
                                "give low below high, inside the distribution's support")
                continue
            self._dists.append(dist)
            self._lows.append(low)
            self._highs.append(high)
            self._cdf_low.append(float(dist.cdf(low)))
            self._log_mass.append(math.log(mass))
        if problems:
            raise ABCError("invalid prior:\n" + "\n".join(f"  - {p}" for p in problems))

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return len(self.names)

    @property
    def bounds(self) -> np.ndarray:
        """The support of each parameter, shape (d, 2): low, high (possibly infinite)."""
        return np.array([self._lows, self._highs], dtype=float).T

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw n parameter vectors, shape (n, d)."""
        u = rng.random((n, self.dim))
        out = np.empty((n, self.dim))
        for j, dist in enumerate(self._dists):
            mass = math.exp(self._log_mass[j])
            out[:, j] = dist.ppf(self._cdf_low[j] + u[:, j] * mass)
            np.clip(out[:, j], self._lows[j], self._highs[j], out=out[:, j])
        return out

    def logpdf(self, theta: np.ndarray) -> np.ndarray:
        """Log prior density of each row of theta (n, d); -inf outside the bounds."""
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        total = np.zeros(len(theta))
        for j, dist in enumerate(self._dists):
            x = theta[:, j]
            inside = (x >= self._lows[j]) & (x <= self._highs[j])
            with np.errstate(divide="ignore"):
                lp = dist.logpdf(x) - self._log_mass[j]
            total += np.where(inside, lp, -np.inf)
        return total


# --------------------------------------------------------------------------------------------
# Distances and chunk execution
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Euclidean:
    """Euclidean distance between summaries and observations, each summary divided by a scale.

    Observed entries that are NaN (years without an observation) are left out of the sum.
    A simulated summary that is NaN (a failed run) gives an infinite distance.

    Attributes:
        scale: One positive number per summary (e.g. its prior-predictive MAD), or None for 1.

    """

    scale: tuple[float, ...] | None = None

    def __call__(self, summaries: np.ndarray, observed: np.ndarray) -> np.ndarray:
        """Return the distance of each row of summaries (n, k) to observed (k,)."""
        keep = np.isfinite(observed)
        diff = summaries[:, keep] - observed[keep]
        if self.scale is not None:
            diff = diff / np.asarray(self.scale, dtype=float)[keep]
        out = np.sqrt(np.sum(diff * diff, axis=1))
        out[~np.isfinite(out)] = np.inf
        return out


def in_process(fn: Callable[[Any], np.ndarray], chunks: list[Any]) -> list[np.ndarray]:
    """Run every chunk in the calling process, in order (the default ``map_chunks``)."""
    return [fn(chunk) for chunk in chunks]


def batch_map(executor: Executor, progress: Progress | None = None) -> MapChunks:
    """Return a ``map_chunks`` that runs chunks on the batch runner, results in chunk order.

    Each chunk is a task of the ``abc_summaries`` measure (:func:`simulate_chunk`), so Ctrl-C
    and a dead worker end in a plain message (:mod:`sim.batch.driver`).

    Args:
        executor: From :func:`sim.batch.make_executor` (in-process, a local process pool or a
            Dask cluster). ``simulate`` must then be picklable (a module-level function or an
            instance of a module-level class).
        progress: Counts each finished chunk's candidates.

    """

    def map_chunks(fn: Callable[[Any], np.ndarray], chunks: list[Any]) -> list[np.ndarray]:
        tasks = [Task(i, "abc_summaries", (fn, chunk), len(chunk[0]))
                 for i, chunk in enumerate(chunks)]
        return run_ordered(tasks, executor, progress)

    return map_chunks


def simulate_chunk(payload: tuple[Callable[[Any], np.ndarray], Any]) -> np.ndarray:
    """Run ``fn(chunk)`` for a ``(fn, chunk)`` payload: the ``abc_summaries`` measure."""
    fn, chunk = payload
    return fn(chunk)


def _simulate_chunk(simulate: Simulate, chunk: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    theta, seeds = chunk
    return np.asarray(simulate(theta, seeds), dtype=float)


# --------------------------------------------------------------------------------------------
# The algorithm
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Generation:
    """What one generation did.

    Attributes:
        index: 0 for the prior generation.
        epsilon: Its tolerance (inf for generation 0: every finite distance is accepted).
        proposed: Candidates drawn (including those outside the prior's support).
        simulated: Candidates simulated.
        accepted: Simulated candidates within the tolerance (may exceed the population size:
            only the first ``n_particles`` are kept).
        acceptance_rate: accepted / simulated.
        ess: Effective sample size of the kept population, 1 / sum(w^2).

    """

    index: int
    epsilon: float
    proposed: int
    simulated: int
    accepted: int
    acceptance_rate: float
    ess: float


@dataclass
class ABCResult:
    """A weighted posterior sample and how it was reached.

    Attributes:
        names: Parameter names, in column order.
        particles: The last generation's parameters, shape (n, d).
        weights: Their normalised importance weights, shape (n,).
        distances: Their distances to the observations, shape (n,).
        summaries: Their simulated summaries, shape (n, k).
        generations: One :class:`Generation` per completed generation.
        stop_reason: Why it stopped.
        seed: The seed it ran with.

    """

    names: tuple[str, ...]
    particles: np.ndarray
    weights: np.ndarray
    distances: np.ndarray
    summaries: np.ndarray
    generations: list[Generation] = field(default_factory=list)
    stop_reason: str = ""
    seed: int = 0

    @property
    def epsilons(self) -> np.ndarray:
        """Tolerance per generation."""
        return np.array([g.epsilon for g in self.generations])

    @property
    def acceptance_rates(self) -> np.ndarray:
        """Acceptance rate per generation."""
        return np.array([g.acceptance_rate for g in self.generations])

    @property
    def n_simulations(self) -> int:
        """Simulated runs over all generations."""
        return sum(g.simulated for g in self.generations)

    @property
    def ess(self) -> float:
        """Effective sample size of the final population."""
        return float(1.0 / np.sum(self.weights**2))

    def mean(self) -> np.ndarray:
        """Weighted posterior mean per parameter."""
        return self.weights @ self.particles

    def sd(self) -> np.ndarray:
        """Weighted posterior standard deviation per parameter."""
        centred = self.particles - self.mean()
        return np.sqrt(self.weights @ centred**2)

    def quantile(self, q: float | Sequence[float]) -> np.ndarray:
        """Weighted posterior quantiles, shape (len(q), d) (the inverse of the weighted CDF)."""
        return weighted_quantiles(self.particles, self.weights, q)

    def frame(self) -> pd.DataFrame:
        """The posterior as a table: one column per parameter, then ``weight``."""
        table = pd.DataFrame(self.particles, columns=list(self.names))
        table["weight"] = self.weights
        return table

    def diagnostics(self) -> pd.DataFrame:
        """One row per generation: epsilon, proposed, simulated, accepted, rate, ESS."""
        return pd.DataFrame([g.__dict__ for g in self.generations])


def weighted_quantiles(values: np.ndarray, weights: np.ndarray,
                       q: float | Sequence[float]) -> np.ndarray:
    """Weighted quantiles of each column of ``values`` (n, d): shape (len(q), d).

    The inverse of the weighted empirical CDF: the smallest value whose cumulative weight
    reaches q.
    """
    qs = np.atleast_1d(np.asarray(q, dtype=float))
    out = np.empty((len(qs), values.shape[1]))
    for j in range(values.shape[1]):
        order = np.argsort(values[:, j], kind="stable")
        cdf = np.cumsum(weights[order])
        pick = np.searchsorted(cdf, qs * cdf[-1], side="left").clip(0, len(order) - 1)
        out[:, j] = values[order[pick], j]
    return out


def _generator(seed: int, generation: int, round_: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(generation, round_)))


def _weighted_cov(theta: np.ndarray, weights: np.ndarray) -> np.ndarray:
    centred = theta - weights @ theta
    return (centred * weights[:, None]).T @ centred


def _kernel_cholesky(theta: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Cholesky factor of twice the weighted covariance (a tiny ridge if it is singular)."""
    cov = 2.0 * _weighted_cov(theta, weights)
    scale = np.maximum(np.abs(np.diag(cov)), 1e-300)
    for ridge in (0.0, 1e-12, 1e-9, 1e-6):
        try:
            return np.linalg.cholesky(cov + np.diag(ridge * scale))
        except np.linalg.LinAlgError:
            continue
    raise ABCError("the particles have collapsed to a point (their covariance is singular); "
                   "widen the prior or stop at a larger epsilon")


def _log_proposal(theta: np.ndarray, previous: np.ndarray, log_weights: np.ndarray,
                  chol: np.ndarray, block: int = 1024) -> np.ndarray:
    """Return log sum_j w_j K(theta_i | previous_j), up to the kernel's constant (same for all)."""
    inverse = np.linalg.inv(chol)
    moved = previous @ inverse.T
    out = np.empty(len(theta))
    for start in range(0, len(theta), block):
        z = theta[start:start + block] @ inverse.T
        sq = (np.sum(z * z, axis=1)[:, None] + np.sum(moved * moved, axis=1)[None, :]
              - 2.0 * z @ moved.T)
        out[start:start + block] = logsumexp(log_weights[None, :] - 0.5 * np.maximum(sq, 0.0),
                                             axis=1)
    return out


def _check_settings(observed: np.ndarray, n_particles: int, quantile: float,
                    max_generations: int, chunk_size: int | None, min_acceptance: float,
                    max_simulations: int, min_epsilon: float) -> None:
    problems = []
    if observed.ndim != 1 or observed.size == 0:
        problems.append(f"observed must be a non-empty vector of summaries, got shape "
                        f"{observed.shape}")
    elif not np.isfinite(observed).any():
        problems.append("observed holds no finite value: nothing to fit")
    if n_particles < 2:
        problems.append(f"n_particles {n_particles} is too small: give 2 or more")
    if not 0 < quantile < 1:
        problems.append(f"quantile {quantile} must lie strictly between 0 and 1")
    if max_generations < 1:
        problems.append(f"max_generations {max_generations} must be 1 or more")
    if chunk_size is not None and chunk_size < 1:
        problems.append(f"chunk_size {chunk_size} must be 1 or more")
    if not 0 <= min_acceptance < 1:
        problems.append(f"min_acceptance {min_acceptance} must lie in [0, 1)")
    if max_simulations < n_particles:
        problems.append(f"max_simulations {max_simulations} must be at least n_particles "
                        f"{n_particles}")
    if not min_epsilon >= 0:
        problems.append(f"min_epsilon {min_epsilon} must be 0 or more")
    if problems:
        raise ABCError("invalid calibration settings:\n" + "\n".join(f"  - {p}"
                                                                      for p in problems))


def _simulate(simulate: Simulate, theta: np.ndarray, seeds: np.ndarray, k: int,
              chunk_size: int | None, map_chunks: MapChunks) -> np.ndarray:
    """Simulate a batch through map_chunks, chunk by chunk, and check the output's shape."""
    size = chunk_size or max(len(theta), 1)
    chunks = [(theta[part], seeds[part]) for part in chunk_slices(len(theta), size)]
    parts = map_chunks(functools.partial(_simulate_chunk, simulate), chunks)
    if len(parts) != len(chunks):
        raise ABCError(f"map_chunks returned {len(parts)} results for {len(chunks)} chunks")
    for (chunk_theta, _), part in zip(chunks, parts, strict=True):
        if part.shape != (len(chunk_theta), k):
            raise ABCError(f"simulate returned summaries of shape {part.shape} for "
                           f"{len(chunk_theta)} candidates; expected ({len(chunk_theta)}, {k}): "
                           "one row per candidate, one column per observed summary")
    return np.concatenate(parts) if parts else np.empty((0, k))


def abc_smc(
    simulate: Simulate,
    observed: Sequence[float] | np.ndarray,
    prior: Prior,
    *,
    distance: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    n_particles: int = 1000,
    seed: int = 0,
    quantile: float = 0.5,
    max_generations: int = 10,
    min_epsilon: float = 0.0,
    min_acceptance: float = 0.01,
    max_simulations: int = 1_000_000,
    max_batch: int | None = None,
    chunk_size: int | None = None,
    map_chunks: MapChunks | None = None,
    on_generation: Callable[[Generation], None] | None = None,
) -> ABCResult:
    """Fit the prior's parameters to the observed summaries by ABC-SMC.

    Args:
        simulate: Vectorised simulator, ``(theta (n, d), seeds (n,)) -> summaries (n, k)``;
            row i must depend on ``theta[i]`` and ``seeds[i]`` only. NaN marks a failed run.
        observed: The observed summaries (k,); NaN entries are left out of the distance.
        prior: The prior (:class:`Prior`).
        distance: ``(summaries (n, k), observed (k,)) -> (n,)``; default :class:`Euclidean`.
        n_particles: Population size.
        seed: The seed; the result is a pure function of it and the inputs.
        quantile: Each tolerance is this quantile of the previous generation's distances.
        max_generations: Stop after this many generations (generation 0 included).
        min_epsilon: Stop once a generation's tolerance is at or below this.
        min_acceptance: Stop once a generation's acceptance rate is below this.
        max_simulations: Budget of simulated runs; a generation that would exceed it is
            abandoned and the previous one returned.
        max_batch: Most candidates proposed in one round (default 20 x n_particles).
        chunk_size: Candidates per chunk handed to ``map_chunks`` (default: the whole round).
        map_chunks: Where chunks run (default :func:`in_process`; see :func:`batch_map`).
        on_generation: Called with each completed :class:`Generation` (progress, logging).

    Returns:
        The final population, its weights and the per-generation diagnostics.

    Raises:
        ABCError: Bad settings, a simulator returning the wrong shape, or a prior from which
            no candidate gives a finite distance within the budget.

    """
    obs = np.asarray(observed, dtype=float)
    _check_settings(obs, n_particles, quantile, max_generations, chunk_size, min_acceptance,
                    max_simulations, min_epsilon)
    distance = distance or Euclidean()
    map_chunks = map_chunks or in_process
    max_batch = max_batch or 20 * n_particles
    k = obs.size

    result: ABCResult | None = None
    used = 0
    previous_rate = 1.0
    for t in range(max_generations):
        epsilon = math.inf if result is None else float(np.quantile(result.distances, quantile))
        if result is not None:
            chol = _kernel_cholesky(result.particles, result.weights)
            log_prev = np.log(result.weights)
        kept_theta: list[np.ndarray] = []
        kept_dist: list[np.ndarray] = []
        kept_summ: list[np.ndarray] = []
        n_kept = proposed = simulated = accepted = 0
        # First round: guess the previous generation's rate (the kernel adapts, so the rate
        # falls by less than the quantile); later rounds use the rate measured so far.
        rate = previous_rate
        round_ = 0
        while n_kept < n_particles:
            room = max_simulations - used - simulated
            if room <= 0:
                break
            if proposed > 100 * max(max_simulations, n_particles):
                raise ABCError(f"generation {t}: {proposed} candidates proposed, too few inside "
                               "the prior's bounds; check the bounds")
            need = n_particles - n_kept
            batch = int(min(max_batch, max(need, math.ceil(1.1 * need / max(rate, 1e-3)))))
            rng = _generator(seed, t, round_)
            if result is None:
                theta = prior.sample(rng, batch)
            else:
                pick = rng.choice(n_particles, size=batch, p=result.weights)
                theta = result.particles[pick] + rng.standard_normal((batch, prior.dim)) @ chol.T
            seeds = rng.integers(0, 2**63 - 1, size=batch, dtype=np.int64)
            inside = np.isfinite(prior.logpdf(theta))
            theta, seeds = theta[inside][:room], seeds[inside][:room]
            summaries = _simulate(simulate, theta, seeds, k, chunk_size, map_chunks)
            dist = np.asarray(distance(summaries, obs), dtype=float)
            dist = np.where(np.isnan(dist), np.inf, dist)
            ok = np.isfinite(dist) & (dist <= epsilon)
            proposed += batch
            simulated += len(theta)
            accepted += int(ok.sum())
            take = np.flatnonzero(ok)[:need]
            kept_theta.append(theta[take])
            kept_dist.append(dist[take])
            kept_summ.append(summaries[take])
            n_kept += len(take)
            if simulated:
                rate = max(accepted / simulated, min_acceptance / 10)
            round_ += 1
        if n_kept < n_particles:
            if result is None:
                raise ABCError(
                    f"only {n_kept} of {n_particles} prior draws gave a finite distance within "
                    f"the budget of {max_simulations} simulations; check the simulator or "
                    "the prior's bounds")
            result.stop_reason = (f"budget: generation {t} would exceed the budget of "
                                  f"{max_simulations:,} simulated runs")
            return result
        used += simulated
        theta = np.concatenate(kept_theta)
        if result is None:
            weights = np.full(n_particles, 1.0 / n_particles)
        else:
            log_w = prior.logpdf(theta) - _log_proposal(theta, result.particles, log_prev, chol)
            weights = np.exp(log_w - logsumexp(log_w))
        previous_rate = accepted / simulated
        generation = Generation(
            index=t, epsilon=epsilon, proposed=proposed, simulated=simulated, accepted=accepted,
            acceptance_rate=previous_rate, ess=float(1.0 / np.sum(weights**2)),
        )
        history = [] if result is None else result.generations
        result = ABCResult(
            names=prior.names, particles=theta, weights=weights,
            distances=np.concatenate(kept_dist), summaries=np.concatenate(kept_summ),
            generations=[*history, generation], seed=seed,
        )
        if on_generation is not None:
            on_generation(generation)
        if epsilon <= min_epsilon:
            result.stop_reason = f"epsilon {epsilon:.6g} reached min_epsilon {min_epsilon}"
            break
        if previous_rate < min_acceptance:
            result.stop_reason = (f"acceptance rate {previous_rate:.4g} fell below "
                                  f"min_acceptance {min_acceptance}")
            break
        if used >= max_simulations:
            result.stop_reason = (f"budget: {used:,} simulated runs reached the budget of "
                                  f"{max_simulations:,}")
            break
    else:
        result.stop_reason = f"max_generations {max_generations} reached"
    assert result is not None
    return result
