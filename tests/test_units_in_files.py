"""Every number a program reads carries its unit (issue 12, item 4).

Long tables (a value column whose rows are different quantities) have a ``unit`` column, last;
every results folder's manifest lists the unit of every column of every CSV and Parquet file in
it, and every Parquet file holds its units in its schema. Column names do not change. The checks
read the files the commands wrote, so a new column without a registered unit fails them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from clihelp import DATA
from sweep_helpers import write_sweep

from sim.cli.main import main
from sim.outputs.folders import write_csv
from sim.outputs.units import KEY_COLUMNS, OBSERVABLE_UNITS, folder_units, with_unit_column

EXPECTED = {"trade_share": "fraction (0-1)", "trade_usd_bn": "USD bn",
            "remittances_gdp": "fraction of GDP (0-1)", "remittances_usd_bn": "USD bn"}
"""The units of the observables, written out here so that a changed registry shows."""


def data_files(folder: Path) -> list[Path]:
    """The CSV and Parquet files of a results folder, not those of a folder inside with a
    manifest of its own (a comparison's runs, a sweep's discoveries)."""
    own = [p.parent for p in folder.rglob("manifest.json") if p.parent != folder]
    return [p for p in sorted(folder.rglob("*")) if p.suffix in (".csv", ".parquet")
            and not any(o in p.parents for o in own)]


def columns(path: Path) -> list[str]:
    """A CSV or Parquet file's column names."""
    if path.suffix == ".parquet":
        return pq.read_schema(path).names
    return list(pd.read_csv(path, nrows=0).columns)


def check_folder(folder: Path) -> dict[str, dict[str, str]]:
    """Assert that the manifest gives a unit to each non-key column of each file of ``folder``,
    and that each Parquet file carries the same units in its schema. Returns the entry."""
    units = json.loads((folder / "manifest.json").read_text())["units"]
    files = data_files(folder)
    assert files, folder
    for path in files:
        name = re.sub(r"\d+", "*", path.relative_to(folder).as_posix())
        assert name in units, f"{name} is not in the manifest's units"
        for column in columns(path):
            if column in KEY_COLUMNS:
                assert column not in units[name], (name, column)
                continue
            unit = units[name].get(column)
            assert isinstance(unit, str) and unit.strip(), f"{name}: {column} has no unit"
        if path.suffix == ".parquet":
            schema = pq.read_schema(path)
            file_units = json.loads(schema.metadata[b"units"])
            for field in schema:
                if field.name in KEY_COLUMNS:
                    assert not (field.metadata or {}).get(b"unit"), (name, field.name)
                    continue
                assert field.metadata[b"unit"].decode() == units[name][field.name]
                assert file_units[field.name] == units[name][field.name]
    assert set(units) == {re.sub(r"\d+", "*", p.relative_to(folder).as_posix()) for p in files}
    return units


def check_long(path: Path, key: str = "observable") -> pd.DataFrame:
    """Assert that a long table has a ``unit`` column, last and full, right for each row."""
    table = pd.read_csv(path, keep_default_na=False)
    assert table.columns[-1] == "unit", path
    assert len(table) and (table["unit"].str.strip() != "").all(), path
    if key == "observable":
        for observable, unit in table.groupby("observable")["unit"].unique().items():
            assert list(unit) == [EXPECTED.get(observable, OBSERVABLE_UNITS[observable])]
    return table


def only_folder(root: Path) -> Path:
    """The one results folder (the folder of the one top-level manifest.json) under root."""
    manifests = sorted(root.rglob("manifest.json"), key=lambda p: len(p.parts))
    return manifests[0].parent


def test_one_run(tmp_path):
    assert main(["run", str(DATA / "small.yaml"), "--out", str(tmp_path), "--no-plot",
                 "--quiet"]) == 0
    folder = only_folder(tmp_path)
    units = check_folder(folder)
    assert units["trajectories.csv"]["share"] == "fraction (0-1)"
    assert units["trajectories.csv"]["footprint"] == "USD m"
    assert units["moves.csv"]["amount_usd_m"] == "USD m per quarter"
    table = check_long(folder / "observables.csv")
    assert list(table.columns) == ["year", "state", "partner", "observable", "value", "unit"]
    assert {"trade_share", "trade_usd_bn"} <= set(table["observable"])
    trajectories = pd.read_csv(folder / "trajectories.csv")  # names as they always were
    assert list(trajectories.columns) == ["step", "quarter", "state", "power", "share",
                                          "footprint", "goodwill", "diplomatic", "effort",
                                          "stability"]


def test_replicates(tmp_path):
    assert main(["run", str(DATA / "small.yaml"), "--out", str(tmp_path), "--no-plot",
                 "--quiet", "--replicates", "3"]) == 0
    folder = only_folder(tmp_path)
    units = check_folder(folder)
    assert {"summary.csv", "runs/moves-seed*.csv", "observables.csv"} <= set(units)
    assert units["summary.csv"]["share_p95"] == "fraction (0-1)"
    assert units["summary.csv"]["effort_mean"].startswith("USD m per quarter")
    table = check_long(folder / "observables.csv")
    assert list(table.columns)[:2] == ["seed", "year"] and table["seed"].nunique() == 3


