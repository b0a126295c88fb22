"""Explain a run in plain language: a chronicle drawn from its recorded moves, reactions, events.

The chronicle goes quarter by quarter and says what fired (events), which moves changed most
(the first quarter lists the largest moves), and each reaction: who reacted to whom, what
triggered it (the rival's perceived share, reactive spending or spend) and how big the response
was. Quiet quarters are skipped. With a power, it ends with why: in each state, the rival moves,
reactions and events in the quarters before the power's largest fall (and rise) in share.
Numbers read as :mod:`sim.outputs.units` formats them (shares in %, spending in USD m per
quarter). It reads only a run folder written by ``sim run`` (or the ``runs/<label>``
folders of a comparison), so it explains exactly what was recorded.

Typical use::

    from sim.whatif.explain import chronicle
    print(chronicle("results/baseline/s2025-f3c594d878", power="japan", limit=3))
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.errors import SimError
from sim.outputs.folders import read_manifest
from sim.outputs.names import CHANNEL_NAMES
from sim.outputs.readers import (
    EVENTS_COLUMNS,
    MOVES_COLUMNS,
    TRAJECTORY_COLUMNS,
    check_run_manifest,
    read_table,
)
from sim.outputs.units import (
    format_index,
    format_share,
    format_share_points,
    format_usd_m,
    format_usd_m_per_quarter,
)
from sim.scenario.moves import MOVE_BY_NAME

MOVE_CHANGE = 0.10
"""A move is notable when it changed by at least this fraction of the previous quarter's..."""

MOVE_CHANGE_USD_M = 1.0
"""...and by at least this many USD millions (or started, or stopped)."""

REACTION_MIN = 0.5
"""Reactions that add (or change reactive spending by) less than this, USD m per quarter, are
not told."""

FOLD_QUARTERS = 3
"""This many consecutive quarters or more with only the same reactions are told as one span."""

WHY_QUARTERS = 4
"""The "why" section looks at the quarter of a fall or rise and this many quarters before it."""

WHY_MIN_CHANGE = 0.0005
"""A quarter's change in share smaller than this (0.05 percentage points) is not explained."""

WHY_MIN_STABILITY = 0.02
"""A change in a state's stability over the window smaller than this is not told."""


class ExplainError(SimError):
    """A folder that is not a run folder, or a filter naming an unknown power or state."""


@dataclass
class RunFolder:
    """What a run folder holds, for one seed.

    Attributes:
        path: The folder.
        manifest: Its manifest.json.
        seed: The seed explained.
        trajectories: trajectories.csv rows of that seed.
        moves: moves.csv of that seed (moves and reactions).
        events: events.csv of that seed.

    """

    path: Path
    manifest: dict
    seed: int
    trajectories: pd.DataFrame
    moves: pd.DataFrame
    events: pd.DataFrame

    @property
    def scenario(self) -> dict:
        """The resolved scenario as recorded in the manifest."""
        return self.manifest.get("scenario", {})

    def label(self, key: str) -> str:
        """Return the display name of a power or state key (as the engine labels it)."""
        for group in ("powers", "states"):
            actor = self.scenario.get(group, {}).get(key)
            if actor is not None:
                return actor.get("label") or key.replace("_", " ").title()
        return key


@dataclass
class Chronicle:
    """A run's story, ready to print or to render.

    Attributes:
        title: One line naming the scenario, the seed and the filters.
        question: The scenario's question ("" if none).
        quarters: (quarter label, sentences) for each quarter with something to tell.
        why: Per state (with ``--power``), what preceded the power's largest fall and rise.
        outcome: Sentences on where the shares ended.

    """

    title: str
    question: str
    quarters: list[tuple[str, list[str]]] = field(default_factory=list)
    why: list[str] = field(default_factory=list)
    outcome: list[str] = field(default_factory=list)

    def text(self) -> str:
        """Return the chronicle as plain text, one quarter per paragraph."""
        lines = [self.title]
        if self.question:
            lines.append(f"Question: {self.question}")
        for quarter, sentences in self.quarters:
            lines.append("")
            lines.append(quarter)
            lines += [f"  - {s}" for s in sentences]
        if not self.quarters:
            lines += ["", "Nothing notable happened (no events, no changed moves, no reactions)."]
        if self.why:
            lines += ["", "Why"] + [f"  - {s}" for s in self.why]
        if self.outcome:
            lines += ["", "Outcome"] + [f"  - {s}" for s in self.outcome]
        return "\n".join(lines)


