"""The batched ABC-SMC (sim/history/abc.py): an analytic posterior, recovery, determinism, errors.

The toy simulators draw their noise from the engine's counter-based generator
(sim.engine.random), so row i depends on (theta[i], seeds[i]) alone, as the model's does.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.batch.executors import LocalPool
from sim.engine.random import normal
from sim.history.abc import (
    ABCError,
    Euclidean,
    LogNormal,
    Normal,
    Prior,
    Uniform,
    abc_smc,
    batch_map,
)

# (a) A normal mean with known variance and a conjugate normal prior.
N_OBS, SIGMA = 20, 1.0
SE = SIGMA / math.sqrt(N_OBS)  # sd of the sample mean: the sufficient statistic
PRIOR_MEAN, PRIOR_SD = 0.0, 1.0
XBAR = 0.8


def sample_mean(theta: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The sample mean of N_OBS draws from N(theta, SIGMA^2): N(theta, SE^2) exactly."""
    return theta[:, :1] + SE * normal(seeds, 0, 1, (1,))


def test_normal_mean_matches_the_conjugate_posterior():
    prior = Prior({"mu": Normal(PRIOR_MEAN, PRIOR_SD)})
    result = abc_smc(sample_mean, [XBAR], prior, n_particles=2000, seed=11,
                     min_epsilon=0.02, max_generations=20)
    precision = 1 / PRIOR_SD**2 + N_OBS / SIGMA**2
    exact_mean = (PRIOR_MEAN / PRIOR_SD**2 + N_OBS * XBAR / SIGMA**2) / precision
    exact_sd = math.sqrt(1 / precision)
    # The last tolerance eps <= 0.02 = 0.09 SE widens the likelihood from N(theta, SE^2) to about
    # N(theta, SE^2 + eps^2 / 3): the sd by < 0.2%, the mean by < 0.0002. What is left is Monte
    # Carlo error, which we estimate from the weighted sample itself: the delta-method standard
    # errors of a self-normalised importance-sampling mean and sd (not sd / sqrt(ESS), which
    # understates them: the weights are largest in the tails). Over 16 seeds the errors were
    # within 2.8 of those standard errors; we allow 4 (a broken weight or kernel is off by far
    # more: the prior sd is 4.6 times the posterior's).
    assert result.epsilons[-1] <= 0.02
    assert result.ess > 500
    w, x = result.weights, result.particles[:, 0]
    mean, sd = result.mean()[0], result.sd()[0]
    se_mean = math.sqrt(np.sum(w**2 * (x - mean) ** 2))
    se_sd = math.sqrt(np.sum(w**2 * ((x - mean) ** 2 - sd**2) ** 2)) / (2 * sd)
    assert abs(mean - exact_mean) < 4 * se_mean
    assert abs(sd - exact_sd) < 4 * se_sd + 0.002 * exact_sd
    assert 4 * se_mean < 0.15 * exact_sd  # so the tolerance is tight: within 0.15 posterior sd
    assert result.weights.sum() == pytest.approx(1.0)
    assert np.all(result.distances <= result.epsilons[-1])
    assert np.all(np.diff(result.epsilons[1:]) <= 0)


# (b) Recovery: a level and a growth rate from a noisy series.
TIMES = np.arange(10.0)


