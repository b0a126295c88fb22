import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sweep_helpers import data_files, env, read_results, sim_command, write_sweep

from sim.cli import main
from sim.errors import SimError
from sim.sweep import load_sweep, run_sweep
from sim.sweep.replay import replay
from sim.sweep.store import SweepStore

KEEP_ALL = {"trajectories": True, "every": 1,
            "outputs": ["influence_end", "influence_peak", "spend_total", "effort_end"]}


def test_sweep_writes_every_file(tmp_path):
    plan = load_sweep(write_sweep(tmp_path, keep=KEEP_ALL))
    outcome = run_sweep(plan, out=tmp_path / "results", workers=1, quiet=True)
    folder = outcome.folder
    assert (outcome.n_samples, outcome.n_runs, outcome.chunks_total) == (6, 18, 3)
    for name in ("plan.json", "runs.parquet", "summary.parquet", "response.png", "manifest.json"):
        assert (folder / name).is_file(), name
    data = read_results(folder)
    runs, summary = data["runs"], data["summary"]
    assert list(runs["run_id"]) == list(range(18))
    assert list(runs["sample_id"]) == [r // 3 for r in range(18)]
    assert {"seed", "powers.china.reaction.japan.sensitivity", "powers.japan.risk_tolerance",
            "diverged_step", "influence_end_japan"} <= set(runs.columns)
    assert len(summary) == 6 and (summary["n_runs"] == 3).all()
    # The summary is the mean and percentiles over each sample's seeds.
    first = runs[runs["sample_id"] == 0]["spend_total_china"]
    assert summary.loc[0, "spend_total_china_mean"] == pytest.approx(first.mean())
    assert summary.loc[0, "spend_total_china_p95"] == pytest.approx(np.percentile(first, 95))
    # Peak influence is never below the end value; a Parquet row per (run, step, state, power).
    assert (runs["influence_peak_japan"] >= runs["influence_end_japan"]).all()
    traj = data["trajectories"]
    assert len(traj) == 18 * 9 * 5 * 3 and traj["share"].dtype == np.float32
    end = traj[traj["step"] == 8].groupby(["run_id", "power"])["share"].mean().unstack()
    assert np.allclose(end["japan"], runs["influence_end_japan"], rtol=1e-6)


def test_every_kth_step(tmp_path):
    plan = load_sweep(write_sweep(tmp_path, keep=KEEP_ALL | {"every": 3}))
    folder = run_sweep(plan, out=tmp_path, workers=1, quiet=True).folder
    assert sorted(read_results(folder)["trajectories"]["step"].unique()) == [0, 3, 6, 8]


def test_same_results_for_one_or_two_workers(tmp_path):
    path = write_sweep(tmp_path, keep=KEEP_ALL)
    one = run_sweep(load_sweep(path), out=tmp_path / "one", workers=1, quiet=True).folder
    two = run_sweep(load_sweep(path), out=tmp_path / "two", workers=2, quiet=True).folder
    assert data_files(one) == data_files(two)
    assert len(data_files(one)) == 3 * 3 + 2  # runs, summary, trajectories parts + merged


@pytest.mark.cluster
def test_same_results_on_a_dask_local_cluster(tmp_path):
    from distributed import Client, LocalCluster

    path = write_sweep(tmp_path)
    local = run_sweep(load_sweep(path), out=tmp_path / "local", workers=2, quiet=True).folder
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None,
                      host="127.0.0.1") as cluster, Client(cluster) as client:
        dask = run_sweep(load_sweep(path), out=tmp_path / "dask", scheduler=client,
                         quiet=True).folder
    assert data_files(local) == data_files(dask)


