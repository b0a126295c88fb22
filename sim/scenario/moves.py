"""The kinds of move, declared once: the engine's channel axis, the budget fields, their words.

Every other module reads this table: the scenario schema builds a power's ``budget`` (and the
``budget_change`` event's ``channel``) from it, the engine sizes its channel axis by it and adds
each kind's spend to the stock it names, and outputs, reports, the chronicle and the dashboard
take their labels and sentences from it. Adding a kind of move is one entry here (plus its line
in docs/ODD.md); a kind that needs an effect other than building a stock also needs that effect
in sim/engine/rules.py.

The table sits with the scenario (the lowest layer that needs it: the schema's fields come from
it) and holds plain data only, so every layer above may import it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MoveKind:
    """One kind of move.

    Attributes:
        name: Its key in a scenario's ``budget`` and in moves.csv's ``kind`` column.
        stock: The stock its spend builds (``footprint``, ``goodwill`` or ``diplomatic``), or
            None for a kind whose effect is elsewhere (destabilisation lowers stability).
        risk_gated: Whether it is gated by the state's risk against the power's tolerance
            (the investment gate); the blocked part moves to the ``fallback`` kind in part.
        description: What it buys (the budget field's docstring).
        label: Its short display label (dashboard sliders, table columns).
        noun: The kind in words ("investment"), for sentences.
        phrase: The chronicle's sentence, with ``{money}`` and ``{state}``.
        unit: The unit of its budget.
        default_scale: The absorptive scale a state has for this kind when its scenario gives
            none, as a fraction of the state's GDP a year (docs/ODD.md section 7.3): no kind of
            move is unlimited unless a scenario says ``null``.
    """

    name: str
    stock: str | None
    risk_gated: bool
    description: str
    label: str
    noun: str
    phrase: str
    default_scale: float
    unit: str = "USD m per quarter"


MOVES: tuple[MoveKind, ...] = (
    MoveKind("invest", "footprint", True,
             "Investment (builds economic footprint; gated by risk).",
             "invest", "investment", "invested {money} in {state}", 0.05),
    MoveKind("soft_power", "goodwill", False,
             "Grants, public-goods loans, scholarships (builds goodwill).",
             "soft power", "soft power", "spent {money} on soft power in {state}", 0.01),
    MoveKind("diplomacy", "diplomatic", False,
             "Visits, summits, platforms (builds diplomatic capital).",
             "diplomacy", "diplomacy", "spent {money} on diplomacy in {state}", 0.001),
    MoveKind("destabilise", None, False,
             "Spend on lowering states' stability (zero for most powers).",
             "destabilise", "destabilisation", "spent {money} destabilising {state}", 0.0005),
)
"""The kinds of move, in the order of the engine's channel axis."""

INVESTMENT = "invest"
"""The kind that reactive spending is made in, that visible spending buys diplomatic capital
with, that resources pull and that absorptive capacity rations."""

FALLBACK = "soft_power"
"""The kind that takes part of the risk-gated spending the gate blocks."""

DESTABILISATION = "destabilise"
"""The kind whose spend lowers a state's stability."""

CHANNELS: tuple[str, ...] = tuple(m.name for m in MOVES)
"""The kinds' names, in the order of the engine's channel axis."""

MOVE_BY_NAME: dict[str, MoveKind] = {m.name: m for m in MOVES}
"""Each kind by its name."""


def move(name: str) -> MoveKind:
    """Return the kind of move called ``name`` (KeyError naming the known kinds otherwise)."""
    try:
        return MOVE_BY_NAME[name]
    except KeyError:
        known = ", ".join(CHANNELS)
        raise KeyError(f"{name!r} is not a kind of move; the kinds: {known}") from None
