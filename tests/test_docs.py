"""The docs describe every parameter, and every baseline number is traced."""

import re
from pathlib import Path

import yaml
from clihelp import ROOT, SCENARIOS
from pydantic import BaseModel

from sim.scenario import events, schema

ODD = (ROOT / "docs" / "ODD.md").read_text()
DATA = (ROOT / "docs" / "DATA.md").read_text()


def field_names(model: type[BaseModel], seen=None) -> set[str]:
    seen = set() if seen is None else seen
    names = set()
    for name, field in model.model_fields.items():
        names.add(field.alias or name)
        for arg in [field.annotation, *getattr(field.annotation, "__args__", ())]:
            for inner in [arg, *getattr(arg, "__args__", ())]:
                if isinstance(inner, type) and issubclass(inner, BaseModel) and inner not in seen:
                    seen.add(inner)
                    names |= field_names(inner, seen)
    return names


def test_odd_describes_every_scenario_field_and_event_kind():
    names = field_names(schema.Scenario)
    for event in (events.BorderAccord, events.Visit, events.Summit, events.SummitCancelled,
                  events.BudgetChange, events.DestabilisationCampaign, events.StabilityShock):
        names |= field_names(event)
    missing = sorted(n for n in names if n not in ("kind",) and f"`{n}" not in ODD
                     and f".{n}`" not in ODD and f"{n}`" not in ODD)
    assert not missing, f"not in docs/ODD.md: {missing}"
    for kind in events.EVENT_KINDS:
        assert f"`{kind}`" in ODD


def _listed_kinds(text: str) -> list[str]:
    return re.findall(r"`([a-z_]+)`", text)


def test_readme_lists_every_event_kind_the_validator_accepts():
    """The README's scenario guide names exactly the code's kinds, in the code's order."""
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"Events \((\d+) kinds\): (.*?), each at a quarter", readme, re.S)
    assert match, "README.md: the scenario guide's list of event kinds is missing"
    assert _listed_kinds(match.group(2)) == list(events.EVENT_KINDS)
    assert int(match.group(1)) == len(events.EVENT_KINDS)


def test_odd_event_table_lists_every_event_kind():
    """docs/ODD.md section 7.9 has one table row per kind the validator accepts, no others."""
    section = ODD.split("### 7.9 Events", 1)[1].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    kinds = [_listed_kinds(row.split("|")[1])[0] for row in rows]
    assert sorted(kinds) == sorted(events.EVENT_KINDS)
    assert len(kinds) == len(set(kinds))


def test_every_baseline_number_is_in_data_md():
    data = yaml.safe_load((SCENARIOS / "baseline.yaml").read_text())
    numbers = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key not in ("seed", "steps"):
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            numbers.add(node)

    walk(data)
    text = DATA.replace(",", "")
    missing = [n for n in sorted(numbers)
               if not re.search(rf"(?<![\d.]){re.escape(repr(n))}(?![\d])", text)
               and not (float(n) == int(n) and re.search(rf"(?<![\d.]){int(n)}(?![\d])", text))]
    assert not missing, f"baseline numbers not traced in docs/DATA.md: {missing}"


def _cited_outside(paths: list[Path]) -> list[str]:
    """Lines of ``paths`` that cite one of the team's notes outside the repository."""
    outside = re.compile(r"\.\./shared|/work/shared|\bDESIGN\.md|\bHISTORY\.md|shared notes")
    cited = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if outside.search(line) and "outside = re.compile" not in line:
                cited.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return cited


def test_code_and_tests_cite_only_what_the_repository_holds():
    """Docstrings and comments cite docs/ and data/, never the team's notes outside the repo."""
    paths = [p for folder in ("sim", "tests") for p in sorted((ROOT / folder).rglob("*.py"))]
    cited = _cited_outside(paths)
    assert not cited, "cites a document the repository does not hold:\n" + "\n".join(cited)


def test_docs_data_and_scenarios_cite_only_what_the_repository_holds():
    """The docs, the observed data and the scenarios name public sources, not the team's notes.

    Mutant: citing the team's history note by its file name again, in docs/DATA.md's section 15
    table (Tajik trade 2015-2016) or in a source column of data/observed, makes this fail.
    """
    paths = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
             *sorted((ROOT / "data" / "observed").glob("*")),
             *sorted((ROOT / "scenarios").rglob("*.yaml"))]
    cited = _cited_outside([p for p in paths if p.is_file()])
    assert not cited, "cites a document the repository does not hold:\n" + "\n".join(cited)


def test_every_file_a_scenario_tells_you_to_compare_with_is_shipped():
    """A scenario's comments name only scenario files that exist (summit_held.yaml did not)."""
    named = []
    for path in sorted(SCENARIOS.glob("*.yaml")):
        for line in path.read_text().splitlines():
            if line.startswith("#"):
                named += [(path.name, n) for n in re.findall(r"([\w/]+\.yaml)", line)]
    assert named
    missing = [(f, n) for f, n in named
               if not (ROOT / n).is_file() and not (SCENARIOS / n).is_file()]
    assert not missing, f"named in a scenario's comments but not shipped: {missing}"


def test_summit_held_is_summit_cancelled_without_the_cancellation():
    held = yaml.safe_load((SCENARIOS / "summit_held.yaml").read_text())
    cancelled = yaml.safe_load((SCENARIOS / "summit_cancelled.yaml").read_text())
    kept = [e for e in cancelled["events"] if e["kind"] != "summit_cancelled"]
    assert len(kept) == len(cancelled["events"]) - 1
    strip = [{k: v for k, v in e.items() if k != "note"} for e in kept]
    assert strip == [{k: v for k, v in e.items() if k != "note"} for e in held["events"]]
    assert held["extends"] == cancelled["extends"]
    assert set(held) == set(cancelled)
