"""One self-contained HTML report for a run folder or a comparison folder.

The page has the scenario's question, its parameters (powers, states, rules, events), the
figures (embedded as base64 PNG data URIs), the tables of one quarter (the last, or ``--at``),
and the chronicle from :mod:`sim.whatif.explain`. Numbers read as :mod:`sim.outputs.units`
formats them: shares in %, stocks in USD bn, spending in USD m per quarter. It has inline CSS
only: no scripts, no fonts, no links to fetch, so it opens offline from a file or an e-mail
attachment. It is written atomically as
``report.html`` inside the folder.

Typical use::

    from sim.whatif.report import write_report
    write_report("results/baseline/s2025-f3c594d878")
"""

from __future__ import annotations

import base64
import html
import os
import tempfile
from pathlib import Path

import pandas as pd

from sim.errors import SimError
from sim.outputs.folders import output_failure, read_manifest
from sim.outputs.names import plain_name
from sim.outputs.readers import TRAJECTORY_COLUMNS, check_run_manifest, read_table
from sim.outputs.units import USD_M_PER_BN, difference_label, format_share, quantity
from sim.scenario import MOVES
from sim.scenario.calendar import step_at
from sim.scenario.moves import MOVE_BY_NAME
from sim.whatif.explain import Chronicle, ExplainError, chronicle

REPORT_NAME = "report.html"

INITIAL_STOCKS = {"footprint": "investment stock", "goodwill": "goodwill",
                  "diplomatic": "diplomatic capital"}
"""The initial stocks a state block gives per power, and how the report names them."""

SHARE_FIELDS = ("threshold", "width")
"""Scenario fields (the last part of a path) that hold shares: the report shows them in %."""

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc;
     padding-bottom: 0.2em; margin-top: 2em; } h3 { margin-bottom: 0.3em; }
