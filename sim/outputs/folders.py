"""Write a run's results folder: CSV tables, a manifest and a plot, atomically.

Files are written into a hidden temporary folder beside the destination and renamed into
place when complete, so an interrupted run leaves either a whole results folder or none.
Floats are written as the shortest text that reads back to the same value in the engine's
precision, so the same scenario and seed give byte-identical CSV files.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pydantic
import yaml

import sim
from sim.errors import SimError
from sim.scenario import Scenario


class OutputError(SimError):
    """A results folder that cannot be written where asked."""


def safe_name(name: str) -> str:
    """Turn a scenario name into a folder name that stays inside its parent.

    Anything but letters, digits, ``-``, ``_`` and ``.`` becomes ``_``; leading dots are
    dropped, so ``../../etc`` cannot climb out of the results folder.
    """
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).lstrip(".")
    return cleaned[:80] or "scenario"


def distinct_safe_names(names: list[str], what: str) -> list[str]:
    """Return :func:`safe_name` of each name, refusing two that would share a file name.

    Two names collide when their safe names are equal ignoring case (``a b`` and ``a_b``;
    ``Kaz`` and ``kaz`` on a case-insensitive file system), and one's files would overwrite
    the other's.

    Args:
        names: The names (scenario labels, state keys...).
        what: What they are, for the message ("scenario labels").

    Raises:
        OutputError: Naming both names and the file name they share.
    """
    seen: dict[str, str] = {}
    safe = []
    for name in names:
        cleaned = safe_name(name)
        other = seen.setdefault(cleaned.lower(), name)
        if other != name:
            raise OutputError(f"the {what} {other!r} and {name!r} would both be written as "
                              f"{cleaned!r}; rename one of them")
        safe.append(cleaned)
    return safe


def run_id(scenario: Scenario, seeds: list[int], uncertainty: str = "") -> str:
    """A deterministic run id: the seed(s), the scenario's hash, and any uncertainty's hash.

    Runs with parameters as written (no uncertainty digest) keep the ids they always had.
    """
    seed_part = f"s{seeds[0]}" if len(seeds) == 1 else f"s{seeds[0]}x{len(seeds)}"
    drawn = f"-u{uncertainty[:8]}" if uncertainty else ""
    return f"{seed_part}-{scenario.digest()[:10]}{drawn}"


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a table (shortest round-trip floats, Unix line endings)."""
    frame.to_csv(path, index=False, lineterminator="\n")


