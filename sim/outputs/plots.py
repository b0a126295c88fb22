"""Figures: each power's influence share over time, one panel per state.

Colours are the Okabe-Ito palette (distinguishable with the common colour-vision
deficiencies); line styles differ too, so the figure also reads in grey.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7", "#F0E442",
             "#000000"]
LINESTYLES = ["-", "--", "-.", ":"]

METRICS = {
    "share": ("Influence share", "share of influence (0-1)"),
    "footprint": ("Economic footprint", "USD millions"),
    "goodwill": ("Goodwill", "USD millions equivalent"),
    "diplomatic": ("Diplomatic capital", "USD millions equivalent"),
    "effort": ("Reactive effort", "effort (0 = baseline spending)"),
}


def power_style(index: int) -> dict:
    """Colour and line style of the index-th power."""
    return {"color": OKABE_ITO[index % len(OKABE_ITO)],
            "linestyle": LINESTYLES[(index // len(OKABE_ITO)) % len(LINESTYLES)]}


def quarter_ticks(ax: plt.Axes, quarters: list[str]) -> None:
    """Label the x axis with quarters, about every two years."""
    every = max(1, (len(quarters) - 1) // 5)
    every = 4 * max(1, round(every / 4)) if len(quarters) > 8 else every
    ticks = list(range(0, len(quarters), every))
    ax.set_xticks(ticks)
    ax.set_xticklabels([quarters[t] for t in ticks], rotation=30, ha="right", fontsize=8)


def panel_grid(n_panels: int) -> tuple[plt.Figure, np.ndarray]:
    """A figure with one panel per state, up to three across."""
    cols = min(3, n_panels)
    rows = math.ceil(n_panels / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False,
                             sharex=True)
    for ax in axes.flat[n_panels:]:
        ax.set_visible(False)
    return fig, axes


def influence_figure(recording, metric: str = "share", title: str | None = None) -> plt.Figure:
    """Plot a recording: one panel per state, a line per power.

    With several runs (replicates) each line is the mean over runs, with a band from the 5th to
    the 95th percentile.

    Args:
        recording: A :class:`sim.outputs.record.Recording`.
        metric: ``share``, ``footprint``, ``goodwill``, ``diplomatic`` or ``effort``.
        title: Figure title (default: the scenario's name).
    """
    name, unit = METRICS[metric]
    values = getattr(recording, metric)  # (T + 1, R, S, P)
    structure = recording.structure
    quarters = recording.quarters
    steps = np.arange(len(quarters))
    fig, axes = panel_grid(structure.n_states)
    runs = values.shape[1]
    for s, state in enumerate(structure.states):
        ax = axes.flat[s]
        for p, power in enumerate(structure.powers):
            series = values[:, :, s, p].astype(np.float64)
            style = power_style(p)
            label = structure.labels[power]
            if runs == 1:
                ax.plot(steps, series[:, 0], label=label, linewidth=1.8, **style)
            else:
                ax.plot(steps, series.mean(axis=1), label=label, linewidth=1.8, **style)
                low, high = np.percentile(series, [5, 95], axis=1)
                ax.fill_between(steps, low, high, color=style["color"], alpha=0.2, linewidth=0)
        ax.set_title(structure.labels[state], fontsize=10)
        ax.grid(alpha=0.3)
        if metric == "share":
            ax.set_ylim(bottom=0)
        if s % axes.shape[1] == 0:
            ax.set_ylabel(unit, fontsize=8)
        quarter_ticks(ax, quarters)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    band = f" (mean of {runs} runs, band: 5th-95th percentile)" if runs > 1 else ""
    scenario = recording.scenario.name if recording.scenario is not None else ""
    fig.suptitle(f"{title or scenario}: {name.lower()} by state{band}", fontsize=11)
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    if runs > 1:
        from sim.outputs.run import band_text

        fig.text(0.995, 0.005, f"bands {band_text(recording)}", ha="right", va="bottom",
                 fontsize=7, color="#555555")
    return fig


def save(fig: plt.Figure, path: Path) -> None:
    """Save a figure as PNG (fixed metadata, so reruns give the same file) and close it."""
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
