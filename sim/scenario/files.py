"""Reading scenario and sweep files: safe YAML, ``extends:`` chains and ``--set`` paths.

Files are read with a SafeLoader that refuses duplicate keys, and alias expansion is bounded
before anything is built, so a "billion laughs" file is refused rather than expanded. Nothing
here knows the scenario schema: :mod:`sim.scenario` validates what these functions return.
"""

from __future__ import annotations

import copy
import difflib
import errno
import os
import re
import stat
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from sim.errors import ScenarioError
from sim.scenario.labels import display_name

MAX_FILE_BYTES = 2_000_000
"""Scenario files larger than this are refused before parsing (a scenario is a few KB)."""

MAX_YAML_NODES = 200_000
"""Refuse YAML whose alias expansion would build more nodes than this (a "billion laughs")."""

ACTOR_GROUPS = {"powers": "power", "states": "state"}
"""The mappings whose keys name actors; an actor is never created by a misspelt name."""

ACTOR_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9_ -]*[A-Za-z0-9_-])?")
"""A power's or state's key: a letter, then letters, digits, ``_``, ``-`` or inner spaces (no
dot, which would split every field path to it, and no ``=``, which ends a ``--set`` path)."""

NEW_MARKER = "new"
"""``new: true`` on an actor of an extending scenario: the actor is added, not misspelt."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate keys and bounds alias expansion."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                mark = key_node.start_mark
                raise yaml.constructor.ConstructorError(
                    None, None, f"a {type(key).__name__} cannot be a key (line {mark.line + 1})",
                    mark,
                )
            if isinstance(key, str) and key in seen:
                mark = key_node.start_mark
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (line {mark.line + 1})", mark
                )
            seen[key] = True
        return super().construct_mapping(node, deep=deep)


def _count_nodes(
    node: yaml.Node, budget: list[int], seen: dict[int, int], open_: set[int] | None = None
) -> int:
    """Count the nodes a YAML tree expands to, following aliases; stop past the budget.

    ``open_`` holds the nodes being counted (the path from the root), so an alias that refers
    to one of its own ancestors (``&a [*a]``) is reported instead of recursing forever.
    """
    key = id(node)
    if key in seen:
        return seen[key]
    open_ = set() if open_ is None else open_
    if key in open_:
        line = node.start_mark.line + 1 if node.start_mark else "?"
        raise ValueError(
            f"a YAML alias on line {line} contains itself; recursive aliases are refused"
        )
    total = 1
    open_.add(key)
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            total += _count_nodes(child, budget, seen, open_)
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            total += _count_nodes(k, budget, seen, open_) + _count_nodes(v, budget, seen, open_)
    open_.discard(key)
    seen[key] = total
    if total > budget[0]:
        raise ValueError("expands to too many nodes (recursive or exponential YAML aliases)")
    return total


_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def not_a_file(path: Path, what: str = "a scenario file (.yaml)") -> str | None:
    """Say why ``path`` is not a regular file that can be read (None if it is one).

    Distinguishes a missing file, a folder, a symlink loop, a FIFO or device (which would
    block or never end if read) and a file that cannot be looked at (permissions). Nothing is
    opened (``os.stat`` only), so a FIFO never blocks the caller.

    Args:
        path: The path.
        what: What belongs there, for the advice (``a posterior file (.parquet)``).
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            return f"the file is a symlink to {os.readlink(path)!r}, which does not exist"
        return "the file does not exist"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "the path is a symlink loop (a link that leads back to itself)"
        return f"cannot look at the file: {exc.strerror}"
    if stat.S_ISDIR(mode):
        return f"this is a folder; give {what}"
    for test, kind in _KINDS:
        if test(mode):
            return f"this is {kind}, not a regular file; give {what}"
    return None


def resolve_path(path: str | Path, source: str, field: str = "") -> Path:
    """``Path(path).resolve()``, with a symlink loop reported as a ScenarioError of ``source``.

    Args:
        path: The path to resolve.
        source: The file the path came from, for the message.
        field: The field that named the path (``extends``), for the message.
    """
    try:
        return Path(path).resolve()
    except (RuntimeError, OSError):
        where = f"{field}: {path}" if field else str(path)
        raise ScenarioError(source, [f"{where}: the path is a symlink loop (a link that leads "
                                     "back to itself)"]) from None


