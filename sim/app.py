"""The browser dashboard: a live what-if over the influence model (a Solara page).

Sliders set each power's budgets, risk tolerance, visibility and reaction sensitivity, the
border accord and the seed. Every change reruns the whole scenario at once, for
:data:`SEEDS` seeds in one batch of the vectorised engine (tens of milliseconds), and redraws
each power's influence share in each state and its regional total (its mean share over the
states): the mean over the seeds with a band from the 5th to the 95th percentile. A quarter
cursor animates the precomputed run: Step moves it one quarter, Play moves it on by itself.

Start it with ``sim dashboard`` (or ``solara run sim/app.py``), or show it in a notebook::

    from sim.app import dashboard
    dashboard()  # or dashboard("scenarios/my_what_if.yaml", seed=7)

The sliders are built from the scenario (by default scenarios/baseline.yaml; ``sim dashboard
SCENARIO`` or the environment variable ``SIM_DASHBOARD_SCENARIO`` names another), and start at
its values. It is a plain Solara page rather than Mesa's SolaraViz, whose sliders are a Mesa
model's constructor arguments applied one Reset at a time, stepped one quarter per click
(docs/DASHBOARD.md says more).
"""

from __future__ import annotations

import html
import io
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import PIL.Image
import reacton.ipyvuetify as rv
import solara
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.engine import Structure
from sim.outputs.plots import power_style
from sim.outputs.run import run_scenario
from sim.outputs.units import format_share, quantity
from sim.scenario import CHANNELS, MOVES, Scenario, resolve_file, set_path, validate
from sim.scenario.calendar import quarter_of_step

SCENARIO_ENV = "SIM_DASHBOARD_SCENARIO"
"""Environment variable naming the dashboard's scenario file (set by ``sim dashboard``)."""

ACCORD_STEP = 2
"""The step of the accord the "border accord" switch adds (2025Q2 in the baseline)."""

SEEDS = 16
"""Runs in each what-if: the seed slider's value and the 15 seeds after it."""

BAND_PERCENTILES = (5.0, 95.0)
"""The band drawn around each mean: 90% of the seeds' runs lie inside it."""

SETTLE_S = 0.1
"""How long a slider's value must stay before its what-if starts, seconds (a drag sends many)."""

PLAY_INTERVAL_S = 0.35
"""Pause between two quarters while playing, seconds."""

FONT_PT = 12.0
"""Base font size of the figure, points (about 14 px on the page at 1400 px wide)."""

CHANNEL_LABELS = {m.name: m.label for m in MOVES}


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


# ----------------------------------------------------------------------------- the sliders


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


def slider_specs(scenario: str | Path | None = None) -> dict[str, Any]:
    """Describe the dashboard's sliders and switch, at the scenario's values.

    Args:
        scenario: The scenario file (default: :func:`default_scenario`).

    Returns:
        ``{"scenario": path}`` and, per setting of :func:`what_if_scenario`, a description:
        ``type`` (``SliderFloat``, ``SliderInt`` or ``Checkbox``), ``value``, ``label``,
        ``group`` (the power's label, or "Scenario"), ``unit``, and for sliders ``short`` (the
        label beside it, under its group's heading), ``min``, ``max`` and ``step``.

    """
    path = Path(scenario) if scenario is not None else default_scenario()
    data = resolve_file(path)
    validated = validate(data, source=str(path))
    labels = {k: p.label or k.capitalize() for k, p in validated.powers.items()}
    accord_quarter = quarter_of_step(validated.start, ACCORD_STEP)
    specs: dict[str, Any] = {
        "scenario": str(path),
        "accord": {"type": "Checkbox", "value": _has_accord(data), "group": "Scenario",
                   "unit": "", "label": f"Border accord in {accord_quarter} (all states)"},
        "seed": {"type": "SliderInt", "value": validated.seed, "min": 0,
                 "max": max(10_000, validated.seed), "step": 1, "group": "Scenario",
                 "unit": "", "short": f"first seed (of {SEEDS})", "label": "Seed"},
    }
    for name, paths in slider_fields(data).items():
        key, _, what = name.partition("_")
        power = validated.powers[key]
        label = labels[key]
        if what.endswith("_budget"):
            channel = what.removesuffix("_budget")
            value = getattr(power.budget, channel)
            top, step = _nice_max(value, 100.0)
            specs[name] = {"type": "SliderFloat", "value": value, "min": 0.0, "max": top,
                           "step": step, "unit": "USD m",
                           "short": CHANNEL_LABELS[channel],
                           "label": f"{label}: {CHANNEL_LABELS[channel]} (USD m / quarter)"}
        elif what in ("risk_tolerance", "visibility"):
            specs[name] = {"type": "SliderFloat", "value": getattr(power, what), "min": 0.0,
                           "max": 1.0, "step": 0.05, "unit": "",
                           "short": what.replace("_", " "),
                           "label": f"{label}: {what.replace('_', ' ')}"}
        else:
            rivals = [p.split(".")[3] for p in paths]
            value = max(power.reaction[r].sensitivity for r in rivals)
            top, _ = _nice_max(value, 10.0)
            toward = ", ".join(labels[r] for r in rivals)
            specs[name] = {"type": "SliderFloat", "value": value, "min": 0.0, "max": top,
                           "step": 0.1, "unit": "",
                           "short": f"sensitivity to {toward}",
                           "label": f"{label}: reaction sensitivity (to {toward})"}
        specs[name]["group"] = label
    return specs


