"""The dashboard (sim/app.py): the sliders, the what-if recompute, its figure and numbers, and
the page rendered headless (no browser: tests/test_dashboard_browser.py drives Chromium)."""

from __future__ import annotations

import os
import time

os.environ.setdefault("SOLARA_CHECK_HOOKS", "off")

import ipyvuetify as v  # noqa: E402
import ipywidgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import solara  # noqa: E402

from sim import app  # noqa: E402
from sim.errors import ScenarioError  # noqa: E402
from sim.outputs.run import run_scenario  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

BASELINE = app.default_scenario()


@pytest.fixture(scope="module")
def baseline_what_if() -> app.WhatIf:
    return app.recompute(BASELINE)


# ----------------------------------------------------------------------------- the sliders


def test_every_power_has_its_sliders():
    specs = app.slider_specs(BASELINE)
    scenario = load_scenario(BASELINE)
    for key, power in scenario.powers.items():
        for channel in ("invest", "soft_power", "diplomacy", "destabilise"):
            assert specs[f"{key}_{channel}_budget"]["value"] == getattr(power.budget, channel)
        assert specs[f"{key}_risk_tolerance"]["value"] == power.risk_tolerance
        assert specs[f"{key}_visibility"]["value"] == power.visibility
        reacting = [r for r, x in power.reaction.items() if x.rule != "none"]
        if reacting:
            spec = specs[f"{key}_reaction_sensitivity"]
            assert spec["value"] == max(power.reaction[r].sensitivity for r in reacting)
    assert specs["seed"]["value"] == scenario.seed
    assert specs["accord"]["value"] is False
    assert specs["accord"]["label"] == "Border accord in 2025Q2 (all states)"
    assert specs["china_reaction_sensitivity"]["short"] == "sensitivity to Japan"
    for spec in specs.values():
        if isinstance(spec, dict) and spec["type"] != "Checkbox":
            assert spec["min"] <= spec["value"] <= spec["max"]


def test_starting_values_give_the_scenario_itself():
    start = app.start_settings(app.slider_specs(BASELINE))
    assert app.what_if_scenario(BASELINE, **start).digest() == load_scenario(BASELINE).digest()


def test_a_slider_sets_its_scenario_field():
    sc = app.what_if_scenario(BASELINE, japan_invest_budget=240.0,
                              china_reaction_sensitivity=4.5, russia_visibility=0.9, seed=11)
    assert sc.powers["japan"].budget.invest == 240.0
    assert sc.powers["china"].reaction["japan"].sensitivity == 4.5
    assert sc.powers["russia"].visibility == 0.9
    assert sc.seed == 11


def test_accord_switch_adds_and_removes_the_accord(tmp_path):
    on = app.what_if_scenario(BASELINE, accord=True)
    accords = [e for e in on.events if e.kind == "border_accord"]
    assert len(accords) == 1 and accords[0].states == "all"
    assert on.event_step(accords[0]) == app.ACCORD_STEP
    with_accord = tmp_path / "accord.yaml"
    with_accord.write_text(
        f"extends: {BASELINE}\nevents:\n  - {{kind: border_accord, at: 2026Q1}}\n")
    assert app.slider_specs(with_accord)["accord"]["value"] is True
    assert len(app.what_if_scenario(with_accord, accord=True).events) == 1
    assert app.what_if_scenario(with_accord, accord=False).events == []


def test_bad_settings_are_refused_with_the_field():
    with pytest.raises(TypeError, match="japan_invest_bugdet"):
        app.what_if_scenario(BASELINE, japan_invest_bugdet=100.0)
    with pytest.raises(ScenarioError, match=r"powers\.japan\.visibility"):
        app.what_if_scenario(BASELINE, japan_visibility=1.5)


def test_environment_variable_names_the_scenario(tmp_path, monkeypatch):
    other = tmp_path / "other.yaml"
    other.write_text(f"extends: {BASELINE}\nname: other\nseed: 99\n")
    monkeypatch.setenv(app.SCENARIO_ENV, str(other))
    assert app.default_scenario() == other
    assert app.slider_specs()["seed"]["value"] == 99
    assert app.what_if_scenario().name == "other"


