"""Atomic results folders: complete or absent, whatever interrupts the writer; never outside --out.

Covers sim/outputs/folders.py (atomic_folder, clean_stale, safe_name, inside) through
sim.outputs.run.write_run and the real ``sim run`` killed with SIGKILL at random moments.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelp import SMALL, files_under, run_sim, sim_env

import sim.outputs.run
from sim.outputs.folders import STALE_SECONDS, OutputError, clean_stale, inside, safe_name
from sim.outputs.run import run_folder, run_scenario, write_run
from sim.scenario import load_scenario

ONE_RUN_FILES = {"trajectories.csv", "moves.csv", "events.csv", "observables.csv", "manifest.json"}


@pytest.fixture(scope="module")
def recording():
    return run_scenario(load_scenario(SMALL))


def _hidden(folder: Path) -> list[Path]:
    return [p for p in files_under(folder) if p.name.startswith(".")]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_success_leaves_the_files_and_no_temporary_folder(recording, tmp_path):
    folder = write_run(recording, out=tmp_path / "results", plot=False)
    assert {p.name for p in folder.iterdir()} == ONE_RUN_FILES
    assert _hidden(tmp_path) == []
    json.loads((folder / "manifest.json").read_text())
    umask = os.umask(0)
    os.umask(umask)
    assert folder.stat().st_mode & 0o777 == 0o777 & ~umask  # not mkdtemp's private 0700


class Boom(RuntimeError):
    pass


def _failing_write_csv(after: int, exc: BaseException):
    calls = []
    real = sim.outputs.run.write_csv

    def write(frame, path):
        calls.append(path)
        if len(calls) > after:
            raise exc
        real(frame, path)

    return write


@pytest.mark.parametrize("exc", [Boom("disk full"), KeyboardInterrupt()])
def test_failure_in_the_middle_leaves_nothing(recording, tmp_path, monkeypatch, exc):
    out = tmp_path / "results"
    monkeypatch.setattr(sim.outputs.run, "write_csv", _failing_write_csv(1, exc))
    with pytest.raises(type(exc)):
        write_run(recording, out=out, plot=False)
    assert files_under(tmp_path) == [], files_under(tmp_path)


@pytest.mark.parametrize("exc", [Boom("disk full"), KeyboardInterrupt()])
def test_failure_keeps_an_older_result_intact(recording, tmp_path, monkeypatch, exc):
    out = tmp_path / "results"
    folder = write_run(recording, out=out, plot=False)
    (folder / "note.txt").write_text("the older result\n")
    before = _snapshot(folder)
    monkeypatch.setattr(sim.outputs.run, "write_csv", _failing_write_csv(2, exc))
    with pytest.raises(type(exc)):
        write_run(recording, out=out, plot=False)
    assert _snapshot(folder) == before
    assert _hidden(out) == []


def test_a_rewrite_replaces_its_own_files_and_keeps_the_users(recording, tmp_path):
    out = tmp_path / "results"
    folder = write_run(recording, out=out, plot=False)
    (folder / "notes.txt").write_text("the user's notes\n")
    (folder / "analysis").mkdir()
    (folder / "analysis" / "fit.py").write_text("print(1)\n")
    (folder / "trajectories.csv").write_text("tampered\n")
    again = write_run(recording, out=out, plot=False)
    assert again == folder
    assert {p.name for p in folder.iterdir()} == ONE_RUN_FILES | {"notes.txt", "analysis"}
    assert (folder / "notes.txt").read_text() == "the user's notes\n"
    assert (folder / "analysis" / "fit.py").read_text() == "print(1)\n"
    assert (folder / "trajectories.csv").read_text() != "tampered\n"  # its own file rewritten
    assert _hidden(out) == []


def test_stale_leftovers_are_cleaned_and_a_displaced_result_restored(tmp_path):
    parent = tmp_path / "small"
    parent.mkdir()
    (parent / ".tmp-s3-abc-k2j4h5g6").mkdir()          # a killed writer's partial folder
    (parent / ".old-s3-lost-4242").mkdir()              # killed between the two renames
    (parent / ".old-s3-lost-4242" / "manifest.json").write_text("{}\n")
    (parent / "s3-kept").mkdir()
    (parent / ".old-s3-kept-99").mkdir()                # its destination exists: drop it
    (parent / ".tmp-my-notes").mkdir()                  # not one of ours: left alone
    assert clean_stale(parent) == []                    # too fresh: perhaps a live writer
    handled = clean_stale(parent, now=time.time() + STALE_SECONDS + 60)
    assert len(handled) == 3
    names = sorted(p.name for p in parent.iterdir())
    assert names == [".tmp-my-notes", "s3-kept", "s3-lost"]
    assert (parent / "s3-lost" / "manifest.json").read_text() == "{}\n"


def _expected_files(replicates: int) -> set[str]:
    if replicates == 1:
        return ONE_RUN_FILES | {"influence.png", "spending.png"}
    return {"trajectories.csv", "summary.csv", "manifest.json", "influence.png", "spending.png",
            "runs"}


def _check_after_kill(out: Path, replicates: int) -> str:
    """Results are complete or absent; return what was found."""
    parent = out / "small"
    if not parent.exists():
        return "nothing"
    found = "nothing"
    for entry in parent.iterdir():
        if entry.name.startswith("."):
            assert entry.name.startswith((".tmp-", ".old-")), entry
            found = "leftover" if found == "nothing" else found
            continue
        assert {p.name for p in entry.iterdir()} == _expected_files(replicates), entry
        manifest = json.loads((entry / "manifest.json").read_text())
        assert len(manifest["seeds"]) == replicates
        runs = entry / "runs"
        assert len(list(runs.iterdir())) == 2 * replicates
        found = "complete"
    return found


RUN_ARGS = ["run", str(SMALL), "--steps", "2000", "--replicates", "20", "--quiet"]
"""A run long enough (a few seconds) to be killed at a random moment."""
PAUSED_ARGS = ["run", str(SMALL), "--replicates", "5", "--quiet"]
"""A short run with 13 CSV files (3, then 2 per replicate) to pause between."""

PAUSED_WRITER = """
import sys, time
from pathlib import Path

