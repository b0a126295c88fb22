"""The session guard in conftest.py fails a test session that writes into results/."""

from __future__ import annotations

import subprocess
import sys

from clihelp import ROOT, sim_env


def test_a_test_writing_into_results_fails_the_session(tmp_path):
    # A copy of the repository's conftest in a throwaway project: a test there writes into its
    # results/, and the session must fail naming the file, even though the test itself passes.
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "results").mkdir()
    (project / "results" / "README.md").write_text("kept\n")
    conftest = (ROOT / "tests" / "conftest.py").read_text()
    (project / "tests" / "conftest.py").write_text(conftest)
    (project / "tests" / "test_leak.py").write_text(
        "from pathlib import Path\n\n"
        "def test_leaks():\n"
        "    (Path(__file__).parent.parent / 'results' / 'leaked.csv').write_text('x')\n")
    (project / "pyproject.toml").write_text("[tool.pytest.ini_options]\ntestpaths = ['tests']\n")
    run = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
    result = subprocess.run(run, cwd=project, capture_output=True, text=True, timeout=120,
                            env=sim_env(), check=False)
    assert result.returncode == 1, result.stdout[-2000:]
    assert "1 passed" in result.stdout
    assert "results/leaked.csv" in result.stdout and "tmp_path" in result.stdout
    # Without the leak the same session passes.
    (project / "results" / "leaked.csv").unlink()
    (project / "tests" / "test_leak.py").write_text("def test_clean():\n    pass\n")
    result = subprocess.run(run, cwd=project, capture_output=True, text=True, timeout=120,
                            env=sim_env(), check=False)
    assert result.returncode == 0, result.stdout[-2000:]
