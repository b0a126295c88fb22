"""No command deletes or moves anything the simulator did not create (issue 13, data loss).

A user's files beside and inside ``--out`` survive every command: ``sim run``, ``sim compare``,
``sim sweep``, ``sim replay``, ``sim report`` and ``sim explain``. ``sim replay RUN --out
FOLDER`` used to replace FOLDER whole; now a folder the simulator did not write is refused
(exit 2) and left as it was, while an earlier result of the simulator is still replaced.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelp import SMALL, run_sim
from sweep_helpers import write_sweep

from sim.outputs.folders import OutputError, atomic_folder, written_by_sim

USER_FILES = {"notes.txt": "my notes\n", "analysis/figure.svg": "<svg/>\n",
              ".hidden": "dotfile\n"}


def _plant(folder: Path) -> None:
    for name, text in USER_FILES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _intact(folder: Path) -> None:
    for name, text in USER_FILES.items():
        assert (folder / name).read_text() == text, f"{folder / name} was lost or changed"


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory) -> Path:
    """A tiny finished sweep with trajectories, written into a folder holding user files."""
    root = tmp_path_factory.mktemp("sweep")
    out = root / "results"
    _plant(out)
    spec = write_sweep(root, steps=3, seeds=1, chunk_size=3, design="grid",
                       parameters={"states.kazakhstan.stability": {"values": [0.3, 0.8]}},
                       keep={"trajectories": True, "outputs": ["influence_end"]})
    result = run_sim("sweep", spec, "--out", out, "--quiet", "--workers", "1")
    assert result.returncode == 0, result.stderr
    _intact(out)
    # A resumed sweep cleans only its own temporary names, not a user's ".tmp-" file.
    (out / "tiny" / ".tmp-notes").write_text("mine\n")
    result = run_sim("sweep", spec, "--out", out, "--quiet", "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert (out / "tiny" / ".tmp-notes").read_text() == "mine\n"
    _intact(out)
    return out / "tiny"


@pytest.mark.slow
def test_run_compare_report_and_explain_keep_user_files(tmp_path):
    out = tmp_path / "results"
    _plant(out)
    _plant(tmp_path)
    result = run_sim("run", SMALL, "--out", out, "--no-plot", "--quiet")
    assert result.returncode == 0, result.stderr
    run_dir = next(p for p in (out / "small").iterdir() if not p.name.startswith("."))
    _plant(run_dir)  # even inside a result: report and explain only add or read
    other = tmp_path / "loud_china.yaml"
    other.write_text(f"extends: {SMALL}\nname: loud_china\npowers:\n  china: {{visibility: 0.9}}\n")
    for args in (["compare", SMALL, other, "--out", out, "--no-plot", "--steps", "3"],
                 ["report", run_dir], ["explain", run_dir],
                 ["run", SMALL, "--out", out, "--no-plot", "--quiet", "--steps", "3"]):
        result = run_sim(*args)
        assert result.returncode == 0, (args, result.stderr)
        _intact(out)
        _intact(tmp_path)
        _intact(run_dir)


@pytest.mark.slow
def test_replay_into_a_folder_it_did_not_write_is_refused_and_nothing_is_lost(sweep_folder):
    out = sweep_folder.parent  # results/, holding the user's files and the sweep
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    result = run_sim("replay", sweep_folder, "1", "--out", out, "--no-plot")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert str(out) in result.stderr and "did not write" in result.stderr
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    _intact(out)


@pytest.mark.slow
def test_replay_into_a_new_or_its_own_folder_works(sweep_folder, tmp_path):
    """Sweep over a derived field (stability): the replay matches the sweep (no refusal)."""
    target = tmp_path / "replayed"
    for _ in range(2):  # the second time it replaces its own earlier result
        result = run_sim("replay", sweep_folder, "1", "--out", target, "--no-plot")
        assert result.returncode == 0, result.stderr
        assert (target / "manifest.json").is_file() and (target / "replay.json").is_file()
    assert '"matches_sweep_trajectories": true' in (target / "replay.json").read_text()


def test_atomic_folder_refuses_a_foreign_folder_or_file_before_any_work(tmp_path):
    foreign = tmp_path / "mine"
    _plant(foreign)
    with pytest.raises(OutputError, match="did not write"), atomic_folder(foreign) as tmp:
        raise AssertionError(f"the block must not run ({tmp})")
    _intact(foreign)
    a_file = tmp_path / "a_file"
    a_file.write_text("keep\n")
    with pytest.raises(OutputError, match="not a folder"), atomic_folder(a_file):
        pass
    assert a_file.read_text() == "keep\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "mine"]


def test_what_counts_as_written_by_the_simulator(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert written_by_sim(empty)
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "manifest.json").write_text('{"name": "not ours"}')
    assert not written_by_sim(fake)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{")
    assert not written_by_sim(broken)
    ours = tmp_path / "ours"
    ours.mkdir()
    (ours / "manifest.json").write_text('{"versions": {"sim": "0.1"}}')
    assert written_by_sim(ours)
    assert not written_by_sim(tmp_path / "missing")


# ------------------------------------------------------------------ issue 20


def test_calibrate_install_replaces_the_posterior_and_keeps_the_rest(tmp_path):
    import json

    from sim.history.calibrate import install

    shipped = Path(__file__).resolve().parent.parent / "data" / "posterior"
    destination = tmp_path / "posterior"
    destination.mkdir()
    (destination / "manifest.json").write_text(json.dumps({"versions": {"sim": "old"}}))
    (destination / "posterior.parquet").write_bytes(b"old")
    _plant(destination)
    source = tmp_path / "calibrate" / "abc"
    source.mkdir(parents=True)
    for name in ("posterior.parquet", "manifest.json"):
        (source / name).write_bytes((shipped / name).read_bytes())
    install(source, destination)
    _intact(destination)
    for name in ("posterior.parquet", "manifest.json"):
        assert (destination / name).read_bytes() == (shipped / name).read_bytes()


def test_a_second_optimise_file_with_the_same_name_is_refused_before_it_searches(tmp_path):
    import json

    from sim.decide.optimise_files import check_destination, destination_of
    from sim.decide.policy_file import OptimiseFileError
    from sim.decide.policy_plan import load_plan

    root = Path(__file__).resolve().parent.parent / "scenarios"
    text = (root / "optimise" / "japan_allocation.yaml").read_text()
    text = text.replace("scenario: ../baseline.yaml", f"scenario: {root}/baseline.yaml")
    text = text.replace("uncertainty: ../uncertainty/reactions.yaml", "uncertainty: none")
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(text)
    second.write_text(text.replace("total: 950", "total: 500"))
    out = tmp_path / "results"
    plan = load_plan(first)
    folder = destination_of(plan, out)
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({
        "versions": {"sim": "x"}, "source": str(first), "file": plan.spec.model_dump(mode="json"),
        "scenario_sha256": plan.scenario.digest()}))
    _plant(folder)
    assert check_destination(plan, out) == folder  # the same search again: replaced
    with pytest.raises(OptimiseFileError, match="holds the results of another search"):
        check_destination(load_plan(second), out)
    _intact(folder)


def test_sweep_fresh_keeps_user_files_and_refuses_while_discoveries_exist(tmp_path):
    out = tmp_path / "results"
    spec = write_sweep(tmp_path, steps=3, seeds=1, chunk_size=3, design="grid",
                       parameters={"states.kazakhstan.stability": {"values": [0.3, 0.8]}})
    args = ["sweep", spec, "--out", out, "--quiet", "--workers", "1"]
    assert run_sim(*args).returncode == 0
    folder = out / "tiny"
    _plant(folder)
    result = run_sim(*args, "--fresh")
    assert result.returncode == 0, result.stderr
    _intact(folder)
    assert (folder / "runs.parquet").is_file()
    (folder / "discover" / "abc").mkdir(parents=True)
    (folder / "discover" / "abc" / "box.csv").write_text("box\n")
    before = sorted(p for p in folder.rglob("*"))
    result = run_sim(*args, "--fresh")
    assert result.returncode == 2
    assert "discover/" in result.stderr and "nothing was deleted" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p for p in folder.rglob("*")) == before
