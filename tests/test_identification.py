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
from sim.history.identification import (
    AT_BOUND_SHARE,
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
    assert set(cal.PARAMETERS) - set(named) == {"rules.dependence.decay.remittances",
                                                "rules.dependence.decay.energy"}
    assert all(RECOVERY_WIDTH[n] >= IDENTIFIED_BELOW for n in named)
    assert unidentified(["rules.not_measured"]) == ["rules.not_measured"]


def test_a_posterior_pressing_a_prior_bound_is_bound_limited():
    priors = {"a": (0.0, 1.0), "b": (-1.0, 1.0), "c": (0.0, 10.0)}
    inside = AT_BOUND_SHARE * 2
    assert bound_limited(priors, [0.01, -0.5, inside * 10], [0.5, 0.5, 10 - inside * 10]) == ["a"]
    assert bound_limited(priors, [0.2, -0.5, 1.0], [0.99, 0.99, 5.0]) == ["a", "b"]
    assert bound_limited(priors, [0.2, -0.5, 1.0], [0.8, 0.5, 5.0]) == []


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
    # The energy decay is identified (recovered width 0.28) but presses its prior's bound.
    assert "rules.dependence.decay.energy" in manifest["calibration"]["bound_limited"]
    assert "rules.dependence.decay.remittances" not in manifest["calibration"]["bound_limited"]
