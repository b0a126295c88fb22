import numpy as np
from SALib.test_functions import Ishigami

from sim.sweep.sampling import problem, sample
from sim.sweep.sensitivity import morris_table, sobol_table
from sim.sweep.sweep_file import SweepFile

# Ishigami (A=7, B=0.1): published first-order and total indices.
S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}


def test_sobol_path_reproduces_ishigami_indices():
    spec = SweepFile(name="ishigami", scenario="unused.yaml", design="sobol", samples=2048,
                     seed=1, parameters={x: {"bounds": [-np.pi, np.pi]} for x in S1})
    X = sample(spec)
    assert X.shape == (2048 * 5, 3)
    table = sobol_table(problem(spec), {"y": Ishigami.evaluate(X, A=7, B=0.1)}, seed=1)
    for row in table.itertuples():
        # Within the 95 % bootstrap interval the sample size allows, and close in absolute terms.
        assert abs(row.S1 - S1[row.parameter]) <= row.S1_conf
        assert abs(row.ST - ST[row.parameter]) <= row.ST_conf
        assert abs(row.S1 - S1[row.parameter]) < 0.02
        assert abs(row.ST - ST[row.parameter]) < 0.02
        assert 0 < row.S1_conf < 0.1 and 0 < row.ST_conf < 0.1


def test_morris_finds_the_exact_effects_of_a_linear_function():
    spec = SweepFile(name="linear", scenario="unused.yaml", design="morris", samples=20, seed=2,
                     parameters={x: {"bounds": [0.0, 1.0]} for x in ("a", "b", "c")})
    X = sample(spec)
    table = morris_table(problem(spec), X, {"y": 2 * X[:, 0] - 3 * X[:, 2]}, levels=4, seed=2)
    assert np.allclose(table["mu"], [2, 0, -3])
    assert np.allclose(table["mu_star"], [2, 0, 3])
    assert np.allclose(table["sigma"], 0, atol=1e-12)


def test_outputs_with_nan_are_left_out():
    spec = SweepFile(name="nan", scenario="unused.yaml", design="sobol", samples=16, seed=1,
                     parameters={x: {"bounds": [0.0, 1.0]} for x in ("a", "b")})
    X = sample(spec)
    y = X[:, 0].copy()
    y[3] = np.nan
    table = sobol_table(problem(spec), {"good": X[:, 0] + X[:, 1], "bad": y})
    assert set(table["output"]) == {"good"}
