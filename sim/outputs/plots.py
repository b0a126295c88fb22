"""Figures: each power's influence share over time, one panel per state.

Each panel also shows the state's stability (grey, right axis) and the events that fired in it
(dashed vertical lines with a number; a key under the panels names each number). Every panel
has the same y-limits, so the states compare at a glance. Colours are the Okabe-Ito palette
(distinguishable with the common colour-vision deficiencies); line styles differ too, so the
figure also reads in grey.
Units and axis labels come from :mod:`sim.outputs.units`.
"""

from __future__ import annotations

import functools
import math
import textwrap
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from sim.outputs.event_text import event_label
from sim.outputs.record import band_text, start_band_note
from sim.outputs.units import QUANTITIES, quantity
from sim.scenario import EVENT_KINDS

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7", "#F0E442",
             "#000000"]
LINESTYLES = ["-", "--", "-.", ":"]

STABILITY_COLOUR = "#777777"


@functools.cache
def pyplot() -> ModuleType:
    """Matplotlib's pyplot, imported on first use, with the Agg backend (files, no window).

    The backend is chosen once per process, on the first call, as importing this module used
    to: a notebook that asks for ``%matplotlib inline`` after a first figure keeps it. Every
    figure of the package is drawn through it. It is the one heavy library a plain
    ``sim run --no-plot`` would otherwise load and never use (tests/test_layering.py).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot

    return matplotlib.pyplot


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
    fig, axes = pyplot().subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False,
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
    share_y_limits(axes.flat[:structure.n_states])
    numbered = number_events(markers)
    for s in range(structure.n_states):
        ax = axes.flat[s]
        _stability(ax, recording.stability[:, :, s].astype(np.float64), steps,
                   last_column=s % axes.shape[1] == axes.shape[1] - 1 or
                   s == structure.n_states - 1)
        draw_event_numbers(ax, [m for m in numbered if m[2] is None or s in m[2]], len(steps))
    handles, labels = axes.flat[0].get_legend_handles_labels()
    handles.append(pyplot().Line2D([], [], color=STABILITY_COLOUR, linewidth=1.2, linestyle=":"))
    labels.append(QUANTITIES["stability"].axis + " (right axis)")
    band = f" (mean of {runs} runs, band: 5th-95th percentile)" if runs > 1 else ""
    scenario = recording.scenario.name if recording.scenario is not None else ""
    fig.suptitle(f"{title or scenario}: {shown.name.lower()}, stability and events by state"
                 f"{band}", fontsize=11)
    key = event_key(numbered, quarters, width=60 * axes.shape[1])
    key_height = (0.16 * (key.count("\n") + 1) if key else 0.0) / fig.get_figheight()
    legend_bottom = 0.02 + key_height
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, fontsize=8,
               bbox_to_anchor=(0.5, legend_bottom))
    if key:
        fig.text(0.01, 0.02, key, ha="left", va="bottom", fontsize=7, color="#333333")
    fig.tight_layout(rect=(0, legend_bottom + 0.05, 1, 0.95))
    if runs > 1:
        note = start_band_note(recording) if metric == "share" else ""
        fig.text(0.995, 0.005, f"bands {band_text(recording)}" + (f"; {note}" if note else ""),
                 ha="right", va="bottom", fontsize=7, color="#555555")
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


def share_y_limits(axes) -> None:
    """Give every panel the same y-limits (the widest), so panels compare at a glance."""
    axes = [ax for ax in axes if ax.get_visible()]
    if not axes:
        return
    low = min(ax.get_ylim()[0] for ax in axes)
    high = max(ax.get_ylim()[1] for ax in axes)
    for ax in axes:
        ax.set_ylim(low, high)


def number_events(markers: list[tuple[int, str, set | None]],
                  ) -> list[tuple[int, str, set | None, int]]:
    """Number the events in order of time: (step, label, states, number from 1).

    Events with the same step and label (one per scenario of a comparison, say) share a
    number; the panels show the numbers and :func:`event_key` says what each one is, so
    labels of events a quarter apart never print over each other.
    """
    numbers: dict[tuple[int, str], int] = {}
    for step, label, _ in sorted(markers, key=lambda m: (m[0], m[1])):
        numbers.setdefault((step, label), len(numbers) + 1)
    return [(step, label, where, numbers[(step, label)]) for step, label, where in markers]


def event_key(numbered: list[tuple[int, str, set | None, int]], quarters: list[str] | None = None,
              width: int = 180) -> str:
    """The footnote that names each numbered event: ``1 accord · 2 Japan visit ...``."""
    seen: dict[int, tuple[int, str]] = {}
    for step, label, _, number in numbered:
        seen.setdefault(number, (step, label))
    if not seen:
        return ""
    parts = [f"{n} {label}" + (f" ({quarters[step]})" if quarters else "")
             for n, (step, label) in sorted(seen.items())]
    return "\n".join(textwrap.wrap("Events: " + " · ".join(parts), width=width))


def draw_event_numbers(ax: plt.Axes, numbered: list[tuple[int, str, set | None, int]],
                       n_steps: int) -> None:
    """Draw each event as a dashed vertical line with its number at the top of the panel.

    Numbers of events close in time are stacked in rows, so they never print over each other.
    """
    by_step: dict[int, list[int]] = {}
    for step, _, _, number in numbered:
        if number not in by_step.setdefault(step, []):
            by_step[step].append(number)
    rows: list[float] = []  # the right end (in steps) of the last number in each row
    per_character = 0.013 * n_steps  # a 6-point character in steps, at the panels' width
    for step in sorted(by_step):
        text = ",".join(str(n) for n in sorted(by_step[step]))
        ax.axvline(step, color="black", linewidth=0.7, alpha=0.5, linestyle="--")
        left = step - 0.5 * per_character * len(text)
        row = next((r for r, end in enumerate(rows) if left > end), len(rows))
        if row == len(rows):
            rows.append(0.0)
        rows[row] = step + 0.5 * per_character * (len(text) + 1)
        ax.text(step, 0.985 - 0.075 * row, text, transform=ax.get_xaxis_transform(),
                va="top", ha="center", fontsize=6, color="#222222",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none",
                      "alpha": 0.8})


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
    """Save a figure as PNG (fixed metadata, so reruns give the same file) and close it.

    Every figure is laid out by ``fig.tight_layout()`` before it is saved, which leaves a
    placeholder layout engine on the figure; with any engine set, ``savefig`` first draws the
    whole figure once with drawing turned off, for the engine to lay it out, and then draws it
    for real. The placeholder lays nothing out, so it is dropped first: the file is the same
    byte for byte, drawn once instead of twice.
    """
    import matplotlib
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    if isinstance(fig.get_layout_engine(), PlaceHolderLayoutEngine):
        # None means "the rc settings' engine": make that no engine, whatever the rc says.
        with matplotlib.rc_context({"figure.autolayout": False,
                                    "figure.constrained_layout.use": False}):
            fig.set_layout_engine(None)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    pyplot().close(fig)
