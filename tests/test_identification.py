"""Unidentified parameters are named in the posterior's manifest and kept out of forecasts.

Issue 18, item 2: a calibrated parameter whose recovered 90% interval stays above half its
prior's width (tests/test_recovery.py) is named unidentified (``calibration.unidentified`` in
the manifest ``sim calibrate`` writes) and ``--uncertainty posterior`` does not draw it; the
hindcast, which scores the fit itself, still does.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from sim import uncertainty as unc
from sim.__main__ import main
from sim.history import calibrate as cal
from sim.history.abc import weighted_quantiles
from sim.history.identification import (
    AT_BOUND_SHARE,
    BOUND_QUANTILES,
    IDENTIFIED_BELOW,
    RECOVERY_WIDTH,
    bound_limited,
    unidentified,
)

SMALL = Path(__file__).parent / "data" / "small.yaml"


def test_every_calibrated_parameter_has_a_measured_width():
    """The table covers exactly the fitted set: a new fitted parameter must be measured."""
    assert set(RECOVERY_WIDTH) == set(cal.PARAMETERS)


def test_the_unidentified_are_those_at_or_above_one_half():
    named = unidentified(cal.PARAMETERS)
    assert set(cal.PARAMETERS) - set(named) == {"rules.dependence.decay.remittances"}
    assert all(RECOVERY_WIDTH[n] >= IDENTIFIED_BELOW for n in named)
    assert unidentified(["rules.not_measured"]) == ["rules.not_measured"]


def test_a_posterior_pressing_a_prior_bound_is_bound_limited():
    priors = {"a": (0.0, 1.0), "b": (-1.0, 1.0), "c": (0.0, 10.0)}
    inside = AT_BOUND_SHARE * 2
    assert bound_limited(priors, [0.01, -0.5, inside * 10], [0.5, 0.5, 10 - inside * 10]) == ["a"]
    assert bound_limited(priors, [0.2, -0.5, 1.0], [0.99, 0.99, 5.0]) == ["a", "b"]
    assert bound_limited(priors, [0.2, -0.5, 1.0], [0.8, 0.5, 5.0]) == []


def _flagged(samples: np.ndarray, quantiles=BOUND_QUANTILES) -> list[str]:
    """bound_limited on samples (n, d) of priors (0, 1), equally weighted, named by column."""
    q = weighted_quantiles(samples, np.ones(len(samples)), quantiles)
    return bound_limited({str(j): (0.0, 1.0) for j in range(samples.shape[1])}, q[0], q[1])


def test_a_flat_posterior_is_not_bound_limited_and_one_piled_at_a_bound_is():
    """A posterior that is the prior again (200 uniform samples of 2,000, the size of the
    shipped fit) is not flagged: a flat posterior puts 5% of its mass within 5% of each bound,
    the rule asks for twice that. The mutant, the rule on the 5th and 95th percentiles, flags
    most flat posteriors by chance (each percentile falls on either side of 5%)."""
    flat = np.random.default_rng(5).uniform(size=(2000, 200))
    assert _flagged(flat) == []
    assert len(_flagged(flat, (0.05, 0.95))) > 100
    rng = np.random.default_rng(6)
    at_low = np.where(rng.uniform(size=2000) < 0.15, rng.uniform(0, 0.02, 2000),
                      rng.uniform(size=2000))
    at_high = 1.0 - at_low
    inside = rng.normal(0.5, 0.1, 2000)
    assert _flagged(np.column_stack([at_low, inside, at_high, flat[:, 0]])) == ["0", "2"]


def test_the_new_rule_draws_the_same_columns_from_the_shipped_posterior():
    """Recomputed from data/posterior/posterior.parquet, the bound-limited is the energy decay
    (its 10th percentile 2.9% of the prior's width from the low bound); with the unidentified,
    that leaves a forecast drawing the same column as the manifest does, the remittance decay
    alone."""
    frame = pd.read_parquet(unc.DEFAULT_POSTERIOR)
    calibration = json.loads((unc.DEFAULT_POSTERIOR.parent / "manifest.json").read_text())[
        "calibration"]
    weights = frame.pop("weight").to_numpy()
    q = weighted_quantiles(frame.to_numpy(), weights, BOUND_QUANTILES)
    priors = {n: tuple(calibration["priors"][n]) for n in frame.columns}
    recomputed = bound_limited(priors, q[0], q[1])
    assert recomputed == ["rules.dependence.decay.energy"]

    def drawn(limited: list[str]) -> list[str]:
        kept_out = {*calibration["unidentified"], *limited}
        return [n for n in frame.columns if n not in kept_out and n not in cal.history_only([n])]

    assert drawn(recomputed) == drawn(calibration["bound_limited"]) == [
        "rules.dependence.decay.remittances"]
    assert unc.load_posterior(unc.DEFAULT_POSTERIOR).columns == (
        "rules.dependence.decay.remittances",)


def _posterior_with_manifest(folder: Path, named: list[str]) -> Path:
    """A two-column posterior and a manifest naming ``named`` unidentified."""
    folder.mkdir()
    path = folder / "posterior.parquet"
    pd.DataFrame({"rules.hedging": [0.2, 0.3], "rules.decay.footprint": [0.01, 0.02],
                  "weight": [1.0, 1.0]}).to_parquet(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps({
        "posterior_sha256": digest, "calibration": {"cutoff": 2019, "unidentified": named}}))
    return path


def test_a_forecast_skips_the_columns_the_manifest_names(tmp_path, monkeypatch):
    path = _posterior_with_manifest(tmp_path / "posterior", ["rules.hedging"])
    loaded = unc.load_posterior(path)
    assert loaded.columns == ("rules.decay.footprint",)
    assert loaded.extra["unidentified_skipped"] == ["rules.hedging"]
    # The hindcast keeps every fitted column.
    assert unc.load_posterior(path, history=True).columns == ("rules.hedging",
                                                              "rules.decay.footprint")
    # The same rows are drawn as with the column present: skipping changes no other draw.
    full = _posterior_with_manifest(tmp_path / "full", [])
    np.testing.assert_array_equal(unc.load_posterior(full).draw(7, 40)["rules.decay.footprint"],
                                  loaded.draw(7, 40)["rules.decay.footprint"])
    monkeypatch.setattr("sim.uncertainty.draws.DEFAULT_POSTERIOR", path)
    out = tmp_path / "out"
    assert main(["run", str(SMALL), "--replicates", "6", "--uncertainty", "posterior",
                 "--out", str(out), "--no-plot", "--quiet"]) == 0
    (folder,) = (out / "small").iterdir()
    assert list(pd.read_csv(folder / "parameters.csv").columns) == ["seed",
                                                                   "rules.decay.footprint"]
    entry = json.loads((folder / "manifest.json").read_text())["uncertainty"]
    assert entry["unidentified_skipped"] == ["rules.hedging"]



def test_the_shipped_posterior_names_its_unidentified_parameters():
    manifest = json.loads((unc.DEFAULT_POSTERIOR.parent / "manifest.json").read_text())
    names = list(manifest["calibration"]["priors"])
    assert sorted(manifest["calibration"]["unidentified"]) == sorted(unidentified(names))
    # The energy decay is unidentified (recovered width 0.78) and presses its prior's bound too.
    assert "rules.dependence.decay.energy" in manifest["calibration"]["unidentified"]
    assert "rules.dependence.decay.energy" in manifest["calibration"]["bound_limited"]
    assert "rules.dependence.decay.remittances" not in manifest["calibration"]["bound_limited"]
