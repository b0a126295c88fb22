"""``sim hindcast``: the files, the skill arithmetic, determinism and bad input (issue 11)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from clihelp import DATA, files_under, run_sim

from sim.cli.main import main as sim_main
from sim.history.hindcast import (
    OBSERVABLES_COLUMNS,
    SHIPPED_POSTERIORS,
    plan_hindcast,
    posterior_cutoff,
    run_hindcast,
    write_hindcast,
)
from sim.history.skill import SKILL_COLUMNS, series_errors, skill_table

SCENARIO = DATA / "history_small.yaml"
"""The baseline's world started at 2015Q1: step 0 is 2014Q4, the last step 2024Q4."""

INVEST = "powers.china.budget.invest"
HEDGING = "rules.hedging"
YEARS = list(range(2014, 2025))
MODELLED = ("trade_share", "trade_usd_bn", "remittances_gdp")


def write_posterior(path: Path, frame: pd.DataFrame, cutoff: int | None = 2016) -> Path:
    """A posterior file and, unless ``cutoff`` is None, the manifest recording its cut-off."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)
    if cutoff is not None:
        (path.parent / "manifest.json").write_text(json.dumps(
            {"kind": "calibration", "calibration": {"cutoff": cutoff}}), encoding="utf-8")
    return path


@pytest.fixture
def posterior(tmp_path):
    """A tiny weighted posterior over two fields of the scenario (fitted through 2016)."""
    return write_posterior(tmp_path / "posterior" / "posterior.parquet", pd.DataFrame(
        {INVEST: [600.0, 2000.0, 4000.0, 1200.0], HEDGING: [0.1, 0.2, 0.3, 0.25],
         "weight": [1.0, 2.0, 1.0, 0.0]}))


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """One real ``sim hindcast`` with a posterior, through the command line."""
    tmp = tmp_path_factory.mktemp("cli")
    path = write_posterior(tmp / "posterior.parquet",
                           pd.DataFrame({INVEST: [800.0, 3000.0], "weight": [1.0, 1.0]}))
    out = tmp / "out"
    result = run_sim("hindcast", SCENARIO, "--posterior", path, "--draws", "12", "--workers",
                     "1", "--cutoff", "2019", "--out", out)
    assert result.returncode == 0, result.stderr
    (folder,) = (out / "hindcast").iterdir()
    return result, folder


# --------------------------------------------------------------------------------------------
# Skill arithmetic, by hand
# --------------------------------------------------------------------------------------------


def _series(observable, state, observed, model):
    years = sorted(set(observed) | set(model))
    return pd.DataFrame({"year": years, "state": state, "partner": "china",
                         "observable": observable,
                         "model_mean": [model.get(y, 0.0) for y in years],
                         "observed": [observed.get(y, np.nan) for y in years]})


def test_skill_arithmetic_by_hand():
    table = pd.concat([
        # A: calibration 2015 = 1, 2017 = 2; test 2020 = 4, 2022 = 5; model 3 and 5.5.
        _series("trade_usd_bn", "a", {2015: 1.0, 2017: 2.0, 2020: 4.0, 2022: 5.0},
                {y: 0.0 for y in range(2014, 2023)} | {2020: 3.0, 2022: 5.5}),
        # B: one calibration observation (10 in 2016), one test observation (12 in 2019).
        _series("trade_usd_bn", "b", {2016: 10.0, 2019: 12.0},
                {y: 0.0 for y in range(2014, 2023)} | {2019: 13.0}),
        # C: only after the cut-off: scored against its starting value (the model's 2014, 1.0);
        # D: only before it.
        _series("trade_usd_bn", "c", {2021: 3.0}, {y: 1.0 for y in range(2014, 2023)}
                | {2021: 2.5}),
        _series("trade_share", "d", {2015: 0.2}, {y: 0.2 for y in range(2014, 2023)}),
    ])
    skill, skipped = skill_table(table, cutoff=2018)
    assert list(skill.columns) == SKILL_COLUMNS
    rows = {r.state: r for r in skill.itertuples()}
    a, b, c, pooled = rows["a"], rows["b"], rows["c"], rows["pooled"]
    # A: persistence carries 2 forward: errors 2 and 3; the trend through (2015, 1) and
    # (2017, 2) has slope 0.5: 3.5 in 2020 and 4.5 in 2022, errors 0.5 and 0.5; the model's
    # errors are 1 and 0.5.
    assert (a.n_calibration, a.n_test, a.baseline) == (2, 2, "last observation")
    assert a.mae_persistence == pytest.approx(2.5)
    assert a.mae_trend == pytest.approx(0.5)
    assert a.mae_model == pytest.approx(0.75)
    assert a.rel_mae == pytest.approx(0.3)
    # Two points: the interval is computed but no verdict is given.
    assert 0 < a.rel_mae_p5 <= a.rel_mae_p95 < 1
    assert a.verdict == "too few points" and not a.beats_persistence
    # B: a single calibration point: the trend is flat, like persistence.
    assert (b.mae_model, b.mae_persistence, b.mae_trend) == pytest.approx((1.0, 2.0, 2.0))
    assert b.rel_mae == pytest.approx(0.5)
    # C: persistence is the start value 1.0: error 2; the model's 2.5: error 0.5.
    assert (c.baseline, c.n_calibration, c.n_test) == ("start value", 0, 1)
    assert (c.mae_model, c.mae_persistence) == pytest.approx((0.5, 2.0))
    # Pooled: model errors 1, 0.5, 1, 0.5; persistence 2, 3, 2, 2.
    assert pooled.partner == "all" and pooled.n_test == 4 and pooled.n_calibration == 3
    assert pooled.mae_model == pytest.approx(3.0 / 4)
    assert pooled.mae_persistence == pytest.approx(9 / 4)
    assert pooled.rel_mae == pytest.approx(3.0 / 9)
    assert pooled.baseline == "mixed (1 of 3 from the start value)"
    assert pooled.verdict == "too few points"  # 4 points: below MIN_POINTS
    assert list(skill["state"]) == ["a", "b", "c", "pooled"]  # D's observable has none
    reasons = dict(zip(skipped["state"], skipped["reason"], strict=True))
    assert set(reasons) == {"d"} and "after the cut-off" in reasons["d"]


def test_persistence_that_is_exact_gives_an_infinite_relative_mae():
    years = np.arange(2014, 2020)
    observed = np.array([np.nan, 1.0, np.nan, np.nan, 1.0, np.nan])
    errors = series_errors(years, observed, np.full(6, 1.5), cutoff=2016)
    assert errors["persistence"].tolist() == [0.0]
    table = _series("trade_share", "x", {2015: 1.0, 2018: 1.0}, {y: 1.5 for y in range(2014, 2020)})
    skill, _ = skill_table(table, cutoff=2016)
    assert math.isinf(skill["rel_mae"].iloc[0]) and not skill["beats_persistence"].iloc[0]


def test_the_trend_is_clipped_to_the_observables_range():
    # A share falling 0.2 a year from 0.5 would be below 0 by 2019: the trend stops at 0.
    years = np.arange(2014, 2021)
    observed = np.array([0.5, 0.3, np.nan, np.nan, np.nan, 0.1, np.nan])
    errors = series_errors(years, observed, np.full(7, 0.1), cutoff=2015, bounds=(0.0, 1.0))
    assert errors["trend"] == pytest.approx([0.1])  # trend clipped to 0, truth 0.1


def _many(n_series: int, model_error: float, persistence_error: float, noise: float = 0.0):
    """Series with 3 test years each and given errors (a little spread with ``noise``)."""
    frames = []
    rng = np.random.default_rng(1)
    for i in range(n_series):
        observed = {2015: 1.0, 2020: 1.0 + persistence_error, 2021: 1.0 + persistence_error,
                    2022: 1.0 + persistence_error}
        model = {y: 1.0 for y in range(2014, 2023)}
        for y in (2020, 2021, 2022):
            model[y] = observed[y] - model_error * (1 + noise * rng.uniform(-1, 1))
        frames.append(_series("trade_usd_bn", f"s{i}", observed, model))
    return pd.concat(frames)


def test_the_verdict_needs_the_whole_interval_below_one_and_enough_points():
    # 4 series x 3 years: the model's errors are a third of persistence's everywhere.
    skill, _ = skill_table(_many(4, 0.1, 0.3, noise=0.5), cutoff=2019)
    pooled = skill[skill["state"] == "pooled"].iloc[0]
    assert pooled.n_test == 12 and pooled.rel_mae_p95 < 1
    assert pooled.verdict == "beats persistence" and pooled.beats_persistence
    # The model three times worse: the interval lies above 1.
    skill, _ = skill_table(_many(4, 0.9, 0.3, noise=0.5), cutoff=2019)
    pooled = skill[skill["state"] == "pooled"].iloc[0]
    assert pooled.rel_mae_p5 > 1 and pooled.verdict == "worse than persistence"
    # Half the series good, half bad: the interval holds 1, no verdict either way.
    mixed = pd.concat([_many(3, 0.05, 0.3), _many(3, 0.6, 0.3).assign(
        state=lambda f: f["state"] + "b")])
    skill, _ = skill_table(mixed, cutoff=2019)
    pooled = skill[skill["state"] == "pooled"].iloc[0]
    assert pooled.rel_mae_p5 < 1 < pooled.rel_mae_p95 and pooled.verdict == "cannot tell"
    # The interval is reproducible (fixed seed).
    again, _ = skill_table(mixed, cutoff=2019)
    assert again.equals(skill)


# --------------------------------------------------------------------------------------------
# The folder
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_folder_holds_every_file_with_its_columns(cli_run):
    result, folder = cli_run
    names = {p.name for p in folder.iterdir()}
    assert {"observables.csv", "skill.csv", "skipped.csv", "manifest.json",
            "report.html"} <= names
    assert {"kazakhstan.png", "region.png", "turkmenistan.png"} <= names
    table = pd.read_csv(folder / "observables.csv")
    assert list(table.columns) == [*OBSERVABLES_COLUMNS, "unit"]  # the unit last (issue 12)
    assert list(pd.read_csv(folder / "skill.csv").columns) == [*SKILL_COLUMNS, "unit"]
    for column in ("state", "partner", "observable"):
        assert (table[column] == table[column].str.lower()).all()
    assert (table["model_p5"] <= table["model_mean"] + 1e-12).all()
    assert (table["model_mean"] <= table["model_p95"] + 1e-12).all()
    assert folder.parent.name == "hindcast"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "hindcast" and manifest["cutoff"] == 2019
    assert manifest["uncertainty"]["kind"] == "posterior"
    assert manifest["uncertainty"]["drawn"] == [INVEST]
    assert len(manifest["seeds"]) == 12 and manifest["executor"] == "in-process"
    assert manifest["years"] == [2014, 2024]


@pytest.mark.slow
def test_every_series_has_every_year_2014_to_2024(cli_run):
    _, folder = cli_run
    table = pd.read_csv(folder / "observables.csv")
    assert set(MODELLED) <= set(table["observable"])
    for observable in MODELLED:
        part = table[table["observable"] == observable]
        for _, series in part.groupby(["state", "partner"]):
            assert sorted(series["year"]) == YEARS
    region = table[(table["state"] == "region") & (table["observable"] == "trade_share")]
    assert sorted(region["partner"].unique()) == ["china", "japan", "russia"]


@pytest.mark.slow
def test_observed_holds_the_record_and_is_empty_elsewhere(cli_run):
    from sim.history.observed import load_observed

    _, folder = cli_run
    table = pd.read_csv(folder / "observables.csv")
    record = load_observed()
    keys = ["year", "state", "partner", "observable"]
    joined = table.merge(record[keys + ["value"]], on=keys, how="left")
    matched = joined["value"].notna()
    assert matched.sum() > 20
    assert np.allclose(joined.loc[matched, "observed"], joined.loc[matched, "value"])
    assert joined.loc[~matched, "observed"].isna().all()
    kazakh = table[(table["year"] == 2023) & (table["state"] == "kazakhstan")
                   & (table["partner"] == "china") & (table["observable"] == "trade_share")]
    assert kazakh["observed"].tolist() == [0.213]


@pytest.mark.slow
def test_the_printout_and_report_say_what_the_bands_include(cli_run):
    result, folder = cli_run
    out = result.stdout
    assert "model mean" in out and "90% band" in out and "relative MAE" in out
    assert "over 12 seeds and posterior draws" in out
    assert "%" in out and " bn" in out
    assert out.strip().splitlines()[-1] == f"results: {folder}"
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert page.count('<img src="data:image/png;base64,') >= 5
    assert "posterior draws" in page and "relative MAE" in page and "persistence" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page


def test_no_posterior_runs_the_scenario_as_written_and_says_so(tmp_path, capsys, posterior):
    status = sim_main(["hindcast", str(SCENARIO), "--posterior", "none", "--draws", "6",
                       "--cutoff", "2019", "--workers", "1", "--no-plot", "--out", str(tmp_path)])
    assert status == 0
    out = capsys.readouterr().out
    assert "over 6 seeds only (parameters as written)" in out
    (folder,) = (tmp_path / "hindcast").iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["uncertainty"]["kind"] == "none" and manifest["uncertainty"]["drawn"] == []
    assert "--posterior none" in (folder / "report.html").read_text(encoding="utf-8")


def test_the_planned_years_are_the_years_the_observables_report(tmp_path):
    scenario = tmp_path / "midyear.yaml"  # step 0 is 2015Q2: 2015 is incomplete, 2016-2017 whole
    scenario.write_text(yaml.safe_dump({"extends": str(SCENARIO), "start": "2015Q3",
                                        "steps": 10}))
    result = run_hindcast(plan_hindcast(scenario, posterior="none", draws=2, cutoff=2016),
                          quiet=True)
    assert result.plan.years == (2016, 2017)
    assert sorted(result.observables["year"].unique()) == [2016, 2017]


def _band(result, state, partner, observable, year):
    t = result.observables
    row = t[(t["state"] == state) & (t["partner"] == partner) & (t["observable"] == observable)
            & (t["year"] == year)].iloc[0]
    return row["model_p95"] - row["model_p5"]


def test_the_posterior_draws_widen_the_band(posterior):
    drawn = run_hindcast(plan_hindcast(SCENARIO, posterior=posterior, draws=16), quiet=True)
    fixed = run_hindcast(plan_hindcast(SCENARIO, posterior="none", draws=16), quiet=True)
    wide = _band(drawn, "region", "china", "trade_usd_bn", 2024)
    narrow = _band(fixed, "region", "china", "trade_usd_bn", 2024)
    assert wide > 5 * narrow
    # The weight-0 row (invest 1200) is never drawn.
    assert 1200.0 not in set(drawn.plan.draws.values[INVEST].tolist())


@pytest.mark.slow
def test_the_same_files_for_any_number_of_workers_and_chunks(tmp_path, posterior):
    plan = plan_hindcast(SCENARIO, posterior=posterior, draws=10)
    folders = []
    for name, workers, chunk in (("one", 1, 50), ("two", 2, 3), ("chunks", 1, 4)):
        result = run_hindcast(plan, workers=workers, quiet=True, chunk_runs=chunk)
        folders.append(write_hindcast(result, out=tmp_path / name, plot=False))
    assert len({f.name for f in folders}) == 1
    for file in ("observables.csv", "skill.csv", "skipped.csv"):
        first = (folders[0] / file).read_bytes()
        assert all((f / file).read_bytes() == first for f in folders[1:]), file


@pytest.mark.cluster
def test_a_dask_cluster_gives_the_same_tables(posterior):
    distributed = pytest.importorskip("distributed")
    plan = plan_hindcast(SCENARIO, posterior=posterior, draws=6)
    local = run_hindcast(plan, quiet=True, chunk_runs=2)
    with distributed.LocalCluster(processes=False, n_workers=2, threads_per_worker=1,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        remote = run_hindcast(plan, scheduler=client, quiet=True, chunk_runs=2)
    pd.testing.assert_frame_equal(remote.observables, local.observables)
    pd.testing.assert_frame_equal(remote.skill, local.skill)


# --------------------------------------------------------------------------------------------
# Bad input: exit 2, a clear message, nothing written
# --------------------------------------------------------------------------------------------


def _refused(capsys, tmp_path, *args: str) -> str:
    out = tmp_path / "out"
    status = sim_main(["hindcast", *args, "--draws", "4", "--workers", "1", "--quiet",
                       "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err and 1 <= len(err.strip().splitlines()) <= 12, err
    assert files_under(out) == []
    return err


def test_a_missing_posterior_is_refused(tmp_path, capsys):
    err = _refused(capsys, tmp_path, str(SCENARIO), "--posterior", str(tmp_path / "no.parquet"))
    assert "no.parquet" in err and "--posterior none" in err and "sim calibrate" in err


def test_a_posterior_column_that_is_not_a_field_is_refused(tmp_path, capsys):
    path = write_posterior(tmp_path / "posterior.parquet",
                           pd.DataFrame({"powers.china.budget.investt": [1.0], "weight": [1.0]}))
    err = _refused(capsys, tmp_path, str(SCENARIO), "--posterior", str(path))
    assert "powers.china.budget.investt" in err and "not a numeric field" in err
    assert f"did you mean {INVEST}" in err


def test_posterior_values_the_scenario_refuses_are_refused(tmp_path, capsys):
    path = write_posterior(tmp_path / "posterior.parquet",
                           pd.DataFrame({INVEST: [-5.0, 100.0], "weight": [1.0, 1.0]}))
    err = _refused(capsys, tmp_path, str(SCENARIO), "--posterior", str(path))
    assert INVEST in err and "-5" in err


def test_a_posterior_fitted_past_the_cutoff_is_refused(tmp_path, capsys):
    path = write_posterior(tmp_path / "fit" / "posterior.parquet",
                           pd.DataFrame({INVEST: [800.0], "weight": [1.0]}), cutoff=2019)
    err = _refused(capsys, tmp_path, str(SCENARIO), "--posterior", str(path), "--cutoff", "2017")
    assert "fitted on observations through 2019" in err and "--cutoff 2017" in err
    assert "2018-2019" in err and "sim calibrate --cutoff 2017" in err
    # Fitted through the cut-off itself, or earlier: accepted.
    plan = plan_hindcast(SCENARIO, posterior=path, cutoff=2019, draws=2)
    assert plan.posterior_cutoff == 2019


def test_a_posterior_without_its_recorded_cutoff_is_refused(tmp_path, capsys):
    path = write_posterior(tmp_path / "bare" / "posterior.parquet",
                           pd.DataFrame({INVEST: [800.0], "weight": [1.0]}), cutoff=None)
    err = _refused(capsys, tmp_path, str(SCENARIO), "--posterior", str(path), "--cutoff", "2019")
    assert "no manifest.json beside it" in err and "unknown" in err
    (path.parent / "manifest.json").write_text('{"kind": "calibration"}', encoding="utf-8")
    err = _refused(capsys, tmp_path, str(SCENARIO), "--posterior", str(path), "--cutoff", "2019")
    assert "records no calibration.cutoff" in err


def test_the_shipped_posteriors_record_their_cutoffs():
    for cutoff, path in SHIPPED_POSTERIORS.items():
        if path.is_file():
            assert posterior_cutoff(path) == cutoff, path


def test_a_cutoff_without_a_shipped_posterior_is_refused(tmp_path, capsys):
    err = _refused(capsys, tmp_path, str(SCENARIO), "--cutoff", "2018")
    assert "no shipped posterior is fitted through 2018" in err
    assert "sim calibrate --cutoff 2018" in err


def test_two_cutoffs_give_two_folders_and_a_rolling_origin_table(tmp_path, capsys, posterior):
    out = tmp_path / "out"
    status = sim_main(["hindcast", str(SCENARIO), "--posterior", str(posterior), "--cutoff",
                       "2017", "2019", "--draws", "4", "--workers", "1", "--no-plot",
                       "--out", str(out)])
    printed = capsys.readouterr().out
    assert status == 0
    folders = sorted(p.name for p in (out / "hindcast").iterdir())
    assert sorted(f[-5:] for f in folders) == ["c2017", "c2019"]
    assert "rolling origin (each cut-off with its own fit)" in printed
    for folder in (out / "hindcast").iterdir():
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["posterior_cutoff"] == 2016
        assert manifest["cutoff"] == int(folder.name[-4:])


@pytest.mark.parametrize("cutoff", ["2013", "2024", "2031"])
def test_a_cutoff_outside_the_run_is_refused(tmp_path, capsys, cutoff):
    err = _refused(capsys, tmp_path, str(SCENARIO), "--posterior", "none", "--cutoff", cutoff)
    assert f"--cutoff {cutoff}" in err and "2014-2024" in err and "2014 to 2023" in err


def test_a_missing_scenario_and_zero_draws_are_refused(tmp_path, capsys):
    err = _refused(capsys, tmp_path, str(tmp_path / "nope.yaml"), "--posterior", "none")
    assert "nope.yaml" in err and "no such scenario file" in err
    out = tmp_path / "out"
    status = sim_main(["hindcast", str(SCENARIO), "--posterior", "none", "--draws", "0",
                       "--out", str(out)])
    assert status == 2 and "--draws 0" in capsys.readouterr().err
    assert files_under(out) == []


def test_a_diverging_replicate_stops_with_status_3_and_writes_nothing(tmp_path, capsys):
    runaway = {"rule": "linear", "sensitivity": 100}
    scenario = tmp_path / "runaway.yaml"
    scenario.write_text(yaml.safe_dump({
        "extends": str(SCENARIO), "name": "runaway", "steps": 1000, "precision": "float32",
        "powers": {"china": {"reaction": {"japan": runaway}, "restraint": 0,
                             "reserve": None},
                   "japan": {"reaction": {"china": runaway}, "restraint": 0,
                             "reserve": None, "initial_effort": 1}}}))
    out = tmp_path / "out"
    status = sim_main(["hindcast", str(scenario), "--posterior", "none", "--draws", "2",
                       "--cutoff", "2019", "--workers", "1", "--quiet", "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 3, err
    assert "diverged at step" in err and "seed 2015" in err and "Traceback" not in err
    assert files_under(out) == []


def test_history_only_columns_are_applied_to_the_history_scenario(tmp_path):
    """A ``history:events.0.factor`` column scales the scenario's budget_change event."""
    scenario = tmp_path / "budgets.yaml"
    scenario.write_text(yaml.safe_dump({
        "extends": str(SCENARIO), "name": "budgets",
        "events": [{"kind": "budget_change", "at": "2015Q1", "power": "china",
                    "channel": "invest", "factor": 1.0}]}))
    path = write_posterior(tmp_path / "posterior.parquet", pd.DataFrame(
        {"history:events.0.factor": [0.2, 0.25], "weight": [1.0, 1.0]}))
    plan = plan_hindcast(scenario, posterior=path, draws=6)
    assert list(plan.draws.values) == ["events.0.factor"]
    assert set(plan.draws.values["events.0.factor"]) <= {0.2, 0.25}
    scaled = run_hindcast(plan, quiet=True).observables
    written = run_hindcast(plan_hindcast(scenario, posterior="none", draws=6),
                           quiet=True).observables

    def china(table):
        row = table[(table["state"] == "region") & (table["partner"] == "china")
                    & (table["observable"] == "trade_usd_bn") & (table["year"] == 2019)]
        return float(row["model_mean"].iloc[0])

    # Investment reaches trade as 0.1 of the stock a year beside the goods (ODD 7.11): a fifth
    # of China's 2015-2019 investment leaves its 2019 regional trade about 2% lower.
    assert china(scaled) < 0.99 * china(written)
