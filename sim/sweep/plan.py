"""A sweep's plan: a sweep file resolved against its base scenario, with every check made first.

:func:`load_sweep` reads a sweep file (:mod:`sim.sweep.sweep_file`), resolves its base scenario
and checks everything before anything runs or is written: a field path that is not a numeric
field of the scenario, and values the scenario's own schema refuses (a sensitivity of -1, a
probability of 2) at the corners of the design. Problems are raised as one
:class:`~sim.sweep.sweep_file.SweepFileError` naming the sweep file, the field and what is
allowed.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.engine import compile_scenario, with_values
from sim.errors import ScenarioError
from sim.limits import MAX_VALUES_CHECKED
from sim.scenario import Scenario, read_yaml, resolve_file, set_path, validate
from sim.scenario.files import not_a_file, resolve_path
from sim.scenario.load import refused_value
from sim.sweep.sweep_file import (
    DEFAULT_CHUNK_RUNS,
    DEFAULT_CHUNK_RUNS_TRAJECTORIES,
    MAX_SAMPLES,
    SweepFile,
    SweepFileError,
    n_samples,
    parse_sweep,
)


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
