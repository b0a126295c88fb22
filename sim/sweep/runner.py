"""Run a sweep: plan the chunks, run the missing ones, write and merge the results.

::

    plan = load_sweep("scenarios/sweeps/china_reaction.yaml")
    outcome = run_sweep(plan, out="results", workers=2)

A sweep started again with the same file computes only the chunks that are not done (see
:mod:`sim.sweep.store`); the merged files, sensitivity table, plots and manifest are rewritten
from the chunk parts at the end of every invocation.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sim.batch import Executor, Finished, Progress, Task, each_finished, make_executor
from sim.batch.cache import compiled
from sim.outputs.folders import folder_lock, git_commit, inside, output_failure, versions
from sim.outputs.names import output_quantity
from sim.outputs.plots import pyplot
from sim.outputs.units import SOBOL_UNIT, column_unit, folder_units, with_unit_column
from sim.sweep import layout
from sim.sweep.figures import response_figure, sensitivity_figure
from sim.sweep.plan import SweepPlan
from sim.sweep.sampling import problem, sample
from sim.sweep.sensitivity import morris_table, sobol_table
from sim.sweep.store import OrderedMerge, SweepStore, write_text
from sim.sweep.store import save_figure as save
from sim.sweep.worker import SCENARIO_SOURCE, ChunkTask, compile_each_sample, peak_rss_mb

SEED_RULE = ("seed(r) = splitmix64_mix(splitmix64_mix(sweep_seed * 0x9E3779B97F4A7C15) + "
             "(r + 1) * 0x9E3779B97F4A7C15) >> 1  (uint64; r = run_id)")


@dataclass(frozen=True)
class SweepOutcome:
    """What a sweep invocation did.

    Attributes:
        folder: The results folder.
        n_runs: Runs in the whole sweep.
        n_samples: Samples in the whole sweep.
        chunks_total: Chunks in the whole sweep.
        chunks_computed: Chunks computed by this invocation.
        chunks_reused: Chunks already done before it started.
        seconds: Wall time of the computing part.
        runs_per_second: Runs computed per second by this invocation.
        n_diverged: Runs whose state became non-finite (their outputs are NaN).

    """

    folder: Path
    n_runs: int
    n_samples: int
    chunks_total: int
    chunks_computed: int
    chunks_reused: int
    seconds: float
    runs_per_second: float
    n_diverged: int
    main_peak_rss_mb: float = 0.0
    worker_peak_rss_mb: float = 0.0


def plan_document(plan: SweepPlan, samples: int, chunks: int) -> dict[str, Any]:
    """Return the plan.json of a sweep: enough to check a restart and to replay any run."""
    spec = plan.spec
    return {
        "digest": plan.digest(),
        "name": plan.name,
        "source": plan.source,
        "sweep": spec.model_dump(mode="json"),
        "scenario": plan.scenario_data,
        "scenario_sha256": plan.scenario.digest(),
        "paths": list(plan.paths),
        "outputs": list(plan.outputs),
        "n_samples": samples,
        "seeds_per_sample": spec.seeds,
        "n_runs": samples * spec.seeds,
        "chunk_samples": plan.chunk_samples,
        "n_chunks": chunks,
        "sweep_seed": spec.seed,
        "seed_rule": SEED_RULE,
        "trajectories": spec.keep.trajectories,
        "every": spec.keep.every,
    }


def _tasks(plan: SweepPlan, values: np.ndarray, todo: list[layout.Chunk]) -> Iterator[Task]:
    spec = plan.spec
    key = plan.digest()
    # Whether each sample must be compiled is decided here once, from the whole sweep (a few
    # compilations), not again in every chunk: it was about 6% of a summaries-only sweep.
    each = False
    if todo:
        base = compiled(key, plan.scenario_data, SCENARIO_SOURCE)[1]
        each = compile_each_sample(plan.scenario_data, base, plan.paths, values)
    for chunk in todo:
        yield Task(chunk.index, "sweep_summaries", ChunkTask(
            key=key, scenario=plan.scenario_data, paths=plan.paths,
            values=values[chunk.first_sample:chunk.first_sample + chunk.n_samples],
            chunk=chunk, sweep_seed=spec.seed, outputs=tuple(spec.keep.outputs),
            trajectories=spec.keep.trajectories, every=spec.keep.every, compile_each=each,
        ), chunk.n_runs)


class _Parts:
    """The sweep's chunk store for the batch runner: its parts folder and the ordered merge.

    Each finished chunk is written to ``parts/`` and handed to the merge at once, so a
    restart finds it and memory holds only the chunks that wait for an earlier one.
    """

    def __init__(self, store: SweepStore, merge: OrderedMerge, earlier: set[int],
                 n_chunks: int):
        self.store, self.merge, self.earlier = store, merge, earlier
        self.n_chunks, self.folder = n_chunks, store.folder
        self.computed = self.runs = 0
        self.worker_rss = 0.0

    def done(self) -> set[int]:
        """The chunks done before this invocation."""
        return self.earlier

    def keep(self, finished: Finished) -> None:
        """Write a finished chunk's parts and merge it."""
        result = finished.value
        if self.computed == 0:
            _load_pyplot_in_background()  # the figures at the end need it
        self.store.write_chunk(result.index, result.runs, result.summary, result.trajectories)
        self.merge.add(result.index, {"runs": result.runs, "summary": result.summary})
        self.computed += 1
        self.runs += result.runs.num_rows
        self.worker_rss = max(self.worker_rss, result.peak_rss_mb)


