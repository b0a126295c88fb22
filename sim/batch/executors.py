"""Executors: where a batch's chunks run. One interface, three places.

- :class:`InProcess`: the calling process (``--workers 1``).
- :class:`LocalPool`: a pool of worker processes on this machine (``--workers N``, the default).
- :class:`DaskCluster`: a Dask distributed cluster (``--scheduler tcp://HOST:PORT``; needs the
  optional extra ``pip install -e '.[dask]'``).

Each yields finished chunks in the order they finish, keeping only a few chunks in flight so
memory stays bounded however many chunks a sweep has. Results do not depend on the executor:
a chunk's numbers are a function of the chunk alone.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sim.errors import SimError


class ExecutorError(SimError):
    """An executor that cannot start (a scheduler that cannot be reached, a bad worker count)."""


class Executor:
    """Runs a function over tasks and yields results as they finish.

    Attributes:
        workers: Number of workers running chunks at once.
        description: A short label for messages and the manifest.

    """

    workers: int = 1
    description: str = ""

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        """Yield ``fn(task)`` for every task, in the order they finish."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the workers."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcess(Executor):
    """Runs every chunk in the calling process, one after another."""

    description = "in-process"

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        """Yield ``fn(task)`` for every task, in order."""
        for task in tasks:
            yield fn(task)


class LocalPool(Executor):
    """A pool of worker processes on this machine.

    Workers are forked from the main process when that is safe and fast (Linux, and no other
    Python thread running: the command line), otherwise started from a fork server that has
    imported the batch runner's task module once (notebooks, threaded programs, other systems).
    Mesa's global "spawn" setting does not apply to this pool.

    Args:
        workers: Number of processes.
        start_method: ``fork`` or ``forkserver``; default: chosen as above.

    Attributes:
        poll: Seconds between checks that every worker is alive, while waiting for results.

    """

    poll: float = 0.5

    def __init__(self, workers: int, start_method: str | None = None):
        if workers < 1:
            raise ExecutorError(f"--workers {workers} is not allowed: give 1 or more")
        if start_method is None:
            alone = threading.active_count() == 1
            start_method = "fork" if sys.platform == "linux" and alone else "forkserver"
        context = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            context.set_forkserver_preload(["sim.batch.task"])
        self.workers = workers
        self.start_method = start_method
        self.description = f"local pool of {workers} processes ({start_method})"
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                         initializer=watch_main_process, initargs=(os.getpid(),))

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        """Yield results as they finish, with at most two chunks per worker in flight."""
        pending: set = set()
        queue = iter(tasks)
        window = 2 * self.workers
        try:
            for task in queue:
                pending.add(self._pool.submit(fn, task))
                if len(pending) < window:
                    continue
                done, pending = self._wait(pending)
                for future in done:
                    yield future.result()
            while pending:
                done, pending = self._wait(pending)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()

    def _wait(self, pending: set) -> tuple[set, set]:
        """Wait for one of ``pending`` to finish, checking every ``poll`` s that no worker died.

        Python's pool notices a dead worker by itself, except when the worker dies part-way
        through sending a result: the pool's reader then waits for the rest of the message
        for ever, and so would the command (it hung in CI that way: ``sim hindcast``, whose
        results are large, with one worker killed). A worker of this pool never exits while
        the pool is open, so an exit status means it died.

        Raises:
            BrokenProcessPool: If a worker process has died.

        """
        while True:
            done, rest = wait(pending, timeout=self.poll, return_when=FIRST_COMPLETED)
            if done:
                return done, rest
            if any(p.exitcode is not None for p in self._workers()):
                self._stop_broken()
                raise BrokenProcessPool("a worker process died")

    def _workers(self) -> list[multiprocessing.process.BaseProcess]:
        return list((getattr(self._pool, "_processes", None) or {}).values())

    def _stop_broken(self) -> None:
        """Kill the remaining workers and end a half-read result, so the pool can shut down.

        With every worker gone, the pool's reader sees the end of its pipe once this process
        closes its own copy of the pipe's write end (it never writes to it); the pool then
        marks itself broken, fails the pending futures and its threads finish, as for any other
        dead worker.
        """
        for process in self._workers():
            process.kill()
        for process in self._workers():
            process.join(timeout=10)
        result_queue = getattr(self._pool, "_result_queue", None)
        if result_queue is not None:
            result_queue._writer.close()
        manager = getattr(self._pool, "_executor_manager_thread", None)
        if manager is not None:
            manager.join(timeout=10)  # it fails the pending futures (before they are cancelled)

    def close(self) -> None:
        """Stop the worker processes."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def watch_main_process(pid: int, every: float = 0.5) -> None:
    """In a pool worker: exit as soon as the main process is gone (``kill -9`` included).

    A worker blocked on the pool's pipes would otherwise outlive a killed sweep. SIGTERM gets
    its default action back: a forked worker inherits the command line's SIGTERM handler
    (which raises KeyboardInterrupt), and the pool terminates its workers with SIGTERM when
    one of them dies, which printed a KeyboardInterrupt traceback from each of the others.
    SIGINT is ignored: Ctrl-C reaches every process of the terminal's group, and only the main
    process should answer it (with one message, :class:`sim.batch.driver.BatchInterrupted`);
    it then stops the pool.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while True:
            time.sleep(every)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="watch-main-process", daemon=True).start()


