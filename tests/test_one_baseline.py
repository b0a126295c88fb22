"""One baseline (issue 17, item 6): `sim run` and the mean of `--replicates N` tell one story.

``sim run scenarios/baseline.yaml`` runs the scenario's rule values; ``--replicates N`` draws
from the shipped posterior (data/posterior) the rules it identifies and that do not press their
prior's bound (today the remittance decay alone). The scenario writes the calibrated centre, the
posterior's weighted mean of each drawn rule, so the two agree. Both tests read the shipped
posterior, not constants: a refit whose means are not copied into the scenario fails the first,
and one that draws a rule the scenario does not centre fails the second.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sim.outputs.record import start_band_note
from sim.outputs.run import run_scenario
from sim.scenario import load_scenario
from sim.uncertainty import DEFAULT_POSTERIOR, load_file, load_posterior, plan_draws

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"

CENTRE_TOLERANCE = 0.01
"""How far the scenario's value may lie from the posterior's weighted mean, as a share of the
prior's width (the scenario rounds the mean to three significant figures)."""

AGREEMENT_PP = 1.0
"""Largest difference allowed between the single run and the replicates' mean, in points of
share, in any state, power and quarter (issue 17, item 6)."""

REPLICATES = 1000
"""Posterior replicates whose mean the single run is held to: enough that the mean's own
sampling error (0.23 points at the widest cell, Russia in Tajikistan in 2034Q4) is small
against :data:`AGREEMENT_PP`. A 50-replicate mean carries 0.85 points of it there, since the
drawn remittance decay spreads that share over 20-43%."""


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """The posterior mean of one column."""
    return float(np.sum(values * weights) / np.sum(weights))


def scenario_value(scenario, path: str) -> float:
    """A scenario's value at a field path (``rules.decay.footprint``)."""
    node = scenario.model_dump()
    for key in path.split("."):
        node = node[key]
    return float(node)


def off_centre(scenario, posterior) -> dict[str, tuple[float, float]]:
    """The drawn rules whose scenario value is not the posterior's weighted mean.

    Returns:
        Field path to (scenario value, weighted mean), for each one off by more than
        :data:`CENTRE_TOLERANCE` of its prior's width.
    """
    manifest = json.loads((Path(posterior.source).parent / "manifest.json").read_text())
    priors = manifest["calibration"]["priors"]
    off = {}
    for j, path in enumerate(posterior.columns):
        mean = weighted_mean(posterior.rows[:, j], posterior.weights)
        low, high = priors[path]
        value = scenario_value(scenario, path)
        if abs(value - mean) > CENTRE_TOLERANCE * (high - low):
            off[path] = (value, mean)
    return off


@pytest.fixture(scope="module")
def posterior():
    """The shipped posterior's forecast columns (what ``--uncertainty posterior`` draws)."""
    return load_posterior(DEFAULT_POSTERIOR)


def test_the_drawn_rules_are_the_posteriors_weighted_means(posterior):
    """Each rule a forecast draws is written at the shipped posterior's weighted mean."""
    assert posterior.columns, "the shipped posterior draws no rule in a forecast"
    assert off_centre(load_scenario(BASELINE), posterior) == {}


def test_a_rule_off_the_centre_is_found(posterior):
    """The check above can fail: the remittance decay at the posterior's 95th percentile."""
    scenario = load_scenario(BASELINE)
    path = "rules.dependence.decay.remittances"
    j = posterior.columns.index(path)
    order = np.argsort(posterior.rows[:, j])
    p95 = posterior.rows[order, j][np.searchsorted(np.cumsum(posterior.weights[order]), 0.95)]
    moved = load_scenario(BASELINE, [f"{path}={p95}"])
    assert off_centre(scenario, posterior) == {}
    assert set(off_centre(moved, posterior)) == {path}


def test_the_unidentified_rules_are_not_drawn(posterior):
    """The parameters the manifest names unidentified or bound-limited keep the scenario's
    value; the rest of the forecast columns are drawn."""
    manifest = json.loads((DEFAULT_POSTERIOR.parent / "manifest.json").read_text())
    named = manifest["calibration"]["unidentified"] + manifest["calibration"]["bound_limited"]
    assert "rules.weights.footprint" in named and "rules.dependence.decay.energy" in named
    assert not set(named) & set(posterior.columns)
    assert posterior.columns == ("rules.dependence.decay.remittances",)


def max_gap_pp(scenario) -> tuple[float, tuple[int, str, str]]:
    """Largest |single run - mean of the posterior replicates| in points, and where.

    Over every quarter (the starting one too), state, and power or the residual.
    """
    posterior = load_posterior(DEFAULT_POSTERIOR)
    single = run_scenario(scenario).share[:, 0]  # (T + 1, S, P)
    draws = plan_draws(posterior, [scenario], [str(BASELINE)], REPLICATES)[0]
    mean = run_scenario(scenario, replicates=REPLICATES, draws=draws).share.mean(axis=1)
    with_residual = [np.concatenate([a, 1 - a.sum(axis=-1, keepdims=True)], axis=-1)
                     for a in (single, mean)]
    gap = np.abs(with_residual[0] - with_residual[1]) * 100
    t, s, p = np.unravel_index(np.argmax(gap), gap.shape)
    return float(gap.max()), (t, list(scenario.states)[s],
                              [*scenario.powers, "residual"][p])


def test_a_single_run_and_the_replicates_mean_agree():
    """Measured 0.75 points at most (Russia in Tajikistan, 2034Q4; 1 allowed), against a 90%
    band of 20-43% there: the share responds unevenly to the drawn decay, so the ensemble's
    mean sits above the run at the mean decay."""
    gap, where = max_gap_pp(load_scenario(BASELINE))
    assert gap < AGREEMENT_PP, (gap, where)


def test_the_agreement_fails_off_the_centre():
    """The mutant: the remittance decay as main wrote it before the calibrated centre, 0.005,
    leaves 4.72 points (Russia in Tajikistan, 2034Q4)."""
    gap, _ = max_gap_pp(load_scenario(BASELINE, ["rules.dependence.decay.remittances=0.005"]))
    assert gap > AGREEMENT_PP, gap


def test_a_band_on_the_starting_quarter_is_labelled(tmp_path):
    """Drawn weights move today's shares: the table and figure say the band is today's."""
    scenario = load_scenario(BASELINE, steps=2)
    posterior = load_posterior(DEFAULT_POSTERIOR)
    draws = plan_draws(posterior, [scenario], [str(BASELINE)], 20)[0]
    assert start_band_note(run_scenario(scenario, replicates=20, draws=draws)) == ""
    file = tmp_path / "weights.yaml"
    file.write_text("rules.weights.footprint: {dist: uniform, low: 0.5, high: 2.0}\n")
    drawn = plan_draws(load_file(file), [scenario], [str(BASELINE)], 20)[0]
    note = start_band_note(run_scenario(scenario, replicates=20, draws=drawn))
    assert note.startswith("the band at 2024Q4 (up to ")
    assert "uncertainty of today's influence" in note