.question { font-size: 1.15em; font-style: italic; background: #f4f6f8; padding: 0.6em 1em;
            border-left: 4px solid #0072B2; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.88em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #eef1f4; } td.text, th.text { text-align: left; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
.meta { color: #555; font-size: 0.85em; } .chronicle li { margin: 0.15em 0; }
details { margin: 0.5em 0; } summary { cursor: pointer; font-weight: 600; }
"""


class ReportError(SimError):
    """A folder that is neither a run folder nor a comparison folder."""


def _cell(value: object, digits: int = 3) -> str:
    if isinstance(value, float):
        return f"{value:,.{digits}f}" if abs(value) < 1e15 else f"{value:g}"
    return html.escape(str(value))


def html_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """Render a table (text columns left-aligned, numbers right-aligned, values escaped)."""
    text_columns = {c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])}
    head = "".join(f'<th class="{"text" if c in text_columns else ""}">{html.escape(str(c))}</th>'
                   for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False):
        cells = "".join(
            f'<td class="{"text" if c in text_columns else ""}">{_cell(v, digits)}</td>'
            for c, v in zip(frame.columns, values, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def image_tag(path: Path, alt: str) -> str:
    """Return an ``<img>`` with the PNG embedded as a base64 data URI."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _label(scenario: dict, group: str, key: str) -> str:
    actor = scenario.get(group, {}).get(key, {})
    return actor.get("label") or key.replace("_", " ").title()


def parameter_tables(scenario: dict) -> str:
    """Render the powers, states, rules and events of a resolved scenario (manifest form)."""
    powers = []
    for key, p in scenario.get("powers", {}).items():
        budget = p.get("budget", {})
        reactions = "; ".join(
            f"{_label(scenario, 'powers', rival)}: {r.get('rule')}"
            + (f" (sensitivity {r.get('sensitivity'):g}" + (
                f", threshold {r.get('threshold'):g}" if r.get("rule") == "threshold" else "")
               + ")" if r.get("rule") != "none" else "")
            for rival, r in p.get("reaction", {}).items()
        )
        powers.append({
            "power": _label(scenario, "powers", key),
            **{f"{m.label} ({m.unit})": float(budget.get(m.name, 0.0)) for m in MOVES},
            "risk tolerance": float(p.get("risk_tolerance", 0.0)),
            "visibility": float(p.get("visibility", 0.0)),
            "restraint": float(p.get("restraint", 0.0)),
            "reactions": reactions or "none",
        })
    states, stocks = [], []
    power_keys = list(scenario.get("powers", {}))
    for key, s in scenario.get("states", {}).items():
        states.append({
            "state": _label(scenario, "states", key),
            "stability": float(s.get("stability", 0.0)),
            "border disputes": str(s.get("border_disputes", 0)),
            "openness": float(s.get("openness", 0.0)),
            "autonomy (USD bn)": float(s.get("autonomy", 0.0)) / USD_M_PER_BN,
        })
        initial = s.get("initial", {})
        for p in power_keys:
            stocks.append({
                "state": _label(scenario, "states", key),
                "power": _label(scenario, "powers", p),
                **{f"{name} (USD bn)": float(initial.get(stock, {}).get(p, 0.0)) / USD_M_PER_BN
                   for stock, name in INITIAL_STOCKS.items()},
            })
    parts = ["<h3>Powers</h3>", html_table(pd.DataFrame(powers), 2),
             "<h3>States</h3>", html_table(pd.DataFrame(states), 2)]
    if stocks:
        parts += ["<h3>Initial stocks</h3>", html_table(pd.DataFrame(stocks), 2)]
    rules = _flatten(scenario.get("rules", {}), "rules")
    if rules:
        frame = pd.DataFrame({"rule": list(rules), "value": [str(v) for v in rules.values()]})
        parts += ["<details><summary>Rules</summary>", html_table(frame), "</details>"]
    events = scenario.get("events", [])
    if events:
        rows = [{"event": event_summary(scenario, e), "note": e.get("note") or ""}
                for e in events]
        parts += ["<h3>Events</h3>", html_table(pd.DataFrame(rows))]
    branch = scenario.get("branch")
    if branch:
        parts.insert(0, f"<p>Branched from <b>{html.escape(str(branch.get('from', '')))}</b> at "
                        f"<b>{html.escape(str(branch.get('at', '')))}</b>: identical to it up to "
                        "the quarter before; the changes apply from then on.</p>")
    return "\n".join(parts)


def _flatten(data: object, prefix: str = "") -> dict[str, object]:
    """Flatten nested mappings (and lists) to dotted paths."""
    flat: dict[str, object] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            flat.update(_flatten(value, f"{prefix}.{i}"))
    else:
        flat[prefix] = data
    return flat


def chronicle_html(story: Chronicle) -> str:
    """Render a chronicle as headed lists, one per quarter."""
    parts = [f'<p class="meta">{html.escape(story.title)}</p>']
    if not story.quarters:
        parts.append("<p>Nothing notable happened.</p>")
    for quarter, sentences in story.quarters:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
        parts.append(f'<h3>{html.escape(quarter)}</h3><ul class="chronicle">{items}</ul>')
    if story.why:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in story.why)
        parts.append(f"<h3>Why</h3><ul>{items}</ul>")
    if story.outcome:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in story.outcome)
        parts.append(f"<h3>Outcome</h3><ul>{items}</ul>")
    return "\n".join(parts)


def _quarters(traj: pd.DataFrame) -> list[str]:
    """The quarter labels of a trajectories table, in step order."""
    return list(traj.drop_duplicates("step").sort_values("step")["quarter"].astype(str))


def _shares_at(folder: Path, scenario: dict, at: str | None) -> tuple[str, pd.DataFrame]:
    """Each power's share (%) in each state in one quarter (mean over seeds), and the quarter."""
    traj = read_table(folder / "trajectories.csv", ReportError, TRAJECTORY_COLUMNS)
    step = step_at(_quarters(traj), at)
    rows = traj[traj["step"] == step]
    quarter = str(rows["quarter"].iloc[0])
    mean = rows.groupby(["state", "power"], sort=False)["share"].mean().unstack("power")
    states = [s for s in scenario.get("states", {}) if s in mean.index] or list(mean.index)
    powers = [p for p in scenario.get("powers", {}) if p in mean.columns] or list(mean.columns)
    mean = mean.loc[states, powers]
    frame = pd.DataFrame({"state": [_label(scenario, "states", s) for s in states]})
    for p in powers:
        frame[_label(scenario, "powers", p)] = [format_share(v) for v in mean[p]]
    frame["residual"] = [format_share(1.0 - v) for v in mean.sum(axis=1)]
    return quarter, frame


