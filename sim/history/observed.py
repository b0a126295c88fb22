"""The observed record: ``data/observed/*.csv``, loaded and validated.

Every file is tidy, with exactly the columns :data:`COLUMNS`: one row per (year, state,
partner, observable), its value and unit, the reporting convention of the figure, the source
and the evidence (the quoted sentence or table row; for a figure computed from quoted ones,
``derived: <computation> from <quotes>``). ``data/observed/README.md`` describes the files.

::

    table = load_observed()            # the repository's data/observed
    table.query("observable == 'trade_share' and state == 'uzbekistan'")

A row that breaks a rule stops the load with :class:`ObservedDataError`, naming the file, the
line, the field, the value and what is allowed.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.errors import MAX_PROBLEMS_SHOWN, SimError
from sim.scenario.files import not_a_file

COLUMNS = ("year", "state", "partner", "observable", "value", "unit", "convention", "source",
           "evidence")
"""The columns of every observed-data file, in this order."""

STATES = ("kazakhstan", "kyrgyzstan", "tajikistan", "turkmenistan", "uzbekistan", "region")
"""The five states, and ``region`` for the five together."""

PARTNERS = ("china", "russia", "japan")
"""The great powers."""

YEARS = (2000, 2030)
"""The range of years a row may carry."""


@dataclass(frozen=True)
class Observable:
    """What one observable measures and the values it may take.

    Attributes:
        unit: The unit every row of it must carry.
        low: The smallest allowed value.
        high: The largest allowed value.
        meaning: A line for documentation.

    """

    unit: str
    low: float
    high: float
    meaning: str


OBSERVABLES = {
    "trade_share": Observable("fraction", 0.0, 1.0,
                              "the partner's share of the state's foreign trade turnover"),
    "trade_usd_bn": Observable("usd_bn", 0.001, 500.0,
                               "trade turnover (exports plus imports) with the partner, USD bn"),
    "remittances_gdp": Observable("fraction", 0.0, 1.0,
                                  "personal remittances received, as a fraction of GDP"),
    "remittances_usd_bn": Observable("usd_bn", 0.001, 100.0,
                                     "personal remittances received, USD bn"),
    "gas_purchase_bcm": Observable("bcm", 0.0, 200.0,
                                   "the partner's purchases of the state's natural gas, bcm"),
    "leadership_approval": Observable("fraction", 0.0, 1.0,
                                      "adults who approve of the job performance of the "
                                      "partner's leadership (Gallup World Poll)"),
    "favorable_view": Observable("fraction", 0.0, 1.0,
                                 "adults with a favourable view of the partner (Central Asia "
                                 "Barometer): another question, another series"),
    "relations_good": Observable("fraction", 0.0, 1.0,
                                 "adults who call their state's relations with the partner "
                                 "good (IRI's poll of Kyrgyzstan): another question, another "
                                 "series"),
}
"""Known observables; a value outside [low, high] is an error (USD: positive and plausible)."""

CONVENTIONS = {
    "host_statistics": "the state's own statistics (statistics office, ministries, president)",
    "chinese_customs": "China's General Administration of Customs and MOFCOM; the only source "
                       "of regional totals; up to 4x the host states' figures",
    "edb": "Eurasian Development Bank reviews, built on the states' statistics",
    "bank_of_russia": "Central Bank of Russia: money transfers from Russia",
    "national_bank": "the state's central bank: remittances received from all countries",
    "world_bank_knomad": "World Bank / KNOMAD Migration and Development Briefs",
    "buyer_reported": "the buyer's own figures (Gazprom, its bond memoranda, Russian officials)",
    "secondary_report": "a press figure whose underlying statistics the report does not name",
    "gallup_world_poll": "Gallup World Poll, 'Rating World Leaders': \"Do you approve or "
                         "disapprove of the job performance of the leadership of <country>?\"",
    "central_asia_barometer": "Central Asia Barometer: favourable or unfavourable opinion of "
                              "<country> (very or somewhat favourable)",
    "iri_poll": "International Republican Institute's public opinion survey of Kyrgyzstan "
                "(Baltic Surveys / The Gallup Organization, fieldwork by SIAR): relations "
                "between Kyrgyzstan and <country> rated good",
}
"""Known reporting conventions. Each series (state, partner, observable) keeps one."""

DERIVED = "derived:"
"""Evidence of a computed value starts with this, then the computation and the quoted figures."""


class ObservedDataError(SimError):
    """Observed data that cannot be loaded: a missing folder, a bad file or a bad row.

    Attributes:
        problems: One line per problem: the file and line, the field, the value, what is allowed.

    """

    def __init__(self, summary: str, problems: Iterable[str] = ()):
        self.summary = summary
        self.problems = list(problems)
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        lines = [summary] + [f"  - {p}" for p in shown]
        hidden = len(self.problems) - len(shown)
        if hidden:
            lines.append(f"  ... and {hidden} more problem{'s' if hidden > 1 else ''}")
        super().__init__("\n".join(lines))

    def __reduce__(self):
        """Pickle as (class, (summary, problems)), the arguments ``__init__`` takes."""
        return (type(self), (self.summary, self.problems), self.__dict__)


def default_folder() -> Path:
    """Return the repository's ``data/observed`` (it ships with the repository, not the wheel)."""
    return Path(__file__).resolve().parents[2] / "data" / "observed"


