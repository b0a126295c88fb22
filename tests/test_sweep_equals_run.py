"""Run k of a sweep is exactly the run ``sim run --set path=value`` gives (issue 13).

A sweep writes each sample's values into the compiled arrays; a field that other fields derive
from when the scenario compiles (a state's stability, which is also its stability target when
the scenario sets none; an allocation weight where a power has none) must still give the same
run as the scenario compiled with ``--set``. Checked in-process for every path that
``sim sweep --list-paths`` offers, on the baseline and on a small test scenario, a few steps.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import numpy as np
import pytest

from sim.engine import compile_scenario
from sim.errors import ScenarioError
from sim.outputs.run import run_scenario
from sim.scenario import files, load_scenario
from sim.sweep.layout import Chunk
from sim.sweep.worker import TRAJECTORY_COLUMNS, ChunkTask, feeds_derived_fields, run_chunk

ROOT = Path(__file__).resolve().parent.parent
FILES = {"baseline": ROOT / "scenarios" / "baseline.yaml", "small": ROOT / "tests" / "data" /
         "small.yaml"}
STEPS = 3


@pytest.fixture(autouse=True)
def _parse_each_file_once(monkeypatch):
    """Read each YAML file once (PyYAML is most of the time; reading is not under test)."""
    cached = functools.lru_cache(maxsize=None)(files.read_yaml)
    monkeypatch.setattr(files, "read_yaml", lambda path: copy.deepcopy(cached(Path(path))))


def _perturbed(file: Path, path: str, current: float) -> float:
    """A value other than ``current`` that the scenario accepts for ``path``."""
    for value in (current * 0.5, current + 1.0, 0.5, 1.0, 0.0, current * 2.0):
        if value == current:
            continue
        try:
            load_scenario(file, overrides=[(path, float(value))], steps=STEPS)
        except ScenarioError:
            continue
        return float(value)
    raise AssertionError(f"no valid perturbed value found for {path}")


def _task(scenario, paths: tuple[str, ...], values: np.ndarray, seeds: int = 1) -> ChunkTask:
    chunk = Chunk(index=0, first_sample=0, n_samples=len(values), seeds_per_sample=seeds)
    return ChunkTask(key=f"equals-run-{scenario.digest()}", scenario=scenario.model_dump(
        mode="json"), paths=paths, values=np.asarray(values, dtype=np.float64), chunk=chunk,
        sweep_seed=17, outputs=("influence_end",), trajectories=True, every=1)


def _assert_same_run(table, run_id: int, recording, what: str) -> None:
    """The sweep's stored trajectory of ``run_id`` equals the recording's run 0, bit for bit."""
    rows = table.filter(table.column("run_id").to_numpy() == run_id)
    S, P = recording.structure.n_states, recording.structure.n_powers
    for name in TRAJECTORY_COLUMNS:
        stored = rows.column(name).to_numpy().reshape(STEPS + 1, S, P)
        mine = getattr(recording, name)[:, 0]
        if mine.ndim == 2:
            mine = np.repeat(mine[..., None], P, axis=2)
        assert np.array_equal(stored, mine), f"{what}: {name} differs from sim run --set"


@pytest.mark.parametrize("which", sorted(FILES))
@pytest.mark.slow
def test_every_listed_path_sweeps_to_the_run_that_set_gives(which):
    file = FILES[which]
    scenario = load_scenario(file, steps=STEPS)
    params = compile_scenario(scenario)[1]
    assert len(params.paths) > 10
    for path, (name, index) in params.paths.items():
        current = float(getattr(params, name)[(0, *index)])
        value = _perturbed(file, path, current)
        result = run_chunk(_task(scenario, (path,), np.array([[value]])))
        seed = int(result.runs.column("seed")[0].as_py())
        assert result.runs.column("diverged_step")[0].as_py() == -1
        recording = run_scenario(load_scenario(file, overrides=[(path, value)], seed=seed,
                                               steps=STEPS))
        _assert_same_run(result.trajectories, 0, recording, f"{which}: {path}={value}")


def test_several_paths_and_seeds_in_one_chunk_match_set_with_all_of_them():
    """Derived and direct fields together, several samples and seeds: each run is exact."""
    file = FILES["small"]  # no allocation set: one weight makes the other states' 0
    scenario = load_scenario(file, steps=STEPS)
    paths = ("states.alpha.stability", "powers.japan.allocation.beta",
             "powers.china.reaction.japan.sensitivity")
    values = np.array([[0.2, 0.5, 1.0], [0.9, 2.0, 0.0], [0.5, 0.1, 3.0]])
    result = run_chunk(_task(scenario, paths, values, seeds=2))
    runs = result.runs.to_pandas()
    assert len(runs) == 6
    for row in runs.itertuples():
        sample = values[row.sample_id]
        overrides = [(p, float(v)) for p, v in zip(paths, sample, strict=True)]
        recording = run_scenario(load_scenario(file, overrides=overrides, seed=int(row.seed),
                                               steps=STEPS))
        _assert_same_run(result.trajectories, row.run_id, recording, f"run {row.run_id}")


def test_derived_fields_are_found_by_compiling_not_by_a_list():
    scenario = load_scenario(FILES["small"], steps=STEPS)
    data = scenario.model_dump(mode="json")
    params = compile_scenario(scenario)[1]
    some = np.array([0.3, 0.8])
    # Stability is also the stability target (none set); one allocation weight zeroes the rest.
    assert feeds_derived_fields(data, params, "states.alpha.stability", some)
    assert feeds_derived_fields(data, params, "powers.japan.allocation.alpha", some)
    # Plain fields keep the fast path (the value written into its own cell).
    assert not feeds_derived_fields(data, params, "states.alpha.stability_target", some)
    assert not feeds_derived_fields(data, params, "powers.china.reaction.japan.sensitivity",
                                    some)


def test_a_sample_the_scenario_refuses_is_a_plain_error_that_crosses_a_pool():
    """Two allocation weights, each allowed alone, both 0 in one sample: refused, not run."""
    import pickle

    from sim.sweep.worker import SampleRefused

    scenario = load_scenario(FILES["small"], steps=STEPS)
    paths = ("powers.japan.allocation.alpha", "powers.japan.allocation.beta")
    with pytest.raises(SampleRefused) as caught:
        run_chunk(_task(scenario, paths, np.array([[1.0, 0.0], [0.0, 0.0]])))
    message = str(caught.value)
    assert "allocation.alpha=0.0" in message and "sum to 0" in message
    assert str(pickle.loads(pickle.dumps(caught.value))) == message


def _derived_sweep(tmp_path, paths: dict) -> tuple:
    from sim.sweep import build_plan, run_sweep

    plan = build_plan({"name": "derived", "scenario": str(FILES["small"]), "steps": STEPS,
                       "design": "random", "samples": 4, "seeds": 2, "seed": 11,
                       "chunk_size": 4, "parameters": paths,
                       "keep": {"trajectories": True, "every": 1}})
    folder = run_sweep(plan, out=tmp_path, workers=1, quiet=True).folder
    return plan, folder


def test_a_sweep_decides_once_to_compile_each_sample_and_every_run_is_exact(tmp_path,
                                                                            monkeypatch):
    """The sweep decides compile-each once, for every chunk, from all its samples.

    Mutant: the decision forced to False (values written into the base batch): the runs of
    the derived field (stability, also the stability target here) are not those of --set.
    """
    import pyarrow.parquet as pq

    from sim.sweep import runner

    decided = []
    real = runner.compile_each_sample
    monkeypatch.setattr(runner, "compile_each_sample",
                        lambda *a: decided.append(real(*a)) or decided[-1])
    paths = {"states.alpha.stability": {"bounds": [0.3, 0.9]},
             "powers.china.reaction.japan.sensitivity": {"bounds": [0.0, 3.0]}}
    plan, folder = _derived_sweep(tmp_path / "exact", paths)
    assert decided == [True]  # once for the sweep's two chunks, not once per chunk
    runs = pq.read_table(folder / "runs.parquet").to_pandas()
    table = pq.read_table(folder / "trajectories")
    assert len(runs) == 8
    for row in runs.itertuples():
        overrides = [(p, float(getattr(row, f"_{i + 4}"))) for i, p in enumerate(paths)]
        recording = run_scenario(load_scenario(FILES["small"], overrides=overrides,
                                               seed=int(row.seed), steps=STEPS))
        _assert_same_run(table, row.run_id, recording, f"run {row.run_id}")

    monkeypatch.setattr(runner, "compile_each_sample", lambda *a: False)
    _, mutant = _derived_sweep(tmp_path / "mutant", paths)
    stored = pq.read_table(mutant / "trajectories").column("stability").to_numpy()
    assert not np.array_equal(stored, table.column("stability").to_numpy())


def test_a_sweep_of_plain_fields_writes_values_into_the_base_batch(tmp_path, monkeypatch):
    from sim.sweep import runner

    decided = []
    real = runner.compile_each_sample
    monkeypatch.setattr(runner, "compile_each_sample",
                        lambda *a: decided.append(real(*a)) or decided[-1])
    _derived_sweep(tmp_path, {"powers.china.reaction.japan.sensitivity": {"bounds": [0., 3.]}})
    assert decided == [False]
