"""``sim calibrate``: the model wired to the ABC-SMC (small budgets; seconds each)."""

from __future__ import annotations

import csv
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from test_sweep_dask import cluster  # noqa: F401 (the fixture: a Dask cluster on loopback)

from sim.cli.main import main
from sim.engine.params import compile_scenario
from sim.history import calibrate as cal
from sim.history.abc import Uniform, weighted_quantiles
from sim.history.observed import OBSERVABLES
from sim.scenario import load_scenario, resolve_file, validate
from sim.uncertainty import field_path

TINY = ["--population", "40", "--generations", "2", "--quiet"]


@pytest.fixture(scope="module")
def inputs():
    return cal.load_inputs(None, None)


@pytest.fixture()
def install_dir(tmp_path, monkeypatch):
    target = tmp_path / "installed" / "posterior"
    monkeypatch.setattr(cal, "INSTALL_DIR", target)
    return target


def _folder(out):
    folders = list((out / "calibrate").iterdir())
    assert len(folders) == 1
    return folders[0]


def test_targets_are_the_observations_up_to_the_cutoff(inputs):
    scenario, observed = inputs
    targets = cal.select_targets(observed, scenario, 2019)
    table = targets.table
    assert table["year"].between(2015, 2019).all()
    assert set(table["observable"]) <= set(cal.OBSERVABLES)
    assert "chinese_customs" not in set(table["convention"])
    assert len(table) >= 20
    later = cal.select_targets(observed, scenario, 2024)
    assert len(later.table) > len(table)
    extra = observed.iloc[:1].assign(year=2016, state="tajikistan", partner="china",
                                      observable="remittances_usd_bn", convention="national_bank")
    with_china = cal.select_targets(pd.concat([observed, extra]), scenario, 2019)
    assert len(with_china.table) == len(table)  # China sends no remittances in the scenario


def test_vectorised_observables_match_a_recorded_run(inputs, tmp_path):
    """The calibration's values are the ones `sim run` writes to observables.csv."""
    scenario, observed = inputs
    assert main(["run", str(cal.DEFAULT_SCENARIO), "--out", str(tmp_path), "--no-plot",
                 "--quiet"]) == 0
    written = pd.read_csv(next(tmp_path.glob("*/*/observables.csv")))
    targets = cal.select_targets(observed, scenario, 2024)
    structure, params = compile_scenario(scenario)
    simulator = cal.HistorySimulator(structure, params, (), targets, scenario.start)
    values = simulator.values(np.empty((1, 0)), np.array([scenario.seed]))[0]
    merged = targets.table.merge(written, on=["year", "state", "partner", "observable"],
                                 how="left", suffixes=("", "_run"))
    known = merged["value_run"].notna().to_numpy()
    assert known.sum() >= 30
    np.testing.assert_allclose(values[known], merged["value_run"].to_numpy()[known], rtol=1e-6)


def test_noisy_abc_adds_the_observation_noise_as_a_function_of_seed_and_cell(inputs):
    """Noisy ABC: each simulated log value gets noise of the record's sd, drawn from the run's
    seed and the cell's index alone (the same alone or in any batch); none when sd is 0."""
    scenario, observed = inputs
    targets = cal.select_targets(observed, scenario, 2019)
    structure, params = compile_scenario(scenario)
    plain = cal.HistorySimulator(structure, params, (), targets, scenario.start)
    noisy = cal.HistorySimulator(structure, params, (), targets, scenario.start, noise_sd=0.2)
    seeds = np.arange(400, dtype=np.int64)
    theta = np.empty((len(seeds), 0))
    clean, summaries = plain(theta, seeds), noisy(theta, seeds)
    noise = summaries - clean
    assert noise.shape == (len(seeds), len(targets.values))
    assert abs(noise.std() - 0.2) < 0.01 and abs(noise.mean()) < 0.01
    # Row 7 alone gets the numbers it got in the batch, and the cells are not all alike.
    np.testing.assert_array_equal(noisy(theta[7:8], seeds[7:8]), summaries[7:8])
    assert np.corrcoef(noise[:, 0], noise[:, 1])[0, 1] < 0.2
    with pytest.raises(cal.CalibrationError, match="observation noise"):
        cal.calibrate(scenario, observed, noise_sd=-0.1, population=10, generations=1)


