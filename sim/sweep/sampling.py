"""Sampling designs: the sample matrix of a sweep, a pure function of its file.

Each design returns an array (n_samples, D) of float64 parameter values in the order of the
sweep file's parameters. The grid, random and Latin hypercube designs are simple enough to write
here; Sobol (Saltelli's scheme) and Morris use SALib's samplers so that SALib's analysers can
read their results. Random numbers come from the sweep seed only.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from sim.sweep.spec import SweepFile, grid_values


def problem(spec: SweepFile) -> dict:
    """Return the SALib problem dictionary of a sweep (names and bounds)."""
    names = list(spec.parameters)
    bounds = [list(p.bounds) if p.bounds is not None else [min(p.values), max(p.values)]
              for p in spec.parameters.values()]
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def sample(spec: SweepFile) -> np.ndarray:
    """Make the sample matrix (n_samples, D): one row per sample, one column per parameter.

    Args:
        spec: The validated sweep file.

    Returns:
        float64 values; grid rows vary the last parameter fastest.

    """
    design, seed = spec.design, spec.seed
    if design == "grid":
        axes = grid_values(spec)
        return np.array(list(itertools.product(*axes)), dtype=np.float64).reshape(-1, len(axes))
    prob = problem(spec)
    bounds = np.array(prob["bounds"], dtype=np.float64)
    if design == "random":
        unit = np.random.default_rng(seed).random((spec.samples, prob["num_vars"]))
    elif design == "latin":
        unit = latin_hypercube(spec.samples, prob["num_vars"], seed)
    elif design == "sobol":
        from SALib.sample import sobol

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sobol.sample(prob, spec.samples, calc_second_order=spec.sobol.second_order,
                                scramble=True, seed=seed).astype(np.float64)
    else:
        from SALib.sample import morris

        return morris.sample(prob, spec.samples, num_levels=spec.morris.levels,
                             seed=seed).astype(np.float64)
    return bounds[:, 0] + unit * (bounds[:, 1] - bounds[:, 0])


def latin_hypercube(n: int, dims: int, seed: int) -> np.ndarray:
    """Draw a Latin hypercube in [0, 1)^dims: each column has exactly one point in each of n strata.

    Args:
        n: Number of points.
        dims: Number of dimensions.
        seed: Random seed.

    """
    rng = np.random.default_rng(seed)
    jitter = rng.random((n, dims))
    strata = np.argsort(rng.random((n, dims)), axis=0)
    return (strata + jitter) / n
