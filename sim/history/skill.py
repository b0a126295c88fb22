"""Out-of-sample skill of a hindcast against two naive forecasts, with intervals.

Every observed series (observable, state, partner) with an observation after the cut-off is
scored. The years of the run are split at the cut-off: the calibration window is every year of
the run up to and including the cut-off, the test window every later year. Over the test years
that have an observation:

- the model's error is ``|model_mean - observed|``;
- persistence forecasts the series' last observation in the calibration window, carried
  forward; a series with no observation there is scored against its **starting value** instead
  (the model's value in the first year of the run, which the scenario sets from the record of
  that year), and the row's ``baseline`` says which (``last observation`` or ``start value``);
- the trend forecasts a straight line fitted by least squares (``numpy.polyfit``, degree 1)
  through the calibration window's observations, clipped to the observable's range
  (:data:`sim.history.observed.OBSERVABLES`); with fewer than two observations it is flat,
  equal to persistence;
- MAE is the mean absolute error; ``rel_mae`` is the **relative MAE**, the model's MAE over
  persistence's (below 1: the model's errors are smaller; ``inf`` when persistence is exact
  and the model is not). It is not Hyndman's MASE, whose scale is the in-sample one-step
  naive error.

The interval on ``rel_mae`` is a 90% percentile bootstrap (:data:`N_BOOTSTRAP` resamples, a
fixed seed, so the table is reproducible): for a pooled row, series are resampled with
replacement and, within each drawn series, its test years; for one series, its test years.
The pooled row of an observable pools the absolute errors of all its scored series (a series
with more test years weighs more; within an observable the errors share a unit).

The verdict (``verdict`` and ``beats_persistence``) is given only on at least
:data:`MIN_POINTS` test points: "beats persistence" when the whole interval lies below 1,
"worse than persistence" when it lies above 1, "cannot tell" when it holds 1; with fewer
points, "too few points" and ``beats_persistence`` false.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.history.observed import OBSERVABLES

SERIES = ["observable", "state", "partner"]
"""The columns that name a series."""

POOLED = "pooled"
"""The ``state`` (and ``partner``: ``all``) of an observable's pooled row."""

MIN_POINTS = 5
"""Fewest test points on which a verdict is given."""

N_BOOTSTRAP = 2000
"""Bootstrap resamples for the interval on the relative MAE."""

BOOTSTRAP_SEED = 20140
"""The bootstrap's seed (the interval is a pure function of the errors)."""

INTERVAL = (5.0, 95.0)
"""Percentiles of the bootstrap distribution: a 90% interval."""

LAST_OBSERVATION = "last observation"
START_VALUE = "start value"

VERDICTS = ("beats persistence", "worse than persistence", "cannot tell", "too few points")

SKILL_COLUMNS = ["observable", "state", "partner", "baseline", "n_calibration", "n_test",
                 "mae_model", "mae_persistence", "mae_trend", "rel_mae", "rel_mae_p5",
                 "rel_mae_p95", "verdict", "beats_persistence"]
"""The columns of the skill table (``skill.csv`` adds ``unit``, last)."""


def _ratio(numerator: float, denominator: float) -> float:
    """The model's error over persistence's (inf or NaN when persistence is exact)."""
    if denominator > 0:
        return numerator / denominator
    return float("inf") if numerator > 0 else float("nan")


def series_errors(years: np.ndarray, observed: np.ndarray, model: np.ndarray,
                  cutoff: int, bounds: tuple[float, float] = (-np.inf, np.inf)
                  ) -> dict[str, np.ndarray] | str:
    """The absolute errors of the model, persistence and the trend on one series' test years.

    Args:
        years: The run's years, ascending.
        observed: The observation of each year (NaN where there is none).
        model: The model's mean in each year (the first year's is the starting value).
        cutoff: The last year of the calibration window.
        bounds: The observable's range; the trend is clipped to it.

    Returns:
        ``model``, ``persistence`` and ``trend`` errors (one per test year with an
        observation), ``n_calibration`` and ``start`` (1 when persistence is the starting
        value); or, when the series has no observation after the cut-off, the reason.

    """
    seen = ~np.isnan(observed)
    calibration = seen & (years <= cutoff)
    test = seen & (years > cutoff)
    if not test.any():
        return f"no observation after the cut-off {cutoff}"
    truth = observed[test]
    start = not calibration.any()
    if start:
        last = float(model[np.argmin(years)])
        trend = np.full(truth.shape, last)
    else:
        x, y = years[calibration].astype(np.float64), observed[calibration]
        last = float(y[np.argmax(x)])
        if calibration.sum() >= 2:
            slope, intercept = np.polyfit(x, y, 1)
            trend = np.clip(intercept + slope * years[test].astype(np.float64), *bounds)
        else:
            trend = np.full(truth.shape, last)
    return {"model": np.abs(model[test] - truth), "persistence": np.abs(last - truth),
            "trend": np.abs(trend - truth), "n_calibration": np.array(calibration.sum()),
            "start": np.array(int(start))}


