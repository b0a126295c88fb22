"""The driver: run a batch's tasks on an executor, in order, with progress, Ctrl-C and resume.

::

    tasks = [Task(i, "annual_observables", chunk, len(chunk.seeds)) for i, chunk in ...]
    with make_executor(workers, scheduler) as executor:
        values = run_ordered(tasks, executor, Progress(total, desc="hindcast"))

:func:`each_finished` yields finished tasks as they finish (a sweep writes each chunk at once,
so memory stays bounded); :func:`run_ordered` returns every value in the tasks' order. Either
turns Ctrl-C (or SIGTERM, which the command line turns into it) into :class:`BatchInterrupted`
and a worker process that died into :class:`WorkerLost`: one plain message, never a traceback.
A front end that keeps finished chunks (the sweep) passes a :class:`ChunkStore`: chunks it holds
are skipped, each new one is handed to it as it finishes, and the messages say how to resume.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

import numpy as np

from sim.batch.executors import Executor
from sim.batch.measures import measure
from sim.batch.progress import Progress
from sim.batch.task import Finished, Task, run_task
from sim.errors import SimError


class BatchInterrupted(SimError):
    """A batch stopped by the user (Ctrl-C or SIGTERM): exit status 130."""

    exit_code = 130


class WorkerLost(SimError):
    """A worker process of a local pool died (killed, or out of memory)."""


class ChunkStore(Protocol):
    """Where a resumable front end keeps finished chunks (the sweep's parts folder).

    Attributes:
        n_chunks: Chunks in the whole batch.
        folder: Where they are kept (named in messages).

    """

    n_chunks: int
    folder: Any

    def done(self) -> set[int]:
        """The chunks kept before this invocation."""

    def keep(self, finished: Finished) -> None:
        """Keep a chunk that has just finished."""


def chunk_slices(n_items: int, per_chunk: int, at_least: int = 1) -> list[slice]:
    """Cut ``n_items`` into contiguous chunks of about ``per_chunk`` items.

    The chunks are as even as they can be (sizes differ by at most one, the larger first), and
    there are at least ``min(at_least, n_items)`` of them, so every worker gets one.

    Args:
        n_items: Items (runs, candidates) to cut.
        per_chunk: The largest chunk wanted.
        at_least: The fewest chunks wanted (the number of workers).

    """
    if n_items <= 0:
        return []
    n_chunks = max(min(at_least, n_items), math.ceil(n_items / max(per_chunk, 1)))
    bounds = np.cumsum([0] + [len(p) for p in np.array_split(np.arange(n_items), n_chunks)])
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def each_finished(tasks: Iterable[Task], executor: Executor, progress: Progress | None = None,
                  store: ChunkStore | None = None) -> Iterator[Finished]:
    """Run the tasks and yield each as it finishes (in the order they finish).

    Args:
        tasks: The chunks (generated lazily if need be: only a few are in flight at a time).
        executor: Where they run.
        progress: Counts each finished task's runs.
        store: Skips the chunks it holds and keeps each new one (before it is yielded).

    Raises:
        BatchInterrupted: On Ctrl-C.
        WorkerLost: If a worker process dies.

    """
    earlier = store.done() if store is not None else set()
    todo = (t for t in tasks if t.index not in earlier)
    computed = 0
    names: set[str] = set()

    def named(stream: Iterable[Task]) -> Iterator[Task]:
        for task in stream:
            names.add(task.measure)
            yield task

    try:
        for finished in executor.map_unordered(run_task, named(todo)):
            if store is not None:
                store.keep(finished)
            computed += 1
            if progress is not None:
                progress.update(finished.n_runs)
            yield finished
    except KeyboardInterrupt:
        raise BatchInterrupted(_interrupted(store, earlier, computed)) from None
    except BrokenProcessPool:
        raise WorkerLost(_lost(executor, names, store, earlier, computed)) from None


def run_ordered(tasks: Iterable[Task], executor: Executor,
                progress: Progress | None = None) -> list[Any]:
    """Run the tasks and return their values in the tasks' order (by ``index``)."""
    tasks = list(tasks)
    values: dict[int, Any] = {}
    for finished in each_finished(tasks, executor, progress):
        values[finished.index] = finished.value
    return [values[t.index] for t in tasks]


def _kept(store: ChunkStore, earlier: set[int], computed: int) -> str:
    finished = len(earlier) + computed
    if not finished:
        return "no chunk had finished; run the same command again"
    return (f"{finished} of {store.n_chunks} chunks are done and kept in {store.folder}; run "
            "the same command again to resume from them")


def _interrupted(store: ChunkStore | None, earlier: set[int], computed: int) -> str:
    if store is None:
        return "interrupted; nothing partial was left behind"
    return (f"interrupted after {computed} new chunks ({len(earlier) + computed} of "
            f"{store.n_chunks} done); run the same command again to resume")


def _lost(executor: Executor, names: set[str], store: ChunkStore | None, earlier: set[int],
          computed: int) -> str:
    what = " and ".join(f"{n} ({measure(n).returns})" for n in sorted(names)) or "a batch"
    kept = (_kept(store, earlier, computed) if store is not None else
            "nothing was written; run the same command again")
    return (f"a worker process died (killed, or out of memory) in the {executor.description} "
            f"while computing {what}; {kept} (with fewer --workers if memory is short)")
