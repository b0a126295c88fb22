"""Bad scenario files are refused by the real ``sim run``: exit 2, a few plain lines, no output.

Every file in tests/data/bad/ (tests/data/bad/README.md says what each one tests) is run through
``python -m sim run FILE --out TMP``. Large inputs (a 50 MB file, deep nesting) are generated
here in tmp_path rather than committed.
"""

from __future__ import annotations

import time

import pytest
from clihelp import BAD, SMALL, assert_refused, files_under, run_sim

# file name -> fragments the message must contain (the field path, the value, what is allowed)
CASES: dict[str, list[str]] = {
    "malformed_unclosed_bracket.yaml": ["not valid YAML", "line 3"],
    "malformed_bad_indent.yaml": ["not valid YAML", "line 6"],
    "malformed_tab_indent.yaml": ["not valid YAML", "'\\t'"],
    "empty.yaml": ["empty"],
    "top_level_list.yaml": ["top level must be a mapping", "list"],
    "top_level_scalar.yaml": ["top level must be a mapping", "str"],
    "wrong_type_steps.yaml": ["steps", '"forty"', "integer"],
    "wrong_type_budget_scalar.yaml": ["powers.japan.budget", "100", "dictionary"],
    "wrong_type_powers_list.yaml": ["powers", "dictionary"],
    "wrong_type_border_disputes.yaml": ["states.kyrgyzstan.border_disputes", "1.5", "integer"],
    "negative_budget.yaml": ["powers.japan.budget.invest", "-120", "greater than or equal to 0"],
    "probability_above_one.yaml": ["events.0.probability", "1.5", "less than or equal to 1"],
    "stability_above_one.yaml": ["states.kazakhstan.stability", "1.2", "less than or equal to 1"],
    "autonomy_zero.yaml": ["states.kazakhstan.autonomy", "0", "greater than 0"],
    "sensitivity_too_high.yaml": ["powers.japan.reaction.china.sensitivity", "5000", "1000"],
    "unknown_rule.yaml": ["powers.japan.reaction.china.rule", "richardson", "tit_for_tat"],
    "unknown_power_in_reaction.yaml": ["powers.japan.reaction.chnia", "unknown power",
                                       "did you mean 'china'"],
    "unknown_state_in_event.yaml": ["events.0.state", "unknown state 'kazakstan'",
                                    "did you mean 'kazakhstan'"],
    "unknown_power_in_initial.yaml": ["states.kazakhstan.initial.footprint.usa",
                                      "unknown power 'usa'", "known powers: japan"],
    "unknown_key_top.yaml": ["stpes", "unknown key", "did you mean 'steps'"],
    "unknown_key_power.yaml": ["powers.japan.risk_tolerence", "unknown key",
                               "did you mean 'risk_tolerance'"],
    "unknown_event_kind.yaml": ["events.0.kind", "invasion", "not a kind of event",
                                "border_accord"],
    "misspelt_event_kind.yaml": ["events.0.kind", '"sumit" is not a kind of event',
                                 "did you mean summit?"],
    "extends_cycle_a.yaml": [
        "extends", "cycle", "extends_cycle_a.yaml -> extends_cycle_b.yaml -> extends_cycle_a.yaml",
    ],
    "extends_cycle_b.yaml": ["extends", "cycle"],
    "extends_self.yaml": ["extends", "cycle extends_self.yaml -> extends_self.yaml"],
    "extends_missing.yaml": ["extends", "no_such_parent.yaml", "does not exist"],
    "extends_not_a_path.yaml": ["extends", "not a file path"],
    "alias_billion_laughs.yaml": ["too many nodes", "aliases"],
    "alias_recursive.yaml": ["alias", "line 2", "recursive"],
    "not_utf8_latin1.yaml": ["not UTF-8", "byte 29"],
    "binary_junk.yaml": ["binary"],
    "event_after_horizon.yaml": ["events.0.at", "2040Q1", "outside the run", "2034Q4"],
    "event_before_start.yaml": ["events.0.at", "2020Q2", "outside the run"],
    "event_step_zero.yaml": ["events.0.at", "starts at 1"],
    "event_two_timings.yaml": ["events.0", "exactly one of 'at'", "'probability'"],
    "event_missing_field.yaml": ["events.0.factor", "missing"],
    "actor_listed_twice.yaml": ["duplicate key 'japan'", "line 6"],
    "key_listed_twice.yaml": ["duplicate key 'steps'", "line 7"],
    "bad_quarter.yaml": ["start", "2025Q5", "not a quarter"],
    "reacts_to_itself.yaml": ["powers.japan.reaction.japan", "cannot react to itself"],
    "allocation_all_zero.yaml": ["powers.japan.allocation", "sum to 0"],
    "no_powers.yaml": ["powers", "at least one"],
    "missing_states.yaml": ["states", "required field is missing"],
    "unknown_precision.yaml": ["precision", "float16", "'float32' or 'float64'"],
    "steps_too_many.yaml": ["steps", "100000", "10000"],
    "negative_seed.yaml": ["seed", "-1", "greater than or equal to 0"],
    "python_object_tag.yaml": ["not valid YAML", "python/object/apply"],
    "infinite_budget.yaml": ["powers.japan.budget.invest", "Infinity", "finite number"],
    "nan_tolerance.yaml": ["powers.japan.risk_tolerance", "NaN", "finite number"],
    "beyond_float32.yaml": ["states.kazakhstan.autonomy", "1e+39", "float32", "float64"],
    "many_problems.yaml": ["steps", "more problems"],
    "complex_key.yaml": ["not valid YAML", "a list cannot be a key", "line 3"],
    "date_key_in_value.yaml": ["steps", "datetime.date(2025, 1, 1)", "valid integer"],
    # issue 13: a misspelt actor must not become a new one; a misspelt sector has no effect
    "extends_misspelt_power.yaml": ["powers.japn", "unknown power 'japn'",
                                    "did you mean 'japan'", "new: true"],
    "extends_misspelt_state.yaml": ["states.kazakstan", "unknown state 'kazakstan'",
                                    "did you mean 'kazakhstan'"],
    "extends_new_marker_on_existing.yaml": ["powers.china", "`new: true`", "already has"],
    "new_marker_not_true.yaml": ["powers.japan.new", "'yes'", "only `new: true`"],
    "sector_interest_unknown.yaml": ["powers.china.resource_interest.gass", "no state holds",
                                     "did you mean 'gas'"],
    "sector_state_near_miss.yaml": ["states.uzbekistan.resources.uranum",
                                    "no power is interested", "did you mean 'uranium'"],
}