def _load_pyplot_in_background() -> None:
    """Load matplotlib (a slow import) in a thread while the workers compute."""
    threading.Thread(target=pyplot, daemon=True, name="import-matplotlib").start()


def run_sweep(plan: SweepPlan, out: str | Path = "results", workers: int = 1,
              scheduler: Any = None, fresh: bool = False, quiet: bool = False,
              max_chunks: int | None = None, executor: Executor | None = None) -> SweepOutcome:
    """Run (or resume) a sweep and write its results folder.

    Args:
        plan: From :func:`sim.sweep.plan.load_sweep`.
        out: The results root; the sweep writes ``out/<sweep name>/``.
        workers: Local worker processes (1 runs in this process).
        scheduler: A Dask scheduler address (``tcp://host:port``) or client, instead.
        fresh: Discard an earlier sweep of the same name instead of resuming it.
        quiet: No progress bar.
        max_chunks: Stop after computing this many chunks (for tests and trials), leaving the
            sweep resumable; the merged files are then not written.
        executor: An executor to use as it is (and leave open), instead of ``workers`` and
            ``scheduler``.

    Returns:
        What was done.

    Raises:
        SweepMismatchError: If ``out/<name>`` holds a different sweep.
        BatchInterrupted: On Ctrl-C (finished chunks are kept).
        WorkerLost: If a local worker process dies (finished chunks are kept).
        OutputError: If the folder cannot be written (read-only, full disk, not a folder).

    Two invocations on the same folder at once are safe: the second waits for the first
    (a lock on the folder) and then resumes from its chunks. A sweep refused or stopped
    before its first chunk leaves no folder behind.

    """
    folder = inside(Path(out), plan.name)
    if executor is None and scheduler is None and workers < 1:
        make_executor(workers)  # refuses it before anything is written
    if executor is None and scheduler is not None:
        # Reach the cluster before anything is written: an unreachable scheduler leaves no
        # folder (not even the --out root).
        with make_executor(workers, scheduler) as cluster:
            return run_sweep(plan, out, workers, None, fresh, quiet, max_chunks, cluster)
    fresh_folder = not folder.exists()
    waiting = (f"waiting for another sweep writing into {folder} to finish "
               "(this one then resumes from its chunks)...")
    with folder_lock(folder, waiting=None if quiet else waiting):
        try:
            return _run_locked(plan, folder, workers, scheduler, fresh, quiet, max_chunks,
                               executor)
        except BaseException:
            if fresh_folder:
                _discard_if_unused(folder)
            raise


def _discard_if_unused(folder: Path) -> None:
    """Remove a sweep folder this invocation created if no chunk got done in it.

    A sweep refused or stopped before its first chunk (a bad --workers, an unreachable
    scheduler, Ctrl-C at once) leaves nothing behind; finished chunks are kept to resume.
    """
    store = SweepStore(folder)
    if folder.is_dir() and not store.done():
        shutil.rmtree(folder, ignore_errors=True)


def _run_locked(plan: SweepPlan, folder: Path, workers: int, scheduler: Any, fresh: bool,
                quiet: bool, max_chunks: int | None, executor: Executor | None) -> SweepOutcome:
    """Run the sweep (see :func:`run_sweep`) while this process holds the folder's lock."""
    spec = plan.spec
    values = sample(spec)
    count = len(values)
    all_chunks = layout.chunks(count, plan.chunk_samples, spec.seeds)
    store = SweepStore(folder)
    store.open(plan_document(plan, count, len(all_chunks)), fresh=fresh)
    done = store.verified(all_chunks, trajectories=spec.keep.trajectories)
    todo = [c for c in all_chunks if c.index not in done]
    if max_chunks is not None:
        todo = todo[:max_chunks]
    total_runs = count * spec.seeds
    reused_runs = sum(c.n_runs for c in all_chunks if c.index in done)
    executor_label = "none (all chunks were done)"
    merge = OrderedMerge(store, len(all_chunks), earlier=done)
    parts = _Parts(store, merge, done, len(all_chunks))
    start = time.perf_counter()
    try:
        with Progress(total_runs, reused_runs, quiet, desc="sweep") as progress:
            if todo:
                owned = executor is None
                runner = make_executor(workers, scheduler) if owned else executor
                with runner if owned else nullcontext(runner):
                    executor_label = runner.description
                    for _ in each_finished(_tasks(plan, values, todo), runner, progress, parts):
                        pass
    except OSError as exc:
        merge.abort()
        raise output_failure(exc, folder) from None
    except BaseException:
        merge.abort()
        raise
    seconds = time.perf_counter() - start
    computed, computed_runs, worker_rss = parts.computed, parts.runs, parts.worker_rss
    n_diverged = 0
    if not {c.index for c in all_chunks} <= store.done():
        merge.abort()
    else:
        try:
            merge.finish()
            n_diverged = finish(plan, store, values, len(all_chunks), {
                "executor": executor_label, "chunks_computed": computed,
                "chunks_reused": len(done), "seconds": round(seconds, 3),
                "worker_peak_rss_mb": round(worker_rss, 1),
            })
        except OSError as exc:
            raise output_failure(exc, folder) from None
    return SweepOutcome(
        folder=folder, n_runs=total_runs, n_samples=count, chunks_total=len(all_chunks),
        chunks_computed=computed, chunks_reused=len(done), seconds=seconds,
        runs_per_second=computed_runs / seconds if seconds > 0 else 0.0, n_diverged=n_diverged,
        main_peak_rss_mb=peak_rss_mb(), worker_peak_rss_mb=worker_rss,
    )