def read_run(folder: str | Path, seed: int | None = None) -> RunFolder:
    """Read a run folder written by ``sim run`` (one seed, or one seed of several).

    Args:
        folder: The run folder (it holds manifest.json and trajectories.csv).
        seed: Which seed of a run with replicates (default: the first).

    Returns:
        The folder's tables for that seed.

    Raises:
        ExplainError: If the folder is missing, is a comparison folder, is not a run folder,
            or has no such seed.

    """
    path = Path(folder)
    manifest = read_manifest(path, ExplainError, "a run folder written by sim run",
                             what="a run folder")
    if manifest.get("kind") != "comparison" and not (path / "trajectories.csv").is_file():
        raise ExplainError(f"{path}: not a run folder (it has no trajectories.csv); give a "
                           "folder written by sim run")
    if manifest.get("kind") == "comparison":
        runs = ", ".join(str(path / r) for r in manifest.get("runs", {}).values())
        raise ExplainError(f"{path}: a comparison folder; explain one of its runs: {runs}")
    rows = check_run_manifest(manifest, path / "manifest.json", ExplainError)
    seeds = [int(s) for s in manifest["seeds"]]
    seed = seeds[0] if seed is None else int(seed)
    if seed not in seeds:
        shown = ", ".join(map(str, seeds[:10])) + (" ..." if len(seeds) > 10 else "")
        raise ExplainError(f"--seed {seed}: not a seed of this run; its seeds: {shown}")
    trajectories = read_table(path / "trajectories.csv", ExplainError, TRAJECTORY_COLUMNS, rows)
    if len(seeds) > 1 and "seed" not in trajectories.columns:
        raise ExplainError(f"{path / 'trajectories.csv'}: no seed column, but its manifest "
                           f"records {len(seeds)} seeds; the file belongs to another run")
    if "seed" in trajectories.columns:
        trajectories = trajectories[trajectories["seed"] == seed].reset_index(drop=True)
        moves_path = path / "runs" / f"moves-seed{seed}.csv"
        events_path = path / "runs" / f"events-seed{seed}.csv"
    else:
        moves_path, events_path = path / "moves.csv", path / "events.csv"
    return RunFolder(path=path, manifest=manifest, seed=seed, trajectories=trajectories,
                     moves=read_table(moves_path, ExplainError, MOVES_COLUMNS),
                     events=read_table(events_path, ExplainError, EVENTS_COLUMNS))


def _pick(name: str | None, known: list[str], run: RunFolder, kind: str) -> str | None:
    """Match a --power/--state value to a key (case-insensitive, labels allowed)."""
    if name is None:
        return None
    wanted = name.strip().lower()
    for key in known:
        if wanted in (key.lower(), run.label(key).lower()):
            return key
    hint = difflib.get_close_matches(wanted, known, n=1)
    extra = f"; did you mean {hint[0]!r}?" if hint else ""
    raise ExplainError(f"--{kind} {name!r}: no such {kind} in this run; its {kind}s: "
                       f"{', '.join(known)}{extra}")