def test_a_noisy_fits_table_shows_the_model_without_the_noise(inputs):
    """The accepted summaries of a noisy fit carry noise picked for matching the record, so
    fit.csv reruns the final particles without it. At sd 2 the noise alone would spread each
    cell's 5-95% band over a factor of exp(2 x 1.645 x 2), about 720. Measured: the table's
    bands span at most a factor of 4.1; the mutant, the table read from the noisy summaries,
    at least 77 at every cell (median 376)."""
    scenario, observed = inputs
    fit = cal.calibrate(scenario, observed, 2019, population=40, generations=1, seed=5,
                        noise_sd=2.0)
    spread = (fit.fit["model_p95"] / fit.fit["model_p5"]).to_numpy()
    assert np.isfinite(spread).all() and spread.max() < 20, spread.max()
    noisy = np.exp(fit.result.summaries)
    q = weighted_quantiles(noisy, fit.result.weights, [0.05, 0.95])
    assert (q[1] / q[0]).min() > 20


def test_the_fit_table_leaves_out_a_rerun_that_diverged(inputs):
    """A noisy fit's table reruns the particles; a run that diverged (NaN) is left out and the
    others' weights rescaled, so no cell of fit.csv is NaN. Mutant: the NaN row kept."""
    scenario, observed = inputs
    targets = cal.select_targets(observed, scenario, 2019)
    k = len(targets.values)
    values = np.vstack([np.full(k, 1.0), np.full(k, 3.0), np.full(k, np.nan)])
    result = SimpleNamespace(weights=np.array([0.25, 0.25, 0.5]))
    table = cal.fit_table(result, targets, values)
    np.testing.assert_allclose(table["model_mean"], 2.0)
    assert table[["model_p5", "model_p95"]].notna().all().all()
    assert np.isnan(np.array([0.25, 0.25, 0.5]) @ values).all()  # what keeping it would give


@pytest.mark.slow
def test_cli_writes_the_folder_and_leaves_the_shipped_posterior(tmp_path, install_dir, capsys):
    out = tmp_path / "results"
    assert main(["calibrate", "--out", str(out), "--workers", "1", *TINY]) == 0
    folder = _folder(out)
    for name in ("posterior.parquet", "parameters.csv", "diagnostics.csv", "fit.csv",
                 "marginals.png", "pairs.png", "manifest.json"):
        assert (folder / name).stat().st_size > 0, name
    posterior = pd.read_parquet(folder / "posterior.parquet")
    assert list(posterior.columns) == [*cal.PARAMETERS, *cal.TIED, "weight"]
    assert len(posterior) == 40 and posterior["weight"].sum() == pytest.approx(1.0)
    for path, prior in cal.PARAMETERS.items():
        assert posterior[path].between(prior.low, prior.high).all()
    table = pd.read_csv(folder / "parameters.csv").set_index("parameter")["history_only"]
    assert [p for p, h in table.items() if h] == cal.history_only(cal.PARAMETERS)
    diagnostics = pd.read_csv(folder / "diagnostics.csv")
    assert list(diagnostics["index"]) == [0, 1]
    assert {"epsilon", "acceptance_rate", "ess"} <= set(diagnostics.columns)
    assert not install_dir.exists()  # no --install: the shipped posterior is left alone
    assert "installed" not in capsys.readouterr().out
    from sim.uncertainty import load_posterior

    # A forecast draws the fitted rules the record identifies; the manifest names the others
    # (unidentified, or pressed against a bound of their prior) and they keep the scenario's.
    calibration = json.loads((folder / "manifest.json").read_text())["calibration"]
    kept_out = {*calibration["unidentified"], *calibration["bound_limited"]}
    assert "rules.hedging" in kept_out
    forecast = [p for p in cal.PARAMETERS
                if p not in cal.history_only(cal.PARAMETERS) and p not in kept_out]
    assert forecast and load_posterior(folder / "posterior.parquet").columns == tuple(forecast)
    hindcast = load_posterior(folder / "posterior.parquet", history=True).columns
    assert hindcast == tuple(field_path(c) for c in [*cal.PARAMETERS, *cal.TIED])


