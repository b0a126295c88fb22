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


def test_a_rewrite_replaces_the_whole_folder(recording, tmp_path):
    out = tmp_path / "results"
    folder = write_run(recording, out=out, plot=False)
    (folder / "stray.txt").write_text("from an older version\n")
    again = write_run(recording, out=out, plot=False)
    assert again == folder
    assert {p.name for p in folder.iterdir()} == ONE_RUN_FILES
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


def _start_run(out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", "run", str(SMALL), "--steps", "2000", "--replicates", "20",
         "--out", str(out), "--quiet"],
        env=sim_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _wait_until_writing(proc: subprocess.Popen, out: Path, seconds: float = 60) -> None:
    """Return once the run's temporary folder appears (or the run ends, or time runs out)."""
    deadline = time.monotonic() + seconds
    while proc.poll() is None and time.monotonic() < deadline:
        if (out / "small").exists() and any(
            p.name.startswith(".tmp-") for p in (out / "small").iterdir()
        ):
            return
        time.sleep(0.01)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


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


def test_sigkill_while_writing_leaves_complete_results_or_none(tmp_path):
    """Wait until the temporary folder appears, then kill at a random moment of the writing."""
    rng = random.Random(7)
    outcomes = []
    for attempt in range(3):
        out = tmp_path / f"try{attempt}"
        proc = _start_run(out)
        _wait_until_writing(proc, out)
        time.sleep(rng.uniform(0.0, 0.8))
        _kill(proc)
        outcome = _check_after_kill(out, 20)
        outcomes.append(outcome)
        if outcome == "leftover":
            # The next run in that folder clears it once stale; readers skip hidden names.
            assert clean_stale(out / "small", now=time.time() + STALE_SECONDS + 60)
            assert [p for p in (out / "small").iterdir() if p.name.startswith(".")] == []
    assert "leftover" in outcomes or "complete" in outcomes, outcomes
    print("outcomes after SIGKILL while writing:", outcomes)


def test_sigterm_while_writing_cleans_up_like_ctrl_c(tmp_path):
    """SIGTERM becomes KeyboardInterrupt: the temporary folder is removed, exit status 130."""
    out = tmp_path / "results"
    proc = _start_run(out)
    _wait_until_writing(proc, out)
    assert proc.poll() is None, "the run ended before it started writing"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
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