def growth(theta: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """A series level * exp(rate * t) with 5% multiplicative noise; summaries: its logs."""
    level, rate = theta[:, :1], theta[:, 1:2]
    noise = 0.05 * normal(seeds, 0, 1, (len(TIMES),))
    return np.log(level) + rate * TIMES[None, :] + noise


@pytest.mark.parametrize("truth, data_seed", [((2.0, 0.08), 101), ((5.0, -0.03), 202)])
def test_recovery_intervals_hold_the_true_values(truth, data_seed):
    prior = Prior({"level": LogNormal(math.exp(0.5), 1.0, high=50.0),
                   "rate": Uniform(-0.2, 0.2)})
    observed = growth(np.array([truth]), np.array([data_seed]))[0]
    result = abc_smc(growth, observed, prior, n_particles=1000, seed=3, max_generations=12,
                     max_simulations=200_000)
    low, high = result.quantile([0.05, 0.95])
    prior_width = np.array([np.diff(np.exp(0.5 + np.array([-1.645, 1.645])))[0], 0.36])
    for j, name in enumerate(prior.names):
        assert low[j] <= truth[j] <= high[j], (name, low[j], high[j])
        assert high[j] - low[j] < 0.2 * prior_width[j], name  # the data taught it something
    assert result.ess > 200


# (c) Determinism.
def test_same_seed_same_posterior_whatever_the_chunking():
    prior = Prior({"level": LogNormal(math.exp(0.5), 1.0), "rate": Uniform(-0.2, 0.2)})
    observed = growth(np.array([[3.0, 0.05]]), np.array([5]))[0]
    settings = dict(n_particles=300, seed=42, max_generations=5)
    whole = abc_smc(growth, observed, prior, **settings)
    chunked = abc_smc(growth, observed, prior, chunk_size=37, **settings)
    again = abc_smc(growth, observed, prior, **settings)
    other = abc_smc(growth, observed, prior, **{**settings, "seed": 43})
    for run in (chunked, again):
        assert np.array_equal(run.particles, whole.particles)
        assert np.array_equal(run.weights, whole.weights)
        assert np.array_equal(run.epsilons, whole.epsilons)
        assert run.n_simulations == whole.n_simulations
    assert not np.array_equal(other.particles, whole.particles)
    assert len(whole.generations) == 5 and whole.stop_reason.startswith("max_generations")


def test_process_pool_gives_the_in_process_posterior():
    prior = Prior({"level": LogNormal(math.exp(0.5), 1.0), "rate": Uniform(-0.2, 0.2)})
    observed = growth(np.array([[3.0, 0.05]]), np.array([5]))[0]
    settings = dict(n_particles=200, seed=9, max_generations=3, chunk_size=50)
    alone = abc_smc(growth, observed, prior, **settings)
    with LocalPool(2) as pool:
        pooled = abc_smc(growth, observed, prior, map_chunks=batch_map(pool), **settings)
    assert np.array_equal(pooled.particles, alone.particles)
    assert np.array_equal(pooled.weights, alone.weights)


def test_failed_runs_are_rejected_and_budget_stops_cleanly():
    def sometimes_nan(theta, seeds):
        out = sample_mean(theta, seeds)
        out[seeds % 4 == 0] = np.nan
        return out

    prior = Prior({"mu": Normal(0.0, 1.0)})
    result = abc_smc(sometimes_nan, [0.3], prior, n_particles=200, seed=1,
                     max_simulations=3000, max_generations=50)
    assert np.all(np.isfinite(result.distances))
    assert result.n_simulations <= 3000
    assert result.stop_reason.startswith("budget")
    assert result.generations[0].acceptance_rate < 0.9  # NaN rows were rejected
    table = result.frame()
    assert list(table.columns) == ["mu", "weight"]
    assert len(result.diagnostics()) == len(result.generations)


def test_prior_bounds_and_density():
    prior = Prior({"a": Normal(0.0, 1.0, low=0.0), "b": Uniform(2.0, 4.0)})
    draws = prior.sample(np.random.default_rng(0), 4000)
    assert draws[:, 0].min() >= 0 and 2.0 <= draws[:, 1].min() and draws[:, 1].max() <= 4.0
    assert abs(draws[:, 0].mean() - math.sqrt(2 / math.pi)) < 0.03  # half-normal mean
    assert np.allclose(prior.bounds, [[0.0, math.inf], [2.0, 4.0]])
    lp = prior.logpdf(np.array([[0.5, 3.0], [-0.5, 3.0], [0.5, 4.5]]))
    expected = math.log(2 * math.exp(-0.125) / math.sqrt(2 * math.pi)) + math.log(0.5)
    assert lp[0] == pytest.approx(expected)
    assert np.isneginf(lp[1:]).all()


def test_euclidean_skips_missing_observations_and_scales():
    distance = Euclidean(scale=(2.0, 1.0, 1.0))
    summaries = np.array([[2.0, 5.0, 1.0], [np.nan, 0.0, 0.0]])
    out = distance(summaries, np.array([0.0, np.nan, 1.0]))
    assert out[0] == pytest.approx(1.0) and np.isinf(out[1])


# (d) Bad input.
@pytest.mark.parametrize("params, words", [
    ({"a": Uniform(1.0, 0.0)}, ["a:", "low 1.0 must be below high 0.0"]),
    ({"a": Normal(0.0, -1.0)}, ["a:", "sd -1.0"]),
    ({"a": LogNormal(1.0, 1.0, low=5.0, high=2.0)}, ["a:", "hold no prior probability"]),
    ({"a": LogNormal(0.0, 1.0)}, ["a:", "lognormal median 0.0 must be a finite number above 0"]),
    ({"a": Normal(0.0, 1.0, low=50.0, high=60.0)}, ["a:", "hold no prior probability"]),
    ({"a": (0, 1)}, ["a:", "not a prior"]),
    ({}, ["no parameters"]),
])
def test_bad_prior_is_a_clear_error(params, words):
    with pytest.raises(ABCError) as caught:
        Prior(params)
    for word in words:
        assert word in str(caught.value)
    assert caught.value.exit_code == 2


def test_bad_settings_and_simulator_output_are_clear_errors():
    prior = Prior({"mu": Normal(0.0, 1.0)})
    with pytest.raises(ABCError, match="quantile 1.5"):
        abc_smc(sample_mean, [0.0], prior, quantile=1.5)
    with pytest.raises(ABCError, match="max_simulations 10 must be at least n_particles 50"):
        abc_smc(sample_mean, [0.0], prior, n_particles=50, max_simulations=10)
    with pytest.raises(ABCError, match=r"min_acceptance 1.0 must lie in \[0, 1\)"):
        abc_smc(sample_mean, [0.0], prior, min_acceptance=1.0)
    with pytest.raises(ABCError, match="no finite value"):
        abc_smc(sample_mean, [np.nan], prior)
    with pytest.raises(ABCError, match=r"shape \(\d+, 2\) for \d+ candidates; expected \(\d+, 1\)"):
        abc_smc(lambda t, s: np.zeros((len(t), 2)), [0.0], prior, n_particles=50)
    with pytest.raises(ABCError, match="finite distance"):
        abc_smc(lambda t, s: np.full((len(t), 1), np.nan), [0.0], prior, n_particles=50,
                max_simulations=500)
