"""Default chunk sizes: how many runs each front end hands a worker at a time, and why.

A chunk is one engine batch on one worker. The front ends cut their runs with
:func:`sim.batch.driver.chunk_slices` (the sweep with :func:`sim.sweep.layout.chunks`, whole
samples); :data:`CHUNK_DEFAULTS` holds the size each one asks for when its user gives
none, so the defaults sit in one table with their reasons.

A chunk's runs give the same numbers in any chunk (the engine's random numbers depend only on
each run's seed, step, stream and index, and every summary adds in a fixed order), so outside
the sweep the chunk size changes no output file: tests/test_abc.py (calibration),
tests/test_hindcast.py (slow tier) and tests/test_optimise.py check it. A sweep's chunk size is
part of its stored plan: its values do not depend on it (tests/test_sweep_run.py), but the
``parts/`` files and the row groups of the merged Parquet files follow it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChunkDefault:
    """A front end's default chunk size.

    Attributes:
        front_end: Who asks for it (``sweep``, ``optimise``...).
        runs: Runs per chunk (at most, or about: see ``where``).
        where: The setting that overrides it.
        why: Why about this many.

    """

    front_end: str
    runs: int
    where: str
    why: str


CHUNK_DEFAULTS: dict[str, ChunkDefault] = {d.front_end: d for d in (
    ChunkDefault("sweep", 4096, "the sweep file's chunk_size",
                 "a sweep keeping summaries only: thousands of runs share each numpy call's "
                 "fixed cost, and a chunk's tables (about 0.7 MB for 4,090 runs) keep memory "
                 "small with two chunks per worker in flight; whole samples, so 4,096 // seeds "
                 "of them. Stored in the sweep's plan: a resumed sweep cuts its runs the same "
                 "way"),
    ChunkDefault("sweep_trajectories", 1024, "the sweep file's chunk_size",
                 "a sweep keeping trajectories: a chunk's trajectories come back whole, a row "
                 "per run, kept step, state and power, so a smaller chunk bounds a worker's "
                 "and the main process's memory"),
    ChunkDefault("optimise", 4096, "the policy file's chunk_runs",
                 "about this many runs per batch: whole candidates with all their draws "
                 "(chunk_runs // draws candidates), at least one chunk per worker"),
    ChunkDefault("hindcast", 50, "run_hindcast(chunk_runs=...)",
                 "at most this many replicates of the whole record per batch: the default 200 "
                 "draws make 4 chunks, so every worker of a small pool gets work and the "
                 "progress display moves during the run"),
    ChunkDefault("calibrate", 2000, "calibrate(chunk_size=...)",
                 "at most this many candidates of an ABC-SMC round per batch, the shipped "
                 "population (2,000 particles, docs/CALIBRATION.md)"),
)}
"""Every front end's default chunk size, by front end."""


def default_chunk(front_end: str) -> int:
    """The default chunk size of ``front_end`` (a key of :data:`CHUNK_DEFAULTS`), in runs."""
    return CHUNK_DEFAULTS[front_end].runs
