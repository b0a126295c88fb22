"""Central Asia influence simulator.

Japan, China and Russia (or any powers a scenario names) compete for economic footprint,
goodwill and diplomatic capital in the Central Asian states. Scenario files drive repeatable,
seeded runs of a vectorised engine; a Mesa model presents the same engine to notebooks and
dashboards.

The package reads as its architecture, from the ground up (a module imports only those
before it; tests/test_layering.py): :mod:`sim.scenario` (schema, files, branch),
:mod:`sim.engine` (state, rules, step, random), :mod:`sim.uncertainty` (parameter draws),
:mod:`sim.outputs`, :mod:`sim.model` (Mesa), :mod:`sim.sweep`, :mod:`sim.whatif`,
:mod:`sim.decide`, :mod:`sim.history`, :mod:`sim.app` (the dashboard) and :mod:`sim.cli`.

The everyday Python API is importable from here::

    from sim import load_scenario, run_scenario, Sweep
    recording = run_scenario(load_scenario("scenarios/baseline.yaml"), replicates=10)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "load_scenario": "sim.scenario",
    "validate": "sim.scenario",
    "Scenario": "sim.scenario",
    "run_scenario": "sim.outputs.run",
    "write_run": "sim.outputs.run",
    "share_table": "sim.outputs.run",
    "InfluenceModel": "sim.model",
    "Sweep": "sim.sweep",
    "SweepResult": "sim.sweep",
}
"""Public names and the module each lives in (imported on first use: ``import sim`` stays fast)."""

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    """Import a public API name from its module on first use."""
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
