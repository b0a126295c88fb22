"""Shared fixtures: paths and a tiny scenario for fast tests."""

from __future__ import annotations

import pytest

TINY = {
    "name": "tiny",
    "steps": 8,
    "seed": 3,
    "powers": {
        "japan": {"budget": {"invest": 10, "soft_power": 5, "diplomacy": 1},
                  "risk_tolerance": 0.4, "visibility": 0.5},
        "china": {"budget": {"invest": 30, "soft_power": 5, "diplomacy": 2},
                  "risk_tolerance": 0.7,
                  "reaction": {"japan": {"rule": "threshold", "sensitivity": 1.0,
                                         "threshold": 0.02}}},
    },
    "states": {
        "kazakhstan": {"stability": 0.7, "autonomy": 500,
                       "initial": {"footprint": {"china": 100, "japan": 10}}},
        "kyrgyzstan": {"stability": 0.5, "border_disputes": 1, "autonomy": 200},
    },
}


@pytest.fixture
def tiny() -> dict:
    """A two-power, two-state scenario mapping (a fresh copy per test)."""
    import copy

    return copy.deepcopy(TINY)