def read_yaml(path: str | Path, what: str = "a scenario file (.yaml)") -> dict[str, Any]:
    """Read a YAML mapping safely.

    Args:
        path: The file.
        what: What kind of file belongs there, for the message when it is not a file.

    Returns:
        The mapping it holds.

    Raises:
        ScenarioError: If the file is missing, too large, not UTF-8 text, not YAML, has
            duplicate keys or explosive aliases, or does not hold a mapping.
    """
    path = Path(path)
    where = str(path)
    problem = not_a_file(path, what)
    if problem:
        raise ScenarioError(where, [problem])
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ScenarioError(
            where, [f"the file is {size:,} bytes; at most {MAX_FILE_BYTES:,} allowed"]
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(where, [f"cannot read the file: {exc.strerror}"]) from None
    if b"\x00" in raw:
        raise ScenarioError(where, ["the file is binary, not YAML text"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(where, [f"the file is not UTF-8 text (byte {exc.start})"]) from None
    try:
        loader = _UniqueKeyLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise ScenarioError(where, ["the file is empty; a scenario is a YAML mapping"])
            _count_nodes(node, [MAX_YAML_NODES], {})
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except ScenarioError:
        raise
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        raise ScenarioError(where, [f"not valid YAML: {message}"]) from None
    except ValueError as exc:
        raise ScenarioError(where, [f"not accepted: {exc}"]) from None
    except RecursionError:
        raise ScenarioError(where, ["not accepted: the YAML is nested too deeply"]) from None
    if not isinstance(data, dict):
        raise ScenarioError(where, [f"the top level must be a mapping, not {type(data).__name__}"])
    return data


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into a copy of ``base``: mappings merge, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


MAX_EXTENDS = 50
"""Longest ``extends:`` chain (files) a scenario may have."""


def resolve_file(path: str | Path, _chain: tuple[Path, ...] = (),
                 origins: dict[str, str] | None = None) -> dict[str, Any]:
    """Read a scenario file and everything it ``extends:``, merged, still unvalidated.

    The child's values replace its parent's (mappings merge key by key) and its events are
    appended to the parent's (see :func:`extend`).

    Args:
        path: The scenario file.
        origins: If given, filled with the file each field path's value comes from (a leaf
            path, or ``events.N``), so that a problem found later is blamed on the file of
            the chain that set the value (:func:`origin_of`).

    Returns:
        The merged mapping, without the ``extends`` key.

    Raises:
        ScenarioError: For an unreadable file, a missing parent, an ``extends`` cycle or a
            chain longer than :data:`MAX_EXTENDS` files.
    """
    path = resolve_path(path, str(_chain[-1] if _chain else path))
    if path in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, path))
        raise ScenarioError(str(_chain[0]), [f"extends: cycle {cycle}"])
    if len(_chain) >= MAX_EXTENDS:
        raise ScenarioError(str(_chain[0]), [
            f"extends: a chain of more than {MAX_EXTENDS} files ({_chain[0].name} -> "
            f"{_chain[1].name} -> ... -> {_chain[-1].name} -> {path.name} -> ...); at most "
            f"{MAX_EXTENDS} (sim.scenario.files.MAX_EXTENDS)"])
    data = read_yaml(path)
    parent = data.pop("extends", None)
    dropped = data.pop(DROP_EVENTS, None)
    if parent is None and dropped is not None:
        raise ScenarioError(str(path), [f"{DROP_EVENTS}: names events of the file this one "
                                        "extends; this file extends none (add extends: FILE)"])
    if parent is None:
        take_new_markers(data, None, str(path))
        _note_origins(data, str(path), origins, 0)
        return data
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError(str(path), [f"extends: {parent!r} is not a file path"])
    parent_path = resolve_path(path.parent / parent, str(path), "extends")
    problem = not_a_file(parent_path)
    if problem:
        raise ScenarioError(str(path), [f"extends: {parent!r}: {problem} (looked at "
                                        f"{parent_path})"])
    merged = resolve_file(parent_path, (*_chain, path), origins)
    if dropped is not None:
        drop_events(merged, dropped, str(path), origins)
    before = len(merged.get("events") or []) if isinstance(merged.get("events"), list) else 0
    _note_origins(data, str(path), origins, before)
    return extend(merged, data, source=str(path))


DROP_EVENTS = "drop_events"
"""A key of an extending file: ids of the parent's events to leave out (say, a history
scenario for an earlier cut-off leaving out the events set from figures known only later)."""


def drop_events(merged: dict[str, Any], ids: Any, source: str,
                origins: dict[str, str] | None = None) -> None:
    """Remove the parent's events named by ``ids`` from ``merged``, in place.

    Args:
        merged: The parent's resolved mapping.
        ids: The ``drop_events`` value: a list of event ids.
        source: The file that asked, for messages.
        origins: Field path origins (``events.N`` keys are renumbered to the kept events).

    Raises:
        ScenarioError: For a value that is not a list of ids, or an id no parent event has.
    """
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ScenarioError(source, [f"{DROP_EVENTS}: {ids!r} is not a list of event ids"])
    events = merged.get("events") if isinstance(merged.get("events"), list) else []
    known = [e.get("id") for e in events if isinstance(e, dict) and e.get("id") is not None]
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ScenarioError(source, [
            f"{DROP_EVENTS}: no event of the extended file has the id {i!r}; ids there: "
            f"{', '.join(map(str, known)) or 'none'}{_did_you_mean(i, [str(k) for k in known])}"
            for i in unknown])
    keep = [k for k, e in enumerate(events) if not (isinstance(e, dict) and e.get("id") in ids)]
    merged["events"] = [events[k] for k in keep]
    if origins is not None:
        moved = {f"events.{old}": f"events.{new}" for new, old in enumerate(keep)}
        renamed = {}
        for key in [k for k in origins if k.startswith("events.")]:
            head, _, rest = key[len("events."):].partition(".")
            value = origins.pop(key)
            target = moved.get(f"events.{head}")
            if target is not None:
                renamed[target + (f".{rest}" if rest else "")] = value
        origins.update(renamed)


def _note_origins(data: dict[str, Any], source: str, origins: dict[str, str] | None,
                  first_event: int) -> None:
    """Record ``source`` as the origin of every leaf path of ``data`` (events by position)."""
    if origins is None:
        return

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict) and node:
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else str(key))
        else:
            origins[prefix] = source

    for key, value in data.items():
        if key == "events" and isinstance(value, list):
            for i, event in enumerate(value):
                walk(event, f"events.{first_event + i}")
        else:
            walk(value, str(key))


