"""How an actor's key reads for people: the one definition of a power's or state's label."""

from __future__ import annotations


def display_name(key: str, label: str | None = None) -> str:
    """How a power or state reads for people: its ``label``, else its key in words.

    The one definition behind figures, tables, the chronicle, reports and the dashboard:
    ``south_korea`` reads "South Korea".
    """
    return label or key.replace("_", " ").title()
