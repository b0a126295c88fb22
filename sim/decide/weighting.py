"""How the states count in a power's regional influence: equally, or by what a strategist values.

A regional share is a weighted mean of the power's share in each state, the weights summing to
one over the states counted. The named weightings read the scenario's economy block
(docs/DATA.md section 7, "Weights of regional influence"):

- ``equal``: every state alike (the default, and the only reading before issue 17);
- ``gdp``: ``economy.gdp_usd_bn``, GDP in the year before the start (USD bn);
- ``population``: ``economy.population_m`` (millions);
- ``resources``: ``economy.resources_usd_bn``, natural-resource rents a year (USD bn: oil, gas,
  coal, mineral and forest rents, the World Bank's definition);

or a mapping ``{state: weight}`` (non-negative, any scale; unlisted states count 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sim.errors import ScenarioError
from sim.outputs.units import format_share, format_share_points
from sim.scenario import Scenario

WEIGHTINGS = ("equal", "gdp", "population", "resources")
"""The named weightings."""

FIELDS = {"gdp": "gdp_usd_bn", "population": "population_m", "resources": "resources_usd_bn"}
"""The economy field each named weighting reads."""

Weighting = str | Mapping[str, float]


def weighting_name(weighting: Weighting) -> str:
    """A short name for column labels and printouts: the named weighting or ``custom``."""
    return weighting if isinstance(weighting, str) else "custom"


def weighting_problems(scenario: Scenario, weighting: Any, states: Sequence[str],
                       where: str) -> list[str]:
    """What is wrong with a weighting for these states of this scenario (empty: nothing).

    Args:
        scenario: The scenario whose states are weighted.
        weighting: A name of :data:`WEIGHTINGS` or a mapping state -> weight.
        states: The states counted.
        where: The field path to name in the messages (``objectives.0.weighting``).
    """
    if isinstance(weighting, str):
        if weighting not in WEIGHTINGS:
            return [f"{where}: {weighting!r} is not allowed: one of {', '.join(WEIGHTINGS)} "
                    "or a mapping of state -> weight"]
        if weighting == "equal":
            return []
        name = FIELDS[weighting]
        missing = [s for s in states if getattr(scenario.states[s].economy, name) is None]
        if missing:
            return [f"{where}: {weighting!r} needs states.<state>.economy.{name}, which "
                    f"{', '.join(missing)} of {scenario.name!r} does not give"]
        if sum(getattr(scenario.states[s].economy, name) for s in states) <= 0:
            return [f"{where}: {weighting!r} weights sum to 0 over {', '.join(states)}"]
        return []
    if not isinstance(weighting, Mapping) or not weighting:
        return [f"{where}: {weighting!r} is not allowed: one of {', '.join(WEIGHTINGS)} or a "
                "non-empty mapping of state -> weight"]
    problems = []
    for state, value in weighting.items():
        if state not in scenario.states:
            problems.append(f"{where}.{state}: {state!r} is not a state of {scenario.name!r}; "
                            f"known: {', '.join(scenario.state_names)}")
        elif state not in states:
            problems.append(f"{where}.{state}: {state!r} is not among the states counted "
                            f"({', '.join(states)})")
        if isinstance(value, bool) or not isinstance(value, int | float) or not \
                np.isfinite(value) or value < 0:
            problems.append(f"{where}.{state}: {value!r} is not allowed: a finite number >= 0")
    if not problems and sum(weighting.get(s, 0.0) for s in states) <= 0:
        problems.append(f"{where}: the weights sum to 0 over {', '.join(states)}")
    return problems


def state_weights(scenario: Scenario, weighting: Weighting,
                  states: Sequence[str] | None = None) -> np.ndarray:
    """The weight of each counted state, summing to one (check with weighting_problems first).

    Args:
        scenario: The scenario.
        weighting: A name of :data:`WEIGHTINGS` or a mapping state -> weight.
        states: The states counted, in order (default: all, in the scenario's order).

    Returns:
        (len(states),) float64 weights summing to 1.
    """
    states = list(scenario.state_names if states is None else states)
    if isinstance(weighting, str):
        if weighting == "equal":
            raw = np.ones(len(states))
        else:
            raw = np.array([getattr(scenario.states[s].economy, FIELDS[weighting])
                            for s in states], dtype=np.float64)
    else:
        raw = np.array([float(weighting.get(s, 0.0)) for s in states], dtype=np.float64)
    return raw / raw.sum()


def weighted_share(share: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted regional share: ``share`` (..., S) against weights (S,) summing to one."""
    return share @ weights


def check_option(scenario: Scenario, weighting: str) -> np.ndarray:
    """The weights of a command line's ``--weighting NAME`` for a scenario's states.

    Raises:
        ScenarioError: Naming ``--weighting``, the value and what is allowed (exit status 2).
    """
    problems = weighting_problems(scenario, weighting, scenario.state_names, "--weighting")
    if problems:
        raise ScenarioError("--weighting", problems)
    return state_weights(scenario, weighting)


def region_lines(labels: Sequence[str], shares: Sequence[np.ndarray], powers: Sequence[str],
                 weights: np.ndarray, weighting: str, step: int, quarters: Sequence[str],
                 ) -> list[str]:
    """Printed lines of each power's weighted regional share, first quarter -> ``step``.

    Args:
        labels: One label per scenario (the first is the reference when there are several).
        shares: Each scenario's share array (T + 1, R, S, P), the same seeds in every one.
        powers: Power display names (axis P).
        weights: (S,) state weights summing to one.
        weighting: Its name, for the heading.
        step: The step reported.
        quarters: The quarter labels by step.

    Returns:
        A heading and one line per scenario: the mean over runs, and for every scenario after
        the first, the mean paired difference from the first at ``step`` with its 90% interval
        (percentage points).
    """
    lines = [f"regional influence ({weighting}-weighted: "
             + ", ".join(f"{w:.0%}" for w in weights) + f"), {quarters[0]} -> {quarters[step]}"]
    reference = None
    for label, share in zip(labels, shares, strict=True):
        region = np.einsum("trsp,s->trp", share.astype(np.float64), weights)
        cells = [f"{p} {format_share(region[0, :, i].mean())} -> "
                 f"{format_share(region[step, :, i].mean())}" for i, p in enumerate(powers)]
        if reference is not None:
            gap = region[step] - reference[step]  # (R, P), paired by seed
            cells = [c + f" ({format_share_points(gap[:, i].mean())}"
                     + (f" [{format_share_points(np.percentile(gap[:, i], 5))}, "
                        f"{format_share_points(np.percentile(gap[:, i], 95))}]"
                        if gap.shape[0] > 1 else "") + ")"
                     for i, c in enumerate(cells)]
        else:
            reference = region
        lines.append(f"  {label}: " + "; ".join(cells))
    return lines