def test_chunk_results_do_not_depend_on_chunk_size(tmp_path):
    small = run_sweep(load_sweep(write_sweep(tmp_path, name="a", chunk_size=3)), out=tmp_path,
                      quiet=True).folder
    large = run_sweep(load_sweep(write_sweep(tmp_path, name="b", chunk_size=100)), out=tmp_path,
                      quiet=True).folder
    pd.testing.assert_frame_equal(pd.read_parquet(small / "runs.parquet"),
                                  pd.read_parquet(large / "runs.parquet"))


def test_replay_is_bit_identical_and_a_normal_run_folder(tmp_path):
    plan = load_sweep(write_sweep(tmp_path, keep=KEEP_ALL))
    folder = run_sweep(plan, out=tmp_path, workers=2, quiet=True).folder
    stored = read_results(folder)["trajectories"]
    for run_id in (0, 13):
        out = replay(folder, run_id, plot=False)
        assert {"trajectories.csv", "moves.csv", "events.csv", "manifest.json",
                "replay.json"} <= {p.name for p in out.iterdir()}
        mine = pd.read_csv(out / "trajectories.csv")
        theirs = stored[stored["run_id"] == run_id].reset_index(drop=True)
        assert len(mine) == len(theirs)
        for name in ("share", "footprint", "goodwill", "diplomatic", "effort", "stability"):
            a = mine[name].to_numpy(np.float32)
            b = theirs[name].to_numpy()
            assert a.tobytes() == b.tobytes(), name
        info = pd.read_json(out / "replay.json", typ="series")
        assert info["matches_sweep_trajectories"] is True or info["matches_sweep_trajectories"]
        manifest = pd.read_json(out / "manifest.json", typ="series")
        assert manifest["seed"] == pd.read_parquet(folder / "runs.parquet")["seed"][run_id]


def test_replay_cli_and_errors(tmp_path, capsys):
    folder = run_sweep(load_sweep(write_sweep(tmp_path)), out=tmp_path, quiet=True).folder
    assert main(["replay", str(folder), "4", "--no-plot"]) == 0
    assert (folder / "replays" / "run-4" / "trajectories.csv").is_file()
    assert main(["replay", str(folder), "99"]) == 2
    assert "run ids go from 0 to 17" in capsys.readouterr().err
    assert main(["replay", str(tmp_path), "0"]) == 2


def test_interrupted_sweep_resumes_only_missing_chunks(tmp_path):
    path = write_sweep(tmp_path, keep=KEEP_ALL)
    reference = run_sweep(load_sweep(path), out=tmp_path / "ref", quiet=True).folder
    first = run_sweep(load_sweep(path), out=tmp_path / "res", quiet=True, max_chunks=1)
    assert first.chunks_computed == 1 and not (first.folder / "runs.parquet").exists()
    # A temporary file left by a killed writer is never read as data, and is cleaned up.
    stale = first.folder / "parts" / ".tmp-runs-00002.parquet.999"
    stale.write_bytes(b"PAR1 half written")
    second = run_sweep(load_sweep(path), out=tmp_path / "res", workers=2, quiet=True)
    assert (second.chunks_computed, second.chunks_reused) == (2, 1)
    assert not stale.exists()
    assert data_files(reference) == data_files(second.folder)
    third = run_sweep(load_sweep(path), out=tmp_path / "res", quiet=True)
    assert (third.chunks_computed, third.chunks_reused) == (0, 3)


