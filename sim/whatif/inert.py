"""Say when a field a user changed never acted in the runs compared.

A what-if that changes a reaction's sensitivity, threshold or width can change nothing at all
when the rival's perceived share never reaches the reaction's ramp; a table of zeros then reads
as "the change does not matter" when the truth is "the change never came into play". These
notes name the field, why it did not act, and the number that shows it ("China's reaction
toward Japan never triggered: perceived share peaked at 4.75% (Kazakhstan, 2026Q2), threshold
5%"). They are computed from the recordings (which keep every signal a power saw).
"""

from __future__ import annotations

import numpy as np

from sim.outputs.record import Recording
from sim.outputs.units import format_share
from sim.scenario import Scenario

REACTION_FIELDS = ("rule", "sensitivity", "threshold", "width", "signal", "window")
"""The fields of a reaction whose change this module checks."""

_OUTPUTS = ("share", "footprint", "goodwill", "diplomatic", "effort", "spend", "stability")


def _flat(data: object, prefix: str = "") -> dict[str, object]:
    if isinstance(data, dict):
        out: dict[str, object] = {}
        for key, value in data.items():
            out |= _flat(value, f"{prefix}{key}.")
        return out
    if isinstance(data, list):
        out = {}
        for i, value in enumerate(data):
            out |= _flat(value, f"{prefix}{i}.")
        return out
    return {prefix[:-1]: data}


def changed_fields(base: Scenario, other: Scenario) -> list[str]:
    """Field paths whose values differ between two scenarios (names, questions, seeds aside)."""
    ignore = ("name", "question", "description", "seed", "extends")
    a = {k: v for k, v in _flat(base.model_dump(mode="json")).items()
         if k.split(".")[0] not in ignore}
    b = {k: v for k, v in _flat(other.model_dump(mode="json")).items()
         if k.split(".")[0] not in ignore}
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def _reaction_note(sc: Scenario, rec: Recording, power: str, rival: str) -> str | None:
    """Why p's reaction to q never acted in these runs, or None if it did."""
    structure = rec.structure
    labels = structure.labels
    who, whom = labels.get(power, power), labels.get(rival, rival)
    reaction = sc.powers[power].reaction.get(rival)
    if reaction is None or reaction.rule == "none":
        return f"{who} has no reaction rule toward {whom}: its reaction fields there are unused"
    if reaction.rule != "threshold":
        return None
    p, q = structure.powers.index(power), structure.powers.index(rival)
    seen = rec.signal[1:, :, :, p, q]  # (T, R, S)
    if seen.size == 0:
        return None
    start = reaction.threshold - reaction.width / 2.0
    peak = float(seen.max())
    if peak > start:
        return None
    t, _, s = np.unravel_index(int(np.argmax(seen)), seen.shape)
    what = "perceived share" if reaction.signal == "level" else "perceived gain in share"
    ramp = (f", ramp from {format_share(start, digits=2)}" if reaction.width > 0 else "")
    where = labels.get(structure.states[s], structure.states[s])
    return (f"{who}'s reaction toward {whom} never triggered: {what} peaked at "
            f"{format_share(peak, digits=2)} ({where}, "
            f"{rec.quarters[t + 1]}), threshold {format_share(reaction.threshold, digits=2)}"
            f"{ramp}")


def inert_notes(base: Scenario, base_rec: Recording, other: Scenario, other_rec: Recording,
                label: str) -> list[str]:
    """Notes on the fields ``other`` changes from ``base`` that never acted.

    A changed reaction field (sensitivity, threshold, width...) of a pair whose reaction never
    reached its ramp in either scenario is named with the peak signal; and if every recorded
    output of ``other`` equals ``base``'s, the changed fields are named as having changed
    nothing in these runs.

    Args:
        base: The reference scenario.
        base_rec: Its recording.
        other: A compared scenario.
        other_rec: Its recording (the same seeds).
        label: The compared scenario's display label.
    """
    changed = changed_fields(base, other)
    notes = []
    pairs = []
    for path in changed:
        parts = path.split(".")
        if (len(parts) == 5 and parts[0] == "powers" and parts[2] == "reaction"
                and parts[4] in REACTION_FIELDS and (parts[1], parts[3]) not in pairs):
            pairs.append((parts[1], parts[3]))
    for power, rival in pairs:
        if power not in other.powers or rival not in other.powers or power not in base.powers:
            continue
        mine = _reaction_note(other, other_rec, power, rival)
        theirs = _reaction_note(base, base_rec, power, rival)
        if mine is not None and theirs is not None:
            notes.append(f"{label}: {mine}")
    same_shape = all(getattr(base_rec, n).shape == getattr(other_rec, n).shape for n in _OUTPUTS)
    if changed and same_shape and all(np.array_equal(getattr(base_rec, n), getattr(other_rec, n))
                                      for n in _OUTPUTS):
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5
                                          else "")
        notes.append(f"{label}: changing {shown} changed no output in any run")
    return notes
