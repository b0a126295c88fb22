import numpy as np

from sim.engine.random import normal, uniform


def test_draws_depend_only_on_their_counter():
    seeds = np.array([5, 7, 11], dtype=np.uint64)
    batch = uniform(seeds, step=3, stream=1, shape=(4,))
    for r, seed in enumerate(seeds):
        alone = uniform(np.array([seed], dtype=np.uint64), step=3, stream=1, shape=(4,))
        assert np.array_equal(batch[r], alone[0])
    # A wider draw starts with the same numbers: the index is part of the counter.
    wider = uniform(seeds, step=3, stream=1, shape=(6,))
    assert np.array_equal(wider[:, :4], batch)


def test_streams_steps_and_seeds_differ():
    seeds = np.array([1], dtype=np.uint64)
    a = uniform(seeds, 1, 1, (8,))
    assert not np.array_equal(a, uniform(seeds, 2, 1, (8,)))
    assert not np.array_equal(a, uniform(seeds, 1, 2, (8,)))
    assert not np.array_equal(a, uniform(np.array([2], dtype=np.uint64), 1, 1, (8,)))


def test_distributions():
    seeds = np.arange(2000, dtype=np.uint64)
    u = uniform(seeds, 1, 1, (50,))
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    z = normal(seeds, 1, 2, (51,))
    assert z.shape == (2000, 51)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    # Neighbouring seeds are uncorrelated.
    assert abs(np.corrcoef(u[:-1, 0], u[1:, 0])[0, 1]) < 0.06


def test_float32_draws_are_exact_24_bit_fractions_and_normal():
    seeds = np.arange(2000, dtype=np.uint64)
    u = uniform(seeds, 1, 1, (50,), dtype=np.float32)
    assert u.dtype == np.float32 and u.min() >= 0 and u.max() < 1
    assert np.all((u * 2**24) == np.floor(u * 2**24))
    z = normal(seeds, 1, 2, (51,), dtype=np.float32)
    assert z.dtype == np.float32 and np.isfinite(z).all()
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
