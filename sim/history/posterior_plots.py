"""Figures of a weighted posterior sample: marginals over the prior's range, and pairs."""

from __future__ import annotations

import textwrap

import numpy as np

from sim.outputs.names import plain_name

MAX_POINTS = 1000
"""Most particles a pairs panel draws (resampled by weight, with a fixed seed)."""


HISTORY_NAMES = {
    "history:events.china_investment_2015.factor":
        "China's investment budget from 2015, share of 2024's",
    "history:events.russia_investment_2015.factor":
        "Russia's investment budget from 2015, share of 2024's",
}
"""What the history scenario's fitted inputs are (events 0-3 of scenarios/history/2015.yaml,
the budget changes its comments describe)."""


def _short(name: str) -> str:
    """What a fitted parameter is, in words (its field path if no plain name is known)."""
    return HISTORY_NAMES.get(name) or plain_name(name)


def marginals_figure(particles: np.ndarray, weights: np.ndarray, names: tuple[str, ...],
                     bounds: list[tuple[float, float]], truth: np.ndarray | None = None):
    """Weighted histograms of each parameter over its prior's range (the prior is flat).

    Args:
        particles: (n, d) posterior sample.
        weights: (n,) normalised weights.
        names: Parameter names.
        bounds: Each parameter's prior range.
        truth: Optional true values to mark (a recovery test).

    Returns:
        The matplotlib figure.
    """
    import matplotlib.pyplot as plt

    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    flat = np.ravel(axes)
    for j, name in enumerate(names):
        ax = flat[j]
        low, high = bounds[j]
        ax.hist(particles[:, j], bins=30, range=(low, high), weights=weights, density=True,
                color="#4c72b0", alpha=0.8, label="posterior")
        ax.axhline(1.0 / (high - low), color="grey", linestyle="--", linewidth=1, label="prior")
        mean = float(weights @ particles[:, j])
        ax.axvline(mean, color="black", linewidth=1, label="mean")
        if truth is not None:
            ax.axvline(truth[j], color="#c44e52", linewidth=1.5, label="true value")
        ax.set_title(textwrap.fill(_short(name), 42), fontsize=9)
        ax.set_xlim(low, high)
    for ax in flat[len(names):]:
        ax.set_visible(False)
    flat[0].legend(fontsize=7)
    fig.suptitle("Posterior marginals (weighted) against the uniform prior")
    fig.tight_layout()
    return fig


def pairs_figure(particles: np.ndarray, weights: np.ndarray, names: tuple[str, ...],
                 bounds: list[tuple[float, float]]):
    """Scatter plots of every pair of parameters, from a weighted resample of the particles."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    d = len(names)
    rng = np.random.default_rng(0)
    pick = rng.choice(len(particles), size=min(MAX_POINTS, len(particles)), p=weights)
    sample = particles[pick]
    fig, axes = plt.subplots(d, d, figsize=(1.6 * d, 1.6 * d), squeeze=False)
    fig.subplots_adjust(left=0.12, right=0.99, bottom=0.12, top=0.95, wspace=0.08, hspace=0.08)
    for i in range(d):
        for j in range(d):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                ax.hist(particles[:, j], bins=25, range=bounds[j], weights=weights,
                        color="#4c72b0")
                ax.set_yticks([])
            else:
                ax.scatter(sample[:, j], sample[:, i], s=1, alpha=0.4, color="#4c72b0",
                           rasterized=True)
                ax.set_ylim(*bounds[i])
            ax.set_xlim(*bounds[j])
            ax.tick_params(labelsize=5, length=2)
            ax.xaxis.set_major_locator(MaxNLocator(3))
            if i != j:
                ax.yaxis.set_major_locator(MaxNLocator(3))
            if i < d - 1:
                ax.set_xticklabels([])
            else:
                ax.set_xlabel(textwrap.fill(_short(names[j]), 22), fontsize=6)
            if j > 0:
                ax.set_yticklabels([])
            elif i > 0:
                ax.set_ylabel(textwrap.fill(_short(names[i]), 22), fontsize=6)
    fig.suptitle("Posterior pairs (a weighted resample)", fontsize=9)
    return fig
