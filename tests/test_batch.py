"""The batch runner (sim/batch): order, chunking, progress, resume, Ctrl-C and a dead worker.

The driver's rules are checked with small measures from the standard library (``operator.neg``,
``os._exit``) registered for the test, on the real executors; the real-process tests send
SIGINT to a running ``sim hindcast`` and SIGKILL to one of its pool workers.
"""

from __future__ import annotations

import io
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
from sweep_helpers import env, sim_command

from sim.batch import (
    BatchInterrupted,
    Executor,
    Finished,
    Progress,
    Task,
    WorkerLost,
    chunk_slices,
    each_finished,
    run_ordered,
)
from sim.batch.executors import InProcess, LocalPool
from sim.batch.measures import MEASURES, Measure, UnknownMeasure


@pytest.fixture
def negate(monkeypatch) -> str:
    """A measure that returns minus its payload (a forked pool inherits it).

    A test-only measure exists only in this process's table, so the real pools below are
    forked explicitly: with any other thread alive (an earlier test's, in the same pytest
    process) LocalPool's default is a fork server, whose workers never saw it.
    """
    monkeypatch.setitem(MEASURES, "negate", Measure("negate", "operator", "neg", "minus it"))
    return "negate"


class Reversed(Executor):
    """Runs every task in this process and yields the results last first."""

    description = "reversed test executor"

    def map_unordered(self, fn, tasks) -> Iterator:
        """Yield ``fn(task)`` for every task, in the opposite order."""
        yield from reversed([fn(t) for t in tasks])


class Failing(Executor):
    """Yields the first task's result, then raises ``error``."""

    description = "local pool of 2 processes (fork)"

    def __init__(self, error: BaseException):
        self.error = error

    def map_unordered(self, fn, tasks) -> Iterator:
        """Yield one result, then fail."""
        yield fn(next(iter(tasks)))
        raise self.error


def tasks(measure: str, n: int) -> list[Task]:
    return [Task(i, measure, i + 1, n_runs=10) for i in range(n)]


def test_results_come_back_in_task_order_whatever_the_finishing_order(negate):
    for executor in (Reversed(), InProcess()):
        assert run_ordered(tasks(negate, 5), executor) == [-1, -2, -3, -4, -5]
    finished = [f.index for f in each_finished(tasks(negate, 5), Reversed())]
    assert finished == [4, 3, 2, 1, 0]


def test_a_local_pool_gives_the_same_values_in_the_same_order(negate):
    with LocalPool(2, start_method="fork") as pool:
        assert run_ordered(tasks(negate, 9), pool) == [-(i + 1) for i in range(9)]


def test_an_unknown_measure_is_named_with_the_known_ones():
    with pytest.raises(UnknownMeasure, match="no measure called 'nope'; known: .*sweep_summaries"):
        run_ordered([Task(0, "nope", None, 1)], InProcess())


@pytest.mark.parametrize("n, per, at_least", [(120, 50, 1), (200, 50, 1), (3, 4096, 2),
                                              (1, 10, 4), (10, 1, 1), (4097, 4096, 2)])
def test_chunks_cover_every_item_once_evenly(n, per, at_least):
    parts = chunk_slices(n, per, at_least)
    assert parts[0].start == 0 and parts[-1].stop == n
    assert all(a.stop == b.start for a, b in zip(parts, parts[1:], strict=False))
    sizes = [p.stop - p.start for p in parts]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)
    assert max(sizes) <= max(per, math.ceil(n / max(min(at_least, n), 1)))
    assert len(parts) == max(min(at_least, n), math.ceil(n / per))


def test_chunk_examples():
    assert chunk_slices(120, 50) == [slice(0, 40), slice(40, 80), slice(80, 120)]
    assert chunk_slices(3, 4096, at_least=2) == [slice(0, 2), slice(2, 3)]
    assert chunk_slices(0, 50) == []


