"""Out-of-sample skill of a hindcast against two naive forecasts.

For each observed series (observable, state, partner) the years of the run are split at the
cut-off: the calibration window is every year of the run up to and including the cut-off, the
test window every later year. Over the test years that have an observation:

- the model's error is ``|model_mean - observed|``;
- persistence forecasts the last observation in the calibration window, carried forward;
- the trend forecasts a straight line fitted by least squares (``numpy.polyfit``, degree 1)
  through the calibration window's observations; with a single observation it is flat (equal
  to persistence);
- MAE is the mean absolute error; MASE is the model's MAE over persistence's MAE (below 1: the
  model beats persistence; ``inf`` when persistence is exact and the model is not).

The pooled row of an observable pools the absolute errors of all its series' test points:
pooled MAE is their mean and pooled MASE is the pooled model MAE over the pooled persistence
MAE. "Beats persistence" means pooled MASE below 1. A series with no observation in the
calibration window or none in the test window cannot be scored; it is listed as skipped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SERIES = ["observable", "state", "partner"]
"""The columns that name a series."""

POOLED = "pooled"
"""The ``state`` (and ``partner``: ``all``) of an observable's pooled row."""

SKILL_COLUMNS = ["observable", "state", "partner", "n_calibration", "n_test", "mae_model",
                 "mae_persistence", "mae_trend", "mase", "beats_persistence"]
"""The columns of the skill table (``skill.csv`` adds ``unit``, last)."""


def _ratio(numerator: float, denominator: float) -> float:
    """MASE: the model's error over persistence's (inf or NaN when persistence is exact)."""
    if denominator > 0:
        return numerator / denominator
    return float("inf") if numerator > 0 else float("nan")


def series_errors(years: np.ndarray, observed: np.ndarray, model: np.ndarray,
                  cutoff: int) -> dict[str, np.ndarray] | str:
    """The absolute errors of the model, persistence and the trend on one series' test years.

    Args:
        years: The run's years.
        observed: The observation of each year (NaN where there is none).
        model: The model's mean in each year.
        cutoff: The last year of the calibration window.

    Returns:
        ``model``, ``persistence`` and ``trend`` errors (one per test year with an observation)
        and ``n_calibration``; or, when the series cannot be scored, the reason.

    """
    seen = ~np.isnan(observed)
    calibration = seen & (years <= cutoff)
    test = seen & (years > cutoff)
    if not calibration.any():
        return f"no observation in the calibration window (up to {cutoff})"
    if not test.any():
        return f"no observation after the cut-off {cutoff}"
    x, y = years[calibration].astype(np.float64), observed[calibration]
    last = y[np.argmax(x)]
    truth = observed[test]
    if calibration.sum() >= 2:
        slope, intercept = np.polyfit(x, y, 1)
        trend = intercept + slope * years[test].astype(np.float64)
    else:
        trend = np.full(truth.shape, last)
    return {"model": np.abs(model[test] - truth), "persistence": np.abs(last - truth),
            "trend": np.abs(trend - truth), "n_calibration": np.array(calibration.sum())}


def _row(observable: str, state: str, partner: str, n_calibration: int,
         errors: dict[str, np.ndarray]) -> dict[str, object]:
    mae = {k: float(np.mean(errors[k])) for k in ("model", "persistence", "trend")}
    mase = _ratio(mae["model"], mae["persistence"])
    return {"observable": observable, "state": state, "partner": partner,
            "n_calibration": n_calibration, "n_test": len(errors["model"]),
            "mae_model": mae["model"], "mae_persistence": mae["persistence"],
            "mae_trend": mae["trend"], "mase": mase, "beats_persistence": bool(mase < 1)}


def skill_table(table: pd.DataFrame, cutoff: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score every observed series of a hindcast, and pool each observable's series.

    Args:
        table: The hindcast's observables: ``year``, the :data:`SERIES` columns,
            ``model_mean`` and ``observed`` (NaN where there is none).
        cutoff: The last year of the calibration window.

    Returns:
        (skill, skipped): the :data:`SKILL_COLUMNS` rows, each observable's series sorted
        and followed by its pooled row; and the series that could not be scored, with the
        :data:`SERIES` columns and ``reason``.

    """
    rows: list[dict[str, object]] = []
    skipped: list[dict[str, object]] = []
    observed = table[table["observed"].notna()]
    for observable in sorted(observed["observable"].unique()):
        pooled: dict[str, list[np.ndarray]] = {"model": [], "persistence": [], "trend": []}
        n_calibration = 0
        names = observed.loc[observed["observable"] == observable, ["state", "partner"]]
        for state, partner in sorted(set(names.itertuples(index=False, name=None))):
            series = table[(table["observable"] == observable) & (table["state"] == state)
                           & (table["partner"] == partner)].sort_values("year")
            found = series_errors(series["year"].to_numpy(),
                                  series["observed"].to_numpy(dtype=np.float64),
                                  series["model_mean"].to_numpy(dtype=np.float64), cutoff)
            if isinstance(found, str):
                skipped.append({"observable": observable, "state": state, "partner": partner,
                                "reason": found})
                continue
            n = int(found["n_calibration"])
            rows.append(_row(observable, state, partner, n, found))
            n_calibration += n
            for key in pooled:
                pooled[key].append(found[key])
        if pooled["model"]:
            joined = {k: np.concatenate(v) for k, v in pooled.items()}
            rows.append(_row(observable, POOLED, "all", n_calibration, joined))
    return (pd.DataFrame(rows, columns=SKILL_COLUMNS),
            pd.DataFrame(skipped, columns=[*SERIES, "reason"]))
