"""Silent wrong data found by the adversarial pass (issue 13): each case now fails loudly.

- an actor added by an extending scenario only with ``new: true`` (the misspelt cases are in
  tests/data/bad/ and test_bad_input.py);
- sums that overflow although each term is finite: a divergence, not shares of 0, and a sweep
  records such runs as diverged;
- names that map to the same file name in ``sim compare``: refused, naming both.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
from clihelp import ROOT, SMALL, assert_refused, run_in_process, run_sim

from sim.engine import compile_scenario, make_batch, repeat, simulate
from sim.errors import ScenarioError
from sim.outputs.folders import OutputError, distinct_safe_names
from sim.scenario import load_scenario, set_path, validate
from sim.sweep.layout import Chunk
from sim.sweep.worker import ChunkTask, run_chunk

rules = importlib.import_module("sim.engine.rules")
state_module = importlib.import_module("sim.engine.state")


# ------------------------------------------------------------------ actors: new: true


def _child(tmp_path: Path, body: str, name: str = "child.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"extends: {SMALL}\nname: child\n{body}")
    return path


def test_an_extending_scenario_adds_an_actor_only_with_new_true(tmp_path):
    child = _child(tmp_path, "powers:\n  usa: {new: true, budget: {invest: 50}}\n"
                             "states:\n  mongolia: {new: true, stability: 0.5}\n")
    scenario = load_scenario(child)
    assert scenario.power_names == ["japan", "china", "usa"]
    assert scenario.state_names == ["kazakhstan", "kyrgyzstan", "mongolia"]
    assert scenario.powers["usa"].budget.invest == 50
    assert "new" not in str(scenario.model_dump(mode="json")["powers"]["usa"])
    # A grandchild changes the added actor without the marker (its parent has it now).
    grandchild = tmp_path / "grandchild.yaml"
    grandchild.write_text(f"extends: {child}\npowers:\n  usa: {{visibility: 0.1}}\n")
    assert load_scenario(grandchild).powers["usa"].visibility == 0.1


def test_new_is_accepted_only_as_the_marker(tmp_path):
    data = load_scenario(SMALL).model_dump(mode="json")
    data["powers"]["japan"]["new"] = True
    with pytest.raises(ScenarioError, match="powers.japan.new: unknown key"):
        validate(data)  # the loader takes the marker; the schema never accepts it
    top = tmp_path / "top.yaml"
    top.write_text(SMALL.read_text() + "new: true\n")
    with pytest.raises(ScenarioError, match="new: unknown key"):
        load_scenario(top)


def test_set_fills_a_null_mapping_but_never_creates_an_actor():
    data = load_scenario(SMALL).model_dump(mode="json")
    assert data["powers"]["japan"]["allocation"] is None
    set_path(data, "powers.japan.allocation.kyrgyzstan", 2.0)  # as --set does on the file
    assert validate(data).powers["japan"].allocation == {"kyrgyzstan": 2.0}
    with pytest.raises(ScenarioError, match="did you mean 'china'"):
        set_path(data, "powers.chnia.visibility", 0.2)
    assert "chnia" not in data["powers"]


# ------------------------------------------------------------------ overflow in sums


def test_a_sum_that_overflows_is_not_a_share_of_zero():
    """Two footprints of 3e38 each fit float32; their sum does not."""
    footprint = np.array([[[3e38, 3e38, 1.0]]], dtype=np.float32)
    zeros = np.zeros_like(footprint)
    weights = np.array([[1.0, 1.0, 1.0]], dtype=np.float32)
    autonomy = np.array([[1000.0]], dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        share = state_module.influence_shares(footprint, zeros, zeros, weights, autonomy)
    assert np.isnan(share[0, 0, 0])  # the largest power is named as diverged
    assert not (share == 0).all()


def test_stability_is_not_clipped_out_of_an_overflow():
    one = np.ones((1, 1), dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        out = rules.update_stability(
            0.5 * one, 0.5 * one, np.zeros(1, np.float32), np.array([[[3e38, 3e38]]], np.float32),
            np.ones(1, np.float32), np.zeros((1, 1), np.float32), None)
    assert np.isnan(out).all()


def test_two_huge_footprints_diverge_through_the_cli(tmp_path):
    out = tmp_path / "results"
    result = run_sim("run", SMALL, "--no-plot", "--out", out,
                     "--set", "states.kazakhstan.initial.footprint.china=3e38",
                     "--set", "states.kazakhstan.initial.footprint.japan=3e38")
    err = assert_refused(result, out, status=3)
    assert "influence share of" in err and "kazakhstan" in err and "float64" in err


def test_a_sweep_records_runs_whose_summaries_overflow_as_diverged():
    """A destabilisation budget of 1e38 a quarter: the state stays finite, the spend sum not.

    The states absorb destabilising spend without limit here (``absorption.destabilise:
    null``): rationed, the spend that counts is bounded and nothing overflows.
    """
    scenario = load_scenario(SMALL, steps=8, overrides=[
        ("powers.china.budget.destabilise", 1e38), ("powers.china.max_spend_multiplier", 1.0),
        *((f"states.{s}.absorption.destabilise", None) for s in ("kazakhstan", "kyrgyzstan"))])
    structure, params = compile_scenario(scenario)
    final = simulate(make_batch(structure, repeat(params, 2), np.arange(2)),
                     on_divergence="flag")
    assert (final.diverged_step == -1).all(), "the case must be about the summaries only"
    task = ChunkTask(key="overflowing-summaries", scenario=scenario.model_dump(mode="json"),
                     paths=("powers.japan.visibility",), values=np.array([[0.5], [0.6]]),
                     chunk=Chunk(0, 0, 2, 2), sweep_seed=1,
                     outputs=("influence_end", "spend_total"), trajectories=False, every=1)
    result = run_chunk(task)
    runs, summary = result.runs.to_pandas(), result.summary.to_pandas()
    assert (runs["diverged_step"] == 8).all()
    assert (summary["n_diverged"] == 2).all()
    numbers = runs.drop(columns=["run_id", "sample_id", "seed"]).to_numpy(dtype=float)
    assert not np.isinf(numbers).any()


# ------------------------------------------------------------------ names that collide


def test_distinct_safe_names():
    assert distinct_safe_names(["a", "b c"], "states") == ["a", "b_c"]
    with pytest.raises(OutputError, match="'a b' and 'a_b'"):
        distinct_safe_names(["a b", "a_b"], "scenario labels")
    with pytest.raises(OutputError, match="'Kaz' and 'kaz'"):
        distinct_safe_names(["Kaz", "kaz"], "states")  # one file on macOS and Windows


def test_compare_refuses_two_scenario_names_that_share_a_folder(tmp_path):
    first = _child(tmp_path, "", "first.yaml")
    first.write_text(first.read_text().replace("name: child", "name: a b"))
    second = _child(tmp_path, "powers:\n  china: {visibility: 0.9}\n", "second.yaml")
    second.write_text(second.read_text().replace("name: child", "name: a_b"))
    out = tmp_path / "results"
    err = assert_refused(run_in_process("compare", first, second, "--out", out, "--no-plot"),
                         out)
    assert "'a b'" in err and "'a_b'" in err


def test_compare_refuses_two_states_that_share_a_file_name(tmp_path):
    text = ("name: {name}\nsteps: 2\npowers:\n  japan: {{budget: {{invest: 10}}}}\n"
            "states:\n  north pole: {{}}\n  north_pole: {{stability: {stability}}}\n")
    first, second = tmp_path / "one.yaml", tmp_path / "two.yaml"
    first.write_text(text.format(name="one", stability=0.5))
    second.write_text(text.format(name="two", stability=0.6))
    out = tmp_path / "results"
    err = assert_refused(run_in_process("compare", first, second, "--out", out, "--no-plot"),
                         out)
    assert "'north pole'" in err and "'north_pole'" in err


# ------------------------------------------------------------------ issue 20


def _yaml(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_boolean_is_never_a_number_in_any_file_or_set(tmp_path):
    """YAML 1.1 reads yes/no/on/off as booleans; Python counts them as 1 and 0."""
    from sim.decide.optimise import OptimiseFileError, load_plan
    from sim.sweep.spec import SweepFileError, load_sweep
    from sim.uncertainty import UncertaintyError, load_file

    for override, where in (("powers.japan.budget.invest=no", "powers.japan.budget.invest"),
                            ("powers.japan.visibility=yes", "powers.japan.visibility"),
                            ("seed=on", "seed"), ("events.0.at=yes", "events.0.at")):
        with pytest.raises(ScenarioError) as caught:
            load_scenario(SMALL, overrides=[override])
        assert f"{where}: " in str(caught.value) and "YAML boolean" in str(caught.value)
    assert load_scenario(SMALL, overrides=["powers.japan.budget.invest=4e1"]).powers[
        "japan"].budget.invest == 40.0
    sweep = _yaml(tmp_path, "s.yaml", f"name: s\nscenario: {SMALL}\ndesign: grid\nseeds: 1\n"
                  "parameters:\n  powers.japan.visibility: {values: [0.2, yes]}\n")
    with pytest.raises(SweepFileError, match=r"parameters.powers.japan.visibility.values.1: "
                                             r"true is not allowed: a YAML boolean"):
        load_sweep(sweep)
    unc = _yaml(tmp_path, "u.yaml", "rules.hedging: {dist: uniform, low: no, high: 2}\n")
    with pytest.raises(UncertaintyError, match=r"rules.hedging.low: False"):
        load_file(unc)
    text = (ROOT / "scenarios" / "optimise" / "japan_allocation.yaml").read_text()
    text = text.replace("scenario: ../baseline.yaml", f"scenario: {ROOT / 'scenarios'}/"
                        "baseline.yaml").replace("uncertainty: ../uncertainty/reactions.yaml",
                                                 "uncertainty: none")
    good = _yaml(tmp_path, "o.yaml", text)
    assert load_plan(good).spec.decision.visibility is True  # a real yes/no switch
    bad = _yaml(tmp_path, "o2.yaml", text.replace("total: 950", "total: yes"))
    with pytest.raises(OptimiseFileError, match=r"decision.total: true is not allowed"):
        load_plan(bad)


def test_an_uncertainty_file_reads_numbers_as_scenario_files_do(tmp_path):
    from sim.uncertainty import load_file

    unc = _yaml(tmp_path, "u.yaml", "rules.hedging: {dist: uniform, low: 1e0, high: 4E0}\n")
    (found,) = load_file(unc).distributions
    assert found.params == {"low": 1.0, "high": 4.0}


def test_a_field_given_twice_in_an_uncertainty_file_is_refused(tmp_path):
    from sim.uncertainty import UncertaintyError, load_file

    unc = _yaml(tmp_path, "u.yaml", "rules.hedging: {dist: uniform, low: 1, high: 2}\n"
                "rules:\n  hedging: {dist: uniform, low: 3, high: 4}\n")
    with pytest.raises(UncertaintyError, match=r"rules.hedging: given twice"):
        load_file(unc)


def _posterior(folder: Path, columns: dict, weights) -> Path:
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "posterior.parquet"
    pd.DataFrame({**columns, "weight": weights}).to_parquet(path)
    return path


def test_posterior_weights_that_overflow_when_summed_are_normalised_safely(tmp_path):
    from sim.uncertainty import load_posterior

    path = _posterior(tmp_path, {"rules.hedging": [1.0, 2.0, 3.0, 4.0]}, [1e308] * 4)
    posterior = load_posterior(path)
    assert np.allclose(posterior.weights, 0.25)
    drawn = posterior.draw(seed=3, runs=400)["rules.hedging"]
    assert len(set(drawn.tolist())) == 4  # not every replicate on row 0


def test_a_posterior_column_and_its_history_column_are_one_field_too_many(tmp_path, capsys):
    from sim.uncertainty import UncertaintyError, load_posterior

    path = _posterior(tmp_path, {"rules.hedging": [1.0, 2.0],
                                 "history:rules.hedging": [5.0, 6.0]}, [1.0, 1.0])
    assert load_posterior(path).columns == ("rules.hedging",)  # a forecast skips history:
    with pytest.raises(UncertaintyError, match="the same field 'rules.hedging'"):
        load_posterior(path, history=True)


def test_a_posterior_is_checked_against_its_manifest(tmp_path):
    import hashlib
    import json

    from sim.history.hindcast import plan_hindcast
    from sim.uncertainty import UncertaintyError, load_posterior

    shipped = ROOT / "data" / "posterior"
    folder = tmp_path / "posterior"
    folder.mkdir()
    (folder / "posterior.parquet").write_bytes((shipped / "posterior.parquet").read_bytes())
    manifest = json.loads((shipped / "manifest.json").read_text())
    # Fitted to another scenario (its name and hash as the manifest records them): refused
    # when the hindcast would score it on this one.
    manifest["scenario_sha256"] = hashlib.sha256(b"another scenario").hexdigest()
    manifest["scenario"]["name"] = "another"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UncertaintyError, match="fitted to scenario 'another'"):
        plan_hindcast(posterior=folder / "posterior.parquet", draws=4)
    # A manifest describing another posterior file: refused wherever it is applied.
    manifest["posterior_sha256"] = hashlib.sha256(b"another posterior").hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UncertaintyError, match="describes another posterior"):
        load_posterior(folder / "posterior.parquet")
    (folder / "manifest.json").write_text("[1, 2]")
    with pytest.raises(UncertaintyError, match="not a JSON object"):
        load_posterior(folder / "posterior.parquet")
    # The shipped posterior and its manifest belong together and fit the history scenario.
    assert plan_hindcast(draws=4).n_draws == 4


def test_events_that_target_or_cancel_nothing_are_refused():
    data = {"events": [{"kind": "summit", "at": "2025Q4", "power": "japan"},
                       {"kind": "summit_cancelled", "at": "2025Q4", "power": "japan"}]}
    base = load_scenario(SMALL)
    raw = base.model_dump(mode="json") | {}
    raw["events"] = data["events"]
    raw.pop("branch", None)
    validate(raw)  # a cancellation in the summit's quarter is what the kind is for
    raw["events"] = [data["events"][0], {**data["events"][1], "at": "2026Q1"}]
    with pytest.raises(ScenarioError, match="no summit scheduled at '2026Q1'"):
        validate(raw)
    raw["events"] = [{"kind": "summit_cancelled", "probability": 0.1, "power": "china"}]
    with pytest.raises(ScenarioError, match="random summit_cancelled of china"):
        validate(raw)
    raw["events"] = [{"kind": "summit", "at": 3, "power": "japan", "states": []}]
    with pytest.raises(ScenarioError, match=r"events.0.states: \[\] names no state"):
        validate(raw)


def test_an_optimise_decision_over_no_state_is_refused(tmp_path):
    from sim.decide.optimise import OptimiseFileError, load_plan

    text = (ROOT / "scenarios" / "optimise" / "japan_allocation.yaml").read_text()
    text = text.replace("scenario: ../baseline.yaml", f"scenario: {ROOT / 'scenarios'}/"
                        "baseline.yaml").replace("uncertainty: ../uncertainty/reactions.yaml",
                                                 "uncertainty: none")
    bad = _yaml(tmp_path, "o.yaml", text.replace("states: all", "states: []", 1))
    with pytest.raises(OptimiseFileError, match=r"states: \[\] names no state"):
        load_plan(bad)
