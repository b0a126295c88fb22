"""``sim optimise``: robust policy search through the command line, with small budgets."""

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from clihelp import SCENARIOS, assert_refused, run_in_process, run_sim

from sim.decide.optimise import robust
from sim.decide.policy_file import Objective
from sim.decide.policy_plan import decode, load_plan
from sim.scenario import CHANNELS, load_scenario

TOTAL = 950.0


def write_file(folder, **changes):
    """A small optimise FILE in ``folder`` (its paths relative to it), with ``changes``."""
    data = {
        "name": "small",
        "scenario": os.path.relpath(SCENARIOS / "baseline.yaml", folder),
        "power": "japan",
        "at": "2026Q4",
        "decision": {"total": TOTAL, "states": "all",
                     "kinds": ["invest", "soft_power", "diplomacy"]},
        "objectives": [{"measure": "influence", "robustness": "p10"},
                       {"measure": "provoked_reaction", "robustness": "mean"}],
        "uncertainty": os.path.relpath(SCENARIOS / "uncertainty" / "reactions.yaml", folder),
        "draws": 4,
        "evaluation_draws": 6,
        "optimiser": {"population": 6, "generations": 3},
    }
    data.update(changes)
    path = folder / "small.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """One small two-objective search, with two workers."""
    folder = tmp_path_factory.mktemp("optimise")
    out = folder / "results"
    result = run_sim("optimise", write_file(folder), "--out", out, "--workers", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    return result, out / "optimise" / "small"


@pytest.mark.slow
def test_a_search_writes_its_files(searched):
    result, folder = searched
    names = {p.name for p in folder.iterdir()}
    assert {"best_policy.yaml", "pareto.csv", "pareto.png", "convergence.csv",
            "convergence.png", "evaluation.csv", "evaluation_summary.csv",
            "manifest.json"} <= names
    manifest = json.loads((folder / "manifest.json").read_text())
    # 3 generations x 6 candidates (at most: pymoo drops duplicates) x 4 draws, then 3
    # policies x 6 fresh draws.
    assert 0 < manifest["runs"]["search"] <= 3 * 6 * 4
    assert manifest["runs"]["search"] % 4 == 0
    assert manifest["runs"]["evaluation"] == 3 * 6
    assert manifest["algorithm"] == "pymoo nsga2"
    convergence = pd.read_csv(folder / "convergence.csv")
    assert list(convergence["generation"]) == [1, 2, 3]
    assert convergence["runs"].iloc[-1] == manifest["runs"]["search"]
    pareto = pd.read_csv(folder / "pareto.csv")
    # A Pareto front: no member is better on both objectives than another.
    infl, react = pareto["influence_p10"].to_numpy(), pareto["provoked_reaction_mean"].to_numpy()
    for i in range(len(pareto)):
        assert not np.any((infl > infl[i]) & (react < react[i]))
    evaluation = pd.read_csv(folder / "evaluation.csv")
    assert set(evaluation["policy"]) == {"best", "base", "base_split"}
    # Fresh draws: seeds the search did not use (the search used seed .. seed + draws - 1).
    seed = manifest["seed"]
    assert evaluation["seed"].min() == seed + 4
    assert "influence_share" in evaluation and "regional influence" in result.stdout


@pytest.mark.slow
def test_the_total_budget_constraint_holds(searched):
    _, folder = searched
    policy = yaml.safe_load((folder / "best_policy.yaml").read_text())
    cells = policy["powers"]["japan"]["budget_by_state"]
    assert set(cells) == {"kazakhstan", "kyrgyzstan", "tajikistan", "turkmenistan",
                          "uzbekistan"}
    assert sum(v for kinds in cells.values() for v in kinds.values()) == pytest.approx(TOTAL)
    assert all(v >= 0 for kinds in cells.values() for v in kinds.values())
    pareto = pd.read_csv(folder / "pareto.csv")
    money = pareto[[c for c in pareto if c.endswith("_usd_m")]]
    np.testing.assert_allclose(money.sum(axis=1), TOTAL)
    # The scenario spends exactly that, state by state, before the investment gate.
    from sim.engine import compile_scenario, make_batch

    scenario = load_scenario(folder / "best_policy.yaml")
    structure, params = compile_scenario(scenario)
    spend = make_batch(structure, params, [0]).budget_allocation[0, :, :, 0]
    assert structure.powers[0] == "japan"
    for state, kinds in cells.items():
        for kind, value in kinds.items():
            s, c = structure.states.index(state), CHANNELS.index(kind)
            assert spend[c, s] == pytest.approx(value, rel=1e-6)
    assert float(spend.sum()) == pytest.approx(TOTAL, rel=1e-6)


@pytest.mark.slow
def test_best_policy_runs_and_compares_as_it_is(searched, tmp_path):
    _, folder = searched
    policy = folder / "best_policy.yaml"
    run = run_sim("run", policy, "--out", tmp_path / "runs", "--no-plot")
    assert run.returncode == 0, run.stderr[-2000:]
    compare = run_sim("compare", SCENARIOS / "baseline.yaml", policy, "--out",
                      tmp_path / "compare", "--no-plot", "--replicates", "2",
                      "--uncertainty", "none")
    assert compare.returncode == 0, compare.stderr[-2000:]
    assert "japan_allocation" not in compare.stdout and "small_best" in compare.stdout


@pytest.mark.slow
def test_same_result_with_one_or_two_workers(searched, tmp_path):
    _, two = searched
    result = run_sim("optimize", write_file(tmp_path), "--out", tmp_path / "results",
                     "--workers", "1", "--quiet")
    assert result.returncode == 0, result.stderr[-3000:]
    one = tmp_path / "results" / "optimise" / "small"
    for name in ("convergence.csv", "pareto.csv", "evaluation.csv", "evaluation_summary.csv"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    # best_policy.yaml differs only in the relative path to the base scenario.
    lines = [[line for line in (f / "best_policy.yaml").read_text().splitlines()
              if not line.startswith("extends:")] for f in (one, two)]
    assert lines[0] == lines[1]


@pytest.mark.slow
def test_one_objective_regret_with_a_genetic_algorithm(tmp_path):
    file = write_file(tmp_path, objectives=[{"measure": "influence", "robustness": "regret",
                                             "states": ["kyrgyzstan", "tajikistan"]}],
                      decision={"total": 400, "states": ["kyrgyzstan", "tajikistan"],
                                "kinds": ["invest", "soft_power"], "visibility": False},
                      optimiser={"algorithm": "ga", "population": 6, "generations": 2})
    result = run_sim("optimise", file, "--out", tmp_path / "results", "--workers", "1",
                     "--quiet", "--seed", "7")
    assert result.returncode == 0, result.stderr[-3000:]
    folder = tmp_path / "results" / "optimise" / "small"
    assert not (folder / "pareto.csv").exists()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["algorithm"] == "pymoo ga"
    regret = manifest["best_objectives_on_search_draws"]["influence_kyrgyzstan_tajikistan_regret"]
    assert regret >= 0.0
    policy = yaml.safe_load((folder / "best_policy.yaml").read_text())["powers"]["japan"]
    assert "visibility_by_state" not in policy
    assert sum(v for k in policy["budget_by_state"].values() for v in k.values()) == \
        pytest.approx(400)


@pytest.mark.slow
def test_the_chunk_size_changes_no_file(tmp_path):
    """chunk_runs only cuts the runs into engine batches (sim.batch.chunks).

    4 runs a chunk (one candidate on its 4 draws) writes the files the default (4,096: every
    candidate of a generation at once) does, byte for byte. Mutant: another --seed, which the
    same comparison tells apart, so it is not blind.
    """
    def search(name: str, *extra: str, **changes) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        result = run_in_process("optimise", write_file(folder, **changes), "--out",
                                folder / "results", "--workers", "1", "--quiet", *extra)
        assert result.returncode == 0, result.stderr[-3000:]
        return folder / "results" / "optimise" / "small"

    default, small, reseeded = search("default"), search("small", chunk_runs=4), \
        search("reseeded", "--seed", "11")
    names = ("convergence.csv", "pareto.csv", "evaluation.csv", "evaluation_summary.csv")
    for name in names:
        assert (small / name).read_bytes() == (default / name).read_bytes(), name
    assert any((reseeded / n).read_bytes() != (default / n).read_bytes() for n in names)


def test_robustness_measures_and_decoding():
    values = np.array([[0.1, 0.2, 0.3, 0.4], [0.4, 0.1, 0.1, 0.1]])
    reference = values.max(axis=0)
    assert robust(Objective(robustness="mean"), values) == pytest.approx([0.25, 0.175])
    np.testing.assert_allclose(robust(Objective(robustness="regret"), values, reference),
                               [0.3, 0.3])
    costs = Objective(measure="provoked_reaction", robustness="p10")
    assert robust(costs, values)[0] == pytest.approx(np.percentile([0.1, 0.2, 0.3, 0.4], 90))
    plan = load_plan(write_file_for_plan())
    x = np.random.default_rng(0).random((5, plan.n_var))
    x[0, : len(plan.cells)] = 0.0  # all-zero weights spread evenly
    policies = decode(plan, x)
    np.testing.assert_allclose(policies[:, : len(plan.cells)].sum(axis=1), TOTAL)
    np.testing.assert_allclose(policies[0, : len(plan.cells)], TOTAL / len(plan.cells))
    np.testing.assert_array_equal(policies[:, len(plan.cells):], x[:, len(plan.cells):])


def write_file_for_plan():
    import tempfile
    from pathlib import Path

    return write_file(Path(tempfile.mkdtemp(prefix="optimise-plan-")))


BAD = {
    "unknown key": ({"populaton": 3}, "populaton: unknown key"),
    "unknown power": ({"power": "japn"}, "did you mean 'japan'"),
    "unknown state": ({"decision": {"total": 10, "states": ["kazakstan"]}},
                      "decision.states: 'kazakstan'"),
    "negative total": ({"decision": {"total": -5}}, "decision.total: -5"),
    "quarter outside the run": ({"at": "2040Q1"}, "at: '2040Q1'"),
    "missing uncertainty": ({"uncertainty": "nowhere.yaml"}, "uncertainty: 'nowhere.yaml'"),
    "ga with two objectives": ({"optimiser": {"algorithm": "ga"}}, "takes one objective"),
    "bad robustness": ({"objectives": [{"robustness": "median"}]},
                       "objectives.0.robustness: \"median\""),
    "missing scenario": ({"scenario": "none.yaml"}, "scenario: 'none.yaml' does not exist"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_are_refused_with_status_2(case, tmp_path):
    changes, expected = BAD[case]
    file = write_file(tmp_path, **changes)
    out = tmp_path / "results"
    err = assert_refused(run_in_process("optimise", file, "--out", out, "--quiet"), out)
    assert str(file) in err and expected in err, err
