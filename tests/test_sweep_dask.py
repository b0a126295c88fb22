"""A real Dask cluster on loopback: a scheduler and two workers as separate processes."""

import socket
import subprocess
import sys
import time

import pytest
from sweep_helpers import data_files, env, sim_command, write_sweep

from sim.sweep import load_sweep, run_sweep

pytestmark = pytest.mark.cluster


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dask_command(*args: str) -> list[str]:
    """The `dask` command line (`python -m dask` is the same entry point) of this Python."""
    return [sys.executable, "-m", "dask", *args]


@pytest.fixture
def cluster():
    """Start `dask scheduler` and two `dask worker` processes on 127.0.0.1; stop them after."""
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    processes = [subprocess.Popen(
        dask_command("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"),
        env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for _ in range(2):
            processes.append(subprocess.Popen(
                dask_command("worker", address, "--nthreads", "1", "--no-dashboard",
                             "--host", "127.0.0.1"),
                env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 60
        with Client(address, timeout=30) as client:
            while len(client.scheduler_info()["workers"]) < 2:
                assert time.monotonic() < deadline, "the Dask workers did not start"
                time.sleep(0.2)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_sweep_through_scheduler_equals_local_pool(tmp_path, cluster):
    path = write_sweep(tmp_path, keep={"trajectories": True})
    out = tmp_path / "dask"
    result = subprocess.run(
        sim_command("sweep", str(path), "--scheduler", cluster, "--out", str(out), "--quiet"),
        env=env(), capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "computed 3 of 3 chunks" in result.stdout
    local = run_sweep(load_sweep(path), out=tmp_path / "local", workers=2, quiet=True).folder
    assert data_files(out / "tiny") == data_files(local)
    manifest = (out / "tiny" / "manifest.json").read_text()
    assert "Dask cluster at tcp://127.0.0.1" in manifest and "2 workers" in manifest


def test_unreachable_scheduler_is_a_clear_error():
    from sim.batch.executors import DaskCluster, ExecutorError

    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(ExecutorError, match=f"cannot reach the Dask scheduler at {address}") as e:
        DaskCluster(address, timeout=1)
    assert e.value.exit_code == 2


def missing_package(_task):
    raise ModuleNotFoundError("No module named 'sim'", name="sim")


def test_workers_without_the_package_get_a_clear_error():
    from distributed import Client, LocalCluster

    from sim.batch.executors import DaskCluster, ExecutorError

    with LocalCluster(processes=False, n_workers=1, threads_per_worker=1,
                      dashboard_address=None) as local, Client(local) as client:
        cluster = DaskCluster(client)
        with pytest.raises(ExecutorError, match="a Dask worker cannot import sim: install"):
            list(cluster.map_unordered(missing_package, [1, 2]))