def test_the_history_only_parameters_name_the_budget_events(monkeypatch):
    """``history:events.<id>.factor`` points at the events the docs say, by id, not position."""
    scenario = load_scenario(cal.DEFAULT_SCENARIO)
    expected = {"history:events.china_investment_2015.factor": ("china", "2015Q1"),
                "history:events.russia_investment_2015.factor": ("russia", "2015Q1")}
    assert set(cal.history_only(cal.PARAMETERS)) | set(cal.TIED) == set(expected)
    by_id = {event.id: event for event in scenario.events if event.id}
    for name, (power, at) in expected.items():
        event = by_id[field_path(name).split(".")[1]]
        assert (event.kind, event.power, event.channel, event.at, event.factor) == \
            ("budget_change", power, "invest", at, 1.0), name
    # No budget steps back to 2024's in 2020 (a test-window figure): the fitted budgets
    # persist; no later invest budget_change but the pandemic's pause and return.
    later = [e for e in scenario.events if e.kind == "budget_change"
             and e.id not in ("china_investment_2015", "russia_investment_2015")]
    assert {e.at for e in later} == {"2020Q2", "2021Q2"}
    # The tying mechanism itself, on a tie of the kind once used.
    monkeypatch.setattr(cal, "TIED", {"history:events.china_investment_2020.factor":
                                      "history:events.china_investment_2015.factor"})
    restored = cal.with_tied({"history:events.china_investment_2015.factor": np.array([0.25, 0.5])})
    np.testing.assert_allclose(restored["history:events.china_investment_2020.factor"], [4.0, 2.0])


def test_reordering_the_history_events_moves_nothing_the_calibration_fits():
    """The fitted columns follow their events' ids: shuffled events compile to the same cells."""
    data = resolve_file(cal.DEFAULT_SCENARIO)
    shuffled = {**data, "events": list(reversed(data["events"]))}
    for events in (data, shuffled):
        scenario = validate(events)
        structure, params = compile_scenario(scenario)
        for name in [*cal.history_only(cal.PARAMETERS), *cal.TIED]:
            slot, (e,) = params.paths[field_path(name)]
            event = scenario.events[e]
            assert slot == "event_a" and event.id == field_path(name).split(".")[1], name


def test_install_replaces_the_shipped_posterior(tmp_path, install_dir):
    out = tmp_path / "results"
    assert main(["calibrate", "--out", str(out), "--workers", "1", "--install", "--no-plot",
                 *TINY]) == 0
    folder = _folder(out)
    assert sorted(p.name for p in install_dir.iterdir()) == ["manifest.json",
                                                             "posterior.parquet"]
    assert (install_dir / "posterior.parquet").read_bytes() == \
        (folder / "posterior.parquet").read_bytes()


@pytest.mark.slow
def test_same_posterior_for_one_and_two_workers(tmp_path, install_dir):
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        assert main(["calibrate", "--out", str(out), "--workers", workers, "--no-plot",
                     *TINY]) == 0
    one, two = (_folder(tmp_path / f"w{w}") for w in ("1", "2"))
    assert one.name == two.name
    assert (one / "posterior.parquet").read_bytes() == (two / "posterior.parquet").read_bytes()
    assert (one / "fit.csv").read_bytes() == (two / "fit.csv").read_bytes()