# ----------------------------------------------------------------------------- the recompute


def test_recompute_runs_every_quarter_for_every_seed(baseline_what_if):
    w = baseline_what_if
    scenario = load_scenario(BASELINE)
    assert w.share.shape == (scenario.steps + 1, app.SEEDS, 5, 3)
    assert list(w.seeds) == list(range(scenario.seed, scenario.seed + app.SEEDS))
    # the same numbers as `sim run --replicates 16`: one batch of the engine
    np.testing.assert_array_equal(w.share, run_scenario(scenario, replicates=app.SEEDS).share)
    mean, low, high = w.band()
    np.testing.assert_allclose(mean, w.share.mean(axis=1))
    np.testing.assert_allclose(low, np.percentile(w.share, 5, axis=1))
    assert (low <= mean + 1e-12).all() and (mean <= high + 1e-12).all()
    assert (high - low).max() > 0  # the seeds differ: the band is a real band
    r_mean, _, _ = w.band(regional=True)
    np.testing.assert_allclose(r_mean, w.share.mean(axis=2).mean(axis=1))


def test_a_slider_changes_the_recomputed_run(baseline_what_if):
    more = app.recompute(BASELINE, japan_invest_budget=450.0)
    kazakhstan, japan = 0, 0
    end = baseline_what_if.steps
    assert more.share[end, :, kazakhstan, japan].mean() > (
        baseline_what_if.share[end, :, kazakhstan, japan].mean() + 0.01)
    np.testing.assert_array_equal(more.share[0], baseline_what_if.share[0])  # same start
    again = app.recompute(BASELINE, japan_invest_budget=450.0)
    np.testing.assert_array_equal(again.share, more.share)  # deterministic
    assert 0 < more.seconds < 30


def test_bad_settings_do_not_recompute():
    with pytest.raises(ScenarioError):
        app.recompute(BASELINE, japan_visibility=1.5)


# ----------------------------------------------------------------------------- the figure


def test_figure_draws_the_means_and_bands_and_moves_its_cursor(baseline_what_if):
    w = baseline_what_if
    figures_before = plt.get_fignums()
    fig = app.WhatIfFigure(w)
    assert plt.get_fignums() == figures_before  # nothing for pyplot to keep open
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["Kazakhstan", "Kyrgyzstan", "Tajikistan", "Turkmenistan", "Uzbekistan",
                      "Region (mean of the states)"]
    mean, _, high = w.band()
    dotted = fig.axes[3].get_lines()[0]  # Turkmenistan, Japan, the whole run
    np.testing.assert_allclose(dotted.get_ydata(), 100 * mean[:, 3, 0])
    bands = fig.axes[3].collections
    assert len(bands) == 3  # one per power
    np.testing.assert_allclose(bands[1].get_paths()[0].vertices[:, 1].max(),
                               100 * high[:, 3, 1].max())
    first, later = fig.png(0), fig.png(20)
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and first != later
    solid = fig.animated[5][2]  # region, China, solid up to the cursor
    np.testing.assert_allclose(solid.get_ydata(), 100 * w.band(regional=True)[0][:21, 1])
    assert fig.title.get_text().startswith(f"Influence share, {w.quarters[20]}")
    assert fig.png(20) == later  # the same cursor, the same picture


def test_figure_fonts_are_readable(baseline_what_if):
    fig = app.WhatIfFigure(baseline_what_if)
    sizes = [t.get_fontsize() for ax in fig.axes
             for t in [*ax.get_xticklabels(), *ax.get_yticklabels(), ax.title]]
    assert min(sizes) >= app.FONT_PT - 1 >= 11
    width_px = fig.figure.get_figwidth() * fig.figure.dpi
    assert width_px <= 1100  # shown at ~960 px of a 1400 px page: 11 pt stays >= 13 px


