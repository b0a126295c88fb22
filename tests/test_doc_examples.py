"""Every `sim ...` example in the README and docs/*.md runs as written.

The examples are read from the documents' code blocks (indented or fenced; a line continued
with a backslash is one command; a trailing ``# comment`` is dropped), and run one document at
a time, in the document's order, with ``python -m sim`` in a temporary copy of the project's
scenarios/ and data/ (so ``results/`` is the temporary folder's, never the repository's).

What is not run, and why, is listed here and checked to still exist in the documents, so an
example can only leave the test by being written into one of these lists:

* templates, whose words a reader replaces (``FILE``, ``HOST``, ``<run id>``, ``A.yaml``...);
* servers (``sim dashboard``: tests/test_dashboard_browser.py serves and drives it);
* what takes minutes (calibration, the policy search and what reads their results): marked
  ``slow``, run by ``pytest -m slow``.

Running every example takes minutes too (about three on two idle cores), so the runs are in
the slow tier, which ``.ci/run`` runs after the fast one. The fast tier keeps what catches most
of a document going stale in seconds: every example, slow ones included, is accepted by the
command line's own parser, every file it names exists (or is made by the example in
:data:`PRODUCERS`), and a run folder it names (``results/baseline/s2025-...``) is the one that
scenario and seed write today.

An example that reads a results folder made by another document's example gets it made
first (:data:`PRODUCERS`).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from clihelp import ROOT, sim_env

from sim.cli.main import build_parser
from sim.outputs.run import run_folder
from sim.scenario.load import load_scenario

DOCUMENTS = ["README.md", *sorted(p.relative_to(ROOT).as_posix()
                                  for p in (ROOT / "docs").glob("*.md"))]

TEMPLATE = re.compile(r"<[^>]+>|\bFILE\b|\bFIT/|\bHOST\b|\bRUN_DIR\b|\b[ABC]\.yaml\b|\[--|my\.yaml")
"""Words a reader replaces: such a line shows a command's form, not a command to run."""

_HAS_SBI = importlib.util.find_spec("sbi") is not None
"""Whether the optional cross-check library (the `crosscheck` extra) is installed."""

SERVERS = ("sim dashboard",)
"""Commands that serve until stopped."""

SLOW = ("sim calibrate", "sim optimise", "sim hindcast scenarios/history/2015.yaml",
        "results/optimise/")
"""Prefixes (or parts) of examples that take minutes on two cores."""

PRODUCERS = {
    "results/china_reaction": "sim sweep scenarios/sweeps/china_reaction.yaml --workers 2",
    "results/reaction_sobol": "sim sweep scenarios/sweeps/reaction_sobol.yaml --workers 2",
    "results/baseline/": "sim run scenarios/baseline.yaml",
    "results/russia_destabilises/": "sim run scenarios/russia_destabilises.yaml",
    "results/compare/baseline-vs-border_accord-":
        "sim compare scenarios/baseline.yaml scenarios/border_accord.yaml",
    "results/optimise/japan_allocation": "sim optimise scenarios/optimise/japan_allocation.yaml"
                                         " --workers 2",
}
"""The example that makes each results folder an example reads."""


def examples(text: str) -> list[str]:
    """The ``sim ...`` commands in a Markdown text's code blocks, in order."""
    found = []
    fenced = False
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("```"):
            fenced = not fenced
            i += 1
            continue
        in_code = fenced or (line.startswith("    ") and not line.lstrip().startswith(("-", "*",
                                                                                      "|")))
        command = line.strip().removeprefix("$ ")
        while in_code and command.endswith("\\") and i + 1 < len(lines):
            i += 1
            command = command[:-1].rstrip() + " " + lines[i].strip()
        if in_code:
            for part in command.split("&&"):
                part = re.sub(r"\s+#\s.*$", "", part.strip())
                # "sim run: ..." is a message a command printed, "sim run x (wall" a table row.
                if re.match(r"sim [a-z]+( |$)", part) and "(wall" not in part:
                    found.append(part)
        i += 1
    return found


REFUSED = {
    "sim compare scenarios/baseline.yaml scenarios/border_accord.yaml --at 2040Q1":
        "outside the run",
}
"""Examples of a refusal (the document shows the message): exit status 2 and that message."""


def _kind(command: str) -> str:
    if TEMPLATE.search(command):
        return "template"
    if command.startswith(SERVERS):
        return "server"
    if command.startswith(SLOW) or any(part in command for part in SLOW if "/" in part):
        return "slow"
    return "run"