def _spend_phrase(kind: str, amount: float, state: str) -> str:
    money = format_usd_m_per_quarter(amount)
    if kind in MOVE_BY_NAME:
        return MOVE_BY_NAME[kind].phrase.format(money=money, state=state)
    return f"spent {money} on {kind} in {state}"


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def describe_event(run: RunFolder, row: pd.Series) -> str:
    """Return one sentence for an event that fired (from events.csv and the scenario)."""
    events = run.scenario.get("events", [])
    index = int(row["event"])
    spec = events[index] if 0 <= index < len(events) else {}
    power = run.label(row["power"]) if isinstance(row["power"], str) and row["power"] else ""
    states = [run.label(s) for s in str(row["states"]).split(";") if s and s != "nan"]
    where = _join(states) if states else "no state"
    kind = row["kind"]
    if kind == "border_accord":
        n = spec.get("disputes_resolved")
        what = "all open disputes" if n is None else f"up to {n} open dispute{'s' * (n != 1)}"
        text = f"Border accord: {where} resolve {what}"
        if spec.get("stability_gain"):
            text += f"; stability +{spec['stability_gain']:.2f}"
    elif kind == "visit":
        text = (f"{power} pays a state visit to {where}: diplomatic capital "
                f"{format_usd_m(spec.get('diplomatic_gain', 0), signed=True)}")
        if spec.get("goodwill_gain"):
            text += f", goodwill {format_usd_m(spec['goodwill_gain'], signed=True)}"
    elif kind == "summit":
        text = (f"{power} holds a summit with {where}: diplomatic capital "
                f"{format_usd_m(spec.get('diplomatic_gain', 0), signed=True)} in each")
        if spec.get("goodwill_gain"):
            text += f", goodwill {format_usd_m(spec['goodwill_gain'], signed=True)}"
    elif kind == "summit_cancelled":
        delay = spec.get("delay")
        later = f"postponed by {delay} quarter{'s' * (delay != 1)}" if delay else "called off"
        text = f"{power}'s summit due this quarter is cancelled ({later}), if one was due"
    elif kind == "budget_change":
        channel = spec.get("channel", "all")
        which = "whole budget" if channel == "all" else f"{channel.replace('_', ' ')} budget"
        text = f"{power} multiplies its {which} by {spec.get('factor', 1):g}"
    elif kind == "destabilisation_campaign":
        text = (f"{power} starts a destabilisation campaign in {where}: stability "
                f"-{spec.get('intensity', 0):.2f} a quarter for {spec.get('duration', 0)} quarters")
    elif kind == "stability_shock":
        text = f"Stability shock in {where}: {spec.get('delta', 0):+.2f}"
    else:
        text = f"{kind.replace('_', ' ').capitalize()} ({where})"
    note = row.get("note")
    if isinstance(note, str) and note.strip():
        text += f" ({note.strip()})"
    return text + "."


def _move_sentences(run: RunFolder, moves: pd.DataFrame, step: int, previous: dict,
                    largest: dict, limit: int) -> tuple[list[str], int]:
    """Sentences for the notable moves of one quarter, largest first, and how many were cut."""
    now = {(r.power, r.state, r.kind): float(r.amount_usd_m) for r in moves.itertuples()}
    notable = []
    if step == 1:  # the opening: each power's largest move
        for power, (state, kind) in largest.items():
            amount = now[(power, state, kind)]
            notable.append((amount, (power, state, kind), amount, None))
    else:
        for key in set(now) | set(previous):
            amount, before = now.get(key, 0.0), previous.get(key, 0.0)
            change = amount - before
            if abs(change) >= MOVE_CHANGE_USD_M and abs(change) >= MOVE_CHANGE * before:
                notable.append((abs(change), key, amount, before))
    notable.sort(key=lambda item: (-item[0], item[1]))
    sentences = []
    for _, (power, state, kind), amount, before in notable[:limit]:
        who, where = run.label(power), run.label(state)
        if amount == 0.0:
            sentences.append(f"{who} stopped its {kind.replace('_', ' ')} spending in {where} "
                             f"(was {format_usd_m_per_quarter(before)}).")
            continue
        text = f"{who} {_spend_phrase(kind, amount, where)}"
        if before is not None:
            direction = "up" if amount > before else "down"
            text += f", {direction} from {format_usd_m(before)}"
            text += f" ({(amount - before) / before:+.0%})" if before > 0 else " (new)"
        if largest.get(power) == (state, kind):
            text += " (its largest move this quarter)"
        sentences.append(text + ".")
    return sentences, max(0, len(notable) - limit)


