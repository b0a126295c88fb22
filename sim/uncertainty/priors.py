"""An uncertainty FILE: a strategist's own priors, a distribution per scenario field path.

::

    powers.china.reaction.japan.sensitivity: {dist: lognormal, median: 2.0, sigma: 0.5}
    rules.hedging: {dist: uniform, low: 0.1, high: 0.4}

Nested mappings and dotted keys mean the same; every problem is listed at once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError
from sim.scenario import read_yaml
from sim.uncertainty.distributions import parse
from sim.uncertainty.source import Uncertainty, UncertaintyError

MAX_FIELDS = 256
"""Most fields a FILE may make uncertain."""


def _leaves(data: dict[Any, Any], prefix: str = "",
            problems: list[str] | None = None) -> dict[str, Any]:
    """Flatten nested mappings down to the distributions (mappings of plain values).

    So ``rules: {hedging: {dist: ...}}`` and ``rules.hedging: {dist: ...}`` mean the same; a
    field given both ways (or twice through different nestings) is reported in ``problems``
    rather than one of them silently kept.
    """
    flat: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            found = _leaves(value, f"{path}.", problems)
        else:
            found = {path: value}
        for leaf, spec in found.items():
            if leaf in flat:
                if problems is not None:
                    problems.append(f"{leaf}: given twice (once as a dotted key, once nested, or "
                                    "under two spellings of its path); give each field once")
                continue
            flat[leaf] = spec
    return flat


def load_file(path: str | Path) -> Uncertainty:
    """Read and validate an uncertainty FILE (safe YAML; every problem listed at once).

    Raises:
        UncertaintyError: Naming the file, the field path, the value and what is allowed.

    """
    source = str(path)
    try:
        data = read_yaml(path, "an uncertainty file of distributions (.yaml)")
    except ScenarioError as exc:
        raise UncertaintyError(exc.source, exc.problems) from None
    if not data:
        raise UncertaintyError(source, ["the file names no field; give field.path: "
                                        "{dist: ..., ...} lines"])
    if len(data) > MAX_FIELDS:
        raise UncertaintyError(source, [f"{len(data)} fields; at most {MAX_FIELDS} allowed"])
    distributions, problems = [], []
    for key, spec in _leaves(data, problems=problems).items():
        if not key.strip() or " " in key:
            problems.append(f"{key!r}: a key must be a scenario field path")
            continue
        found, why = parse(key, spec)
        problems += why
        if found is not None:
            distributions.append(found)
    if problems:
        raise UncertaintyError(source, problems)
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return Uncertainty(kind="file", source=source, sha256=digest,
                       distributions=tuple(distributions))
