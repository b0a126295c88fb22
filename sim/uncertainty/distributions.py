"""The distributions an uncertainty FILE may give a field, and the project's one log-normal.

A FILE gives each field one of :data:`DISTRIBUTIONS` (``uniform``, ``normal``, ``lognormal``,
``triangular``), optionally truncated by ``bounds: [lo, hi]``. :func:`lognormal` is the one
log-normal parameterisation of the project (median and sigma of the log): uncertainty files and
the calibration's priors (:mod:`sim.history.abc`) both draw through it.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.scenario.numbers import finite_number

DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),
    "normal": ("mean", "sd"),
    "lognormal": ("median", "sigma"),
    "triangular": ("low", "mode", "high"),
}
"""The distributions a FILE may use, with their parameters."""

TAIL = 1e-9
"""An unbounded tail is checked against the scenario's schema at this quantile."""


def lognormal(median: float, sigma: float) -> Any:
    """The log-normal distribution of the project (priors and uncertainty files alike).

    Args:
        median: Its median, above 0 (the log of the value is normal with mean log(median)).
        sigma: The standard deviation of the log, above 0.

    Returns:
        The scipy.stats frozen distribution.
    """
    from scipy import stats  # heavy: `sim run` without a FILE never needs it

    return stats.lognorm(s=sigma, scale=median)


@dataclass(frozen=True)
class Distribution:
    """One field's distribution.

    Attributes:
        path: The scenario field path.
        dist: One of :data:`DISTRIBUTIONS`.
        params: Its parameters by name.
        bounds: Truncation bounds, or None.

    """

    path: str
    dist: str
    params: dict[str, float]
    bounds: tuple[float, float] | None = None

    def frozen(self):
        """The scipy.stats frozen distribution."""
        from scipy import stats  # heavy: `sim run` without a FILE never needs it

        p = self.params
        if self.dist == "uniform":
            return stats.uniform(loc=p["low"], scale=p["high"] - p["low"])
        if self.dist == "normal":
            return stats.norm(loc=p["mean"], scale=p["sd"])
        if self.dist == "lognormal":
            return lognormal(p["median"], p["sigma"])
        width = p["high"] - p["low"]
        return stats.triang(c=(p["mode"] - p["low"]) / width, loc=p["low"], scale=width)

    def quantile_range(self) -> tuple[float, float]:
        """The CDF values at the bounds (0 and 1 without bounds)."""
        if self.bounds is None:
            return 0.0, 1.0
        rv = self.frozen()
        return float(rv.cdf(self.bounds[0])), float(rv.cdf(self.bounds[1]))

    def sample(self, u: np.ndarray) -> np.ndarray:
        """Map uniform numbers in (0, 1) to draws (inverse CDF, inside the bounds)."""
        low, high = self.quantile_range()
        values = self.frozen().ppf(low + u * (high - low))
        if self.bounds is not None:  # guards the last ulp of the inverse CDF
            values = np.clip(values, *self.bounds)
        return values

    def extremes(self) -> list[float]:
        """The ends of the draws' range (an unbounded tail at :data:`TAIL`)."""
        return [float(v) for v in self.sample(np.array([TAIL, 1 - TAIL]))]

def parse(path: str, spec: Any) -> tuple[Distribution | None, list[str]]:
    """Validate one entry of a FILE; return it or the problems (each naming the path)."""
    allowed = ", ".join(DISTRIBUTIONS)
    if not isinstance(spec, dict):
        return None, [f"{path}: {json.dumps(spec, default=str)} is not allowed: give a mapping "
                      f"such as {{dist: uniform, low: 0.5, high: 2.0}}"]
    dist = spec.get("dist")
    if dist not in DISTRIBUTIONS:
        hint = difflib.get_close_matches(str(dist), list(DISTRIBUTIONS), n=1)
        shown = "missing" if dist is None else repr(dist)
        return None, [f"{path}.dist: {shown} is not allowed; choose {allowed}"
                      + (f"; did you mean {hint[0]!r}?" if hint else "")]
    names = DISTRIBUTIONS[dist]
    problems = []
    unknown = [k for k in spec if k not in ("dist", "bounds", *names)]
    for key in unknown:
        problems.append(f"{path}.{key}: unknown key for {dist}; allowed: dist, "
                        f"{', '.join(names)}, bounds")
    params: dict[str, float] = {}
    for name in names:
        if name not in spec:
            problems.append(f"{path}.{name}: required for {dist} ({', '.join(names)})")
            continue
        value = finite_number(spec[name])
        if value is None:
            problems.append(f"{path}.{name}: {spec[name]!r} is not allowed: give a finite number")
        else:
            params[name] = value
    bounds = spec.get("bounds")
    if bounds is not None:
        ends = [finite_number(b) for b in bounds] if isinstance(bounds, list) else []
        if len(ends) != 2 or None in ends or not ends[0] < ends[1]:
            problems.append(f"{path}.bounds: {json.dumps(bounds, default=str)} is not allowed: "
                            "give [lo, hi], two finite numbers with lo < hi")
            bounds = None
        else:
            bounds = (ends[0], ends[1])
    if problems:
        return None, problems
    problems = _parameter_problems(path, dist, params)
    if not problems and bounds is not None:
        d = Distribution(path, dist, params, bounds)
        low, high = d.quantile_range()
        if not high - low > 1e-12:
            problems.append(f"{path}.bounds: {list(bounds)} hold (almost) none of the {dist} "
                            "distribution's probability; widen them or move the distribution")
    if problems:
        return None, problems
    return Distribution(path, dist, params, bounds), []


def _parameter_problems(path: str, dist: str, p: dict[str, float]) -> list[str]:
    """The parameter values a distribution refuses."""
    if dist == "uniform" and not p["low"] < p["high"]:
        return [f"{path}: low {p['low']:g}, high {p['high']:g} is not allowed: low < high"]
    if dist == "normal" and not p["sd"] > 0:
        return [f"{path}.sd: {p['sd']:g} is not allowed: the sd must be above 0"]
    if dist == "lognormal":
        problems = []
        if not p["median"] > 0:
            problems.append(f"{path}.median: {p['median']:g} is not allowed: above 0")
        if not p["sigma"] > 0:
            problems.append(f"{path}.sigma: {p['sigma']:g} is not allowed: above 0")
        return problems
    if dist == "triangular" and not (p["low"] <= p["mode"] <= p["high"] and p["low"] < p["high"]):
        return [f"{path}: low {p['low']:g}, mode {p['mode']:g}, high {p['high']:g} is not "
                "allowed: low <= mode <= high with low < high"]
    return []
