"""The browser dashboard: Mesa's SolaraViz over the influence model.

Sliders set each power's budgets, risk tolerance, visibility and reaction sensitivity, the
border accord and the seed; Reset builds a new model from them, Step advances one quarter,
Play keeps stepping. Two plots follow the run: each power's influence share in each state, and
each power's regional total (its mean share over the states).

Start it with ``sim dashboard`` (or ``solara run sim/app.py``), or show it in a notebook::

    from sim.app import dashboard
    dashboard()  # or dashboard("scenarios/my_what_if.yaml")

The sliders are built from the scenario (by default scenarios/baseline.yaml; ``sim dashboard
SCENARIO`` or the environment variable ``SIM_DASHBOARD_SCENARIO`` names another), and start at
its values. As in every Mesa dashboard, moving a slider takes effect at the next Reset.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz

from sim.model import InfluenceModel, PowerAgent
from sim.outputs.plots import panel_grid, power_style, quarter_ticks
from sim.outputs.units import format_share, quantity
from sim.scenario import CHANNELS, display_name, resolve_file, set_path, validate
from sim.scenario.calendar import quarter_labels, quarter_of_step

SCENARIO_ENV = "SIM_DASHBOARD_SCENARIO"
"""Environment variable naming the dashboard's scenario file (set by ``sim dashboard``)."""

ACCORD_STEP = 2
"""The step of the accord the "border accord" switch adds (2025Q2 in the baseline)."""

CHANNEL_LABELS = {"invest": "invest", "soft_power": "soft power", "diplomacy": "diplomacy",
                  "destabilise": "destabilise"}


def default_scenario() -> Path:
    """Return the dashboard's scenario file.

    Returns:
        ``$SIM_DASHBOARD_SCENARIO`` if set, else scenarios/baseline.yaml of this checkout, else
        scenarios/baseline.yaml under the current folder.

    """
    if os.environ.get(SCENARIO_ENV):
        return Path(os.environ[SCENARIO_ENV])
    here = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
    return here if here.is_file() else Path("scenarios") / "baseline.yaml"


def _reacting_to(power: dict[str, Any]) -> list[str]:
    """List the rivals a power (raw mapping) reacts to: those with a rule other than none."""
    return [rival for rival, r in (power.get("reaction") or {}).items()
            if (r or {}).get("rule", "none") != "none"]


def slider_fields(data: dict[str, Any]) -> dict[str, list[str]]:
    """Map each slider's keyword to the scenario field paths it sets.

    Per power: its budget for each kind of move (``japan_invest_budget``...), its
    ``risk_tolerance``, ``visibility`` and ``reaction_sensitivity`` (the sensitivity of every
    reaction it has toward a rival; absent if it reacts to none).

    Args:
        data: A raw scenario mapping (as from :func:`~sim.scenario.resolve_file`).

    Returns:
        {keyword: [field path, ...]}, in display order.

    """
    fields: dict[str, list[str]] = {}
    for key, power in data["powers"].items():
        for channel in CHANNELS:
            fields[f"{key}_{channel}_budget"] = [f"powers.{key}.budget.{channel}"]
        fields[f"{key}_risk_tolerance"] = [f"powers.{key}.risk_tolerance"]
        fields[f"{key}_visibility"] = [f"powers.{key}.visibility"]
        rivals = _reacting_to(power)
        if rivals:
            fields[f"{key}_reaction_sensitivity"] = [
                f"powers.{key}.reaction.{rival}.sensitivity" for rival in rivals]
    return fields


def _has_accord(data: dict[str, Any]) -> bool:
    return any(e.get("kind") == "border_accord" for e in data.get("events") or [])


def _nice_max(value: float, floor: float) -> tuple[float, float]:
    """Return a slider's upper end (about three times the value) and its step."""
    top = max(3.0 * value, floor)
    step = 1.0 if top <= 100 else 5.0 if top <= 500 else 10.0
    return float(np.ceil(top / step) * step), step


