"""Quarters and steps.

One step is one quarter. Step 0 is the initial state, as at the end of the quarter before the
scenario's ``start``; step ``t >= 1`` is the end of quarter ``start + (t - 1)``. So a 40-step run
starting at 2025Q1 has rows for steps 0 to 40, the last one labelled 2034Q4.
"""

from __future__ import annotations

import re

from sim.errors import SimError

_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")


def parse_quarter(text: str) -> tuple[int, int]:
    """Parse a quarter label such as ``2025Q2``.

    Args:
        text: The label, a four-digit year, the letter Q and a digit 1-4.

    Returns:
        The pair (year, quarter).

    Raises:
        ValueError: If the label does not have that form.
    """
    match = _QUARTER.match(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a quarter; write it like 2025Q2")
    return int(match.group(1)), int(match.group(2))


def quarter_index(text: str) -> int:
    """Return a quarter as a count of quarters since year 0 (for differences)."""
    year, quarter = parse_quarter(text)
    return year * 4 + (quarter - 1)


def quarter_label(index: int) -> str:
    """Return the label of a quarter index made by :func:`quarter_index`."""
    return f"{index // 4}Q{index % 4 + 1}"


def step_of_quarter(start: str, quarter: str) -> int:
    """Return the step at whose end ``quarter`` closes, for a run starting at ``start``."""
    return quarter_index(quarter) - quarter_index(start) + 1


def quarter_of_step(start: str, step: int) -> str:
    """Return the label of the quarter that step ``step`` closes (step 0: the quarter before)."""
    return quarter_label(quarter_index(start) + step - 1)


def quarter_labels(start: str, steps: int) -> list[str]:
    """Return the quarter labels of steps 0 to ``steps``."""
    first = quarter_index(start) - 1
    return [quarter_label(first + t) for t in range(steps + 1)]


def step_at(quarters: list[str], at: str | None, option: str = "--at") -> int:
    """Return the row of quarter ``at`` among a run's recorded quarters (default: the last).

    Args:
        quarters: The run's quarter labels, step 0 first (as :func:`quarter_labels` gives).
        at: A quarter label such as ``2030Q4``, or None for the last quarter.
        option: The option's name, for messages.

    Returns:
        The step whose row closes that quarter.

    Raises:
        SimError: (exit status 2) if ``at`` is not a quarter or lies outside the run.
    """
    if at is None:
        return len(quarters) - 1
    allowed = f"give a quarter from {quarters[0]} to {quarters[-1]}"
    try:
        wanted = quarter_label(quarter_index(at))
    except ValueError:
        raise SimError(f"{option} {at!r}: not a quarter; {allowed}, e.g. {quarters[-1]}") from None
    if wanted not in quarters:
        raise SimError(f"{option} {at}: outside the run; {allowed}")
    return quarters.index(wanted)
