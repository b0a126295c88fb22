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

    def analyze(y: np.ndarray) -> dict:
        return sobol.analyze(problem, y, calc_second_order=second_order, seed=seed)

    return _table(problem, outputs, analyze, ["S1", "S1_conf", "ST", "ST_conf"])


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

    def analyze(y: np.ndarray) -> dict:
        return morris.analyze(problem, X, y, num_levels=levels, seed=seed)

    return _table(problem, outputs, analyze, ["mu", "mu_star", "mu_star_conf", "sigma"])


def _table(problem: dict, outputs: dict[str, np.ndarray], analyze, columns: list[str]
           ) -> pd.DataFrame:
    """Run a SALib analysis on each finite output; one row per (output, parameter)."""
    rows = []
    for name, y in outputs.items():
        if not np.isfinite(y).all():
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            result = analyze(np.asarray(y, dtype=np.float64))
        for j, parameter in enumerate(problem["names"]):
            rows.append((name, parameter, *(result[c][j] for c in columns)))
    return pd.DataFrame(rows, columns=["output", "parameter", *columns])
