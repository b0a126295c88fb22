"""Shared fixtures (a tiny scenario for fast tests) and a guard on the repository's results/.

Tests write only to temporary folders. At the end of the session the guard compares the
repository's results/ with what it held at the start, and fails the session, naming the new
files, if a test (or a notebook the tests execute) wrote there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_RESULTS = Path(__file__).resolve().parent.parent / "results"


def results_files() -> set[Path]:
    """Every file and folder under the repository's results/ (hidden ones included)."""
    return set(REPO_RESULTS.rglob("*")) if REPO_RESULTS.is_dir() else set()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Remember what results/ holds before any test runs."""
    session.config.stash[_BEFORE] = results_files()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session if results/ gained files while the tests ran."""
    before = session.config.stash.get(_BEFORE, None)
    if before is None:
        return
    new = sorted(results_files() - before)
    if new:
        shown = "\n  ".join(str(p.relative_to(REPO_RESULTS.parent)) for p in new[:20])
        more = f"\n  ... and {len(new) - 20} more" if len(new) > 20 else ""
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = (f"the tests wrote into the repository's results/ (tests must write only to "
                   f"tmp_path):\n  {shown}{more}")
        if reporter is not None:
            reporter.write_line(message, red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_BEFORE = pytest.StashKey[set]()

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
