"""The patterns of DESIGN.md section 3 (1 to 13; 14, the record, comes with the hindcast).

Each pattern but 2 and 9 is a check in tests/model_patterns.py that measures an outcome and has
a named mutant (tests/test_mutants.py). Stochastic comparisons run the same seeds on both sides
(paired) and require the 95% confidence interval of the mean paired difference to exclude zero.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from model_patterns import CHECKS

from sim.engine import compile_scenario, make_batch, repeat, simulate
from sim.scenario import Scenario, load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
SOFT = 1


def scenario(name: str, **overrides) -> Scenario:
    return load_scenario(SCENARIOS / name, list(overrides.items()) or None)


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_pattern(check, record_property):
    holds, measured = check()
    record_property("measured", measured)  # the measured effect beside its stated minimum
    print(f"{check.__name__}: {measured}")
    assert holds, measured


def test_pattern_2_japan_soft_power_starts_smaller_than_china_and_russia():
    sc = scenario("baseline.yaml")
    _, params = compile_scenario(sc)
    powers = sc.power_names
    goodwill = params.goodwill[0]  # (S, P)
    japan, china, russia = (powers.index(p) for p in ("japan", "china", "russia"))
    for s, name in enumerate(sc.state_names):
        assert goodwill[s, japan] < goodwill[s, china], name
        assert goodwill[s, japan] < goodwill[s, russia], name
    soft = params.budget[0, :, SOFT]
    assert soft[japan] < soft[china] and soft[japan] < soft[russia]




RICHARDSON_STABLE = [
    # a, b, m, n, g, h  (a: blue's sensitivity to red, m: blue's restraint, g: its grievance)
    (0.2, 0.3, 0.5, 0.4, 0.1, 0.05),
    (0.1, 0.1, 0.3, 0.3, 0.2, 0.2),
    (0.05, 0.4, 0.6, 0.2, 0.0, 0.3),
    (0.3, 0.2, 0.9, 0.8, 0.5, 0.1),
]


def richardson(a, b, m, n, g, h, steps=400) -> np.ndarray:
    sc = load_scenario(SCENARIOS / "richardson.yaml", [
        ("powers.blue.reaction.red.sensitivity", a), ("powers.red.reaction.blue.sensitivity", b),
        ("powers.blue.restraint", m), ("powers.red.restraint", n),
        ("powers.blue.reaction.red.grievance", g), ("powers.red.reaction.blue.grievance", h),
    ], steps=steps)
    structure, params = compile_scenario(sc)
    return simulate(make_batch(structure, repeat(params, 1), [sc.seed])).effort[0, 0]


@pytest.mark.parametrize("a,b,m,n,g,h", RICHARDSON_STABLE)
def test_pattern_9_richardson_equilibrium(a, b, m, n, g, h):
    assert m * n > a * b
    x_star = (a * h + n * g) / (m * n - a * b)
    y_star = (b * g + m * h) / (m * n - a * b)
    blue, red = richardson(a, b, m, n, g, h)
    assert abs(blue - x_star) < 1e-6 and abs(red - y_star) < 1e-6, (blue, red, x_star, y_star)


def test_pattern_9_richardson_runs_away_when_ab_exceeds_mn():
    a, b, m, n, g, h = 0.6, 0.5, 0.2, 0.3, 0.1, 0.1
    assert a * b > m * n
    efforts = [richardson(a, b, m, n, g, h, steps=t) for t in (50, 100, 150)]
    sums = [float(e.sum()) for e in efforts]
    assert sums[0] < sums[1] < sums[2] and sums[2] > 1e6, sums


def test_scenario_files_each_open_with_their_question():
    for path in sorted(SCENARIOS.glob("*.yaml")):
        head = path.read_text().splitlines()[:8]
        assert head[0].startswith("# "), path.name
        assert any("Question:" in line for line in head), f"{path.name} has no question comment"
        assert copy.deepcopy(load_scenario(path)).question, path.name