def start_settings(specs: dict[str, Any]) -> dict[str, Any]:
    """The settings the sliders start at: {keyword: value} of :func:`slider_specs`."""
    return {name: spec["value"] for name, spec in specs.items() if isinstance(spec, dict)}


def what_if_scenario(scenario: str | Path | None = None, accord: bool | None = None,
                     seed: int | None = None, **values: float) -> Scenario:
    """Build the scenario the sliders describe.

    Args:
        scenario: The scenario file the sliders change (default: :func:`default_scenario`).
        accord: True adds a border accord (all states) at step 2 unless the scenario has one;
            False removes the scenario's border accords; None leaves the events as they are.
        seed: First seed; None takes the scenario's.
        **values: Slider values by keyword (see :func:`slider_fields`), e.g.
            ``japan_invest_budget=240.0`` or ``china_reaction_sensitivity=4.0``.

    Returns:
        The validated scenario.

    Raises:
        TypeError: For a keyword that is not a slider of this scenario.
        ScenarioError: If a value is outside what the scenario allows.

    """
    path = Path(scenario) if scenario is not None else default_scenario()
    data = resolve_file(path)
    fields = slider_fields(data)
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise TypeError(f"unknown dashboard setting(s) {', '.join(unknown)}; "
                        f"known: {', '.join(fields)}")
    for name, value in values.items():
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
    return validate(data, source=f"{path} with the dashboard's settings")


# ----------------------------------------------------------------------------- the what-if


