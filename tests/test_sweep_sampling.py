import numpy as np

from sim.sweep.layout import chunks, locate, run_seeds
from sim.sweep.sampling import latin_hypercube, sample
from sim.sweep.spec import SweepFile, n_samples


def spec(design, samples=None, **params):
    params = params or {"a": {"bounds": [0.0, 1.0]}, "b": {"bounds": [-2.0, 2.0]}}
    return SweepFile(name="t", scenario="x", design=design, samples=samples, seed=3,
                     parameters=params)


def test_grid_is_every_combination_last_fastest():
    s = spec("grid", a={"values": [1.0, 2.0]}, b={"bounds": [0.0, 1.0], "levels": 3})
    X = sample(s)
    assert X.tolist() == [[1, 0], [1, 0.5], [1, 1], [2, 0], [2, 0.5], [2, 1]]
    assert n_samples(s) == 6


def test_continuous_designs_are_in_bounds_sized_and_reproducible():
    for design, n, expected in (("random", 50, 50), ("latin", 50, 50), ("sobol", 64, 64 * 4),
                                ("morris", 10, 30)):
        X = sample(spec(design, n))
        assert X.shape == (expected, 2) == (n_samples(spec(design, n)), 2)
        assert (X[:, 0] >= 0).all() and (X[:, 0] <= 1).all()
        assert (X[:, 1] >= -2).all() and (X[:, 1] <= 2).all()
        assert np.array_equal(X, sample(spec(design, n)))


def test_latin_hypercube_has_one_point_per_stratum():
    X = latin_hypercube(40, 3, seed=5)
    for j in range(3):
        assert sorted(np.floor(X[:, j] * 40).astype(int)) == list(range(40))


def test_run_seeds_do_not_depend_on_chunking_and_fit_a_scenario_seed():
    ids = np.arange(10_000)
    whole = run_seeds(42, ids)
    pieces = np.concatenate([run_seeds(42, ids[i:i + 333]) for i in range(0, 10_000, 333)])
    assert np.array_equal(whole, pieces)
    assert len(np.unique(whole)) == 10_000
    assert (whole < 2**63).all()
    assert not np.array_equal(whole, run_seeds(43, ids))


def test_chunks_cover_every_run_once():
    cs = chunks(n_samples=10, chunk_samples=4, seeds_per_sample=3)
    assert [c.n_samples for c in cs] == [4, 4, 2]
    runs = np.concatenate([c.run_ids for c in cs])
    assert np.array_equal(runs, np.arange(30))
    for c in cs:
        for r in c.run_ids:
            sample_id, seed_index, chunk = locate(int(r), 3, 4)
            assert chunk == c.index and sample_id == r // 3 and seed_index == r % 3
