"""The information set of a hindcast: when each input of the history scenario became known.

A hindcast is a forecast made at its cut-off year, so it may use only what was known then
(docs/HINDCAST.md, "The information set"). The history scenario annotates its inputs: ``info``
on every event and ``inputs`` (field path -> :class:`sim.scenario.fields.InputInfo`) for the
other values it sets. Each says the year of the latest figure the value was set from
(``known``) and its kind: ``conditioning`` (an exogenous driver a forecaster would be handed,
never part of a scored observable: the oil price, the fact of sanctions) or ``information``
(set from figures, or fitted on the calibration window). An information input known after the
cut-off is a leak: a test-window figure setting an input.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim.errors import SimError
from sim.scenario import Scenario

COLUMNS = ["input", "what", "known", "kind", "source"]
"""The columns of :func:`information_table`."""


class InformationError(SimError):
    """An input without its annotation, or an annotation of a field the scenario lacks."""


def _resolve(data: Any, path: str) -> bool:
    """Whether a dotted field path names a value of a dumped scenario."""
    for part in path.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False
    return True


def information_table(scenario: Scenario) -> pd.DataFrame:
    """Every annotated input of a scenario: events first (``events.N``), then ``inputs``.

    Raises:
        InformationError: An event without ``info``, or an ``inputs`` path that names no
            value of the scenario.

    """
    rows: list[dict[str, Any]] = []
    missing = []
    for index, event in enumerate(scenario.events):
        if event.info is None:
            missing.append(f"events.{index} ({event.kind} at {event.at})")
            continue
        what = f"{event.kind} at {event.at}" + (f": {event.note}" if event.note else "")
        rows.append({"input": f"events.{index}", "what": what, "known": event.info.known,
                     "kind": event.info.kind, "source": event.info.source})
    if missing:
        raise InformationError(f"{scenario.name}: events without an info annotation (known, "
                               f"kind, source): {', '.join(missing)}")
    dumped = scenario.model_dump(mode="json")
    unknown = [path for path in scenario.inputs if not _resolve(dumped, path)]
    if unknown:
        raise InformationError(f"{scenario.name}: inputs annotations name no field of the "
                               f"scenario: {', '.join(unknown)}")
    for path, info in scenario.inputs.items():
        rows.append({"input": path, "what": "value", "known": info.known, "kind": info.kind,
                     "source": info.source})
    return pd.DataFrame(rows, columns=COLUMNS)


def leaks(table: pd.DataFrame, cutoff: int) -> pd.DataFrame:
    """The inputs a forecast made at ``cutoff`` could not have known: information after it."""
    return table[(table["known"] > cutoff) & (table["kind"] != "conditioning")]


def markdown(table: pd.DataFrame) -> str:
    """The table as Markdown, for docs/HINDCAST.md."""
    lines = ["| input | what | known | kind | source |", "|---|---|---|---|---|"]
    for r in table.itertuples(index=False):
        what = r.what.replace("|", "/")
        lines.append(f"| `{r.input}` | {what} | {r.known} | {r.kind} | {r.source} |")
    return "\n".join(lines)
