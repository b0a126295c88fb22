"""The cross-check of the ABC posterior by neural posterior estimation (issue 18, last paragraph).

Fast tests (no torch): the refusal of an ABC posterior fitted to another prior or cut-off, the
refusal without sbi, the options of the fit and of the cross-check kept apart, and the
comparison and coverage arithmetic on known inputs.

Slow tests (they train the network; they skip without sbi, and fail instead when
SIM_REQUIRE_SBI=1, as .ci/run sets): the calibration of the NPE at held-out prior draws
(coverage of its 90% intervals within :data:`BAND`, and the mutant that breaks it), recovery
at three known truths, and byte-identical outputs for the same seed, in-process and on two
workers.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil

import numpy as np
import pytest
from clihelp import ROOT, run_in_process

from sim.history import calibrate as cal
from sim.history import crosscheck as xc

REQUIRED = os.environ.get("SIM_REQUIRE_SBI") == "1"
SHIPPED = ROOT / "data" / "posterior"
FAST = ["--simulations", "500", "--sbc", "20", "--samples", "200"]

TRAINING_DRAWS = 10_000
"""Training draws of the slow tests' network (the command's default is 30,000)."""

SBC_DRAWS = 200
"""Held-out draws of the slow tests' calibration check."""

BAND = (0.80, 0.98)
"""Each parameter's coverage of the NPE's 90% interval at the held-out draws must lie here:
0.90 give or take about four binomial standard errors at 200 draws (0.021), plus the
network's own error at 10,000 training draws."""


def sbi_missing() -> str | None:
    """Why the slow tests cannot run here (None if they can)."""
    missing = [n for n in ("torch", "sbi") if importlib.util.find_spec(n) is None]
    return f"{' and '.join(missing)} not installed ({xc.INSTALL_HINT})" if missing else None


@pytest.fixture(scope="module")
def needs_sbi():
    """Skip without sbi and torch, or fail if SIM_REQUIRE_SBI=1 (CI) demands them."""
    reason = sbi_missing()
    if reason and REQUIRED:
        pytest.fail(f"{reason}; SIM_REQUIRE_SBI=1 requires the cross-check tests", pytrace=False)
    if reason:
        pytest.skip(f"{reason}; SIM_REQUIRE_SBI=1 turns this skip into a failure")


def tampered(tmp_path, change) -> str:
    """A copy of the shipped posterior whose manifest ``change`` edits; returns its folder."""
    folder = tmp_path / "posterior"
    shutil.copytree(SHIPPED, folder)
    info = json.loads((folder / "manifest.json").read_text())
    change(info)
    (folder / "manifest.json").write_text(json.dumps(info))
    return str(folder)


# --------------------------------------------------------------------------------------------
# Fast: refusals and arithmetic (no torch)
# --------------------------------------------------------------------------------------------


def test_the_shipped_posterior_is_accepted():
    abc = xc.load_abc_posterior(SHIPPED, 2019)
    assert abc.names == tuple(cal.PARAMETERS)
    assert abc.particles.shape == (len(abc.weights), len(cal.PARAMETERS))
    assert abc.weights.sum() == pytest.approx(1.0)
    assert abc.epsilon == json.loads((SHIPPED / "manifest.json").read_text())["final_epsilon"]
    assert abc.cutoff == 2019


def test_a_noisy_abc_posterior_sets_the_cross_checks_noise_to_its_own(tmp_path):
    """The cross-check solves the ABC's problem: a noisy fit's observation noise, else the
    plain fit's final tolerance (the shipped fit is noisy, at sd 0.2)."""
    noisy = xc.load_abc_posterior(SHIPPED, 2019)
    assert noisy.observation_noise == 0.2 and noisy.noise_sd == 0.2
    plain = xc.load_abc_posterior(tampered(
        tmp_path, lambda m: m["calibration"].pop("observation_noise_sd")), 2019)
    assert plain.observation_noise is None and plain.noise_sd == plain.epsilon
    assert noisy.epsilon == plain.epsilon != 0.2


