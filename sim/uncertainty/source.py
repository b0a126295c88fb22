"""What a run's parameters are drawn from: none, a FILE of distributions or a posterior.

An :class:`Uncertainty` draws each uncertain field for a run of replicates, paired by seed:
draw i is a pure function of (the scenario seed + i, the field path), on its own counter stream
of the engine's generator (:data:`STREAM_PARAMETERS`).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.engine import compile_scenario
from sim.engine.random import uniform
from sim.errors import ScenarioError
from sim.scenario import Scenario
from sim.scenario.load import refused_value
from sim.uncertainty.distributions import Distribution

STREAM_PARAMETERS = 0xA7
"""Counter stream of the parameter draws (the engine's own streams are 1-3)."""

class UncertaintyError(ScenarioError):
    """An uncertainty FILE or posterior that cannot be used (exit status 2)."""

    what = "uncertainty file"

@dataclass(frozen=True)
class Uncertainty:
    """What a run's parameters are drawn from.

    Attributes:
        kind: ``none``, ``posterior`` or ``file``.
        source: The FILE or the posterior's path ("" for none).
        sha256: SHA-256 of the FILE's bytes or the posterior's bytes ("" for none).
        distributions: A FILE's distributions, in file order.
        rows: The posterior's values, (N, D) float64, by :attr:`columns`.
        weights: The posterior rows' weights, normalised to sum 1.
        columns: The posterior's field paths.
        extra: More provenance for the manifest (the posterior manifest's SHA-256).

    """

    kind: str = "none"
    source: str = ""
    sha256: str = ""
    distributions: tuple[Distribution, ...] = ()
    rows: np.ndarray | None = field(default=None, compare=False, repr=False)
    weights: np.ndarray | None = field(default=None, compare=False, repr=False)
    columns: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def paths(self) -> tuple[str, ...]:
        """The uncertain field paths."""
        if self.kind == "file":
            return tuple(d.path for d in self.distributions)
        return self.columns

    def band(self, runs: int) -> str:
        """What a band over ``runs`` replicates includes, in words (for tables and figures)."""
        seeds = "1 seed" if runs == 1 else f"{runs} seeds"
        if self.kind == "none":
            return f"over {seeds} only (parameters as written)"
        what = "posterior draws" if self.kind == "posterior" else \
            f"parameter draws from {Path(self.source).name}"
        return f"over {seeds} and {what}"

    def short(self) -> str:
        """A short label for a CSV column: ``seeds only``, ``seeds + posterior`` or the FILE."""
        if self.kind == "none":
            return "seeds only"
        return "seeds + posterior" if self.kind == "posterior" else \
            f"seeds + {Path(self.source).name}"

    def draw(self, seed: int, runs: int) -> dict[str, np.ndarray]:
        """Draw every uncertain field for replicates ``0 .. runs - 1`` of seed ``seed``.

        Replicate i's draw depends only on ``seed + i`` and the field path.

        Returns:
            Field path to ``runs`` values (float64).

        """
        keys = np.arange(seed, seed + runs, dtype=np.uint64)
        if self.kind == "file":
            return {d.path: d.sample(_uniforms(keys, d.path)) for d in self.distributions}
        if self.kind == "posterior":
            cumulative = np.cumsum(self.weights)
            cumulative /= cumulative[-1]
            index = np.searchsorted(cumulative, _uniforms(keys, "posterior row"), side="right")
            index = np.minimum(index, len(cumulative) - 1)
            return {path: self.rows[index, j] for j, path in enumerate(self.columns)}
        return {}

    def check(self, scenario: Scenario, source: str) -> None:
        """Check that every uncertain field is a numeric field of a scenario, in its range.

        A FILE must name only fields of the scenario (those ``sim sweep --list-paths`` lists);
        a posterior's fields that the scenario lacks are left out of its runs. The ends of
        each field's draws (a FILE's bounds or far tails; the posterior's smallest and largest
        values) are validated with the scenario's own schema.

        Raises:
            UncertaintyError: Naming the file, the field path, the value and what is allowed.

        """
        if self.kind == "none":
            return
        known = compile_scenario(scenario)[1].paths
        problems = []
        if self.kind == "file":
            for d in self.distributions:
                if d.path not in known:
                    hint = difflib.get_close_matches(d.path, list(known), n=3)
                    problems.append(
                        f"{d.path}: not a numeric field of the scenario {scenario.name!r}"
                        + (f"; did you mean {' or '.join(hint)}?" if hint else "")
                        + " (`sim sweep SWEEP --list-paths` lists the fields)")
            ranges = {d.path: d.extremes() for d in self.distributions if d.path in known}
        else:
            ranges = {p: [float(self.rows[:, j].min()), float(self.rows[:, j].max())]
                      for j, p in enumerate(self.columns) if p in known}
        data = scenario.model_dump(mode="json")
        data.pop("branch", None)
        for path, ends in ranges.items():
            for value in ends:
                why = refused_value(copy.deepcopy(data), path, value, source)
                if why:
                    fix = " (add or narrow bounds: [lo, hi])" if self.kind == "file" else ""
                    problems.append(f"{path}: draws reach {value:g}, which the scenario "
                                    f"{scenario.name!r} refuses: {why}{fix}")
                    break
        if problems:
            raise UncertaintyError(source, problems)

    def manifest(self) -> dict[str, Any]:
        """The uncertainty's entry in a manifest (without the per-scenario held fields)."""
        data: dict[str, Any] = {"kind": self.kind, "source": self.source,
                                "sha256": self.sha256, "fields": list(self.paths)}
        if self.kind == "file":
            data["distributions"] = {
                d.path: {"dist": d.dist, **d.params,
                         **({"bounds": list(d.bounds)} if d.bounds else {})}
                for d in self.distributions}
        data.update(self.extra)
        return data


NONE = Uncertainty()
"""No parametric uncertainty: every field as written."""


def _uniforms(keys: np.ndarray, path: str) -> np.ndarray:
    """One uniform number in (0, 1) per key, for a field path (a pure function of both)."""
    counter = int.from_bytes(hashlib.sha256(path.encode()).digest()[:6], "big")
    u = uniform(keys, counter, STREAM_PARAMETERS, (), dtype=np.float64)
    return u + 2.0**-54  # never 0: the inverse CDF of 0 may be -inf