def _allowed(values: Iterable[str]) -> str:
    return ", ".join(values)


def _check_row(where: str, row: dict[str, str]) -> list[str]:
    """Return the problems of one row (empty when it is fine)."""
    problems = []
    year = row["year"].strip()
    if not (year.isdigit() and YEARS[0] <= int(year) <= YEARS[1]):
        problems.append(f"{where}: year {year!r} must be a whole year in {YEARS[0]}-{YEARS[1]}")
    for field, allowed in (("state", STATES), ("partner", PARTNERS),
                           ("observable", tuple(OBSERVABLES)),
                           ("convention", tuple(CONVENTIONS))):
        if row[field] not in allowed:
            problems.append(f"{where}: {field} {row[field]!r} is not known; allowed: "
                            f"{_allowed(allowed)}")
    for field in ("source", "evidence"):
        if not row[field].strip():
            problems.append(f"{where}: {field} is empty; give the {field} of the figure")
    spec = OBSERVABLES.get(row["observable"])
    try:
        value = float(row["value"])
    except ValueError:
        problems.append(f"{where}: value {row['value']!r} is not a number")
        return problems
    if spec is None:
        return problems
    if row["unit"] != spec.unit:
        problems.append(f"{where}: unit {row['unit']!r} is wrong for {row['observable']}; "
                        f"use {spec.unit!r}")
    if not (math.isfinite(value) and spec.low <= value <= spec.high):
        problems.append(f"{where}: value {row['value']} is out of range for "
                        f"{row['observable']}: allowed {spec.low} to {spec.high} ({spec.unit})")
    evidence = row["evidence"].strip()
    if evidence.startswith(DERIVED) and "=" not in evidence:
        problems.append(f"{where}: evidence of a derived value must show the computation "
                        f"('derived: a / b = c from <quoted figures>')")
    return problems