@dataclass(frozen=True)
class _Reaction:
    """One power's change of reactive spending in one state, in one quarter, and its causes.

    Attributes:
        key: (power, state, rivals watched): reactions with the same key fold together.
        before: Reactive spending at the end of the quarter before (USD m per quarter).
        after: Reactive spending at the end of the quarter (USD m per quarter).
        added: What the rules added this quarter, summed over the rivals watched (USD m).
        restraint: What restraint took back, the power's restraint x ``before`` (USD m).
        triggers: Per rival watched: (rival, rule, signal seen, actual value or None).
    """

    key: tuple
    before: float
    after: float
    added: float
    restraint: float
    triggers: tuple


def _reactions_of_quarter(run: RunFolder, reactions: pd.DataFrame, effort_before: dict,
                          share_now: dict) -> list[_Reaction]:
    """The quarter's reactions, one per (power, state), largest change first."""
    items = []
    powers = run.scenario.get("powers", {})
    for (power, state), group in reactions.groupby(["power", "state"], sort=True):
        before = effort_before.get((power, state), 0.0)
        after = float(group["effort_after"].iloc[0])
        added = float(group.loc[group["kind"] != "tit_for_tat", "response"].sum())
        restraint = float(powers.get(power, {}).get("restraint", 0.0)) * before
        triggers = []
        for r in group.sort_values("toward").itertuples():
            actual = share_now.get((state, r.toward)) if r.kind == "threshold" else None
            triggers.append((r.toward, r.kind, float(r.signal), actual))
        size = max(abs(added), abs(after - before))
        if size >= REACTION_MIN:
            items.append((size, _Reaction((power, state, tuple(t[0] for t in triggers)),
                                          before, after, added, restraint, tuple(triggers))))
    items.sort(key=lambda item: (-item[0], item[1].key))
    return [item for _, item in items]


def _trigger_phrase(run: RunFolder, power: str, state: str, trigger: tuple, explained: set,
                    last: tuple | None = None) -> str:
    """What the power reacted to: the rival's perceived share (with its actual share), spend...

    The first time a rival's perceived share in a state is quoted, the phrase says what
    perceived means (the actual share scaled by how loud the rival's moves look there);
    ``last`` (a later trigger of the same rival) turns the phrase into a span, "from ... to".
    """
    rival, kind, signal, actual = trigger
    name = run.label(rival)
    spec = run.scenario.get("powers", {}).get(power, {}).get("reaction", {}).get(rival, {})
    if kind == "threshold":
        gain = spec.get("signal") == "gain"
        what = "perceived gain in share" if gain else "perceived share"
        limit = spec.get("threshold")
        width = spec.get("width") or 0.0
        limit_text = ""
        if limit is not None:
            limit_text = f"; threshold {format_share(limit)}"
            if width:
                limit_text += f", reacting gradually over {format_share_points(width)[1:]}"
        seen = _span(format_share(signal), format_share(last[2]) if last else None,
                     last is not None and last[2] < signal)
        real = ""
        if actual and not gain:
            end = last[3] if last is not None and last[3] is not None else None
            actual_text = _span(format_share(actual), format_share(end) if end else None,
                                end is not None and end < actual)
            if (rival, state) in explained:
                real = f" (actual {actual_text}{limit_text})"
            else:
                explained.add((rival, state))
                loud = signal / actual
                how = "loudly" if loud >= 1 else "quietly"
                real = (f" (as {run.label(power)} sees it: {name} acts {how} there, so its "
                        f"actual share, {actual_text}, looks {loud:.2f} times as large"
                        f"{limit_text})")
        else:
            real = f" ({limit_text[2:]})" if limit_text else ""
        return f"{name}'s {what} of {seen}{real}"
    if kind == "linear":
        return f"{name}'s reactive spending there, seen at {format_usd_m_per_quarter(signal)}"
    if kind == "tit_for_tat":
        return f"{name}'s visible spend there of {format_usd_m_per_quarter(signal)}"
    return f"a standing grievance toward {name}"


