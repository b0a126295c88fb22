"""Shared fixtures (a tiny scenario for fast tests), the test tiers, Hypothesis' settings, and a
guard on the repository's results/.

Two tiers. ``python -m pytest`` (the README's command) runs the fast tier: everything not marked
``slow``, ``cluster``, ``notebook`` or ``browser`` (pyproject.toml's addopts), on every core
(pytest-xdist, one test file per worker). ``.ci/run`` then runs the slow tier in one process,
``python -m pytest -n 0 -m "slow or cluster or notebook or browser"``, so CI runs every test. To
run a marked test by hand, name its marker (``-m slow``) or clear the selection (``python -m
pytest tests/test_x.py -m ""``).

How to mark a new test (markers are registered in pyproject.toml; a misspelt one is an error):

- ``@pytest.mark.cluster`` if it starts a Dask cluster, ``notebook`` if it runs a Jupyter
  kernel, ``browser`` if it drives Chromium. A test that uses the ``cluster``, ``executed``
  (notebooks) or ``browser_page`` fixture without its marker stops the collection with a message.
- ``@pytest.mark.slow`` if it takes more than SLOW_SECONDS on an idle machine (look at
  ``python -m pytest --durations=20``), e.g. a long simulation, a sweep of many chunks, or
  several real processes. Count a module-scoped fixture's time against the tests that use it.
  At the end of a run the summary lists unmarked tests slower than twice that (a warning only:
  a loaded machine is slower). Mark one case of a parametrized test with
  ``pytest.param(..., marks=pytest.mark.slow)``.
- Prefer making a test cheaper to marking it: a refusal runs in this interpreter with
  clihelp.run_in_process, not through a fresh ``python -m sim``.

Hypothesis runs derandomized and without its example database (the "repeatable" profile
below), so a run's examples are the same on every machine and CI is reproducible;
``HYPOTHESIS_PROFILE=explore`` draws new random examples (and keeps failing ones in
.hypothesis/) for a search by hand.

Tests write only to temporary folders. At the end of the session the guard compares the
repository's results/ with what it held at the start, and fails the session, naming the new
files, if a test (or a notebook the tests execute) wrote there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

SLOW_SECONDS = 5.0
"""A test slower than this on an idle machine is marked ``slow`` (it leaves the fast tier)."""

TIER_FIXTURES = {"cluster": "cluster", "executed": "notebook", "browser_page": "browser"}
"""Fixtures that put a test in a tier: fixture name -> the marker the test must carry."""

settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Stop the collection if a test uses a tier's fixture without the tier's marker.

    Runs before ``-m`` deselects anything, so a forgotten marker is caught in either tier.
    """
    missing = [f"{item.nodeid} uses the {fixture!r} fixture: mark it @pytest.mark.{marker}"
               for item in items for fixture, marker in TIER_FIXTURES.items()
               if fixture in getattr(item, "fixturenames", ()) and
               item.get_closest_marker(marker) is None]
    if missing:
        raise pytest.UsageError("\n".join(missing))


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """List unmarked tests that took more than twice SLOW_SECONDS (a hint, not a failure)."""
    tiers = ("slow", "cluster", "notebook", "browser")
    seconds: dict[str, float] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) in ("setup", "call", "teardown") and not any(
                    name in tiers for name in getattr(report, "keywords", {})):
                seconds[report.nodeid] = seconds.get(report.nodeid, 0.0) + report.duration
    slow = sorted(((s, n) for n, s in seconds.items() if s > 2 * SLOW_SECONDS), reverse=True)
    if slow:
        terminalreporter.write_line(
            f"unmarked tests slower than {2 * SLOW_SECONDS:g} s (mark them slow if they are "
            "on an idle machine; see tests/conftest.py):", yellow=True)
        for took, nodeid in slow[:10]:
            terminalreporter.write_line(f"  {took:5.1f} s  {nodeid}")

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