@dataclass(frozen=True)
class WhatIf:
    """A what-if's whole run, over :data:`SEEDS` seeds, and its summary.

    Attributes:
        scenario: The scenario run.
        structure: Its compiled structure (states, powers and their labels).
        quarters: Label of each recorded step (step 0, the quarter before the start, first).
        seeds: The runs' seeds (R,).
        share: Influence shares, fractions (T + 1, R, S, P).
        seconds: Wall time of the batch run, seconds.

    """

    scenario: Scenario
    structure: Structure
    quarters: list[str]
    seeds: np.ndarray
    share: np.ndarray
    seconds: float

    @property
    def regional(self) -> np.ndarray:
        """Each power's regional total, its mean share over the states, (T + 1, R, P)."""
        return self.share.mean(axis=2)

    @property
    def steps(self) -> int:
        """Quarters run."""
        return self.share.shape[0] - 1

    def band(self, regional: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean over the seeds and the band (:data:`BAND_PERCENTILES`), fractions.

        Args:
            regional: Summarise the regional totals (T + 1, P) instead of the shares
                (T + 1, S, P).

        Returns:
            (mean, low, high), each without the run axis.

        """
        values = self.regional if regional else self.share
        low, high = np.percentile(values, BAND_PERCENTILES, axis=1)
        return values.mean(axis=1), low, high


def recompute(scenario: str | Path | None = None, **settings: Any) -> WhatIf:
    """Run the scenario the sliders describe for :data:`SEEDS` seeds at once, all quarters.

    Args:
        scenario: The scenario file (default: :func:`default_scenario`).
        **settings: ``accord``, ``seed`` and slider values, as for :func:`what_if_scenario`.

    Returns:
        The what-if (one batch of the vectorised engine: seeds ``seed`` to ``seed + 15``).

    Raises:
        TypeError: For an unknown setting.
        ScenarioError: For a value the scenario does not allow.

    """
    what_if = what_if_scenario(scenario, **settings)
    began = time.perf_counter()
    recording = run_scenario(what_if, replicates=SEEDS)
    seconds = time.perf_counter() - began
    return WhatIf(scenario=what_if, structure=recording.structure, quarters=recording.quarters,
                  seeds=recording.seeds, share=recording.share.astype(np.float64), seconds=seconds)


# ----------------------------------------------------------------------------- the figure


class WhatIfFigure:
    """The what-if's figure: a panel per state and one of the regional totals, a cursor.

    Each power's line is its mean share over the seeds, with the band between the 5th and
    95th percentiles; the line is solid up to the cursor quarter (with a dot there) and dotted
    after it. The bands and dotted lines are drawn once (in the busy time of a recompute);
    moving the cursor redraws only the solid lines, dots, cursor lines and title on that
    background (matplotlib's blitting), so a Step or a Play tick takes a few tens of ms.

    The figure is not registered with pyplot, so nothing needs closing.

    Args:
        what_if: From :func:`recompute`.

    """

    def __init__(self, what_if: WhatIf):
        began = time.perf_counter()
        self.what_if = what_if
        s = what_if.structure
        self.steps = np.arange(what_if.steps + 1)
        scale = quantity("share").scale
        mean, low, high = (x * scale for x in what_if.band())
        r_mean, r_low, r_high = (x * scale for x in what_if.band(regional=True))
        series = [(s.labels[k], mean[:, i], low[:, i], high[:, i])
                  for i, k in enumerate(s.states)]
        series.append(("Region (mean of the states)", r_mean, r_low, r_high))
        self.means = [m for _, m, _, _ in series]
        cols = min(3, len(series))
        rows = -(-len(series) // cols)
        top = float(max(high.max(), r_high.max())) * 1.1
        with matplotlib.rc_context(FIGURE_FONTS):
            self.figure = Figure(figsize=(3.6 * cols, 2.6 * rows + 1.0), dpi=100)
            self.canvas = FigureCanvasAgg(self.figure)
            axes = self.figure.subplots(rows, cols, squeeze=False, sharex=True, sharey=True)
            self.figure.subplots_adjust(left=0.075, right=0.985, top=0.885, bottom=0.14,
                                        wspace=0.07, hspace=0.2)
            self.axes = list(axes.flat[:len(series)])
            for ax in axes.flat[len(series):]:
                ax.set_visible(False)
            self.animated: list[list] = []
            for i, (ax, (title, m, lo, hi)) in enumerate(zip(self.axes, series, strict=True)):
                self.animated.append(self._panel(ax, m, lo, hi))
                ax.set_title(title, fontweight="bold" if i == len(series) - 1 else "normal")
                ax.set_xlim(0, what_if.steps)
                ax.set_ylim(0, top)
                if i % cols == 0:
                    ax.set_ylabel(quantity("share").axis)
                _quarter_ticks(ax, what_if.quarters)
            handles = [Line2D([], [], linewidth=2.4, **power_style(p))
                       for p in range(len(s.powers))]
            handles.append(Patch(color="#888888", alpha=0.3))
            labels = [s.labels[k] for k in s.powers] + ["90% of the seeds' runs"]
            self.figure.legend(handles, labels, loc="lower center", ncol=len(labels),
                               frameon=False)
            seeds = what_if.seeds
            self.title = self.figure.suptitle("", fontsize=FONT_PT + 1, animated=True)
            self.title_text = (f"mean of {len(seeds)} seeds ({seeds[0]}-{seeds[-1]}), band "
                               f"5th-95th percentile")
            self.canvas.draw()
            self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        self.seconds = time.perf_counter() - began
        """Time to draw the figure's background, seconds."""

    def _panel(self, ax, mean: np.ndarray, low: np.ndarray, high: np.ndarray) -> list:
        """Draw a panel's background (bands, dotted means); return its animated artists."""
        artists = []
        for p in range(mean.shape[1]):
            style = power_style(p)
            colour = style["color"]
            ax.fill_between(self.steps, low[:, p], high[:, p], color=colour, alpha=0.2,
                            linewidth=0)
            ax.plot(self.steps, mean[:, p], linewidth=1.4, alpha=0.6, color=colour,
                    linestyle=":")
            solid, = ax.plot([], [], linewidth=2.4, animated=True, **style)
            dot, = ax.plot([], [], marker="o", markersize=6, color=colour, animated=True)
            artists += [solid, dot]
        artists.append(ax.axvline(0, color="#444444", linewidth=1.0, alpha=0.6,
                                  animated=True))
        return artists

    def draw(self, cursor: int) -> None:
        """Draw the cursor's frame on the background."""
        cursor = min(max(int(cursor), 0), self.what_if.steps)
        self.canvas.restore_region(self.background)
        for ax, mean, artists in zip(self.axes, self.means, self.animated, strict=True):
            for p in range(mean.shape[1]):
                solid, dot = artists[2 * p], artists[2 * p + 1]
                solid.set_data(self.steps[:cursor + 1], mean[:cursor + 1, p])
                dot.set_data([cursor], [mean[cursor, p]])
            artists[-1].set_xdata([cursor, cursor])
            for artist in artists:
                ax.draw_artist(artist)
        self.title.set_text(f"Influence share, {self.what_if.quarters[cursor]}: "
                            f"{self.title_text}")
        self.figure.draw_artist(self.title)

    def png(self, cursor: int) -> bytes:
        """The figure at a cursor step, as PNG bytes."""
        self.draw(cursor)
        buffer = io.BytesIO()
        PIL.Image.fromarray(np.asarray(self.canvas.buffer_rgba())).save(
            buffer, format="png", compress_level=1)
        return buffer.getvalue()


def _quarter_ticks(ax, quarters: list[str]) -> None:
    """Mark the start of every year (or second year, for long runs) with the year alone."""
    firsts = [t for t, q in enumerate(quarters) if q.endswith("Q1")]
    if len(firsts) < 2:  # a run shorter than two years: label every quarter
        firsts = list(range(len(quarters)))
        ax.set_xticks(firsts, [quarters[t] for t in firsts])
        return
    every = 1 if len(firsts) <= 5 else 2 if len(firsts) <= 12 else 5
    ticks = firsts[every - 1::every] if every > 1 else firsts
    ax.set_xticks(ticks, [quarters[t][:4] for t in ticks])


FIGURE_FONTS = {"font.size": FONT_PT, "axes.titlesize": FONT_PT + 1, "axes.labelsize": FONT_PT,
                "xtick.labelsize": FONT_PT - 1, "ytick.labelsize": FONT_PT - 1,
                "legend.fontsize": FONT_PT}
"""The figure's font sizes, points."""


def shares_table_html(what_if: WhatIf, cursor: int) -> str:
    """The numbers the figure draws at the cursor and at the end, as an HTML table.

    Args:
        what_if: From :func:`recompute`.
        cursor: The step the cursor is at.

    Returns:
        A row per state and one for the region; per power, its mean share and band at the
        cursor's quarter and at the run's last quarter. Each cell carries ``data-state``,
        ``data-power``, ``data-at`` (``cursor`` or ``end``) and ``data-mean`` (the mean share,
        a fraction, to six digits), so a test can read the plotted numbers.

    """
    s = what_if.structure
    powers = list(s.powers)
    rows = [(k, s.labels[k]) for k in s.states]
    rows.append(("region", "Region (mean)"))
    shares, regional = what_if.band(), what_if.band(regional=True)
    end = what_if.steps
    at = {"cursor": cursor, "end": end}
    head = "".join(f"<th>{html.escape(s.labels[p])}<br>"
                   f"{html.escape(what_if.quarters[step])}</th>"
                   for p in powers for step in at.values())
    body = []
    for r, (key, label) in enumerate(rows):
        cells = []
        for p, power in enumerate(powers):
            for name, step in at.items():
                mean, low, high = ((x[step, p] for x in regional) if key == "region"
                                   else (x[step, r, p] for x in shares))
                cells.append(
                    f'<td data-state="{key}" data-power="{power}" data-at="{name}" '
                    f'data-mean="{mean:.6f}">{format_share(mean)}'
                    f'<span class="band"> [{100 * low:.1f}-{100 * high:.1f}]</span></td>')
        body.append(f"<tr><th>{html.escape(label)}</th>{''.join(cells)}</tr>")
    return (f'<table class="whatif-shares"><thead><tr><th>share, % [90% band]</th>{head}'
            f"</tr></thead><tbody>{''.join(body)}</tbody></table>")


PAGE_CSS = """
.whatif-shares { border-collapse: collapse; font-size: 14px; margin-top: 8px; }
.whatif-shares th, .whatif-shares td { padding: 3px 8px; border-bottom: 1px solid #ddd;
  text-align: right; white-space: nowrap; }
.whatif-shares th:first-child { text-align: left; }
.whatif-shares .band { color: #777; font-size: 12px; }
.whatif-value { font-weight: 600; font-size: 14px; width: 6.5em; flex: none;
  text-align: right; white-space: nowrap; }
.whatif-short { font-size: 14px; color: #444; width: 9em; flex: none; }
.whatif-setting .v-label { display: none; }
.whatif-label, .whatif-status { font-size: 14px; color: #444; margin-left: 6px; }
.whatif-busy { font-size: 14px; font-weight: 600; color: #b35900; margin-left: 6px; }
"""


# ----------------------------------------------------------------------------- the page


def _format_value(spec: dict[str, Any], value: Any) -> str:
    """A slider's value as shown beside it (with its unit)."""
    if spec["type"] == "Checkbox":
        return "on" if value else "off"
    shown = f"{value:g}" if spec["type"] == "SliderFloat" else f"{int(value)}"
    unit = spec.get("unit", "")
    return f"{shown} {unit}".strip()


@solara.component
def SettingSlider(name: str, spec: dict[str, Any], value: Any, on_value) -> None:  # noqa: N802
    """One setting: the slider (or switch) with its short label, its value beside it."""
    if spec["type"] == "Checkbox":
        solara.Checkbox(label=spec["label"], value=bool(value), on_value=on_value)
        return
    cast = int if spec["type"] == "SliderInt" else float
    with rv.Html(tag="div", class_="whatif-setting", attributes={"data-setting": name}):
        with solara.Row(style="align-items: center; flex-wrap: nowrap;", gap="6px"):
            # the slider's own label (its accessible name) is the full one, shown by screen
            # readers; on the page, the short one sits under its power's heading
            solara.HTML(tag="span", unsafe_innerHTML=html.escape(spec["short"]),
                        classes=["whatif-short"])
            rv.Slider(v_model=value, on_v_model=lambda v: on_value(cast(v)), label=spec["label"],
                      min=spec["min"], max=spec["max"], step=spec["step"], thumb_label=False,
                      hide_details=True, dense=True)
            solara.HTML(tag="span", unsafe_innerHTML=html.escape(_format_value(spec, value)),
                        classes=["whatif-value"], attributes={"data-slider": name})


@solara.component
def Controls(cursor: solara.Reactive[int], playing: solara.Reactive[bool],  # noqa: N802
             last: int, quarter: str, ready: bool) -> None:
    """Start, Step, Play/Pause and End of the quarter cursor, and where it is."""

    def step() -> None:  # each click is its own event: clicks made while busy queue up
        cursor.set(min(cursor.value + 1, last))

    def toggle_play() -> None:
        if not playing.value and cursor.value >= last:
            cursor.set(0)
        playing.set(not playing.value)

    with solara.Row(style="align-items: center;", gap="8px"):
        solara.Button("Start", icon_name="mdi-skip-previous", on_click=lambda: cursor.set(0))
        solara.Button("Step", on_click=step, disabled=not ready)
        solara.Button("Pause" if playing.value else "Play",
                      icon_name="mdi-pause" if playing.value else "mdi-play",
                      on_click=toggle_play, disabled=not ready)
        solara.Button("End", icon_name="mdi-skip-next", on_click=lambda: cursor.set(last))
        at = min(cursor.value, last)
        solara.HTML(tag="span", unsafe_innerHTML=html.escape(f"{quarter}: step {at} of {last}"),
                    classes=["whatif-label", "whatif-cursor"], attributes={"data-cursor": str(at)})


@solara.component
def Dashboard(scenario: str | None = None, seed: int | None = None) -> None:  # noqa: N802
    """The dashboard page: sliders on the left; controls, figure and numbers on the right."""
    specs = solara.use_memo(lambda: slider_specs(scenario), [scenario])
    path = specs["scenario"]
    start = solara.use_memo(
        lambda: dict(start_settings(specs), **({} if seed is None else {"seed": int(seed)})),
        [specs, seed])
    settings = solara.use_reactive(start)
    cursor = solara.use_reactive(10**9)  # starts at the end (clipped below)
    playing = solara.use_reactive(False)
    wanted = dict(settings.value)

    def compute() -> WhatIfFigure | None:
        # A dragged slider sends many values: wait a moment, and give up on any value a newer
        # one has replaced (its result would be dropped anyway), so the newest starts sooner.
        time.sleep(SETTLE_S)
        if not result.is_current():
            return None
        what_if = recompute(path, **wanted)
        return WhatIfFigure(what_if) if result.is_current() else None

    result = solara.lab.use_task(compute, dependencies=[tuple(sorted(wanted.items()))],
                                 raise_error=False)
    figure: WhatIfFigure | None = result.latest  # the last finished one, shown while busy
    what_if = figure.what_if if figure is not None else None
    last = what_if.steps if what_if is not None else 0
    at = min(cursor.value, last)

    def play() -> None:
        while playing.value:
            time.sleep(PLAY_INTERVAL_S)
            if not playing.value:
                break
            if cursor.value >= last:
                playing.set(False)
                break
            cursor.set(min(cursor.value, last) + 1)

    solara.lab.use_task(play, dependencies=[playing.value, last], raise_error=False)
    png = solara.use_memo(lambda: figure.png(at) if figure is not None else None, [figure, at])

    def setter(name: str):
        return lambda value: settings.set({**settings.value, name: value})

    solara.Style(PAGE_CSS)
    name = what_if.scenario.name if what_if is not None else Path(path).stem
    solara.HTML(tag="h2", unsafe_innerHTML=html.escape(f"Influence in Central Asia: {name}"))
    with solara.Columns([2, 5]):
        with solara.Column(gap="2px"):
            groups: dict[str, list[str]] = {}
            for key, spec in specs.items():
                if isinstance(spec, dict):
                    groups.setdefault(spec["group"], []).append(key)
            for group, keys in groups.items():
                heading = group if group == "Scenario" else f"{group} (budgets per quarter)"
                solara.HTML(tag="h4", unsafe_innerHTML=html.escape(heading),
                            style="margin: 10px 0 0 0;")
                for key in keys:
                    SettingSlider(key, specs[key], settings.value[key], setter(key))
            solara.Button("Reset", on_click=lambda: settings.set(dict(start)), outlined=True,
                          style="margin-top: 12px;")
            solara.HTML(tag="span", unsafe_innerHTML="Reset puts every slider back to the "
                        "scenario's value.", classes=["whatif-label"])
        with solara.Column(style="position: sticky; top: 0; align-self: flex-start;"):
            with solara.Row(style="align-items: center; flex-wrap: wrap;"):
                Controls(cursor, playing, last, what_if.quarters[at] if what_if else "-",
                         ready=what_if is not None)
                if result.pending:
                    solara.HTML(tag="span", unsafe_innerHTML=f"computing {SEEDS} runs…",
                                classes=["whatif-busy"])
                elif what_if is not None:
                    solara.HTML(tag="span", classes=["whatif-status"], unsafe_innerHTML=(
                        f"{SEEDS} runs x {last} quarters in {1000 * what_if.seconds:.0f} ms, "
                        f"drawn in {1000 * figure.seconds:.0f} ms"))
            solara.ProgressLinear(result.pending)
            if result.error:
                solara.Error(f"These settings cannot run: {result.exception}")
            if png is not None:
                solara.Image(png, width="100%", classes=["whatif-figure"])
                solara.HTML(tag="div", unsafe_innerHTML=shares_table_html(what_if, at))


def dashboard(scenario: str | Path | None = None, seed: int | None = None):
    """Build the dashboard page (a Solara element; display it in a notebook).

    Args:
        scenario: The scenario file (default: :func:`default_scenario`).
        seed: First seed (default: the scenario's).

    Returns:
        A Solara element; display it in a notebook, or serve it with ``solara run``.

    """
    return Dashboard(scenario=str(scenario) if scenario is not None else None, seed=seed)


@solara.component
def Page() -> None:  # noqa: N802
    """The page ``solara run sim/app.py`` (and ``sim dashboard``) serves."""
    Dashboard()