def _span(first: str, last: str | None, falling: bool) -> str:
    """``first``, or a span from ``first`` to ``last`` ("65.5% falling to 63.4%")."""
    if last is None:
        return first
    if last == first:
        return f"about {first}"
    return f"{first} {'falling' if falling else 'rising'} to {last}"


def _reaction_sentence(run: RunFolder, items: list[_Reaction], explained: set,
                       quarters: list[str] | None = None) -> str:
    """One sentence for one quarter's reaction, or for a run of quarters (``quarters``)."""
    first, last = items[0], items[-1]
    power, state, _ = first.key
    who, where = run.label(power), run.label(state)
    before, after = first.before, last.after
    was, now = format_usd_m(before), format_usd_m(after)
    verb = "held" if was == now else "rose" if after > before else "fell"
    amounts = f"from {was} to {now} per quarter"
    if verb == "held":
        amounts = f"at about {now} per quarter"
    head = f"{who}'s reactive spending in {where} {verb} {amounts}"
    if quarters:
        peak = max(items, key=lambda item: item.after)
        if peak.after > max(before, after) + 0.005:
            head += f" (highest {format_usd_m(peak.after)}, {quarters[items.index(peak)]})"
    triggers = [
        _trigger_phrase(run, power, state, t, explained,
                        last.triggers[i] if quarters else None)
        for i, t in enumerate(first.triggers)
    ]
    added = sum(item.added for item in items)
    taken = sum(item.restraint for item in items)
    if quarters:
        text = (f"{head}: each quarter it reacted to {_join(triggers)}, adding "
                f"{format_usd_m(added)} in all, while restraint took back {format_usd_m(taken)}")
    else:
        text = f"{head}: reacting to {_join(triggers)} added {format_usd_m(added)}"
        if taken >= 0.005:
            text += f", and restraint took back {format_usd_m(taken)}"
    expected = before + added - taken if not quarters else None
    if expected is not None and after < expected - 0.01:
        text += " (the rest was over its ceiling there)"
    return text + "."


def _fold(quarters: list[tuple[str, list[str], list[_Reaction], list[str]]],
          run: RunFolder) -> list[tuple[str, list[str]]]:
    """Quarters with their sentences, runs of quiet quarters told once.

    :data:`FOLD_QUARTERS` or more consecutive quarters holding only reactions of the same
    powers in the same states are told as one span ("2025Q3 to 2028Q4 (14 quarters)").
    Each quarter is ``(label, sentences, reactions, tail)``; the tail follows the reactions.
    """
    told: list[tuple[str, list[str]]] = []
    explained: set = set()
    i = 0
    while i < len(quarters):
        label, sentences, reactions, tail = quarters[i]
        j = i + 1
        keys = {r.key for r in reactions}
        if not sentences and not tail and reactions:
            while (j < len(quarters) and not quarters[j][1] and not quarters[j][3]
                   and {r.key for r in quarters[j][2]} == keys):
                j += 1
        if j - i >= FOLD_QUARTERS:
            span = [q[0] for q in quarters[i:j]]
            by_key = [{r.key: r for r in q[2]} for q in quarters[i:j]]
            text = [_reaction_sentence(run, [q[r.key] for q in by_key], explained, span)
                    for r in reactions]
            told.append((f"{span[0]} to {span[-1]} ({len(span)} quarters)", text))
            i = j
            continue
        told.append((label, sentences + [_reaction_sentence(run, [r], explained)
                                         for r in reactions] + tail))
        i += 1
    return told


