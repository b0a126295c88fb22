import pytest

from sim.scenario.calendar import (
    parse_quarter,
    quarter_labels,
    quarter_of_step,
    step_of_quarter,
)


def test_parse_and_round_trip():
    assert parse_quarter("2025Q2") == (2025, 2)
    assert parse_quarter("2025q4") == (2025, 4)
    for bad in ("2025Q5", "2025-Q1", "Q1 2025", "25Q1", ""):
        with pytest.raises(ValueError):
            parse_quarter(bad)


def test_steps_and_quarters():
    # Step 0 is the initial state (end of the quarter before start); step 1 closes the start.
    assert quarter_of_step("2025Q1", 0) == "2024Q4"
    assert quarter_of_step("2025Q1", 1) == "2025Q1"
    assert quarter_of_step("2025Q1", 40) == "2034Q4"
    assert step_of_quarter("2025Q1", "2025Q2") == 2
    assert step_of_quarter("2025Q1", "2026Q3") == 7
    labels = quarter_labels("2025Q1", 40)
    assert len(labels) == 41 and labels[1] == "2025Q1" and labels[-1] == "2034Q4"