def test_table_holds_the_plotted_numbers(baseline_what_if):
    w = baseline_what_if
    text = app.shares_table_html(w, 8)
    mean, low, high = w.band()
    value = mean[w.steps, 1, 2]  # Kyrgyzstan, Russia, the end
    cell = (f'data-state="kyrgyzstan" data-power="russia" data-at="end" '
            f'data-mean="{value:.6f}">{100 * value:.1f}%')
    assert cell in text
    assert f'data-state="region" data-power="china" data-at="cursor" data-mean="' \
           f'{w.band(regional=True)[0][8, 1]:.6f}"' in text
    assert f"[{100 * low[w.steps, 1, 2]:.1f}-{100 * high[w.steps, 1, 2]:.1f}]" in text
    assert f"China<br>{w.quarters[8]}" in text


# ----------------------------------------------------------------------------- the page


def wait_until(condition, timeout_s: float = 60.0) -> None:
    """Wait for ``condition()``; a widget missing while the page re-renders counts as not yet.

    The page is rebuilt in another thread: between two renders a table can be absent, and
    reading it then raised IndexError (seen once in a run of the suite on a loaded machine).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if condition():
                return
        except IndexError:
            if time.monotonic() >= deadline:
                raise
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def html_widgets(rc, cls: str) -> list:
    """The page's HTML snippets (solara.HTML) with a CSS class."""
    return [w for w in rc.find(solara.widgets.HTML).widgets
            if cls in (w.attributes or {}).get("class", "").split()
            or f'class="{cls}"' in (w.unsafe_innerHTML or "")]


def end_mean(rc, state: str, power: str) -> float:
    """A mean share at the run's end, as the page's table gives it."""
    text = html_widgets(rc, "whatif-shares")[0].unsafe_innerHTML
    marker = f'data-state="{state}" data-power="{power}" data-at="end" data-mean="'
    return float(text.split(marker)[1].split('"')[0])


@pytest.fixture
def rendered():
    box, rc = solara.render(app.dashboard(BASELINE), handle_error=False)
    wait_until(lambda: len(rc.find(ipywidgets.Image).widgets) == 1
               and not html_widgets(rc, "whatif-busy"))
    yield rc
    rc.close()


def cursor_at(rc) -> int:
    return int(html_widgets(rc, "whatif-cursor")[0].attributes["data-cursor"])


def test_page_shows_sliders_with_their_values_and_the_what_if(rendered):
    rc = rendered
    labels = [w.label for w in rc.find(v.Slider).widgets]
    for label in ("Seed", "Japan: invest (USD m / quarter)", "China: risk tolerance",
                  "Russia: visibility", "China: reaction sensitivity (to Japan)"):
        assert label in labels
    values = {w.attributes["data-slider"]: w.unsafe_innerHTML
              for w in html_widgets(rc, "whatif-value")}
    japan = load_scenario(BASELINE).powers["japan"]
    assert values["japan_invest_budget"] == f"{japan.budget.invest:g} USD m"
    assert values["japan_risk_tolerance"] == f"{japan.risk_tolerance:g}"
    assert cursor_at(rc) == 40  # the run's end: the whole what-if drawn solid
    assert "16 runs x 40 quarters in" in html_widgets(rc, "whatif-status")[0].unsafe_innerHTML


def shown_value(rc, name: str) -> str:
    """The value the page shows beside a slider."""
    return [w for w in html_widgets(rc, "whatif-value")
            if w.attributes["data-slider"] == name][0].unsafe_innerHTML


