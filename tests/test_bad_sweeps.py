"""Bad sweep files are refused by ``sim sweep``: exit 2, a few lines, nothing written.

The corpus is in tests/data/bad/sweeps/ (the sweep-file format is in docs/SWEEPS.md); each
case names the fragments its message must contain. Refusals and resumes run the command line
in this interpreter (clihelp.run_in_process); real processes are kept for what needs them: two
sweeps at once, a killed pool worker.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelp import BAD, assert_refused, files_under, run_in_process, run_sim
from sweep_helpers import data_files, env, read_results, sim_command, write_sweep

SWEEPS = BAD / "sweeps"

# file name -> fragments the message must contain
CASES: dict[str, list[str]] = {
    "malformed.yaml": ["not valid YAML"],
    "top_level_list.yaml": ["mapping"],
    "unknown_field.yaml": ["powers.china.reaction.japan.sensitivty", "sensitivity"],
    "unknown_actor_field.yaml": ["powers.usa.restraint"],
    "bounds_reversed.yaml": ["powers.china.reaction.japan.sensitivity", "2.0", "0.5"],
    "bounds_outside_field.yaml": ["powers.china.restraint", "1.5"],
    "bounds_not_numbers.yaml": ["powers.china.restraint", "little"],
    "bounds_and_values.yaml": ["powers.china.restraint", "values"],
    "empty_values.yaml": ["powers.china.restraint", "values"],
    "unknown_design.yaml": ["design", "montecarlo", "latin"],
    "negative_samples.yaml": ["samples", "-10"],
    "zero_seeds.yaml": ["seeds", "0"],
    "base_missing.yaml": ["nowhere.yaml"],
    "base_invalid.yaml": ["negative_budget.yaml", "powers.japan.budget.invest"],
    "unknown_key.yaml": ["desing", "did you mean 'design'"],
    "no_parameters.yaml": ["parameters"],
    "non_numeric_field.yaml": ["powers.china.reaction.japan.rule"],
    "unknown_keep.yaml": ["keep", "everything"],
    "not_utf8.yaml": ["not UTF-8"],
    # issue 13: a run `sim run --set` would refuse is not run by a sweep either
    "allocation_zero_together.yaml": ["lowest values together", "allocation.kazakhstan=0",
                                      "sum to 0"],
    "sobol_one_sample.yaml": ["samples", "at least 16 base samples", "MIN_SOBOL_SAMPLES"],
    "morris_too_few.yaml": ["samples", "at least 4 trajectories", "MIN_MORRIS_SAMPLES"],
    "branch_scenario.yaml": ["scenario", "small_branch.yaml", "is a branch", "from step 0",
                             "Sweep the parent scenario"],
    "nan_among_many_values.yaml": ["parameters.powers.japan.visibility", "nan", "finite"],
    "inf_among_many_values.yaml": ["parameters.powers.japan.visibility", "inf", "finite"],
}


def test_the_sweep_command_exists():
    result = run_in_process("sweep", "--help")
    assert result.returncode == 0, (
        "`sim sweep` is not merged yet: adapt tests/test_bad_sweeps.py when it is\n"
        + result.stderr[-500:]
    )


def test_every_sweep_case_is_listed():
    assert sorted(CASES) == sorted(p.name for p in SWEEPS.glob("*.yaml"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_sweep_is_refused_clearly(name, tmp_path):
    out = tmp_path / "results"
    err = assert_refused(run_in_process("sweep", SWEEPS / name, "--out", out), out)
    assert "invalid choice" not in err, "no `sim sweep` command yet"
    assert name in err, f"the message does not name the file:\n{err}"
    for fragment in CASES[name]:
        assert fragment in err, f"{fragment!r} missing from:\n{err}"


# --- Refused sweeps leave nothing behind -----------------------------------------------------


@pytest.mark.parametrize("args", [["--workers", "0"], ["--workers", "-2"],
                                  ["--scheduler", "no-port-here"]])
def test_a_sweep_refused_at_start_leaves_no_folder(args, tmp_path):
    sweep = write_sweep(tmp_path)
    out = tmp_path / "results"
    err = assert_refused(run_in_process("sweep", sweep, "--out", out, *args), out)
    assert args[1] in err


# --- Two sweeps at once, a killed worker, damaged folders -----------------------------------


def small_sweep(folder: Path, **changes) -> Path:
    """A sweep of many small chunks (so that two processes interleave)."""
    settings = {"design": "random", "samples": 120, "seeds": 2, "chunk_size": 4,
                "parameters": {"powers.japan.visibility": {"bounds": [0.1, 0.9]}}} | changes
    return write_sweep(folder, name="race", **settings)


@pytest.mark.slow
def test_two_sweeps_into_the_same_folder_at_once(tmp_path):
    sweep = small_sweep(tmp_path)
    out = tmp_path / "results"
    command = sim_command("sweep", str(sweep), "--out", str(out), "--workers", "1")
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env()) for _ in range(3)]
    outcomes = [p.communicate(timeout=600) + (p.returncode,) for p in processes]
    assert [o[2] for o in outcomes] == [0, 0, 0], [o[1][-1500:] for o in outcomes]
    assert "Traceback" not in "".join(o[1] for o in outcomes)
    # One computed the sweep; the others waited for it and found every chunk done.
    assert sum("computed 60 of 60 chunks" in o[0] for o in outcomes) == 1
    assert sum("60 already done" in o[0] for o in outcomes) == 2
    alone = tmp_path / "alone"
    assert run_sim("sweep", sweep, "--out", alone, "--workers", "1").returncode == 0
    assert data_files(out / "race") == data_files(alone / "race")


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.slow
def test_a_killed_pool_worker_is_reported_and_the_sweep_resumes(tmp_path):
    sweep = small_sweep(tmp_path, samples=400, steps=40)
    out = tmp_path / "results"
    process = subprocess.Popen(
        sim_command("sweep", str(sweep), "--out", str(out), "--workers", "2"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
    parts = out / "race" / "parts"
    # Three of its 200 chunks are written: the sweep is running and far from done, however
    # slow the machine (the bound only stops a hung sweep from hanging the suite).
    deadline = time.monotonic() + 600
    while len(list(parts.glob("runs-*.parquet"))) < 3:
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the sweep wrote no three chunks in 600 s"
        time.sleep(0.05)
    workers = children(process.pid)
    assert workers, "no worker processes to kill"
    os.kill(workers[0], signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 2, stderr[-2000:]
    assert "Traceback" not in stderr and "BrokenProcessPool" not in stderr
    assert "a worker process died" in stderr and "run the same command again" in stderr
    kept = len(list(parts.glob("runs-*.parquet")))
    assert kept >= 3
    again = run_sim("sweep", sweep, "--out", out, "--workers", "2", timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"{kept} already done" in again.stdout
    alone = tmp_path / "alone"
    assert run_sim("sweep", sweep, "--out", alone, "--workers", "1", timeout=600).returncode == 0
    assert read_results(out / "race")["runs"].equals(read_results(alone / "race")["runs"])


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> tuple[Path, Path]:
    """A finished small sweep: (its sweep file, its results folder)."""
    folder = tmp_path_factory.mktemp("sweep")
    sweep = small_sweep(folder, keep={"trajectories": True})
    out = folder / "results"
    assert run_in_process("sweep", sweep, "--out", out, "--workers", "1").returncode == 0
    return sweep, out / "race"


def copy_of(finished: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    sweep, folder = finished
    out = tmp_path / "results"
    shutil.copytree(folder, out / "race")
    return sweep, out


@pytest.mark.parametrize("part", ["runs-00003.parquet", "summary-00003.parquet",
                                  "trajectories/part-00003.parquet"])
@pytest.mark.parametrize("how", ["truncated", "empty", "foreign"])
def test_a_resume_recomputes_damaged_parts(part, how, finished_sweep, tmp_path):
    sweep, out = copy_of(finished_sweep, tmp_path)
    folder = out / "race"
    path = folder / part if part.startswith("trajectories") else folder / "parts" / part
    if how == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    elif how == "empty":  # what a power cut can leave of a part renamed before it reached disk
        path.write_bytes(b"")
    else:  # another chunk's part of the same kind: readable, but the wrong rows
        source = path.with_name(path.name.replace("00003", "00059"))
        path.write_bytes(source.read_bytes())
    result = run_in_process("sweep", sweep, "--out", out, "--workers", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "chunk 3's parts are damaged or foreign" in result.stderr
    assert "computed 1 of 60 chunks" in result.stdout
    assert data_files(folder) == data_files(finished_sweep[1])


@pytest.mark.parametrize("how", ["truncated", "foreign", "list"])
@pytest.mark.parametrize("command", ["sweep", "replay"])
def test_a_damaged_plan_is_refused(how, command, finished_sweep, tmp_path):
    sweep, out = copy_of(finished_sweep, tmp_path)
    plan = out / "race" / "plan.json"
    plan.write_text({"truncated": plan.read_text()[:150], "foreign": '{"name": "race"}\n',
                     "list": "[1, 2]\n"}[how])
    before = data_files(out / "race")
    args = ["sweep", sweep, "--out", out] if command == "sweep" else ["replay", out / "race", "5"]
    result = run_in_process(*args)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "plan.json" in result.stderr
    assert "--fresh" in result.stderr
    assert data_files(out / "race") == before and not (out / "race" / "replays").exists()


@pytest.mark.parametrize("how", ["truncated", "empty", "foreign"])
def test_replay_of_a_damaged_part_is_refused(how, finished_sweep, tmp_path):
    _, out = copy_of(finished_sweep, tmp_path)
    part = out / "race" / "parts" / "runs-00002.parquet"
    if how == "truncated":
        part.write_bytes(part.read_bytes()[:100])
    else:
        part.write_bytes((part.parent / "runs-00007.parquet").read_bytes())
    result = run_in_process("replay", out / "race", "9")  # run 9 is in chunk 2
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "runs-00002.parquet" in result.stderr
    assert "run the sweep's command again" in result.stderr


# --- A full disk or a read-only folder during a sweep --------------------------------------


def test_a_full_disk_during_a_sweep_keeps_finished_chunks(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from sim.cli.main import main

    sweep = small_sweep(tmp_path)
    out = tmp_path / "results"
    real = pq.write_table
    calls = []

    def fills_up(table, where, *args, **kwargs):
        calls.append(where)
        if len(calls) > 20:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(where))
        return real(table, where, *args, **kwargs)

    monkeypatch.setattr(pq, "write_table", fills_up)
    with pytest.MonkeyPatch.context() as quiet:
        quiet.setattr(sys, "argv", ["sim"])
        status = main(["sweep", str(sweep), "--out", str(out), "--workers", "1", "--quiet"])
    assert status == 2
    parts = out / "race" / "parts"
    assert not [p for p in parts.iterdir() if p.name.startswith(".")], "temporary files left"
    kept = len(list(parts.glob("runs-*.parquet")))
    assert kept == 10  # two files a chunk: 20 writes made 10 chunks
    monkeypatch.setattr(pq, "write_table", real)
    again = run_in_process("sweep", sweep, "--out", out, "--workers", "1")
    assert again.returncode == 0 and f"{kept} already done" in again.stdout


def test_a_full_disk_is_reported_in_plain_words(tmp_path, monkeypatch, capsys):
    import pyarrow.parquet as pq

    from sim.cli.main import main

    def full(table, where, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(where))

    monkeypatch.setattr(pq, "write_table", full)
    out = tmp_path / "results"
    status = main(["sweep", str(small_sweep(tmp_path)), "--out", str(out), "--workers", "1",
                   "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and "No space left on device" in err and "free some space" in err
    assert "Traceback" not in err and files_under(out) == []


def test_a_read_only_results_folder_is_refused_for_a_sweep(tmp_path, monkeypatch, capsys):
    from sim.cli.main import main

    out = tmp_path / "results"
    real = os.mkdir

    def read_only(path, *args, **kwargs):
        if str(path).startswith(str(out)):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", read_only)
    status = main(["sweep", str(small_sweep(tmp_path)), "--out", str(out), "--workers", "1"])
    err = capsys.readouterr().err
    assert status == 2 and "Read-only file system" in err and "Traceback" not in err


def test_a_sweep_folder_that_is_a_file_is_refused(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    (out / "race").write_text("in the way\n")
    result = run_in_process("sweep", small_sweep(tmp_path), "--out", out)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "not a folder" in result.stderr or "in the way" in result.stderr
    assert (out / "race").read_text() == "in the way\n"


def test_a_sweep_whose_scenario_is_a_symlink_loop_is_refused(tmp_path):
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(tmp_path / "loop-2.yaml")
    (tmp_path / "loop-2.yaml").symlink_to(loop)
    sweep = write_sweep(tmp_path, scenario=str(loop))
    out = tmp_path / "results"
    err = assert_refused(run_in_process("sweep", sweep, "--out", out), out)
    assert "symlink loop" in err and "loop.yaml" in err
    err = assert_refused(run_in_process("sweep", loop, "--out", out), out)
    assert "symlink loop" in err


def test_an_unforeseen_os_error_is_a_plain_message(finished_sweep, tmp_path, monkeypatch,
                                                    capsys):
    import sim.sweep.replay as replay
    from sim.cli.main import main

    _, out = copy_of(finished_sweep, tmp_path)

    def full(text, path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(replay, "write_text", full)  # replay.json, written after the run folder
    status = main(["replay", str(out / "race"), "3", "--out", str(tmp_path / "replay"),
                   "--no-plot"])
    err = capsys.readouterr().err
    assert status == 2 and "No space left on device" in err and "replay.json" in err
    assert "Traceback" not in err