@pytest.mark.parametrize("change, words", [
    (lambda m: m["calibration"].__setitem__("observation_noise_sd", -0.2),
     ["calibration.observation_noise_sd is -0.2"]),
    (lambda m: m["calibration"].__setitem__("observation_noise_sd", True),
     ["calibration.observation_noise_sd is True"]),
    (lambda m: m["calibration"]["priors"].__setitem__("rules.hedging", [0.0, 5.0]),
     ["calibration.priors.rules.hedging", "[0.0, 5.0]", "U(0.0, 10.0)"]),
    (lambda m: m["calibration"]["priors"].pop("rules.weights.footprint"),
     ["calibration.priors has no rules.weights.footprint"]),
    (lambda m: m["calibration"]["priors"].__setitem__("rules.noise.reception_sd", [0, 0.2]),
     ["calibration.priors.rules.noise.reception_sd", "not in the cross-check's prior"]),
    (lambda m: m["calibration"].__setitem__("cutoff", 2017),
     ["calibration.cutoff is 2017", "--cutoff is 2019"]),
    (lambda m: m.__setitem__("final_epsilon", -1.0), ["final_epsilon is -1.0"]),
    (lambda m: m.pop("calibration"), ["not the manifest of a calibration"]),
])
def test_a_posterior_of_another_problem_is_refused(tmp_path, change, words):
    folder = tampered(tmp_path, change)
    out = tmp_path / "results"
    done = run_in_process("calibrate", "--crosscheck", "--posterior", folder, "--out", out,
                          "--workers", "1", "--quiet", *FAST)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert f"{folder}/manifest.json" in done.stderr
    for word in words:
        assert word in done.stderr
    assert not out.exists()


def test_a_missing_posterior_is_refused(tmp_path):
    done = run_in_process("calibrate", "--crosscheck", "--posterior", tmp_path / "nowhere",
                          "--out", tmp_path / "results", *FAST)
    assert done.returncode == 2
    assert "posterior.parquet does not exist" in done.stderr
    assert not (tmp_path / "results").exists()


def test_the_cutoff_picks_its_shipped_posterior(tmp_path):
    """--cutoff 2017 compares with data/posterior-2017; a cut-off with none is refused."""
    assert xc.default_posterior(2017) == ROOT / "data" / "posterior-2017"
    assert xc.load_abc_posterior(xc.default_posterior(2017), 2017).cutoff == 2017
    done = run_in_process("calibrate", "--crosscheck", "--cutoff", "2018", "--out",
                          tmp_path / "results", *FAST)
    assert done.returncode == 2
    assert "--cutoff 2018: no shipped posterior" in done.stderr


