"""The outcome grammar of sim discover (sim.decide.outcome): parsed here, never Python."""

import re

import numpy as np
import pytest

from sim.decide.outcome import OutcomeError, evaluate_columns, parse_outcome

COLUMNS = {"a": np.array([1.0, 2.0, np.nan, 4.0]), "b": np.array([0.1, 0.2, 0.3, 0.4]),
           "powers.japan.x": np.array([1, 2, 3, 4])}


def mask(text):
    return evaluate_columns(parse_outcome(text, COLUMNS), COLUMNS, 4).tolist()


@pytest.mark.parametrize("text,expected", [
    ("a > 1", [False, True, False, True]),
    ("a >= 2 and b < 0.35", [False, True, False, False]),
    ("a < 2 or b > 0.35", [True, False, False, True]),
    ("not a > 1", [True, False, True, False]),
    ("~(a > 1) & b > 0", [True, False, True, False]),
    ("a > 1 | b > 0.25", [False, True, True, True]),
    ("-a < -1.5", [False, True, False, True]),
    ("a * 2 + 1e-3 > 4", [False, True, False, True]),
    ("a - b * 10 >= -0.001", [True, True, False, True]),
    ("a - b * 10 > 0.001", [False, False, False, False]),
    ("1 < a < 4", [False, True, False, False]),
    ("`powers.japan.x` == 2", [False, True, False, False]),
    ("a != 2", [True, False, True, True]),
    ("2.5E+0 <= a", [False, False, False, True]),
    (".5 < b * 5", [False, True, True, True]),
    ("a / 0 > 1", [True, True, False, True]),
    ("((a > 1)) and not not (b > 0)", [False, True, False, True]),
])
def test_conditions_select_the_rows_they_say(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text,problem,position", [
    ("a >", "expected a number, a column or '(', found end of the outcome", 4),
    ("a > 1)", "unexpected ')'", 6),
    ("(a > 1", "expected ')' to close the '(' at character 1", 7),
    ("a + 1", "gives numbers, not true or false", None),
    ("a > 1 + (b > 0)", "'+' needs a number or a column on each side", 9),
    ("a and b > 0", "'&' needs a condition", 1),
    ("aa > 1", "has no column 'aa'; did you mean a", 1),
    ("a.sum() > 1", "attribute access is not allowed", 2),
    ("a(1) > 0", "calls are not allowed", 1),
    ("a[0] > 0", "subscripts are not allowed", 2),
    ("lambda: 1", "lambdas and slices are not allowed", 7),
    ("@x > 1", "Python variables (@name) are not allowed", 1),
    ("a == 'x'", "strings are not allowed", 6),
    ("a = 1", "assignment is not allowed", 3),
    ("a > 1e999", "is not a finite number", 5),
    ("a > 1..2", "is not a number", 5),
    ("`a > 1", "a backtick is not closed", 1),
    ("a ** 2 > 1", "expected a number, a column or '(', found '*'", 4),
    ("", "is empty", None),
])
def test_refusals_name_the_option_the_value_the_place_and_what_is_allowed(text, problem,
                                                                          position):
    with pytest.raises(OutcomeError) as caught:
        parse_outcome(text, COLUMNS, source="runs.parquet")
    message = str(caught.value)
    assert message.startswith("--outcome")
    assert problem in message
    assert "allowed: column names" in message
    if position is not None:
        assert f"at character {position}" in message
        assert repr(text) in message


def test_deep_nesting_and_long_outcomes_are_refused_not_crashed():
    with pytest.raises(OutcomeError, match="nested more than"):
        parse_outcome("(" * 500 + "a > 1" + ")" * 500, COLUMNS)
    with pytest.raises(OutcomeError, match="nested more than"):
        parse_outcome("a > " + "-" * 500 + "1", COLUMNS)
    with pytest.raises(OutcomeError, match="nested more than"):
        parse_outcome("not " * 300 + "a > 1", COLUMNS)
    deepest = "(-(" * 16 + "a" + "))" * 16 + " > 1"
    assert mask(deepest) == [False, True, False, True]
    with pytest.raises(OutcomeError, match="characters long"):
        parse_outcome("a > 1 and " * 1000 + "a > 1", COLUMNS)


def test_the_module_evaluates_no_python():
    """The parser's source calls no evaluator (the outcome never reaches one)."""
    import inspect

    import sim.decide.outcome as module

    source = inspect.getsource(module)
    assert not re.search(r"(?<![\w.])(eval|exec|compile|getattr|__import__)\(", source)
    assert not re.search(r"\.(query|eval)\(", source)
    assert "import pandas" not in source
