"""End-to-end runs of the command line, as a user would type them."""

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from clihelp import ROOT, SCENARIOS, run_in_process


def sim(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def only_run_folder(out):
    folders = [p for p in out.glob("*/*") if p.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


def test_run_writes_every_output(tmp_path):
    result = sim("run", SCENARIOS / "baseline.yaml", "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Turkmenistan" in result.stdout and "2034Q4" in result.stdout
    folder = only_run_folder(tmp_path)
    assert folder.parent.name == "baseline"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["events.csv", "influence.png", "manifest.json", "moves.csv",
                     "observables.csv", "spending.png", "trajectories.csv"]
    traj = pd.read_csv(folder / "trajectories.csv")
    assert list(traj.columns[:8]) == ["step", "quarter", "state", "power", "share", "footprint",
                                      "goodwill", "diplomatic"]
    assert len(traj) == 41 * 5 * 3
    moves = pd.read_csv(folder / "moves.csv")
    assert set(moves["type"]) == {"move", "reaction"}
    assert (moves.loc[moves.type == "move", "amount_usd_m"] > 0).all()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seed"] == 2025 and len(manifest["scenario_sha256"]) == 64
    assert {"sim", "python", "numpy", "mesa"} <= set(manifest["versions"])
    assert manifest["scenario"]["powers"]["japan"]["risk_tolerance"] == 0.35
    assert "run" in manifest["command"]
    assert (folder / "influence.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_events_are_logged(tmp_path):
    assert sim("run", SCENARIOS / "border_accord.yaml", "--out", tmp_path,
               "--no-plot").returncode == 0
    events = pd.read_csv(only_run_folder(tmp_path) / "events.csv")
    assert list(events["kind"])[:2] == ["border_accord", "budget_change"]
    assert events.loc[0, "quarter"] == "2025Q1"


@pytest.mark.slow
def test_same_scenario_and_seed_give_byte_identical_csv_files(tmp_path):
    for out in ("a", "b"):
        assert sim("run", SCENARIOS / "border_accord.yaml", "--out", tmp_path / out,
                   "--no-plot").returncode == 0
    a, b = only_run_folder(tmp_path / "a"), only_run_folder(tmp_path / "b")
    assert a.name == b.name
    for name in ("trajectories.csv", "moves.csv", "events.csv", "observables.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert sim("run", SCENARIOS / "border_accord.yaml", "--out", tmp_path / "c", "--no-plot",
               "--seed", "7").returncode == 0
    c = only_run_folder(tmp_path / "c")
    assert (c / "trajectories.csv").read_bytes() != (a / "trajectories.csv").read_bytes()


def test_set_seed_steps_and_replicates(tmp_path):
    result = sim("run", SCENARIOS / "baseline.yaml", "--out", tmp_path, "--no-plot",
                 "--set", "powers.japan.visibility=0.9", "--seed", "3", "--steps", "8",
                 "--replicates", "4")
    assert result.returncode == 0, result.stderr
    folder = only_run_folder(tmp_path)
    traj = pd.read_csv(folder / "trajectories.csv")
    assert sorted(traj["seed"].unique()) == [3, 4, 5, 6] and traj["step"].max() == 8
    summary = pd.read_csv(folder / "summary.csv")
    assert {"share_mean", "share_p5", "share_p95"} <= set(summary.columns)
    assert (summary.share_p5 <= summary.share_mean + 1e-9).all()
    assert (summary.share_mean <= summary.share_p95 + 1e-9).all()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["scenario"]["powers"]["japan"]["visibility"] == 0.9
    assert manifest["seeds"] == [3, 4, 5, 6]


def test_help_explains_every_option():
    text = sim("run", "--help").stdout
    for option in ("--set", "--seed", "--steps", "--replicates", "--out", "--no-plot"):
        assert option in text


@pytest.mark.parametrize("edit,fragment", [
    (lambda d: d["powers"]["japan"].update(budget={"invest": -1}), "powers.japan.budget.invest"),
    (lambda d: d["states"].update(kyrgyzstan="x"), "states.kyrgyzstan"),
    (lambda d: d["powers"]["china"]["reaction"].update(japn={}), "did you mean 'japan'"),
])
def test_bad_scenario_exits_2_without_traceback_or_output(tmp_path, tiny, edit, fragment):
    edit(tiny)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(tiny))
    out = tmp_path / "out"
    result = run_in_process("run", path, "--out", out)  # test_missing_file_and_bad_set: a process
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and fragment in result.stderr
    assert str(path) in result.stderr and len(result.stderr.splitlines()) <= 8
    assert not out.exists() or not any(out.rglob("*"))


def test_missing_file_and_bad_set(tmp_path):
    result = sim("run", tmp_path / "nope.yaml")
    assert result.returncode == 2 and "does not exist" in result.stderr
    result = sim("run", SCENARIOS / "baseline.yaml", "--set", "novalue", "--out", tmp_path)
    assert result.returncode == 2 and "field.path=value" in result.stderr
