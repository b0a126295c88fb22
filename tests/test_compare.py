"""Tests for sim.whatif.compare and ``sim compare``: paired seeds, known differences, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.scenario import load_scenario
from sim.whatif.compare import (
    CompareError,
    compare_scenarios,
    distinct_labels,
    format_table,
    write_comparison,
)

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parent.parent


def share(attraction: dict[str, float], autonomy: float) -> dict[str, float]:
    """The share formula I = A / (sum A + autonomy), by hand."""
    total = sum(attraction.values()) + autonomy
    return {p: a / total for p, a in attraction.items()}


def test_scenario_against_itself_differs_by_exactly_zero():
    small = load_scenario(DATA / "small.yaml")
    comparison = compare_scenarios([small, small], replicates=4)
    assert comparison.labels == ["small", "small (2)"]
    diff = comparison.difference(1)
    assert diff.shape == (13, 4, 2, 2)
    assert np.all(diff == 0.0)
    # the runs themselves differ by seed, so zero is not trivial
    assert comparison.values(0)[-1, :, 0, 0].std() > 0
    table = comparison.table()
    assert len(table) == 4
    assert (table[["difference", "difference_p5", "difference_p95"]] == 0.0).all().all()


def test_known_difference_matches_the_share_formula():
    base = load_scenario(DATA / "two_by_two.yaml")
    more = load_scenario(DATA / "two_by_two_goodwill.yaml")
    comparison = compare_scenarios([base, more], replicates=3)
    before = share({"japan": 100 + 50 + 10, "china": 300 + 50 + 40}, 1000)
    after = share({"japan": 100 + 250 + 10, "china": 300 + 50 + 40}, 1000)
    diff = comparison.difference(1)  # (T + 1, R, S, P), states alpha, beta; powers japan, china
    for p, power in enumerate(["japan", "china"]):
        expected = after[power] - before[power]
        np.testing.assert_allclose(diff[:, :, 0, p], expected, rtol=0, atol=1e-12)
    assert np.all(diff[:, :, 1, :] == 0.0)  # beta is untouched
    table = comparison.table().set_index(["state", "power"])
    row = table.loc[("alpha", "japan")]
    assert row["difference"] == pytest.approx(after["japan"] - before["japan"], abs=1e-12)
    assert row["difference_p5"] == pytest.approx(row["difference_p95"], abs=1e-12)
    assert row["baseline_mean"] == pytest.approx(before["japan"], abs=1e-12)


def test_known_difference_in_goodwill_metric():
    base = load_scenario(DATA / "two_by_two.yaml")
    more = load_scenario(DATA / "two_by_two_goodwill.yaml")
    comparison = compare_scenarios([base, more], replicates=2, metric="goodwill")
    table = comparison.table().set_index(["state", "power"])
    assert table.loc[("alpha", "japan"), "difference"] == pytest.approx(200.0)
    assert table.loc[("alpha", "china"), "difference"] == 0.0


def test_seeds_are_paired_and_unchanged_states_differ_by_zero():
    # Without reserves: a reserve shared over states would carry the accord's reaction to beta.
    unbounded = [("powers.japan.reserve", None), ("powers.china.reserve", None)]
    small = load_scenario(DATA / "small.yaml", unbounded)
    accord = load_scenario(DATA / "small_accord.yaml", unbounded, seed=999)  # seed replaced
    comparison = compare_scenarios([small, accord], replicates=6)
    assert comparison.seeds == [5, 6, 7, 8, 9, 10]
    for recording in comparison.recordings:
        assert recording.seeds.tolist() == comparison.seeds
    diff = comparison.difference(1)
    beta = comparison.states.index("beta")
    assert np.all(diff[:, :, beta] == 0.0)  # the accord is in alpha only; noise is paired
    alpha = comparison.states.index("alpha")
    china = comparison.powers.index("china")
    accord_step = 4  # 2025Q4 closes at step 4
    assert np.all(diff[:accord_step, :, alpha] == 0.0)
    row = comparison.table().set_index(["state", "power"]).loc[("alpha", "china")]
    assert row["difference_p5"] > 0  # the accord raised China's share in every paired run
    assert row["difference_p5"] <= row["difference"] <= row["difference_p95"]
    assert diff[-1, :, alpha, china].min() > 0


def test_three_scenarios_are_each_compared_with_the_first():
    small = load_scenario(DATA / "small.yaml")
    accord = load_scenario(DATA / "small_accord.yaml")
    louder = load_scenario(DATA / "small.yaml", ["powers.japan.visibility=0.9", "name=louder"])
    comparison = compare_scenarios([small, accord, louder], replicates=3)
    table = comparison.table()
    assert sorted(set(table["scenario"])) == ["louder", "small_accord"]
    assert set(table["baseline"]) == {"small"}
    assert len(table) == 8
    trajectories = comparison.trajectory_table()
    assert len(trajectories) == 3 * 13 * 2 * 2
    first = trajectories[trajectories["scenario"] == "small"]
    assert (first["difference"] == 0).all()


def test_errors_are_clear():
    small = load_scenario(DATA / "small.yaml")
    with pytest.raises(CompareError, match="at least two"):
        compare_scenarios([small])
    with pytest.raises(CompareError, match="metric 'effort' is not allowed"):
        compare_scenarios([small, small], metric="effort")
    longer = load_scenario(DATA / "small.yaml", steps=20)
    with pytest.raises(CompareError, match="same quarters"):
        compare_scenarios([small, longer], replicates=2)


def test_labels_fall_back_to_file_stems():
    small = load_scenario(DATA / "small.yaml")
    assert distinct_labels([small, small], ["a/x.yaml", "b/y.yaml"]) == ["x", "y"]
    assert distinct_labels([small, small]) == ["small", "small (2)"]


def test_write_comparison_is_complete_and_deterministic(tmp_path):
    small = load_scenario(DATA / "small.yaml")
    accord = load_scenario(DATA / "small_accord.yaml")
    comparison = compare_scenarios([small, accord], replicates=3)
    first = write_comparison(comparison, out=tmp_path / "a")
    second = write_comparison(comparison, out=tmp_path / "b")
    names = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert "last_quarter.csv" in names and "alpha.png" in names and "beta.png" in names
    assert "runs/small_accord/moves.csv" in names
    for name in ("last_quarter.csv", "trajectories.csv", "alpha.png",
                 "runs/small/trajectories.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["kind"] == "comparison"
    assert manifest["labels"] == ["small", "small_accord"]
    assert manifest["seeds"] == [5, 6, 7]
    assert len(manifest["scenarios"]) == 2
    table = pd.read_csv(first / "last_quarter.csv")
    assert list(table.columns[:5]) == ["scenario", "baseline", "quarter", "state", "power"]
    assert first.parent.name == "compare"


def test_cli_compare(tmp_path, capsys):
    code = main(["compare", str(DATA / "two_by_two.yaml"), str(DATA / "two_by_two_goodwill.yaml"),
                 "--replicates", "2", "--out", str(tmp_path), "--metric", "share",
                 "--uncertainty", "none"])  # the exact difference, without the shipped posterior
    assert code == 0
    out = capsys.readouterr().out
    assert "more_goodwill vs two_by_two" in out
    assert "+10.2 pp" in out  # alpha, japan: 360/1750 - 160/1550, in percentage points
    assert "influence share in 2026Q4" in out
    folder = Path(out.strip().splitlines()[-1].removeprefix("results: "))
    assert (folder / "last_quarter.csv").is_file()


def test_cli_compare_at_a_quarter(tmp_path, capsys):
    files = [str(DATA / "two_by_two.yaml"), str(DATA / "two_by_two_goodwill.yaml")]
    assert main(["compare", *files, "--replicates", "2", "--out", str(tmp_path), "--no-plot",
                 "--at", "2025Q2"]) == 0
    out = capsys.readouterr().out
    assert "influence share in 2025Q2" in out and "2026Q4" not in out.split("results:")[0]
    folder = Path(out.strip().splitlines()[-1].removeprefix("results: "))
    table = pd.read_csv(folder / "trajectories.csv")
    row = table[(table["scenario"] == "more_goodwill") & (table["quarter"] == "2025Q2")
                & (table["state"] == "alpha") & (table["power"] == "japan")].iloc[0]
    assert f"{100 * row['difference']:+.1f} pp" in out
    assert set(table["unit"]) == {"fraction (0-1)"}


@pytest.mark.parametrize("at", ["2031Q1", "2024Q3", "2026Q5", "soon"])
def test_cli_compare_at_outside_the_run(tmp_path, capsys, at):
    files = [str(DATA / "two_by_two.yaml"), str(DATA / "two_by_two_goodwill.yaml")]
    assert main(["compare", *files, "--replicates", "2", "--out", str(tmp_path),
                 "--at", at]) == 2
    err = capsys.readouterr().err
    assert f"--at {at}" in err.replace("'", "") and "from 2024Q4 to 2026Q4" in err
    assert "Traceback" not in err
    assert not (tmp_path / "compare").exists()


def test_cli_compare_refuses_bad_input(tmp_path, capsys):
    assert main(["compare", str(DATA / "small.yaml"), "--out", str(tmp_path)]) == 2
    assert "at least two" in capsys.readouterr().err
    code = main(["compare", str(DATA / "small.yaml"), str(DATA / "missing.yaml"),
                 "--out", str(tmp_path)])
    assert code == 2
    assert "missing.yaml" in capsys.readouterr().err
    assert main(["compare", str(DATA / "small.yaml"), str(DATA / "small.yaml"),
                 "--replicates", "0", "--out", str(tmp_path)]) == 2
    assert not (tmp_path / "compare").exists()


def test_a_changed_reaction_that_never_triggered_is_named_with_its_peak(tmp_path, capsys):
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml",
                         [("powers.china.reaction.japan.width", 0.0)], steps=8)
    doubled = load_scenario(ROOT / "scenarios" / "baseline.yaml",
                            [("powers.china.reaction.japan.width", 0.0),
                             ("powers.china.reaction.japan.sensitivity", 4.0)], steps=8)
    comparison = compare_scenarios([base, doubled], replicates=2, labels=["step", "doubled"])
    notes = comparison.notes()
    assert any("China's reaction toward Japan never triggered: perceived share peaked at 4.7"
               in n and "threshold 5.00%" in n for n in notes), notes
    assert any("changed no output in any run" in n for n in notes), notes
    assert "Notes" in format_table(comparison)
    folder = write_comparison(comparison, out=tmp_path, plot=False)
    assert json.loads((folder / "manifest.json").read_text())["notes"] == notes
    # With the shipped ramp the same doubling acts: no note.
    ramp = load_scenario(ROOT / "scenarios" / "baseline.yaml", steps=8)
    doubled_ramp = load_scenario(ROOT / "scenarios" / "baseline.yaml",
                                 [("powers.china.reaction.japan.sensitivity", 4.0)], steps=8)
    assert compare_scenarios([ramp, doubled_ramp], replicates=2).notes() == []
