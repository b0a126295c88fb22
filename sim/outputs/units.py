"""How numbers read for a person: shares in %, totals in USD bn, flows in USD m per quarter.

Everything a person reads (the tables ``sim run``, ``sim compare`` and ``sim sweep`` print, the
figures, the ``sim explain`` chronicle, the ``sim report`` page) formats its numbers here, so a
share always reads ``12.3%``, a difference of shares ``+1.2 pp`` (percentage points), a stock
``USD 1.9 bn`` and a quarter's spending ``USD 65.5 m per quarter``. Files meant for programs
(CSV, Parquet) keep fractions and USD millions, and this module is also the one registry of
their units: a long table (one value column whose rows are different quantities) gets a ``unit``
column (:func:`with_unit_column`), every results folder's ``manifest.json`` lists the unit of
each column of each of its CSV and Parquet files (:func:`folder_units`), and every Parquet file
carries its units in its schema (:func:`with_units`). Column names never change: notebooks,
queries and users' scripts read them.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

USD_M_PER_BN = 1000.0
"""USD millions in a USD billion."""


@dataclass(frozen=True)
class Quantity:
    """How one recorded quantity is shown.

    Attributes:
        name: Plain name, e.g. "Influence share".
        axis: Axis or column label with the unit, e.g. "influence share, %".
        scale: Factor from the recorded value (fraction or USD m) to the shown one.
        unit: The shown unit alone ("%", "USD bn", "USD m per quarter", "index 0-1").
    """

    name: str
    axis: str
    scale: float
    unit: str

    def show(self, value: float, signed: bool = False) -> str:
        """Format a recorded value in this quantity's shown unit."""
        return _FORMATS[self.unit](value, signed)


def format_share(value: float, signed: bool = False, digits: int = 1) -> str:
    """A share (a fraction in [0, 1]) as a percentage, e.g. ``0.1234`` -> ``12.3%``."""
    if not math.isfinite(value):
        return "n/a"
    return f"{round(100.0 * value, digits) + 0.0:{'+' if signed else ''}.{digits}f}%"


def format_share_points(value: float, digits: int = 1) -> str:
    """A difference of shares in percentage points, e.g. ``0.012`` -> ``+1.2 pp``."""
    if not math.isfinite(value):
        return "n/a"
    return f"{round(100.0 * value, digits) + 0.0:+.{digits}f} pp"


def _money(value: float, signed: bool, unit: str) -> str:
    """USD amount with its sign first: one decimal, two significant digits below 1."""
    if not math.isfinite(value):
        return "n/a"
    size = abs(value)
    number = f"{size:.2g}" if 0 < size < 1 else f"{size:,.1f}"
    negative = value < 0 and number.strip("0.,") != ""
    sign = ("-" if negative else "+") if signed else ("-" if negative else "")
    if "e" in number:
        number = f"{size:.1e}"
    return f"{sign}USD {number} {unit}"


def format_usd_m(value: float, signed: bool = False) -> str:
    """An amount in USD millions, e.g. ``65.46`` -> ``USD 65.5 m``."""
    return _money(value, signed, "m")


def format_usd_m_per_quarter(value: float, signed: bool = False) -> str:
    """A flow in USD millions per quarter, e.g. ``65.46`` -> ``USD 65.5 m per quarter``."""
    return _money(value, signed, "m per quarter")


def format_usd_bn(value_usd_m: float, signed: bool = False, digits: int = 2) -> str:
    """A total or stock given in USD millions, shown in billions: ``1934.0`` -> ``USD 1.93 bn``."""
    if not math.isfinite(value_usd_m):
        return "n/a"
    size = round(abs(value_usd_m) / USD_M_PER_BN, digits)
    negative = value_usd_m < 0 and size > 0
    sign = ("-" if negative else "+") if signed else ("-" if negative else "")
    return f"{sign}USD {size:,.{digits}f} bn"


