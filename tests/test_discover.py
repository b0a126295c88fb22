"""sim discover: PRIM boxes over a sweep's parameters, end to end through the command line."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from clihelp import files_under, run_sim
from sweep_helpers import write_sweep

from sim.cli import main
from sim.decide.discover import DiscoverError, Discovery, choose, discover
from sim.sweep import load_sweep, run_sweep

CHINA = "powers.china.reaction.japan.sensitivity"
RISK = "powers.japan.risk_tolerance"
VISIBILITY = "powers.japan.visibility"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A small Latin hypercube sweep over three parameters (120 runs, 8 quarters)."""
    folder = tmp_path_factory.mktemp("sweep")
    path = write_sweep(folder, name="latin", design="latin", samples=60, seeds=2, chunk_size=64,
                       parameters={CHINA: {"bounds": [0.0, 4.0]}, RISK: {"bounds": [0.1, 0.6]},
                                   VISIBILITY: {"bounds": [0.1, 0.9]}})
    return run_sweep(load_sweep(path), out=folder / "results", workers=1, quiet=True).folder


def median_outcome(folder) -> str:
    """An outcome that about half the runs have."""
    median = pd.read_parquet(folder / "runs.parquet")["influence_end_japan"].median()
    return f"influence_end_japan > {float(median)!r}"


def in_box(x: pd.DataFrame, limits: pd.DataFrame) -> np.ndarray:
    """Which rows lie in the box (inclusive limits; columns path, lower, upper)."""
    inside = np.ones(len(x), dtype=bool)
    for row in limits.itertuples():
        inside &= (x[row.path] >= row.lower).to_numpy() & (x[row.path] <= row.upper).to_numpy()
    return inside


def test_discover_writes_the_box_and_the_box_holds_the_runs_it_claims(sweep, capsys):
    outcome = median_outcome(sweep)
    assert main(["discover", str(sweep), "--outcome", outcome, "--min-coverage", "0.4"]) == 0
    printed = capsys.readouterr().out
    folders = list((sweep / "discover").iterdir())
    assert len(folders) == 1
    out = folders[0]
    assert f"results: {out}" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        "box.csv", "boxes.csv", "manifest.json", "tradeoff.png", "trajectory.csv"]
    runs = pd.read_parquet(sweep / "runs.parquet")
    y = runs.eval(outcome).to_numpy()
    assert 0 < y.sum() < len(y)
    trajectory = pd.read_csv(out / "trajectory.csv")
    box = pd.read_csv(out / "box.csv")
    info = json.loads((out / "manifest.json").read_text())
    assert list(box["path"]) == [CHINA, RISK, VISIBILITY]
    # Recompute the chosen box's coverage and density from runs.parquet and its limits.
    inside = in_box(runs, box)
    k = int((inside & y).sum())
    chosen = trajectory[trajectory["chosen"]]
    assert len(chosen) == 1
    row = chosen.iloc[0]
    assert (row["n_runs"], row["n_outcome"]) == (inside.sum(), k)
    assert row["coverage"] == pytest.approx(k / y.sum())
    assert row["density"] == pytest.approx(k / inside.sum())
    assert (info["coverage"], info["density"]) == (row["coverage"], row["density"])
    assert info["n_outcome"] == y.sum() and info["n_runs"] == len(runs) == 120
    # The rule: the densest box with coverage >= 0.4; PRIM did narrow the sweep.
    eligible = trajectory[trajectory["coverage"] >= 0.4]
    assert row["density"] == eligible["density"].max()
    assert row["density"] > y.mean() and box["restricted"].any()
    # Every box on the trajectory holds the runs its row says.
    boxes = pd.read_csv(out / "boxes.csv")
    for b, limits in boxes.groupby("box"):
        inside = in_box(runs, limits)
        stats = trajectory.set_index("box").loc[b]
        assert (stats["n_runs"], stats["n_outcome"]) == (inside.sum(), (inside & y).sum())
    # The printed table shows shares as % and names the restricted parameters.
    assert f"coverage {row['coverage']:.1%}" in printed
    assert f"density {row['density']:.1%}" in printed
    for path in box.loc[box["restricted"], "path"]:
        assert path in printed


