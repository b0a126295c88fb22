"""Bad sweep files are refused by the real ``sim sweep``: exit 2, a few lines, nothing written.

The corpus is in tests/data/bad/sweeps/ (the sweep-file format is in docs/SWEEPS.md); each
case names the fragments its message must contain.
"""

from __future__ import annotations

import pytest
from clihelp import BAD, assert_refused, run_sim

SWEEPS = BAD / "sweeps"

# file name -> fragments the message must contain
CASES: dict[str, list[str]] = {
    "malformed.yaml": ["not valid YAML"],
    "top_level_list.yaml": ["mapping"],
    "unknown_field.yaml": ["powers.china.reaction.japan.sensitivty", "sensitivity"],
    "unknown_actor_field.yaml": ["powers.usa.restraint"],
    "bounds_reversed.yaml": ["powers.china.reaction.japan.sensitivity", "2.0", "0.5"],
    "bounds_outside_field.yaml": ["powers.china.restraint", "1.5"],
    "bounds_not_numbers.yaml": ["powers.china.restraint", "little"],
    "bounds_and_values.yaml": ["powers.china.restraint", "values"],
    "empty_values.yaml": ["powers.china.restraint", "values"],
    "unknown_design.yaml": ["design", "montecarlo", "latin"],
    "negative_samples.yaml": ["samples", "-10"],
    "zero_seeds.yaml": ["seeds", "0"],
    "base_missing.yaml": ["nowhere.yaml"],
    "base_invalid.yaml": ["negative_budget.yaml", "powers.japan.budget.invest"],
    "unknown_key.yaml": ["desing", "did you mean 'design'"],
    "no_parameters.yaml": ["parameters"],
    "non_numeric_field.yaml": ["powers.china.reaction.japan.rule"],
    "unknown_keep.yaml": ["keep", "everything"],
    "not_utf8.yaml": ["not UTF-8"],
    # issue 13: a run `sim run --set` would refuse is not run by a sweep either
    "allocation_zero_together.yaml": ["lowest values together", "allocation.kazakhstan=0",
                                      "sum to 0"],
}


def test_the_sweep_command_exists():
    result = run_sim("sweep", "--help")
    assert result.returncode == 0, (
        "`sim sweep` is not merged yet: adapt tests/test_bad_sweeps.py when it is\n"
        + result.stderr[-500:]
    )


def test_every_sweep_case_is_listed():
    assert sorted(CASES) == sorted(p.name for p in SWEEPS.glob("*.yaml"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_sweep_is_refused_clearly(name, tmp_path):
    out = tmp_path / "results"
    err = assert_refused(run_sim("sweep", SWEEPS / name, "--out", out), out)
    assert "invalid choice" not in err, "no `sim sweep` command yet"
    assert name in err, f"the message does not name the file:\n{err}"
    for fragment in CASES[name]:
        assert fragment in err, f"{fragment!r} missing from:\n{err}"