def test_the_corpus_has_at_least_30_scenario_cases_and_each_is_listed():
    on_disk = sorted(p.name for p in BAD.glob("*.yaml"))
    assert len(on_disk) >= 30
    assert sorted(CASES) == on_disk, "every bad file needs an entry in CASES (and vice versa)"
    readme = (BAD / "README.md").read_text()
    missing = [name for name in on_disk if name not in readme]
    assert not missing, f"tests/data/bad/README.md does not describe {missing}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_scenario_is_refused_clearly(name, tmp_path):
    out = tmp_path / "results"
    err = assert_refused(run_sim("run", BAD / name, "--out", out), out)
    assert name in err, f"the message does not name the file:\n{err}"
    for fragment in CASES[name]:
        assert fragment in err, f"{fragment!r} missing from:\n{err}"


def test_many_problems_are_cut_to_a_few_lines(tmp_path):
    out = tmp_path / "results"
    err = assert_refused(run_sim("run", BAD / "many_problems.yaml", "--out", out), out)
    assert "  ... and " in err
    assert err.count("\n  - ") == 8


def test_a_50_megabyte_file_is_refused_quickly(tmp_path):
    big = tmp_path / "huge.yaml"
    line = b"description: " + b"x" * 1000 + b"\n"
    with big.open("wb") as fh:
        fh.write(b"name: huge\n")
        for _ in range(50 * 1024):
            fh.write(line)
    assert big.stat().st_size > 50_000_000
    out = tmp_path / "results"
    start = time.perf_counter()
    result = run_sim("run", big, "--out", out)
    elapsed = time.perf_counter() - start
    err = assert_refused(result, out)
    assert "huge.yaml" in err and "bytes" in err and "at most 2,000,000" in err
    # Refused from its size, before parsing: about the interpreter's start-up time, not the
    # minute PyYAML would need for 50 MB (the bound is loose for a busy CI machine).
    assert elapsed < 15, elapsed


