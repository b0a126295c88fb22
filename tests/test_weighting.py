"""Regional influence weighted as a strategist chooses (issue 17 item 5): the weightings, their
checks, the weighted objective of ``sim optimise``, ``--weightings`` (each answer's regret under
the others) and ``--weighting`` in ``sim run`` and ``sim compare``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from clihelp import SCENARIOS, assert_refused, run_sim
from test_optimise import write_file

from sim.decide.optimise import Objective, load_plan, measure_values
from sim.decide.policy_runs import PolicyResult
from sim.decide.weighting import state_weights, weighting_problems
from sim.decide.weighting_regret import parse_weightings
from sim.scenario import load_scenario

BASELINE = load_scenario(SCENARIOS / "baseline.yaml")
STATES = BASELINE.state_names  # kazakhstan, kyrgyzstan, tajikistan, turkmenistan, uzbekistan


def test_named_weightings_read_the_economy_block():
    assert state_weights(BASELINE, "equal") == pytest.approx(np.full(5, 0.2))
    gdp = np.array([BASELINE.states[s].economy.gdp_usd_bn for s in STATES])
    assert state_weights(BASELINE, "gdp") == pytest.approx(gdp / gdp.sum())
    assert state_weights(BASELINE, "gdp")[0] == pytest.approx(291 / 500.8)  # Kazakhstan
    resources = state_weights(BASELINE, "resources")
    assert resources[0] == pytest.approx(51.3 / 77.75)  # rents: Kazakhstan two thirds
    assert resources[STATES.index("tajikistan")] < 0.01
    population = state_weights(BASELINE, "population")
    assert population[STATES.index("uzbekistan")] == pytest.approx(36.7 / 81.7)
    custom = state_weights(BASELINE, {"turkmenistan": 3, "kazakhstan": 1})
    assert custom == pytest.approx([0.25, 0, 0, 0.75, 0])
    only = state_weights(BASELINE, "gdp", ["kyrgyzstan", "tajikistan"])
    assert only == pytest.approx(np.array([17.1, 13.7]) / 30.8)


@pytest.mark.parametrize("weighting, expected", [
    ("gdb", "'gdb' is not allowed: one of equal, gdp, population, resources"),
    ({"kazakstan": 1}, "w.kazakstan: 'kazakstan' is not a state"),
    ({"kazakhstan": -1}, "w.kazakhstan: -1 is not allowed: a finite number >= 0"),
    ({"kazakhstan": 0}, "w: the weights sum to 0"),
    ({}, "a non-empty mapping"),
    (3, "3 is not allowed"),
])
def test_bad_weightings_are_named(weighting, expected):
    problems = weighting_problems(BASELINE, weighting, STATES, "w")
    assert any(expected in p for p in problems), problems


def test_a_named_weighting_needs_its_data():
    bare = load_scenario(SCENARIOS / "richardson.yaml")
    problems = weighting_problems(bare, "population", bare.state_names, "w")
    assert problems and "economy.population_m" in problems[0], problems


def test_the_weighted_objective_weights_the_states(tmp_path):
    plan = load_plan(write_file(tmp_path, objectives=[
        {"measure": "influence", "robustness": "p10", "weighting": "gdp"},
        {"measure": "provoked_reaction", "robustness": "mean"}]))
    objective = plan.spec.objectives[0]
    assert objective.column == "influence_gdp_p10"
    share = np.random.default_rng(1).random((3, 4, 5))  # (candidates, draws, states)
    result = PolicyResult(share, np.zeros((3, 4)), 0)
    weighted = measure_values(plan, objective, result)
    assert weighted == pytest.approx(share @ state_weights(BASELINE, "gdp"))
    equal = measure_values(plan, Objective(measure="influence"), result)
    assert equal == pytest.approx(share.mean(axis=2))
    assert not np.allclose(weighted, equal)


@pytest.mark.parametrize("objectives, expected", [
    ([{"measure": "influence", "weighting": "wealth"}],
     "objectives.0.weighting: 'wealth' is not allowed"),
    ([{"measure": "influence", "weighting": {"kazakhstan": 1, "mars": 2}}],
     "objectives.0.weighting.mars: 'mars' is not a state"),
    ([{"measure": "influence", "states": ["kazakhstan"], "weighting": {"uzbekistan": 1}}],
     "'uzbekistan' is not among the states counted"),
    ([{"measure": "influence"}, {"measure": "provoked_reaction", "weighting": "gdp"}],
     "objectives.1.weighting: only an influence objective is weighted"),
])
def test_bad_weightings_in_a_file_are_refused_with_status_2(objectives, expected, tmp_path):
    file = write_file(tmp_path, objectives=objectives)
    out = tmp_path / "results"
    err = assert_refused(run_sim("optimise", file, "--out", out, "--quiet"), out)
    assert str(file) in err and expected in err, err


def test_weightings_option_is_checked():
    assert parse_weightings("equal, gdp,resources") == ["equal", "gdp", "resources"]
    for bad in ("equal", "equal,equal", "equal,wealth", ""):
        with pytest.raises(ValueError, match="--weightings"):
            parse_weightings(bad)


def test_the_regret_table_scores_every_answer_under_every_weighting(tmp_path):
    file = write_file(tmp_path)
    out = tmp_path / "results"
    result = run_sim("optimise", file, "--weightings", "equal,gdp,resources", "--out", out,
                     "--workers", "2", "--generations", "2", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    folder = out / "optimise" / "small_weightings"
    for name in ("small_equal", "small_gdp", "small_resources"):
        assert (out / "optimise" / name / "best_policy.yaml").is_file()
    table = pd.read_csv(folder / "regret.csv")
    assert len(table) == 12 and set(table["measure"]) == {"equal", "gdp", "resources"}
    assert set(table["policy"]) == {"equal", "gdp", "resources", "base_split"}
    for _, column in table.groupby("measure"):
        best = column["influence_p10"].max()
        assert column["influence_p10_regret"].to_numpy() == pytest.approx(
            best - column["influence_p10"].to_numpy())
        assert column["influence_p10_regret"].min() == 0
    answers = pd.read_csv(folder / "answers.csv")
    money = [c for c in answers.columns if c.endswith("_usd_m")]
    assert answers[money].sum(axis=1).to_numpy() == pytest.approx(950.0)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["units"]["regret.csv"]["influence_p10_regret"].startswith("fraction")
    assert sum(manifest["weightings"]["gdp"].values()) == pytest.approx(1.0)
    # The printout is the table: rows optimised under, columns scored under.
    assert "optimised under" in result.stdout and "scored resources" in result.stdout
    # A scored answer is its policy run on the fresh draws: the equal-weighted score of the
    # equal answer is the p10 of its regional mean share, as the plain search reports it.
    plain = pd.read_csv(out / "optimise" / "small_equal" / "evaluation.csv")
    best = plain[plain["policy"] == "best"]["influence_share"].to_numpy()
    row = table[(table["policy"] == "equal") & (table["measure"] == "equal")]
    assert float(row["influence_p10"].iloc[0]) == pytest.approx(np.percentile(best, 10))


def test_weightings_option_refuses_a_bad_name_with_status_2(tmp_path):
    file = write_file(tmp_path)
    out = tmp_path / "results"
    err = assert_refused(run_sim("optimise", file, "--weightings", "equal,wealth", "--out", out),
                         out)
    assert "--weightings: 'equal,wealth' is not allowed" in err, err


def test_run_and_compare_print_the_weighted_region(tmp_path):
    result = run_sim("run", SCENARIOS / "baseline.yaml", "--weighting", "gdp", "--no-plot",
                     "--out", tmp_path, "--steps", "4")
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("  baseline:"))
    assert "gdp-weighted: 58%, 3%, 3%, 13%, 23%" in result.stdout
    trajectories = pd.read_csv(next(tmp_path.glob("baseline/*/trajectories.csv")))
    japan = trajectories[trajectories["power"] == "japan"]

    def region(step):
        shares = japan[japan["step"] == step].set_index("state").loc[STATES, "share"]
        return float(shares.to_numpy() @ state_weights(BASELINE, "gdp"))

    assert f"Japan {100 * region(0):.1f}% -> {100 * region(4):.1f}%" in line
    compared = run_sim("compare", SCENARIOS / "baseline.yaml",
                       SCENARIOS / "japan_high_profile.yaml", "--replicates", "3", "--steps",
                       "4", "--weighting", "resources",
                       "--no-plot", "--out", tmp_path / "c")
    assert compared.returncode == 0, compared.stderr
    assert "resources-weighted" in compared.stdout
    assert "japan_high_profile: Japan" in compared.stdout
    bad = assert_refused(run_sim("run", SCENARIOS / "baseline.yaml", "--weighting", "wealth",
                                 "--out", tmp_path / "bad"), tmp_path / "bad")
    assert "--weighting: 'wealth' is not allowed" in bad