def test_without_sbi_the_command_says_what_to_install(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(xc.importlib.util, "find_spec",
                        lambda name, *a: None if name in ("torch", "sbi") else real(name, *a))
    done = run_in_process("calibrate", "--crosscheck", "--out", tmp_path / "results", *FAST)
    assert done.returncode == 2
    assert "needs torch and sbi" in done.stderr
    assert "pip install torch==2.13.0 && pip install -e '.[crosscheck]'" in done.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("args, words", [
    (["--crosscheck", "--install"], "--install: apply to the ABC fit"),
    (["--crosscheck", "--population", "100"], "--population: apply to the ABC fit"),
    (["--simulations", "1000"], "--simulations: apply to the cross-check only"),
    (["--posterior", "data/posterior"], "--posterior: apply to the cross-check only"),
    (["--crosscheck", "--simulations", "10"], "--simulations 10: give a whole number from 500"),
    (["--crosscheck", "--sbc", "5"], "--sbc 5: give a whole number from 20"),
])
def test_options_of_the_fit_and_of_the_crosscheck_stay_apart(tmp_path, args, words):
    done = run_in_process("calibrate", *args, "--out", tmp_path / "results")
    assert done.returncode == 2
    assert words in done.stderr
    assert not (tmp_path / "results").exists()


def test_the_comparison_of_known_posteriors():
    """Two normal samples of known medians and widths: the table says so."""
    rng = np.random.default_rng(3)
    names = ("a", "b")
    bounds = np.array([[-10.0, 10.0], [0.0, 4.0]])
    abc_particles = np.column_stack([rng.normal(0.0, 1.0, 40_000), rng.normal(2.0, 0.1, 40_000)])
    abc = xc.ABCPosterior(path=SHIPPED, names=names, particles=abc_particles,
                          weights=np.full(40_000, 1 / 40_000), epsilon=0.2, cutoff=2019,
                          sha256="")
    npe = np.column_stack([rng.normal(0.5, 2.0, 40_000), rng.normal(3.0, 0.1, 40_000)])
    table = xc.compare(names, bounds, npe, abc).set_index("parameter")
    z = 1.6449
    assert table.loc["a", "abc_median"] == pytest.approx(0.0, abs=0.03)
    assert table.loc["a", "npe_median"] == pytest.approx(0.5, abs=0.05)
    assert table.loc["a", "abc_p95"] == pytest.approx(z, abs=0.05)
    assert table.loc["a", "width_ratio"] == pytest.approx(2.0, rel=0.05)
    assert table.loc["a", "abc_width_share"] == pytest.approx(2 * z / 20, rel=0.05)
    assert table.loc["a", "npe_median_in_abc"] and table.loc["a", "abc_median_in_npe"]
    assert table.loc["b", "width_ratio"] == pytest.approx(1.0, rel=0.05)
    assert not table.loc["b", "npe_median_in_abc"] and not table.loc["b", "abc_median_in_npe"]


def test_the_abc_weights_count_in_its_quantiles():
    """Weights, not particle counts, set the ABC's median (mutant: equal weights)."""
    particles = np.array([[0.0], [1.0], [2.0]])
    weighted = xc.ABCPosterior(SHIPPED, ("a",), particles, np.array([0.1, 0.1, 0.8]), 0.2,
                               2019, "")
    equal = dataclasses.replace(weighted, weights=np.full(3, 1 / 3))
    assert weighted.quantile([0.5])[0, 0] == 2.0
    assert equal.quantile([0.5])[0, 0] == 1.0


def test_coverage_from_ranks():
    ranks = np.array([0, 49, 50, 500, 949, 950, 1000])
    assert xc.covered(ranks, 1000).tolist() == [False, False, True, True, True, False, False]
    uniform = np.arange(1001)
    assert xc.covered(uniform, 1000).mean() == pytest.approx(0.9, abs=0.001)


# --------------------------------------------------------------------------------------------
# Slow: the network itself
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(needs_sbi):
    """The problem (the shipped posterior's noise) and a network on TRAINING_DRAWS draws."""
    scenario, observed = cal.load_inputs(None, None)
    abc = xc.load_abc_posterior(SHIPPED, 2019)
    problem = xc.problem_of(scenario, observed, 2019, abc.epsilon)
    theta, x = problem.simulate(TRAINING_DRAWS, 0, "training")
    return problem, xc.train(problem.prior, theta, x, seed=0)


@pytest.mark.slow
def test_the_npe_is_calibrated_at_held_out_draws(trained):
    """Coverage of each 90% interval within BAND; the mutant (held-out noise 3x the trained
    noise: the network's likelihood no longer matches the data's) breaks it."""
    problem, network = trained
    theta, x = problem.simulate(SBC_DRAWS, 0, "sbc")
    table = xc.calibration_check(network, problem.prior.names, theta, x, seed=0)
    coverage = table.set_index("parameter")["coverage_90"]
    print(table.to_string(index=False))
    assert ((coverage >= BAND[0]) & (coverage <= BAND[1])).all(), coverage
    louder = dataclasses.replace(problem, noise_sd=3 * problem.noise_sd)
    theta, x = louder.simulate(SBC_DRAWS, 0, "sbc")
    mutant = xc.calibration_check(network, problem.prior.names, theta, x, seed=0)
    print(mutant.to_string(index=False))
    assert (mutant["coverage_90"] < BAND[0]).any(), mutant


@pytest.mark.slow
def test_the_npe_recovers_three_known_truths(trained):
    """Truths from the middle 70% of the prior (seed 18, as tests/test_recovery.py), observed
    with the noise the network was trained on: at least 80% of the 27 parameter-truth pairs lie
    in their 90% interval (the ABC's recovery test asks the same), and the remittance decay,
    which the record identifies, in all three. Mutant: each truth conditioned on another
    truth's observations, which must miss the remittance decay."""
    problem, network = trained
    bounds = problem.prior.bounds
    rng = np.random.default_rng(18)
    truths = bounds[:, 0] + (bounds[:, 1] - bounds[:, 0]) * rng.uniform(0.15, 0.85, (3, 9))
    _, x = problem.simulate(3, 0, "recovery", theta=truths)
    inside, swapped = [], []
    for k in range(3):
        samples = xc.sample(network, x[k], 4000, seed=k)
        p5, p95 = np.quantile(samples, [0.05, 0.95], axis=0)
        inside.append((p5 <= truths[k]) & (truths[k] <= p95))
        other = xc.sample(network, x[(k + 1) % 3], 4000, seed=k)
        q5, q95 = np.quantile(other, [0.05, 0.95], axis=0)
        swapped.append((q5 <= truths[k]) & (truths[k] <= q95))
    inside, swapped = np.array(inside), np.array(swapped)
    print(inside.astype(int), swapped.astype(int), sep="\n")
    remittances = list(problem.prior.names).index("rules.dependence.decay.remittances")
    assert inside.mean() >= 0.8, inside
    assert inside[:, remittances].all(), inside
    assert not swapped[:, remittances].all(), swapped


@pytest.mark.slow
def test_same_seed_same_bytes_for_any_number_of_workers(tmp_path, needs_sbi, monkeypatch):
    """Two runs of the command, in-process and on two workers: identical tables; the manifest
    differs only in timings, the executor and the command line. Nothing is written outside
    the results folders (sbi's default tracker would write ./sbi-logs)."""
    monkeypatch.setattr(xc, "TRAINING", xc.TRAINING | {"max_num_epochs": 8})
    monkeypatch.chdir(tmp_path)
    folders = []
    for k, workers in enumerate(("1", "2")):
        out = tmp_path / f"r{k}"
        done = run_in_process("calibrate", "--crosscheck", "--workers", workers, "--seed", "4",
                              "--out", out, "--quiet", *FAST)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [done.stdout.strip()]
        assert done.stdout.startswith("results: ")
        folders.append(out / "crosscheck")
    (a,), (b,) = (list(f.iterdir()) for f in folders)
    assert a.name == b.name
    for name in ("comparison.csv", "sbc.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    ma, mb = (json.loads((f / "manifest.json").read_text()) for f in (a, b))
    for key in ("seconds", "executor", "workers", "command"):
        ma.pop(key), mb.pop(key)
    assert ma == mb
    other = run_in_process("calibrate", "--crosscheck", "--workers", "1", "--seed", "5",
                           "--out", tmp_path / "r2", *FAST)
    (c,) = list((tmp_path / "r2" / "crosscheck").iterdir())
    assert other.returncode == 0
    # Not quiet: it names the noise it used, the shipped noisy fit's own.
    assert "(noise sd 0.2000, the noisy-ABC fit's observation noise)" in other.stdout
    assert (c / "comparison.csv").read_bytes() != (a / "comparison.csv").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r0", "r1", "r2"]
