import pytest
from sweep_helpers import write_sweep

from sim.cli import main
from sim.errors import ScenarioError
from sim.sweep.plan import load_sweep, numeric_paths


def problems_of(path) -> str:
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    assert info.value.source == str(path)
    return "\n".join(info.value.problems)


def test_valid_sweep_file_plans(tmp_path):
    plan = load_sweep(write_sweep(tmp_path))
    assert plan.paths == ("powers.china.reaction.japan.sensitivity", "powers.japan.risk_tolerance")
    assert "influence_end_japan" in plan.outputs
    assert plan.chunk_samples == 2  # chunk_size 6 runs / 3 seeds


def test_unknown_key_is_named_with_a_hint(tmp_path):
    text = problems_of(write_sweep(tmp_path, sedds=3))
    assert "sedds: unknown key" in text and "did you mean 'seeds'" in text


def test_bounds_in_wrong_order(tmp_path):
    path = write_sweep(tmp_path, parameters={"rules.hedging": {"bounds": [0.8, 0.2], "levels": 2}})
    assert "bounds [0.8, 0.2] must be [low, high]" in problems_of(path)


def test_wrong_type(tmp_path):
    text = problems_of(write_sweep(tmp_path, seeds="many"))
    assert "seeds" in text and '"many"' in text


def test_field_that_does_not_exist(tmp_path):
    path = write_sweep(tmp_path, parameters={
        "powers.china.reaction.japan.sensitivty": {"values": [1.0, 2.0]}})
    text = problems_of(path)
    assert "parameters.powers.china.reaction.japan.sensitivty: not a numeric field" in text
    assert "did you mean powers.china.reaction.japan.sensitivity" in text
    assert "--list-paths` lists all" in text


def test_values_the_scenario_refuses(tmp_path):
    negative = write_sweep(tmp_path, name="neg", parameters={
        "powers.china.reaction.japan.sensitivity": {"values": [-1.0, 1.0]}})
    assert "the value -1 is refused by the scenario" in problems_of(negative)
    too_big = write_sweep(tmp_path, name="big", design="latin", samples=4, parameters={
        "powers.japan.risk_tolerance": {"bounds": [0.1, 2.0]}})
    assert "the value 2 is refused" in problems_of(too_big)


def test_whole_number_field_with_a_continuous_design(tmp_path):
    path = write_sweep(tmp_path, design="random", samples=4, parameters={
        "states.kyrgyzstan.border_disputes": {"bounds": [0, 3]}})
    assert "states.kyrgyzstan.border_disputes" in problems_of(path)


def test_design_rules(tmp_path):
    two = {"rules.hedging": {"bounds": [0, 1]}, "rules.stability.recovery": {"bounds": [0, 1]}}
    sobol = write_sweep(tmp_path, name="s", design="sobol", samples=100, parameters=two)
    assert "power of 2" in problems_of(sobol)
    assert "needs 'levels'" in problems_of(write_sweep(tmp_path, name="g", parameters={
        "rules.hedging": {"bounds": [0, 1]}}))
    assert "needs 'samples'" in problems_of(write_sweep(tmp_path, name="r", design="random"))


def test_plot_names_checked(tmp_path):
    text = problems_of(write_sweep(tmp_path, plot={"output": "influence_end_japn", "x": "nope"}))
    assert "did you mean 'influence_end_japan'" in text and "plot.x: 'nope'" in text


def test_cli_refuses_a_bad_sweep_with_exit_2_and_writes_nothing(tmp_path, capsys):
    path = write_sweep(tmp_path, parameters={"rules.nothing": {"values": [1.0]}})
    out = tmp_path / "results"
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "rules.nothing" in err and "Traceback" not in err
    assert not out.exists()


def test_missing_scenario_file(tmp_path):
    assert "does not exist" in problems_of(write_sweep(tmp_path, scenario="nowhere.yaml"))


def test_list_paths(tmp_path, capsys):
    path = write_sweep(tmp_path)
    assert "rules.hedging" in numeric_paths(path)
    assert main(["sweep", str(path), "--list-paths"]) == 0
    assert "powers.china.reaction.japan.sensitivity" in capsys.readouterr().out.split()


def test_shipped_sweeps_are_valid():
    from sweep_helpers import ROOT

    files = sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml"))
    assert len(files) >= 2
    designs = {load_sweep(f).spec.design for f in files}
    assert {"grid", "sobol"} <= designs


def test_names_that_would_leave_the_results_folder_are_refused(tmp_path):
    for name in ("..", ".", "a/b"):
        path = write_sweep(tmp_path)
        path.write_text(path.read_text().replace("name: tiny", f"name: '{name}'"))
        assert "name: " in problems_of(path)


def test_too_many_samples(tmp_path):
    path = write_sweep(tmp_path, parameters={
        "rules.hedging": {"bounds": [0, 1], "levels": 5000},
        "rules.stability.recovery": {"bounds": [0, 1], "levels": 5000}})
    assert "25,000,000 samples; at most 20,000,000" in problems_of(path)


def test_unreadable_sweep_file(tmp_path):
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ScenarioError, match="invalid sweep file") as info:
        load_sweep(missing)
    assert "does not exist" in str(info.value)
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_sweep(broken)


def test_whole_number_field_with_a_fraction_in_a_list_or_integer_bounds(tmp_path):
    listed = write_sweep(tmp_path, name="l", parameters={
        "states.kyrgyzstan.border_disputes": {"values": [0, 1, 1.5, 2, 3]}})
    assert "the value 1.5 is refused" in problems_of(listed)
    bounded = write_sweep(tmp_path, name="b", design="random", samples=4, parameters={
        "states.kyrgyzstan.border_disputes": {"bounds": [0, 2]}})
    assert "states.kyrgyzstan.border_disputes: the value 1.23607 is refused" in problems_of(bounded)
    whole = write_sweep(tmp_path, name="w", parameters={
        "states.kyrgyzstan.border_disputes": {"values": [0, 1, 2, 3]}})
    assert load_sweep(whole).paths == ("states.kyrgyzstan.border_disputes",)