def test_progress_off_a_terminal_is_a_plain_line_every_few_seconds():
    stream = io.StringIO()
    progress = Progress(1000, 0, desc="optimise", stream=stream, every=0.0)
    progress.update(250)
    line = stream.getvalue()
    assert line.startswith("optimise: 250 of 1,000 runs (25%), ") and "runs/s" in line
    assert "s left" in line and "\x1b" not in line and "\r" not in line
    assert line.endswith("\n") and line.count("\n") == 1
    slow = io.StringIO()
    waiting = Progress(1000, 0, desc="sweep", stream=slow, every=3600.0)
    waiting.update(500)
    assert slow.getvalue() == ""  # the next line is due in an hour
    quiet = io.StringIO()
    Progress(1000, 0, quiet=True, stream=quiet, every=0.0).update(500)
    assert quiet.getvalue() == ""
    unknown = io.StringIO()
    Progress(None, 0, desc="calibrate", stream=unknown, every=0.0).update(42)
    assert unknown.getvalue().startswith("calibrate: 42 runs, ")


def test_the_driver_counts_each_finished_chunk_on_the_progress_display(negate):
    stream = io.StringIO()
    progress = Progress(50, 0, desc="batch", stream=stream, every=0.0)
    run_ordered(tasks(negate, 5), InProcess(), progress)
    assert progress.done == 50
    assert stream.getvalue().splitlines()[-1].startswith("batch: 50 of 50 runs (100%)")


class Store:
    """A chunk store holding chunks 0 and 2 from an earlier invocation."""

    n_chunks = 5
    folder = Path("parts")

    def __init__(self):
        self.kept: list[int] = []

    def done(self) -> set[int]:
        return {0, 2}

    def keep(self, finished: Finished) -> None:
        self.kept.append(finished.index)


def test_a_resume_runs_only_the_chunks_the_store_lacks_and_keeps_each(negate):
    store = Store()
    finished = list(each_finished(tasks(negate, 5), InProcess(), store=store))
    assert [f.index for f in finished] == [1, 3, 4] == store.kept
    assert [f.value for f in finished] == [-2, -4, -5]


def test_ctrl_c_becomes_one_plain_error_with_exit_status_130(negate):
    with pytest.raises(BatchInterrupted) as caught:
        run_ordered(tasks(negate, 3), Failing(KeyboardInterrupt()))
    assert caught.value.exit_code == 130
    assert str(caught.value) == "interrupted; nothing partial was left behind"
    with pytest.raises(BatchInterrupted, match=r"interrupted after 1 new chunks \(3 of 5 done\); "
                                               "run the same command again to resume"):
        list(each_finished(tasks(negate, 5), Failing(KeyboardInterrupt()), store=Store()))


def test_a_dead_worker_names_the_pool_and_the_measure(negate):
    with pytest.raises(WorkerLost) as caught:
        run_ordered(tasks(negate, 3), Failing(BrokenProcessPool("gone")))
    message = str(caught.value)
    assert caught.value.exit_code == 2
    assert message.startswith("a worker process died (killed, or out of memory) in the local "
                              "pool of 2 processes (fork) while computing negate (minus it)")
    assert "nothing was written; run the same command again" in message
    with pytest.raises(WorkerLost, match="3 of 5 chunks are done and kept in parts"):
        list(each_finished(tasks(negate, 5), Failing(BrokenProcessPool("gone")), store=Store()))


def test_a_worker_that_dies_in_a_real_pool_is_worker_lost(monkeypatch):
    monkeypatch.setitem(MEASURES, "exit", Measure("exit", "os", "_exit", "an exit status"))
    with LocalPool(2, start_method="fork") as pool, \
            pytest.raises(WorkerLost, match="local pool of 2 processes"):
        run_ordered([Task(i, "exit", 1, 1) for i in range(4)], pool)