class DaskCluster(Executor):
    """A Dask distributed cluster, reached through its scheduler.

    Args:
        address: The scheduler, e.g. ``tcp://127.0.0.1:8786``; or a ``distributed.Client``.
        timeout: Seconds to wait for the scheduler.

    """

    def __init__(self, address: Any, timeout: float = 10.0):
        try:
            from distributed import Client
        except ImportError:
            raise ExecutorError(
                "--scheduler needs Dask: pip install -e '.[dask]' (dask[distributed])"
            ) from None
        if isinstance(address, Client):
            self._client, self._own = address, False
        else:
            try:
                self._client, self._own = Client(address, timeout=timeout), True
            except (OSError, TimeoutError, ValueError) as exc:
                raise ExecutorError(
                    f"cannot reach the Dask scheduler at {address}: {exc}"
                ) from None
        n = len(self._client.scheduler_info().get("workers", {}))
        self.workers = max(1, n)
        self.description = f"Dask cluster at {self._client.scheduler.address} ({n} workers)"

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        """Yield results as they finish, with at most two chunks per worker in flight."""
        from distributed import as_completed

        queue = iter(tasks)
        window = 2 * self.workers
        first = [self._client.submit(fn, t, pure=False) for _, t in zip(range(window), queue,
                                                                         strict=False)]
        if not first:
            return
        running = as_completed(first)
        try:
            for future in running:
                try:
                    result = future.result()
                except ImportError as exc:
                    raise ExecutorError(
                        f"a Dask worker cannot import {exc.name or 'the simulator'}: install the "
                        "sim package on every worker (pip install -e .) or put it on their "
                        "PYTHONPATH"
                    ) from None
                future.release()
                nxt = next(queue, None)
                if nxt is not None:
                    running.add(self._client.submit(fn, nxt, pure=False))
                yield result
        finally:
            running.clear()

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        if self._own:
            self._client.close()


def make_executor(workers: int = 1, scheduler: Any = None) -> Executor:
    """Return the executor for ``--workers N`` / ``--scheduler ADDRESS``.

    Args:
        workers: Local processes (1 runs in the calling process).
        scheduler: A Dask scheduler address or client; overrides ``workers``.

    """
    if scheduler is not None:
        return DaskCluster(scheduler)
    if workers < 1:
        raise ExecutorError(f"--workers {workers} is not allowed: give 1 or more")
    return InProcess() if workers == 1 else LocalPool(workers)
