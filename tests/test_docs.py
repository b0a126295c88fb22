"""The docs describe every parameter, and every baseline number is traced."""

import re

import yaml
from clihelp import ROOT, SCENARIOS
from pydantic import BaseModel

from sim.scenario import schema

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
    for event in (schema.BorderAccord, schema.Visit, schema.Summit, schema.SummitCancelled,
                  schema.BudgetChange, schema.DestabilisationCampaign, schema.StabilityShock):
        names |= field_names(event)
    missing = sorted(n for n in names if n not in ("kind",) and f"`{n}" not in ODD
                     and f".{n}`" not in ODD and f"{n}`" not in ODD)
    assert not missing, f"not in docs/ODD.md: {missing}"
    for kind in schema.EVENT_KINDS:
        assert f"`{kind}`" in ODD


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


def test_code_and_tests_cite_only_what_the_repository_holds():
    """Docstrings and comments cite docs/ and data/, never the team's notes outside the repo."""
    outside = re.compile(r"\.\./shared|\bDESIGN\.md|\bHISTORY\.md")
    cited = []
    for folder in ("sim", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if outside.search(line) and "outside = re.compile" not in line:
                    cited.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not cited, "cites a document the repository does not hold:\n" + "\n".join(cited)
