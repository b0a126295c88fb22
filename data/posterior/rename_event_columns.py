"""Rename the shipped posterior's history-only columns from event positions to event ids.

The calibration used to address the history scenario's budget events by their position
(``history:events.0.factor``); they now carry ids (``history:events.china_investment_2015.factor``),
so reordering scenarios/history/2015.yaml cannot make a posterior fit other fields. This script
rewrites data/posterior/ to the new names without recalibrating: every number of
posterior.parquet is kept bit for bit (the table is read and written again, columns renamed, units
recomputed for the new names), and in manifest.json the names, the posterior's SHA-256, the
scenario copy (the four events get their ids) and the scenario's SHA-256 (the shipped
scenario's, which the copy must equal) are updated. It is
deterministic and idempotent (a second run changes nothing). Run from the repository root::

    python data/posterior/rename_event_columns.py
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.scenario import load_scenario, validate
from sim.sweep.store import write_parquet

FOLDER = Path(__file__).resolve().parent
IDS = {0: "china_investment_2015", 1: "russia_investment_2015", 2: "china_investment_2020",
       3: "russia_investment_2020"}
"""Position in the history scenario's events -> the id it now has."""
RENAMED = {f"history:events.{i}.factor": f"history:events.{name}.factor" for i, name in IDS.items()}


def rename(text: str) -> str:
    """Replace every old column name in a text by its new name."""
    for old, new in RENAMED.items():
        text = text.replace(f'"{old}"', f'"{new}"')
    return text


def main() -> None:
    path = FOLDER / "posterior.parquet"
    before = pd.read_parquet(path)
    after = before.rename(columns=RENAMED)
    if list(after.columns) != list(before.columns):
        write_parquet(pa.Table.from_pandas(after, preserve_index=False), path)
    check = pd.read_parquet(path)
    assert list(check.columns) == [RENAMED.get(c, c) for c in before.columns]
    assert np.array_equal(check.to_numpy(), before.to_numpy()), "the numbers changed"

    manifest = json.loads(rename((FOLDER / "manifest.json").read_text()))
    events = manifest["scenario"]["events"]
    for i, name in IDS.items():
        events[i] = {"id": name, **{k: v for k, v in events[i].items() if k != "id"}}
    scenario = validate(manifest["scenario"], "data/posterior/manifest.json")
    shipped = load_scenario(FOLDER.parent.parent / "scenarios" / "history" / "2015.yaml")
    same = [json.dumps(s.model_dump(mode="json"), sort_keys=True) for s in (scenario, shipped)]
    assert same[0] == same[1], "the manifest's scenario is not the shipped one"
    manifest["scenario_sha256"] = shipped.digest()  # the manifest's copy has its keys sorted
    manifest["posterior_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (FOLDER / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
