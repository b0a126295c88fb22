"""What a hindcast shows: the printed tables, a figure per state and the HTML report.

Shares and ratios (``trade_share``, ``remittances_gdp``) are shown in percent and their errors
in percentage points; trade in USD billions. The report is self-contained like
:mod:`sim.whatif.report`: inline CSS and the figures embedded as base64 PNGs.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.history.hindcast_plan import HindcastResult
from sim.history.skill import POOLED
from sim.outputs.plots import panel_grid, power_style, save
from sim.outputs.units import OBSERVABLE_UNITS
from sim.scenario import display_name
from sim.whatif.report import html_page, html_table, image_tag

PERCENT = tuple(o for o, unit in OBSERVABLE_UNITS.items() if unit.startswith("fraction"))
"""Observables that are fractions: shown in percent (errors in percentage points)."""

LABELS = {"trade_share": "trade share (%)", "trade_usd_bn": "trade (USD bn)",
          "remittances_gdp": "remittances (% of GDP)",
          "remittances_usd_bn": "remittances (USD bn)",
          "leadership_approval": "approve of the leadership (%)"}
"""Axis labels of the observables."""

STATE_ORDER = ("kazakhstan", "kyrgyzstan", "tajikistan", "turkmenistan", "uzbekistan", "region")


def fmt(observable: str, value: float, error: bool = False) -> str:
    """Format a value (or an error, ``error=True``) of an observable with its unit."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if observable in PERCENT:
        return f"{100 * value:.1f} pp" if error else f"{100 * value:.1f}%"
    return f"{value:.2f} bn"


def last_observed(result: HindcastResult) -> pd.DataFrame:
    """Each observed series at its last observed year: observation, model mean and 90% band.

    Returns:
        Columns state, partner, observable, year, observed, model_mean, model_p5, model_p95,
        in_band (the observation inside the 90% band).

    """
    table = result.observables
    seen = table[table["observed"].notna()]
    last = seen.sort_values("year").groupby(["observable", "state", "partner"]).tail(1)
    last = last.sort_values(["observable", "state", "partner"], ignore_index=True)
    last["in_band"] = (last["observed"] >= last["model_p5"]) & \
        (last["observed"] <= last["model_p95"])
    return last[["state", "partner", "observable", "year", "observed", "model_mean",
                 "model_p5", "model_p95", "in_band"]]


def last_observed_display(result: HindcastResult) -> pd.DataFrame:
    """:func:`last_observed` with units (percent, USD bn), for printing and the report."""
    rows = []
    for r in last_observed(result).itertuples(index=False):
        o = r.observable
        rows.append({"state": r.state, "partner": r.partner, "observable": o, "year": r.year,
                     "observed": fmt(o, r.observed), "model mean": fmt(o, r.model_mean),
                     "90% band": f"{fmt(o, r.model_p5)} to {fmt(o, r.model_p95)}",
                     "in band": "yes" if r.in_band else "no"})
    return pd.DataFrame(rows)


def skill_display(result: HindcastResult) -> pd.DataFrame:
    """The skill table with units (errors in pp or USD bn), for printing and the report."""
    rows = []
    for r in result.skill.itertuples(index=False):
        o = r.observable
        rows.append({"observable": o, "state": r.state, "partner": r.partner,
                     "years in/out": f"{r.n_calibration}/{r.n_test}",
                     "MAE model": fmt(o, r.mae_model, error=True),
                     "MAE persistence": fmt(o, r.mae_persistence, error=True),
                     "MAE trend": fmt(o, r.mae_trend, error=True),
                     "baseline": r.baseline,
                     "rel. MAE": f"{r.rel_mae:.2f}",
                     "90% interval": interval(r.rel_mae_p5, r.rel_mae_p95),
                     "verdict": r.verdict + (" (pooled)" if r.state == POOLED else "")})
    return pd.DataFrame(rows)


def interval(low: float, high: float) -> str:
    """A bootstrap interval of the relative MAE, e.g. ``0.81-1.12``."""
    if np.isnan(low):
        return "n/a"
    return f"{low:.2f}-{high:.2f}"


def verdicts(result: HindcastResult) -> list[str]:
    """One sentence per observable: does the model beat persistence out of sample?"""
    pooled = result.skill[result.skill["state"] == POOLED]
    lines = []
    for r in pooled.itertuples(index=False):
        lines.append(f"{r.observable}: {r.verdict} after {result.plan.cutoff} (pooled relative "
                     f"MAE {r.rel_mae:.2f}, 90% interval {interval(r.rel_mae_p5, r.rel_mae_p95)}"
                     f", over {r.n_test} test points; baseline: {r.baseline})")
    if not lines:
        lines.append(f"no observed series has observations on both sides of the cut-off "
                     f"{result.plan.cutoff}: no skill can be measured")
    return lines