def analyse(plan: SweepPlan, summary: pd.DataFrame, values: np.ndarray) -> pd.DataFrame | None:
    """Compute the sensitivity table of a Sobol or Morris sweep (None for other designs)."""
    spec = plan.spec
    if spec.design not in ("sobol", "morris"):
        return None
    ordered = summary.sort_values("sample_id")
    outputs = {name: ordered[f"{name}_mean"].to_numpy() for name in plan.outputs}
    if spec.design == "sobol":
        return sobol_table(problem(spec), outputs, spec.sobol.second_order, spec.seed)
    return morris_table(problem(spec), values, outputs, spec.morris.levels, spec.seed)


def finish(plan: SweepPlan, store: SweepStore, values: np.ndarray, n_chunks: int,
           run_info: dict[str, Any]) -> int:
    """Write the sensitivity table, plots and manifest (the merged tables are written).

    Returns:
        The number of diverged runs.

    """
    folder, spec = store.folder, plan.spec
    output = plan.plot_output
    columns = ["sample_id", *plan.paths, "n_diverged"]
    if spec.design in ("sobol", "morris"):
        columns += [f"{o}_mean" for o in plan.outputs]
    else:
        columns += [f"{output}_{s}" for s in ("mean", "p5", "p95")]
    columns += [c for c in (f"{output}_p5", f"{output}_p95") if c not in columns]
    summary = pq.read_table(folder / "summary.parquet", columns=columns).to_pandas()
    files = ["plan.json", "runs.parquet", "summary.parquet", "parts/"]
    if spec.keep.trajectories:
        files.append("trajectories/")
    table = analyse(plan, summary, values)
    skipped: list[str] = []
    if table is not None:
        # Morris effects are in the output's unit; Sobol indices are shares of its variance.
        units = {o: SOBOL_UNIT if spec.design == "sobol" else column_unit(o)
                 for o in plan.outputs}
        table = with_unit_column(table, "output", units)
        write_text(table.to_csv(index=False, lineterminator="\n"), folder / "sensitivity.csv")
        files.append("sensitivity.csv")
        skipped = [o for o in plan.outputs if o not in set(table["output"])]
        if output in set(table["output"]):
            save(sensitivity_figure(table, output, spec.design,
                                    f"{plan.name}: {output_quantity(output)[0]}"),
                 folder / "sensitivity.png")
            files.append("sensitivity.png")
    x = spec.plot.x or plan.paths[0]
    save(response_figure(summary, output, x, spec.plot.y,
                         f"{plan.name}: {output_quantity(output)[0]}", design=spec.design),
         folder / "response.png")
    files.append("response.png")
    n_diverged = int(summary["n_diverged"].sum())
    manifest = {
        "sweep": plan.name,
        "source": plan.source,
        "digest": plan.digest(),
        "design": spec.design,
        "n_samples": len(values),
        "seeds_per_sample": spec.seeds,
        "n_runs": len(values) * spec.seeds,
        "n_chunks": n_chunks,
        "chunk_samples": plan.chunk_samples,
        "sweep_seed": spec.seed,
        "seed_rule": SEED_RULE,
        "parameters": {p: s.model_dump(mode="json", exclude_none=True)
                       for p, s in spec.parameters.items()},
        "outputs": list(plan.outputs),
        "units": folder_units(folder),
        "n_diverged": n_diverged,
        "sensitivity_skipped": skipped,
        "scenario_sha256": plan.scenario.digest(),
        "files": files,
        "last_invocation": run_info,
        "versions": versions() | _extra_versions(),
        "git_commit": git_commit(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }

    write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n",
               folder / "manifest.json")
    return n_diverged


def _extra_versions() -> dict[str, str]:
    found = {}
    for name in ("pyarrow", "SALib", "dask", "distributed"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found