def chronicle(folder: str | Path, power: str | None = None, state: str | None = None,
              limit: int = 3, seed: int | None = None) -> Chronicle:
    """Tell a run's story quarter by quarter.

    Args:
        folder: A run folder written by ``sim run``.
        power: Only this power's moves, the reactions by or toward it, and its events (events
            without a power, such as accords, are kept).
        state: Only moves, reactions and events in this state.
        limit: At most this many moves and this many reactions per quarter (largest first);
            events are always told.
        seed: Which seed of a run with replicates (default: the first).

    Returns:
        The chronicle (``.text()`` gives plain text).

    Raises:
        ExplainError: For a folder that is not a run folder, an unknown power or state, or a
            limit below 1.

    """
    if limit < 1:
        raise ExplainError(f"--limit {limit} is not allowed: give 1 or more")
    run = read_run(folder, seed)
    powers = list(run.scenario.get("powers", {})) or sorted(set(run.trajectories["power"]))
    states = list(run.scenario.get("states", {})) or sorted(set(run.trajectories["state"]))
    power = _pick(power, powers, run, "power")
    state = _pick(state, states, run, "state")

    moves = run.moves
    spend = moves[moves["type"] == "move"]
    reactions = moves[moves["type"] == "reaction"]
    if power is not None:
        spend = spend[spend["power"] == power]
        reactions = reactions[(reactions["power"] == power) | (reactions["toward"] == power)]
    if state is not None:
        spend = spend[spend["state"] == state]
        reactions = reactions[reactions["state"] == state]
    events = run.events
    if power is not None:
        own = [not isinstance(p, str) or p in ("", power) for p in events["power"]]
        events = events.loc[pd.Series(own, index=events.index, dtype=bool)]
    if state is not None:
        touched = [state in str(names).split(";") for names in events["states"]]
        events = events.loc[pd.Series(touched, index=events.index, dtype=bool)]

    traj = run.trajectories
    quarter_of = dict(zip(traj["step"], traj["quarter"], strict=False))
    effort: dict[int, dict] = {}
    share: dict[int, dict] = {}
    for r in traj.itertuples():
        effort.setdefault(int(r.step), {})[(r.power, r.state)] = float(r.effort)
        share.setdefault(int(r.step), {})[(r.state, r.power)] = float(r.share)
    steps = sorted(int(s) for s in traj["step"].unique() if s > 0)

    filters = [f"power: {run.label(power)}" if power else "", f"state: {run.label(state)}"
               if state else ""]
    filters_text = "; ".join(f for f in filters if f)
    name = run.scenario.get("name", run.path.name)
    first, last = quarter_of.get(0, "?"), quarter_of.get(steps[-1] if steps else 0, "?")
    title = f"{name}, seed {run.seed}: {first} to {last}" + (f" ({filters_text})"
                                                            if filters_text else "")
    story = Chronicle(title=title, question=run.scenario.get("question", ""))

    by_step_spend = {int(k): g for k, g in spend.groupby("step")}
    by_step_reactions = {int(k): g for k, g in reactions.groupby("step")}
    by_step_events = {int(k): g for k, g in events.groupby("step")}
    previous: dict = {}
    pending: list[tuple[str, list[str], list[_Reaction], list[str]]] = []
    empty = spend.iloc[0:0]
    for t in steps:
        now = by_step_spend.get(t, empty)
        largest = {}
        for p, group in now.groupby("power"):
            top = group.sort_values(["amount_usd_m", "state", "kind"],
                                    ascending=[False, True, True]).iloc[0]
            largest[p] = (top["state"], top["kind"])
        sentences = [describe_event(run, row) for _, row in
                     by_step_events.get(t, events.iloc[0:0]).iterrows()]
        moved, cut_moves = _move_sentences(run, now, t, previous, largest, limit)
        if t == 1 and moved:
            moved[0] = "Opening moves: " + moved[0]
        sentences += moved
        if cut_moves and t > 1:
            sentences.append(f"... and {cut_moves} smaller change{'s' * (cut_moves != 1)} "
                             "in spending.")
        told = _reactions_of_quarter(run, by_step_reactions.get(t, reactions.iloc[0:0]),
                                     effort.get(t - 1, {}), share.get(t, {}))
        tail = []
        if len(told) > limit:
            cut = len(told) - limit
            tail.append(f"... and {cut} smaller reaction{'s' * (cut != 1)}.")
        previous = {(r.power, r.state, r.kind): float(r.amount_usd_m) for r in now.itertuples()}
        if sentences or told:
            pending.append((quarter_of.get(t, str(t)), sentences, told[:limit], tail))
    story.quarters = _fold(pending, run)
    if power is not None:
        story.why = _why(run, power, [s for s in states if state in (None, s)], run.events,
                         limit)
    story.outcome = _outcome(run, power, state)
    return story


