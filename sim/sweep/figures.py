"""A sweep's figures: sensitivity bars, and an output against one or two swept parameters.

Axes carry plain names (:func:`sim.outputs.names.plain_name`), not field paths, and outputs
read in their units (influence in %, total spending in USD bn); a heat map's colour bar says
what it shows, in which unit, and the range it spans.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.outputs.names import output_axis, output_quantity, plain_name
from sim.outputs.plots import OKABE_ITO, pyplot

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

MAX_LEVELS = 40
"""A parameter with more distinct values than this is binned (by quantiles) before plotting."""

BINS = 20


def _levels(values: pd.Series) -> pd.Series:
    """Group key of each sample: its value, or the mean value of its quantile bin."""
    if values.nunique() <= MAX_LEVELS:
        return values
    bins = pd.qcut(values, BINS, duplicates="drop")
    return values.groupby(bins, observed=True).transform("mean")


SAMPLED_DESIGNS = ("random", "latin", "sobol", "morris")
"""Designs whose samples scatter over the space: every sample has its own x value, and the
other parameters vary from sample to sample."""


def response_figure(summary: pd.DataFrame, output: str, x: str, y: str | None = None,
                    title: str = "", design: str | None = None) -> plt.Figure:
    """Plot an output against one swept parameter (line with a band) or two (heat map).

    For a grid, the line is the mean over seeds, averaged over the samples that share the x
    value; the band is the 5th to 95th percentile over seeds, averaged the same way. For a
    sampled design (random, Latin hypercube, Sobol, Morris) each sample is a point (its mean
    over seeds), with the mean of the points in each of 10 bins of x and its 95% interval
    (mean +- 1.96 standard errors over the bin's samples); the title says that the other
    parameters vary, since they, not only x, spread the points. The heat map shows the mean
    over seeds.

    Args:
        summary: The sweep's summary table (one row per sample).
        output: The output column, e.g. ``influence_end_japan``.
        x: Parameter on the x axis.
        y: Optional second parameter (heat map).
        title: Figure title.
        design: The sweep's design (``grid``, ``random``, ``latin``, ``sobol``, ``morris``).

    """
    name, shown = output_quantity(output)
    if y is None and design in SAMPLED_DESIGNS:
        return _scatter_figure(summary, output, x, title or name)
    frame = pd.DataFrame({"x": _levels(summary[x])})
    for stat in ("mean", "p5", "p95"):
        frame[stat] = summary[f"{output}_{stat}"].to_numpy() * shown.scale
    if y is None:
        grouped = frame.groupby("x").mean().sort_index()
        fig, ax = pyplot().subplots(figsize=(6.4, 4.2))
        ax.plot(grouped.index, grouped["mean"], color=OKABE_ITO[4], linewidth=1.8,
                marker="o" if len(grouped) <= 20 else None, label="mean over seeds")
        ax.fill_between(grouped.index, grouped["p5"], grouped["p95"], color=OKABE_ITO[4],
                        alpha=0.2, linewidth=0, label="5th-95th percentile over seeds")
        ax.set_xlabel(plain_name(x), fontsize=8)
        ax.set_ylabel(output_axis(output), fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, frameon=False)
    else:
        frame["y"] = _levels(summary[y]).to_numpy()
        table = frame.pivot_table(index="y", columns="x", values="mean", aggfunc="mean")
        fig, ax = pyplot().subplots(figsize=(6.8, 4.8))
        image = ax.imshow(table.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(table.columns)))
        ax.set_xticklabels([f"{v:.3g}" for v in table.columns], rotation=45, fontsize=7)
        ax.set_yticks(range(len(table.index)))
        ax.set_yticklabels([f"{v:.3g}" for v in table.index], fontsize=7)
        ax.set_xlabel(plain_name(x), fontsize=8)
        ax.set_ylabel(plain_name(y), fontsize=8)
        values = table.to_numpy()
        low, high = np.nanmin(values), np.nanmax(values)
        span = f"{shown.show(low / shown.scale)} to {shown.show(high / shown.scale)}"
        bar = fig.colorbar(image, ax=ax)
        bar.set_label(f"{output_axis(output)}, mean over seeds\n(colours span {span})",
                      fontsize=8)
    ax.set_title(title or name, fontsize=10)
    fig.tight_layout()
    return fig


SCATTER_BINS = 10
"""Bins of x (equal counts) of a sampled design's binned mean."""


def _scatter_figure(summary: pd.DataFrame, output: str, x: str, title: str) -> plt.Figure:
    """Each sample's mean over seeds against x, with a binned mean and its 95% interval."""
    _, shown = output_quantity(output)
    xs = summary[x].to_numpy(dtype=np.float64)
    ys = summary[f"{output}_mean"].to_numpy(dtype=np.float64) * shown.scale
    fig, ax = pyplot().subplots(figsize=(6.4, 4.4))
    ax.scatter(xs, ys, s=6, alpha=0.35, color=OKABE_ITO[1], linewidths=0,
               label=f"each sample (mean over seeds), {len(xs):,} samples")
    bins = pd.qcut(pd.Series(xs), SCATTER_BINS, duplicates="drop")
    # Grouped by bin number (the bins in ascending order), not by Interval objects: the same
    # groups in the same order, without turning 10,000 values into Python objects.
    groups = pd.DataFrame({"x": xs, "y": ys}).groupby(bins.cat.codes.to_numpy())
    stats = groups.agg(x=("x", "mean"), mean=("y", "mean"), sd=("y", "std"), n=("y", "size"))
    half = 1.96 * stats["sd"].fillna(0.0) / np.sqrt(stats["n"])
    ax.fill_between(stats["x"], stats["mean"] - half, stats["mean"] + half,
                    color=OKABE_ITO[4], alpha=0.25, linewidth=0,
                    label="95% interval of the bin mean")
    ax.plot(stats["x"], stats["mean"], color=OKABE_ITO[4], linewidth=1.8, marker="o",
            markersize=3, label=f"mean of the samples in each of {len(stats)} bins")
    others = [c for c in _swept_columns(summary) if c != x]
    ax.set_xlabel(plain_name(x), fontsize=8)
    ax.set_ylabel(output_axis(output), fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False)
    vary = (f"the other {len(others)} swept parameters vary too" if len(others) > 1 else
            f"{plain_name(others[0])} varies too" if others else "")
    ax.set_title(textwrap.fill(title, 70) + (f"\n({vary}: they spread the points)" if vary
                                             else ""), fontsize=9)
    fig.tight_layout()
    return fig


def _swept_columns(summary: pd.DataFrame) -> list[str]:
    """The swept parameters of a summary table: its field-path columns."""
    return [c for c in summary.columns if "." in c]


def sensitivity_figure(table: pd.DataFrame, output: str, design: str,
                       title: str = "") -> plt.Figure:
    """Bar chart of one output's indices: S1 and ST (Sobol) or mu* and sigma (Morris).

    Error bars are the 95 % bootstrap confidence intervals where SALib gives them. Parameters
    read by their plain names; Morris effects are in the output's unit.
    """
    name, shown = output_quantity(output)
    rows = table[table["output"] == output]
    names = list(rows["parameter"])
    pos = np.arange(len(names))
    fig, ax = pyplot().subplots(figsize=(max(5.0, 1.3 * len(names) + 2), 4.2))
    if design == "sobol":
        bars = [("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total ST")]
        ylabel = "Sobol index (dimensionless, 0-1)"
    else:
        bars = [("mu_star", "mu_star_conf", "mu* (mean |effect|)"), ("sigma", None, "sigma")]
        unit = "percentage points" if shown.unit == "%" else shown.unit or "output units"
        ylabel = f"elementary effect on {name}\n({unit})"
    scale = 1.0 if design == "sobol" else shown.scale
    width = 0.38
    for i, (col, conf, label) in enumerate(bars):
        err = rows[conf].to_numpy() * scale if conf else None
        ax.bar(pos + (i - 0.5) * width, rows[col].to_numpy() * scale, width, yerr=err,
               capsize=3, color=OKABE_ITO[i * 3], label=label)
    ax.set_xticks(pos)
    # Break at spaces only: a field path without a plain name stays whole, never cut mid-word.
    ax.set_xticklabels([textwrap.fill(plain_name(n), 18, break_long_words=False,
                                      break_on_hyphens=False) for n in names], fontsize=7)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    ax.set_title(title or f"{design.title()} sensitivity of {name}", fontsize=10)
    fig.tight_layout()
    return fig
