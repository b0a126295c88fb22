"""The figures a person reads: closed after saving, comparable panels, readable events, spending."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from sim.outputs.plots import influence_figure
from sim.outputs.run import run_scenario, write_run
from sim.outputs.spending import spending_figure
from sim.scenario import load_scenario
from sim.whatif.compare import (
    compare_scenarios,
    comparison_figure,
    comparison_spending_figure,
    write_comparison,
)

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def destabilised():
    """border_accord against russia_destabilises, 4 paired replicates."""
    pair = [load_scenario(SCENARIOS / "border_accord.yaml"),
            load_scenario(SCENARIOS / "russia_destabilises.yaml")]
    return compare_scenarios(pair, replicates=4)


def test_writers_close_every_figure(tmp_path, destabilised):
    """A run's and a comparison's figures are closed once saved: pyplot holds none afterwards.

    A writer that left one figure open per call would show here after its first call (and
    in a long session as matplotlib's "More than 20 figures" warning, made an error here).
    """
    plt.close("all")
    base = SCENARIOS / "border_accord.yaml"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib's RuntimeWarning would fail the test
        recording = run_scenario(load_scenario(base, seed=0, steps=8))
        write_run(recording, plot=True, folder=tmp_path / "run0")
        assert plt.get_fignums() == [], "write_run left figures open"
        write_comparison(destabilised, tmp_path, folder=tmp_path / "compare0")
        assert plt.get_fignums() == [], "write_comparison left figures open"
    assert (tmp_path / "run0" / "influence.png").is_file()
    assert (tmp_path / "run0" / "spending.png").is_file()
    assert (tmp_path / "compare0" / "spending.png").is_file()


def test_influence_panels_share_y_limits():
    recording = run_scenario(load_scenario(SCENARIOS / "russia_destabilises.yaml"))
    fig = influence_figure(recording)
    try:
        panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_ylabel() != "stability "
                  "(0-1)" and ax.get_title()]
        assert len(panels) == 5
        limits = {tuple(round(v, 6) for v in ax.get_ylim()) for ax in panels}
        assert len(limits) == 1, limits
        assert limits.pop()[1] > 60  # Turkmenistan's China (about 67%) sets every panel's top
    finally:
        plt.close(fig)


def _event_numbers(fig) -> list:
    """The event-number labels of a figure (short texts of digits and commas)."""
    return [t for ax in fig.axes for t in ax.texts
            if t.get_text() and set(t.get_text()) <= set("0123456789,")]


def test_event_labels_never_overprint():
    """Six events within five quarters: each panel's numbers sit apart, a key names them."""
    recording = run_scenario(load_scenario(SCENARIOS / "russia_destabilises.yaml"))
    fig = influence_figure(recording)
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        for ax in fig.axes:
            boxes = [t.get_window_extent(renderer) for t in ax.texts
                     if t in _event_numbers(fig)]
            for i, a in enumerate(boxes):
                for b in boxes[i + 1:]:
                    assert not a.overlaps(b), "two event labels print over each other"
        key = " ".join(t.get_text() for t in fig.texts)
        assert "Events: 1 accord (2025Q1)" in key
        assert "Russia campaign (2026Q1)" in key
    finally:
        plt.close(fig)


def test_run_spending_figure_has_a_panel_per_state():
    recording = run_scenario(load_scenario(SCENARIOS / "baseline.yaml", steps=8))
    fig = spending_figure(recording)
    try:
        titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
        assert titles == ["Kazakhstan", "Kyrgyzstan", "Tajikistan", "Turkmenistan", "Uzbekistan"]
        ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
        assert ticks == ["investment", "soft power", "diplomacy"]  # nobody destabilises
    finally:
        plt.close(fig)


def test_comparison_spending_answers_whose_investment_instability_deters(destabilised):
    """Japan's investment in Kyrgyzstan falls by a fifth or more; China's does not fall."""
    fig = comparison_spending_figure(destabilised)
    try:
        kyrgyzstan = next(ax for ax in fig.axes if ax.get_title() == "Kyrgyzstan")
        investment = 0  # the first group of bars; a bar per power in the comparison's order
        bars = list(kyrgyzstan.patches)
        n_powers = len(destabilised.powers)
        n_kinds = len(kyrgyzstan.get_xticklabels())
        assert len(bars) == n_powers * n_kinds
        japan = bars[destabilised.powers.index("japan") * n_kinds + investment].get_height()
        china = bars[destabilised.powers.index("china") * n_kinds + investment].get_height()
        assert japan < -20, japan
        assert china > -1, china
    finally:
        plt.close(fig)


def test_comparison_figure_marks_events(destabilised):
    state = destabilised.states.index("kyrgyzstan")
    fig = comparison_figure(destabilised, state)
    try:
        key = " ".join(t.get_text() for t in fig.texts)
        assert "accord (2025Q1)" in key
        assert "Russia campaign [russia_destabilises] (2026Q1)" in key
        assert _event_numbers(fig), "no event markers in the panels"
        assert fig.axes[0].get_legend() is None  # the legend sits under the panels
    finally:
        plt.close(fig)


def test_calibration_figures_say_what_each_parameter_is():
    """Titled "China's investment budget from 2015, share of 2024's", not a field path."""
    import numpy as np

    from sim.history.calibrate import PARAMETERS
    from sim.history.posterior_plots import marginals_figure, pairs_figure

    names = tuple(PARAMETERS)
    bounds = [(u.low, u.high) for u in PARAMETERS.values()]
    rng = np.random.default_rng(1)
    particles = np.column_stack([rng.uniform(low, high, 200) for low, high in bounds])
    weights = np.full(200, 1 / 200)
    fig = marginals_figure(particles, weights, names, bounds)
    pairs = pairs_figure(particles, weights, names, bounds)
    try:
        titles = [ax.get_title().replace("\n", " ") for ax in fig.axes if ax.get_visible()]
        assert "China's investment budget from 2015, share of 2024's" in titles
        labels = [ax.get_xlabel() for ax in pairs.axes if ax.get_visible()]
        for text in titles + labels:
            assert "history:" not in text and "rules." not in text, text
    finally:
        plt.close(fig)
        plt.close(pairs)


def _summary(design_seed: int = 0):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(design_seed)
    x = rng.uniform(0, 8, 400)
    other = rng.uniform(0, 1, 400)
    mean = 0.04 - 0.001 * x + 0.01 * other
    return pd.DataFrame({"powers.china.reaction.japan.sensitivity": x,
                         "rules.hedging": other, "influence_end_japan_mean": mean,
                         "influence_end_japan_p5": mean - 0.001,
                         "influence_end_japan_p95": mean + 0.001})


@pytest.mark.parametrize("design", ["random", "latin", "sobol", "morris"])
def test_sampled_response_draws_samples_binned_mean_and_says_others_vary(design):
    from sim.sweep.figures import response_figure

    summary = _summary()
    fig = response_figure(summary, "influence_end_japan",
                          "powers.china.reaction.japan.sensitivity", design=design)
    try:
        ax = fig.axes[0]
        points = ax.collections[0].get_offsets()
        assert len(points) == len(summary)  # every sample drawn
        assert max(points[:, 1]) > 4.4  # in %, not fractions
        line = ax.get_lines()[0]
        assert len(line.get_xdata()) == 10  # the binned mean
        assert "Hedging strength varies too" in ax.get_title()
    finally:
        plt.close(fig)


def test_sobol_indices_are_dimensionless_in_the_units_registry():
    from sim.outputs.units import COLUMN_UNITS, SOBOL_UNIT

    assert COLUMN_UNITS["S1"] == COLUMN_UNITS["ST"] == SOBOL_UNIT
    assert SOBOL_UNIT.startswith("dimensionless")