def _comparison_at(folder: Path, manifest: dict, at: str | None) -> tuple[str, pd.DataFrame]:
    """The comparison's table for one quarter, formatted (from its trajectories.csv)."""
    traj = read_table(folder / "trajectories.csv", ReportError,
                      ("scenario", "step", "quarter", "state", "power", "mean", "difference"))
    step = step_at(_quarters(traj), at)
    rows = traj[traj["step"] == step]
    shown = quantity(manifest.get("metric", "share"))
    labels = manifest.get("labels") or list(dict.fromkeys(rows["scenario"]))
    scenario = (manifest.get("scenarios") or [{}])[0]
    base = rows[rows["scenario"] == labels[0]].set_index(["state", "power"])["mean"]
    table = []
    for label in labels[1:]:
        for r in rows[rows["scenario"] == label].itertuples():
            table.append({
                "scenario": label,
                "state": _label(scenario, "states", r.state),
                "power": _label(scenario, "powers", r.power),
                labels[0]: shown.show(base[(r.state, r.power)]),
                "scenario value": shown.show(r.mean),
                "difference": shown.show(r.difference, signed=True),
                "90% interval": f"[{shown.show(r.difference_p5, signed=True)}, "
                                f"{shown.show(r.difference_p95, signed=True)}]",
            })
    return str(rows["quarter"].iloc[0]), pd.DataFrame(table)


def _meta(manifest: dict) -> str:
    seeds = manifest.get("seeds", [])
    seed_text = (f"seed {seeds[0]}" if len(seeds) == 1
                 else f"{len(seeds)} seeds from {seeds[0]}" if seeds else "")
    items = [seed_text, f"scenario SHA-256 {str(manifest.get('scenario_sha256', ''))[:12]}",
             f"git {str(manifest.get('git_commit') or 'unknown')[:10]}",
             f"sim {manifest.get('versions', {}).get('sim', '?')}",
             f"command: {manifest.get('command', '')}"]
    return f'<p class="meta">{html.escape(" · ".join(i for i in items if i))}</p>'