def bootstrap_interval(model: list[np.ndarray], persistence: list[np.ndarray],
                       pooled: bool) -> tuple[float, float]:
    """The 90% percentile-bootstrap interval of the relative MAE.

    Args:
        model: Each series' absolute model errors.
        persistence: Each series' absolute persistence errors (same shapes).
        pooled: Resample the series too (else the one series' years only).

    Returns:
        (p5, p95); NaN when every resample has an exact persistence and an exact model.

    """
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    k = len(model)
    ratios = np.empty(N_BOOTSTRAP)
    for b in range(N_BOOTSTRAP):
        picks = rng.integers(0, k, size=k) if pooled else np.zeros(1, dtype=np.int64)
        num = den = 0.0
        count = 0
        for s in picks:
            n = len(model[s])
            years = rng.integers(0, n, size=n)
            num += float(model[s][years].sum())
            den += float(persistence[s][years].sum())
            count += n
        ratios[b] = _ratio(num / count, den / count)
    finite = ratios[~np.isnan(ratios)]
    if not len(finite):
        return float("nan"), float("nan")
    low, high = np.percentile(finite, INTERVAL, method="inverted_cdf")  # inf-safe
    return float(low), float(high)


def verdict(n_test: int, low: float, high: float) -> str:
    """The verdict on an interval of the relative MAE (one of :data:`VERDICTS`)."""
    if n_test < MIN_POINTS or np.isnan(low):
        return "too few points"
    if high < 1:
        return "beats persistence"
    if low > 1:
        return "worse than persistence"
    return "cannot tell"


def _row(observable: str, state: str, partner: str, baseline: str, n_calibration: int,
         errors: dict[str, list[np.ndarray]], pooled: bool) -> dict[str, object]:
    joined = {k: np.concatenate(errors[k]) for k in ("model", "persistence", "trend")}
    mae = {k: float(np.mean(v)) for k, v in joined.items()}
    ratio = _ratio(mae["model"], mae["persistence"])
    low, high = bootstrap_interval(errors["model"], errors["persistence"], pooled)
    n_test = len(joined["model"])
    said = verdict(n_test, low, high)
    return {"observable": observable, "state": state, "partner": partner,
            "baseline": baseline, "n_calibration": n_calibration, "n_test": n_test,
            "mae_model": mae["model"], "mae_persistence": mae["persistence"],
            "mae_trend": mae["trend"], "rel_mae": ratio, "rel_mae_p5": low,
            "rel_mae_p95": high, "verdict": said,
            "beats_persistence": said == "beats persistence"}


def skill_table(table: pd.DataFrame, cutoff: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score every observed series of a hindcast, and pool each observable's series.

    Args:
        table: The hindcast's observables: ``year``, the :data:`SERIES` columns,
            ``model_mean`` and ``observed`` (NaN where there is none), every year of the run
            for each series (its first year's ``model_mean`` is the starting value).
        cutoff: The last year of the calibration window.

    Returns:
        (skill, skipped): the :data:`SKILL_COLUMNS` rows, each observable's series sorted
        and followed by its pooled row; and the series that could not be scored (no
        observation after the cut-off), with the :data:`SERIES` columns and ``reason``.

    """
    rows: list[dict[str, object]] = []
    skipped: list[dict[str, object]] = []
    observed = table[table["observed"].notna()]
    for observable in sorted(observed["observable"].unique()):
        known = OBSERVABLES.get(observable)
        bounds = (known.low, known.high) if known else (-np.inf, np.inf)
        pooled: dict[str, list[np.ndarray]] = {"model": [], "persistence": [], "trend": []}
        n_calibration = n_start = 0
        names = observed.loc[observed["observable"] == observable, ["state", "partner"]]
        for state, partner in sorted(set(names.itertuples(index=False, name=None))):
            series = table[(table["observable"] == observable) & (table["state"] == state)
                           & (table["partner"] == partner)].sort_values("year")
            found = series_errors(series["year"].to_numpy(),
                                  series["observed"].to_numpy(dtype=np.float64),
                                  series["model_mean"].to_numpy(dtype=np.float64), cutoff,
                                  bounds)
            if isinstance(found, str):
                skipped.append({"observable": observable, "state": state, "partner": partner,
                                "reason": found})
                continue
            n = int(found["n_calibration"])
            start = bool(found["start"])
            errors = {k: [found[k]] for k in pooled}
            rows.append(_row(observable, state, partner,
                             START_VALUE if start else LAST_OBSERVATION, n, errors, False))
            n_calibration += n
            n_start += start
            for key in pooled:
                pooled[key].append(found[key])
        if pooled["model"]:
            k = len(pooled["model"])
            baseline = (LAST_OBSERVATION if not n_start else START_VALUE if n_start == k
                        else f"mixed ({n_start} of {k} from the start value)")
            rows.append(_row(observable, POOLED, "all", baseline, n_calibration, pooled, True))
    return (pd.DataFrame(rows, columns=SKILL_COLUMNS),
            pd.DataFrame(skipped, columns=[*SERIES, "reason"]))
