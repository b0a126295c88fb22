"""The browser test skips on a machine without Chromium, and fails there when CI requires it.

Runs tests/test_dashboard_browser.py in a child pytest with $SIM_CHROMIUM pointing nowhere,
once as a new user would (a skip, with the reason) and once as .ci/run does, with
SIM_REQUIRE_BROWSER=1 (a failure).
"""

from __future__ import annotations

import os
import subprocess
import sys

from clihelp import ROOT, sim_env

BROWSER_TEST = ROOT / "tests" / "test_dashboard_browser.py"


def child_pytest(tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in sim_env().items() if k != "SIM_REQUIRE_BROWSER"}
    environment |= {"SIM_CHROMIUM": str(tmp_path / "no-chromium"), **env}
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(BROWSER_TEST), "-n", "0", "-m", "browser", "-p",
         "no:cacheprovider", "-rsf", "-q"], capture_output=True, text=True, timeout=300,
        cwd=tmp_path, env=environment, check=False)


def test_a_missing_browser_is_a_skip_with_its_reason(tmp_path):
    result = child_pytest(tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "SKIPPED [1]" in result.stdout and "passed" not in result.stdout
    assert f"no Chromium at {tmp_path / 'no-chromium'}" in result.stdout


def test_a_missing_browser_fails_when_required(tmp_path):
    result = child_pytest(tmp_path, SIM_REQUIRE_BROWSER="1")
    assert result.returncode == 1, result.stdout[-2000:]
    assert "SIM_REQUIRE_BROWSER=1 requires the browser test" in result.stdout
    assert "SKIPPED" not in result.stdout


def test_ci_requires_the_browser():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "export SIM_REQUIRE_BROWSER=1" in ci
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