def test_compare(tmp_path):
    assert main(["compare", str(DATA / "small.yaml"), str(DATA / "small_china_push.yaml"),
                 "--replicates", "3", "--out", str(tmp_path), "--no-plot", "--quiet"]) == 0
    folder = only_folder(tmp_path)
    units = check_folder(folder)
    assert units["last_quarter.csv"]["difference"] == "the row's unit (its unit column)"
    last = pd.read_csv(folder / "last_quarter.csv")
    assert set(last["unit"]) == {"fraction (0-1)"}  # the metric is the share
    for run in (folder / "runs").iterdir():
        check_folder(run)
        check_long(run / "observables.csv")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A tiny Morris sweep that keeps trajectories (12 runs of 8 quarters)."""
    tmp = tmp_path_factory.mktemp("sweep")
    path = write_sweep(tmp, name="units", design="morris", samples=4, seeds=1,
                       keep={"trajectories": True},
                       parameters={"powers.japan.risk_tolerance": {"bounds": [0.1, 0.6]},
                                   "powers.china.reaction.japan.sensitivity":
                                       {"bounds": [0.0, 4.0]}})
    assert main(["sweep", str(path), "--workers", "1", "--out", str(tmp / "out"),
                 "--quiet"]) == 0
    return tmp / "out" / "units"


def test_sweep(sweep):
    units = check_folder(sweep)
    assert {"runs.parquet", "summary.parquet", "parts/runs-*.parquet",
            "trajectories/part-*.parquet", "sensitivity.csv"} <= set(units)
    runs = units["runs.parquet"]
    assert runs["influence_end_japan"] == "fraction (0-1)"
    assert runs["spend_total_china"].startswith("USD m")
    assert runs["powers.japan.risk_tolerance"].startswith("the field's own unit")
    field = pq.read_schema(sweep / "summary.parquet").field("influence_peak_russia_p95")
    assert field.metadata[b"unit"] == b"fraction (0-1)"
    table = check_long(sweep / "sensitivity.csv", key="output")
    assert dict(zip(table["output"], table["unit"], strict=False))["spend_total_japan"] == \
        runs["spend_total_japan"]


def test_discover(sweep):
    median = float(pd.read_parquet(sweep / "runs.parquet")["influence_end_japan"].median())
    assert main(["discover", str(sweep), "--outcome", f"influence_end_japan > {median!r}",
                 "--quiet"]) == 0
    (folder,) = (sweep / "discover").iterdir()
    units = check_folder(folder)
    assert units["trajectory.csv"]["coverage"] == "fraction (0-1)"
    assert units["box.csv"]["restricted"] == "true/false"
    check_folder(sweep)  # the sweep's entry is not confused by the discovery inside it


def test_hindcast(tmp_path):
    assert main(["hindcast", str(DATA / "history_small.yaml"), "--posterior", "none",
                 "--cutoff", "2019", "--draws", "2", "--no-plot", "--workers", "1",
                 "--out", str(tmp_path), "--quiet"]) == 0
    folder = only_folder(tmp_path)
    check_folder(folder)
    observables = check_long(folder / "observables.csv")
    assert {"trade_share", "remittances_gdp"} <= set(observables["observable"])
    check_long(folder / "skill.csv")


def test_a_column_without_a_unit_fails_the_check(tmp_path):
    """The check above is what catches a new column nobody gave a unit."""
    write_csv(pd.DataFrame({"step": [0], "share": [0.1], "mystery": [1.0]}), tmp_path / "t.csv")
    units = folder_units(tmp_path)
    assert units == {"t.csv": {"share": "fraction (0-1)"}}
    (tmp_path / "manifest.json").write_text(json.dumps({"units": units}))
    with pytest.raises(AssertionError, match="mystery has no unit"):
        check_folder(tmp_path)


def test_an_observable_without_a_unit_is_refused():
    frame = pd.DataFrame({"observable": ["trade_share", "tea_tonnes"], "value": [0.1, 3.0]})
    with pytest.raises(KeyError, match="tea_tonnes"):
        with_unit_column(frame)
    assert list(with_unit_column(frame.iloc[:1])["unit"]) == ["fraction (0-1)"]


def test_calibrate(tmp_path, monkeypatch):
    from sim.history import calibrate as cal

    monkeypatch.setattr(cal, "INSTALL_DIR", tmp_path / "installed")  # never the shipped one
    assert main(["calibrate", "--out", str(tmp_path), "--workers", "1", "--population", "40",
                 "--generations", "2", "--quiet", "--no-plot"]) == 0
    folder = only_folder(tmp_path)
    units = check_folder(folder)
    assert units["posterior.parquet"]["rules.hedging"].startswith("the field's own unit")
    fit = check_long(folder / "fit.csv")
    assert "remittances_usd_bn" in set(fit["observable"])


def test_optimise(tmp_path):
    from test_optimise import write_file

    assert main(["optimise", str(write_file(tmp_path)), "--out", str(tmp_path / "out"),
                 "--workers", "1", "--quiet"]) == 0
    folder = tmp_path / "out" / "optimise" / "small"
    units = check_folder(folder)
    assert units["pareto.csv"]["kazakhstan.invest_usd_m"] == "USD m per quarter"
    assert units["pareto.csv"]["influence_p10"] == "fraction (0-1)"
    summary = check_long(folder / "evaluation_summary.csv", key="measure")
    assert dict(zip(summary["measure"], summary["unit"], strict=False)) == {
        "influence_share": "fraction (0-1)",
        "provoked_reaction_usd_m_per_quarter": units["evaluation.csv"][
            "provoked_reaction_usd_m_per_quarter"]}