import sim.outputs.run as run
from sim.cli.main import main

marker, pause_at, argv = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
real, calls = run.write_csv, []


def write_csv(frame, path):
    real(frame, path)
    calls.append(path)
    if len(calls) == pause_at:  # hold the writer mid-folder until a signal ends it
        partial = marker.with_name(marker.name + ".part")
        partial.write_text(str(path))
        partial.rename(marker)  # whole or absent: the test reads it as soon as it appears
        time.sleep(600)


run.write_csv = write_csv
raise SystemExit(main(argv))
"""
"""``sim run`` that stops after its ``pause_at``-th CSV file, with the temporary folder half
written, and says so by writing ``marker``: the signal then arrives mid-write on every run,
however slow the machine (sleeping a while and hoping the writer is still writing raced)."""


def _start_run(out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *RUN_ARGS, "--out", str(out)],
        env=sim_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _start_paused_run(out: Path, pause_at: int) -> tuple[subprocess.Popen, Path]:
    """Start a run that pauses after its ``pause_at``-th CSV file; wait until it has."""
    marker = out.parent / f"{out.name}.paused"
    proc = subprocess.Popen(
        [sys.executable, "-c", PAUSED_WRITER, str(marker), str(pause_at), *PAUSED_ARGS,
         "--out", str(out)],
        env=sim_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"the run ended ({proc.returncode}) before its CSV file {pause_at}:\n"
                        f"{proc.stderr.read()[-2000:]}")
        time.sleep(0.01)
    tmp = [p for p in (out / "small").iterdir() if p.name.startswith(".tmp-")]
    assert len(tmp) == 1 and Path(marker.read_text()).is_relative_to(tmp[0]), tmp
    return proc, marker


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_complete_results_or_none(tmp_path):
    rng = random.Random(20250331)
    outcomes = []
    for attempt in range(3):
        out = tmp_path / f"try{attempt}"
        proc = _start_run(out)
        time.sleep(rng.uniform(0.3, 4.0))
        _kill(proc)
        outcomes.append(_check_after_kill(out, 20))
    assert set(outcomes) <= {"nothing", "leftover", "complete"}
    print("outcomes after SIGKILL at random:", outcomes)


@pytest.mark.parametrize("pause_at", [1, 8, 13])  # the first, a middle and the last CSV
def test_sigkill_while_writing_leaves_no_result_and_a_cleanable_leftover(pause_at, tmp_path):
    """Killed mid-write: no results folder appears, only a hidden one the next run clears."""
    out = tmp_path / "results"
    proc, _ = _start_paused_run(out, pause_at)
    _kill(proc)
    proc.stderr.close()
    assert _check_after_kill(out, 5) == "leftover"
    # The next run in that folder clears it once stale; readers skip hidden names.
    assert clean_stale(out / "small", now=time.time() + STALE_SECONDS + 60)
    assert [p for p in (out / "small").iterdir() if p.name.startswith(".")] == []


def test_sigterm_while_writing_cleans_up_like_ctrl_c(tmp_path):
    """SIGTERM becomes KeyboardInterrupt: the temporary folder is removed, exit status 130."""
    out = tmp_path / "results"
    proc, _ = _start_paused_run(out, 8)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
    assert "Traceback" not in proc.stderr.read()
    proc.stderr.close()
    assert files_under(out) in ([], [out / "small"])  # no temporary or partial folder


@pytest.mark.parametrize("name", ["../../etc", "/abs/path", "a/b", "..", ".", "...hidden",
                                  "~", "a\\..\\b", "con:", "x" * 80])
def test_a_scenario_name_cannot_leave_the_results_folder(name, recording, tmp_path):
    from dataclasses import replace

    scenario = recording.scenario.model_copy(update={"name": name})
    out = tmp_path / "nested" / "results"
    folder = write_run(replace(recording, scenario=scenario), out=out, plot=False)
    assert out.resolve() in folder.parents
    assert folder.parent.parent == out.resolve()
    assert not folder.parent.name.startswith(".")
    written = [p for p in files_under(tmp_path) if p.is_file()]
    assert written and all(out.resolve() in p.resolve().parents for p in written)


@pytest.mark.parametrize("name", ["../../etc", "/abs/path", "..", ""])
def test_safe_name_and_inside(name, tmp_path):
    cleaned = safe_name(name)
    assert cleaned and "/" not in cleaned and not cleaned.startswith(".")
    assert tmp_path.resolve() in inside(tmp_path, cleaned).parents
    with pytest.raises(OutputError):
        inside(tmp_path, "..", "elsewhere")
    with pytest.raises(OutputError):
        inside(tmp_path, "/etc")


def test_cli_name_with_dots_stays_inside_out(tmp_path):
    out = tmp_path / "deep" / "results"
    result = run_sim("run", SMALL, "--set", "name=../../../escaped", "--out", out, "--no-plot",
                     "--quiet")
    assert result.returncode == 0, result.stderr
    written = [p for p in files_under(tmp_path) if p.is_file()]
    assert written and all(out in p.parents for p in written)
    (named,) = out.iterdir()
    assert "escaped" in named.name and not named.name.startswith(".")


def test_a_symlink_out_of_the_results_folder_is_refused(recording, tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "small").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OutputError):
        write_run(recording, out=out, plot=False)
    assert list(elsewhere.iterdir()) == []
    assert run_folder(recording.scenario, [3], tmp_path / "other").is_relative_to(
        (tmp_path / "other").resolve())