def test_each_question_gets_its_own_folder_and_reruns_are_identical(sweep, tmp_path):
    outcome = median_outcome(sweep)
    args = ["discover", str(sweep), "--outcome", outcome, "--no-plot", "--quiet"]
    assert main(args) == 0
    first = {p: p.read_bytes() for p in files_under(sweep / "discover") if p.suffix == ".csv"}
    assert main(args) == 0
    again = {p: p.read_bytes() for p in files_under(sweep / "discover") if p.suffix == ".csv"}
    assert first == again
    before = set((sweep / "discover").iterdir())
    assert main([*args, "--alpha", "0.1"]) == 0
    assert main(["discover", str(sweep), "--outcome", f"not ({outcome})", "--quiet"]) == 0
    assert len(set((sweep / "discover").iterdir()) - before) == 2


def test_the_command_prints_no_library_noise_and_help_stays_light(sweep):
    result = run_sim("discover", sweep, "--outcome", median_outcome(sweep), "--threshold", "0.6")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "coverage" in result.stdout and "density" in result.stdout
    # Building the command line must not import ema_workbench (a few seconds).
    code = ("import sys; from sim.cli.main import build_parser; build_parser(); "
            "print('ema_workbench' in sys.modules)")
    light = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, cwd=sweep.parent)
    assert light.stdout.strip() == "False"


@pytest.mark.parametrize("outcome,options,fragment", [
    ("influence_end_japan >", [], "expected a number, a column or '(', found end"),
    ("influence_end_japn > 0.01", [], "did you mean influence_end_japan"),
    ("influence_end_japan + 1", [], "gives numbers, not true or false"),
    ("influence_end_japan > 5", [], "holds for no run"),
    ("influence_end_japan > -1", [], "holds for every run"),
    ("@outcome > 0", [], "Python variables (@name) are not allowed at character 1"),
    ("influence_end_japan.sum()", [], "attribute access is not allowed"),
    ("influence_end_japan > 0", ["--alpha", "0.7"], "--alpha 0.7 is outside (0, 0.5)"),
    ("influence_end_japan > 0", ["--min-coverage", "1.5"], "--min-coverage 1.5 is outside"),
    ("influence_end_japan > 0", ["--threshold", "0"], "--threshold 0 is outside (0, 1]"),
])
def test_bad_outcomes_and_options_exit_2_and_write_nothing(sweep, capsys, outcome, options,
                                                            fragment):
    before = files_under(sweep / "discover")
    assert main(["discover", str(sweep), "--outcome", outcome, *options]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err
    assert err.startswith("sim discover: ")
    assert files_under(sweep / "discover") == before


def test_missing_unfinished_and_foreign_folders_are_refused(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "manifest.json").write_text("{}")
    (tmp_path / "unfinished").mkdir()
    (tmp_path / "unfinished" / "plan.json").write_text(json.dumps({"paths": ["a"]}))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "plan.json").write_text("{not json")
    cases = {"nowhere": "no such folder", "run": "not a sweep results folder (no plan.json)",
             "unfinished": "the sweep has not finished", "broken": "not readable JSON"}
    for name, fragment in cases.items():
        assert main(["discover", str(tmp_path / name), "--outcome", "x > 1"]) == 2
        err = capsys.readouterr().err
        assert fragment in err, err
        assert not (tmp_path / name / "discover").exists()


def fake_sweep(folder, x: pd.DataFrame, y: np.ndarray, labels: dict | None = None):
    """A folder that reads as a finished sweep: plan.json and runs.parquet (outcome column y)."""
    folder.mkdir()
    specs = {path: {"bounds": [0, 1], "label": label} for path, label in (labels or {}).items()}
    plan = {"name": "synthetic", "paths": list(x), "sweep": {"parameters": specs}}
    (folder / "plan.json").write_text(json.dumps(plan))
    runs = x.assign(y=y.astype(float), run_id=np.arange(len(x)))
    runs.to_parquet(folder / "runs.parquet")
    return folder


def test_prim_recovers_a_known_box(tmp_path):
    """On a uniform sample where the outcome is exactly x1 > 0.7 and x2 < 0.3, the box is that."""
    rng = np.random.default_rng(2024)
    x = pd.DataFrame(rng.uniform(size=(4000, 3)), columns=["x1", "x2", "x3"])
    y = ((x["x1"] > 0.7) & (x["x2"] < 0.3)).to_numpy()
    found = discover(fake_sweep(tmp_path / "s", x, y, labels={"x2": "China's reaction"}),
                     Discovery("y > 0.5"))
    box = found.box_table().set_index("path")
    assert list(box["parameter"]) == ["x1", "China's reaction", "x3"]
    assert box.loc["x1", "lower"] == pytest.approx(0.7, abs=0.02)
    assert box.loc["x2", "upper"] == pytest.approx(0.3, abs=0.02)
    assert box.loc["x1", "upper"] == pytest.approx(1.0, abs=1e-3)
    assert box.loc["x2", "lower"] == pytest.approx(0.0, abs=1e-3)
    assert list(box["restricted"]) == [True, True, False]
    chosen = found.trajectory.loc[found.chosen]
    assert chosen["density"] >= 0.98 and chosen["coverage"] >= 0.9