def _workspace(tmp_path: Path) -> Path:
    """A copy of the package, scenarios and data: the examples import the copy, so what they
    write beside the package (``sim calibrate --install`` into ``data/posterior``, found from
    ``sim.__file__``) lands in the copy, never in the repository's shipped posterior."""
    for folder in ("sim", "scenarios", "data"):
        shutil.copytree(ROOT / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _shipped() -> dict[str, bytes]:
    """The repository's shipped posteriors, byte for byte."""
    return {str(p): p.read_bytes() for p in sorted((ROOT / "data").glob("posterior*/*"))}


def _run(command: str, where: Path, done: list[str]) -> None:
    """Run one example in ``where`` (making the results it reads first); fail with its output."""
    for prefix, producer in PRODUCERS.items():
        if prefix in command and producer != command and producer not in done:
            _run(producer, where, done)
    args = shlex.split(command)
    assert args[0] == "sim"
    env = {**sim_env(), "PYTHONPATH": str(where)}
    result = subprocess.run([sys.executable, "-m", "sim", *args[1:]], capture_output=True,
                            text=True, timeout=1800, env=env, cwd=where, check=False)
    done.append(command)
    if "--crosscheck" in command and not _HAS_SBI and os.environ.get("SIM_REQUIRE_SBI") != "1":
        # Without the optional sbi the documented refusal is what a reader gets (CI installs
        # sbi and sets SIM_REQUIRE_SBI=1, so there the example must run).
        assert result.returncode == 2 and "[crosscheck]" in result.stderr, result.stderr
        return
    if command in REFUSED:
        assert result.returncode == 2 and REFUSED[command] in result.stderr, result.stderr
        return
    assert result.returncode == 0, (
        f"`{command}` exited {result.returncode}:\n{result.stderr[-3000:]}")
    assert "Traceback" not in result.stderr, result.stderr[-3000:]


def test_examples_are_found():
    every = {doc: examples((ROOT / doc).read_text()) for doc in DOCUMENTS}
    assert "sim run scenarios/baseline.yaml" in every["README.md"]
    assert any(c.startswith("sim discover") for c in every["docs/DISCOVER.md"])
    kinds = {_kind(c) for commands in every.values() for c in commands}
    assert kinds == {"template", "server", "slow", "run"}


def _documents_with(kind: str) -> list[str]:
    return [doc for doc in DOCUMENTS
            if any(_kind(c) == kind for c in examples((ROOT / doc).read_text()))]


def _run_examples(document: str, kind: str, tmp_path: Path) -> None:
    """Run, in order, a document's examples of one kind in a fresh workspace."""
    where = _workspace(tmp_path)
    shipped = _shipped()
    done: list[str] = []
    for command in examples((ROOT / document).read_text()):
        if _kind(command) == kind:
            _run(command, where, done)
    # A documented `sim calibrate --install` once rewrote the repository's data/posterior.
    assert _shipped() == shipped, "an example wrote into the repository's data/posterior*"


RUN_FOLDER = re.compile(r"^results/([a-z0-9_]+)/(s\d+-[0-9a-f]{10})$")
"""A single run's folder named in an example: results/<scenario>/s<seed>-<digest>."""


def _named_paths(args: list[str]) -> list[str]:
    """The files and folders an example's arguments name (scenarios, data, results)."""
    return [arg for arg in args
            if arg.startswith(("scenarios/", "data/", "results/")) or arg.endswith(".yaml")]


def _path_problem(path: str, command: str) -> str | None:
    """Why a path an example names would not be there when it runs, or None."""
    if path.startswith("results/"):
        if not any(path.startswith(prefix) or prefix.startswith(path)
                   for prefix in PRODUCERS):
            return f"{path}: no example in PRODUCERS makes it"
        folder = RUN_FOLDER.match(path)
        if folder:
            name, written = folder.groups()
            scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
            expected = run_folder(scenario, [scenario.seed], out="results").name
            if written != expected:
                return f"{path}: scenarios/{name}.yaml with its seed writes {expected} today"
        return None
    return None if (ROOT / path).exists() else f"{path}: no such file in the repository"


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_example_parses_and_names_what_exists(document):
    """Fast: each example is a valid ``sim`` command line naming files that exist."""
    parser = build_parser()
    problems = []
    for command in examples((ROOT / document).read_text()):
        if _kind(command) == "template":
            continue
        args = shlex.split(command)[1:]
        try:
            parser.parse_args(args)
        except SystemExit:
            problems.append(f"`{command}`: the command line refuses it")
            continue
        problems += [f"`{command}`: {problem}" for path in _named_paths(args)
                     if (problem := _path_problem(path, command))]
    assert not problems, "\n".join(problems)


def test_the_fast_check_catches_a_stale_example():
    """The checks above fail on a mistyped option, a missing file and an outdated run id."""
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "scenarios/baseline.yaml", "--replicas", "3"])
    assert _path_problem("scenarios/no_such.yaml", "") is not None
    assert "writes" in _path_problem("results/baseline/s2025-0000000000", "")
    assert _path_problem("results/nobody_makes_this", "") is not None
    assert _path_problem("scenarios/baseline.yaml", "") is None


@pytest.mark.slow
@pytest.mark.parametrize("document", _documents_with("run"))
def test_every_example_runs_as_written(document, tmp_path):
    _run_examples(document, "run", tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("document", _documents_with("slow"))
def test_every_slow_example_runs_as_written(document, tmp_path):
    _run_examples(document, "slow", tmp_path)