@pytest.mark.parametrize("args, message", [
    (["--cutoff", "1990"], "--cutoff 1990"),
    (["--population", "3"], "--population 3"),
    (["--generations", "0"], "--generations 0"),
    (["--observation-noise", "-0.2"], "--observation-noise -0.2"),
    (["--observation-noise", "nan"], "--observation-noise nan"),
    (["--workers", "0"], "--workers 0"),
    (["--observed", "no/such/folder"], "no/such/folder"),
    (["no_such_scenario.yaml"], "no_such_scenario.yaml"),
    (["--out", "/proc/no/such"], "--out /proc/no/such"),
])
def test_bad_input_exits_2_without_a_folder(tmp_path, capsys, install_dir, monkeypatch, args,
                                            message):
    def no_calibration(*args, **kwargs):
        raise AssertionError("the calibration started before the input was refused")

    # Refused before calibrating: the sampler is never reached. (A wall-clock bound, under
    # 5 s, stood here and could fail on a loaded machine.)
    monkeypatch.setattr(cal, "abc_smc", no_calibration)
    out = tmp_path / "results"
    assert main(["calibrate", "--out", str(out), "--workers", "1", *TINY, *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def _write_observations(folder, targets, values) -> None:
    """Synthetic observations in the observed-data format, one file."""
    folder.mkdir()
    with open(folder / "synthetic.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["year", "state", "partner", "observable", "value", "unit",
                         "convention", "source", "evidence"])
        for row, value in zip(targets.table.itertuples(), values, strict=True):
            writer.writerow([row.year, row.state, row.partner, row.observable, f"{value:.6g}",
                             OBSERVABLES[row.observable].unit, row.convention,
                             "synthetic: the model at known parameters",
                             "simulated by tests/test_calibrate.py"])


def test_recovers_known_parameters_on_the_model(inputs, tmp_path):
    """Data simulated from known values, without noise; the 90% intervals hold them (at least
    two). The data carry no observation noise, so the fit adds none (the plain ABC); the noisy
    fit's recovery is the slow tier's tests/test_recovery.py."""
    from sim.history.observed import load_observed

    scenario, observed = inputs
    fitted = {"rules.dependence.decay.remittances": Uniform(-0.06, 0.06),
              "rules.decay.footprint": Uniform(0.0, 0.1),
              "rules.dependence.decay.energy": Uniform(-0.03, 0.1)}
    truth = np.array([0.02, 0.03, 0.01])
    targets = cal.select_targets(observed, scenario, 2019)
    structure, params = compile_scenario(scenario)
    simulator = cal.HistorySimulator(structure, params, tuple(fitted), targets, scenario.start)
    synthetic = simulator.values(truth[None, :], np.array([123]))[0]
    _write_observations(tmp_path / "observed", targets, synthetic)
    result = cal.calibrate(scenario, load_observed(tmp_path / "observed"), 2019,
                           parameters=fitted, population=300, generations=8, seed=3,
                           noise_sd=0.0).result
    low, high = result.quantile([0.05, 0.95])
    inside = (low <= truth) & (truth <= high)
    narrow = (high - low) < 0.5 * np.array([d.high - d.low for d in fitted.values()])
    assert (inside & narrow).sum() >= 2, (low, high, truth)


@pytest.mark.cluster
def test_a_dask_cluster_gives_the_same_posterior(tmp_path, install_dir, cluster):  # noqa: F811
    """--scheduler: the chunks run on a real Dask cluster (two worker processes)."""
    assert main(["calibrate", "--out", str(tmp_path / "dask"), "--scheduler", cluster,
                 "--no-plot", *TINY]) == 0
    assert main(["calibrate", "--out", str(tmp_path / "local"), "--workers", "1", "--no-plot",
                 *TINY]) == 0
    dask, local = _folder(tmp_path / "dask"), _folder(tmp_path / "local")
    assert (dask / "posterior.parquet").read_bytes() == (local / "posterior.parquet").read_bytes()
    assert "Dask cluster" in (dask / "manifest.json").read_text()
