"""Figures of spending by power and kind of move: what each power put where, and what changed.

``spending.png`` in a run folder answers "who spent what, where?": one panel per state, a group
of bars per kind of move (investment, soft power, diplomacy, destabilisation) and a bar per
power, the total over the run in USD bn (the mean over runs, with the 5th-95th percentile when
there are several). A comparison's ``spending.png`` answers "whose spending did the change
move?": the same panels, each bar the change of a power's total spending of that kind in that
state against the first scenario, in % (paired: replicate i of each scenario has seed i), so
a question such as "whose investment does instability deter?" is read off one bar per power.
Kinds of move nobody used in any panel are left out.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from sim.outputs.names import CHANNEL_NAMES
from sim.outputs.plots import panel_grid, power_style, pyplot
from sim.outputs.units import USD_M_PER_BN
from sim.scenario import CHANNELS

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

INTERVAL = (5.0, 95.0)
"""Percentiles of the bars' whiskers (over runs)."""


def total_spending(spend: np.ndarray) -> np.ndarray:
    """Total spending over the run, per run, kind, state and power, USD m.

    Args:
        spend: A recording's ``spend``, (T + 1, R, C, S, P), USD m per quarter.

    Returns:
        (R, C, S, P), summed over the quarters.
    """
    return spend.astype(np.float64).sum(axis=0)


def _used_kinds(totals: np.ndarray) -> list[int]:
    """Indices of the kinds of move some power used somewhere (any run)."""
    used = [c for c in range(totals.shape[1]) if np.any(totals[:, c] > 0)]
    return used or list(range(totals.shape[1]))


def _bars(ax: plt.Axes, kinds: list[int], powers: list[str], labels: dict,
          middle: np.ndarray, low: np.ndarray, high: np.ndarray,
          show_numbers: bool = False) -> None:
    """Draw grouped bars: a group per kind of move, a bar per power, with whiskers.

    Args:
        ax: The panel.
        kinds: Channel indices, one group each.
        powers: Power keys, one bar each (colours as in influence.png).
        labels: Display labels of the power keys.
        middle: (len(kinds), len(powers)) bar heights (NaN: nothing to show).
        low: Lower whisker ends, same shape (NaN: no whisker).
        high: Upper whisker ends, same shape (NaN: no whisker).
        show_numbers: Write each bar's value (as a signed %) above or below it.
    """
    width = 0.8 / max(1, len(powers))
    x = np.arange(len(kinds))
    for p, power in enumerate(powers):
        offset = x - 0.4 + width * (p + 0.5)
        heights = np.nan_to_num(middle[:, p], nan=0.0, posinf=0.0, neginf=0.0)
        errors = np.vstack([np.clip(heights - low[:, p], 0, None),
                            np.clip(high[:, p] - heights, 0, None)])
        errors = np.nan_to_num(errors, nan=0.0)
        colour = power_style(p)["color"]
        ax.bar(offset, heights, width=width * 0.92, color=colour, label=labels.get(power, power),
               yerr=errors, error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "#333333"})
        if show_numbers:
            for xi, value in zip(offset, middle[:, p], strict=True):
                if np.isnan(value) or round(value) == 0:  # none in either, or no change
                    continue
                above = not np.isfinite(value) or value >= 0
                ax.annotate("new" if np.isinf(value) else f"{value:+.0f}%",
                            (xi, value if np.isfinite(value) else 0.0),
                            xytext=(0, 2 if above else -2), textcoords="offset points",
                            ha="center", va="bottom" if above else "top", fontsize=6,
                            color="#333333")
    ax.set_xticks(x)
    ax.set_xticklabels([CHANNEL_NAMES.get(CHANNELS[c], CHANNELS[c]) for c in kinds], fontsize=8)
    ax.grid(alpha=0.3, axis="y")


def spending_figure(recording, title: str | None = None) -> plt.Figure:
    """One panel per state: each power's total spending of each kind over the run, USD bn.

    Args:
        recording: A :class:`sim.outputs.record.Recording`.
        title: Figure title (default: the scenario's name).
    """
    s = recording.structure
    totals = total_spending(recording.spend) / USD_M_PER_BN  # (R, C, S, P), USD bn
    runs = totals.shape[0]
    kinds = _used_kinds(totals)
    fig, axes = panel_grid(s.n_states)
    top = float(np.percentile(totals[:, kinds], INTERVAL[1], axis=0).max()) if kinds else 1.0
    for i, state in enumerate(s.states):
        ax = axes.flat[i]
        values = totals[:, kinds, i, :]  # (R, K, P)
        low, high = (np.percentile(values, INTERVAL, axis=0) if runs > 1
                     else (np.full(values.shape[1:], np.nan),) * 2)
        _bars(ax, kinds, list(s.powers), s.labels, values.mean(axis=0), low, high)
        ax.set_title(s.labels[state], fontsize=10)
        ax.set_ylim(0, 1.08 * top if top > 0 else 1.0)
        if i % axes.shape[1] == 0:
            ax.set_ylabel("total spending, USD bn", fontsize=8)
        ax.tick_params(axis="x", labelbottom=True)
    quarters = recording.quarters
    scenario = recording.scenario.name if recording.scenario is not None else ""
    band = (f" (mean of {runs} runs, whiskers: {INTERVAL[0]:.0f}th-{INTERVAL[1]:.0f}th "
            "percentile)" if runs > 1 else "")
    fig.suptitle(f"{title or scenario}: total spending by power and kind of move, "
                 f"{quarters[1]}-{quarters[-1]}{band}", fontsize=11)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    return fig


