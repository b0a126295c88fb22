"""A strategist's language: units, plain names, --at, the run's figure and event-kind hints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.errors import ScenarioError, SimError
from sim.outputs.names import output_axis, output_quantity, plain_name
from sim.outputs.plots import event_markers, influence_figure
from sim.outputs.run import run_scenario, share_table
from sim.outputs.units import (
    format_share,
    format_share_points,
    format_usd_bn,
    format_usd_m,
    format_usd_m_per_quarter,
    quantity,
)
from sim.scenario import load_scenario
from sim.scenario.calendar import step_at
from sim.scenario.files import resolve_file
from sim.scenario.validation import validate
from sim.sweep.figures import response_figure, sensitivity_figure

DATA = Path(__file__).parent / "data"


# ----------------------------------------------------------------------------- units

@pytest.mark.parametrize(("value", "text"), [
    (0.1234, "12.3%"), (0.0, "0.0%"), (1.0, "100.0%"), (-0.00001, "0.0%"), (float("nan"), "n/a"),
])
def test_format_share(value, text):
    assert format_share(value) == text


def test_share_differences_read_in_percentage_points():
    assert format_share_points(0.0123) == "+1.2 pp"
    assert format_share_points(-0.0123) == "-1.2 pp"
    assert format_share_points(-0.00001) == "+0.0 pp"  # no "-0.0"
    assert quantity("share").show(-0.05, signed=True) == "-5.0 pp"


def test_money_reads_in_usd_bn_and_usd_m_per_quarter():
    assert format_usd_bn(1934.0) == "USD 1.93 bn"
    assert format_usd_bn(-250.0, signed=True) == "-USD 0.25 bn"
    assert format_usd_bn(-0.1, signed=True) == "+USD 0.00 bn"
    assert format_usd_m(1234.56) == "USD 1,234.6 m"
    assert format_usd_m_per_quarter(65.46) == "USD 65.5 m per quarter"
    assert format_usd_m_per_quarter(0.0123) == "USD 0.012 m per quarter"  # small reactions
    assert format_usd_m_per_quarter(3.0, signed=True) == "+USD 3.0 m per quarter"
    assert quantity("footprint").show(2500.0) == "USD 2.50 bn"
    assert quantity("effort").axis == "reactive spending, USD m per quarter"


# ----------------------------------------------------------------------------- plain names

@pytest.mark.parametrize(("path", "name"), [
    ("powers.china.reaction.japan.sensitivity", "China's reaction sensitivity to Japan"),
    ("powers.russia.reaction.japan.threshold", "Russia's reaction threshold for Japan"),
    ("states.turkmenistan.stability", "Turkmenistan: stability"),
    ("rules.hedging", "Hedging strength"),
    ("rules.decay.goodwill", "Decay of goodwill"),
    ("rules.risk.dispute_weight", "Risk per open border dispute"),
    ("powers.japan.budget.invest", "Japan's investment budget, USD m per quarter"),
    ("powers.japan.visibility_by_state.kazakhstan", "Japan's visibility in Kazakhstan"),
    ("powers.japan.risk_tolerance", "Japan's risk tolerance"),
    ("states.kazakhstan.initial.footprint.japan", "Kazakhstan: Japan's initial footprint"),
    ("events.0.factor", "Event 1: factor"),
])
def test_plain_names(path, name):
    assert plain_name(path) == name


@pytest.mark.parametrize("path", ["foo.bar", "powers", "powers.japan.reaction.china.x.y",
                                  "rules.something.new.deep", "states.alpha"])
def test_unknown_paths_read_as_themselves(path):
    assert plain_name(path) == path


def test_output_names_and_units():
    name, shown = output_quantity("influence_end_japan")
    assert name == "Japan's regional influence at the end" and shown.unit == "%"
    assert output_axis("spend_total_china") == "China's total spending, USD bn"
    assert output_axis("n_diverged") == "n_diverged"


# ----------------------------------------------------------------------------- sweep figures

def test_response_figures_carry_plain_names_and_a_colour_scale_with_its_range():
    x, y = "powers.china.reaction.japan.sensitivity", "states.alpha.stability"
    grid = pd.DataFrame({x: np.repeat([0.0, 1.0, 2.0], 2), y: np.tile([0.2, 0.8], 3)})
    grid["influence_end_japan_mean"] = np.linspace(0.05, 0.10, 6)
    grid["influence_end_japan_p5"] = grid["influence_end_japan_mean"] - 0.01
    grid["influence_end_japan_p95"] = grid["influence_end_japan_mean"] + 0.01
    fig = response_figure(grid, "influence_end_japan", x, y)
    heat, bar = fig.axes
    assert heat.get_xlabel() == "China's reaction sensitivity to Japan"
    assert heat.get_ylabel() == "Alpha: stability"
    label = bar.get_ylabel()
    assert label.startswith("Japan's regional influence at the end, %, mean over seeds")
    assert "colours span 5.0% to 10.0%" in label
    np.testing.assert_allclose(heat.images[0].get_array().min(), 5.0)  # in percent
    line = response_figure(grid, "influence_end_japan", x).axes[0]
    assert line.get_xlabel() == "China's reaction sensitivity to Japan"
    assert line.get_ylabel() == "Japan's regional influence at the end, %"
    np.testing.assert_allclose(line.get_lines()[0].get_ydata(), [5.5, 7.5, 9.5])


def test_sensitivity_figure_names_parameters_plainly():
    table = pd.DataFrame({"output": "influence_end_japan", "parameter": ["rules.hedging",
                                                                          "powers.japan.visibility"],
                          "mu_star": [0.01, 0.002], "mu_star_conf": [0.001, 0.001],
                          "sigma": [0.004, 0.001]})
    ax = sensitivity_figure(table, "influence_end_japan", "morris").axes[0]
    ticks = [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()]
    assert ticks == ["Hedging strength", "Japan's visibility"]
    assert "percentage points" in ax.get_ylabel()
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights[-1] == pytest.approx(1.0)  # mu* of 0.01 reads as 1 percentage point


# ----------------------------------------------------------------------------- --at

def test_step_at():
    quarters = ["2024Q4", "2025Q1", "2025Q2"]
    assert step_at(quarters, None) == 2
    assert step_at(quarters, "2025q1") == 1
    assert step_at(quarters, "2024Q4") == 0
    with pytest.raises(SimError, match="outside the run; give a quarter from 2024Q4 to 2025Q2"):
        step_at(quarters, "2025Q3")
    with pytest.raises(SimError, match="not a quarter"):
        step_at(quarters, "next year")


def test_share_table_at_a_quarter():
    recording = run_scenario(load_scenario(DATA / "small.yaml"))
    table = share_table(recording, at="2025Q4")
    assert "2024Q4 -> 2025Q4" in table.splitlines()[1]
    step = recording.quarters.index("2025Q4")
    japan_alpha = recording.share[step, 0, 0, 0]
    assert f"-> {100 * japan_alpha:.1f}%" in table.splitlines()[2]


def test_cli_run_at(tmp_path, capsys):
    assert main(["run", str(DATA / "small.yaml"), "--out", str(tmp_path), "--no-plot",
                 "--at", "2026Q1"]) == 0
    assert "2024Q4 -> 2026Q1" in capsys.readouterr().out
    out = tmp_path / "again"
    assert main(["run", str(DATA / "small.yaml"), "--out", str(out), "--at", "2029Q1"]) == 2
    err = capsys.readouterr().err
    assert "--at 2029Q1: outside the run; give a quarter from 2024Q4 to 2027Q4" in err
    assert not out.exists()  # nothing written


def test_run_manifest_says_the_units(tmp_path):
    assert main(["run", str(DATA / "small.yaml"), "--out", str(tmp_path), "--no-plot",
                 "--quiet"]) == 0
    manifest = json.loads(next(tmp_path.rglob("manifest.json")).read_text())
    assert manifest["units"]["trajectories.csv"]["share"] == "fraction (0-1)"
    assert manifest["units"]["moves.csv"]["amount_usd_m"] == "USD m per quarter"


# ----------------------------------------------------------------------------- the run figure

def test_run_figure_shows_stability_and_the_events_that_fired():
    recording = run_scenario(load_scenario(DATA / "small_accord.yaml"))
    fig = influence_figure(recording)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["Alpha", "Beta"]
    assert panels[0].get_ylabel() == "influence share, %"
    share_line = panels[0].get_lines()[0]
    np.testing.assert_allclose(share_line.get_ydata(), 100 * recording.share[:, 0, 0, 0])
    twins = [ax for ax in fig.axes if ax.get_visible() and not ax.get_title()]
    assert len(twins) == 2  # a stability axis per state
    np.testing.assert_allclose(twins[1].get_lines()[0].get_ydata(),
                               recording.stability[:, 0, 1], rtol=1e-6)
    # the visit (beta, 2025Q3) and the accord (alpha, 2025Q4) as numbered markers, in order
    # of time, named in the key under the panels
    step = {q: t for t, q in enumerate(recording.quarters)}
    texts = {ax.get_title(): [(t.get_position()[0], t.get_text()) for t in ax.texts]
             for ax in panels}
    assert texts["Alpha"] == [(step["2025Q4"], "2")]
    assert texts["Beta"] == [(step["2025Q3"], "1")]
    key = " ".join(t.get_text() for t in fig.texts)
    assert "Events: 1 Japan visit (2025Q3) · 2 accord (2025Q4)" in key
    assert event_markers(recording) == [(step["2025Q3"], "Japan visit", {1}),
                                        (step["2025Q4"], "accord", {0})]


def test_event_marker_says_in_how_many_runs_it_fired(tmp_path):
    data = resolve_file(DATA / "small.yaml")
    data["events"] = [{"kind": "stability_shock", "probability": 0.5, "states": ["alpha"],
                       "delta": -0.1}]
    data["steps"] = 2
    recording = run_scenario(validate(data), replicates=8)
    fired = recording.fired[:, :, 0]
    markers = event_markers(recording)
    assert [m[0] for m in markers] == [int(t) for t in np.nonzero(fired.any(axis=1))[0]]
    for step, label, where in markers:
        count = int(fired[step].sum())
        suffix = f" ({count}/8 runs)" if count < 8 else ""
        assert label == f"shock -0.10{suffix}" and where == {0}


# ----------------------------------------------------------------------------- event kinds

def test_misspelt_event_kind_gets_the_nearest_kind():
    data = resolve_file(DATA / "small.yaml")
    data["events"] = [{"kind": "sumit", "at": "2025Q2", "power": "japan", "states": ["alpha"]}]
    with pytest.raises(ScenarioError) as error:
        validate(data, "x.yaml")
    [problem] = error.value.problems
    assert problem.startswith('events.0.kind: "sumit" is not a kind of event; allowed: ')
    assert problem.endswith("; did you mean summit?")
    assert "tag" not in problem and "discriminator" not in problem


def test_unknown_or_missing_event_kind_lists_the_kinds():
    data = resolve_file(DATA / "small.yaml")
    data["events"] = [{"kind": "parade", "at": "2025Q2"}, {"at": "2025Q2"}]
    with pytest.raises(ScenarioError) as error:
        validate(data, "x.yaml")
    first, second = error.value.problems
    assert "did you mean" not in first and "border_accord, visit, summit" in first
    assert second.startswith("events.1.kind: required field is missing; allowed: border_accord")


def test_cli_reports_the_misspelt_kind(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {DATA / 'small.yaml'}\nevents:\n"
                    "  - {kind: vist, at: 2025Q2, power: japan, state: alpha}\n")
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "did you mean visit?" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_sweep_manifest_says_the_units_and_its_figure_names_plainly(tmp_path):
    from sweep_helpers import write_sweep

    path = write_sweep(tmp_path, plot={"output": "spend_total_japan",
                                       "x": "powers.japan.risk_tolerance"})
    assert main(["sweep", str(path), "--workers", "1", "--out", str(tmp_path / "out"),
                 "--quiet"]) == 0
    manifest = json.loads((tmp_path / "out" / "tiny" / "manifest.json").read_text())
    assert manifest["units"]["runs.parquet"]["influence_end_japan"] == "fraction (0-1)"
    assert manifest["units"]["summary.parquet"]["spend_total_japan_mean"].startswith("USD m")
    summary = pd.read_parquet(tmp_path / "out" / "tiny" / "summary.parquet")
    assert summary["spend_total_japan_mean"].max() > 100  # the file keeps USD millions
    fig = response_figure(summary, "spend_total_japan", "powers.japan.risk_tolerance")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Japan's risk tolerance"
    assert ax.get_ylabel() == "Japan's total spending, USD bn"
    by_x = summary.groupby("powers.japan.risk_tolerance")["spend_total_japan_mean"].mean()
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), by_x.to_numpy() / 1000)


def test_an_actor_key_reads_the_same_everywhere(tmp_path):
    """One display name per actor: ``south_korea`` reads "South Korea" in every front end."""
    from sim.app import slider_specs
    from sim.outputs.names import actor_label
    from sim.outputs.run import write_run
    from sim.scenario import display_name
    from sim.whatif.explain import read_run

    assert display_name("south_korea") == "South Korea"
    assert display_name("south_korea", "ROK") == "ROK"
    data = {"name": "names", "steps": 2, "powers": {
        "south_korea": {"budget": {"invest": 10}, "reaction": {"japan": {"rule": "linear"}}},
        "japan": {"budget": {"invest": 10}, "label": "Nippon"}},
        "states": {"kyrgyz_republic": {}}}
    path = tmp_path / "names.yaml"
    path.write_text(json.dumps(data))
    recording = run_scenario(load_scenario(path))
    assert recording.structure.labels == {"south_korea": "South Korea", "japan": "Nippon",
                                          "kyrgyz_republic": "Kyrgyz Republic"}
    run = read_run(write_run(recording, out=tmp_path / "runs", plot=False))
    assert run.label("south_korea") == "South Korea" and run.label("japan") == "Nippon"
    assert actor_label(run.scenario, "kyrgyz_republic", "states") == "Kyrgyz Republic"
    labels = [str(v.get("label", "")) for v in slider_specs(path).values()
              if isinstance(v, dict)]
    assert any("South Korea" in label for label in labels), labels
    assert not any("South_korea" in label for label in labels), labels