def _outcome(run: RunFolder, power: str | None, state: str | None) -> list[str]:
    """Where the shares ended: per state, each (filtered) power's share first and last."""
    traj = run.trajectories
    first_step, last_step = traj["step"].min(), traj["step"].max()
    sentences = []
    for s in dict.fromkeys(traj["state"]):
        if state is not None and s != state:
            continue
        rows = traj[traj["state"] == s]
        start = rows[rows["step"] == first_step].set_index("power")["share"]
        end = rows[rows["step"] == last_step].set_index("power")["share"]
        leader = end.idxmax()
        parts = [f"{run.label(p)} {format_share(start[p])} -> {format_share(end[p])}"
                 for p in end.index if power is None or p == power]
        lead = f"; {run.label(leader)} leads" if power is None else ""
        sentences.append(f"{run.label(s)}: share {', '.join(parts)}{lead}.")
    return sentences



def _why(run: RunFolder, power: str, states: list[str], events: pd.DataFrame,
         limit: int) -> list[str]:
    """Per state, what preceded the power's largest fall and rise in share, and largest cut.

    Three turning points per state: the power's largest fall in share from one quarter to the
    next, its largest rise, and its largest cut in one kind of spending there (a retreat). For
    each, the window is that quarter and the :data:`WHY_QUARTERS` before it; it names the events
    there (an event naming no state, such as a budget change, counts everywhere), how the
    state's stability moved, the rivals' moves in that state that changed most over the window,
    the largest reactions toward the power there, and (for a change in share) the power's own
    largest change in spending, the mechanism.
    """
    traj = run.trajectories
    mine = traj[traj["power"] == power]
    moves = run.moves[(run.moves["type"] == "move") & (run.moves["power"] == power)]
    sentences = []
    for state in states:
        share = mine[mine["state"] == state].set_index("step")["share"].sort_index()
        change = share.diff().iloc[1:]
        if change.empty:
            continue
        for label, step in (("fall", change.idxmin()), ("rise", change.idxmax())):
            delta = float(change[step])
            if (delta >= 0 if label == "fall" else delta <= 0) or abs(delta) < WHY_MIN_CHANGE:
                continue
            head = (f"{run.label(state)}: {run.label(power)}'s largest {label} in share was in "
                    f"{{quarter}} ({format_share_points(delta)}, to "
                    f"{format_share(float(share[step]))})")
            sentences.append(_why_sentence(run, power, state, int(step), head, events, limit))
        spend = moves[moves["state"] == state].pivot_table(
            index="step", columns="kind", values="amount_usd_m", aggfunc="sum")
        spend = spend.reindex(change.index).fillna(0.0)
        cuts = spend.diff().iloc[1:]
        if not cuts.empty and float(cuts.min().min()) <= -MOVE_CHANGE_USD_M:
            kind = str(cuts.min().idxmin())
            step = int(cuts[kind].idxmin())
            what = CHANNEL_NAMES.get(kind, kind.replace("_", " "))
            head = (f"{run.label(state)}: {run.label(power)}'s largest cut in spending was in "
                    f"its {what}, in {{quarter}} "
                    f"({format_usd_m_per_quarter(float(cuts.loc[step, kind]), signed=True)}, "
                    f"to {format_usd_m_per_quarter(float(spend.loc[step, kind]))})")
            sentences.append(_why_sentence(run, power, state, step, head, events, limit,
                                           own=False))
    return sentences


