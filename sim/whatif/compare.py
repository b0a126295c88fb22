"""Compare scenarios over the same seeds: paired differences, their intervals, and figures.

Every scenario is run with the first scenario's replicate seeds (``seed, seed + 1, ...``), each
as one batch. Because the engine's randomness is counter-based, run k of each scenario draws
the same random numbers wherever the scenarios agree, so the difference of run k with run k of
the first scenario (a *paired* difference) isolates the effect of what was changed. The 90%
interval of a difference is the 5th to 95th percentile of those paired differences.

Typical use::

    from sim.whatif.compare import compare_scenarios, write_comparison
    comparison = compare_scenarios([baseline, accord], replicates=30)
    print(comparison.table())
    folder = write_comparison(comparison, out="results")
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.errors import SimError
from sim.limits import check_replicates
from sim.outputs.folders import (
    atomic_folder,
    distinct_safe_names,
    inside,
    manifest,
    safe_name,
    write_csv,
    write_json,
)
from sim.outputs.plots import (
    OKABE_ITO,
    draw_event_numbers,
    event_key,
    event_markers,
    number_events,
    pyplot,
    quarter_ticks,
    save,
)
from sim.outputs.record import Recording
from sim.outputs.run import parameters_table, replicate_seeds, run_scenario, write_run
from sim.outputs.spending import spending_change_figure
from sim.outputs.units import FILE_UNITS, difference_label, folder_units, quantity
from sim.scenario import Scenario
from sim.scenario.calendar import step_at
from sim.uncertainty.draws import no_draws
from sim.uncertainty.source import NONE
from sim.whatif.inert import inert_notes

if TYPE_CHECKING:
    from sim.uncertainty.draws import Draws

COMPARE_METRICS = ("share", "footprint", "goodwill", "diplomatic")
"""Quantities a comparison may be made on (the stocks and the influence share)."""

INTERVAL = (5.0, 95.0)
"""Percentiles bounding the reported interval of a paired difference (a 90% interval)."""


class CompareError(SimError):
    """Scenarios that cannot be compared (different calendars, nothing in common)."""


@dataclass
class Comparison:
    """Several scenarios run over the same seeds, compared with the first.

    Attributes:
        labels: A distinct display label per scenario (its name, or file stem if names clash).
        scenarios: The scenarios as run (each with the first scenario's seed).
        recordings: One recording per scenario, every one with the same seeds.
        seeds: The replicate seeds shared by all scenarios.
        metric: The compared quantity, one of :data:`COMPARE_METRICS`.
        states: State keys common to every scenario (in the first scenario's order).
        powers: Power keys common to every scenario (in the first scenario's order).
        draws: Each scenario's parameter draws (paired: draw i with seed i), or None when
            every scenario runs as written.

    """

    labels: list[str]
    scenarios: list[Scenario]
    recordings: list[Recording]
    seeds: list[int]
    metric: str
    states: list[str]
    powers: list[str]
    draws: list[Draws] | None = None

    @property
    def band(self) -> str:
        """What the bands and intervals span: seeds only, or seeds and parameter draws."""
        uncertainty = self.draws[0].uncertainty if self.draws else NONE
        return uncertainty.band(len(self.seeds))

    @property
    def quarters(self) -> list[str]:
        """Quarter label of each recorded step (shared by all scenarios)."""
        return self.recordings[0].quarters

    @property
    def unit(self) -> str:
        """Unit of the metric in the written tables (a fraction, or USD millions)."""
        return FILE_UNITS[self.metric]

    def notes(self) -> list[str]:
        """Sentences naming the changed fields that never acted (:mod:`sim.whatif.inert`)."""
        out = []
        for label, scenario, recording in zip(self.labels[1:], self.scenarios[1:],
                                              self.recordings[1:], strict=True):
            out += inert_notes(self.scenarios[0], self.recordings[0], scenario, recording, label)
        return out

    def label_of(self, key: str) -> str:
        """Display name of a power or state key (from the first scenario)."""
        return self.recordings[0].structure.labels.get(key, key)

    def values(self, index: int) -> np.ndarray:
        """Return the metric of scenario ``index``, (T + 1, R, S, P), on the common actors."""
        recording = self.recordings[index]
        s_idx = [recording.structure.states.index(s) for s in self.states]
        p_idx = [recording.structure.powers.index(p) for p in self.powers]
        values = getattr(recording, self.metric).astype(np.float64)
        return values[:, :, s_idx][:, :, :, p_idx]

    def difference(self, index: int) -> np.ndarray:
        """Paired difference, scenario ``index`` minus the first, (T + 1, R, S, P)."""
        return self.values(index) - self.values(0)

    def table(self, at: str | None = None) -> pd.DataFrame:
        """Return one quarter's metric for each compared scenario, state and power.

        Columns: scenario, baseline, quarter, state, power, metric, unit, baseline_mean,
        scenario_mean, difference (mean of the paired differences), difference_p5,
        difference_p95 (the 90% interval), runs, band (what the interval spans: seeds only,
        or seeds and parameter draws). Rows of the first scenario against itself are left
        out; with two scenarios there is one row per (state, power).

        Args:
            at: The quarter, e.g. ``2030Q4`` (default: the last).

        Raises:
            SimError: If ``at`` is not a quarter of the run.
        """
        rows = []
        last = step_at(self.quarters, at)
        base = self.values(0)[last]
        for i in range(1, len(self.scenarios)):
            other = self.values(i)[last]
            diff = other - base
            low, high = np.percentile(diff, INTERVAL, axis=0)
            for s, state in enumerate(self.states):
                for p, power in enumerate(self.powers):
                    rows.append({
                        "scenario": self.labels[i], "baseline": self.labels[0],
                        "quarter": self.quarters[last], "state": state, "power": power,
                        "metric": self.metric, "unit": self.unit,
                        "baseline_mean": base[:, s, p].mean(),
                        "scenario_mean": other[:, s, p].mean(),
                        "difference": diff[:, s, p].mean(),
                        "difference_p5": low[s, p], "difference_p95": high[s, p],
                        "runs": diff.shape[0], "band": self.band,
                    })
        return pd.DataFrame(rows)

    def trajectory_table(self) -> pd.DataFrame:
        """Per step: each scenario's mean and 5th-95th percentile, and the paired difference.

        Columns: scenario, step, quarter, state, power, unit, mean, p5, p95, difference,
        difference_p5, difference_p95 (the difference columns are 0 for the first scenario),
        band (what the bands span).
        """
        frames = []
        T1 = len(self.quarters)
        S, P = len(self.states), len(self.powers)
        grid = {
            "step": np.repeat(np.arange(T1), S * P),
            "quarter": np.repeat(np.array(self.quarters), S * P),
            "state": np.tile(np.repeat(np.array(self.states), P), T1),
            "power": np.tile(np.array(self.powers), T1 * S),
        }
        for i, label in enumerate(self.labels):
            values, diff = self.values(i), self.difference(i)
            frame = pd.DataFrame({"scenario": label, **grid, "unit": self.unit})
            frame["mean"] = values.mean(axis=1).reshape(-1)
            low, high = np.percentile(values, INTERVAL, axis=1)
            frame["p5"], frame["p95"] = low.reshape(-1), high.reshape(-1)
            frame["difference"] = diff.mean(axis=1).reshape(-1)
            low, high = np.percentile(diff, INTERVAL, axis=1)
            frame["difference_p5"], frame["difference_p95"] = low.reshape(-1), high.reshape(-1)
            frame["band"] = self.band
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def parameters_table(self) -> pd.DataFrame:
        """Each scenario's drawn values per seed (a held field's cell is empty).

        Columns: scenario, seed, then one per uncertain field path.
        """
        frames = []
        for label, recording in zip(self.labels, self.recordings, strict=True):
            frame = parameters_table(recording)
            frame.insert(0, "scenario", label)
            frames.append(frame)
        paths = self.draws[0].uncertainty.paths if self.draws else ()
        columns = ["scenario", "seed", *[p for p in paths if any(p in f for f in frames)]]
        return pd.concat(frames, ignore_index=True).reindex(columns=columns)

    def digest(self) -> str:
        """SHA-256 of what the comparison depends on: scenarios, seeds, metric, uncertainty."""
        settings = {
            "scenarios": [s.digest() for s in self.scenarios], "seeds": self.seeds,
            "metric": self.metric, "labels": self.labels,
        }
        drawn = [d.digest() for d in self.draws or []]
        if any(drawn):  # parameters as written keep the ids they always had
            settings["uncertainty"] = drawn
        text = json.dumps(settings, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def distinct_labels(scenarios: list[Scenario], sources: list[str] | None = None) -> list[str]:
    """One label per scenario: its name, else its file stem, numbered if still not distinct."""
    names = [s.name for s in scenarios]
    if len(set(names)) < len(names) and sources is not None:
        stems = [Path(p).stem for p in sources]
        names = [stem if names.count(name) > 1 else name for name, stem in zip(names, stems,
                                                                              strict=True)]
    labels: list[str] = []
    for name in names:
        label, k = name, 2
        while label in labels:
            label, k = f"{name} ({k})", k + 1
        labels.append(label)
    return labels


def _common(keys: list[tuple[str, ...]]) -> list[str]:
    """Keys present in every tuple, in the first tuple's order."""
    return [k for k in keys[0] if all(k in other for other in keys[1:])]


def compare_scenarios(
    scenarios: list[Scenario],
    replicates: int = 30,
    metric: str = "share",
    labels: list[str] | None = None,
    draws: list[Draws] | None = None,
) -> Comparison:
    """Run every scenario over the first one's seeds and return the comparison.

    Args:
        scenarios: Two or more validated scenarios; the first is the reference.
        replicates: Seeds per scenario (the first scenario's seed and the following ones).
        metric: One of :data:`COMPARE_METRICS`.
        labels: Display labels (default: :func:`distinct_labels`).
        draws: Each scenario's parameter draws, paired across scenarios (from
            :func:`sim.uncertainty.plan_draws` with ``compared=True``); None runs every
            scenario as written.

    Returns:
        The comparison.

    Raises:
        CompareError: For fewer than two scenarios, an unknown metric, a bad number of
            replicates, different start quarters or lengths, or no state or power in common.
        DivergenceError: If a run's state becomes non-finite.

    """
    if len(scenarios) < 2:
        raise CompareError("give at least two scenarios to compare (the first is the reference)")
    if metric not in COMPARE_METRICS:
        allowed = ", ".join(COMPARE_METRICS)
        raise CompareError(f"--metric {metric!r} is not allowed; choose {allowed}")
    check_replicates(replicates, scenarios[0].seed if scenarios else 0)
    labels = labels or distinct_labels(scenarios)
    base = scenarios[0]
    for label, scenario in zip(labels[1:], scenarios[1:], strict=True):
        if (scenario.start, scenario.steps) != (base.start, base.steps):
            raise CompareError(
                f"{label!r} runs {scenario.steps} quarters from {scenario.start} but {labels[0]!r} "
                f"runs {base.steps} from {base.start}; compare scenarios over the same quarters "
                "(set the same start, or pass --steps)"
            )
    states = _common([tuple(s.state_names) for s in scenarios])
    powers = _common([tuple(s.power_names) for s in scenarios])
    if not states or not powers:
        raise CompareError("the scenarios have no state or no power in common; nothing to compare")
    seeds = replicate_seeds(base.seed, replicates)
    paired = [s if s.seed == base.seed else s.model_copy(update={"seed": base.seed})
              for s in scenarios]
    runs = draws or [None] * len(paired)
    recordings = [run_scenario(s, replicates, d) for s, d in zip(paired, runs, strict=True)]
    return Comparison(labels=list(labels), scenarios=paired, recordings=recordings,
                      seeds=seeds, metric=metric, states=states, powers=powers, draws=draws)


def single_run(recording: Recording, run: int) -> Recording:
    """Return the recording of run ``run`` of a batch, as if it had been run alone."""
    changes = {}
    for f in fields(recording):
        value = getattr(recording, f.name)
        if f.name in ("structure", "scenario"):
            continue
        if f.name == "draws":
            changes[f.name] = value.take(slice(run, run + 1)) if value is not None else None
            continue
        if f.name in ("seeds", "visibility", "diverged_step"):
            changes[f.name] = value[run:run + 1]
        elif f.name == "flows":
            changes[f.name] = {name: flow[:, run:run + 1] for name, flow in value.items()}
        else:
            changes[f.name] = value[:, run:run + 1]
    return replace(recording, **changes)


def format_table(comparison: Comparison, at: str | None = None) -> str:
    """Return one quarter's table (default: the last) as aligned plain text (for the terminal).

    Shares read in %, their differences in percentage points; stocks in USD bn.
    """
    table = comparison.table(at)
    shown = quantity(comparison.metric)
    quarter = table["quarter"].iloc[0]
    lines = [f"{shown.name.lower()} in {quarter}, mean of {len(comparison.seeds)} paired runs; "
             f"difference = scenario - {comparison.labels[0]} in "
             f"{difference_label(comparison.metric)}, 90% interval of the paired differences"]
    head = (f"{'state':<14}{'power':<10}{comparison.labels[0][:16]:>17}{'scenario':>17}"
            f"{'difference':>17}{'90% interval':>30}")
    lines.append(f"intervals {comparison.band}")
    for label in comparison.labels[1:]:
        lines += ["", f"{label} vs {comparison.labels[0]}", head]
        for row in table[table["scenario"] == label].itertuples():
            low, high = (shown.show(v, signed=True)
                         for v in (row.difference_p5, row.difference_p95))
            lines.append(
                f"{comparison.label_of(row.state):<14}{comparison.label_of(row.power):<10}"
                f"{shown.show(row.baseline_mean):>17}{shown.show(row.scenario_mean):>17}"
                f"{shown.show(row.difference, signed=True):>17}{f'[{low}, {high}]':>30}"
            )
    notes = comparison.notes()
    if notes:
        lines += ["", "Notes"] + [f"  - {note}" for note in notes]
    return "\n".join(lines)


def comparison_folder(comparison: Comparison, out: str | Path = "results") -> Path:
    """Where a comparison goes: ``OUT/compare/<label>-vs-<label>-<hash>``, inside ``OUT``."""
    names = "-vs-".join(safe_name(label) for label in comparison.labels)[:80]
    return inside(Path(out), "compare", f"{names}-{comparison.digest()[:10]}")


def write_comparison(comparison: Comparison, out: str | Path = "results", plot: bool = True,
                     folder: Path | None = None) -> Path:
    """Write a comparison's results folder atomically.

    Files: ``last_quarter.csv`` (:meth:`Comparison.table`), ``trajectories.csv``
    (:meth:`Comparison.trajectory_table`), ``parameters.csv`` when parameters are drawn
    (:meth:`Comparison.parameters_table`), one figure per state ``<state>.png``,
    ``manifest.json`` (every resolved scenario, the seeds, the metric) and, for each scenario,
    ``runs/<label>/``: the run folder of its first seed (readable by ``sim explain``).

    Args:
        comparison: From :func:`compare_scenarios`.
        out: Results root.
        plot: Whether to draw the figures.
        folder: Exact destination (default: :func:`comparison_folder`).

    Returns:
        The folder written.

    """
    state_files = distinct_safe_names(comparison.states, "states")
    run_folders = distinct_safe_names(comparison.labels, "scenario labels")
    destination = folder or comparison_folder(comparison, out)
    figures = []
    runs = {}
    with atomic_folder(destination) as tmp:
        write_csv(comparison.table(), tmp / "last_quarter.csv")
        write_csv(comparison.trajectory_table(), tmp / "trajectories.csv")
        if any(d.values for d in comparison.draws or []):
            write_csv(comparison.parameters_table(), tmp / "parameters.csv")
        if plot:
            for s, stem in enumerate(state_files):
                name = f"{stem}.png"
                save(comparison_figure(comparison, s), tmp / name)
                figures.append(name)
            save(comparison_spending_figure(comparison), tmp / "spending.png")
            figures.append("spending.png")
        (tmp / "runs").mkdir()
        for label, sub, recording in zip(comparison.labels, run_folders, comparison.recordings,
                                         strict=True):
            write_run(single_run(recording, 0), plot=False, folder=tmp / "runs" / sub)
            runs[label] = f"runs/{sub}"
        base = comparison.scenarios[0]
        data = manifest(base, comparison.seeds, {
            "kind": "comparison",
            "comparison_id": destination.name,
            "metric": comparison.metric,
            "labels": comparison.labels,
            "scenarios": [s.model_dump(mode="json") for s in comparison.scenarios],
            "scenario_sha256s": [s.digest() for s in comparison.scenarios],
            "states": comparison.states,
            "powers": comparison.powers,
            "figures": figures,
            "runs": runs,
            "interval": "5th-95th percentile of the paired (same-seed) differences",
            "uncertainty": _uncertainty_entry(comparison),
            "notes": comparison.notes(),
            "units": folder_units(tmp),
        })
        write_json(data, tmp / "manifest.json")
    return destination


def _uncertainty_entry(comparison: Comparison) -> dict:
    """The manifest's ``uncertainty``: the band's wording and each scenario's held fields."""
    draws = comparison.draws or [no_draws()] * len(comparison.labels)
    runs = len(comparison.seeds)
    entry = draws[0].manifest(runs)
    entry["drawn"] = {label: d.manifest(runs)["drawn"]
                      for label, d in zip(comparison.labels, draws, strict=True)}
    entry["held"] = {label: list(d.held) for label, d in zip(comparison.labels, draws,
                                                              strict=True)}
    entry.pop("sha256_with_held", None)
    return entry


def comparison_spending_figure(comparison: Comparison):
    """Spending by power and kind of move in each state: each scenario's change vs the first.

    See :func:`sim.outputs.spending.spending_change_figure`.
    """
    names = {key: comparison.label_of(key) for key in [*comparison.states, *comparison.powers]}
    return spending_change_figure(comparison.recordings, comparison.labels, comparison.states,
                                  comparison.powers, names, comparison.band)


def comparison_figure(comparison: Comparison, state: int):
    """One state's figure: every scenario's trajectories with bands, and their difference.

    The top panel has a line per (scenario, power), colour by power and line style by
    scenario (solid for the first), each the mean over runs with a 5th-95th percentile band.
    The bottom panel has the mean paired difference of each other scenario with the first,
    with its 90% band.

    Args:
        comparison: The comparison.
        state: Index into ``comparison.states``.

    Returns:
        The matplotlib figure.

    """
    styles = ["-", "--", ":", "-."]
    shown = quantity(comparison.metric)
    quarters = comparison.quarters
    steps = np.arange(len(quarters))
    fig, (top, bottom) = pyplot().subplots(2, 1, figsize=(8, 7), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
    low_q, high_q = INTERVAL
    for i, label in enumerate(comparison.labels):
        values = comparison.values(i)[:, :, state] * shown.scale
        diff = comparison.difference(i)[:, :, state] * shown.scale
        for p, power in enumerate(comparison.powers):
            colour = OKABE_ITO[p % len(OKABE_ITO)]
            style = styles[i % len(styles)]
            series = values[:, :, p]
            top.plot(steps, series.mean(axis=1), color=colour, linestyle=style, linewidth=1.8,
                     label=f"{comparison.label_of(power)}, {label}")
            low, high = np.percentile(series, INTERVAL, axis=1)
            top.fill_between(steps, low, high, color=colour, alpha=0.12, linewidth=0)
            if i == 0:
                continue
            bottom.plot(steps, diff[:, :, p].mean(axis=1), color=colour, linestyle=style,
                        linewidth=1.8, label=f"{comparison.label_of(power)}, {label}")
            low, high = np.percentile(diff[:, :, p], INTERVAL, axis=1)
            bottom.fill_between(steps, low, high, color=colour, alpha=0.2, linewidth=0)
    bottom.axhline(0.0, color="black", linewidth=0.8)
    top.set_ylabel(shown.axis, fontsize=8)
    bottom.set_ylabel(f"difference vs {comparison.labels[0]},\n"
                      f"{difference_label(comparison.metric)}", fontsize=8)
    if comparison.metric == "share":
        top.set_ylim(bottom=0)
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
        quarter_ticks(ax, quarters)
    numbered = number_events(_state_events(comparison, state))
    for ax in (top, bottom):
        draw_event_numbers(ax, numbered, len(steps))
    handles, labels = top.get_legend_handles_labels()
    key = event_key(numbered, quarters, width=110)
    key_lines = key.count("\n") + 1 if key else 0
    legend_rows = -(-len(labels) // 2)
    bottom_margin = (0.2 + 0.14 * (legend_rows + key_lines)) / fig.get_figheight()
    # Below the panels, so it covers no line or band.
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False, fontsize=7,
               bbox_to_anchor=(0.5, 0.02 + 0.14 * key_lines / fig.get_figheight()))
    if key:
        fig.text(0.01, 0.025, key, ha="left", va="bottom", fontsize=7, color="#333333")
    runs = len(comparison.seeds)
    top.set_title(f"{comparison.label_of(comparison.states[state])}: {shown.name.lower()}"
                  f" (mean of {runs} runs, band: 5th-{high_q:.0f}th percentile)", fontsize=10)
    bottom.set_title(f"paired difference with {comparison.labels[0]} "
                     f"(band: {low_q:.0f}th-{high_q:.0f}th percentile of the differences)",
                     fontsize=9)
    fig.tight_layout(rect=(0, bottom_margin, 1, 1))
    fig.text(0.995, 0.005, f"bands and intervals {comparison.band}", ha="right", va="bottom",
             fontsize=7, color="#555555")
    return fig


def _state_events(comparison: Comparison, state: int) -> list[tuple[int, str, None]]:
    """The events that fired in one state in any compared scenario, as influence.png marks them.

    An event that fired in only some of the scenarios says in which.
    """
    key = comparison.states[state]
    seen: dict[tuple[int, str], list[str]] = {}
    for label, recording in zip(comparison.labels, comparison.recordings, strict=True):
        index = recording.structure.states.index(key)
        for step, text, where in event_markers(recording):
            if where is None or index in where:
                scenarios = seen.setdefault((step, text), [])
                if label not in scenarios:
                    scenarios.append(label)
    everywhere = len(comparison.labels)
    return [(step, text if len(where) == everywhere else f"{text} [{', '.join(where)}]", None)
            for (step, text), where in seen.items()]
