"""Tests for sim.whatif.report and ``sim report``: valid, self-contained HTML whose images load."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from sim.cli import main
from sim.outputs.run import run_scenario, write_run
from sim.scenario import load_scenario
from sim.whatif.compare import compare_scenarios, write_comparison
from sim.whatif.report import ReportError, build_report, write_report

DATA = Path(__file__).parent / "data"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Checker(HTMLParser):
    """Checks that every non-void tag is closed in order, and collects images and links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.images: list[str] = []
        self.references: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attributes = dict(attrs)
        if tag == "img":
            self.images.append(attributes.get("src", ""))
        for name in ("src", "href"):
            if name in attributes:
                self.references.append(attributes[name])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check_page(page: str) -> Checker:
    assert page.startswith("<!DOCTYPE html>")
    checker = Checker()
    checker.feed(page)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    assert checker.tags[:3] == ["html", "head", "meta"]
    assert "script" not in checker.tags and "link" not in checker.tags
    assert not [r for r in checker.references if not r.startswith("data:")]
    assert not re.search(r"https?://", page)
    assert checker.images
    for src in checker.images:
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        image = Image.open(io.BytesIO(base64.b64decode(src[len(prefix):], validate=True)))
        image.load()
        assert image.size[0] > 100 and image.size[1] > 100
    return checker


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    scenario = load_scenario(DATA / "small_accord.yaml")
    return write_run(run_scenario(scenario), out=tmp_path_factory.mktemp("run"))


def test_run_report_is_valid_and_complete(run_folder):
    path = write_report(run_folder)
    assert path == run_folder / "report.html"
    page = path.read_text(encoding="utf-8")
    checker = check_page(page)
    text = " ".join(checker.text)
    assert "How does a small two-power contest evolve?" in text  # the question
    assert "Powers" in text and "States" in text and "Events" in text  # the parameters
    assert "Influence shares in 2027Q4" in text  # the table
    assert "Border accord: Alpha resolve all open disputes" in text  # the chronicle
    assert len(checker.images) == 1
    assert build_report(run_folder) == page  # deterministic


def test_comparison_report(tmp_path):
    small = load_scenario(DATA / "small.yaml")
    accord = load_scenario(DATA / "small_accord.yaml")
    folder = write_comparison(compare_scenarios([small, accord], replicates=3), out=tmp_path)
    assert main(["report", str(folder)]) == 0
    checker = check_page((folder / "report.html").read_text(encoding="utf-8"))
    text = " ".join(checker.text)
    assert len(checker.images) == 2  # one figure per state
    assert "What differs" in text and "Events in some scenarios only" in text
    # the added accord, in words, and no event-field minutiae
    assert "2025Q4: border accord, Alpha" in text, text
    assert "events.1" not in text and "probability: None" not in text and "None" not in text
    assert "Influence share in 2027Q4" in text and "90% interval" in text
    assert "Chronicles (first seed)" in text and "Border accord" in text
    # the table is in % and percentage points, from the comparison's own numbers
    traj = pd.read_csv(folder / "trajectories.csv")
    row = traj[(traj["scenario"] == "small_accord") & (traj["step"] == traj["step"].max())
               & (traj["state"] == "alpha") & (traj["power"] == "japan")].iloc[0]
    assert f"{100 * row['mean']:.1f}%" in text
    assert f"{100 * row['difference']:+.1f} pp" in text
    assert main(["report", str(folder), "--at", "2025Q3"]) == 0
    text = " ".join(check_page((folder / "report.html").read_text(encoding="utf-8")).text)
    assert "Influence share in 2025Q3" in text and "Influence share in 2027Q4" not in text


def test_run_report_at_a_quarter(run_folder, capsys):
    page = build_report(run_folder, at="2026Q2")
    text = " ".join(check_page(page).text)
    assert "Influence shares in 2026Q2" in text
    traj = pd.read_csv(run_folder / "trajectories.csv")
    row = traj[(traj["quarter"] == "2026Q2") & (traj["state"] == "beta")
               & (traj["power"] == "china")].iloc[0]
    assert f"{100 * row['share']:.1f}%" in text
    before = (run_folder / "report.html").read_bytes() if (run_folder / "report.html").exists() \
        else None
    assert main(["report", str(run_folder), "--at", "2030Q1"]) == 2
    err = capsys.readouterr().err
    assert "--at 2030Q1: outside the run; give a quarter from 2024Q4 to 2027Q4" in err
    assert "Traceback" not in err
    after = (run_folder / "report.html").read_bytes() if (run_folder / "report.html").exists() \
        else None
    assert after == before  # nothing written


def test_report_without_figures_still_valid(tmp_path):
    folder = write_run(run_scenario(load_scenario(DATA / "small.yaml")), out=tmp_path,
                       plot=False)
    page = build_report(folder)
    assert "written with --no-plot" in page
    assert "<img" not in page


def test_report_errors(tmp_path, capsys):
    with pytest.raises(ReportError, match="no such folder"):
        build_report(tmp_path / "missing")
    with pytest.raises(ReportError, match="no manifest.json"):
        build_report(tmp_path)
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()


def test_comparison_report_names_a_change_that_never_acted(tmp_path):
    root = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"
    step = [("powers.china.reaction.japan.width", 0.0)]
    base = load_scenario(root, step, steps=4)
    doubled = load_scenario(root, step + [("powers.china.reaction.japan.sensitivity", 4.0)],
                            steps=4)
    comparison = compare_scenarios([base, doubled], replicates=2, labels=["step", "doubled"])
    folder = write_comparison(comparison, out=tmp_path)
    assert main(["report", str(folder)]) == 0
    text = " ".join(check_page((folder / "report.html").read_text(encoding="utf-8")).text)
    assert "Changes that never acted" in text
    assert "China's reaction toward Japan never triggered" in text


def test_what_differs_lists_what_a_strategist_changed(tmp_path):
    """Only the changed settings, in plain words and units, and the events in one scenario and
    not the other (not the 35 rows of event fields of each event's position in the file)."""
    from sim.whatif.report import _differences, html_page

    base = {"powers": {"china": {"reaction": {"japan": {"rule": "threshold", "sensitivity": 2.0,
                                                        "threshold": 0.05}}}},
            "events": [{"kind": "summit", "at": "2026Q2", "power": "china", "states": "all",
                        "diplomatic_gain": 80.0, "goodwill_gain": 0.0, "probability": None}]}
    hard = {"powers": {"china": {"reaction": {"japan": {"rule": "threshold", "sensitivity": 8.0,
                                                        "threshold": 0.01}}}},
            "events": [{"kind": "border_accord", "at": "2025Q1", "states": "all",
                        "stability_gain": 0.03, "probability": None}] + base["events"]}
    page = _differences(["baseline", "hard"], [base, hard])
    checker = Checker()
    checker.feed(html_page("differences", [page]))
    checker.close()
    assert checker.errors == [] and checker.stack == []
    text = " ".join(checker.text)
    assert "China's reaction sensitivity to Japan" in text and "China's reaction threshold for" \
        " Japan" in text
    assert "5.0%" in text and "1.0%" in text  # a threshold is a share
    assert "2025Q1: border accord, all states (stability gain 0.03)" in text
    # the summit is in both (at another position in the file): not a difference
    assert "summit" not in text
    assert "None" not in text and "events." not in text
    assert _differences(["a", "b"], [base, base]).startswith("<p>The scenarios have identical")
