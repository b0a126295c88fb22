"""Tests for parametric uncertainty (sim.uncertainty, ``--uncertainty``): draws per
replicate, pairing across compared scenarios, held fields, the posterior, bad files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import uncertainty as unc
from sim.cli import main
from sim.engine import compile_scenario, make_batch, repeat
from sim.outputs.folders import run_id
from sim.outputs.record import record
from sim.scenario import load_scenario
from sim.whatif.compare import Comparison

DATA = Path(__file__).parent / "data"
SMALL = DATA / "small.yaml"
SENSITIVITY = "powers.china.reaction.japan.sensitivity"
FOOTPRINT = "states.alpha.initial.footprint.japan"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def only(folder: Path) -> Path:
    """The one results folder under ``folder/<name>/``."""
    found = [p for p in folder.glob("*/*") if p.is_dir() and not p.name.startswith(".")]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def priors(tmp_path: Path) -> Path:
    """A FILE: China's reaction to Japan and Japan's initial footprint in alpha, bounded."""
    return write(tmp_path / "priors.yaml", f"""
{SENSITIVITY}: {{dist: lognormal, median: 2.0, sigma: 0.8, bounds: [1.0, 4.0]}}
{FOOTPRINT}: {{dist: uniform, low: 50, high: 500}}
""")


@pytest.fixture
def loud(tmp_path: Path) -> Path:
    """A what-if of small.yaml: Japan invests four times as much."""
    return write(tmp_path / "loud.yaml", f"extends: {SMALL}\nname: small_loud\n"
                                         "powers: {japan: {budget: {invest: 160}}}\n")


@pytest.fixture
def no_posterior(tmp_path: Path, monkeypatch) -> None:
    """No posterior ships (whatever the repository holds): the default --uncertainty reads it
    in sim.uncertainty.draws."""
    monkeypatch.setattr("sim.uncertainty.draws.DEFAULT_POSTERIOR",
                        tmp_path / "absent" / "posterior.parquet")


@pytest.fixture
def posterior(tmp_path: Path, monkeypatch) -> Path:
    """A tiny shipped posterior: row 0 has weight 0 and must never be drawn."""
    folder = tmp_path / "data" / "posterior"
    folder.mkdir(parents=True)
    frame = pd.DataFrame({SENSITIVITY: [9.0, 1.5, 2.5], "rules.hedging": [0.9, 0.2, 0.3],
                          "powers.russia.visibility": [0.1, 0.2, 0.3],  # not in small.yaml
                          "weight": [0.0, 1.0, 3.0]})
    path = folder / "posterior.parquet"
    frame.to_parquet(path)
    (folder / "manifest.json").write_text('{"method": "test"}\n')
    monkeypatch.setattr("sim.uncertainty.draws.DEFAULT_POSTERIOR", path)
    return path


def test_a_file_draws_each_replicate_within_its_bounds(tmp_path, priors, no_posterior):
    out = tmp_path / "out"
    assert main(["run", str(SMALL), "--replicates", "12", "--uncertainty", str(priors),
                 "--out", str(out), "--no-plot", "--quiet"]) == 0
    folder = only(out)
    params = pd.read_csv(folder / "parameters.csv")
    assert list(params.columns) == ["seed", SENSITIVITY, FOOTPRINT]
    assert list(params["seed"]) == list(range(5, 17))
    assert params[SENSITIVITY].between(1.0, 4.0).all()
    assert params[SENSITIVITY].nunique() == 12 and params[SENSITIVITY].std() > 0.2
    assert params[FOOTPRINT].between(50, 500).all() and params[FOOTPRINT].nunique() == 12
    # the drawn footprint is what each replicate started from
    traj = pd.read_csv(folder / "trajectories.csv")
    start = traj[(traj.step == 0) & (traj.state == "alpha") & (traj.power == "japan")]
    np.testing.assert_allclose(start.set_index("seed")["footprint"],
                               params.set_index("seed")[FOOTPRINT], rtol=1e-6)
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = manifest["uncertainty"]
    assert entry["kind"] == "file"
    assert entry["sha256"] == hashlib.sha256(priors.read_bytes()).hexdigest()
    assert entry["drawn"] == [SENSITIVITY, FOOTPRINT] and entry["held"] == []
    assert folder.name.startswith("s5x12-") and "-u" in folder.name
    band = pd.read_csv(folder / "summary.csv")["band"].unique()
    assert list(band) == ["over 12 seeds and parameter draws from priors.yaml"]


def test_truncated_normal_stays_inside_its_bounds():
    d = unc.Distribution("x", "normal", {"mean": 0.0, "sd": 1.0}, (0.5, 0.7))
    values = d.sample(np.linspace(1e-9, 1 - 1e-9, 1001))
    assert values.min() >= 0.5 and values.max() <= 0.7
    assert values.min() < 0.501 and values.max() > 0.699  # truncated, not clipped to a point
    assert np.all(np.diff(values) >= 0)


def test_draws_are_a_pure_function_of_seed_plus_i(priors):
    u = unc.load_file(priors)
    first, again = u.draw(2025, 6), u.draw(2025, 6)
    for path in u.paths:
        np.testing.assert_array_equal(first[path], again[path])
        assert first[path][3] == u.draw(2028, 1)[path][0]  # replicate 3 of 2025 = seed 2028
    # adding a field does not change the other fields' draws
    more = unc.Uncertainty(kind="file", distributions=(
        *u.distributions, unc.Distribution("rules.hedging", "uniform", {"low": 0, "high": 1})))
    np.testing.assert_array_equal(more.draw(2025, 6)[SENSITIVITY], first[SENSITIVITY])


def test_compare_pairs_the_draws_and_holds_what_the_what_if_changes(tmp_path, priors,
                                                                    no_posterior):
    held = write(tmp_path / "hard.yaml", f"extends: {SMALL}\nname: small_hard\nseed: 99\n"
                 "powers: {china: {reaction: {japan: {rule: threshold, sensitivity: 7.0, "
                 "threshold: 0.03}}}}\n")
    out = tmp_path / "out"
    assert main(["compare", str(SMALL), str(held), "--replicates", "6", "--uncertainty",
                 str(priors), "--out", str(out), "--no-plot", "--quiet"]) == 0
    folder = next((out / "compare").iterdir())
    params = pd.read_csv(folder / "parameters.csv")
    base = params[params.scenario == "small"].set_index("seed")
    hard = params[params.scenario == "small_hard"].set_index("seed")
    # paired: the same draw for the same seed in both scenarios
    np.testing.assert_array_equal(base[FOOTPRINT], hard[FOOTPRINT])
    assert base[SENSITIVITY].nunique() == 6
    assert hard[SENSITIVITY].isna().all()  # held at 7.0, not drawn
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["uncertainty"]["held"] == {"small": [], "small_hard": [SENSITIVITY]}
    assert manifest["uncertainty"]["band"] == "over 6 seeds and parameter draws from priors.yaml"


def test_a_branch_draws_its_parent_history_like_the_parent(tmp_path):
    from sim.scenario.branch import branch_step
    from sim.whatif.compare import compare_scenarios

    priors = write(tmp_path / "p.yaml", f"{SENSITIVITY}: {{dist: uniform, low: 0, high: 6}}\n"
                   "powers.japan.visibility: {dist: uniform, low: 0.1, high: 0.6}\n")
    files = [str(SMALL), str(DATA / "small_branch.yaml")]
    scenarios = [load_scenario(f) for f in files]
    draws = unc.plan_draws(unc.load_file(priors), scenarios, files, 8, compared=True)
    assert draws[1].held == ("powers.japan.visibility",)  # the branch sets it to 0.9
    assert "powers.japan.visibility" in draws[1].parent.values  # drawn before the branch
    comparison = compare_scenarios(scenarios, replicates=8, draws=draws)
    k = branch_step(scenarios[1])
    diff = comparison.difference(1)
    assert np.all(diff[:k] == 0.0)  # identical histories up to the branch quarter
    assert np.abs(diff[k:]).max() > 0
    visibility = draws[0].values["powers.japan.visibility"]
    assert visibility.std() > 0.05


def test_a_field_given_with_set_or_changed_from_the_base_is_held(tmp_path, priors, loud,
                                                                 no_posterior):
    out = tmp_path / "out"
    assert main(["run", str(SMALL), "--replicates", "4", "--uncertainty", str(priors),
                 "--set", f"{SENSITIVITY}=0.25", "--out", str(out), "--no-plot",
                 "--quiet"]) == 0
    folder = only(out)
    assert list(pd.read_csv(folder / "parameters.csv").columns) == ["seed", FOOTPRINT]
    assert json.loads((folder / "manifest.json").read_text())["uncertainty"]["held"] == [
        SENSITIVITY]
    # a what-if file that changes a drawn field from its extends: base holds it
    change = write(tmp_path / "foot.yaml", f"extends: {SMALL}\nname: small_foot\n"
                   "states: {alpha: {initial: {footprint: {japan: 999}}}}\n")
    scenario = load_scenario(change)
    draws = unc.plan_draws(unc.load_file(priors), [scenario], [str(change)], 4)[0]
    assert draws.held == (FOOTPRINT,) and list(draws.values) == [SENSITIVITY]
    assert unc.plan_draws(unc.load_file(priors), [load_scenario(loud)], [str(loud)], 4)[0
                          ].held == ()


def test_none_reproduces_the_scenario_as_written(tmp_path, no_posterior):
    out = tmp_path / "out"
    assert main(["run", str(SMALL), "--replicates", "3", "--uncertainty", "none",
                 "--out", str(out), "--no-plot", "--quiet"]) == 0
    folder = only(out)
    scenario = load_scenario(SMALL)
    assert folder.name == run_id(scenario, [5, 6, 7])  # the id it always had
    assert not (folder / "parameters.csv").exists()
    structure, params = compile_scenario(scenario)
    direct = record(make_batch(structure, repeat(params, 3), [5, 6, 7]), scenario=scenario)
    traj = pd.read_csv(folder / "trajectories.csv")
    written = traj["share"].to_numpy().astype(np.float32).reshape(3, -1)  # float32 engine
    for r in range(3):
        np.testing.assert_array_equal(written[r], direct.trajectories(r)["share"].to_numpy())
    entry = json.loads((folder / "manifest.json").read_text())["uncertainty"]
    assert entry["kind"] == "none" and entry["band"] == "over 3 seeds only (parameters as written)"
    # the default with no posterior is none; a comparison keeps its id formula
    assert main(["run", str(SMALL), "--replicates", "3", "--out", str(out), "--no-plot",
                 "--quiet"]) == 0
    assert only(out) == folder
    comparison = Comparison(labels=["a", "b"], scenarios=[scenario, scenario], recordings=[],
                            seeds=[5], metric="share", states=[], powers=[])
    legacy = json.dumps({"scenarios": [scenario.digest()] * 2, "seeds": [5],
                         "metric": "share", "labels": ["a", "b"]}, sort_keys=True)
    assert comparison.digest() == hashlib.sha256(legacy.encode()).hexdigest()


def test_a_single_run_ignores_the_default_posterior(tmp_path, posterior):
    out = tmp_path / "out"
    assert main(["run", str(SMALL), "--out", str(out), "--no-plot", "--quiet"]) == 0
    folder = only(out)
    assert folder.name == run_id(load_scenario(SMALL), [5])
    assert not (folder / "parameters.csv").exists()
    assert json.loads((folder / "manifest.json").read_text())["uncertainty"]["kind"] == "none"


def test_the_default_posterior_is_drawn_by_weight(tmp_path, posterior):
    out = tmp_path / "out"
    assert main(["run", str(SMALL), "--replicates", "40", "--out", str(out), "--no-plot",
                 "--quiet"]) == 0
    folder = only(out)
    params = pd.read_csv(folder / "parameters.csv")
    assert list(params.columns) == ["seed", SENSITIVITY, "rules.hedging"]
    rows = set(zip(params[SENSITIVITY], params["rules.hedging"], strict=True))
    assert rows == {(1.5, 0.2), (2.5, 0.3)}  # whole rows; the weight-0 row never
    assert 20 <= (params[SENSITIVITY] == 2.5).sum() <= 38  # weight 3 of 4
    entry = json.loads((folder / "manifest.json").read_text())["uncertainty"]
    assert entry["kind"] == "posterior"
    assert entry["sha256"] == hashlib.sha256(posterior.read_bytes()).hexdigest()
    assert "posterior_manifest_sha256" in entry and entry["rows"] == 3
    assert "powers.russia.visibility" not in entry["drawn"]
    many = unc.load_posterior(posterior).draw(0, 4000)[SENSITIVITY]
    assert abs((many == 2.5).mean() - 0.75) < 0.03


def test_parameter_uncertainty_widens_the_interval(tmp_path, loud, no_posterior):
    wide = write(tmp_path / "wide.yaml", f"{SENSITIVITY}: {{dist: uniform, low: 0, high: 8}}\n")
    widths = {}
    for choice in ("none", str(wide)):
        out = tmp_path / Path(choice).stem
        assert main(["compare", str(SMALL), str(loud), "--replicates", "20", "--uncertainty",
                     choice, "--out", str(out), "--no-plot", "--quiet"]) == 0
        table = pd.read_csv(next((out / "compare").iterdir()) / "last_quarter.csv")
        row = table[(table.state == "alpha") & (table.power == "china")].iloc[0]
        widths[choice] = row.difference_p95 - row.difference_p5
        assert row.band.startswith("over 20 seeds")
    # Reactions are bounded by the reacting power's reserve (docs/ODD.md), so a wide sensitivity
    # moves the outcome less than when the ceiling was local: measured 2.6 times the seeds-only
    # width (the draws and seeds are fixed, so the figure is deterministic).
    assert widths[str(wide)] > 2 * widths["none"]


BAD = {
    "unknown_dist": (f"{SENSITIVITY}: {{dist: gaussian, mean: 1, sd: 1}}",
                     "'gaussian' is not allowed; choose uniform, normal, lognormal, triangular"),
    "missing_parameter": (f"{SENSITIVITY}: {{dist: lognormal, median: 2}}",
                          f"{SENSITIVITY}.sigma: required for lognormal"),
    "bad_bounds": (f"{SENSITIVITY}: {{dist: normal, mean: 1, sd: 1, bounds: [3, 2]}}",
                   "[3, 2] is not allowed: give [lo, hi]"),
    "bad_parameter": (f"{SENSITIVITY}: {{dist: uniform, low: 3, high: 1}}",
                      "low 3, high 1 is not allowed: low < high"),
    "unknown_path": ("powers.china.reaction.japan.sensitivty: {dist: uniform, low: 0, high: 1}",
                     f"not a numeric field of the scenario 'small'; did you mean {SENSITIVITY}"),
    "refused_range": ("powers.japan.visibility: {dist: normal, mean: 0.5, sd: 0.3}",
                      "powers.japan.visibility: draws reach"),
    "unknown_key": (f"{SENSITIVITY}: {{dist: uniform, low: 0, high: 1, mode: 0.5}}",
                    f"{SENSITIVITY}.mode: unknown key for uniform"),
    "not_a_mapping": (f"{SENSITIVITY}: 2.0", "is not allowed: give a mapping"),
    "not_yaml": (f"{SENSITIVITY}: {{dist: [", "not valid YAML"),
}


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("command", ["run", "compare"])
def test_a_bad_file_exits_2_naming_the_problem_and_writes_nothing(tmp_path, capsys, case,
                                                                   command, no_posterior):
    text, expected = BAD[case]
    bad = write(tmp_path / f"{case}.yaml", text + "\n")
    out = tmp_path / "out"
    files = [str(SMALL)] * (2 if command == "compare" else 1)
    assert main([command, *files, "--replicates", "3", "--uncertainty", str(bad),
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: invalid uncertainty file" in err and expected in err, err
    assert "Traceback" not in err
    assert not out.exists()


def test_bad_choices_and_posteriors_exit_2(tmp_path, capsys, monkeypatch, no_posterior):
    out = tmp_path / "out"
    assert main(["run", str(SMALL), "--replicates", "3", "--uncertainty", "posteriro",
                 "--out", str(out)]) == 2
    assert "did you mean 'posterior'?" in capsys.readouterr().err
    assert main(["run", str(SMALL), "--replicates", "3", "--uncertainty", "posterior",
                 "--out", str(out)]) == 2
    assert "no posterior here" in capsys.readouterr().err
    broken = tmp_path / "posterior.parquet"
    pd.DataFrame({SENSITIVITY: [1.0, 2.0], "weight": [-1.0, 1.0]}).to_parquet(broken)
    monkeypatch.setattr("sim.uncertainty.draws.DEFAULT_POSTERIOR", broken)
    assert main(["run", str(SMALL), "--replicates", "3", "--out", str(out)]) == 2
    assert "every weight must be finite and >= 0" in capsys.readouterr().err
    assert not out.exists()


def test_the_shipped_priors_fit_the_shipped_scenarios():
    root = Path(__file__).parent.parent / "scenarios"
    files = [str(root / "baseline.yaml"), str(root / "china_hard_reaction.yaml")]
    priors = unc.load_file(root / "uncertainty" / "reactions.yaml")
    draws = unc.plan_draws(priors, [load_scenario(f) for f in files], files, 4, compared=True)
    assert sorted(draws[0].values) == sorted(priors.paths)
    assert draws[1].held == (SENSITIVITY,)


def test_printed_tables_figures_and_report_say_what_the_bands_include(tmp_path, capsys, priors,
                                                                      loud, no_posterior):
    out = tmp_path / "out"
    assert main(["compare", str(SMALL), str(loud), "--replicates", "4", "--uncertainty",
                 str(priors), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "intervals over 4 seeds and parameter draws from priors.yaml" in printed
    folder = next((out / "compare").iterdir())
    assert main(["report", str(folder)]) == 0
    page = (folder / "report.html").read_text()
    assert "bands and intervals over 4 seeds and parameter draws from priors.yaml" in page
    assert SENSITIVITY in page and hashlib.sha256(priors.read_bytes()).hexdigest()[:12] in page
    assert main(["run", str(SMALL), "--replicates", "3", "--uncertainty", "none",
                 "--out", str(tmp_path / "runs"), "--no-plot"]) == 0
    assert "mean over 3 seeds only (parameters as written)" in capsys.readouterr().out
    run = only(tmp_path / "runs")
    assert main(["report", str(run)]) == 0
    assert "over 3 seeds only (parameters as written)" in (run / "report.html").read_text()


def test_figure_captions_name_the_uncertainty(priors, loud):
    from sim.outputs.plots import influence_figure
    from sim.outputs.run import run_scenario
    from sim.whatif.compare import compare_scenarios, comparison_figure

    files = [str(SMALL), str(loud)]
    scenarios = [load_scenario(f) for f in files]
    draws = unc.plan_draws(unc.load_file(priors), scenarios, files, 3, compared=True)
    figure = comparison_figure(compare_scenarios(scenarios, 3, draws=draws), 0)
    texts = [t.get_text() for t in figure.texts]
    assert "bands and intervals over 3 seeds and parameter draws from priors.yaml" in texts
    figure = influence_figure(run_scenario(scenarios[0], 3))
    assert "bands over 3 seeds only (parameters as written)" in [t.get_text()
                                                                  for t in figure.texts]


def test_history_only_columns_are_never_drawn_into_a_forecast(tmp_path, monkeypatch):
    """``history:`` columns (fitted budgets of 2015-2019) are skipped, even where the field
    path exists: here ``history:rules.hedging`` beside a plain ``rules.hedging``."""
    path = tmp_path / "posterior.parquet"
    pd.DataFrame({"rules.hedging": [0.2, 0.3], "history:rules.hedging": [7.0, 8.0],
                  "history:events.0.factor": [0.3, 0.4], "weight": [1.0, 1.0]}).to_parquet(path)
    monkeypatch.setattr("sim.uncertainty.draws.DEFAULT_POSTERIOR", path)
    out = tmp_path / "out"
    assert main(["run", str(SMALL), "--replicates", "12", "--uncertainty", "posterior",
                 "--out", str(out), "--no-plot", "--quiet"]) == 0
    folder = only(out)
    params = pd.read_csv(folder / "parameters.csv")
    assert list(params.columns) == ["seed", "rules.hedging"]
    assert set(params["rules.hedging"]) <= {0.2, 0.3}
    entry = json.loads((folder / "manifest.json").read_text())["uncertainty"]
    assert entry["drawn"] == ["rules.hedging"]
    assert entry["history_only_skipped"] == ["history:rules.hedging", "history:events.0.factor"]
    # The same rows are drawn as from a posterior without the history-only columns.
    plain = tmp_path / "plain.parquet"
    pd.read_parquet(path)[["rules.hedging", "weight"]].to_parquet(plain)
    np.testing.assert_array_equal(unc.load_posterior(plain).draw(5, 50)["rules.hedging"],
                                  unc.load_posterior(path).draw(5, 50)["rules.hedging"])


def test_the_shipped_baseline_skips_the_shipped_history_columns():
    """The shipped posterior's history-only columns are left out of the baseline's draws."""
    if not unc.DEFAULT_POSTERIOR.is_file():
        pytest.skip("no shipped posterior")
    baseline = Path(__file__).parents[1] / "scenarios" / "baseline.yaml"
    loaded = unc.load_posterior(unc.DEFAULT_POSTERIOR)
    (draws,) = unc.plan_draws(loaded, [load_scenario(baseline)], [str(baseline)], 4)
    assert draws.values and not any(p.startswith("events.") for p in draws.values)
    skipped = loaded.manifest()["history_only_skipped"]
    assert skipped and all(c.startswith(unc.HISTORY_PREFIX) for c in skipped)
    kept = unc.load_posterior(unc.DEFAULT_POSTERIOR, history=True).columns
    assert {unc.field_path(c) for c in skipped} <= set(kept)