def git_commit() -> str | None:
    """The git commit of the source tree the package runs from, if it is a checkout."""
    root = Path(sim.__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
            timeout=5, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def versions() -> dict[str, str]:
    """Versions of the package, Python and the main libraries."""
    found = {
        "sim": sim.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "pydantic": pydantic.VERSION,
        "pyyaml": yaml.__version__,
    }
    try:
        found["mesa"] = version("mesa")
    except Exception:  # noqa: BLE001 - mesa metadata missing is not an error here
        found["mesa"] = "not installed"
    return found


def manifest(scenario: Scenario, seeds: list[int], extra: dict[str, Any] | None = None) -> dict:
    """The manifest of a run: resolved scenario, its hash, seeds, versions, commit, command."""
    data = {
        "scenario": scenario.model_dump(mode="json"),
        "scenario_sha256": scenario.digest(),
        "seed": seeds[0] if len(seeds) == 1 else None,
        "seeds": seeds,
        "steps": scenario.steps,
        "versions": versions(),
        "git_commit": git_commit(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }
    if extra:
        data.update(extra)
    return data


def read_json_file(folder: Path, name: str, error: type[SimError], needs: str,
                   what: str = "a results folder") -> dict:
    """Read a JSON object file of a results folder, or raise ``error`` with a plain message.

    Args:
        folder: The results folder.
        name: The file in it (``manifest.json``, a sweep's ``plan.json``).
        error: The SimError subclass to raise (the command's own).
        needs: What to give instead, for the message ("a run folder written by sim run").
        what: What the folder is not, when it lacks the file ("a run folder").
    """
    path = Path(folder)
    if not path.is_dir():
        raise error(f"{path}: no such folder; give {needs}")
    file = path / name
    if not file.is_file():
        raise error(f"{path}: not {what} (no {name}); give {needs}")
    try:
        data = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{file}: not readable JSON ({exc})") from None
    except OSError as exc:
        raise error(f"{file}: cannot be read ({exc.strerror})") from None
    if not isinstance(data, dict):
        raise error(f"{file}: not a file written by sim (a JSON {type(data).__name__}, not an "
                    f"object); give {needs}")
    return data


def read_manifest(folder: Path, error: type[SimError], needs: str,
                  what: str = "a results folder") -> dict:
    """Read a results folder's manifest.json (:func:`read_json_file`)."""
    return read_json_file(folder, "manifest.json", error, needs, what)


def write_json(data: dict, path: Path) -> None:
    """Write JSON with sorted keys and a final newline."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


STALE_SECONDS = 3600
"""Hidden ``.tmp-*`` / ``.old-*`` folders older than this were left by a killed writer."""

_LEFTOVER = re.compile(r"^(\.tmp-.+-[A-Za-z0-9_]{8}|\.old-.+-\d+)$")
"""Names :func:`atomic_folder` gives its temporary folders (mkdtemp suffix; process id)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def clean_stale(parent: Path, now: float | None = None) -> list[Path]:
    """Remove what a writer killed with SIGKILL (or a power cut) left in ``parent``.

    ``atomic_folder`` cleans up after errors and Ctrl-C itself; only an uncatchable kill leaves
    a hidden ``.tmp-NAME-*`` folder (an incomplete result) or, if it struck between the two
    renames that replace an old result, a hidden ``.old-NAME-*`` folder holding that result.
    Those older than :data:`STALE_SECONDS` are removed, except that an ``.old-NAME-*`` whose
    ``NAME`` is missing is renamed back into place. Readers ignore hidden names throughout.

    Args:
        parent: The folder holding results folders (e.g. results/<scenario name>).
        now: The current time (seconds since the epoch), for tests.

    Returns:
        The leftovers removed or restored.

    """
    now = time.time() if now is None else now
    handled = []
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return handled
    for entry in entries:
        kind = entry.name[:5]
        if not _LEFTOVER.match(entry.name) or not entry.is_dir() or entry.is_symlink():
            continue
        try:
            if now - entry.lstat().st_ctime < STALE_SECONDS:
                continue  # perhaps a live writer
            original = entry.with_name(entry.name[5:].rsplit("-", 1)[0])
            if kind == ".old-" and not original.exists():
                os.replace(entry, original)
            else:
                shutil.rmtree(entry)
            handled.append(entry)
        except OSError:
            continue
    return handled


def written_by_sim(folder: Path) -> bool:
    """Whether ``folder`` is a results folder this simulator wrote (or an empty folder).

    A results folder holds the ``manifest.json`` that :func:`manifest` writes (with the
    simulator's version under ``versions.sim``). Anything else may hold the user's own files,
    so no command replaces it.
    """
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        return False
    try:
        if not any(folder.iterdir()):
            return True
        data = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "sim" in (data.get("versions") or {})


def refuse_foreign(destination: Path) -> None:
    """Raise :class:`OutputError` if ``destination`` exists and the simulator did not write it.

    Commands write their results into a folder of their own; an existing folder is replaced
    only when it is an earlier result (see :func:`written_by_sim`), never a folder or file of
    the user's, which the replacement would delete.
    """
    destination = Path(destination)
    if not (destination.exists() or destination.is_symlink()):
        return
    if destination.is_dir() and not destination.is_symlink():
        if written_by_sim(destination):
            return
        what = "a folder the simulator did not write (no results manifest.json in it)"
    else:
        what = "not a folder"
    raise OutputError(f"{destination} exists and is {what}; it is left untouched: give a new "
                      "folder (one that does not exist yet) or move it away")


def output_failure(exc: OSError, where: Path) -> OutputError:
    """Turn an OSError met while writing results into a plain OutputError.

    Args:
        exc: The error (a full disk, a read-only or missing folder, a quota...).
        where: The results folder being written, for the message.
    """
    name = f" ({exc.filename})" if exc.filename else ""
    reason = exc.strerror or str(exc)
    advice = {errno.ENOSPC: "free some space", errno.EDQUOT: "free some space",
              errno.EROFS: "give a writable --out", errno.EACCES: "give a writable --out",
              errno.EPERM: "give a writable --out"}.get(exc.errno, "check the folder")
    return OutputError(f"cannot write {where}: {reason}{name}; {advice} and run the command "
                       "again (nothing partial was left)")


@contextmanager
def atomic_folder(destination: Path):
    """Yield a temporary folder that becomes ``destination`` only if the block succeeds.

    An existing destination is replaced if it is an earlier result of the simulator or empty;
    its files that the new result also writes are replaced, and anything else in it (a user's
    notes) is moved into the new folder (:func:`keep_others`); a folder the simulator did not
    write is refused before any work (:func:`refuse_foreign`), so no user file is ever
    deleted. On any error (or interruption) the temporary folder is removed, so are the parent
    folders this call created if they are empty, and the destination is left as it was; an
    OSError (a full disk, a read-only folder) becomes an :class:`OutputError`.
    Stale leftovers of writers killed earlier are cleaned first (:func:`clean_stale`). Two
    processes writing the same destination at once are safe: the final renames happen under a
    lock on the parent folder (:func:`folder_lock`), and the last writer's result stands.

    Raises:
        OutputError: If the destination is someone else's, its parent cannot be made, or the
            writing fails.
    """
    destination = Path(destination)
    refuse_foreign(destination)
    created = destination.parent
    while not created.parent.exists() and created.parent != created:
        created = created.parent
    made = not created.exists()
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"cannot create {destination.parent}: a file of that name is in the "
                          "way (not a folder); give another --out") from None
    except OSError as exc:
        raise OutputError(f"cannot create {destination.parent}: {exc.strerror}") from None
    clean_stale(destination.parent)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{destination.name}-", dir=destination.parent))
    except OSError as exc:
        _remove_made(destination, created, made)
        raise output_failure(exc, destination) from None
    try:
        yield tmp
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it private (0700); results are shared
        with folder_lock(destination.parent):
            refuse_foreign(destination)  # again: something may have appeared while we worked
            old = None
            if destination.exists() or destination.is_symlink():
                old = destination.with_name(f".old-{destination.name}-{os.getpid()}")
                os.replace(destination, old)
            os.replace(tmp, destination)
            if old is not None:
                keep_others(old, destination)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_made(destination, created, made)
        if isinstance(exc, OSError):
            raise output_failure(exc, destination) from None
        raise


def keep_others(old: Path, new: Path) -> list[str]:
    """Move into ``new`` every entry of the replaced result ``old`` that ``new`` does not hold.

    A rerun rewrites its own files; anything else in the folder (the user's notes, an analysis
    folder, a report written into it later) is kept: the simulator deletes or replaces only
    what it creates. Returns the names moved.
    """
    moved = []
    for entry in sorted(old.iterdir()):
        target = new / entry.name
        if entry.name.startswith((".tmp-", ".old-")) or target.exists() or target.is_symlink():
            continue
        os.replace(entry, target)
        moved.append(entry.name)
    return moved


def _remove_made(destination: Path, created: Path, made: bool) -> None:
    """Remove the empty parent folders an :func:`atomic_folder` call created."""
    if not made:
        return
    folder = destination.parent
    while True:
        try:
            folder.rmdir()  # only if empty
        except OSError:
            break
        if folder == created:
            break
        folder = folder.parent


@contextmanager
def folder_lock(folder: Path, waiting: str | None = None):
    """Hold an exclusive lock on ``folder`` (created if missing) for the block.

    The lock is ``flock`` on the folder itself, so it leaves no lock file behind and is
    released by the kernel if the process dies. Another process asking for the same folder
    waits until the block ends. If the folder was removed or replaced while this process
    waited (its holder gave it up), the lock is taken on the new folder instead.

    Args:
        folder: The folder to lock.
        waiting: A line to print on stderr if another process holds the lock (None: wait
            silently).

    Raises:
        OutputError: If the folder cannot be created or opened.
    """
    folder = Path(folder)
    told = False
    while True:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except FileExistsError:
            raise OutputError(f"cannot create {folder}: a file of that name is in the way; "
                              "give another --out") from None
        except OSError as exc:
            raise OutputError(f"cannot create {folder}: {exc.strerror}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if waiting and not told:
                    print(waiting, file=sys.stderr, flush=True)
                    told = True
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                current = os.stat(folder)
            except OSError:
                current = None
            if current is not None and os.path.samestat(os.fstat(fd), current):
                yield folder
                return
        finally:
            os.close(fd)


def inside(base: Path, *parts: str) -> Path:
    """Join ``parts`` under ``base`` and refuse a result that escapes it."""
    try:
        base = Path(base).resolve()
        path = base.joinpath(*parts).resolve()
    except (RuntimeError, OSError):
        raise OutputError(f"{Path(base).joinpath(*parts)}: the path is a symlink loop (a link "
                          "that leads back to itself); give another --out") from None
    if base != path and base not in path.parents:
        raise OutputError(f"{path} is outside {base}")
    return path


def write_files(folder: Path, writers: dict[str, Callable[[Path], None]]) -> None:
    """Call each writer with its file path inside ``folder``."""
    for name, write in writers.items():
        write(folder / name)
