"""Numbers in users' files: one definition of what counts as a number, used by every file type.

YAML 1.1 (PyYAML) reads ``yes``, ``no``, ``on``, ``off``, ``true`` and ``false`` as booleans,
and Python counts a boolean as the integer 0 or 1, so ``invest: no`` would silently become a
budget of 0 and ``at: yes`` step 1. A boolean is never a number here. PyYAML also reads
``1e0`` and ``4e1`` (no dot) as text; such text is a number here, in every file type, as
pydantic already took it in scenario files.

- :func:`finite_number` reads one value (uncertainty files, hand-checked fields);
- :func:`boolean_problems` finds every boolean in a file's raw mapping that is not at one of
  its yes/no switches (scenario files, and so ``--set`` values and event ``at:``, sweep and
  optimise files).
"""

from __future__ import annotations

import math
import re
from typing import Any

BOOLEAN_WORDS = "yes/no, on/off, true/false"
"""The words YAML 1.1 reads as booleans, for messages."""

NOT_A_NUMBER = (f"a YAML boolean ({BOOLEAN_WORDS}) is not a number; write the number (0, 1, "
                "0.5) or, for text, quote it")
"""Why a boolean is refused where a number (or a name) belongs."""

_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def finite_number(value: Any) -> float | None:
    """The finite number ``value`` is, or None (a boolean, other text, NaN or infinity).

    Accepts an int, a float or number text such as ``1e0`` (which PyYAML leaves as text).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not _NUMBER_TEXT.fullmatch(text):
            return None
        value = float(text)
    elif not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def boolean_problems(data: Any, switches: tuple[str, ...] = (), path: str = "") -> list[str]:
    """Every YAML boolean in a file's raw mapping that is not at one of its yes/no switches.

    Args:
        data: The file's mapping (or any part of it).
        switches: The field paths that are yes/no switches (``decision.visibility``); ``*``
            matches one part (a list item or a key), and a leading ``**.`` any prefix
            (``**.rules.goods.enabled``: in a scenario and in a branch's parent).
        path: Where ``data`` is in the file.

    Returns:
        One message per boolean: its path, the value and what is allowed.
    """
    if isinstance(data, bool):
        if any(_matches(path, pattern) for pattern in switches):
            return []
        return [f"{path or '(top level)'}: {str(data).lower()} is not allowed: {NOT_A_NUMBER}"]
    items = data.items() if isinstance(data, dict) else (
        enumerate(data) if isinstance(data, list) else ())
    problems: list[str] = []
    for key, value in items:
        problems += boolean_problems(value, switches, f"{path}.{key}" if path else str(key))
    return problems


def _matches(path: str, pattern: str) -> bool:
    if pattern.startswith("**."):  # the field wherever it is nested (a branch's parent)
        tail = pattern[3:]
        return path == tail or path.endswith("." + tail)
    parts, wanted = path.split("."), pattern.split(".")
    return len(parts) == len(wanted) and all(w in ("*", p) for p, w in zip(parts, wanted,
                                                                            strict=True))
