"""The notebooks run top to bottom in a real Jupyter kernel, and are stored without outputs."""

from __future__ import annotations

import nbformat
import pytest
from notebook_runner import NAMES, NOTEBOOKS, execute


def outputs(notebook: nbformat.NotebookNode) -> list[dict]:
    return [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]


def text_of(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for out in outputs(notebook):
        if out.get("output_type") == "stream":
            parts.append(out["text"])
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
            parts.append(out["data"].get("text/html", ""))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict[str, nbformat.NotebookNode]:
    """Every notebook, executed; what they write goes to a temporary folder ($SIM_RESULTS)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SIM_RESULTS", str(tmp_path_factory.mktemp("notebook_results")))
        return {name: execute(name) for name in NAMES}


def test_every_notebook_is_tested():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_stored_without_outputs(name):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: a cell was stored with outputs"
            assert cell.execution_count is None, f"{name}: a cell was stored with a count"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.notebook
def test_runs_without_errors(executed, name):
    notebook = executed[name]
    errors = [o for o in outputs(notebook) if o.get("output_type") == "error"]
    assert errors == []
    stderr = "".join(o["text"] for o in outputs(notebook)
                     if o.get("output_type") == "stream" and o["name"] == "stderr")
    assert "Traceback" not in stderr
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "a cell did not run"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.notebook
def test_draws_figures(executed, name):
    images = [o for o in outputs(executed[name]) if "image/png" in o.get("data", {})]
    assert len(images) >= 2


@pytest.mark.notebook
def test_quickstart_shows_the_tables(executed):
    text = text_of(executed["01_quickstart.ipynb"])
    assert "influence share" in text  # the share table
    for state in ("Kazakhstan", "Turkmenistan"):
        assert state in text
    assert "Total spend over the run" in text
    assert "now: 2026Q4" in text  # eight Mesa steps from 2025Q1


@pytest.mark.notebook
def test_quickstart_shows_the_dashboard(executed):
    notebook = executed["01_quickstart.ipynb"]
    last_code = [c for c in notebook.cells if c.cell_type == "code"][-1]
    assert "dashboard(" in last_code.source
    views = [o for o in last_code.outputs
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 1, "the dashboard page was not displayed as a widget"
    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    labels = {m["state"].get("label") for m in state.values()
              if m["model_name"] == "SliderModel"}
    assert {"Japan: invest (USD m / quarter)", "China: reaction sensitivity (to Japan)",
            "Seed"} <= labels
    buttons = {str(m["state"].get("children")) for m in state.values()
               if m["model_name"] == "BtnModel"}
    assert "['Step']" in buttons and "['Reset']" in buttons


@pytest.mark.notebook
def test_what_if_sliders_redraw(executed):
    notebook = executed["02_what_if.ipynb"]
    text = text_of(notebook)
    assert "China's sensitivity to Japan: 2.0 -> 8.0" in text
    assert "largest change in any share, any quarter: 0.08 pp" in text  # low on the ramp
    assert "Japan's visibility: 0.3 -> 0.9" in text
    assert "border_accord" in text  # the events table of the accord run
    widgets = [o for o in outputs(notebook)
               if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widgets, "the sliders were not displayed"
    assert "last drawn: Japan invests 480 at visibility 0.30" in text
    # The sliders' output area (an Output widget, saved in the notebook's widget state) holds
    # the redrawn figure and the caption of the last slider setting.
    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    areas = [m["state"]["outputs"] for m in state.values() if m["model_name"] == "OutputModel"]
    assert len(areas) == 1
    assert any("image/png" in o.get("data", {}) for o in areas[0])
    caption = "".join(o["text"] for o in areas[0] if o.get("output_type") == "stream")
    assert caption.startswith(
        "Japan invests 480 at visibility 0.30, China's sensitivity 2.0: Japan's mean share")
    assert "%" in caption


@pytest.mark.notebook
def test_what_if_compares_what_differs_by_one_thing(executed):
    """Section 5 compares china_hard_reaction with the scenario it extends, and finds a cost."""
    text = text_of(executed["02_what_if.ipynb"])
    assert "china_hard_reaction minus border_accord" in text
    assert "china_hard_reaction minus baseline" not in text
    kazakhstan = [line for line in text.splitlines()
                  if line.strip().startswith("kazakhstan") and " pp" in line]
    assert len(kazakhstan) == 2  # seeds only, then seeds and parameter draws
    for line in kazakhstan:
        assert line.split()[1].startswith("-") and line.split()[2] == "pp", line


def test_section_five_pair_differs_in_china_reaction_only():
    """The pair notebook 02 compares differs by China's reaction to Japan and nothing else."""
    from sim.scenario import load_scenario

    root = NOTEBOOKS.parent / "scenarios"
    accord = load_scenario(root / "border_accord.yaml").model_dump(mode="json")
    hard = load_scenario(root / "china_hard_reaction.yaml").model_dump(mode="json")

    def leaves(data, prefix=""):
        if isinstance(data, dict):
            for key, value in data.items():
                yield from leaves(value, f"{prefix}{key}.")
        elif isinstance(data, list):
            for index, value in enumerate(data):
                yield from leaves(value, f"{prefix}{index}.")
        else:
            yield prefix.rstrip("."), data

    a, h = dict(leaves(accord)), dict(leaves(hard))
    differing = {k for k in a.keys() | h.keys() if a.get(k) != h.get(k)}
    differing -= {"name", "question"}
    assert differing, "the two scenarios do not differ at all"
    assert all(k.startswith("powers.china.reaction.japan.") for k in differing), differing


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.notebook
def test_prints_shares_in_percent(executed, name):
    """What the notebooks print for a reader gives shares in % or pp, never as 0.0166."""
    import re

    printed = "".join(o["text"] for o in outputs(executed[name])
                      if o.get("output_type") == "stream" and o["name"] == "stdout")
    # Stability is an index from 0 to 1, not a share: its lines say so.
    printed = "\n".join(line for line in printed.splitlines() if "(index 0-1)" not in line)
    fractions = re.findall(r"(?<![\d.])[+-]?0\.\d{3,}(?![\d%]| ?pp)", printed)
    assert fractions == [], f"{name} prints fractions: {fractions[:5]}"


@pytest.mark.notebook
def test_reaction_sensitivity_sweeps_and_replays(executed):
    notebook = executed["03_reaction_sensitivity.ipynb"]
    text = text_of(notebook)
    assert "25 samples x 4 seeds = 100 runs" in text
    assert "Japan's regional share ranges from" in text
    assert "largest total index: Japan's risk tolerance" in text  # the Sobol table, plain names
    assert "S1_conf" in text and "ST_conf" in text
    assert "identical: True" in text  # a run replayed alone equals the sweep's
