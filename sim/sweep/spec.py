"""Sweep files: the typed schema, loading and every check made before a sweep runs.

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

Everything is checked before anything runs or is written: unknown keys, wrong types, bounds in
the wrong order, a field path that is not a numeric field of the scenario, and values the
scenario's own schema refuses (a sensitivity of -1, a probability of 2). Problems are raised as
one :class:`~sim.errors.ScenarioError` naming the sweep file, the field and what is allowed.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.engine import compile_scenario, with_values
from sim.errors import ScenarioError
from sim.limits import MAX_VALUES_CHECKED, MIN_MORRIS_SAMPLES, MIN_SOBOL_SAMPLES
from sim.scenario import Scenario, read_yaml, resolve_file, set_path, validate
from sim.scenario.files import not_a_file, resolve_path
from sim.scenario.load import refused_value
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

DEFAULT_CHUNK_RUNS = 4096
"""Runs per chunk when only summaries are kept (one engine batch per chunk)."""

DEFAULT_CHUNK_RUNS_TRAJECTORIES = 1024
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


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: the file's settings and the resolved base scenario.

    Attributes:
        spec: The validated sweep file.
        source: Where the sweep came from (a path or ``<dict>``), for messages.
        scenario: The base scenario with the fixed overrides applied.
        scenario_data: ``scenario.model_dump(mode="json")`` (what workers compile).
        paths: The varied field paths, in file order.
        outputs: The summary column names, e.g. ``influence_end_japan``.
        chunk_samples: Samples per chunk.

    """

    spec: SweepFile
    source: str
    scenario: Scenario
    scenario_data: dict[str, Any]
    paths: tuple[str, ...]
    outputs: tuple[str, ...]
    chunk_samples: int

    @property
    def name(self) -> str:
        """The sweep's name (its results folder)."""
        return self.spec.name

    @property
    def seeds_per_sample(self) -> int:
        """Seeds (replicates) per sample."""
        return self.spec.seeds

    @property
    def plot_output(self) -> str:
        """The output the plots show."""
        return self.spec.plot.output or self.outputs[0]

    def digest(self) -> str:
        """SHA-256 of everything that decides the sweep's results (file settings + scenario).

        The plot settings and description are left out: changing them does not change any
        run, so a finished or interrupted sweep can be re-plotted or resumed.
        """
        settings = self.spec.model_dump(mode="json", exclude={"plot", "description"})
        settings["scenario"] = self.scenario.digest()
        # Key order matters (sample columns, the engine's actor axes); sorted JSON loses it.
        settings["order"] = [list(self.paths), self.scenario.power_names,
                             self.scenario.state_names]
        text = json.dumps(settings, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


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


def _base_scenario(spec: SweepFile, base_dir: Path, source: str) -> tuple[dict[str, Any], str]:
    """Read the base scenario's raw mapping with the fixed overrides and steps applied."""
    try:
        path = resolve_path(base_dir / spec.scenario, source, "scenario")
        problem = not_a_file(path)
        if problem:
            raise ScenarioError(source, [f"scenario: {spec.scenario!r}: {problem} "
                                         f"(looked at {path})"])
        data = resolve_file(path)
    except SweepFileError:
        raise
    except ScenarioError as exc:
        if exc.source == source:
            raise SweepFileError(source, exc.problems) from None
        raise SweepFileError(source, [f"scenario: {exc.source}: {p}" for p in exc.problems]
                             ) from None
    if "branch" in data:
        raise SweepFileError(source, [
            f"scenario: {spec.scenario!r} is a branch (branch: {data['branch']!r}); a sweep runs "
            "every sample from step 0, and cannot continue a parent's history from a quarter "
            "on as a branch does. Sweep the parent scenario instead (put the branch's changes "
            "in the sweep's `set:` if they should hold from the start)"])
    for key, value in spec.set.items():
        set_path(data, key, value, source=f"{source}: set")
    if spec.steps is not None:
        data["steps"] = spec.steps
    return data, str(path)


def _check_values(data: dict[str, Any], scenario_source: str, spec: SweepFile,
                  source: str) -> list[str]:
    """Validate the base scenario with each parameter's extreme (and middle) values once.

    Values the scenario's schema refuses (a sensitivity of -1, a probability of 2, a fraction
    in a whole-number field) are caught here, before anything runs. Listed values are all
    checked (up to :data:`~sim.limits.MAX_VALUES_CHECKED` of them); past that, any value that is
    not finite, the ends and one fraction are. Between bounds, one value that is rarely a whole
    number is checked as well.
    """
    problems = []
    for path, p in spec.parameters.items():
        if p.values is not None:
            odd = [v for v in p.values if not math.isfinite(v)]
            trial = sorted({v for v in p.values if math.isfinite(v)})
            if len(trial) > MAX_VALUES_CHECKED:  # limits are ranges: the ends, and a fraction
                fractions = [v for v in trial if v != int(v)]
                trial = [trial[0], trial[-1], *fractions[:1]]
            trial = odd[:1] + trial
        else:
            low, high = p.bounds
            trial = [low, high]
            if spec.design == "grid" and p.levels > 2:
                trial.append(low + (high - low) / (p.levels - 1))
            elif spec.design != "grid":
                trial.append(low + (high - low) * 0.6180339887)  # rarely a whole number
        for value in trial:
            why = refused_value(copy.deepcopy(data), path, value, source, scenario_source)
            if why:
                problems.append(f"parameters.{path}: the value {value:g} is refused by the "
                                f"scenario: {why}")
                break
    return problems


def _check_corners(data: dict[str, Any], scenario_source: str, spec: SweepFile,
                   source: str) -> list[str]:
    """Validate the scenario with every parameter at its lowest value, then at its highest.

    Each value was checked alone (:func:`_check_values`); some rules join fields (a power's
    allocation weights must not all be 0), so a combination can be refused although each
    value is allowed, and ``sim run --set`` would refuse that run. The two corners catch the
    sums and totals such rules bound.
    """
    if len(spec.parameters) < 2:
        return []
    ends = {path: (min(p.values), max(p.values)) if p.values is not None else tuple(p.bounds)
            for path, p in spec.parameters.items()}
    for corner, label in ((0, "lowest"), (1, "highest")):
        copy_data = copy.deepcopy(data)
        for path, pair in ends.items():
            set_path(copy_data, path, pair[corner], source=source)
        try:
            validate(copy_data, source=scenario_source)
        except ScenarioError as exc:
            shown = ", ".join(f"{path}={pair[corner]:g}" for path, pair in ends.items())
            return [f"parameters: at their {label} values together ({shown}) the scenario "
                    f"refuses them: {'; '.join(exc.problems[:3])}; narrow the bounds or values"]
    return []


def build_plan(data: dict[str, Any], source: str = "<dict>",
               base_dir: str | Path = ".") -> SweepPlan:
    """Validate a sweep mapping and its base scenario into a :class:`SweepPlan`.

    Args:
        data: The sweep file's mapping.
        source: Its name, for messages.
        base_dir: The folder the scenario path is relative to.

    Returns:
        The plan.

    Raises:
        ScenarioError: For any problem in the sweep file or its base scenario.

    """
    spec = parse_sweep(data, source)
    raw, scenario_source = _base_scenario(spec, Path(base_dir), source)
    scenario = validate(copy.deepcopy(raw),
                        source=f"{scenario_source} (the scenario of {source}, with its set)")
    _, params = compile_scenario(scenario)
    problems = []
    for path in spec.parameters:
        try:
            with_values(params, {path: 0.0})
        except KeyError:
            hint = difflib.get_close_matches(path, list(params.paths), n=3)
            problems.append(
                f"parameters.{path}: not a numeric field of {spec.scenario}"
                + (f"; did you mean {' or '.join(hint)}?" if hint else "")
                + f" (`sim sweep {source} --list-paths` lists all {len(params.paths)})"
            )
    if problems:
        raise SweepFileError(source, problems)
    problems = _check_values(raw, scenario_source, spec, source)
    if not problems:
        problems = _check_corners(raw, scenario_source, spec, source)
    count = n_samples(spec)
    if count > MAX_SAMPLES:
        problems.append(f"parameters: the {spec.design} design makes {count:,} samples; at most "
                        f"{MAX_SAMPLES:,} are allowed (the sample table is kept in memory)")
    outputs = tuple(f"{o}_{p}" for o in spec.keep.outputs for p in scenario.power_names)
    plot = spec.plot
    if plot.output is not None and plot.output not in outputs:
        hint = difflib.get_close_matches(plot.output, outputs, n=1)
        problems.append(f"plot.output: {plot.output!r} is not an output of this sweep; "
                        f"outputs: {', '.join(outputs)}"
                        + (f"; did you mean {hint[0]!r}?" if hint else ""))
    for axis in ("x", "y"):
        name = getattr(plot, axis)
        if name is not None and name not in spec.parameters:
            problems.append(f"plot.{axis}: {name!r} is not a swept parameter; swept: "
                            f"{', '.join(spec.parameters)}")
    if problems:
        raise SweepFileError(source, problems)
    if spec.chunk_size is not None:
        chunk_runs = spec.chunk_size
    elif spec.keep.trajectories:
        chunk_runs = DEFAULT_CHUNK_RUNS_TRAJECTORIES
    else:
        chunk_runs = DEFAULT_CHUNK_RUNS
    return SweepPlan(
        spec=spec,
        source=source,
        scenario=scenario,
        scenario_data=scenario.model_dump(mode="json"),
        paths=tuple(spec.parameters),
        outputs=outputs,
        chunk_samples=max(1, chunk_runs // spec.seeds),
    )


def load_sweep(path: str | Path) -> SweepPlan:
    """Read, validate and plan a sweep file (the scenario path is relative to it).

    Raises:
        ScenarioError: Naming the sweep file, the field and what is allowed.

    """
    path = Path(path)
    try:
        data = read_yaml(path)
    except ScenarioError as exc:
        raise SweepFileError(exc.source, exc.problems) from None
    return build_plan(data, source=str(path), base_dir=path.resolve().parent)


def numeric_paths(path: str | Path) -> list[str]:
    """Every field path a sweep file may vary in its base scenario.

    Only the file's ``scenario``, ``set`` and ``steps`` need to be valid, so this helps fix a
    sweep whose parameter paths are wrong.
    """
    path = Path(path)
    data = read_yaml(path)
    source = str(path)
    if not isinstance(data.get("scenario"), str):
        raise SweepFileError(source, ["scenario: required field is missing (a file path)"])
    scenario_file = data["scenario"]
    probe = SweepFile.model_construct(scenario=scenario_file, set=data.get("set") or {},
                                      steps=data.get("steps"))
    raw, scenario_source = _base_scenario(probe, path.resolve().parent, source)
    scenario = validate(raw, source=scenario_source)
    return list(compile_scenario(scenario)[1].paths)
