"""The calibrated posterior: a Parquet file of weighted parameter rows, and its manifest.

One column per scenario field path plus ``weight``; replicate i takes one row, drawn with
probability proportional to its weight. Columns named ``history:<field path>`` are
history-only inputs (:data:`HISTORY_PREFIX`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import sim
from sim.scenario import Scenario
from sim.scenario.files import not_a_file
from sim.uncertainty.source import Uncertainty, UncertaintyError

DEFAULT_POSTERIOR = Path(sim.__file__).resolve().parent.parent / "data" / "posterior" / \
    "posterior.parquet"
"""Where the calibrated posterior ships (its manifest, ``manifest.json``, is beside it)."""

HISTORY_PREFIX = "history:"
"""A posterior column named ``history:<field path>`` is a history-only input (say, the powers'
budgets of 2015-2019, fitted by ``sim calibrate``): ``sim hindcast`` applies it to the history
scenario under the field path after the prefix; ``--uncertainty posterior`` skips it, whatever
the scenario, since it means nothing after 2024 (docs/WHATIF.md)."""


def field_path(column: str) -> str:
    """A posterior column's field path: the column without its ``history:`` prefix."""
    return column.removeprefix(HISTORY_PREFIX)

def load_posterior(path: str | Path = DEFAULT_POSTERIOR, history: bool = False) -> Uncertainty:
    """Read a posterior: a Parquet file, one column per field path plus ``weight``.

    Columns named ``history:<field path>`` (:data:`HISTORY_PREFIX`) are history-only inputs.
    By default they are left out (listed in the manifest as ``history_only_skipped``), as
    every forecast wants; with ``history`` (the hindcast) they are kept under their field
    path. Columns the manifest beside the posterior names ``calibration.unidentified`` or
    ``calibration.bound_limited`` (parameters the record does not identify, or whose posterior
    presses its prior's bound; :mod:`sim.history.identification`) are left out the same way
    (listed as ``unidentified_skipped``): a forecast keeps the scenario's value. The hindcast
    keeps them, as fitted. Which row a replicate draws depends on the weights only, so leaving
    columns out does not change the other columns' draws.

    Args:
        path: The Parquet file.
        history: Keep the history-only columns (prefix stripped).

    Raises:
        UncertaintyError: For a missing or unreadable file, no ``weight`` column, weights that
            are negative, not finite or all zero, or non-numeric or non-finite values.

    """
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
    # Parameters the calibration's manifest names unidentified or bound-limited
    # (sim.history.identification) keep the scenario's value in a forecast.
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
