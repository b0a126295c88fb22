"""How a validation error reads: one pydantic error as "path: value is not allowed: why".

Scenario files, sweep files and optimise files all report their problems through
:func:`describe_error`, so a misspelt key, a missing field or a value out of range reads the
same whichever file it is in (an unknown key lists the keys allowed there, with the nearest).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

SHOWN_CHARACTERS = 60
"""A value longer than this (as JSON) is cut, ending in "..."."""


def show_value(value: Any) -> str:
    """A value as JSON for messages; repr for what JSON cannot hold (a date key)."""
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def describe_error(error: Mapping[str, Any],
                   allowed_keys: Callable[[Sequence[Any]], list[str]]) -> str:
    """Turn one pydantic error into one line naming the field path, the value and the rule.

    Args:
        error: One item of ``ValidationError.errors()``.
        allowed_keys: The keys allowed at a location (the error's ``loc`` without its last
            part), for unknown-key messages.

    Returns:
        ``path: unknown key; allowed here: ...; did you mean ...?``, ``path: required field is
        missing``, ``path: why`` (a check of several fields) or ``path: value is not allowed:
        why``.
    """
    loc = tuple(error["loc"])
    path = ".".join(str(p) for p in loc) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = allowed_keys(loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        did = f"; did you mean {hint[0]!r}?" if hint else ""
        return f"{path}: unknown key; allowed here: {', '.join(allowed)}{did}"
    if kind == "missing":
        return f"{path}: required field is missing"
    value = error.get("input")
    message = error["msg"].removeprefix("Value error, ")
    if kind == "value_error" and isinstance(value, dict):
        return f"{path}: {message}"
    shown = "{...}" if isinstance(value, dict) else show_value(value)
    if len(shown) > SHOWN_CHARACTERS:
        shown = shown[:SHOWN_CHARACTERS - 3] + "..."
    return f"{path}: {shown} is not allowed: {message}"