def test_a_threshold_no_box_reaches_is_refused_with_the_best_density(tmp_path):
    rng = np.random.default_rng(5)
    x = pd.DataFrame(rng.uniform(size=(1000, 2)), columns=["a", "b"])
    y = rng.uniform(size=1000) < 0.3  # unrelated to x: no dense box exists
    folder = fake_sweep(tmp_path / "noise", x, y)
    with pytest.raises(DiscoverError, match=r"no box with a density of at least --threshold 0.9 .*"
                                        r"the densest box it reached has \d+\.\d%"):
        discover(folder, Discovery("y > 0.5", threshold=0.9))


def test_the_rule_takes_the_densest_box_with_enough_coverage():
    trajectory = pd.DataFrame({"coverage": [1.0, 0.9, 0.6, 0.45, 0.3],
                               "density": [0.2, 0.5, 0.8, 0.8, 1.0]})
    assert choose(trajectory, 0.5) == 2
    assert choose(trajectory, 0.4) == 2  # a tie in density goes to the higher coverage
    assert choose(trajectory, 0.0) == 4
    assert choose(trajectory, 1.0) == 0


def test_without_ema_workbench_the_command_says_what_to_install(sweep, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ema_workbench.analysis", None)
    assert main(["discover", str(sweep), "--outcome", median_outcome(sweep), "--alpha",
                 "0.2"]) == 2
    assert "pip install -e '.[decide]'" in capsys.readouterr().err


VALID_OUTCOMES = [
    "influence_end_japan > 0.03",
    "influence_end_japan > 3e-2 and spend_total_japan < 7500",
    "influence_end_japan < 0.025 or `powers.japan.risk_tolerance` < 0.2",
    "not (influence_end_japan > 0.03) and `powers.japan.visibility` >= 0.5",
    "(influence_end_japan > 0.03) & (`powers.japan.visibility` <= 0.5) | ~(seed == 1)",
    "influence_end_japan * 2 - influence_end_china / 4 > -influence_end_russia + 1e-3",
    "0.02 < influence_end_japan < 0.05",
    "diverged_step >= 0 or influence_end_japan != 0.04",
]


@pytest.mark.parametrize("outcome", VALID_OUTCOMES)
def test_the_outcome_grammar_gives_the_mask_pandas_query_gave(sweep, outcome):
    """On a real sweep table, each outcome the docs show selects the runs pandas selected."""
    from sim.decide.discover import evaluate_outcome

    runs = pd.read_parquet(sweep / "runs.parquet")
    before = runs.eval(outcome).fillna(False).to_numpy(dtype=bool)  # the old evaluator
    mask = evaluate_outcome(runs, outcome, "runs.parquet")
    assert mask.dtype == bool and len(mask) == len(runs)
    assert np.array_equal(mask, before)


ATTACKS = [
    "__import__('os').system('touch {x}')",
    "__import__(\"os\").system(\"touch {x}\") > 0",
    "@pd.io.common.os.system('touch {x}')",
    "influence_end_japan.__class__.__init__.__globals__['os'].system('touch {x}')",
    "influence_end_japan.to_csv('{x}')",
    "open('{x}', 'w')",
    "(lambda: __import__('os').system('touch {x}'))()",
    "seed[0] > 0 or __import__('pathlib').Path('{x}').touch()",
    "`influence_end_japan`.to_csv('{x}') > 0",
    "exec('open(\"{x}\", \"w\")')",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_an_outcome_never_runs_python(sweep, tmp_path, capsys, attack):
    """Code in an outcome is refused before anything is evaluated: the sentinel never appears."""
    sentinel = tmp_path / "SENTINEL"
    assert main(["discover", str(sweep), "--outcome", attack.format(x=sentinel),
                 "--no-plot"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sim discover: --outcome ") and "Traceback" not in err
    assert "not allowed" in err and "allowed: column names" in err
    assert not sentinel.exists()
