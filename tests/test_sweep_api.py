import numpy as np
import pandas as pd
import pytest
from sweep_helpers import BASELINE, ROOT

from sim.errors import ScenarioError
from sim.sweep import Sweep, SweepResult


def test_notebook_api_sobol_in_a_few_lines(tmp_path):
    result = (
        Sweep(BASELINE, {
            "powers.china.reaction.japan.sensitivity": (0.0, 4.0),
            "powers.japan.risk_tolerance": (0.1, 0.6),
        }, name="api_sobol", seeds=2, steps=8)
        .sobol(16)
        .run(out=tmp_path)
    )
    assert isinstance(result, SweepResult)
    summary = result.summary
    assert isinstance(summary, pd.DataFrame) and len(summary) == 16 * 4
    assert {"influence_end_japan_mean", "influence_end_japan_p5"} <= set(summary.columns)
    table = result.sensitivity
    assert list(table.columns) == ["output", "parameter", "S1", "S1_conf", "ST", "ST_conf",
                                   "unit"]
    assert set(table["parameter"]) == {"powers.china.reaction.japan.sensitivity",
                                       "powers.japan.risk_tolerance"}
    assert np.isfinite(table[table["output"] == "influence_end_japan"]["ST"]).all()
    assert (result.folder / "sensitivity.png").is_file()
    assert len(result.runs) == 16 * 4 * 2


def test_api_grid_morris_latin_and_trajectories(tmp_path):
    base = Sweep(BASELINE, {"rules.hedging": (0.2, 0.8), "rules.stability.recovery": [0.05, 0.2]},
                 name="api_grid", seeds=2, steps=4,
                 keep={"trajectories": True, "outputs": ["influence_end"]})
    grid = base.grid(levels=3).run(out=tmp_path)
    assert len(grid.summary) == 6 and grid.sensitivity is None
    one = grid.trajectories([5])
    assert set(one["run_id"]) == {5} and len(one) == 5 * 5 * 3
    ranged = Sweep(BASELINE, {"rules.hedging": (0.2, 0.8), "rules.stability.recovery": (0.0, 0.3)},
                   name="api_morris", steps=4)
    morris = ranged.morris(4).run(out=tmp_path)
    assert {"mu_star", "sigma"} <= set(morris.sensitivity.columns)
    latin = ranged._with(name="api_latin").latin(10).run(out=tmp_path)
    assert len(latin.summary) == 10


def test_api_errors_name_the_field():
    with pytest.raises(ScenarioError, match="rules.hedgin"):
        Sweep(BASELINE, {"rules.hedgin": (0.0, 1.0)}).random(4).plan()


def test_from_file_matches_the_cli_file(tmp_path):
    plan = Sweep.from_file(ROOT / "scenarios" / "sweeps" / "reaction_sobol.yaml").plan()
    assert plan.spec.design == "sobol" and len(plan.paths) == 6