def origin_of(problem: str, origins: dict[str, str]) -> str | None:
    """The file that set the field a problem line starts with (``path: ...``), if known."""
    path = problem.split(":", 1)[0].strip()
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        found = origins.get(".".join(parts[:end]))
        if found is not None:
            return found
    prefix = path + "."
    found = {file for key, file in origins.items() if key.startswith(prefix)}
    return found.pop() if len(found) == 1 else None


def actor_problems(data: dict[str, Any]) -> list[str]:
    """Actor keys that field paths cannot name, and display labels that two actors share.

    A key such as ``ja.pan`` was accepted and listed among the paths, and then every
    ``--set``, sweep and uncertainty path to it was refused; it is refused here, where it is
    defined. Two actors shown under one label (a power ``jp`` labelled "Japan" beside
    ``japan``) made tables and the chronicle ambiguous.
    """
    problems, shown = [], {}
    for group, kind in ACTOR_GROUPS.items():
        actors = data.get(group)
        if not isinstance(actors, dict):
            continue
        for key, actor in actors.items():
            if not isinstance(key, str) or not ACTOR_NAME.fullmatch(key):
                problems.append(f"{group}.{key}: {key!r} is not allowed as a {kind} name: a "
                                "letter, then letters, digits, _, - or spaces (no dots)")
                continue
            label = actor.get("label") if isinstance(actor, dict) else None
            label = display_name(key, label if isinstance(label, str) and label.strip() else None)
            first = shown.setdefault(label.strip().casefold(), (group, key))
            if first != (group, key):
                problems.append(f"{group}.{key}: shown as {label.strip()!r}, like "
                                f"{first[0]}.{first[1]} ({key!r} and {first[1]!r} would read "
                                "the same in tables and the chronicle); give each power and "
                                "state its own label (label: ...)")
    return problems


def _did_you_mean(name: str, known: list[str]) -> str:
    hint = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {hint[0]!r}?" if hint else ""


def _known_actors(data: dict[str, Any], group: str) -> list[str] | None:
    """The actor names of ``data[group]``, or None if it is not a mapping (validation says)."""
    actors = data.get(group)
    return [str(k) for k in actors] if isinstance(actors, dict) else None