def model_params(scenario: str | Path | None = None) -> dict[str, Any]:
    """Describe the sliders and switches (SolaraViz's ``model_params``) at the scenario's values.

    Args:
        scenario: The scenario file (default: :func:`default_scenario`).

    Returns:
        {keyword of :class:`DashboardModel`: a Mesa input description, or a fixed value}.

    """
    path = Path(scenario) if scenario is not None else default_scenario()
    data = resolve_file(path)
    validated = validate(data, source=str(path))
    labels = {k: display_name(k, p.label) for k, p in validated.powers.items()}
    accord_quarter = quarter_of_step(validated.start, ACCORD_STEP)
    params: dict[str, Any] = {
        "scenario": str(path),
        "accord": {"type": "Checkbox", "value": _has_accord(data),
                   "label": f"Border accord in {accord_quarter} (all states)"},
        "seed": {"type": "SliderInt", "value": validated.seed, "min": 0,
                 "max": max(10_000, validated.seed), "step": 1, "label": "Seed"},
    }
    for name, paths in slider_fields(data).items():
        key = paths[0].split(".")[1]  # the power's key may itself hold "_" (south_korea)
        what = name.removeprefix(f"{key}_")
        power = validated.powers[key]
        label = labels[key]
        if what.endswith("_budget"):
            channel = what.removesuffix("_budget")
            value = getattr(power.budget, channel)
            top, step = _nice_max(value, 100.0)
            params[name] = {"type": "SliderFloat", "value": value, "min": 0.0, "max": top,
                            "step": step,
                            "label": f"{label}: {CHANNEL_LABELS[channel]} (USD m / quarter)"}
        elif what in ("risk_tolerance", "visibility"):
            params[name] = {"type": "SliderFloat", "value": getattr(power, what), "min": 0.0,
                            "max": 1.0, "step": 0.05,
                            "label": f"{label}: {what.replace('_', ' ')}"}
        else:
            rivals = [p.split(".")[3] for p in paths]
            value = max(power.reaction[r].sensitivity for r in rivals)
            top, _ = _nice_max(value, 10.0)
            toward = ", ".join(labels[r] for r in rivals)
            params[name] = {"type": "SliderFloat", "value": value, "min": 0.0, "max": top,
                            "step": 0.1,
                            "label": f"{label}: reaction sensitivity (to {toward})"}
    return params


class DashboardModel(InfluenceModel):
    """The influence model built from the dashboard's sliders.

    Args:
        scenario: The scenario file the sliders change.
        accord: True adds a border accord (all states) at step 2 unless the scenario has one;
            False removes the scenario's border accords; None leaves the events as they are.
        seed: Random seed; None takes the scenario's.
        **kwargs: Slider values by keyword (see :func:`slider_fields`), e.g.
            ``japan_invest_budget=240.0`` or ``china_reaction_sensitivity=4.0``.

    Raises:
        TypeError: For a keyword that is not a slider of this scenario.
        ScenarioError: If a value is outside what the scenario allows.

    """

    def __init__(self, scenario: str | Path | None = None, accord: bool | None = None,
                 seed: int | None = None, **kwargs: float):
        path = Path(scenario) if scenario is not None else default_scenario()
        data = resolve_file(path)
        fields = slider_fields(data)
        unknown = sorted(set(kwargs) - set(fields))
        if unknown:
            raise TypeError(f"unknown dashboard setting(s) {', '.join(unknown)}; "
                            f"known: {', '.join(fields)}")
        for name, value in kwargs.items():
            for field in fields[name]:
                set_path(data, field, value, source="dashboard")
        if accord is not None:
            events = list(data.get("events") or [])
            if not accord:
                events = [e for e in events if e.get("kind") != "border_accord"]
            elif not _has_accord(data):
                events.append({"kind": "border_accord", "at": ACCORD_STEP, "states": "all",
                               "note": "border accord (dashboard switch)"})
            data["events"] = events
        if seed is not None:
            data["seed"] = int(seed)
        super().__init__(validate(data, source=f"{path} with the dashboard's settings"))
        self.settings = dict(kwargs, accord=accord, seed=self.scenario.seed)


def _share_history(model: InfluenceModel) -> np.ndarray:
    """Return the influence shares collected so far, (collections, states, powers)."""
    frame = model.datacollector.get_model_vars_dataframe()
    s = model.structure
    columns = [f"{state}/{power}" for state in s.states for power in s.powers]
    values = frame[columns].to_numpy(dtype=np.float64)
    return values.reshape(len(frame), s.n_states, len(s.powers))


def shares_figure(model: InfluenceModel) -> Figure:
    """Plot each power's influence share in each state so far, over the run's quarters.

    Args:
        model: The model (its DataCollector's ``state/power`` columns).

    Returns:
        One panel per state and a line per power; the x axis spans the run.

    """
    s = model.structure
    history = _share_history(model)
    quarters = quarter_labels(s.start, model.scenario.steps)
    fig, axes = panel_grid(s.n_states)
    fig.set_size_inches(7.6, 4.8)
    steps = np.arange(len(history))
    shown = quantity("share")
    history = history * shown.scale
    top = max(0.1 * shown.scale, float(history.max()) * 1.15)
    for i, state in enumerate(s.states):
        ax = axes.flat[i]
        for p, power in enumerate(s.powers):
            style = power_style(p)
            ax.plot(steps, history[:, i, p], label=s.labels[power], linewidth=1.8, **style)
            ax.plot(steps[-1:], history[-1:, i, p], marker="o", markersize=4,
                    color=style["color"])
        ax.set_title(s.labels[state], fontsize=9)
        ax.set_xlim(0, model.scenario.steps)
        ax.set_ylim(0, top)
        if i % axes.shape[1] == 0:
            ax.set_ylabel(shown.axis, fontsize=8)
        ax.grid(alpha=0.3)
        quarter_ticks(ax, quarters)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.suptitle(f"Influence share by state, {model.quarter}", fontsize=10)
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    return fig


