"""The dashboard (sim/app.py): the slider model, the plots, and the page rendered headless."""

from __future__ import annotations

import inspect
import os

os.environ.setdefault("SOLARA_CHECK_HOOKS", "off")  # its warning is about Mesa's own code

import ipyvuetify as v  # noqa: E402
import ipywidgets  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import solara  # noqa: E402
from mesa.visualization.solara_viz import _check_model_params  # noqa: E402

from sim import app  # noqa: E402
from sim.errors import ScenarioError  # noqa: E402
from sim.model import InfluenceModel  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

BASELINE = app.default_scenario()


def run(model, steps=6):
    for _ in range(steps):
        model.step()
    return model.state.share[0].copy()


# ----------------------------------------------------------------------------- the sliders


def test_every_power_has_its_sliders():
    params = app.model_params(BASELINE)
    scenario = load_scenario(BASELINE)
    for key, power in scenario.powers.items():
        for channel in ("invest", "soft_power", "diplomacy", "destabilise"):
            assert params[f"{key}_{channel}_budget"]["value"] == getattr(power.budget, channel)
        assert params[f"{key}_risk_tolerance"]["value"] == power.risk_tolerance
        assert params[f"{key}_visibility"]["value"] == power.visibility
        reacting = [r for r, x in power.reaction.items() if x.rule != "none"]
        if reacting:
            spec = params[f"{key}_reaction_sensitivity"]
            assert spec["value"] == max(power.reaction[r].sensitivity for r in reacting)
    assert params["seed"]["value"] == scenario.seed
    assert params["accord"] == {"type": "Checkbox", "value": False,
                                "label": "Border accord in 2025Q2 (all states)"}
    for spec in params.values():
        if isinstance(spec, dict):
            assert spec["type"] in ("SliderInt", "SliderFloat", "Checkbox")
            if spec["type"] != "Checkbox":
                assert spec["min"] <= spec["value"] <= spec["max"]


def test_mesa_accepts_the_sliders_as_model_keywords():
    # SolaraViz checks this on every render and passes the values to DashboardModel on Reset.
    _check_model_params(app.DashboardModel.__init__, app.model_params(BASELINE))


def test_starting_values_give_the_scenario_itself():
    params = app.model_params(BASELINE)
    start = {k: s["value"] for k, s in params.items() if isinstance(s, dict)}
    dashboard = app.DashboardModel(scenario=params["scenario"], **start)
    assert dashboard.scenario.digest() == load_scenario(BASELINE).digest()
    np.testing.assert_array_equal(run(dashboard), run(InfluenceModel(BASELINE)))


def test_a_slider_sets_its_scenario_field():
    model = app.DashboardModel(japan_invest_budget=240.0, china_reaction_sensitivity=4.5,
                               russia_visibility=0.9, seed=11)
    sc = model.scenario
    assert sc.powers["japan"].budget.invest == 240.0
    assert sc.powers["china"].reaction["japan"].sensitivity == 4.5
    assert sc.powers["russia"].visibility == 0.9
    assert sc.seed == 11
    expected = InfluenceModel(BASELINE, seed=11, overrides={
        "powers.japan.budget.invest": 240.0,
        "powers.china.reaction.japan.sensitivity": 4.5,
        "powers.russia.visibility": 0.9,
    })
    np.testing.assert_array_equal(run(model), run(expected))
    assert not np.array_equal(run(app.DashboardModel(japan_invest_budget=240.0)),
                              run(app.DashboardModel()))


def test_accord_switch_adds_and_removes_the_accord(tmp_path):
    on = app.DashboardModel(accord=True)
    accords = [e for e in on.scenario.events if e.kind == "border_accord"]
    assert len(accords) == 1 and accords[0].states == "all"
    assert on.scenario.event_step(accords[0]) == 2
    run(on, steps=3)
    assert on.states["kyrgyzstan"].border_disputes == 0  # baseline: 2 open disputes
    assert app.DashboardModel(accord=False).states["kyrgyzstan"].border_disputes == 2

    with_accord = tmp_path / "accord.yaml"
    with_accord.write_text(
        f"extends: {BASELINE}\nevents:\n  - {{kind: border_accord, at: 2026Q1}}\n")
    assert app.model_params(with_accord)["accord"]["value"] is True
    assert len(app.DashboardModel(scenario=with_accord, accord=None).scenario.events) == 1
    assert len(app.DashboardModel(scenario=with_accord, accord=True).scenario.events) == 1
    assert app.DashboardModel(scenario=with_accord, accord=False).scenario.events == []


def test_bad_settings_are_refused_with_the_field():
    with pytest.raises(TypeError, match="japan_invest_bugdet"):
        app.DashboardModel(japan_invest_bugdet=100.0)
    with pytest.raises(ScenarioError, match=r"powers\.japan\.visibility"):
        app.DashboardModel(japan_visibility=1.5)


