"""Parametric uncertainty: draw each replicate's uncertain scenario fields, paired by seed.

Three kinds of uncertainty (``--uncertainty`` on ``sim run`` and ``sim compare``):

- ``none``: every field as written; bands hold the seeds' noise only.
- ``posterior``: the calibrated posterior, ``data/posterior/posterior.parquet`` (one column per
  scenario field path, plus ``weight``): replicate i takes one row, drawn with probability
  proportional to its weight.
- ``FILE``: a YAML file of distributions per field path, a strategist's own priors::

      powers.china.reaction.japan.sensitivity: {dist: lognormal, median: 2.0, sigma: 0.5}
      rules.hedging: {dist: uniform, low: 0.1, high: 0.4}
      rules.decay.goodwill: {dist: normal, mean: 0.05, sd: 0.01, bounds: [0.0, 0.2]}
      powers.japan.restraint: {dist: triangular, low: 0.0, mode: 0.1, high: 0.3}

  ``bounds: [lo, hi]`` truncates a distribution: a draw is as if redrawn until it falls inside
  (computed exactly by the inverse CDF restricted to the bounds); nothing is clipped.

Draw i is a pure function of (the scenario seed + i, the field path): replicate i, which runs
with seed ``seed + i``, gets the same parameter draw in every compared scenario (the draws are
*paired*, like the seeds), and adding a field to a FILE does not change the others' draws.
A field that a scenario changes from its base (see :func:`held_paths`) is held at its value.
The draws are applied to the batch with :func:`sim.engine.with_values`, so R replicates with R
parameter draws are still one engine batch.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

import sim
from sim.errors import ScenarioError
from sim.limits import check_replicates
from sim.scenario import Scenario, read_yaml
from sim.scenario.files import not_a_file
from sim.scenario.numbers import finite_number

KINDS = ("none", "posterior")
"""The named kinds of uncertainty; anything else given to ``--uncertainty`` is a FILE."""

DEFAULT_POSTERIOR = Path(sim.__file__).resolve().parent.parent / "data" / "posterior" / \
    "posterior.parquet"
"""Where the calibrated posterior ships (its manifest, ``manifest.json``, is beside it)."""

DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),
    "normal": ("mean", "sd"),
    "lognormal": ("median", "sigma"),
    "triangular": ("low", "mode", "high"),
}
"""The distributions a FILE may use, with their parameters."""

STREAM_PARAMETERS = 0xA7
"""Counter stream of the parameter draws (the engine's own streams are 1-3)."""

TAIL = 1e-9
"""An unbounded tail is checked against the scenario's schema at this quantile."""

MAX_FIELDS = 256
"""Most fields a FILE may make uncertain."""

HISTORY_PREFIX = "history:"
"""A posterior column named ``history:<field path>`` is a history-only input (say, the powers'
budgets of 2015-2019, fitted by ``sim calibrate``): ``sim hindcast`` applies it to the history
scenario under the field path after the prefix; ``--uncertainty posterior`` skips it, whatever
the scenario, since it means nothing after 2024 (docs/WHATIF.md)."""


def field_path(column: str) -> str:
    """A posterior column's field path: the column without its ``history:`` prefix."""
    return column.removeprefix(HISTORY_PREFIX)


def lognormal(median: float, sigma: float) -> Any:
    """The log-normal distribution of the project (priors and uncertainty files alike).

    Args:
        median: Its median, above 0 (the log of the value is normal with mean log(median)).
        sigma: The standard deviation of the log, above 0.

    Returns:
        The scipy.stats frozen distribution.
    """
    from scipy import stats

    return stats.lognorm(s=sigma, scale=median)


class UncertaintyError(ScenarioError):
    """An uncertainty FILE or posterior that cannot be used (exit status 2)."""

    what = "uncertainty file"


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
        from scipy import stats

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


@dataclass(frozen=True)
class Uncertainty:
    """What a run's parameters are drawn from.

    Attributes:
        kind: ``none``, ``posterior`` or ``file``.
        source: The FILE or the posterior's path ("" for none).
        sha256: SHA-256 of the FILE's bytes or the posterior's bytes ("" for none).
        distributions: A FILE's distributions, in file order.
        rows: The posterior's values, (N, D) float64, by :attr:`columns`.
        weights: The posterior rows' weights, normalised to sum 1.
        columns: The posterior's field paths.
        extra: More provenance for the manifest (the posterior manifest's SHA-256).

    """

    kind: str = "none"
    source: str = ""
    sha256: str = ""
    distributions: tuple[Distribution, ...] = ()
    rows: np.ndarray | None = field(default=None, compare=False, repr=False)
    weights: np.ndarray | None = field(default=None, compare=False, repr=False)
    columns: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def paths(self) -> tuple[str, ...]:
        """The uncertain field paths."""
        if self.kind == "file":
            return tuple(d.path for d in self.distributions)
        return self.columns

    def band(self, runs: int) -> str:
        """What a band over ``runs`` replicates includes, in words (for tables and figures)."""
        seeds = "1 seed" if runs == 1 else f"{runs} seeds"
        if self.kind == "none":
            return f"over {seeds} only (parameters as written)"
        what = "posterior draws" if self.kind == "posterior" else \
            f"parameter draws from {Path(self.source).name}"
        return f"over {seeds} and {what}"

    def short(self) -> str:
        """A short label for a CSV column: ``seeds only``, ``seeds + posterior`` or the FILE."""
        if self.kind == "none":
            return "seeds only"
        return "seeds + posterior" if self.kind == "posterior" else \
            f"seeds + {Path(self.source).name}"

    def draw(self, seed: int, runs: int) -> dict[str, np.ndarray]:
        """Draw every uncertain field for replicates ``0 .. runs - 1`` of seed ``seed``.

        Replicate i's draw depends only on ``seed + i`` and the field path.

        Returns:
            Field path to ``runs`` values (float64).

        """
        keys = np.arange(seed, seed + runs, dtype=np.uint64)
        if self.kind == "file":
            return {d.path: d.sample(_uniforms(keys, d.path)) for d in self.distributions}
        if self.kind == "posterior":
            cumulative = np.cumsum(self.weights)
            cumulative /= cumulative[-1]
            index = np.searchsorted(cumulative, _uniforms(keys, "posterior row"), side="right")
            index = np.minimum(index, len(cumulative) - 1)
            return {path: self.rows[index, j] for j, path in enumerate(self.columns)}
        return {}

    def check(self, scenario: Scenario, source: str) -> None:
        """Check that every uncertain field is a numeric field of a scenario, in its range.

        A FILE must name only fields of the scenario (those ``sim sweep --list-paths`` lists);
        a posterior's fields that the scenario lacks are left out of its runs. The ends of
        each field's draws (a FILE's bounds or far tails; the posterior's smallest and largest
        values) are validated with the scenario's own schema.

        Raises:
            UncertaintyError: Naming the file, the field path, the value and what is allowed.

        """
        if self.kind == "none":
            return
        from sim.engine import compile_scenario
        from sim.sweep.spec import refused_value

        known = compile_scenario(scenario)[1].paths
        problems = []
        if self.kind == "file":
            for d in self.distributions:
                if d.path not in known:
                    hint = difflib.get_close_matches(d.path, list(known), n=3)
                    problems.append(
                        f"{d.path}: not a numeric field of the scenario {scenario.name!r}"
                        + (f"; did you mean {' or '.join(hint)}?" if hint else "")
                        + " (`sim sweep SWEEP --list-paths` lists the fields)")
            ranges = {d.path: d.extremes() for d in self.distributions if d.path in known}
        else:
            ranges = {p: [float(self.rows[:, j].min()), float(self.rows[:, j].max())]
                      for j, p in enumerate(self.columns) if p in known}
        data = scenario.model_dump(mode="json")
        data.pop("branch", None)
        for path, ends in ranges.items():
            for value in ends:
                why = refused_value(copy.deepcopy(data), path, value, source)
                if why:
                    fix = " (add or narrow bounds: [lo, hi])" if self.kind == "file" else ""
                    problems.append(f"{path}: draws reach {value:g}, which the scenario "
                                    f"{scenario.name!r} refuses: {why}{fix}")
                    break
        if problems:
            raise UncertaintyError(source, problems)

    def manifest(self) -> dict[str, Any]:
        """The uncertainty's entry in a manifest (without the per-scenario held fields)."""
        data: dict[str, Any] = {"kind": self.kind, "source": self.source,
                                "sha256": self.sha256, "fields": list(self.paths)}
        if self.kind == "file":
            data["distributions"] = {
                d.path: {"dist": d.dist, **d.params,
                         **({"bounds": list(d.bounds)} if d.bounds else {})}
                for d in self.distributions}
        data.update(self.extra)
        return data


NONE = Uncertainty()
"""No parametric uncertainty: every field as written."""


def _uniforms(keys: np.ndarray, path: str) -> np.ndarray:
    """One uniform number in (0, 1) per key, for a field path (a pure function of both)."""
    from sim.engine.random import uniform

    counter = int.from_bytes(hashlib.sha256(path.encode()).digest()[:6], "big")
    u = uniform(keys, counter, STREAM_PARAMETERS, (), dtype=np.float64)
    return u + 2.0**-54  # never 0: the inverse CDF of 0 may be -inf


_number = finite_number  # one definition of a number in a file (sim/scenario/numbers.py)


def _distribution(path: str, spec: Any) -> tuple[Distribution | None, list[str]]:
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
        value = _number(spec[name])
        if value is None:
            problems.append(f"{path}.{name}: {spec[name]!r} is not allowed: give a finite number")
        else:
            params[name] = value
    bounds = spec.get("bounds")
    if bounds is not None:
        ends = [_number(b) for b in bounds] if isinstance(bounds, list) else []
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


def _leaves(data: dict[Any, Any], prefix: str = "",
            problems: list[str] | None = None) -> dict[str, Any]:
    """Flatten nested mappings down to the distributions (mappings of plain values).

    So ``rules: {hedging: {dist: ...}}`` and ``rules.hedging: {dist: ...}`` mean the same; a
    field given both ways (or twice through different nestings) is reported in ``problems``
    rather than one of them silently kept.
    """
    flat: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            found = _leaves(value, f"{path}.", problems)
        else:
            found = {path: value}
        for leaf, spec in found.items():
            if leaf in flat:
                if problems is not None:
                    problems.append(f"{leaf}: given twice (once as a dotted key, once nested, or "
                                    "under two spellings of its path); give each field once")
                continue
            flat[leaf] = spec
    return flat


def load_file(path: str | Path) -> Uncertainty:
    """Read and validate an uncertainty FILE (safe YAML; every problem listed at once).

    Raises:
        UncertaintyError: Naming the file, the field path, the value and what is allowed.

    """
    source = str(path)
    try:
        data = read_yaml(path, "an uncertainty file of distributions (.yaml)")
    except ScenarioError as exc:
        raise UncertaintyError(exc.source, exc.problems) from None
    if not data:
        raise UncertaintyError(source, ["the file names no field; give field.path: "
                                        "{dist: ..., ...} lines"])
    if len(data) > MAX_FIELDS:
        raise UncertaintyError(source, [f"{len(data)} fields; at most {MAX_FIELDS} allowed"])
    distributions, problems = [], []
    for key, spec in _leaves(data, problems=problems).items():
        if not key.strip() or " " in key:
            problems.append(f"{key!r}: a key must be a scenario field path")
            continue
        found, why = _distribution(key, spec)
        problems += why
        if found is not None:
            distributions.append(found)
    if problems:
        raise UncertaintyError(source, problems)
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return Uncertainty(kind="file", source=source, sha256=digest,
                       distributions=tuple(distributions))


def load_posterior(path: str | Path = DEFAULT_POSTERIOR, history: bool = False) -> Uncertainty:
    """Read a posterior: a Parquet file, one column per field path plus ``weight``.

    Columns named ``history:<field path>`` (:data:`HISTORY_PREFIX`) are history-only inputs.
    By default they are left out (listed in the manifest as ``history_only_skipped``), as
    every forecast wants; with ``history`` (the hindcast) they are kept under their field
    path. Columns the manifest beside the posterior names ``calibration.unidentified`` or
    ``calibration.bound_limited`` (parameters the record does not identify, or whose posterior
    presses its prior's bound; :mod:`sim.history.identification`) are left out the same way
    (listed as ``unidentified_skipped``): a forecast keeps the scenario's value.
    The hindcast keeps them, as fitted. Which row a replicate draws depends on the weights
    only, so leaving columns out does not change the other columns' draws.

    Args:
        path: The Parquet file.
        history: Keep the history-only columns (prefix stripped).

    Raises:
        UncertaintyError: For a missing or unreadable file, no ``weight`` column, weights that
            are negative, not finite or all zero, or non-numeric or non-finite values.

    """
    import pandas as pd

    path = Path(path)
    source = str(path)
    problem = not_a_file(path, "a posterior file (.parquet)")
    if problem == "the file does not exist":
        raise UncertaintyError(source, ["no posterior here (calibration writes it); give "
                                        "--uncertainty none or a FILE of distributions"])
    if problem:
        raise UncertaintyError(source, [problem])
    raw = path.read_bytes()
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any reader error is the file's fault
        raise UncertaintyError(source, [f"not a readable Parquet file ({exc})"]) from None
    problems = []
    if "weight" not in frame.columns:
        problems.append("no 'weight' column (one column per field path, plus weight)")
    if len(frame) == 0:
        problems.append("the posterior has no rows")
    names = [c for c in frame.columns if c != "weight"]
    columns = tuple(str(c) for c in names)
    if not columns:
        problems.append("the posterior has no field path columns")
    if problems:
        raise UncertaintyError(source, problems)
    skipped = [c for c in columns if c.startswith(HISTORY_PREFIX)]
    # Parameters the calibration's manifest names unidentified (sim.history.identification)
    # keep the scenario's value in a forecast: their posterior is the prior again.
    unidentified = [c for c in columns if c in _unidentified(path) and c not in skipped]
    if not history:
        names = [c for c in names if str(c) not in skipped + unidentified]
        columns = tuple(c for c in columns if c not in skipped + unidentified)
    rows: np.ndarray | None = None
    try:
        weights = frame["weight"].to_numpy(dtype=np.float64)
        rows = frame[names].to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise UncertaintyError(source, [f"every column must be numeric ({exc})"]) from None
    if not np.all(np.isfinite(weights)) or (weights < 0).any() or not (weights > 0).any():
        problems.append("weight: every weight must be finite and >= 0, and some above 0")
    else:  # scaled by the largest first: weights of 1e308 sum to inf, and every row to 0
        weights = weights / weights.max()
        weights = weights / weights.sum()
    fields: dict[str, str] = {}
    for column in columns:  # with ``history``, history:X and X would both set field X
        other = fields.setdefault(field_path(column), column)
        if other != column:
            problems.append(f"columns {other!r} and {column!r} are the same field "
                            f"{field_path(column)!r}; keep one of them")
    bad = [c for j, c in enumerate(columns) if not np.all(np.isfinite(rows[:, j]))]
    if bad:
        problems.append(f"{', '.join(bad[:5])}: values must be finite numbers")
    if problems:
        raise UncertaintyError(source, problems)
    extra: dict[str, Any] = {"rows": len(frame)}
    if skipped and not history:
        extra["history_only_skipped"] = skipped
    if unidentified and not history:
        extra["unidentified_skipped"] = unidentified
    columns = tuple(field_path(c) for c in columns)
    extra |= _posterior_manifest(path, hashlib.sha256(raw).hexdigest())
    return Uncertainty(kind="posterior", source=source, sha256=hashlib.sha256(raw).hexdigest(),
                       rows=rows, weights=weights, columns=columns, extra=extra)


def _unidentified(path: Path) -> list[str]:
    """The columns the manifest beside a posterior names unidentified or bound-limited.

    An unreadable manifest is left to :func:`_posterior_manifest` to refuse.
    """
    try:
        recorded = json.loads((path.parent / "manifest.json").read_text(encoding="utf-8"))
        calibration = recorded["calibration"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    if not isinstance(calibration, dict):
        return []
    names = []
    for key in ("unidentified", "bound_limited"):
        listed = calibration.get(key, [])
        names += [str(n) for n in listed] if isinstance(listed, list) else []
    return names


def _posterior_manifest(path: Path, sha256: str) -> dict[str, Any]:
    """Check the calibration manifest beside a posterior; return what it records of the fit.

    A posterior is described by the ``manifest.json`` ``sim calibrate`` writes beside it. When
    there is one, it must be readable and describe this very file (its ``posterior_sha256``),
    else the posterior and its description do not belong together (a manifest copied over, an
    install cut short). What it records of the scenario fitted (name and SHA-256, as the
    manifest holds them) is returned so that a command scoring the posterior on a scenario
    (the hindcast) can check it is the same one (:func:`fitted_to`).

    Raises:
        UncertaintyError: For an unreadable manifest, or one describing another posterior.
    """
    beside = path.parent / "manifest.json"
    if not_a_file(beside) is not None:
        return {}
    raw = beside.read_bytes()
    try:
        manifest = json.loads(raw)
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict):
        raise UncertaintyError(str(beside), ["the manifest beside the posterior is not a JSON "
                                             "object; restore it or give the posterior alone"])
    recorded = manifest.get("posterior_sha256")
    if recorded is not None and recorded != sha256:
        raise UncertaintyError(str(beside), [
            f"posterior_sha256: {str(recorded)[:12]}... describes another posterior than "
            f"{path.name} ({sha256[:12]}...); the two files do not belong together: install "
            "both from one calibration (sim calibrate --install)"])
    extra: dict[str, Any] = {"posterior_manifest_sha256": hashlib.sha256(raw).hexdigest()}
    scenario = manifest.get("scenario")
    if isinstance(scenario, dict) and isinstance(scenario.get("name"), str):
        extra["fitted_scenario"] = scenario["name"]
    if isinstance(manifest.get("scenario_sha256"), str):
        extra["fitted_scenario_sha256"] = manifest["scenario_sha256"]
    return extra


def fitted_to(uncertainty: Uncertainty, scenario: Scenario, option: str) -> None:
    """Refuse a posterior whose manifest says it was fitted to another scenario.

    Args:
        uncertainty: A posterior from :func:`load_posterior`.
        scenario: The scenario it is about to be scored on.
        option: The option that named the posterior, for the message.

    Raises:
        UncertaintyError: Naming both scenarios (name and SHA-256).
    """
    recorded = uncertainty.extra.get("fitted_scenario_sha256")
    if recorded is None or recorded == scenario.digest():
        return
    name = uncertainty.extra.get("fitted_scenario", "?")
    raise UncertaintyError(uncertainty.source, [
        f"{option}: its manifest says it was fitted to scenario {name!r} (SHA-256 "
        f"{recorded[:12]}...), not to {scenario.name!r} ({scenario.digest()[:12]}...) that it "
        "would be scored on; calibrate this scenario (sim calibrate SCENARIO) and give that "
        "posterior"])


def resolve(choice: str | None, replicates: int) -> Uncertainty:
    """The uncertainty ``--uncertainty`` asks for.

    Args:
        choice: ``none``, ``posterior``, a FILE, or None for the default: ``posterior`` when one
            ships (:data:`DEFAULT_POSTERIOR`) and there is more than one replicate, else none.
        replicates: Replicates per scenario.

    """
    if choice is None:
        choice = "posterior" if replicates > 1 and DEFAULT_POSTERIOR.is_file() else "none"
    if choice == "none":
        return NONE
    if choice == "posterior":
        return load_posterior(DEFAULT_POSTERIOR)
    if not Path(choice).exists():
        hint = difflib.get_close_matches(choice, KINDS, n=1)
        raise UncertaintyError(choice, [
            "--uncertainty: no such file; give posterior, none or a YAML file of "
            "distributions per field path" + (f"; did you mean {hint[0]!r}?" if hint else "")])
    return load_file(choice)


@dataclass(frozen=True)
class Draws:
    """One scenario's parameter draws: what is drawn per replicate, and what is held.

    Attributes:
        uncertainty: Where the draws come from.
        values: Field path to one value per replicate, applied to the runs (the held fields
            and the fields the scenario lacks are left out).
        held: Uncertain fields held at the scenario's value.
        parent: For a branched scenario, the draws of its parent's history (before the branch
            quarter), or None.

    """

    uncertainty: Uncertainty
    values: dict[str, np.ndarray]
    held: tuple[str, ...] = ()
    parent: Draws | None = None

    def digest(self) -> str:
        """SHA-256 of the uncertainty and the held fields ("" for none: run ids stay as today)."""
        if self.uncertainty.kind == "none":
            return ""
        text = json.dumps({"sha256": self.uncertainty.sha256, "kind": self.uncertainty.kind,
                           "held": list(self.held), "drawn": sorted(self.values)},
                          sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def take(self, index: slice) -> Draws:
        """The draws of some replicates only."""
        parent = self.parent.take(index) if self.parent is not None else None
        return replace(self, values={k: v[index] for k, v in self.values.items()}, parent=parent)

    def manifest(self, runs: int) -> dict[str, Any]:
        """The manifest entry: the uncertainty, what was drawn and held, the band's wording."""
        return {**self.uncertainty.manifest(), "drawn": list(self.values),
                "held": list(self.held), "band": self.uncertainty.band(runs),
                "sha256_with_held": self.digest()}


def no_draws() -> Draws:
    """The draws of ``--uncertainty none``: nothing drawn."""
    return Draws(NONE, {})


def changed_paths(scenario: Scenario, base: Scenario, paths: tuple[str, ...]) -> set[str]:
    """The ``paths`` whose resolved value in ``scenario`` differs from ``base``'s (or is new)."""
    from sim.engine import compile_scenario

    mine, theirs = compile_scenario(scenario)[1], compile_scenario(base)[1]
    changed = set()
    for path in paths:
        if path not in mine.paths:
            continue
        if path not in theirs.paths or _value(mine, path) != _value(theirs, path):
            changed.add(path)
    return changed


def _value(params, path: str) -> float:
    name, index = params.paths[path]
    return float(getattr(params, name)[(0, *index)])


def base_of(scenario: Scenario, file: str | Path | None) -> Scenario | None:
    """A scenario's base: its branch parent, or the resolved file its ``extends:`` names."""
    from sim.scenario import load_scenario

    if scenario.branch is not None:
        return scenario.branch.parent
    if file is None:
        return None
    parent = read_yaml(file).get("extends")
    if not isinstance(parent, str):
        return None
    return load_scenario(Path(file).resolve().parent / parent, seed=scenario.seed,
                         steps=scenario.steps)


def held_paths(scenario: Scenario, uncertain: tuple[str, ...], base: Scenario | None = None,
               reference: Scenario | None = None, set_paths: list[str] | None = None) -> set[str]:
    """The uncertain fields a scenario holds at its own value.

    A field is held when the scenario changes it: it is given with ``--set``, or the
    scenario's resolved value differs from its base's (the ``extends:`` file or branch parent)
    or, in a comparison, from the reference's (the first scenario).
    """
    held = {p for p in set_paths or [] if p in uncertain}
    for other in (base, reference):
        if other is not None:
            held |= changed_paths(scenario, other, uncertain)
    return held


def plan_draws(uncertainty: Uncertainty, scenarios: list[Scenario], files: list[str | None],
               replicates: int, overrides: list[str] | None = None,
               compared: bool = False) -> list[Draws]:
    """Check an uncertainty against scenarios and draw each one's parameters, paired.

    Every scenario gets the same draw i for replicate i (from the first scenario's seed);
    each leaves out the fields it holds (:func:`held_paths`).

    Args:
        uncertainty: From :func:`resolve`.
        scenarios: The scenarios to run (in a comparison the first is the reference).
        files: Each scenario's file (to find its ``extends:`` base), or None.
        replicates: Replicates per scenario.
        overrides: The ``--set`` pairs given to every scenario.
        compared: Whether the scenarios are compared with the first.

    Returns:
        One :class:`Draws` per scenario.

    Raises:
        UncertaintyError: For a field a scenario does not have or whose draws it refuses.

    """
    check_replicates(replicates, 0)  # before a draw is made: draws are held in memory
    if uncertainty.kind == "none":
        return [no_draws() for _ in scenarios]
    from sim.scenario import parse_set

    for scenario in scenarios:
        uncertainty.check(scenario, uncertainty.source)
    set_paths = [p for p, _ in parse_set(overrides or [])]
    drawn = uncertainty.draw(scenarios[0].seed, replicates)
    paths = uncertainty.paths
    result = []
    for i, (scenario, file) in enumerate(zip(scenarios, files, strict=True)):
        base = base_of(scenario, file)
        reference = scenarios[0] if compared and i > 0 else None
        held = held_paths(scenario, paths, base, reference, set_paths)
        result.append(_applied(uncertainty, drawn, scenario, held))
    return result


def _applied(uncertainty: Uncertainty, drawn: dict[str, np.ndarray], scenario: Scenario,
             held: set[str]) -> Draws:
    """The draws a scenario applies: its fields, less the held ones.

    A branch's parent history holds what the branch holds, except the branch's own changes
    (the parent has not made them yet): those are drawn before the branch quarter.
    """
    from sim.engine import compile_scenario

    known = compile_scenario(scenario)[1].paths
    values = {p: v for p, v in drawn.items() if p in known and p not in held}
    parent = None
    if scenario.branch is not None:
        before = scenario.branch.parent
        kept = held - changed_paths(scenario, before, uncertainty.paths)
        parent = _applied(uncertainty, drawn, before, kept)
    return Draws(uncertainty, values, tuple(sorted(p for p in held if p in known)), parent)
