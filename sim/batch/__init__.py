"""The one batch runner: every command that runs many engine batches goes through it.

A front end (the sweep, ``sim optimise``, ``sim hindcast``, ``sim calibrate``) says what to run
and what to measure: it cuts its runs into :class:`Task` chunks, each naming a measure of
:mod:`sim.batch.measures`, and hands them to :func:`run_ordered` or :func:`each_finished` with an
executor (:func:`make_executor`). The driver owns the rest: where chunks run, putting results
back in order, the progress display, Ctrl-C (:class:`BatchInterrupted`, exit status 130), a dead
worker (:class:`WorkerLost`, exit status 2) and, where the front end keeps a chunk store,
resuming from the chunks already done. Each worker compiles a scenario once
(:mod:`sim.batch.cache`). See docs/BATCH.md.
"""

from sim.batch.driver import (
    BatchInterrupted,
    ChunkStore,
    WorkerLost,
    chunk_slices,
    each_finished,
    run_ordered,
)
from sim.batch.executors import Executor, ExecutorError, make_executor
from sim.batch.progress import Progress
from sim.batch.task import Finished, Task, run_task

__all__ = [
    "BatchInterrupted", "ChunkStore", "Executor", "ExecutorError", "Finished", "Progress",
    "Task", "WorkerLost", "chunk_slices", "each_finished", "make_executor", "run_ordered",
    "run_task",
]