def _why_sentence(run: RunFolder, power: str, state: str, step: int, head: str,
                  events: pd.DataFrame, limit: int, own: bool = True) -> str:
    """One turning point: ``head`` (with ``{quarter}``), then what happened in the window."""
    traj = run.trajectories
    quarter_of = dict(zip(traj["step"], traj["quarter"], strict=False))
    first = max(1, step - WHY_QUARTERS)
    who = run.label(power)
    causes = []
    window = events[(events["step"] >= first) & (events["step"] <= step)]
    for _, row in window.iterrows():
        states = [x for x in str(row["states"]).split(";") if x and x != "nan"]
        if not states or state in states:
            causes.append(_short_event(run, row))
    stability = traj[traj["state"] == state].drop_duplicates("step").set_index("step")
    was, now = (float(stability.loc[t, "stability"]) for t in (first - 1, step))
    if abs(now - was) >= WHY_MIN_STABILITY:
        verb = "fell" if now < was else "rose"
        causes.append(f"stability {verb} from {format_index(was)} to {format_index(now)}")
    causes += _moved(run, power, state, first, step, limit, rivals=True)
    reactions = run.moves[(run.moves["type"] == "reaction") & (run.moves["state"] == state)
                          & (run.moves["toward"] == power) & (run.moves["step"] >= first)
                          & (run.moves["step"] <= step)]
    total = reactions.groupby("power", sort=True)["response"].sum()
    for rival in total.abs().sort_values(ascending=False, kind="mergesort").index[:limit]:
        if abs(total[rival]) >= REACTION_MIN:
            verb = "raised" if total[rival] > 0 else "lowered"
            causes.append(f"{run.label(rival)} {verb} its reactive spending toward {who} by "
                          f"{format_usd_m_per_quarter(abs(float(total[rival])))}")
    mine = _moved(run, power, state, first, step, 1, rivals=False) if own else []
    span = f"{quarter_of[first]}-{quarter_of[step]}" if first < step else quarter_of[step]
    text = f"{head.format(quarter=quarter_of[step])}. In {span}: " + (
        "; ".join(causes) if causes else "no rival move, reaction or event there changed")
    if mine:
        text += "; " + mine[0].replace(f"{who} ", f"{who} itself ", 1)
    return text + "."


def _short_event(run: RunFolder, row: pd.Series) -> str:
    """An event in a few words, e.g. "Russia's destabilisation campaign (2026Q1)"."""
    who = run.label(row["power"]) if isinstance(row["power"], str) and row["power"] else ""
    what = str(row["kind"]).replace("_", " ")
    return f"{who}'s {what} ({row['quarter']})" if who else f"{what} ({row['quarter']})"


def _moved(run: RunFolder, power: str, state: str, first: int, step: int, limit: int,
           rivals: bool) -> list[str]:
    """The moves in a state that changed most from the quarter before ``first`` to ``step``.

    Notable as in the chronicle: by at least :data:`MOVE_CHANGE_USD_M` and :data:`MOVE_CHANGE`.

    The quarter before ``first`` is the opening quarter (step 1) if ``first`` is step 1.
    """
    moves = run.moves[(run.moves["type"] == "move") & (run.moves["state"] == state)]
    moves = moves[(moves["power"] != power) if rivals else (moves["power"] == power)]
    start = max(first - 1, 1)  # step 0 has no moves: compare with the opening quarter
    before = moves[moves["step"] == start].set_index(["power", "kind"])["amount_usd_m"]
    after = moves[moves["step"] == step].set_index(["power", "kind"])["amount_usd_m"]
    keys = sorted(set(before.index) | set(after.index))
    changes = [(float(after.get(k, 0.0)) - float(before.get(k, 0.0)), k) for k in keys]
    changes.sort(key=lambda item: (-abs(item[0]), item[1]))
    told = []
    changes = [(change, key) for change, key in changes if abs(change) >= MOVE_CHANGE_USD_M
               and abs(change) >= MOVE_CHANGE * float(before.get(key, 0.0))]
    for change, (who, kind) in changes[:limit]:
        was, now = float(before.get((who, kind), 0.0)), float(after.get((who, kind), 0.0))
        verb = "raised" if change > 0 else "cut"
        what = CHANNEL_NAMES.get(kind, kind.replace("_", " "))
        told.append(f"{run.label(who)} {verb} its {what} spending from "
                    f"{format_usd_m(was)} to {format_usd_m_per_quarter(now)}")
    return told
