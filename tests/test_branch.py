"""sim.scenario.branch: a branch shares its parent's history, seed for seed, up to ``at``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.errors import ScenarioError
from sim.outputs.run import run_scenario
from sim.scenario import load_scenario, validate
from sim.scenario.branch import segments
from sim.whatif.compare import compare_scenarios

DATA = Path(__file__).parent / "data"
ARRAYS = ("share", "footprint", "goodwill", "diplomatic", "effort", "stability", "spend",
          "signal", "response")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "child.yaml"
    path.write_text(text)
    (tmp_path / "small.yaml").write_text((DATA / "small.yaml").read_text())
    return path


def test_history_is_the_parents_up_to_the_branch_seed_for_seed():
    parent = run_scenario(load_scenario(DATA / "small.yaml"), 4)
    child_scenario = load_scenario(DATA / "small_branch.yaml")
    child = run_scenario(child_scenario, 4)
    k = 3  # 2025Q3 closes at step 3: rows 0..2 are the parent's
    assert child.quarters[k] == child_scenario.branch.at
    assert child.seeds.tolist() == parent.seeds.tolist() == [5, 6, 7, 8]
    for name in ARRAYS:
        a, b = getattr(parent, name), getattr(child, name)
        assert a.shape == b.shape
        assert np.array_equal(a[:k], b[:k]), name
    for name in ("share", "footprint", "spend"):
        assert not np.array_equal(getattr(parent, name)[k:], getattr(child, name)[k:]), name
    # the change matters in every run, from the branch quarter on
    japan = child.structure.powers.index("japan")
    assert (child.spend[k, :, 0, :, japan] > parent.spend[k, :, 0, :, japan]).any()
    summit = child.fired[:, 0, 1]  # the added summit fires in 2026Q1 (step 5) only
    assert summit.nonzero()[0].tolist() == [5]


def test_branch_without_changes_is_the_parent_bit_for_bit(tmp_path):
    path = write(tmp_path, "branch: {from: small.yaml, at: 2026Q2}\n")
    parent = run_scenario(load_scenario(DATA / "small.yaml"), 3)
    child = run_scenario(load_scenario(path), 3)
    for name in (*ARRAYS, "fired"):
        assert np.array_equal(getattr(parent, name), getattr(child, name)), name


def test_branched_scenario_round_trips_through_its_manifest():
    child = load_scenario(DATA / "small_branch.yaml")
    data = json.loads(json.dumps(child.model_dump(mode="json")))
    assert data["branch"]["from"] == "small.yaml" and data["branch"]["at"] == "2025Q3"
    assert data["branch"]["parent"]["name"] == "small"
    again = validate(data, "manifest")
    assert again.digest() == child.digest()
    assert np.array_equal(run_scenario(again).share, run_scenario(child).share)


def test_events_and_changes_are_merged():
    child = load_scenario(DATA / "small_branch.yaml")
    parent = load_scenario(DATA / "small.yaml")
    assert child.events[:1] == parent.events  # the parent's events come first, unchanged
    assert child.events[1].kind == "summit"
    assert child.powers["japan"].visibility == 0.9
    assert child.powers["japan"].budget.invest == 80
    assert child.powers["japan"].budget.soft_power == parent.powers["japan"].budget.soft_power


@pytest.mark.parametrize("text, message", [
    ("branch: {from: small.yaml, at: 2030Q1}\n", "is outside the run"),
    ("branch: {from: small.yaml, at: 2025Q9}\n", "not a quarter"),
    ("branch: {from: small.yaml}\n", "branch.at: required field is missing"),
    ("branch: {from: small.yaml, at: 2025Q3, when: 1}\n", "branch.when: unknown key"),
    ("branch: {from: other.yaml, at: 2025Q3}\n", "does not exist"),
    ("branch: {from: child.yaml, at: 2025Q3}\n", "cannot branch from itself"),
    ("branch: {from: small.yaml, at: 2025Q3}\nevents:\n"
     "  - {kind: stability_shock, at: 2025Q2, delta: -0.1}\n", "before the branch point"),
    ("branch: {from: small.yaml, at: 2025Q3}\nstates: {alpha: {stability: 0.2}}\n",
     "states.alpha.stability: differs from the parent's"),
    ("branch: {from: small.yaml, at: 2025Q3}\npowers: {russia: {}}\n",
     "a branch has the same actors"),
    ("branch: {from: small.yaml, at: 2025Q3}\nstart: 2024Q1\n", "keeps its parent's start"),
])
def test_bad_branches_are_refused(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError, match=message):
        load_scenario(path)


def test_changing_a_parent_event_is_refused():
    with pytest.raises(ScenarioError, match="keeps its parent's events"):
        load_scenario(DATA / "small_branch.yaml", ["events.0.diplomatic_gain=99"])


def test_cli_branch_options(tmp_path, capsys):
    small = str(DATA / "small.yaml")
    code = main(["run", small, "--branch-from", small, "--branch-at", "2026Q1",
                 "--set", "powers.china.budget.invest=400", "--out", str(tmp_path), "--quiet"])
    assert code == 0
    folder = Path(capsys.readouterr().out.strip().removeprefix("results: "))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["scenario"]["branch"]["at"] == "2026Q1"
    assert manifest["scenario"]["powers"]["china"]["budget"]["invest"] == 400
    assert manifest["scenario"]["branch"]["parent"]["powers"]["china"]["budget"]["invest"] == 200
    assert main(["run", small, "--branch-at", "2026Q1", "--out", str(tmp_path)]) == 2
    assert "give both" in capsys.readouterr().err


def test_comparing_a_branch_with_its_parent_differs_only_from_the_branch():
    parent = load_scenario(DATA / "small.yaml")
    child = load_scenario(DATA / "small_branch.yaml")
    diff = compare_scenarios([parent, child], replicates=3).difference(1)
    assert np.all(diff[:3] == 0.0)
    assert np.abs(diff[3:]).max() > 0


def _nested(tmp_path: Path, at: str) -> Path:
    """small.yaml <- small_branch.yaml (at 2025Q3) <- a branch of that at ``at``."""
    for name in ("small.yaml", "small_branch.yaml"):
        (tmp_path / name).write_text((DATA / name).read_text())
    path = tmp_path / "nested.yaml"
    path.write_text(f"branch: {{from: small_branch.yaml, at: {at}}}\nname: nested\n"
                    "powers:\n  china: {visibility: 0.8}\n")
    return path


def test_a_branch_is_resolved_once_into_stretches_that_cover_the_run(tmp_path):
    nested = load_scenario(_nested(tmp_path, "2026Q2"))
    stretches = segments(nested)
    assert [(s.scenario.name, s.depth, s.first, s.last) for s in stretches] == [
        ("small", 2, 1, 2), ("small_branch", 1, 3, 5), ("nested", 0, 6, 12)]
    assert all(s.scenario.seed == nested.seed for s in stretches)
    # A branch point before its parent's leaves the parent's own rules no stretch.
    early = load_scenario(_nested(tmp_path, "2025Q2"))
    assert [(s.scenario.name, s.first, s.last) for s in segments(early)] == [
        ("small", 1, 1), ("nested", 2, 12)]
    plain = load_scenario(DATA / "small.yaml")
    assert [(s.depth, s.first, s.last) for s in segments(plain)] == [(0, 1, plain.steps)]


def test_a_branch_of_a_branch_runs_each_ancestor_up_to_the_next_branch_point(tmp_path):
    nested = load_scenario(_nested(tmp_path, "2026Q2"))
    middle = load_scenario(tmp_path / "small_branch.yaml")
    run, parent = run_scenario(nested, 3), run_scenario(middle, 3)
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(run, name)[:6], getattr(parent, name)[:6])
    assert not np.array_equal(run.share[6:], parent.share[6:])