def format_index(value: float, signed: bool = False) -> str:
    """An index in [0, 1] (stability), two decimals."""
    if not math.isfinite(value):
        return "n/a"
    return f"{value:{'+' if signed else ''}.2f}"


_FORMATS = {
    "%": lambda v, signed: format_share_points(v) if signed else format_share(v),
    "USD bn": lambda v, signed: format_usd_bn(v, signed),
    "USD m per quarter": lambda v, signed: format_usd_m_per_quarter(v, signed),
    "index 0-1": lambda v, signed: format_index(v, signed),
    "": lambda v, signed: f"{v:{'+' if signed else ''}.3g}",
}

QUANTITIES = {
    "share": Quantity("Influence share", "influence share, %", 100.0, "%"),
    "footprint": Quantity("Economic footprint", "economic footprint, USD bn",
                          1 / USD_M_PER_BN, "USD bn"),
    "goodwill": Quantity("Goodwill", "goodwill, USD bn equivalent", 1 / USD_M_PER_BN, "USD bn"),
    "diplomatic": Quantity("Diplomatic capital", "diplomatic capital, USD bn equivalent",
                           1 / USD_M_PER_BN, "USD bn"),
    "effort": Quantity("Reactive spending", "reactive spending, USD m per quarter", 1.0,
                       "USD m per quarter"),
    "stability": Quantity("Stability", "stability, index 0-1", 1.0, "index 0-1"),
}
"""Every recorded quantity a person may read, by its name in the recording and the files."""

FILE_UNITS = {
    "share": "fraction (0-1)",
    "footprint": "USD m",
    "goodwill": "USD m equivalent",
    "diplomatic": "USD m equivalent",
    "effort": "USD m per quarter (reactive spending)",
    "stability": "index (0-1)",
    "amount_usd_m": "USD m per quarter",
}
"""The units of the recorded quantities in CSV and Parquet files (columns of that name)."""

SWEEP_FILE_UNITS = {
    "influence_end": "fraction (0-1)",
    "influence_peak": "fraction (0-1)",
    "spend_total": "USD m (over the run)",
    "effort_end": "USD m per quarter (reactive spending)",
}
"""The units of a sweep's summary outputs (columns ``<output>_<power>[_mean|_p5|_p95]``)."""


def quantity(name: str) -> Quantity:
    """The display of a recorded quantity (``share``, ``footprint``... ``stability``)."""
    return QUANTITIES[name]


def difference_label(name: str) -> str:
    """The unit a difference of a quantity reads in: ``pp`` for shares, else the quantity's."""
    return "percentage points" if QUANTITIES[name].unit == "%" else QUANTITIES[name].unit


# ----------------------------------------------------------------------------------------------
# The units of the files: one registry
# ----------------------------------------------------------------------------------------------

ROW_UNIT = "the row's unit (its unit column)"

SOBOL_UNIT = "dimensionless (share of the output's variance, 0-1)"
"""The unit of a Sobol index: none, whatever the output's unit."""
"""The unit of a long table's value columns: each row's ``unit`` column says it."""

PARAMETER_UNIT = "the field's own unit, as in the scenario file (docs/ODD.md, section 7.10)"
"""The unit of a scenario field's values (swept, drawn or calibrated parameters)."""

OBSERVABLE_UNITS = {
    "trade_share": "fraction (0-1)",
    "trade_usd_bn": "USD bn",
    "remittances_gdp": "fraction of GDP (0-1)",
    "remittances_usd_bn": "USD bn",
    "gas_purchase_bcm": "bcm (billion cubic metres)",
    "leadership_approval": "fraction of adults (0-1)",
    "favorable_view": "fraction of adults (0-1)",
}
"""The unit of each observable (the ``unit`` column of observables.csv, skill.csv, fit.csv)."""

KEY_COLUMNS = frozenset({
    # what a row is about
    "step", "quarter", "year", "state", "power", "partner", "observable", "seed", "run_id",
    "sample_id", "scenario", "baseline", "metric", "generation", "draw", "policy", "box", "index",
    "event", "parameter", "path", "output", "measure", "kind", "type", "toward",
    # words about it
    "unit", "band", "note", "details", "states", "reason", "convention", "verdict",
})
"""Columns that name or describe a row in words: they carry no unit. Every other column of a
CSV or Parquet file has one in :func:`column_unit` (the tests hold every file to that)."""

