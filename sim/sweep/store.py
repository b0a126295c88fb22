"""A sweep's results folder: chunk parts written atomically, listed on restart, merged at the end.

Layout of ``results/<sweep name>/``::

    plan.json                   what the sweep is (written first; a restart must match it)
    parts/runs-00012.parquet    per run of chunk 12 (written last: it marks the chunk done)
    parts/summary-00012.parquet per sample of chunk 12
    trajectories/part-00012.parquet   when trajectories are kept
    runs.parquet, summary.parquet     all chunks, in order (written at the end)

Every file is written to a hidden temporary name in the same folder and renamed into place
(``os.replace``) once complete and flushed, so a sweep killed at any moment (``kill -9``
included) leaves only whole files. A chunk counts as done only when its runs part exists; its
other parts are written before it. Temporary files left by a killed sweep are removed on restart.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import SimError
from sim.outputs.folders import OutputError
from sim.outputs.plots import save
from sim.outputs.units import with_units

PART = "{kind}-{index:05d}.parquet"
_DONE = re.compile(r"^runs-(\d{5,})\.parquet$")
TMP_PREFIX = ".tmp-"
_TMP_NAME = re.compile(r"^\.tmp-(.+\.\d+|\d+-.+)$")
"""The temporary names this module gives (``.tmp-NAME.PID``, ``.tmp-PID-NAME``): only these
are cleaned, never another file whose name merely starts with ``.tmp-``."""



SWEEP_FILES = ("plan.json", "parts", "trajectories", "runs.parquet", "summary.parquet",
               "sensitivity.csv", "sensitivity.png", "response.png", "manifest.json")
"""What ``sim sweep`` writes into a sweep folder (``--fresh`` removes these and nothing else)."""

DERIVED_FOLDERS = ("discover", "replays")
"""Folders other commands write into a sweep folder from its runs (``--fresh`` refuses them)."""

class SweepMismatchError(SimError):
    """A results folder that holds a different sweep than the one asked for."""


def write_parquet(table: pa.Table, path: Path, compression: str = "zstd",
                  durable: bool = True) -> None:
    """Write a table as Parquet atomically (temporary name, rename), with its units.

    The units go into the schema (:func:`sim.outputs.units.with_units`).

    Args:
        table: The table.
        path: Where it goes.
        compression: Parquet compression.
        durable: Flush it to disk (``fsync``) before the rename, so a power cut cannot leave a
            renamed but empty file. Off for a sweep's runs and summary parts: a resumed sweep
            opens every part and recomputes one that is damaged or short
            (:meth:`SweepStore.verified`), and their fsyncs were about half of a
            summaries-only sweep's time beyond the engine's (docs/RELIABILITY.md).
    """
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}")
    try:
        # Dictionary-encode only the label columns: trying it on floats costs time and space.
        labels = [c for c in ("state", "power") if c in table.column_names]
        pq.write_table(with_units(table), tmp, compression=compression,
                       use_dictionary=labels or False)
        if durable:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(text: str, path: Path) -> None:
    """Write a text file atomically."""
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def save_figure(fig, path: Path) -> None:
    """Save a figure as PNG atomically (temporary name, then rename) and close it."""
    tmp = path.with_name(f"{TMP_PREFIX}{os.getpid()}-{path.name}")
    try:
        save(fig, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class SweepStore:
    """The results folder of one sweep.

    Attributes:
        folder: ``results/<sweep name>``.

    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    @property
    def parts(self) -> Path:
        """Folder of the per-chunk runs and summary parts."""
        return self.folder / "parts"

    @property
    def trajectories(self) -> Path:
        """Folder of the per-chunk trajectory parts."""
        return self.folder / "trajectories"

    def part(self, kind: str, index: int) -> Path:
        """Path of a chunk's part: kind is ``runs``, ``summary`` or ``trajectories``."""
        if kind == "trajectories":
            return self.trajectories / f"part-{index:05d}.parquet"
        return self.parts / PART.format(kind=kind, index=index)

    def open(self, plan: dict, fresh: bool = False) -> None:
        """Create the folder, or check that an existing one holds the same sweep.

        Args:
            plan: The sweep's plan (``digest`` decides whether results can be reused).
            fresh: Delete an existing sweep folder of the same name first.

        Raises:
            SweepMismatchError: If the folder holds a different sweep (and not ``fresh``).
            OutputError: If the folder exists and is not a sweep folder, or cannot be made.

        """
        plan_file = self.folder / "plan.json"
        if self.folder.is_dir():
            if not plan_file.is_file() and any(self.folder.iterdir()):
                raise OutputError(f"{self.folder} exists and is not a sweep results folder; "
                                  "move it away or rename the sweep")
            if plan_file.is_file() and fresh:
                self._empty()
            elif plan_file.is_file():
                old = read_plan_file(plan_file, SweepMismatchError)
                if old.get("digest") != plan["digest"]:
                    raise SweepMismatchError(
                        f"{self.folder} holds results of a different sweep (its scenario, "
                        "parameters, design, seeds or outputs differ); rerun with --fresh to "
                        "discard them, or give the sweep another name"
                    )
        try:
            self.parts.mkdir(parents=True, exist_ok=True)
            if plan.get("trajectories"):
                self.trajectories.mkdir(exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create {self.folder}: {exc.strerror}") from None
        self.clean()
        if not plan_file.is_file():
            # Not sorted: the scenario's actor order is the engine's axis order.
            write_text(json.dumps(plan, indent=2) + "\n", plan_file)

    def _empty(self) -> None:
        """Remove the sweep's own files (``--fresh``), keeping the folder and the user's files.

        The folder stays because it carries the lock of the sweep writing into it. Only what
        ``sim sweep`` writes is removed (:data:`SWEEP_FILES`, and its temporary files); a
        user's notes stay. Results made from the sweep's runs (``discover/``, ``replays/``)
        would describe runs that are no longer there, so ``--fresh`` refuses while they exist
        rather than deleting them or leaving them stale.

        Raises:
            OutputError: If ``discover/`` or ``replays/`` is in the folder.
        """
        derived = [name for name in DERIVED_FOLDERS if (self.folder / name).exists()]
        if derived:
            shown = " and ".join(f"{name}/" for name in derived)
            raise OutputError(f"{self.folder} holds {shown}, made from the results --fresh "
                              f"would discard; nothing was deleted. Move {shown} away (or "
                              "delete it) and run the command again, or give the sweep "
                              "another name")
        for name in SWEEP_FILES:
            path = self.folder / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
        self.clean()

    def verified(self, chunks: list, trajectories: bool = False) -> set[int]:
        """Return the chunks whose parts are complete and readable; forget damaged ones.

        A part is checked from its Parquet footer (cheap): it must open and hold the chunk's
        number of rows. A chunk whose parts are truncated, foreign or missing is computed
        again: its runs part, which marks it done, is removed. Parts of chunks that are not
        in this sweep (a higher index) are ignored.

        Args:
            chunks: The sweep's chunks (:func:`sim.sweep.layout.chunks`).
            trajectories: Whether the sweep keeps trajectories (their part is checked too).
        """
        done = self.done()
        good = set()
        for chunk in chunks:
            if chunk.index not in done:
                continue
            if self._intact(chunk, trajectories):
                good.add(chunk.index)
            else:
                print(f"{self.folder}: chunk {chunk.index}'s parts are damaged or foreign; "
                      "computing it again", file=sys.stderr)
                self.part("runs", chunk.index).unlink(missing_ok=True)
        return good

    def _intact(self, chunk, trajectories: bool) -> bool:
        """Whether a chunk's parts open and hold its runs (or samples), by their ids."""
        i = chunk.index
        runs = (int(chunk.run_ids[0]), int(chunk.run_ids[-1]))
        samples = (chunk.first_sample, chunk.first_sample + chunk.n_samples - 1)
        if _span(self.part("runs", i), "run_id") != (chunk.n_runs, *runs):
            return False
        if _span(self.part("summary", i), "sample_id") != (chunk.n_samples, *samples):
            return False
        if not trajectories:
            return True
        span = _span(self.part("trajectories", i), "run_id")
        return span is not None and span[1:] == runs

    def clean(self) -> None:
        """Remove temporary files a killed sweep left behind."""
        for folder in (self.folder, self.parts, self.trajectories):
            if folder.is_dir():
                for path in folder.iterdir():
                    if _TMP_NAME.match(path.name) and path.is_file():
                        path.unlink(missing_ok=True)

    def done(self) -> set[int]:
        """Return the indices of the chunks whose results are complete."""
        if not self.parts.is_dir():
            return set()
        found = set()
        for path in self.parts.iterdir():
            match = _DONE.match(path.name)
            if match:
                found.add(int(match.group(1)))
        return found

    def write_chunk(self, index: int, runs: pa.Table, summary: pa.Table,
                    trajectories: pa.Table | None) -> None:
        """Write one chunk's parts; the runs part goes last and marks the chunk done.

        Trajectory parts are zstd (they are the kept data); the runs and summary parts, which
        the merged zstd tables are made from, are lz4 (faster to write, a little larger).
        """
        if trajectories is not None:
            write_parquet(trajectories, self.part("trajectories", index))
        write_parquet(summary, self.part("summary", index), compression="lz4", durable=False)
        write_parquet(runs, self.part("runs", index), compression="lz4", durable=False)


def _span(path: Path, column: str) -> tuple[int, int, int] | None:
    """(rows, smallest, largest value of ``column``) of a Parquet file, from its footer.

    None if the file is missing, unreadable, or has no such column or statistics.
    """
    try:
        meta = pq.read_metadata(path)
        index = meta.schema.names.index(column)
        stats = [meta.row_group(g).column(index).statistics for g in range(meta.num_row_groups)]
        if not stats or not all(s is not None and s.has_min_max for s in stats):
            return None
        return meta.num_rows, min(int(s.min) for s in stats), max(int(s.max) for s in stats)
    except (OSError, ValueError, pa.ArrowException):
        return None


def read_plan_file(path: Path, error: type[SimError]) -> dict:
    """Read a sweep's plan.json, refusing a damaged or foreign one with ``error``.

    Args:
        path: The plan.json.
        error: The SimError subclass to raise (the command's own).
    """
    try:
        plan = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{path}: damaged, not readable JSON ({exc}); start the sweep again with "
                    "--fresh (its finished chunks cannot be checked without it)") from None
    missing = [k for k in PLAN_KEYS if not isinstance(plan, dict) or k not in plan]
    if missing:
        raise error(f"{path}: not a sweep plan written by sim sweep (no {', '.join(missing)}); "
                    "start the sweep again with --fresh, or give another folder")
    return plan