def html_page(title: str, body: list[str]) -> str:
    """Wrap body parts in a self-contained page (inline CSS, no scripts, nothing to fetch)."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def _figures(folder: Path, names: list[str] | None = None) -> list[str]:
    paths = [folder / n for n in names] if names else sorted(folder.glob("*.png"))
    tags = [image_tag(p, p.stem.replace("_", " ")) for p in paths if p.is_file()]
    return tags or ["<p>No figures in this folder (it was written with --no-plot).</p>"]


def run_report(folder: Path, manifest: dict, at: str | None = None) -> str:
    """Build the HTML page of a run folder, its table at quarter ``at`` (default: the last)."""
    scenario = manifest.get("scenario", {})
    name = scenario.get("name", folder.name)
    body = [f"<h1>{html.escape(name)}</h1>", _meta(manifest)]
    if scenario.get("question"):
        body.append(f'<p class="question">{html.escape(scenario["question"])}</p>')
    if scenario.get("description"):
        body.append(f"<p>{html.escape(scenario['description'])}</p>")
    body += ["<h2>Parameters</h2>", parameter_tables(scenario), "<h2>Figures</h2>",
             *_figures(folder)]
    quarter, shares = _shares_at(folder, scenario, at)
    runs = len(manifest.get("seeds", []))
    over = f" (mean of {runs} runs)" if runs > 1 else ""
    body += [f"<h2>Influence shares in {html.escape(quarter)}{over}</h2>", html_table(shares)]
    body.append(uncertainty_html(manifest))
    body += ["<h2>Chronicle</h2>", chronicle_html(chronicle(folder))]
    return html_page(f"{name}: simulation report", body)


def comparison_report(folder: Path, manifest: dict, at: str | None = None) -> str:
    """Build the HTML page of a comparison folder, its table at quarter ``at`` (or the last)."""
    labels = manifest.get("labels", [])
    scenarios = manifest.get("scenarios", [])
    title = " vs ".join(labels) or folder.name
    body = [f"<h1>{html.escape(title)}</h1>", _meta(manifest)]
    for label, scenario in zip(labels, scenarios, strict=False):
        if scenario.get("question"):
            body.append(f'<p class="question"><b>{html.escape(label)}</b>: '
                        f'{html.escape(scenario["question"])}</p>')
    metric = manifest.get("metric", "share")
    body.append(f"<p>Every scenario was run over the same {len(manifest.get('seeds', []))} "
                f"seeds; differences are paired (same seed) and their interval is the "
                f"5th-95th percentile of the paired differences (90%). Metric: "
                f"<b>{html.escape(quantity(metric).axis)}</b>; differences in "
                f"{html.escape(difference_label(metric))}.</p>")
    body.append(uncertainty_html(manifest))
    body.append("<h2>What differs</h2>")
    body.append(_differences(labels, scenarios))
    if manifest.get("notes"):
        body.append("<h3>Changes that never acted</h3><ul>" + "".join(
            f"<li>{html.escape(note)}</li>" for note in manifest["notes"]) + "</ul>")
    body.append("<h2>Figures</h2>")
    body += _figures(folder, manifest.get("figures") or None)
    quarter, table = _comparison_at(folder, manifest, at)
    body.append(f"<h2>{html.escape(quantity(metric).name)} in {html.escape(quarter)}</h2>")
    body.append(html_table(table))
    body.append("<h2>Parameters</h2>")
    for label, scenario in zip(labels, scenarios, strict=False):
        body += [f"<details><summary>{html.escape(label)}</summary>",
                 parameter_tables(scenario), "</details>"]
    body.append("<h2>Chronicles (first seed)</h2>")
    for label, sub in manifest.get("runs", {}).items():
        try:
            story = chronicle(folder / sub, limit=2)
        except ExplainError as exc:
            body.append(f"<p>{html.escape(label)}: no chronicle ({html.escape(str(exc))})</p>")
            continue
        body += [f"<details><summary>{html.escape(label)}</summary>", chronicle_html(story),
                 "</details>"]
    return html_page(f"{title}: comparison report", body)


def uncertainty_html(manifest: dict) -> str:
    """Say what the bands span: seeds only, or seeds and parameter draws (and which fields).

    Empty for a single run with its parameters as written (it has no band).
    """
    entry = manifest.get("uncertainty") or {}
    runs = len(manifest.get("seeds", []))
    if runs == 1 and entry.get("kind", "none") == "none":
        return ""  # one run as written: no band to qualify
    band = entry.get("band") or f"over {runs} seeds only (parameters as written)"
    text = f"<p><b>Uncertainty</b>: bands and intervals {html.escape(band)}."
    if entry.get("kind", "none") != "none":
        drawn, held = entry.get("drawn", []), entry.get("held", [])
        if isinstance(drawn, dict):  # a comparison: per scenario
            drawn = sorted({p for paths in drawn.values() for p in paths})
            held = [f"{label}: {p}" for label, paths in held.items() for p in paths]
        text += (f" Drawn per replicate (paired across scenarios): "
                 f"{html.escape(', '.join(drawn) or 'none')}.")
        if held:
            text += f" Held at the scenario's value: {html.escape('; '.join(held))}."
        text += f" Source: {html.escape(str(entry.get('source', '')))} (SHA-256 " \
                f"{html.escape(str(entry.get('sha256', ''))[:12])})."
    return text + "</p>"


def _setting_value(key: str, value: object) -> str:
    """A scenario field's value as a strategist reads it (shares in %, nothing for unset)."""
    if value is None or value == "":
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if key.rsplit(".", 1)[-1] in SHARE_FIELDS:
            return format_share(float(value))
        return f"{value:g}"
    return str(value)


def event_summary(scenario: dict, event: dict) -> str:
    """One event of a scenario file in words: when, what, who, where and how much.

    For example "2025Q1: border accord, all states (stability gain 0.03)".
    """
    when = (str(event["at"]) if event.get("at") is not None
            else f"each quarter with probability {event.get('probability'):g}")
    what = str(event.get("kind", "event")).replace("_", " ")
    who = event.get("power")
    where = event.get("states", event.get("state"))
    if isinstance(where, list):
        where = ", ".join(_label(scenario, "states", w) for w in where)
    elif isinstance(where, str) and where != "all":
        where = _label(scenario, "states", where)
    elif where == "all":
        where = "all states"
    head = f"{when}: {what}"
    if who:
        head += f" by {_label(scenario, 'powers', who)}"
    if where:
        head += f", {where}"
    skip = {"kind", "at", "probability", "power", "states", "state", "note", "id", "info"}
    details = []
    for k, v in event.items():
        if k in skip or v is None or v == "" or v == [] or v == 0:
            continue
        if k == "channel" and v in MOVE_BY_NAME:
            details.append(f"{MOVE_BY_NAME[v].noun} budget")
        elif k == "factor" and isinstance(v, int | float):
            details.append(f"x{v:g}")
        elif k.removesuffix("_gain") in INITIAL_STOCKS and isinstance(v, int | float):
            details.append(f"{INITIAL_STOCKS[k.removesuffix('_gain')]} +USD {v:g} m")
        else:
            details.append(f"{k.replace('_', ' ')} {_setting_value(k, v)}")
    return head + (f" ({'; '.join(details)})" if details else "")