def rolling_origin(results: list[HindcastResult]) -> pd.DataFrame:
    """The pooled skill of each observable at each cut-off (a rolling origin), one row each.

    Returns:
        Columns cutoff, posterior_cutoff, observable, n_test, rel_mae, rel_mae_p5,
        rel_mae_p95, verdict.

    """
    rows = []
    for result in results:
        pooled = result.skill[result.skill["state"] == POOLED]
        for r in pooled.itertuples(index=False):
            rows.append({"cutoff": result.plan.cutoff,
                         "posterior_cutoff": result.plan.posterior_cutoff,
                         "observable": r.observable, "n_test": r.n_test, "rel_mae": r.rel_mae,
                         "rel_mae_p5": r.rel_mae_p5, "rel_mae_p95": r.rel_mae_p95,
                         "verdict": r.verdict})
    return pd.DataFrame(rows)


def rolling_origin_text(results: list[HindcastResult]) -> str:
    """The printed rolling-origin table: pooled relative MAE by cut-off and observable."""
    table = rolling_origin(results)
    shown = pd.DataFrame({
        "cut-off": table["cutoff"], "fitted through": table["posterior_cutoff"].map(
            lambda c: "as written" if pd.isna(c) else str(int(c))),
        "observable": table["observable"], "test points": table["n_test"],
        "rel. MAE": table["rel_mae"].map(lambda v: f"{v:.2f}"),
        "90% interval": [interval(a, b) for a, b in zip(table["rel_mae_p5"],
                                                         table["rel_mae_p95"], strict=True)],
        "verdict": table["verdict"]})
    return "\nrolling origin (each cut-off with its own fit):\n" + shown.to_string(index=False)


def summary_text(result: HindcastResult) -> str:
    """The tables ``sim hindcast`` prints."""
    plan = result.plan
    parts = [f"{plan.scenario.name}: {plan.years[0]}-{plan.years[-1]}, {plan.n_draws} "
             f"replicates, bands {plan.band}; cut-off {plan.cutoff}",
             "",
             "observed series at their last observed year (model mean and 90% band):"]
    shown_last = last_observed_display(result)
    parts.append(shown_last.to_string(index=False) if len(shown_last) else "  (none)")
    parts += ["", f"out-of-sample skill (years after {plan.cutoff}; relative MAE = model MAE / "
                  "persistence MAE, with its 90% bootstrap interval; a verdict needs 5 or more "
                  "test points):"]
    table = skill_display(result)
    parts.append(table.to_string(index=False) if len(table) else "  (no series to score)")
    parts += [""] + verdicts(result)
    if len(result.skipped):
        parts.append(f"{len(result.skipped)} series not scored (no observation after "
                     "the cut-off): " + "; ".join(
                         f"{r.state}/{r.partner}/{r.observable}"
                         for r in result.skipped.itertuples(index=False)))
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def _panels(table: pd.DataFrame, state: str) -> list[tuple[str, str]]:
    """(observable, partner) pairs with at least one observation in a state."""
    seen = table[(table["state"] == state) & table["observed"].notna()]
    return sorted(set(seen[["observable", "partner"]].itertuples(index=False, name=None)))


def state_figure(result: HindcastResult, state: str) -> Any:
    """One state's figure: a panel per observable x partner with an observation.

    Each panel has the observed points (filled up to the cut-off, hollow after) over the
    model's mean and 90% band, and the cut-off as a dotted vertical line.
    """
    table = result.observables
    plan = result.plan
    powers = list(plan.scenario.powers)
    actors = {**plan.scenario.powers, **plan.scenario.states}

    def name(key: str) -> str:
        actor = actors.get(key)
        return display_name(key, getattr(actor, "label", None))

    panels = _panels(table, state)
    fig, axes = panel_grid(len(panels))
    for ax, (observable, partner) in zip(axes.flat, panels, strict=False):
        rows = table[(table["state"] == state) & (table["partner"] == partner)
                     & (table["observable"] == observable)].sort_values("year")
        years = rows["year"].to_numpy()
        scale = 100.0 if observable in PERCENT else 1.0
        style = power_style(powers.index(partner) if partner in powers else 0)
        ax.fill_between(years, scale * rows["model_p5"], scale * rows["model_p95"],
                        color=style["color"], alpha=0.25, linewidth=0, label="model 90% band")
        ax.plot(years, scale * rows["model_mean"], label="model mean", **style)
        seen = rows[rows["observed"].notna()]
        before = seen[seen["year"] <= plan.cutoff]
        after = seen[seen["year"] > plan.cutoff]
        ax.plot(before["year"], scale * before["observed"], "o", color="black",
                label="observed (calibration)")
        ax.plot(after["year"], scale * after["observed"], "o", markerfacecolor="white",
                color="black", label="observed (out of sample)")
        ax.axvline(plan.cutoff + 0.5, color="#555555", linestyle=":", linewidth=1)
        ax.set_title(f"{name(partner)}: {LABELS.get(observable, observable)}", fontsize=10)
        ax.set_xlim(plan.years[0] - 0.5, plan.years[-1] + 0.5)
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=7, loc="best")
    fig.suptitle(f"{name(state)}: hindcast {plan.years[0]}-{plan.years[-1]}, cut-off {plan.cutoff} "
                 "(dotted line)", fontsize=11)
    # The caption sits under the bottom row's tick labels, in a margin of its own.
    fig.text(0.995, 0.008, f"bands {plan.band}", ha="right", va="bottom", fontsize=7,
             color="#555555")
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.13, top=0.88, wspace=0.22, hspace=0.3)
    return fig