def test_deeply_nested_yaml_is_refused(tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("name: deep\ndescription: " + "[" * 5000 + "]" * 5000 + "\n")
    out = tmp_path / "results"
    err = assert_refused(run_sim("run", deep, "--out", out), out)
    assert "deep.yaml" in err and "nested too deeply" in err


def test_missing_file_and_folder_are_refused(tmp_path):
    out = tmp_path / "results"
    err = assert_refused(run_sim("run", tmp_path / "nowhere.yaml", "--out", out), out)
    assert "nowhere.yaml" in err and "does not exist" in err
    err = assert_refused(run_sim("run", BAD, "--out", out), out)
    assert "folder" in err


@pytest.mark.parametrize(
    ("override", "fragments"),
    [
        ("powers.japan.risk_tolerence=0.2", ["powers.japan.risk_tolerence",
                                             "did you mean 'risk_tolerance'"]),
        ("powers.japan.reaction.chna.rule=linear", ["powers.japan.reaction.chna",
                                                    "did you mean 'china'"]),
        ("events.1.state=kazakstan", ["events.1.state", "did you mean 'kazakhstan'"]),
        ("events.7.at=2026Q1", ["events.7", "no list item"]),
        ("steps", ["--set", "field.path=value"]),
        ("powers.china.restraint=lots", ["powers.china.restraint", '"lots"']),
        # issue 13: --set never adds an actor (it used to create an empty 'japn')
        ("powers.japn.visibility=0.9", ["cli_small.yaml", "powers.japn", "unknown power",
                                        "did you mean 'japan'", "never adds a power"]),
        ("states.kazakstan.stability=0.5", ["states.kazakstan", "did you mean 'kazakhstan'"]),
        ("powers.russia={}", ["powers.russia", "unknown power 'russia'"]),
        ("powers.china.resource_interest.oil=1", ["resource_interest.oil", "no state holds"]),
    ],
)
def test_bad_set_override_is_refused(override, fragments, tmp_path):
    out = tmp_path / "results"
    err = assert_refused(run_sim("run", SMALL, "--set", override, "--out", out), out)
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} missing from:\n{err}"


@pytest.mark.parametrize("args", [["--steps", "0"], ["--replicates", "0"], ["--seed", "-3"]])
def test_bad_command_line_numbers_are_refused(args, tmp_path):
    out = tmp_path / "results"
    err = assert_refused(run_sim("run", SMALL, *args, "--out", out), out)
    assert args[1] in err


def test_out_that_is_a_file_is_refused_without_traceback(tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("not a folder\n")
    result = run_sim("run", SMALL, "--out", blocker, "--no-plot")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 12
    assert blocker.read_text() == "not a folder\n"
    assert files_under(tmp_path) == [blocker]


def test_a_good_file_still_runs(tmp_path):
    """The harness itself can tell success from refusal (guards against a broken CLI)."""
    out = tmp_path / "results"
    result = run_sim("run", SMALL, "--out", out, "--no-plot", "--quiet")
    assert result.returncode == 0, result.stderr
    assert any(p.name == "manifest.json" for p in files_under(out))


def test_bad_files_are_small():
    """Large cases are generated by the tests, not committed (keep the repository small)."""
    sizes = {p.name: p.stat().st_size for p in BAD.rglob("*") if p.is_file()}
    assert max(sizes.values()) < 10_000, sizes
