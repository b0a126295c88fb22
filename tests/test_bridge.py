"""The bridge from the record to the forecasts (issue 11 item 5; docs/DATA.md section 16).

The 2025+ scenarios start from the sourced 2024 record, not from the hindcast's end, and draw
the calibrated rules from the posterior (``--uncertainty posterior``) rather than fixing them at
its mean. DATA.md explains why and gives the gap between the two starts; this test measures it
again on the shipped files: the hindcast's 2024Q4 (the history scenario with the posterior mean
of every column, history-only ones included, 20 seeds) against the baseline's step 0 under the
same posterior-mean rules. The influence shares must agree within ``TOLERANCE`` in every state
and for every power, so a change to the data, the scenarios or the posterior that widens the gap
beyond what DATA.md states fails here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run_scenario
from sim.history.hindcast import DEFAULT_SCENARIO
from sim.uncertainty import DEFAULT_POSTERIOR

TOLERANCE = 0.20
"""The largest gap DATA.md section 16 allows, in share (20 percentage points; 15 before the
noisy fit, whose posterior mean sits near the priors' centres)."""
MEASURED = 0.178
"""The gap DATA.md section 16 reports (China in Turkmenistan)."""


def _posterior_mean() -> dict[str, float]:
    table = pd.read_parquet(DEFAULT_POSTERIOR)
    weight = table.pop("weight").to_numpy()
    return {column: float(np.average(table[column], weights=weight)) for column in table}


@pytest.fixture(scope="module")
def gap() -> np.ndarray:
    mean = _posterior_mean()
    history = load_scenario(DEFAULT_SCENARIO, overrides=[
        (column.removeprefix("history:"), value) for column, value in mean.items()])
    rules = [(column, value) for column, value in mean.items()
             if not column.startswith("history:")]
    baseline = load_scenario(DEFAULT_SCENARIO.parents[1] / "baseline.yaml", overrides=rules)
    assert history.steps == 40 and str(baseline.start) == "2025Q1"
    end = run_scenario(history, replicates=20).share[-1].mean(axis=0)  # (S, P), 2024Q4
    start = run_scenario(baseline).share[0, 0]  # (S, P), 2024Q4
    return np.abs(end - start)


def test_the_baseline_starts_within_the_stated_gap_of_the_hindcasts_end(gap):
    assert gap.max() <= TOLERANCE, f"largest gap {gap.max():.3f} (DATA.md section 16)"


def test_the_gap_is_the_one_data_md_reports(gap):
    assert gap.max() == pytest.approx(MEASURED, abs=0.005)