def _read_file(path: Path) -> tuple[list[dict[str, str]], list[str]]:
    """Return the rows of one file (each with its ``_where``) and the problems found.

    Anything but a regular file (a FIFO, which would block the read forever, a folder named
    ``x.csv``, a device) is refused without being opened. A UTF-8 byte-order mark, which
    spreadsheet programs write, is accepted.
    """
    problem = not_a_file(path, "an observed-data CSV file")
    if problem:
        return [], [f"{path.name}: {problem}"]
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                return [], [f"{path.name}: the file is empty; it needs the header "
                            f"{','.join(COLUMNS)}"]
            if tuple(header) != COLUMNS:
                return [], [f"{path.name}: header {','.join(header)} must be exactly "
                            f"{','.join(COLUMNS)}{_header_difference(header)}"]
            rows, problems = [], []
            for cells in reader:
                where = f"{path.name}:{reader.line_num}"
                if not cells:
                    continue
                if len(cells) != len(COLUMNS):
                    problems.append(f"{where}: {len(cells)} fields, expected {len(COLUMNS)} "
                                    "(quote fields that hold commas)")
                    continue
                row = dict(zip(COLUMNS, cells, strict=True))
                problems.extend(_check_row(where, row))
                row["_where"] = where
                rows.append(row)
    except UnicodeDecodeError as exc:
        return [], [f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})"]
    except OSError as exc:
        return [], [f"{path.name}: cannot read the file: {exc.strerror}"]
    return rows, problems


def _header_difference(header: list[str]) -> str:
    """Where a header differs from :data:`COLUMNS`, with the cells shown exactly (repr)."""
    for i, (given, wanted) in enumerate(zip(header, COLUMNS, strict=False)):
        if given != wanted:
            return f" (column {i + 1} is {given!r}, expected {wanted!r})"
    if len(header) != len(COLUMNS):
        return f" ({len(header)} columns, expected {len(COLUMNS)})"
    return ""


def _cross_checks(rows: list[dict[str, str]]) -> list[str]:
    """Problems across rows: duplicate keys, and a series with more than one convention."""
    problems = []
    seen: dict[tuple[str, ...], str] = {}
    conventions: dict[tuple[str, ...], dict[str, str]] = {}
    for row in rows:
        key = (row["year"], row["state"], row["partner"], row["observable"])
        if key in seen:
            problems.append(f"{row['_where']}: duplicate of {seen[key]} (year {key[0]}, "
                            f"{key[1]}, {key[2]}, {key[3]}): keep one row per key")
        else:
            seen[key] = row["_where"]
        series = (row["state"], row["partner"], row["observable"])
        conventions.setdefault(series, {}).setdefault(row["convention"], row["_where"])
    for series, found in conventions.items():
        if len(found) > 1:
            listed = "; ".join(f"{c} ({w})" for c, w in found.items())
            problems.append(f"series {'/'.join(series)} mixes conventions: {listed}; "
                            "keep one convention per series")
    return problems


def load_observed(folder: str | Path | None = None) -> pd.DataFrame:
    """Load and validate every ``*.csv`` of the observed-data folder.

    Args:
        folder: The folder; default :func:`default_folder` (the repository's data/observed).

    Returns:
        One table with the columns :data:`COLUMNS` (``year`` int, ``value`` float), sorted by
        observable, state, partner and year.

    Raises:
        ObservedDataError: The folder is missing or holds no CSV file, or a row breaks a rule.

    """
    path = Path(folder) if folder is not None else default_folder()
    if not path.is_dir():
        raise ObservedDataError(
            f"observed data folder {path} not found: it ships with the repository as "
            "data/observed; run from a clone of the repository or pass the folder")
    files = sorted(path.glob("*.csv"))
    if not files:
        raise ObservedDataError(f"observed data folder {path} holds no .csv file")
    rows: list[dict[str, str]] = []
    problems: list[str] = []
    for file in files:
        file_rows, file_problems = _read_file(file)
        rows.extend(file_rows)
        problems.extend(file_problems)
    if not problems:
        problems = _cross_checks(rows)
    if problems:
        raise ObservedDataError(f"{path}: invalid observed data", problems)
    table = pd.DataFrame([{k: v for k, v in row.items() if k != "_where"} for row in rows],
                         columns=list(COLUMNS))
    table["year"] = table["year"].astype(int)
    table["value"] = table["value"].astype(float)
    return table.sort_values(["observable", "state", "partner", "year"],
                             ignore_index=True)
