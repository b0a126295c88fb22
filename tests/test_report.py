"""Tests for sim.whatif.report and ``sim report``: valid, self-contained HTML whose images load."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path

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
    assert "What differs" in text and "events.1.kind" in text  # the added accord
    assert "Last quarter" in text and "difference_p95" in text
    assert "Chronicles (first seed)" in text and "Border accord" in text


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