# A worker that dies part-way through sending its result. Python's own pool then waits for
# the rest of the message for ever; LocalPool must notice the death and stop. The worker is
# made to die at exactly that point: a forked worker inherits this patched pipe write, which
# sends the first 64 kB of a large message and then kills its own process. It runs in a child
# interpreter, so that the mutant (LocalPool.poll = None: no check) hangs there, within a time
# limit, instead of hanging the suite.
DIES_MID_RESULT = """
import os, signal, sys
from multiprocessing.connection import Connection
from sim.batch import Task, WorkerLost, run_ordered
from sim.batch.executors import LocalPool
from sim.batch.measures import MEASURES, Measure

parent, real = os.getpid(), Connection._send

def dying(self, buf, write=os.write):
    if os.getpid() != parent and len(buf) > 1_000_000:
        real(self, memoryview(buf)[:65536])
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, buf, write)

Connection._send = dying
MEASURES["bytes"] = Measure("bytes", "os", "urandom", "random bytes")
LocalPool.poll = {poll}
with LocalPool(2, start_method="fork") as pool:
    try:
        run_ordered([Task(i, "bytes", 4_000_000, 1) for i in range(4)], pool)
    except WorkerLost as exc:
        print(exc)
        sys.exit(2)
"""


@pytest.mark.parametrize("poll, ends", [(0.5, True), (None, False)], ids=["pool", "mutant"])
def test_a_worker_that_dies_while_sending_its_result_is_worker_lost(poll, ends):
    """The mutant (no liveness check) is Python's pool alone: it never returns."""
    script = DIES_MID_RESULT.format(poll=poll)
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              env=env(), timeout=20 if ends else 8)
    except subprocess.TimeoutExpired:
        assert not ends, "the pool hung on a worker that died while sending its result"
        return
    assert ends, f"the mutant ended (exit {done.returncode}): {done.stderr[-500:]}"
    assert done.returncode == 2, done.stderr[-2000:]
    assert "a worker process died (killed, or out of memory) in the local pool" in done.stdout
    assert "Traceback" not in done.stderr


# --------------------------------------------------------------------------------------------
# Real processes: `sim hindcast` stopped by Ctrl-C, and one of its workers killed
# --------------------------------------------------------------------------------------------


def workers_of(pid: int) -> list[int]:
    """The child processes of ``pid`` (its forked pool workers)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            # The thread ended between listing the tasks and reading its children (the
            # command's short-lived threads do): it has none to report. Without this the
            # test failed by chance, about 1 run in 10 under load.
            continue
    return found


def _default_sigint() -> None:
    """In the child before exec: Ctrl-C's default action back. A suite started in the
    background by a shell without job control (``nohup ... &``) inherits SIGINT ignored, and
    an ignored SIGINT stays ignored across exec, so the command never saw the test's Ctrl-C
    and ran to the end (exit 0)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_hindcast(out: Path) -> subprocess.Popen:
    """A `sim hindcast` on 2 workers, long enough to be caught running; returns once its pool
    workers exist (the runs have started)."""
    process = subprocess.Popen(
        sim_command("hindcast", "--draws", "20000", "--cutoff", "2019", "--workers", "2",
                    "--out", str(out), "--no-plot"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
        start_new_session=True, preexec_fn=_default_sigint)
    deadline = time.monotonic() + 300
    while len(workers_of(process.pid)) < 2:
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "no pool workers after 300 s"
        time.sleep(0.05)
    time.sleep(0.5)  # a few chunks in flight
    return process


@pytest.mark.slow
def test_ctrl_c_on_a_running_hindcast_exits_130_with_one_line_and_no_folder(tmp_path):
    """Ctrl-C reaches every process of the terminal's group: here the command and its workers."""
    out = tmp_path / "results"
    process = start_hindcast(out)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert stderr.strip().splitlines()[-1] == ("sim hindcast: interrupted; nothing partial was "
                                               "left behind")
    assert not out.exists() or not any(out.rglob("*")), sorted(out.rglob("*"))


@pytest.mark.slow
def test_a_killed_hindcast_worker_exits_2_with_a_plain_message_and_no_folder(tmp_path):
    out = tmp_path / "results"
    process = start_hindcast(out)
    os.kill(workers_of(process.pid)[0], signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 2, stderr[-2000:]
    assert "Traceback" not in stderr and "BrokenProcessPool" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("sim hindcast: a worker process died (killed, or out of memory) in "
                           "the local pool of 2 processes (fork) while computing "
                           "annual_observables"), last
    assert "run the same command again" in last
    assert not out.exists() or not any(out.rglob("*")), sorted(out.rglob("*"))
