"""Sweep files: the typed schema of what a sweep varies, how it samples and what it keeps.

A sweep file names a base scenario, the numeric scenario fields to vary (with bounds or a list
of values), a design, how many samples and seeds per sample, a sweep seed and what to keep::

    name: china_reaction
    scenario: ../baseline.yaml          # relative to the sweep file
    design: grid                        # grid, random, latin, sobol or morris
    seeds: 8                            # seeds (replicates) per sample
    seed: 2025                          # the sweep seed: every run's seed derives from it
    parameters:
      powers.china.reaction.japan.sensitivity: {bounds: [0.0, 4.0], levels: 9}
      powers.japan.visibility: {values: [0.1, 0.3, 0.6, 0.9]}
    keep: {trajectories: false, every: 1, outputs: [influence_end, influence_peak, spend_total]}

:func:`parse_sweep` checks the file on its own (unknown keys, wrong types, bounds in the wrong
order); :func:`sim.sweep.plan.build_plan` then checks it against its base scenario. Problems are
raised as one :class:`SweepFileError` naming the sweep file, the field and what is allowed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.batch.chunks import default_chunk
from sim.errors import ScenarioError
from sim.limits import MIN_MORRIS_SAMPLES, MIN_SOBOL_SAMPLES
from sim.scenario.messages import describe_error
from sim.scenario.numbers import boolean_problems

DESIGNS = ("grid", "random", "latin", "sobol", "morris")
"""Sampling designs a sweep may use."""

OUTPUTS = ("influence_end", "influence_peak", "spend_total", "effort_end")
"""Summary outputs, each computed per power (columns ``<output>_<power>``):

- ``influence_end``: regional influence (mean share over the states) at the last step;
- ``influence_peak``: the highest regional influence over all steps, step 0 included;
- ``spend_total``: total spend over the run, all channels and states, USD millions;
- ``effort_end``: reactive effort at the last step, mean over the states (0 = baseline).
"""

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
"""A sweep's name: letters, digits, '_', '.', '-', starting with a letter or digit."""

MAX_SAMPLES = 20_000_000
"""Most samples a sweep may have (their parameter table, 8 bytes a value, stays in memory)."""

DEFAULT_CHUNK_RUNS = default_chunk("sweep")
"""Runs per chunk when only summaries are kept (one engine batch per chunk; the reason is in
:data:`sim.batch.chunks.CHUNK_DEFAULTS`)."""

DEFAULT_CHUNK_RUNS_TRAJECTORIES = default_chunk("sweep_trajectories")
"""Runs per chunk when trajectories are kept (bounds a worker's memory)."""


class SweepFileError(ScenarioError):
    """A sweep file that cannot be read or does not validate (exit status 2).

    Attributes:
        source: The sweep file.
        problems: One line per problem: the field path, the bad value and what is allowed.

    """

    def __init__(self, source: str, problems: list[str]):
        super().__init__(source, problems)
        lines = [f"{self.source}: invalid sweep file"] + [f"  - {p}" for p in self.problems]
        self.args = ("\n".join(lines),)


