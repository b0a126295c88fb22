"""Numerical safety: extreme but valid parameters end with a clear divergence report, exit 3.

A run whose state becomes non-finite must stop with a message naming the step, the actor and the
quantity, write no results folder and print no traceback; a run that does not diverge must never
write NaN or infinity.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from clihelp import ROOT, SMALL, assert_refused, files_under, run_sim

from sim.engine import compile_scenario, make_batch, repeat, simulate
from sim.errors import DivergenceError
from sim.scenario import load_scenario

BASELINE = ROOT / "scenarios" / "baseline.yaml"

# Richardson arms race between China and Japan with no restraint at all, in both directions.
EXTREME = [
    "powers.china.reaction.japan.rule=linear", "powers.china.reaction.japan.sensitivity=100",
    "powers.japan.reaction.china.rule=linear", "powers.japan.reaction.china.sensitivity=100",
    "powers.china.restraint=0", "powers.japan.restraint=0",
    # No spending ceiling: reactive spending may grow without bound, as in Richardson's race.
    "powers.china.reserve=null", "powers.japan.reserve=null",
]
MESSAGE = re.compile(
    r"diverged at step (\d+) \(run 0, seed \d+\): reactive effort of (japan|china) in (\w+) "
    r"is no longer finite"
)


def _set(pairs: list[str]) -> list[str]:
    return [arg for pair in pairs for arg in ("--set", pair)]


def _diverge(tmp_path, precision: str, spark: str) -> int:
    out = tmp_path / "results"
    result = run_sim("run", BASELINE, "--steps", "1000", "--no-plot", "--out", out,
                     *_set([*EXTREME, spark, f"precision={precision}"]))
    err = assert_refused(result, out, status=3)
    match = MESSAGE.search(err)
    assert match, err
    assert match.group(3) in {"kazakhstan", "kyrgyzstan", "tajikistan", "turkmenistan",
                              "uzbekistan"}
    assert "sensitivit" in err and "restraint" in err  # what to change
    return int(match.group(1))


@pytest.mark.parametrize("spark", ["powers.japan.initial_effort=1",
                                   "powers.china.reaction.japan.grievance=0.5"])
def test_runaway_reaction_is_reported_in_both_precisions(spark, tmp_path):
    step32 = _diverge(tmp_path, "float32", spark)
    step64 = _diverge(tmp_path, "float64", spark)
    # float32 overflows first (3.4e38 against 1.8e308), but both are reported cleanly.
    assert 1 <= step32 < step64 <= 1000


def test_runaway_without_a_spark_stays_at_zero_and_writes_finite_outputs(tmp_path):
    """Sensitivity 100 and restraint 0 alone do not diverge: zero effort is a fixed point.

    Then the outputs must hold no NaN or infinity (empty cells in moves.csv are the columns
    that do not apply to a row: a move has no signal, a reaction no amount).
    """
    out = tmp_path / "results"
    result = run_sim("run", BASELINE, "--steps", "1000", "--no-plot", "--quiet", "--out", out,
                     *_set(EXTREME))
    assert result.returncode == 0, result.stderr
    folder = next(p.parent for p in files_under(out) if p.name == "manifest.json")
    _assert_finite_outputs(folder)


def test_replicates_of_a_normal_run_write_finite_outputs(tmp_path):
    out = tmp_path / "results"
    result = run_sim("run", SMALL, "--replicates", "3", "--no-plot", "--quiet", "--out", out)
    assert result.returncode == 0, result.stderr
    folder = next(p.parent for p in files_under(out) if p.name == "manifest.json")
    _assert_finite_outputs(folder)


def _assert_finite_outputs(folder) -> None:
    for path in folder.rglob("*.csv"):
        text = path.read_text().lower()
        assert "nan" not in text and "inf" not in text.replace("influence", ""), path
    trajectories = pd.read_csv(folder / "trajectories.csv")
    numbers = trajectories.select_dtypes("number")
    assert not numbers.empty and np.isfinite(numbers.to_numpy()).all()
    for path in folder.rglob("moves*.csv"):
        moves = pd.read_csv(path)
        is_move = moves["type"] == "move"
        assert np.isfinite(moves.loc[is_move, "amount_usd_m"]).all()
        reactions = moves.loc[~is_move, ["signal", "response", "effort_after"]]
        assert np.isfinite(reactions.to_numpy()).all()


def test_stocks_that_overflow_float32_are_reported_at_step_0(tmp_path):
    """Two stocks that each fit in float32 but whose sum does not: the share is NaN at once."""
    out = tmp_path / "results"
    result = run_sim("run", SMALL, "--no-plot", "--out", out,
                     *_set(["states.kazakhstan.initial.footprint.china=2e38",
                            "states.kazakhstan.initial.goodwill.china=2e38"]))
    err = assert_refused(result, out, status=3)
    assert "diverged at step 0" in err
    assert "influence share of china in kazakhstan" in err
    assert "float64" in err
    assert "RuntimeWarning" not in err


def test_same_stocks_in_float64_run_fine(tmp_path):
    out = tmp_path / "results"
    result = run_sim("run", SMALL, "--no-plot", "--quiet", "--out", out,
                     *_set(["states.kazakhstan.initial.footprint.china=2e38",
                            "states.kazakhstan.initial.goodwill.china=2e38",
                            "precision=float64"]))
    assert result.returncode == 0, result.stderr
    folder = next(p.parent for p in files_under(out) if p.name == "manifest.json")
    _assert_finite_outputs(folder)


def _extreme_batch(precision: str, runs: int = 3):
    scenario = load_scenario(BASELINE, [*EXTREME, f"precision={precision}"], steps=1000)
    structure, params = compile_scenario(scenario)
    params = repeat(params, runs)
    # Only the last run gets a spark of effort: the others must stay finite.
    effort = params.initial_effort.copy()
    effort[-1, structure.powers.index("japan")] = 1.0
    from dataclasses import replace

    return structure, make_batch(structure, replace(params, initial_effort=effort),
                                 np.arange(runs))


@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_engine_raises_with_step_actor_quantity_and_seed(precision):
    structure, batch = _extreme_batch(precision)
    with pytest.raises(DivergenceError) as caught:
        simulate(batch)
    error = caught.value
    assert error.run == 2 and error.seed == 2
    assert error.quantity == "reactive effort"
    assert error.actor.split(" in ")[0] in {"japan", "china"}
    assert 1 <= error.step < 1000
    assert f"step {error.step}" in str(error)


@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_engine_flags_only_the_diverged_run(precision):
    _, batch = _extreme_batch(precision)
    seen_steps = []
    final = simulate(batch, on_divergence="flag", observe=lambda s: seen_steps.append(s.step))
    assert seen_steps[-1] == 1000
    assert final.diverged_step[0] == final.diverged_step[1] == -1
    assert final.diverged_step[2] >= 1
    for name in ("footprint", "goodwill", "diplomatic", "share", "effort", "stability"):
        assert np.isfinite(getattr(final, name)[:2]).all(), name


def test_float64_lasts_longer_by_the_ratio_of_exponents():
    """Effort grows geometrically, so float64 overflows after ~308/38 times as many steps."""
    steps = {}
    for precision in ("float32", "float64"):
        _, batch = _extreme_batch(precision, runs=1)
        with pytest.raises(DivergenceError) as caught:
            simulate(batch)
        steps[precision] = caught.value.step
    ratio = steps["float64"] / steps["float32"]
    assert math.isclose(ratio, 308 / 38, rel_tol=0.25), steps