PLAN_KEYS = ("digest", "name", "source", "sweep", "scenario", "paths", "n_runs",
             "seeds_per_sample", "chunk_samples", "n_chunks", "trajectories")
"""Keys every plan.json holds (sim.sweep.runner.plan_document)."""


class OrderedMerge:
    """Append chunk parts to the merged files in chunk order, as the chunks finish.

    A chunk that finishes out of order waits in memory (up to ``max_waiting`` of them; beyond
    that it is read back from its part file when its turn comes); chunks done by an earlier
    invocation are read from their part files. The merged files are written under temporary
    names and renamed into place by :meth:`finish`, once every chunk is in, so the tables are
    not read back from disk at the end of a sweep.

    Args:
        store: The sweep's folder.
        n_chunks: Number of chunks.
        earlier: Chunks done before this invocation (read from their part files).
        kinds: Which parts to merge (``runs``, ``summary``).
        dests: Destination of each kind (default: ``<folder>/<kind>.parquet``).
        max_waiting: Most out-of-order chunks kept in memory.

    """

    def __init__(self, store: SweepStore, n_chunks: int, earlier: set[int] | None = None,
                 kinds: tuple[str, ...] = ("runs", "summary"),
                 dests: dict[str, Path] | None = None, max_waiting: int = 32):
        self.store, self.n_chunks, self.kinds = store, n_chunks, kinds
        self.earlier = set(earlier or ())
        self.dests = dests or {k: store.folder / f"{k}.parquet" for k in kinds}
        self.tmps = {k: d.with_name(f"{TMP_PREFIX}{d.name}.{os.getpid()}")
                     for k, d in self.dests.items()}
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.waiting: dict[int, dict[str, pa.Table] | None] = {}
        self.max_waiting = max_waiting
        self.next = 0

    def _advance(self, everything: bool = False) -> None:
        """Append every chunk whose turn has come; with ``everything``, all that are left."""
        while self.next < self.n_chunks:
            if self.next in self.waiting:
                tables = self.waiting.pop(self.next)
            elif everything or self.next in self.earlier:
                tables = None
            else:
                return
            for kind in self.kinds:
                table = tables[kind] if tables else pq.read_table(self.store.part(kind, self.next))
                if kind not in self.writers:
                    self.writers[kind] = pq.ParquetWriter(
                        self.tmps[kind], with_units(table).schema, compression="zstd",
                        use_dictionary=False)
                self.writers[kind].write_table(table)
            self.next += 1

    def add(self, index: int, tables: dict[str, pa.Table]) -> None:
        """Take a finished chunk (its parts already written): merge it now or in its turn."""
        kept = sum(t is not None for t in self.waiting.values())
        self.waiting[index] = tables if kept < self.max_waiting else None
        self._advance()

    def finish(self) -> None:
        """Append what is left (from the part files) and rename the merged files into place."""
        try:
            self._advance(everything=True)
            for kind in self.kinds:
                self.writers.pop(kind).close()
                os.replace(self.tmps[kind], self.dests[kind])
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Drop the unfinished merged files."""
        for writer in self.writers.values():
            writer.close()
        self.writers.clear()
        for tmp in self.tmps.values():
            tmp.unlink(missing_ok=True)