def test_a_different_sweep_is_not_mixed_into_old_results(tmp_path):
    run_sweep(load_sweep(write_sweep(tmp_path)), out=tmp_path, quiet=True)
    changed = write_sweep(tmp_path, seed=12)
    with pytest.raises(SimError, match="different sweep"):
        run_sweep(load_sweep(changed), out=tmp_path, quiet=True)
    outcome = run_sweep(load_sweep(changed), out=tmp_path, quiet=True, fresh=True)
    assert outcome.chunks_computed == 3


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_kill_9_and_resume(tmp_path):
    """Kill a running CLI sweep with SIGKILL: its workers stop; run it again and compare."""
    sweep = write_sweep(tmp_path, steps=40, seeds=4, chunk_size=8, parameters={
        "powers.china.reaction.japan.sensitivity": {"bounds": [0.0, 4.0], "levels": 40},
        "powers.japan.risk_tolerance": {"values": [0.2, 0.3, 0.4, 0.5, 0.6]},
    }, keep=KEEP_ALL)
    out = tmp_path / "results"
    command = sim_command("sweep", str(sweep), "--workers", "2", "--out", str(out), "--quiet")
    process = subprocess.Popen(command, env=env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parts = out / "tiny" / "parts"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = list(parts.glob("runs-*.parquet")) if parts.is_dir() else []
        if len(done) >= 3 or process.poll() is not None:
            break
        time.sleep(0.02)
    helpers = descendants(process.pid)
    os.kill(process.pid, signal.SIGKILL)  # the main process only, as `kill -9 PID` does
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the sweep finished before it could be killed"
    assert helpers, "the sweep had no worker processes"
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in helpers if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "worker processes outlived the killed sweep"
    assert not (out / "tiny" / "manifest.json").exists()
    before = len(SweepStore(out / "tiny").done())
    assert 0 < before < 100  # 200 samples, 2 per chunk
    again = subprocess.run(command, env=env(), capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert f"{before} already done" in again.stdout
    assert f"computed {100 - before} of 100 chunks" in again.stdout
    reference = run_sweep(load_sweep(sweep), out=tmp_path / "ref", workers=2, quiet=True)
    assert data_files(reference.folder) == data_files(out / "tiny")
    runs = pd.read_parquet(out / "tiny" / "runs.parquet")
    assert runs["run_id"].is_unique and len(runs) == 200 * 4


def test_fork_and_forkserver_pools_give_the_same_files(tmp_path):
    from sim.batch.executors import LocalPool

    path = write_sweep(tmp_path, keep=KEEP_ALL)
    folders = []
    for method in ("fork", "forkserver"):
        with LocalPool(2, start_method=method) as pool:
            assert pool.start_method == method
            out = run_sweep(load_sweep(path), out=tmp_path / method, quiet=True, executor=pool)
        folders.append(out.folder)
        assert f"({method})" in (out.folder / "manifest.json").read_text()
    assert data_files(folders[0]) == data_files(folders[1])


def test_diverged_runs_are_recorded_not_fatal(tmp_path, monkeypatch, capsys):
    """No valid baseline variation diverges in a few steps, so mark one run as diverged."""
    import dataclasses

    import sim.sweep.worker as worker

    real = worker.simulate

    def diverge_run_4(batch, **kwargs):
        final = real(batch, **kwargs)
        marked = np.where(np.asarray(batch.seeds) == run_seed_4, 5, final.diverged_step)
        return dataclasses.replace(final, diverged_step=marked)

    from sim.sweep.layout import run_seeds

    run_seed_4 = run_seeds(11, np.array([4]))[0]
    monkeypatch.setattr(worker, "simulate", diverge_run_4)
    path = write_sweep(tmp_path)
    assert main(["sweep", str(path), "--workers", "1", "--out", str(tmp_path), "--quiet"]) == 0
    assert "1 runs diverged" in capsys.readouterr().out
    folder = tmp_path / "tiny"
    runs = pd.read_parquet(folder / "runs.parquet")
    assert runs.loc[4, "diverged_step"] == 5 and (runs.drop(index=4)["diverged_step"] == -1).all()
    assert np.isnan(runs.loc[4, "influence_end_japan"])
    summary = pd.read_parquet(folder / "summary.parquet")
    assert summary.loc[1, "n_diverged"] == 1 and summary["n_diverged"].sum() == 1
    others = runs[(runs["sample_id"] == 1) & (runs["run_id"] != 4)]["influence_end_japan"]
    assert summary.loc[1, "influence_end_japan_mean"] == pytest.approx(others.mean())
