"""The kinds of move are declared once (sim/scenario/moves.py) and everything reads that table.

The toy-kind test copies the package, adds one entry to the table (the only code change a new
kind that builds a stock needs) and shows that the kind validates from YAML, runs, builds its
stock, appears in moves.csv, is told by ``sim explain`` and gets its dashboard slider and table
column.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.engine import compile_scenario, make_batch, simulate
from sim.scenario import CHANNELS, MOVES, load_scenario
from sim.scenario.actors import Budget
from sim.scenario.events import BudgetChange

ROOT = Path(__file__).resolve().parent.parent

TOY = '''    MoveKind("broadcast", "goodwill", False,
             "Broadcasting and media in local languages (builds goodwill).",
             "broadcast", "broadcasting", "broadcast {money} worth in {state}", 0.001),
'''


def test_budget_and_budget_change_fields_come_from_the_table():
    assert tuple(Budget.model_fields) == CHANNELS
    allowed = BudgetChange.model_fields["channel"].annotation.__args__
    assert allowed == (*CHANNELS, "all")
    assert [m.name for m in MOVES] == list(CHANNELS)


def test_no_module_but_the_table_spells_out_a_kind_of_move():
    pattern = re.compile(r"[\"'](" + "|".join(CHANNELS) + r")[\"']")
    found = []
    for path in (ROOT / "sim").rglob("*.py"):
        if path.name == "moves.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_engine_arrays_are_sized_by_the_table():
    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml", steps=1)
    structure, params = compile_scenario(sc)
    state = simulate(make_batch(structure, params, [1]))
    assert params.budget.shape[-1] == len(MOVES)
    assert state.spend.shape[1] == len(MOVES)
    assert state.budget_scale.shape[-1] == len(MOVES)


@pytest.fixture(scope="module")
def toy_package(tmp_path_factory) -> Path:
    """A copy of the package with one more kind of move in its table."""
    root = tmp_path_factory.mktemp("toy")
    shutil.copytree(ROOT / "sim", root / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "scenarios", root / "scenarios")
    table = root / "sim" / "scenario" / "moves.py"
    text = table.read_text()
    anchor = ')\n"""The kinds of move, in the order of the engine\'s channel axis."""'
    assert anchor in text
    table.write_text(text.replace(anchor, TOY + anchor, 1))
    return root


def _run(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(root), MPLBACKEND="Agg")
    return subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)


def test_a_toy_kind_of_move_validates_runs_and_is_told(toy_package, tmp_path):
    scenario = tmp_path / "toy.yaml"
    scenario.write_text(
        "# A toy kind of move.\n# Question: does a new kind need only its table entry?\n"
        f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nname: toy\nsteps: 8\n"
        "powers:\n  japan:\n    budget: {broadcast: 30}\n"
        "events:\n  - {kind: budget_change, power: japan, channel: broadcast, factor: 4, "
        "at: 2025Q3}\n")
    out = tmp_path / "results"
    done = _run(toy_package, "-m", "sim", "run", str(scenario), "--out", str(out), "--quiet",
                "--no-plot")
    assert done.returncode == 0, done.stderr
    run_dir = Path(done.stdout.strip().splitlines()[-1].split()[-1])
    moves = pd.read_csv(run_dir / "moves.csv")
    toy = moves[(moves["kind"] == "broadcast") & (moves["power"] == "japan")]
    assert len(toy) > 0 and toy["amount_usd_m"].sum() > 0
    told = _run(toy_package, "-m", "sim", "explain", str(run_dir), "--power", "japan",
                "--limit", "20")
    assert told.returncode == 0, told.stderr
    assert "worth in" in told.stdout, told.stdout[:2000]
    # It builds its stock: Japan's goodwill ends higher than without it.
    check = _run(toy_package, "-c", (
        "from sim.engine import compile_scenario, make_batch, simulate\n"
        "from sim.scenario import load_scenario\n"
        "from sim.app import CHANNEL_LABELS\n"
        f"sc = load_scenario({str(scenario)!r})\n"
        "base = load_scenario('scenarios/baseline.yaml', steps=8)\n"
        "def goodwill(s):\n"
        "    st, p = compile_scenario(s)\n"
        "    return float(simulate(make_batch(st, p, [s.seed])).goodwill[0, :, 0].sum())\n"
        "print(goodwill(sc) > goodwill(base), CHANNEL_LABELS['broadcast'])\n"))
    assert check.returncode == 0, check.stderr
    assert check.stdout.split() == ["True", "broadcast"]


def test_an_unknown_kind_of_move_is_refused_naming_the_kinds(tmp_path):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\n"
                        "powers:\n  japan:\n    budget: {broadcast: 30}\n")
    done = subprocess.run([sys.executable, "-m", "sim", "run", str(scenario), "--out",
                           str(tmp_path / "r")], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    assert done.returncode == 2
    assert "broadcast" in done.stderr and "soft_power" in done.stderr, done.stderr
