"""The shipped history scenario for each cut-off: a forecast origin knows only its past.

The 2019 origin uses ``scenarios/history/2015.yaml``; the 2017 origin uses
``scenarios/history/2015-known-2017.yaml``, which extends it and replaces every input set from
a figure published after 2017 (docs/HINDCAST.md, "The information set"). ``sim calibrate`` and
``sim hindcast`` take the scenario for their cut-off unless one is given.
"""

from __future__ import annotations

from pathlib import Path

HISTORY = Path(__file__).resolve().parents[2] / "scenarios" / "history"

SHIPPED_SCENARIOS: dict[int, Path] = {
    2017: HISTORY / "2015-known-2017.yaml",
    2019: HISTORY / "2015.yaml",
}
"""The history scenario written for each shipped cut-off."""


def scenario_for(cutoff: int) -> Path:
    """The shipped history scenario for a cut-off.

    The latest one written for a cut-off at or before ``cutoff`` (it knows nothing after its
    own cut-off, so nothing after ``cutoff`` either); for a cut-off before every shipped one,
    the earliest.
    """
    earlier = [year for year in SHIPPED_SCENARIOS if year <= cutoff]
    return SHIPPED_SCENARIOS[max(earlier) if earlier else min(SHIPPED_SCENARIOS)]