def take_new_markers(child: dict[str, Any], parent: dict[str, Any] | None, source: str) -> None:
    """Check and remove the ``new: true`` markers on a scenario's actors, in place.

    An extending scenario (``parent`` given) may add a power or state only if the actor says
    ``new: true``; any other name the parent lacks is taken for a misspelling and refused,
    with "did you mean" for a near miss. ``new: true`` on an actor the parent already has is
    refused too. A scenario without a parent may carry the marker (every actor is new there).
    The marker is removed here, so the schema never sees it: anywhere else ``new`` is an
    unknown key.

    Raises:
        ScenarioError: Naming the file, the actor's path and the known actors.
    """
    problems = []
    for group, kind in ACTOR_GROUPS.items():
        actors = child.get(group)
        known = None if parent is None else _known_actors(parent, group)
        if not isinstance(actors, dict):
            continue
        for name, actor in actors.items():
            where = f"{group}.{name}"
            marker = actor.get(NEW_MARKER, False) if isinstance(actor, dict) else False
            if marker is not False and marker is not True:
                problems.append(f"{where}.{NEW_MARKER}: {marker!r} is not allowed: only "
                                f"`{NEW_MARKER}: true` (it marks an actor this file adds)")
                continue
            if known is None:
                pass
            elif marker and name in known:
                problems.append(f"{where}: `{NEW_MARKER}: true` but the parent scenario already "
                                f"has {kind} {name!r}; drop the marker to change it")
            elif not marker and name not in known:
                problems.append(
                    f"{where}: unknown {kind} {name!r}; known {kind}s: {', '.join(known)}"
                    f"{_did_you_mean(str(name), known)} (to add a {kind}, give it "
                    f"`{NEW_MARKER}: true`)"
                )
            if isinstance(actor, dict):
                actor.pop(NEW_MARKER, None)
    if problems:
        raise ScenarioError(source, problems)


def extend(parent: dict[str, Any], child: dict[str, Any],
           source: str = "<extending scenario>") -> dict[str, Any]:
    """Merge a child scenario over its parent: mappings merge, the child's events are appended.

    A child adds to its parent's timeline (``events`` is the one list that is joined rather
    than replaced); every other value in the child replaces the parent's. A power or state the
    parent lacks must say ``new: true`` (:func:`take_new_markers`).

    Raises:
        ScenarioError: For an unknown actor without the marker (named with ``source``).
    """
    child = copy.deepcopy(child)
    take_new_markers(child, parent, source)
    events = child.pop("events", None)
    merged = deep_merge(parent, child)
    if events is not None:
        if not isinstance(events, list):
            merged["events"] = events  # validation reports the wrong type
        else:
            merged["events"] = list(merged.get("events") or []) + copy.deepcopy(events)
    return merged


def parse_set(pairs: list[str]) -> list[tuple[str, Any]]:
    """Parse ``--set path=value`` pairs; values are read as YAML scalars (numbers, true, text).

    Raises:
        ScenarioError: For a pair without ``=`` or an empty path.
    """
    parsed = []
    for pair in pairs:
        path, sep, value = pair.partition("=")
        if not sep or not path.strip():
            raise ScenarioError("--set", [f"{pair!r}: write it as field.path=value"])
        try:
            parsed.append((path.strip(), yaml.safe_load(value) if value.strip() else ""))
        except yaml.YAMLError:
            parsed.append((path.strip(), value))
    return parsed


def set_path(data: dict[str, Any], path: str, value: Any, source: str = "--set") -> None:
    """Set a dotted field path (list items by number, or events by id) in a raw mapping, in place.

    Missing (or null) mappings along the path are created, but never an actor: a power or state
    the mapping does not name is refused with "did you mean", since a misspelt actor would
    otherwise become a new, empty one.

    Raises:
        ScenarioError: If the path names an unknown power or state, or walks through something
            that is not a mapping or list.
    """
    parts = path.split(".")
    if parts[0] in ACTOR_GROUPS and len(parts) > 1:
        known = _known_actors(data, parts[0])
        if known is not None and parts[1] not in known:
            kind = ACTOR_GROUPS[parts[0]]
            raise ScenarioError(source, [
                f"{parts[0]}.{parts[1]}: unknown {kind} {parts[1]!r}; known {kind}s: "
                f"{', '.join(known)}{_did_you_mean(parts[1], known)} (--set never adds a {kind})"
            ])
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            node = node[_list_index(node, part, where, source)]
        elif isinstance(node, dict):
            if node.get(part) is None:  # absent, or null: an optional mapping left unset
                node[part] = {}
            node = node[part]
        else:
            raise ScenarioError(source, [f"{where}: cannot go into a {type(node).__name__}"])
    last = parts[-1]
    if isinstance(node, list):
        node[_list_index(node, last, path, source)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ScenarioError(source, [f"{path}: cannot set inside a {type(node).__name__}"])


def _list_index(items: list, part: str, where: str, source: str) -> int:
    """The position of a list item named by number, or by its ``id`` (an event's)."""
    if part.isdigit() and int(part) < len(items):
        return int(part)
    if not part.isdigit():
        named = [i for i, item in enumerate(items) if isinstance(item, dict)
                 and item.get("id") == part]
        if named:
            return named[0]
    raise ScenarioError(source, [f"{where}: no list item {part!r} ({len(items)} items)"])