def state_figures(result: HindcastResult, folder: Path) -> list[str]:
    """Save a figure per state with observations (``<state>.png``); return the file names."""
    present = set(result.observables.loc[result.observables["observed"].notna(), "state"])
    names = []
    for state in [s for s in STATE_ORDER if s in present] + sorted(present - set(STATE_ORDER)):
        save(state_figure(result, state), folder / f"{state}.png")
        names.append(f"{state}.png")
    return names


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


def _bands_html(result: HindcastResult) -> str:
    plan = result.plan
    draws = plan.draws
    text = (f"<p><b>What the bands include</b>: the 5th-95th percentiles and the mean over "
            f"{plan.n_draws} replicates, {html.escape(plan.band)}. Each replicate has its own "
            f"seed ({plan.seeds[0]} to {plan.seeds[-1]})")
    if draws.uncertainty.kind == "posterior":
        text += (f" and its own row of the posterior {html.escape(draws.uncertainty.source)} "
                 f"(SHA-256 {draws.uncertainty.sha256[:12]}), drawn with probability "
                 f"proportional to its weight; the fields drawn are "
                 f"{html.escape(', '.join(draws.values) or 'none')}.")
    else:
        text += ("; no posterior was used (<code>--posterior none</code>): every parameter is "
                 "as the scenario writes it, so the bands hold the random noise only and "
                 "understate the uncertainty.")
    return text + "</p>"


def report_html(result: HindcastResult, manifest: dict, figures: list[Path]) -> str:
    """The self-contained HTML report of a hindcast."""
    plan = result.plan
    title = f"{plan.scenario.name}: hindcast {plan.years[0]}-{plan.years[-1]}"
    body = [f"<h1>{html.escape(title)}</h1>",
            f'<p class="meta">{html.escape(manifest.get("hindcast_id", ""))} · scenario '
            f'{html.escape(plan.source)} · observed data {html.escape(plan.observed_folder)} '
            f'(SHA-256 {plan.observed_sha256[:12]}) · git '
            f'{html.escape(str(manifest.get("git_commit") or "unknown")[:10])}</p>',
            f"<p>The model runs from step 0 (the end of {plan.years[0]}) through "
            f"{plan.years[-1]}. It is calibrated on observations up to {plan.cutoff}; later "
            "observations are out of sample. Skill compares the model's mean with two naive "
            "forecasts on the out-of-sample observations: persistence (the last calibration "
            "observation carried forward, or the starting value for a series with none) and a "
            "linear trend fitted on the calibration observations, clipped to the observable's "
            "range. The relative MAE is the model's mean absolute error over persistence's, "
            "with a 90% bootstrap interval over series and years; the model beats persistence "
            "only where the whole interval lies below 1, and no verdict is given on fewer than "
            "5 test points.</p>",
            _bands_html(result),
            "<h2>Out-of-sample skill</h2>",
            "<ul>" + "".join(f"<li>{html.escape(v)}</li>" for v in verdicts(result)) + "</ul>"]
    table = skill_display(result)
    body.append(html_table(table) if len(table) else "<p>No series to score.</p>")
    if len(result.skipped):
        body += ["<h3>Series not scored</h3>", html_table(result.skipped)]
    body += ["<h2>Observed series at their last observed year</h2>"]
    last = last_observed_display(result)
    body.append(html_table(last) if len(last) else "<p>No observation in the run's years.</p>")
    body.append("<h2>Figures</h2>")
    body += [image_tag(p, p.stem) for p in figures] or ["<p>No figures (--no-plot).</p>"]
    if len(result.unmodelled):
        body += ["<h2>Observed series the model does not produce</h2>",
                 html_table(result.unmodelled)]
    return html_page(title, body)