def regional_figure(model: InfluenceModel) -> Figure:
    """Plot each power's regional total so far: its mean influence share over the states.

    Args:
        model: The model (its DataCollector's PowerAgent ``regional_share``).

    Returns:
        A line per power; the x axis spans the run.

    """
    s = model.structure
    frame = model.datacollector.get_agenttype_vars_dataframe(PowerAgent).reset_index()
    table = frame.pivot(index="Step", columns="power", values="regional_share")
    quarters = quarter_labels(s.start, model.scenario.steps)
    fig = Figure(figsize=(6.0, 3.6))
    ax = fig.subplots()
    for p, power in enumerate(s.powers):
        steps = table.index.to_numpy()
        values = table[power].to_numpy(dtype=float) * quantity("share").scale
        style = power_style(p)
        ax.plot(steps, values, label=s.labels[power], linewidth=2, **style)
        ax.plot(steps[-1:], values[-1:], marker="o", markersize=5, color=style["color"])
    ax.set_xlim(0, model.scenario.steps)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("mean influence share over the states, %", fontsize=8)
    ax.set_title(f"Regional total by power, {model.quarter}", fontsize=10)
    ax.grid(alpha=0.3)
    quarter_ticks(ax, quarters)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def settings_markdown(model: InfluenceModel) -> str:
    """Describe the model's settings and where it stands, as a Markdown table.

    Args:
        model: The model shown.

    Returns:
        The quarter, seed and accord, and per power its budgets (USD millions per quarter),
        risk tolerance, visibility, reaction sensitivities and regional share now.

    """
    sc = model.scenario
    accord = [e for e in sc.events if e.kind == "border_accord"]
    when = ", ".join(
        (quarter_of_step(sc.start, e.at) if isinstance(e.at, int) else e.at)
        if e.at is not None else f"probability {e.probability:g} per quarter"
        for e in accord) or "none"
    lines = [
        f"**{model.quarter}**: step {model.state.step} of {sc.steps}; seed {sc.seed}; "
        f"border accord: {when}",
        "",
        "| power | invest | soft power | diplomacy | destabilise | risk tolerance "
        "| visibility | reaction sensitivity | regional share |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, agent in model.powers.items():
        power = sc.powers[key]
        b = power.budget
        reactions = ", ".join(f"{model.structure.labels[r]} {x.sensitivity:g}"
                              for r, x in power.reaction.items() if x.rule != "none") or "-"
        lines.append(
            f"| {agent.label} | {b.invest:g} | {b.soft_power:g} | {b.diplomacy:g} "
            f"| {b.destabilise:g} | {power.risk_tolerance:g} | {power.visibility:g} "
            f"| {reactions} | {format_share(agent.regional_share)} |")
    lines += ["", "Budgets in USD millions per quarter. Moving a slider takes effect when you "
              "press **Reset**; **Step** advances one quarter, **▶** plays."]
    return "\n".join(lines)


def SharesByState(model: InfluenceModel):  # noqa: N802 (a Solara component)
    """Dashboard plot: each power's influence share in each state."""
    return solara.FigureMatplotlib(shares_figure(model), format="png")


def RegionalTotals(model: InfluenceModel):  # noqa: N802 (a Solara component)
    """Dashboard plot: each power's regional total (mean share over the states)."""
    return solara.FigureMatplotlib(regional_figure(model), format="png")


def Settings(model: InfluenceModel):  # noqa: N802 (a Solara component)
    """Dashboard table: the settings the model was built with, and the quarter it is at."""
    return solara.Markdown(settings_markdown(model))


def dashboard(scenario: str | Path | None = None, seed: int | None = None,
              model: solara.Reactive[DashboardModel] | None = None):
    """Build the dashboard page: SolaraViz with the sliders, controls and plots.

    Args:
        scenario: The scenario file (default: :func:`default_scenario`).
        seed: Seed of the first model (default: the scenario's).
        model: A reactive holder for the model shown; Reset puts the new model in it (default:
            a new one holding the model built from the sliders' starting values).

    Returns:
        A Solara element; display it in a notebook, or serve it with ``solara run``.

    """
    params = model_params(scenario)
    if seed is not None:
        params["seed"]["value"] = seed
    if model is None:
        start = {name: spec["value"] for name, spec in params.items() if isinstance(spec, dict)}
        model = solara.reactive(DashboardModel(scenario=params["scenario"], **start))
    name = f"Influence in Central Asia: {model.value.scenario.name}"
    return SolaraViz(model, components=[(SharesByState, 0), (RegionalTotals, 0), (Settings, 0)],
                     model_params=params, name=name)


page = dashboard()
"""The page ``solara run sim/app.py`` serves."""
