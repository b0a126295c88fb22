"""The influence model as a Mesa model.

Outside powers (Japan, China, Russia by default) spend on investment, soft power, diplomacy and
destabilisation in host states (the five Central Asian states by default); the states receive
those moves according to their stability, openness and hedging; each power reacts to its
rivals. The rules live in :mod:`sim.engine` and advance all runs of a batch at once; this
model runs a batch of one and presents it the Mesa way: :class:`PowerAgent` and
:class:`StateAgent` give each actor's view, ``step()`` advances the engine one quarter, and a
DataCollector records the trajectories (at initialisation and after every step).

Example::

    model = InfluenceModel("scenarios/baseline.yaml", seed=7)
    for _ in range(8):
        model.step()
    model.datacollector.get_model_vars_dataframe()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np

from sim.engine import compile_scenario, initial_state, make_batch, step
from sim.engine.state import regional_share
from sim.engine.step import divergence_error
from sim.scenario import CHANNELS, Scenario, load_scenario, set_path, validate
from sim.scenario.calendar import quarter_of_step


class ActorAgent(mesa.Agent):
    """An actor of the scenario: its key, display name and position on the engine's axis.

    Attributes:
        key: The actor's key in the scenario (e.g. ``japan`` or ``turkmenistan``).
        label: Display name.
        index: Position on the engine's power or state axis.
    """

    def __init__(self, model: InfluenceModel, key: str, index: int):
        super().__init__(model)
        self.key = key
        self.label = model.structure.labels[key]
        self.index = index


class PowerAgent(ActorAgent):
    """An outside power's view of the model (``index`` is on the engine's power axis)."""

    @property
    def shares(self) -> dict[str, float]:
        """Influence share in each state."""
        share = self.model.state.share[0, :, self.index]
        return {s: float(share[i]) for i, s in enumerate(self.model.structure.states)}

    @property
    def regional_share(self) -> float:
        """Mean influence share over the states."""
        return float(regional_share(self.model.state.share[0, :, self.index], axis=0))

    @property
    def effort(self) -> float:
        """Reactive effort, averaged over the states it spends in (0 = baseline spending)."""
        return float(self.model.state.effort[0, :, self.index].mean())

    @property
    def budget(self) -> dict[str, float]:
        """Baseline budget per quarter by kind of move, USD millions (with budget events)."""
        budget = self.model.params.budget[0, self.index]
        scaled = budget * self.model.state.budget_scale[0, self.index]
        return {c: float(scaled[i]) for i, c in enumerate(CHANNELS)}

    @property
    def last_moves(self) -> dict[str, float]:
        """Spend in the last quarter by kind of move, summed over states, USD millions."""
        spend = self.model.state.spend[0, :, :, self.index].sum(axis=1)
        return {c: float(spend[i]) for i, c in enumerate(CHANNELS)}

    @property
    def stocks(self) -> dict[str, float]:
        """Footprint, goodwill and diplomatic capital summed over the states."""
        st = self.model.state
        return {name: float(getattr(st, name)[0, :, self.index].sum())
                for name in ("footprint", "goodwill", "diplomatic")}


class StateAgent(ActorAgent):
    """A host state's view of the model (``index`` is on the engine's state axis)."""

    @property
    def shares(self) -> dict[str, float]:
        """Each power's influence share here."""
        share = self.model.state.share[0, self.index]
        return {p: float(share[i]) for i, p in enumerate(self.model.structure.powers)}

    @property
    def residual(self) -> float:
        """Share of domestic autonomy and other actors (1 minus the powers' shares)."""
        return float(1.0 - self.model.state.share[0, self.index].sum())

    @property
    def stability(self) -> float:
        """Stability in [0, 1]."""
        return float(self.model.state.stability[0, self.index])

    @property
    def border_disputes(self) -> float:
        """Open border disputes."""
        return float(self.model.state.disputes[0, self.index])


class InfluenceModel(mesa.Model):
    """Great-power influence in Central Asia, one run.

    Args:
        scenario: A :class:`~sim.scenario.Scenario`, or the path of a scenario file.
        seed: Random seed; None takes the scenario's.
        overrides: Field overrides, as ``path=value`` strings or a {path: value} mapping
            (e.g. ``{"powers.japan.visibility": 0.9}``).

    Attributes:
        scenario: The validated scenario.
        structure: The engine's structure (actor names, rules, events).
        params: The engine's parameters for this run.
        state: The engine's world state after ``steps`` quarters.
        powers: Power agents by key.
        states: State agents by key.
        datacollector: Influence share of every (state, power) pair, and each power's
            regional share, effort and spend, at initialisation and after each step.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path = "scenarios/baseline.yaml",
        seed: int | None = None,
        overrides: dict[str, Any] | list[str] | None = None,
    ):
        if isinstance(overrides, dict):
            overrides = list(overrides.items())
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario, overrides, seed=seed)
        elif overrides or seed is not None:
            data = scenario.model_dump(mode="json")
            for path, value in overrides or []:
                set_path(data, path, value)
            if seed is not None:
                data["seed"] = seed
            scenario = validate(data, source="InfluenceModel")
        super().__init__(seed=scenario.seed)
        self.scenario = scenario
        self.structure, self.params = compile_scenario(scenario)
        self.batch = make_batch(self.structure, self.params, [scenario.seed])
        self.state = initial_state(self.structure, self.params, self.batch.ceiling,
                                   self.batch.reserve)
        self.powers = {k: PowerAgent(self, k, i) for i, k in enumerate(self.structure.powers)}
        self.states = {k: StateAgent(self, k, i) for i, k in enumerate(self.structure.states)}
        reporters: dict[str, Any] = {"quarter": "quarter"}
        for s, state in enumerate(self.structure.states):
            for p, power in enumerate(self.structure.powers):
                reporters[f"{state}/{power}"] = _share_reporter(s, p)
        self.datacollector = mesa.DataCollector(
            model_reporters=reporters,
            agenttype_reporters={
                PowerAgent: {
                    "power": "key",
                    "regional_share": "regional_share",
                    "effort": "effort",
                    "spend": lambda a: sum(a.last_moves.values()),
                },
                StateAgent: {"state": "key", "stability": "stability", "residual": "residual"},
            },
        )
        self.running = True
        self.datacollector.collect(self)

    @property
    def quarter(self) -> str:
        """Label of the quarter the current state closes."""
        return quarter_of_step(self.structure.start, self.state.step)

    @property
    def share(self) -> np.ndarray:
        """Influence shares (states x powers) now."""
        return self.state.share[0]

    def step(self) -> None:
        """Advance one quarter through the engine and collect data.

        Raises:
            DivergenceError: If a value becomes non-finite.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            self.state = step(self.state, self.batch)
        error = divergence_error(self.state, self.structure, self.batch.seeds)
        if error is not None:
            self.running = False
            raise error
        self.datacollector.collect(self)
        if self.state.step >= self.scenario.steps:
            self.running = False


def _share_reporter(s: int, p: int):
    """A DataCollector reporter of one (state, power) influence share."""

    def report(model: InfluenceModel) -> float:
        return float(model.state.share[0, s, p])

    return report