SWEEP_SWITCHES = ("keep.trajectories", "sobol.second_order")
"""The yes/no fields of a sweep file; a boolean anywhere else is refused (not taken as 0 or 1)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterSpec(_Strict):
    """How one scenario field varies.

    Attributes:
        bounds: Lower and upper bound (continuous designs; a grid with ``levels``).
        values: An explicit list of values (grid design only).
        levels: Number of evenly spaced grid values between the bounds, ends included.

    """

    bounds: tuple[float, float] | None = None
    values: Annotated[list[float], Field(min_length=1, max_length=100_000)] | None = None
    levels: Annotated[int, Field(ge=2, le=100_000)] | None = None

    @model_validator(mode="after")
    def _one_range(self) -> ParameterSpec:
        if (self.bounds is None) == (self.values is None):
            raise ValueError("give exactly one of 'bounds: [low, high]' or 'values: [...]'")
        if self.bounds is not None and not self.bounds[0] < self.bounds[1]:
            raise ValueError(f"bounds {list(self.bounds)} must be [low, high] with low < high")
        if self.values is not None and self.levels is not None:
            raise ValueError("'levels' goes with 'bounds', not with 'values'")
        return self


class KeepSpec(_Strict):
    """What a sweep keeps.

    Attributes:
        trajectories: Keep each run's trajectories (trajectories/part-*.parquet).
        every: Keep every k-th step of the trajectories (the last step is always kept).
        outputs: The summary outputs (see :data:`OUTPUTS`), computed for every power.

    """

    trajectories: bool = False
    every: Annotated[int, Field(ge=1, le=10_000)] = 1
    outputs: Annotated[list[Literal[OUTPUTS]], Field(min_length=1)] = list(OUTPUTS)  # type: ignore[valid-type]


class SobolSpec(_Strict):
    """Sobol design options (Saltelli sampling, Jansen estimators as in SALib).

    Attributes:
        second_order: Also estimate second-order indices (N(2D + 2) samples instead of N(D + 2)).

    """

    second_order: bool = False


class MorrisSpec(_Strict):
    """Morris design options.

    Attributes:
        levels: Number of grid levels of each parameter (an even number is usual).

    """

    levels: Annotated[int, Field(ge=2, le=1000)] = 4


class PlotSpec(_Strict):
    """The plot of one output against one or two swept parameters.

    Attributes:
        output: A summary column, e.g. ``influence_end_japan`` (default: the first power's
            ``influence_end``, or the first output kept).
        x: The parameter on the x axis (default: the first parameter).
        y: A second parameter for a heat map (default: none, a line with a band).

    """

    output: str | None = None
    x: str | None = None
    y: str | None = None


class SweepFile(_Strict):
    """A whole sweep file.

    Attributes:
        name: Names the results folder results/<name>/.
        description: Free text.
        scenario: The base scenario file, relative to the sweep file.
        set: Fixed overrides of the base scenario (field path to value), as ``--set``.
        steps: Quarters per run (default: the scenario's).
        design: ``grid``, ``random``, ``latin``, ``sobol`` or ``morris``.
        samples: Number of samples (random, latin), the base N (sobol) or the number of
            trajectories (morris); not used by a grid.
        seeds: Seeds (replicates) per sample.
        seed: The sweep seed; run seeds and the design's random numbers derive from it.
        parameters: Field path to how it varies.
        keep: What to keep.
        sobol: Sobol options.
        morris: Morris options.
        chunk_size: Runs per chunk (rounded down to whole samples; default 4096 with
            summaries only, 1024 with trajectories).
        plot: The response plot.

    """

    name: Annotated[str, Field(min_length=1, max_length=80, pattern=NAME_PATTERN)]
    description: str = ""
    scenario: str
    set: dict[str, Any] = {}
    steps: Annotated[int, Field(ge=1, le=10_000)] | None = None
    design: Literal["grid", "random", "latin", "sobol", "morris"]
    samples: Annotated[int, Field(ge=1, le=100_000_000)] | None = None
    seeds: Annotated[int, Field(ge=1, le=100_000)] = 1
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    parameters: Annotated[dict[str, ParameterSpec], Field(min_length=1, max_length=64)]
    keep: KeepSpec = KeepSpec()
    sobol: SobolSpec = SobolSpec()
    morris: MorrisSpec = MorrisSpec()
    chunk_size: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    plot: PlotSpec = PlotSpec()

    @model_validator(mode="after")
    def _design_fits(self) -> SweepFile:
        problems = []
        if self.design == "grid":
            if self.samples is not None:
                problems.append("samples: a grid takes every combination; leave 'samples' out")
            for path, spec in self.parameters.items():
                if spec.bounds is not None and spec.levels is None:
                    problems.append(f"parameters.{path}: a grid needs 'levels' with 'bounds', "
                                    "or a list of 'values'")
        else:
            if self.samples is None:
                problems.append(f"samples: a {self.design} design needs 'samples'")
            for path, spec in self.parameters.items():
                if spec.bounds is None:
                    problems.append(f"parameters.{path}: a {self.design} design samples between "
                                    "'bounds: [low, high]'; lists of 'values' are for grids")
                elif spec.levels is not None:
                    problems.append(f"parameters.{path}: 'levels' is for grids")
        n = self.samples
        if self.design == "sobol" and n is not None and n & (n - 1):
            problems.append(f"samples: {self.samples} is not allowed: Sobol sequences need a "
                            "power of 2 (e.g. 256, 512, 1024)")
        floor = {"sobol": MIN_SOBOL_SAMPLES, "morris": MIN_MORRIS_SAMPLES}.get(self.design)
        if floor is not None and n is not None and n < floor:
            what = "base samples (N)" if self.design == "sobol" else "trajectories"
            problems.append(f"samples: {n} is not allowed: a {self.design} analysis needs at "
                            f"least {floor} {what} (sim.limits.MIN_{self.design.upper()}_SAMPLES)"
                            "; fewer give meaningless indices and intervals")
        if self.design in ("sobol", "morris") and len(self.parameters) < 2:
            problems.append(f"parameters: a {self.design} analysis needs at least 2 parameters")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def grid_values(spec: SweepFile) -> list[np.ndarray]:
    """Return the values each parameter takes on a grid (listed values, or evenly spaced levels)."""
    out = []
    for p in spec.parameters.values():
        if p.values is not None:
            out.append(np.asarray(p.values, dtype=np.float64))
        else:
            out.append(np.linspace(p.bounds[0], p.bounds[1], p.levels))
    return out


def n_samples(spec: SweepFile) -> int:
    """Count the samples the design makes, without making them."""
    D = len(spec.parameters)
    if spec.design == "grid":
        return int(np.prod([len(v) for v in grid_values(spec)], dtype=np.int64))
    if spec.design == "sobol":
        return spec.samples * (2 * D + 2 if spec.sobol.second_order else D + 2)
    if spec.design == "morris":
        return spec.samples * (D + 1)
    return spec.samples


def _describe(error: dict[str, Any]) -> str:
    """One pydantic error as 'path: value is not allowed: why'."""
    return describe_error(error, lambda where: _allowed([str(p) for p in where]))


def _allowed(parts: list[str]) -> list[str]:
    """Keys allowed at a location of a sweep file."""
    if not parts:
        return list(SweepFile.model_fields)
    if parts[0] == "parameters":
        return list(ParameterSpec.model_fields)
    nested = {"keep": KeepSpec, "sobol": SobolSpec, "morris": MorrisSpec, "plot": PlotSpec}
    model = nested.get(parts[0])
    return list(model.model_fields) if model else []


def parse_sweep(data: dict[str, Any], source: str = "<dict>") -> SweepFile:
    """Validate a raw sweep mapping into a :class:`SweepFile`.

    Raises:
        ScenarioError: Listing every problem, each with its field path.

    """
    booleans = boolean_problems(data, SWEEP_SWITCHES)
    if booleans:
        raise SweepFileError(source, booleans)
    try:
        return SweepFile.model_validate(data)
    except ValidationError as exc:
        raise SweepFileError(source, [_describe(e) for e in exc.errors()]) from None