def _differences(labels: list[str], scenarios: list[dict]) -> str:
    """What a strategist changed between the scenarios, in words and units.

    Two tables: the settings (powers, states, rules) whose values differ from the first
    scenario's, named in plain words with their units; and the events that are not in every
    scenario, one line each (an event present in all of them is not listed, whatever its
    position in the file). Unset and absent fields count as the same.
    """
    ignore = ("name", "question", "description", "seed", "events", "branch")
    flats = [{k: v for k, v in _flatten(s).items()
              if k.split(".")[0] not in ignore and v is not None} for s in scenarios]
    keys = sorted({k for f in flats for k in f})
    rows = []
    for key in keys:
        values = [f.get(key) for f in flats]
        if any(v != values[0] for v in values[1:]):
            rows.append({"setting": plain_name(key), **{
                label: _setting_value(key, v) for label, v in zip(labels, values, strict=False)}})
    parts = []
    if rows:
        parts.append(html_table(pd.DataFrame(rows)))
    described = [[event_summary(s, e) for e in s.get("events", [])] for s in scenarios]
    everywhere = set.intersection(*(set(d) for d in described)) if described else set()
    events = []
    for text in dict.fromkeys(t for d in described for t in d):
        if text not in everywhere:
            events.append({"event": text, **{label: "yes" if text in d else "no"
                                             for label, d in zip(labels, described,
                                                                 strict=False)}})
    if events:
        parts += ["<h3>Events in some scenarios only</h3>", html_table(pd.DataFrame(events))]
    for label, scenario in zip(labels, scenarios, strict=False):
        branch = scenario.get("branch")
        if branch:
            parts.append(f"<p><b>{html.escape(label)}</b> branches from "
                         f"{html.escape(str(branch.get('from', '')))} at "
                         f"{html.escape(str(branch.get('at', '')))}.</p>")
    if not parts:
        return "<p>The scenarios have identical parameters and events.</p>"
    return "\n".join(parts)


def build_report(folder: str | Path, at: str | None = None) -> str:
    """Return the HTML page for a run folder or a comparison folder.

    Args:
        folder: A folder written by ``sim run`` or ``sim compare``.
        at: The quarter its tables report, e.g. ``2030Q4`` (default: the last).

    Raises:
        ReportError: If the folder is missing or is neither kind of results folder.
        SimError: If ``at`` is not a quarter of the run.

    """
    path = Path(folder)
    manifest = read_manifest(path, ReportError, "a folder written by sim run or sim compare")
    if manifest.get("kind") == "comparison":
        if not (path / "trajectories.csv").is_file():
            raise ReportError(f"{path}: the comparison folder has no trajectories.csv")
        shapes = {"labels": list, "scenarios": list, "runs": dict, "seeds": list}
        bad = [k for k, kind in shapes.items() if not isinstance(manifest.get(k, kind()), kind)]
        if bad or not all(isinstance(s, dict) for s in manifest.get("scenarios", [])):
            raise ReportError(f"{path / 'manifest.json'}: not a comparison manifest written by "
                              f"sim compare ({', '.join(bad) or 'scenarios'} damaged); run the "
                              "comparison again")
        return comparison_report(path, manifest, at)
    if not (path / "trajectories.csv").is_file():
        raise ReportError(f"{path}: not a run folder (no trajectories.csv)")
    check_run_manifest(manifest, path / "manifest.json", ReportError)
    try:
        return run_report(path, manifest, at)
    except ExplainError as exc:  # the chronicle met a damaged file: the report's own words
        raise ReportError(str(exc)) from None


def write_report(folder: str | Path, at: str | None = None) -> Path:
    """Write ``report.html`` inside a run or comparison folder, atomically.

    Args:
        folder: A folder written by ``sim run`` or ``sim compare``.
        at: The quarter its tables report (default: the last).

    Returns:
        The report's path.

    Raises:
        ReportError: If the folder is not a results folder or cannot be written.

    """
    page = build_report(folder, at)
    target = Path(folder) / REPORT_NAME
    try:
        handle, tmp = tempfile.mkstemp(prefix=".tmp-report-", suffix=".html", dir=target.parent)
    except OSError as exc:
        raise ReportError(f"cannot write in {target.parent}: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(page)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ReportError(str(output_failure(exc, target))) from None
        raise
    return target
