"""An optimise FILE's schema (docs/OPTIMISE.md): the decision, the objectives, the optimiser.

The file names a base scenario, a power, the decision (its spend per state and kind of move
within a fixed total per quarter, and its visibility per state), one or two objectives with a
robustness measure each, the uncertainty and the optimiser's budget. These frozen pydantic
objects check it field by field; :func:`sim.decide.policy_plan.load_plan` reads it and checks it
against its base scenario.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.batch.chunks import default_chunk
from sim.decide.weighting import weighting_name
from sim.errors import ScenarioError
from sim.scenario import CHANNELS, MOVES
from sim.scenario.messages import describe_error

MEASURES = ("influence", "provoked_reaction")
"""What an objective measures: the power's influence share (maximised) or the reactive
spending of the powers that react to it (minimised)."""

ROBUSTNESS = ("mean", "p10", "regret")
"""How an objective summarises a policy's values over the draws."""

ALGORITHMS = ("auto", "ga", "de", "nsga2")
"""pymoo algorithms: ``auto`` is NSGA-II for two objectives and a GA for one."""

POLICY_KINDS = ("best", "base", "base_split")
"""The policies of evaluation.csv: the search's best, the base scenario as written, and the
base's own split over states and kinds scaled to the decision's total."""


class OptimiseFileError(ScenarioError):
    """An optimise FILE that cannot be read or does not validate (exit status 2)."""

    what = "optimise file"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Decision(_Strict):
    """What the search chooses.

    Attributes:
        total: The power's spend per quarter over the listed states and kinds, USD millions.
        states: The states it spreads the total over (``all`` or a list).
        kinds: The kinds of move it may fund.
        visibility: Whether it also chooses the power's visibility per state.
        visibility_range: The visibility it may choose from, [low, high] in [0, 1].
    """

    total: Annotated[float, Field(gt=0.0, le=1e6)]
    states: Literal["all"] | list[str] = "all"
    kinds: list[Literal[CHANNELS]] = [  # type: ignore[valid-type]
        m.name for m in MOVES if m.stock is not None]
    visibility: bool = True
    visibility_range: tuple[Annotated[float, Field(ge=0.0, le=1.0)],
                            Annotated[float, Field(ge=0.0, le=1.0)]] = (0.0, 1.0)

    @model_validator(mode="after")
    def _check(self) -> Decision:
        if self.states == []:
            raise ValueError("states: [] names no state to spread the total over; list the "
                             "states or write all")
        if not self.kinds:
            raise ValueError("kinds: give at least one kind of move")
        if len(set(self.kinds)) != len(self.kinds):
            raise ValueError(f"kinds: {self.kinds} lists a kind twice")
        if self.visibility_range[0] > self.visibility_range[1]:
            raise ValueError(f"visibility_range: {list(self.visibility_range)} must be "
                             "[low, high] with low <= high")
        return self


class Objective(_Strict):
    """One objective.

    Attributes:
        measure: ``influence`` (maximised) or ``provoked_reaction`` (minimised).
        robustness: ``mean``, ``p10`` (the worst decile: the 10th percentile of influence, the
            90th of a reaction) or ``regret`` (the largest shortfall, over the draws, from the
            best candidate evaluated on the same draw).
        states: For influence: the states it is averaged over (``all``: regional influence).
        weighting: For influence: how the states count, ``equal``, ``gdp``, ``population``,
            ``resources`` or a mapping state -> weight (:mod:`sim.decide.weighting`).
    """

    measure: Literal["influence", "provoked_reaction"] = "influence"
    robustness: Literal["mean", "p10", "regret"] = "mean"
    states: Literal["all"] | list[str] = "all"
    weighting: str | dict[str, float] = "equal"

    @model_validator(mode="after")
    def _some_state(self) -> Objective:
        if self.states == []:
            raise ValueError("states: [] names no state to measure; list the states or write "
                             "all")
        return self

    @property
    def maximise(self) -> bool:
        """Whether a larger value is better (regret is always minimised)."""
        return self.measure == "influence" and self.robustness != "regret"

    @property
    def column(self) -> str:
        """Its column name in the CSV files."""
        return f"{self.measure}{self.where}_{self.robustness}"

    @property
    def where(self) -> str:
        """The states and the weighting in a column name (empty: all states, equal)."""
        where = "" if self.states == "all" else "_" + "_".join(self.states)
        if self.weighting != "equal":
            where += "_" + weighting_name(self.weighting)
        return where


class Optimiser(_Strict):
    """The optimiser's budget.

    Attributes:
        algorithm: One of :data:`ALGORITHMS`.
        population: Candidates per generation.
        generations: Generations, the first (random, plus the base's split) included.
    """

    algorithm: Literal["auto", "ga", "de", "nsga2"] = "auto"
    population: Annotated[int, Field(ge=4, le=10_000)] = 40
    generations: Annotated[int, Field(ge=1, le=100_000)] = 20


class OptimiseFile(_Strict):
    """An optimise FILE (docs/OPTIMISE.md).

    Attributes:
        name: Names the results folder ``<out>/optimise/<name>/``.
        question: The question the search answers (for the reader).
        scenario: The base scenario, relative to the FILE.
        power: The power whose policy is searched.
        at: The quarter the objectives are measured at (default: the scenario's last).
        decision: What is chosen (:class:`Decision`).
        objectives: One or two (:class:`Objective`).
        uncertainty: ``none``, ``posterior`` or a FILE of distributions (relative to this
            FILE).
        draws: Uncertainty draws (with their seeds) each candidate is evaluated on.
        evaluation_draws: Fresh draws the best policy and the base are evaluated on.
        seed: First seed (default: the scenario's).
        chunk_runs: Runs per engine batch sent to a worker (about).
        optimiser: The optimiser's budget (:class:`Optimiser`).
    """

    name: Annotated[str, Field(min_length=1, max_length=80)]
    question: str = ""
    scenario: str
    power: str
    at: str | None = None
    decision: Decision
    objectives: Annotated[list[Objective], Field(min_length=1, max_length=2)]
    uncertainty: str = "none"
    draws: Annotated[int, Field(ge=1, le=100_000)] = 32
    evaluation_draws: Annotated[int, Field(ge=1, le=1_000_000)] = 200
    seed: Annotated[int, Field(ge=0, le=2**62)] | None = None
    chunk_runs: Annotated[int, Field(ge=1, le=1_000_000)] = default_chunk("optimise")
    optimiser: Optimiser = Optimiser()

    @model_validator(mode="after")
    def _check(self) -> OptimiseFile:
        if self.optimiser.algorithm in ("ga", "de") and len(self.objectives) > 1:
            raise ValueError(f"optimiser.algorithm: {self.optimiser.algorithm} takes one "
                             "objective; use nsga2 (or auto) for two")
        if len({o.column for o in self.objectives}) < len(self.objectives):
            raise ValueError("objectives: the two objectives are the same")
        return self


def _describe(error: dict[str, Any]) -> str:
    """One pydantic error as 'path: value is not allowed: why' (unknown keys get a hint)."""
    return describe_error(error, _allowed_keys)


def _allowed_keys(where: Sequence[Any]) -> list[str]:
    """The keys allowed at a location of an optimise file."""
    model: type[BaseModel] = OptimiseFile
    for part in where:
        inner = model.model_fields.get(str(part)) if isinstance(part, str) else None
        kind = getattr(inner, "annotation", None) if inner else None
        model = kind if isinstance(kind, type) and issubclass(kind, BaseModel) else (
            Objective if part == "objectives" or isinstance(part, int) else model)
    return list(model.model_fields)