def spending_change_figure(recordings: list, labels: list[str], states: list[str],
                           powers: list[str], names: dict, band: str = "") -> plt.Figure:
    """One panel per state: the change of each power's total spending of each kind, in %.

    Each bar is ``100 x (mean total in the scenario / mean total in the first - 1)`` over the
    paired replicates, with whiskers from the 5th to the 95th percentile of the per-replicate
    changes; "new" where only the compared scenario spent on that kind, nothing where neither
    did. With more than two
    scenarios, each compared scenario gets its own row of panels.

    Args:
        recordings: One recording per scenario, the first the reference, all with the same seeds.
        labels: A display label per scenario.
        states: State keys common to every scenario.
        powers: Power keys common to every scenario.
        names: Display labels of the state and power keys.
        band: What the replicates span (e.g. "over 20 seeds only"), for the caption.
    """

    def totals(recording) -> np.ndarray:
        st = recording.structure
        s_idx = [st.states.index(x) for x in states]
        p_idx = [st.powers.index(x) for x in powers]
        return total_spending(recording.spend)[:, :, s_idx][:, :, :, p_idx]  # (R, C, S, P)

    reference = totals(recordings[0])
    others = [totals(r) for r in recordings[1:]]
    kinds = _used_kinds(np.concatenate([reference, *others], axis=0))
    n_states = len(states)
    cols = min(3, n_states)
    rows_per = int(np.ceil(n_states / cols))
    fig, axes = pyplot().subplots(rows_per * len(others), cols,
                             figsize=(4.6 * cols, 3.4 * rows_per * len(others)), squeeze=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        changes = [100.0 * (o.mean(axis=0) / reference.mean(axis=0) - 1.0) for o in others]
        per_run = [100.0 * (o / reference - 1.0) for o in others]
    finite = [abs(v) for c in changes for v in c[kinds].ravel() if np.isfinite(v)]
    limit = max(5.0, 1.15 * max(finite, default=5.0))
    for k, (change, runs) in enumerate(zip(changes, per_run, strict=True)):
        for i, state in enumerate(states):
            ax = axes[k * rows_per + i // cols, i % cols]
            middle = change[kinds, i, :]
            spread = runs[:, kinds, i, :]
            if spread.shape[0] > 1:
                with warnings.catch_warnings():  # a kind neither scenario used: all NaN
                    warnings.simplefilter("ignore", RuntimeWarning)
                    low, high = np.nanpercentile(np.where(np.isfinite(spread), spread, np.nan),
                                                 INTERVAL, axis=0)
            else:
                low = high = np.full(middle.shape, np.nan)
            low = np.where(np.isfinite(middle), low, np.nan)
            high = np.where(np.isfinite(middle), high, np.nan)
            _bars(ax, kinds, powers, names, middle, low, high, show_numbers=True)
            ax.axhline(0.0, color="black", linewidth=0.8)
            ax.set_ylim(-limit, limit)
            title = names.get(state, state)
            ax.set_title(title if len(others) == 1 else f"{title}: {labels[k + 1]}", fontsize=10)
            if i % cols == 0:
                ax.set_ylabel(f"change vs {labels[0]}, %", fontsize=8)
        for j in range(n_states, rows_per * cols):
            axes[k * rows_per + j // cols, j % cols].set_visible(False)
    shown = " and ".join(labels[1:])
    fig.suptitle(f"Total spending by power and kind of move: {shown} against {labels[0]}",
                 fontsize=11)
    handles, legend = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, legend, loc="lower center", ncol=len(legend), frameon=False, fontsize=8,
               bbox_to_anchor=(0.5, 0.02))
    fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    note = (f"Bars: change of the mean total over {len(recordings[0].seeds)} paired runs "
            f"(numbers where it rounds to 1% or more); whiskers: {INTERVAL[0]:.0f}th-"
            f"{INTERVAL[1]:.0f}th percentile of the per-run changes"
            f"{' (' + band + ')' if band else ''}; new: {labels[0]} spent nothing of that "
            "kind there.")
    fig.text(0.5, 0.004, note, ha="center", va="bottom", fontsize=7, color="#555555")
    return fig