COUNT = "count"
TRUE_FALSE = "true/false"
FRACTION = FILE_UNITS["share"]

COLUMN_UNITS = {
    **FILE_UNITS,
    # moves.csv
    "visibility": "index (0-1; 0.5 neutral)",
    "signal": ("as the reaction rule (kind) watches it: loudness x USD m per quarter "
               "(linear, tit_for_tat) or loudness x influence share, fraction (0-1) (threshold)"),
    "response": "USD m per quarter (change of reactive spending)",
    "effort_after": FILE_UNITS["effort"],
    # long tables: the row's unit
    **dict.fromkeys(("value", "mean", "p5", "p10", "p50", "p90", "p95", "difference",
                     "difference_p5", "difference_p95", "baseline_mean", "scenario_mean",
                     "model_mean", "model_p5", "model_p95", "observed", "mae_model",
                     "mae_persistence", "mae_trend", "mu", "mu_star", "mu_star_conf", "sigma"),
                    ROW_UNIT),
    **dict.fromkeys(("S1", "S1_conf", "ST", "ST_conf"), SOBOL_UNIT),
    **dict.fromkeys(("rel_mae", "rel_mae_p5", "rel_mae_p95"),
                    "ratio (relative MAE: the model's mean absolute error over persistence's)"),
    "log_error": "natural log of model mean over observed",
    # counts, flags, fractions
    **dict.fromkeys(("runs", "n_runs", "n_diverged", "n_outcome", "n_calibration", "n_test",
                     "proposed", "simulated", "accepted"), COUNT),
    **dict.fromkeys(("beats_persistence", "history_only", "chosen"), TRUE_FALSE),
    **dict.fromkeys(("coverage", "density", "mass", "acceptance_rate"), FRACTION),
    "ess": "count (effective sample size)",
    "epsilon": "ABC tolerance: RMS log error (inf: generation 0)",
    "weight": "relative weight (posterior)",
    "diverged_step": "step (quarter index; -1: never diverged)",
    # a parameter's range (discover's boxes, calibrate's priors)
    **dict.fromkeys(("lower", "upper", "sweep_min", "sweep_max", "prior_low", "prior_high"),
                    PARAMETER_UNIT),
}
"""The unit of a column, by its name, wherever it appears (see :func:`column_unit`)."""

FILE_COLUMN_UNITS = {
    "parameters.csv": dict.fromkeys(("mean", "sd", "p5", "p50", "p95"), PARAMETER_UNIT),
    "trajectory.csv": {"restricted": "count (parameters the box restricts)"},
    "box.csv": {"restricted": TRUE_FALSE},
}
"""Where a column means something else in one file (calibrate's parameters.csv, discover's
trajectory.csv and box.csv), by file name."""

_PREFIXES = {
    **{f"{output}_": unit for output, unit in SWEEP_FILE_UNITS.items()},
    "influence": FRACTION,
    "provoked_reaction": "USD m per quarter (the rivals' reactive spending)",
}
"""Column families by prefix: a sweep's ``<output>_<power>[_mean|_p5|_p95]``, an optimisation's
``influence[_<states>]_<robustness>[_best|_median]`` and ``provoked_reaction...``."""

_STATISTICS = ("_mean", "_p5", "_p95")


