"""The compiled-scenario cache of a worker process: one scenario at a time, by its key.

A task carries its scenario as a resolved mapping (a few KB) and a key (a digest of what makes
the runs); a worker compiles it the first time it sees the key and keeps it until a task with
another key arrives, so a worker running a long batch compiles once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.engine import compile_scenario
from sim.engine.params import Params, Structure
from sim.scenario import validate

_COMPILED: dict[str, tuple[Structure, Params]] = {}


def compiled(key: str, scenario: Mapping[str, Any], source: str = "<batch scenario>",
             ) -> tuple[Structure, Params]:
    """The scenario compiled, cached by ``key``.

    Args:
        key: What identifies the scenario (a digest); equal keys must mean equal scenarios.
        scenario: The resolved scenario (``model_dump(mode="json")``).
        source: The name a validation message would give it.

    """
    if key not in _COMPILED:
        _COMPILED.clear()
        _COMPILED[key] = compile_scenario(validate(dict(scenario), source))
    return _COMPILED[key]
