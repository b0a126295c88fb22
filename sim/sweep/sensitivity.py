"""Sensitivity indices of a sweep's outputs: Sobol (S1, ST) and Morris (mu*, sigma), via SALib.

Each output's values are the per-sample means over seeds, in sample order (the order the
design made them). Confidence intervals are SALib's bootstrap intervals (95 %), with the
bootstrap seeded by the sweep seed so the table is reproducible.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd


def sobol_table(problem: dict, outputs: dict[str, np.ndarray], second_order: bool = False,
                seed: int = 0) -> pd.DataFrame:
    """First-order and total Sobol indices of each output.

    Args:
        problem: SALib problem (``num_vars``, ``names``, ``bounds``).
        outputs: Output name to its values, one per sample of a Saltelli design.
        second_order: Whether the design included the second-order samples.
        seed: Bootstrap seed.

    Returns:
        Rows (output, parameter) with S1, S1_conf, ST, ST_conf.

    """
    from SALib.analyze import sobol

    rows = []
    for name, y in outputs.items():
        if not np.isfinite(y).all():
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            result = sobol.analyze(problem, np.asarray(y, dtype=np.float64),
                                   calc_second_order=second_order, seed=seed)
        for j, parameter in enumerate(problem["names"]):
            rows.append((name, parameter, result["S1"][j], result["S1_conf"][j],
                         result["ST"][j], result["ST_conf"][j]))
    return pd.DataFrame(rows, columns=["output", "parameter", "S1", "S1_conf", "ST", "ST_conf"])


def morris_table(problem: dict, X: np.ndarray, outputs: dict[str, np.ndarray], levels: int = 4,
                 seed: int = 0) -> pd.DataFrame:
    """Morris elementary-effect statistics of each output.

    Args:
        problem: SALib problem.
        X: The Morris sample matrix (n_samples, D).
        outputs: Output name to its values, one per sample.
        levels: The design's number of levels.
        seed: Bootstrap seed.

    Returns:
        Rows (output, parameter) with mu, mu_star, mu_star_conf, sigma.

    """
    from SALib.analyze import morris

    rows = []
    for name, y in outputs.items():
        if not np.isfinite(y).all():
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            result = morris.analyze(problem, X, np.asarray(y, dtype=np.float64),
                                    num_levels=levels, seed=seed)
        for j, parameter in enumerate(problem["names"]):
            rows.append((name, parameter, result["mu"][j], result["mu_star"][j],
                         result["mu_star_conf"][j], result["sigma"][j]))
    return pd.DataFrame(rows, columns=["output", "parameter", "mu", "mu_star", "mu_star_conf",
                                       "sigma"])