def column_unit(name: str, file: str = "") -> str | None:
    """The unit of a column of a CSV or Parquet file, or None for a key (or an unknown column).

    Args:
        name: The column name.
        file: The file's name (``parameters.csv``), for the columns that differ by file.
    """
    if name in KEY_COLUMNS:
        return None
    own = FILE_COLUMN_UNITS.get(file, {})
    if name in own:
        return own[name]
    if name in COLUMN_UNITS:
        return COLUMN_UNITS[name]
    for prefix, unit in _PREFIXES.items():
        if name.startswith(prefix):
            return unit
    if name.endswith("_usd_m"):  # an optimised policy's budget: <state>.<kind>_usd_m
        return FILE_UNITS["amount_usd_m"]
    if name.endswith(".visibility"):
        return COLUMN_UNITS["visibility"]
    for statistic in _STATISTICS:  # summary.csv: share_mean, share_p5...
        if name.endswith(statistic) and name[:-len(statistic)] in FILE_UNITS:
            return FILE_UNITS[name[:-len(statistic)]]
    if "." in name or name.startswith("history:"):  # a scenario field's path
        return PARAMETER_UNIT
    return None


def columns_units(columns: list[str], file: str = "") -> dict[str, str]:
    """The unit of each column that has one (keys left out), in column order."""
    units = {}
    for name in columns:
        unit = column_unit(name, file)
        if unit is not None:
            units[name] = unit
    return units


def with_unit_column(frame: pd.DataFrame, key: str = "observable",
                     units: dict[str, str] | None = None) -> pd.DataFrame:
    """A long table with a ``unit`` column last, each row's unit looked up by its ``key``.

    Args:
        frame: The table (one row per quantity, e.g. observables.csv).
        key: The column naming the row's quantity.
        units: The unit of each quantity (default: :data:`OBSERVABLE_UNITS`).

    Raises:
        KeyError: For a quantity the registry does not know (a programming error).
    """
    units = OBSERVABLE_UNITS if units is None else units
    unknown = sorted(set(frame[key]) - set(units))
    if unknown:
        raise KeyError(f"no unit registered for {key} {', '.join(map(str, unknown))} "
                       "(sim/outputs/units.py)")
    return frame.assign(unit=frame[key].map(units).astype(object))


def file_columns(path: Path) -> list[str]:
    """The column names of a CSV file (its header) or a Parquet file (its schema)."""
    if path.suffix == ".parquet":
        return list(pq.read_schema(path).names)
    with open(path, newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle), [])


_NUMBER = re.compile(r"\d+")


def folder_units(folder: Path) -> dict[str, dict[str, str]]:
    """The manifest's ``units`` entry: each CSV and Parquet file's columns and their units.

    Files are named by their path in the folder; numbered files of one kind (``runs/moves-seed5
    .csv``, ``parts/runs-00012.parquet``) share one entry with ``*`` for the number. Subfolders
    with a manifest.json of their own (a comparison's runs) are left to theirs. Sorted, so the
    entry is the same on any number of workers.
    """
    folder = Path(folder)
    own = {p.parent for p in folder.rglob("manifest.json") if p.parent != folder}
    found: dict[str, dict[str, str]] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix not in (".csv", ".parquet") or path.name.startswith("."):
            continue
        if any(parent in own for parent in path.parents):
            continue
        name = _NUMBER.sub("*", path.relative_to(folder).as_posix())
        if name not in found:
            found[name] = columns_units(file_columns(path), path.name)
    return found


def with_units(table: pa.Table) -> pa.Table:
    """A table whose schema carries its units: ``unit`` on each field, ``units`` on the file.

    Readable with ``pyarrow.parquet.read_schema(path).field(name).metadata[b"unit"]`` and, for
    the file-level JSON, DuckDB's ``parquet_kv_metadata``. Keys get no unit; metadata already
    there (pandas') is kept. Deterministic: sorted JSON, no time stamps.
    """
    units = columns_units(table.column_names)
    fields = []
    for field in table.schema:
        unit = units.get(field.name)
        meta = dict(field.metadata or {})
        if unit is not None:
            meta[b"unit"] = unit.encode()
        fields.append(field.with_metadata(meta) if meta else field)
    meta = dict(table.schema.metadata or {})
    meta[b"units"] = json.dumps(units, sort_keys=True).encode()

    return pa.Table.from_arrays(table.columns, schema=pa.schema(fields, metadata=meta))
