"""How an event reads: its marker label in figures and its sentence in the chronicle.

Each kind of event declares both with its model (:class:`sim.scenario.EventBase`:
``figure_label``, ``chronicle`` and ``phrases``, plain format strings); this module formats
them over the event's fields, so figures (:mod:`sim.outputs.plots`) and ``sim explain``
(:mod:`sim.whatif.explain`) tell every kind the same way, and a new kind is told without
editing either.
"""

from __future__ import annotations

import string
from typing import Any

from sim.outputs.units import format_usd_m
from sim.scenario import EVENT_MODELS


class _EventFormatter(string.Formatter):
    """str.format plus the specifications ``usd_m``, ``+usd_m``, ``words`` and ``plural_s``."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec in ("usd_m", "+usd_m"):
            return format_usd_m(value, signed=format_spec.startswith("+"))
        if format_spec == "words":
            return str(value).replace("_", " ")
        if format_spec == "plural_s":
            return "s" * (value != 1)
        return super().format_field(value, format_spec)


_FORMATTER = _EventFormatter()


def _fields(kind: str, spec: dict[str, Any], **names: str) -> dict[str, Any]:
    """The event's fields (its model's defaults where the recorded event lacks one)."""
    model = EVENT_MODELS.get(kind)
    defaults = {} if model is None else {
        name: info.default for name, info in model.model_fields.items() if not info.is_required()}
    return {**defaults, **spec, **names}


def event_label(kind: str, spec: dict[str, Any], power: str) -> str:
    """The short label of an event's marker in a figure, e.g. "China budget x1.5".

    Args:
        kind: The event's kind.
        spec: Its fields as in the scenario ({} if not known).
        power: The display name of its power ("" if none).

    Returns:
        The label: the kind's ``figure_label`` formatted, or the kind in words if it has none
        (or its fields are not known).
    """
    model = EVENT_MODELS.get(kind)
    template = getattr(model, "figure_label", None) or kind.replace("_", " ")
    try:
        return _FORMATTER.format(template, **_fields(kind, spec, power=power)).strip()
    except (KeyError, ValueError, TypeError):
        return kind.replace("_", " ")


def event_sentence(kind: str, spec: dict[str, Any], power: str, where: str) -> str:
    """An event's sentence in the chronicle, without the closing note and full stop.

    Args:
        kind: The event's kind.
        spec: Its fields as in the scenario ({} if not known).
        power: The display name of its power ("" if none).
        where: The states it touched, in words ("Kazakhstan and Uzbekistan").

    Returns:
        The kind's ``chronicle`` formatted with its ``phrases``, or "Kind in words (where)" if
        it has none (or its fields are not known).
    """
    model = EVENT_MODELS.get(kind)
    fallback = f"{kind.replace('_', ' ').capitalize()} ({where})"
    template = getattr(model, "chronicle", None)
    if template is None:
        return fallback
    fields = _fields(kind, spec, power=power, where=where)
    try:
        for name, phrase in model.phrases.items():
            value = fields[phrase.field]
            words = phrase.cases[value] if value in phrase.cases else phrase.otherwise
            fields[name] = _FORMATTER.format(words, **fields)
        return _FORMATTER.format(template, **fields)
    except (KeyError, ValueError, TypeError):
        return fallback