def test_moving_a_slider_recomputes_and_redraws(rendered, monkeypatch):
    rc = rendered
    # The run waits this long before it starts; long enough that "shown before the run is
    # back" holds on a loaded machine too (the page re-renders a moment after the event
    # when another thread is rendering, so the value is polled, not read at once).
    monkeypatch.setattr(app, "SETTLE_S", 2.0)
    before_png = bytes(rc.find(ipywidgets.Image).widget.value)
    before = end_mean(rc, "kazakhstan", "japan")
    rc.find(v.Slider, label="Japan: invest (USD m / quarter)").widget.v_model = 450.0
    wait_until(lambda: shown_value(rc, "japan_invest_budget") == "450 USD m", timeout_s=1.8)
    assert end_mean(rc, "kazakhstan", "japan") == before  # shown before the run is back
    wait_until(lambda: html_widgets(rc, "whatif-busy"), timeout_s=10)  # the busy sign
    assert html_widgets(rc, "whatif-busy")[0].unsafe_innerHTML == f"computing {app.SEEDS} runs…"
    wait_until(lambda: not html_widgets(rc, "whatif-busy")
               and end_mean(rc, "kazakhstan", "japan") != before)
    assert end_mean(rc, "kazakhstan", "japan") > before + 0.01
    assert bytes(rc.find(ipywidgets.Image).widget.value) != before_png
    expected = app.recompute(BASELINE, japan_invest_budget=450.0).band()[0][-1, 0, 0]
    assert end_mean(rc, "kazakhstan", "japan") == pytest.approx(expected, abs=1e-6)

    # a drag: values in quick succession; the page ends on the last one's numbers
    slider = rc.find(v.Slider, label="Japan: invest (USD m / quarter)").widget
    for budget in (200.0, 250.0, 300.0):
        slider.v_model = budget
    expected = app.recompute(BASELINE, japan_invest_budget=300.0).band()[0][-1, 0, 0]
    wait_until(lambda: not html_widgets(rc, "whatif-busy")
               and end_mean(rc, "kazakhstan", "japan") == pytest.approx(expected, abs=1e-6))

    rc.find(v.Btn, children=["Reset"]).widget.click()
    wait_until(lambda: not html_widgets(rc, "whatif-busy")
               and end_mean(rc, "kazakhstan", "japan") == pytest.approx(before, abs=1e-6))


def test_every_step_click_counts(rendered):
    rc = rendered

    def button(name: str):
        return [b for b in rc.find(v.Btn).widgets if name in str(b.children)][0]

    def settles_at(step: int) -> None:  # renders from the task's thread may land later
        wait_until(lambda: cursor_at(rc) == step, timeout_s=10)
        time.sleep(0.2)
        assert cursor_at(rc) == step

    button("Start").click()
    settles_at(0)
    for _ in range(45):  # five more than the run has: the cursor stops at its end
        button("Step").click()
    settles_at(40)
    button("Start").click()
    settles_at(0)
    # clicks made while a recompute is busy still count, each one
    rc.find(v.Slider, label="China: reaction sensitivity (to Japan)").widget.v_model = 6.0
    wait_until(lambda: html_widgets(rc, "whatif-busy"), timeout_s=10)
    for _ in range(6):
        button("Step").click()
    wait_until(lambda: not html_widgets(rc, "whatif-busy"))
    settles_at(6)


def test_play_moves_the_cursor_to_the_end(rendered, monkeypatch):
    monkeypatch.setattr(app, "PLAY_INTERVAL_S", 0.01)
    rc = rendered
    [b for b in rc.find(v.Btn).widgets if "Start" in str(b.children)][0].click()
    [b for b in rc.find(v.Btn).widgets if "Play" in str(b.children)][0].click()
    wait_until(lambda: cursor_at(rc) == 40)
    wait_until(lambda: any("Play" in str(b.children) for b in rc.find(v.Btn).widgets))


def test_module_page_renders():
    box, rc = solara.render(app.Page(), handle_error=False)
    wait_until(lambda: len(rc.find(ipywidgets.Image).widgets) == 1)
    rc.close()


def test_a_what_if_that_cannot_run_says_why(monkeypatch):
    def refuse(scenario, **settings):  # as if a slider had let visibility reach 1.5
        return app.what_if_scenario(scenario, japan_visibility=1.5)

    monkeypatch.setattr(app, "recompute", refuse)
    box, rc = solara.render(app.dashboard(BASELINE), handle_error=False)
    wait_until(lambda: rc.find(v.Alert).widgets)
    text = str(rc.find(v.Alert).widget.children)
    assert "These settings cannot run" in text and "powers.japan.visibility" in text
    assert not rc.find(ipywidgets.Image).widgets  # no figure pretends to show them
    rc.close()
