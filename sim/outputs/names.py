"""Plain names for scenario field paths and sweep outputs, for figures a person reads.

``powers.china.reaction.japan.sensitivity`` reads "China's reaction sensitivity to Japan",
``states.turkmenistan.stability`` reads "Turkmenistan: stability" and ``rules.hedging`` reads
"Hedging strength". A path this module does not know reads as itself, so a new field is never
hidden, only less pretty.
"""

from __future__ import annotations

from sim.outputs.units import Quantity, quantity
from sim.scenario.moves import MOVES

_POWER_FIELDS = {
    "risk_tolerance": "risk tolerance",
    "visibility": "visibility",
    "restraint": "restraint",
    "max_spend_multiplier": "maximum spending multiplier",
}

_REACTION_FIELDS = {
    "sensitivity": "reaction sensitivity to {rival}",
    "threshold": "reaction threshold for {rival}",
    "grievance": "grievance toward {rival}",
}

_PER_STATE = {
    "visibility_by_state": "visibility in {state}",
    "allocation": "share of its budget for {state}",
}

CHANNEL_NAMES = {m.name: m.noun for m in MOVES}
"""Each kind of move (the engine's channels) in words."""

_RULES = {
    ("hedging",): "Hedging strength",
    ("blocked_investment_to_soft_power",): "Blocked investment moved to soft power",
    ("decay",): "Decay of {0}",
    ("weights",): "Weight of {0} in influence",
    ("risk", "instability_weight"): "Risk from instability",
    ("risk", "dispute_weight"): "Risk per open border dispute",
    ("risk", "softness"): "Softness of the risk limit",
    ("visibility", "reaction_gain"): "Reactions provoked per unit of visibility",
    ("visibility", "diplomatic_gain"): "Diplomatic gain per unit of visibility",
    ("stability", "recovery"): "Stability recovery per quarter",
    ("stability", "destabilise_per_usd_m"): "Stability lost per USD m of destabilisation",
    ("noise", "stability_sd"): "Noise in stability (sd)",
    ("noise", "reception_sd"): "Noise in reception (sd)",
}

_OUTPUTS = {
    "influence_end": ("{power}'s regional influence at the end", "share"),
    "influence_peak": ("{power}'s peak regional influence", "share"),
    "spend_total": ("{power}'s total spending", "footprint"),
    "effort_end": ("{power}'s reactive spending at the end", "effort"),
}


def title(key: str) -> str:
    """A scenario key as a name: ``south_korea`` -> ``South Korea``."""
    return key.replace("_", " ").title()


def _words(key: str) -> str:
    return key.replace("_", " ")


def plain_name(path: str) -> str:
    """A plain name for a scenario field path, or the path itself if it is not known.

    Args:
        path: A dotted field path as ``--set`` and sweep files use it.

    Returns:
        For example "China's reaction sensitivity to Japan" for
        ``powers.china.reaction.japan.sensitivity``.
    """
    parts = path.split(".")
    name = _power_name(parts) if parts[0] == "powers" else None
    if parts[0] == "states":
        name = _state_name(parts)
    elif parts[0] == "rules":
        name = _rule_name(parts[1:])
    elif parts[0] == "events" and len(parts) == 3 and parts[1].isdigit():
        name = f"Event {int(parts[1]) + 1}: {_words(parts[2])}"
    return name or path


def _power_name(parts: list[str]) -> str | None:
    if len(parts) < 3:
        return None
    who, field = title(parts[1]), parts[2]
    rest = parts[3:]
    if field == "reaction" and len(rest) == 2 and rest[1] in _REACTION_FIELDS:
        return f"{who}'s " + _REACTION_FIELDS[rest[1]].format(rival=title(rest[0]))
    if field == "budget" and len(rest) == 1:
        return f"{who}'s {CHANNEL_NAMES.get(rest[0], _words(rest[0]))} budget, USD m per quarter"
    if field in _PER_STATE and len(rest) == 1:
        return f"{who}'s " + _PER_STATE[field].format(state=title(rest[0]))
    if field == "resource_interest" and len(rest) == 1:
        return f"{who}'s interest in {_words(rest[0])}"
    if not rest:
        return f"{who}'s {_POWER_FIELDS.get(field, _words(field))}"
    return None


def _state_name(parts: list[str]) -> str | None:
    if len(parts) < 3:
        return None
    where, rest = title(parts[1]), parts[2:]
    if len(rest) == 1:
        return f"{where}: {_words(rest[0])}"
    if rest[0] == "resources" and len(rest) == 2:
        return f"{where}: {_words(rest[1])} resources"
    if rest[0] == "initial" and len(rest) == 3:
        return f"{where}: {title(rest[2])}'s initial {_words(rest[1])}"
    return None


def _rule_name(parts: list[str]) -> str | None:
    if tuple(parts) in _RULES:
        return _RULES[tuple(parts)]
    if len(parts) == 2 and (parts[0],) in _RULES:
        return _RULES[(parts[0],)].format(_words(parts[1]))
    return None


def output_quantity(column: str) -> tuple[str, Quantity]:
    """The plain name and displayed quantity of a sweep output column.

    Args:
        column: A summary column such as ``influence_end_japan``.

    Returns:
        ("Japan's regional influence at the end", the share quantity); an unknown column
        reads as itself, with no scaling.
    """
    for prefix, (template, kind) in _OUTPUTS.items():
        if column.startswith(prefix + "_"):
            return template.format(power=title(column[len(prefix) + 1:])), quantity(kind)
    return column, Quantity(column, column, 1.0, "")


def output_axis(column: str) -> str:
    """Axis label of a sweep output: its plain name and unit."""
    name, shown = output_quantity(column)
    return f"{name}, {shown.unit}" if shown.unit else name

