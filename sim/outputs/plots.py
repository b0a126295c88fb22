"""Figures: each power's influence share over time, one panel per state.

Each panel also shows the state's stability (grey, right axis) and the events that fired in it
(vertical markers with short labels). Colours are the Okabe-Ito palette (distinguishable with
the common colour-vision deficiencies); line styles differ too, so the figure also reads in grey.
Units and axis labels come from :mod:`sim.outputs.units`.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.outputs.event_text import event_label  # noqa: E402
from sim.outputs.units import QUANTITIES, quantity  # noqa: E402
from sim.scenario import EVENT_KINDS  # noqa: E402

OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7", "#F0E442",
             "#000000"]
LINESTYLES = ["-", "--", "-.", ":"]

STABILITY_COLOUR = "#777777"


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
    """Plot a recording: one panel per state, a line per power, stability and events.

    With several runs (replicates) each line is the mean over runs, with a band from the 5th to
    the 95th percentile; the stability line is the mean over runs, and an event is marked if it
    fired in any run (with the fraction of runs when not all).

    Args:
        recording: A :class:`sim.outputs.record.Recording`.
        metric: ``share``, ``footprint``, ``goodwill``, ``diplomatic`` or ``effort``.
        title: Figure title (default: the scenario's name).
    """
    shown = quantity(metric)
    values = getattr(recording, metric).astype(np.float64) * shown.scale  # (T + 1, R, S, P)
    structure = recording.structure
    quarters = recording.quarters
    steps = np.arange(len(quarters))
    fig, axes = panel_grid(structure.n_states)
    runs = values.shape[1]
    markers = event_markers(recording)
    for s, state in enumerate(structure.states):
        ax = axes.flat[s]
        for p, power in enumerate(structure.powers):
            series = values[:, :, s, p]
            style = power_style(p)
            label = structure.labels[power]
            ax.plot(steps, series.mean(axis=1), label=label, linewidth=1.8, **style)
            if runs > 1:
                low, high = np.percentile(series, [5, 95], axis=1)
                ax.fill_between(steps, low, high, color=style["color"], alpha=0.2, linewidth=0)
        ax.set_title(structure.labels[state], fontsize=10)
        ax.grid(alpha=0.3)
        if metric == "share":
            ax.set_ylim(bottom=0)
        if s % axes.shape[1] == 0:
            ax.set_ylabel(shown.axis, fontsize=8)
        quarter_ticks(ax, quarters)
        _stability(ax, recording.stability[:, :, s].astype(np.float64), steps,
                   last_column=s % axes.shape[1] == axes.shape[1] - 1 or
                   s == structure.n_states - 1)
        _events(ax, [m for m in markers if m[2] is None or s in m[2]])
    handles, labels = axes.flat[0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], color=STABILITY_COLOUR, linewidth=1.2, linestyle=":"))
    labels.append(QUANTITIES["stability"].axis + " (right axis)")
    band = f" (mean of {runs} runs, band: 5th-95th percentile)" if runs > 1 else ""
    scenario = recording.scenario.name if recording.scenario is not None else ""
    fig.suptitle(f"{title or scenario}: {shown.name.lower()}, stability and events by state"
                 f"{band}", fontsize=11)
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    if runs > 1:
        from sim.outputs.run import band_text

        fig.text(0.995, 0.005, f"bands {band_text(recording)}", ha="right", va="bottom",
                 fontsize=7, color="#555555")
    return fig


def _stability(ax: plt.Axes, stability: np.ndarray, steps: np.ndarray,
               last_column: bool) -> None:
    """Draw a state's stability (mean over runs) on a right-hand axis from 0 to 1."""
    right = ax.twinx()
    right.plot(steps, stability.mean(axis=1), color=STABILITY_COLOUR, linewidth=1.2,
               linestyle=":")
    right.set_ylim(0, 1)
    right.tick_params(axis="y", labelsize=7, colors=STABILITY_COLOUR)
    if last_column:
        right.set_ylabel("stability (0-1)", fontsize=8, color=STABILITY_COLOUR)


def _events(ax: plt.Axes, markers: list[tuple[int, str, set | None]]) -> None:
    """Draw each event as a vertical line with its short label along it (one line a quarter)."""
    by_step: dict[int, list[str]] = {}
    for step, label, _ in markers:
        by_step.setdefault(step, []).append(label)
    for step, labels in by_step.items():
        label = ", ".join(labels)
        ax.axvline(step, color="black", linewidth=0.7, alpha=0.5, linestyle="--")
        ax.text(step, 0.98, f" {label}", transform=ax.get_xaxis_transform(), rotation=90,
                va="top", ha="left", fontsize=6, color="#333333")


def event_markers(recording) -> list[tuple[int, str, set | None]]:
    """The events that fired in any run: (step, short label, state indices or None for all).

    An event that names no state (a budget change) is marked in every panel; one that fired in
    only some runs says in how many.
    """
    s = recording.structure
    fired = recording.fired  # (T + 1, R, E)
    runs = fired.shape[1]
    events = recording.scenario.events if recording.scenario is not None else None
    markers = []
    for t, e in zip(*np.nonzero(fired.any(axis=1)), strict=True):
        kind = EVENT_KINDS[s.event_kind[e]]
        power = s.labels[s.powers[s.event_power[e]]] if s.event_power[e] >= 0 else ""
        spec = events[e].model_dump() if events is not None else {}
        label = event_label(kind, spec, power)
        count = int(fired[t, :, e].sum())
        if count < runs:
            label += f" ({count}/{runs} runs)"
        where = set(np.nonzero(s.event_states[e])[0].tolist())
        markers.append((int(t), label, where or None))
    return markers


def save(fig: plt.Figure, path: Path) -> None:
    """Save a figure as PNG (fixed metadata, so reruns give the same file) and close it."""
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
