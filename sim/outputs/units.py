"""How numbers read for a person: shares in %, totals in USD bn, flows in USD m per quarter.

Everything a person reads (the tables ``sim run``, ``sim compare`` and ``sim sweep`` print, the
figures, the ``sim explain`` chronicle, the ``sim report`` page) formats its numbers here, so a
share always reads ``12.3%``, a difference of shares ``+1.2 pp`` (percentage points), a stock
``USD 1.9 bn`` and a quarter's spending ``USD 65.5 m per quarter``. Files meant for programs
(CSV, Parquet) keep fractions and USD millions; :data:`FILE_UNITS` says which is which.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
"""The units of the numbers written to CSV and Parquet (recorded in each run's manifest)."""

SWEEP_FILE_UNITS = {
    "influence_end": "fraction (0-1)",
    "influence_peak": "fraction (0-1)",
    "spend_total": "USD m (over the run)",
    "effort_end": "USD m per quarter (reactive spending)",
    "parameters": "as in the scenario file",
}
"""The units of a sweep's summary outputs (columns ``<output>_<power>``), in its manifest."""


def quantity(name: str) -> Quantity:
    """The display of a recorded quantity (``share``, ``footprint``... ``stability``)."""
    return QUANTITIES[name]


def difference_label(name: str) -> str:
    """The unit a difference of a quantity reads in: ``pp`` for shares, else the quantity's."""
    return "percentage points" if QUANTITIES[name].unit == "%" else QUANTITIES[name].unit