def test_environment_variable_names_the_scenario(tmp_path, monkeypatch):
    other = tmp_path / "two_powers.yaml"
    other.write_text(f"extends: {BASELINE}\nname: other\nseed: 99\n")
    monkeypatch.setenv(app.SCENARIO_ENV, str(other))
    assert app.default_scenario() == other
    assert app.model_params()["seed"]["value"] == 99
    assert app.DashboardModel().scenario.name == "other"


def test_keywords_are_keyword_only_friendly():
    signature = inspect.signature(app.DashboardModel.__init__)
    assert all(p.default is not inspect.Parameter.empty or p.kind == p.VAR_KEYWORD
               for name, p in signature.parameters.items() if name != "self")


# ----------------------------------------------------------------------------- the plots


def test_share_plot_follows_the_datacollector():
    model = app.DashboardModel()
    run(model, steps=4)
    fig = app.shares_figure(model)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == [model.structure.labels[s]
                                               for s in model.structure.states]
    frame = model.datacollector.get_model_vars_dataframe()
    line = axes[3].get_lines()[0]  # Turkmenistan, Japan
    # in percent, as people read shares
    np.testing.assert_allclose(line.get_ydata(), 100 * frame["turkmenistan/japan"].to_numpy())
    assert axes[0].get_xlim() == (0, model.scenario.steps)


def test_regional_plot_shows_each_powers_mean_share():
    model = app.DashboardModel()
    run(model, steps=4)
    ax = app.regional_figure(model).axes[0]
    lines = [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]
    assert [ln.get_label() for ln in lines] == ["Japan", "China", "Russia"]
    np.testing.assert_allclose(lines[1].get_ydata()[-1], 100 * model.share[:, 1].mean(),
                               rtol=1e-6)
    assert len(lines[0].get_ydata()) == 5


def test_settings_table_names_the_settings():
    model = app.DashboardModel(accord=True, japan_invest_budget=240.0)
    run(model, steps=2)
    text = app.settings_markdown(model)
    assert text.startswith("**2025Q2**: step 2 of 40; seed 2025; border accord: 2025Q2")
    japan = model.scenario.powers["japan"]
    expected = (f"| Japan | 240 | {japan.budget.soft_power:g} | {japan.budget.diplomacy:g} | "
                f"{japan.budget.destabilise:g} | {japan.risk_tolerance:g} | "
                f"{japan.visibility:g} | China {japan.reaction['china'].sensitivity:g} | "
                f"{100 * model.powers['japan'].regional_share:.1f}% |")
    assert expected in text


# ----------------------------------------------------------------------------- the page


@solara.component
def InApp(model):
    # solara run wraps a page in an AppLayout; the sidebar (controls, sliders) lives there.
    with solara.AppLayout():
        app.dashboard(model=model)


@pytest.fixture
def rendered():
    model = solara.reactive(app.DashboardModel())
    box, rc = solara.render(InApp(model), handle_error=False)
    yield model, rc
    rc.close()


def images(rc) -> list[bytes]:
    return [bytes(w.value) for w in rc.find(ipywidgets.Image).widgets]


def test_page_has_controls_sliders_and_plots(rendered):
    _, rc = rendered
    for label in ("Reset", "Step"):
        rc.find(v.Btn, children=[label]).assert_single()
    labels = [w.label for w in rc.find(v.Slider).widgets]
    for label in ("Seed", "Japan: invest (USD m / quarter)", "China: risk tolerance",
                  "Russia: visibility", "China: reaction sensitivity (to Japan)"):
        assert label in labels
    rc.find(v.Checkbox, label="Border accord in 2025Q2 (all states)").assert_single()
    assert len(images(rc)) == 2  # shares by state, regional totals
    rc.find(v.Html, children=["Step: 0"]).assert_single()


def test_step_button_advances_and_redraws(rendered):
    model, rc = rendered
    before = images(rc)
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert model.value.state.step == 1
    rc.find(v.Html, children=["Step: 1"]).assert_single()
    after = images(rc)
    assert after[0] != before[0] and after[1] != before[1]


def test_slider_then_reset_builds_the_model_from_the_sliders(rendered):
    model, rc = rendered
    first = model.value
    rc.find(v.Slider, label="Japan: invest (USD m / quarter)").widget.v_model = 300.0
    rc.find(v.Slider, label="China: reaction sensitivity (to Japan)").widget.v_model = 6.0
    rc.find(v.Checkbox, label="Border accord in 2025Q2 (all states)").widget.v_model = True
    assert model.value is first  # a slider alone changes nothing until Reset
    rc.find(v.Btn, children=["Reset"]).widget.click()
    new = model.value
    assert new is not first and isinstance(new, app.DashboardModel)
    assert new.scenario.powers["japan"].budget.invest == 300.0
    assert new.scenario.powers["china"].reaction["japan"].sensitivity == 6.0
    assert [e.kind for e in new.scenario.events] == ["border_accord"]
    assert new.state.step == 0


def test_module_page_is_a_solaraviz_element():
    from mesa.visualization import SolaraViz

    assert app.page.component.f is SolaraViz.f
    box, rc = solara.render(app.page, handle_error=False)
    assert len(images(rc)) == 2
    rc.close()
