"""Record a batch's steps into arrays, and turn them into tidy tables.

A :class:`Recording` is what a run leaves behind in memory: the stocks and shares at every step,
the moves and reactions, the events that fired. :mod:`sim.outputs.folders` writes it to
files; the Mesa model, notebooks and comparisons read it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.engine import Batch, WorldState, simulate
from sim.engine.observables import QUARTERLY, quarterly, yearly
from sim.engine.params import Params, Structure
from sim.engine.state import regional_share
from sim.scenario import CHANNELS, EVENT_KINDS, RULES, Scenario
from sim.scenario.calendar import quarter_labels
from sim.uncertainty.source import NONE

TRAJECTORY_FIELDS = ("share", "footprint", "goodwill", "diplomatic", "effort")


@dataclass
class Recording:
    """Everything a batch did, step by step (T + 1 rows: step 0 and after each step).

    Attributes:
        structure: The batch's structure.
        seeds: Run seeds (R,).
        visibility: Each power's visibility in each state (R, S, P).
        share, footprint, goodwill, diplomatic, effort: (T + 1, R, S, P).
        stability: (T + 1, R, S).
        spend: (T + 1, R, C, S, P); step 0 is zero.
        signal, response: (T + 1, R, S, P, P) reaction signals and effort changes.
        fired: (T + 1, R, E) events that fired.
        flows: Observable flows per step (:mod:`sim.engine.observables`), USD millions per
            quarter: trade and remittances (T + 1, R, S, P), other_trade and gdp (T + 1, R, S).
        dependence: (T + 1, R, S, P, 4) structural dependence by channel.
        diverged_step: First non-finite step of each run (R,), -1 if none.
        draws: The runs' parameter draws (a :class:`sim.uncertainty.Draws`), or None
            when every run has the scenario's values as written.
    """

    structure: Structure
    seeds: np.ndarray
    visibility: np.ndarray
    share: np.ndarray
    footprint: np.ndarray
    goodwill: np.ndarray
    diplomatic: np.ndarray
    effort: np.ndarray
    stability: np.ndarray
    spend: np.ndarray
    signal: np.ndarray
    response: np.ndarray
    fired: np.ndarray
    flows: dict[str, np.ndarray]
    dependence: np.ndarray
    diverged_step: np.ndarray
    scenario: Scenario | None = field(default=None, compare=False)
    draws: Any = field(default=None, compare=False)

    @property
    def quarters(self) -> list[str]:
        """Quarter label of each recorded step."""
        return quarter_labels(self.structure.start, self.share.shape[0] - 1)

    @property
    def n_runs(self) -> int:
        """Number of runs recorded."""
        return self.share.shape[1]

    def regional_share(self) -> np.ndarray:
        """Each power's mean share over the states, (T + 1, R, P)."""
        return regional_share(self.share)

    def trajectories(self, run: int | None = 0) -> pd.DataFrame:
        """A row per (step, state, power) of one run, or of every run with a ``seed`` column.

        Columns: [seed,] step, quarter, state, power, share, footprint, goodwill, diplomatic,
        effort, stability. Money in USD millions; share and stability in [0, 1].
        """
        s = self.structure
        T1, R, S, P = self.share.shape
        runs = range(R) if run is None else [run]
        steps = np.arange(T1)
        frames = []
        for r in runs:
            grid = {
                "step": np.repeat(steps, S * P),
                "quarter": np.repeat(np.array(self.quarters), S * P),
                "state": np.tile(np.repeat(np.array(s.states), P), T1),
                "power": np.tile(np.array(s.powers), T1 * S),
            }
            for name in TRAJECTORY_FIELDS:
                grid[name] = getattr(self, name)[:, r].reshape(-1)
            grid["stability"] = np.repeat(self.stability[:, r].reshape(-1), P)
            frame = pd.DataFrame(grid)
            if run is None:
                frame.insert(0, "seed", int(self.seeds[r]))
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def observables(self, run: int | None = 0) -> pd.DataFrame:
        """Annual observables of one run, or of every run with a ``seed`` column.

        Columns: [seed,] year, state, partner, observable, value (see
        :mod:`sim.engine.observables`).
        """
        runs = list(range(self.n_runs)) if run is None else [run]
        return yearly(self.flows, self.structure, self.quarters, runs,
                      self.seeds if run is None else None)

    def moves(self, run: int = 0) -> pd.DataFrame:
        """Every move (amount > 0) and every reaction (non-zero signal or response) of a run.

        Columns: step, quarter, type (move or reaction), power, state, kind (the channel, or the
        reaction rule), amount_usd_m, visibility, toward, signal, response, effort_after.
        """
        s = self.structure
        quarters = self.quarters
        rows = []
        spend = self.spend[:, run]
        t_idx, c_idx, s_idx, p_idx = np.nonzero(spend > 0)
        for t, c, st, p in zip(t_idx, c_idx, s_idx, p_idx, strict=True):
            rows.append((t, quarters[t], "move", s.powers[p], s.states[st], CHANNELS[c],
                         float(spend[t, c, st, p]), float(self.visibility[run, st, p]),
                         "", np.nan, np.nan, np.nan))
        signal, response = self.signal[:, run], self.response[:, run]
        active = (signal != 0) | (response != 0)
        for t, st, p, q in zip(*np.nonzero(active), strict=True):
            rows.append((t, quarters[t], "reaction", s.powers[p], s.states[st],
                         RULES[s.rule[p, q]], np.nan, np.nan, s.powers[q],
                         float(signal[t, st, p, q]), float(response[t, st, p, q]),
                         float(self.effort[t, run, st, p])))
        columns = ["step", "quarter", "type", "power", "state", "kind", "amount_usd_m",
                   "visibility", "toward", "signal", "response", "effort_after"]
        frame = pd.DataFrame(rows, columns=columns)
        dtype = self.share.dtype
        for name in ("amount_usd_m", "visibility", "signal", "response", "effort_after"):
            frame[name] = frame[name].astype(dtype)
        order = {"move": 0, "reaction": 1}
        frame["_order"] = frame["type"].map(order)
        frame = frame.sort_values(["step", "_order", "power", "state", "kind", "toward"],
                                  kind="mergesort").drop(columns="_order")
        return frame.reset_index(drop=True)

    def events(self, run: int = 0) -> pd.DataFrame:
        """The events that fired in a run.

        Columns: step, quarter, event (its index in the timeline), kind, power, states,
        details (the event's fields as in the scenario), note.
        """
        s = self.structure
        quarters = self.quarters
        rows = []
        scenario_events = self.scenario.events if self.scenario is not None else None
        for t, e in zip(*np.nonzero(self.fired[:, run]), strict=True):
            power = s.powers[s.event_power[e]] if s.event_power[e] >= 0 else ""
            states = ";".join(np.array(s.states)[s.event_states[e]])
            details = ""
            if scenario_events is not None:
                fields = scenario_events[e].model_dump(
                    exclude={"kind", "note", "at", "probability"}
                )
                details = "; ".join(f"{k}={v}" for k, v in fields.items() if k not in ("power",))
            rows.append((t, quarters[t], int(e), EVENT_KINDS[s.event_kind[e]], power, states,
                         details, s.event_notes[e]))
        columns = ["step", "quarter", "event", "kind", "power", "states", "details", "note"]
        return pd.DataFrame(rows, columns=columns)


def band_text(recording: Recording) -> str:
    """What a recording's bands span: seeds only, or seeds and parameter draws."""
    draws = recording.draws
    uncertainty = draws.uncertainty if draws is not None else NONE
    return uncertainty.band(recording.n_runs)


START_BAND_PP = 0.05
"""A starting quarter whose 5th-95th percentile band is wider than this (points of share) is
labelled as the uncertainty of today's influence (:func:`start_band_note`)."""


def start_band_note(recording: Recording) -> str:
    """Say what a band on the starting quarter means, or ``""`` when it has none.

    The starting quarter is the record of today, not a forecast: a band on it comes from drawn
    parameters that weigh today's stocks (say, ``rules.weights.footprint`` in a FILE), so it is
    the uncertainty of today's influence (issue 17, item 6).
    """
    if recording.n_runs < 2:
        return ""
    low, high = np.percentile(recording.share[0].astype(np.float64), [5, 95], axis=0)
    widest = float((high - low).max()) * 100
    if widest <= START_BAND_PP:
        return ""
    return (f"the band at {recording.quarters[0]} (up to {widest:.1f} pp wide) is the "
            "uncertainty of today's influence: the drawn parameters weigh today's stocks")


class _Recorder:
    """Observer for :func:`sim.engine.simulate` that keeps a copy of each step."""

    def __init__(self, params: Params) -> None:
        self.params = params
        self.states: list[WorldState] = []
        self.flows: list[dict[str, np.ndarray]] = []

    def __call__(self, state: WorldState) -> None:
        self.states.append(state)
        self.flows.append(quarterly(state, self.params))


def record(batch: Batch, steps: int | None = None, scenario: Scenario | None = None,
           on_divergence: str = "raise", initial: WorldState | None = None) -> Recording:
    """Simulate a batch and keep every step (:func:`record_to_end` also returns the last state).

    Args:
        batch: The batch (with ``record_reactions`` on for the reaction log).
        steps: Quarters to simulate (default: the scenario's).
        scenario: The validated scenario (for event details in the logs).
        on_divergence: As for :func:`sim.engine.simulate`.
        initial: Start from this state (as for :func:`sim.engine.simulate`); the arrays then
            hold rows ``initial.step`` to the end, so row 0 is not step 0 and ``quarters`` does
            not apply (sim.outputs.run.run_branch joins such a tail to its parent's history).

    Returns:
        The recording.
    """
    return record_to_end(batch, steps, scenario, on_divergence, initial)[0]


def record_to_end(batch: Batch, steps: int | None = None, scenario: Scenario | None = None,
                  on_divergence: str = "raise", initial: WorldState | None = None,
                  ) -> tuple[Recording, WorldState]:
    """Simulate a batch, keep every step, and return the state it ends in too.

    Arguments as for :func:`record`; the state is what a branch continues from.
    """
    recorder = _Recorder(batch.params)
    final = simulate(batch, steps, observe=recorder, on_divergence=on_divergence,
                     initial=initial)
    states = recorder.states

    def stack(name: str) -> np.ndarray:
        return np.stack([getattr(st, name) for st in states])

    return Recording(
        structure=batch.structure,
        seeds=batch.seeds,
        visibility=batch.visibility,
        share=stack("share"),
        footprint=stack("footprint"),
        goodwill=stack("goodwill"),
        diplomatic=stack("diplomatic"),
        effort=stack("effort"),
        stability=stack("stability"),
        spend=stack("spend"),
        signal=stack("signal"),
        response=stack("response"),
        fired=stack("fired"),
        flows={name: np.stack([f[name] for f in recorder.flows]) for name in QUARTERLY},
        dependence=np.stack([np.moveaxis(st.dependence_now(), 1, -1) for st in states]),
        diverged_step=final.diverged_step,
        scenario=scenario,
    ), final
