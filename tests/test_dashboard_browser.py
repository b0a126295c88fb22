"""End to end: `sim dashboard` in real headless Chromium (Debian's, driven by Playwright).

The page loads, a slider moves, Reset applies it, a step is taken, the plots change, and a
screenshot is saved. CI installs Chromium with .ci/install-browser.sh.

Without Chromium at /usr/bin/chromium (or $SIM_CHROMIUM), or without Playwright, the test is
skipped with the reason, so the README's test command passes on a machine without a browser.
With SIM_REQUIRE_BROWSER=1 (set by .ci/run) a missing browser is a failure instead.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.scenario import load_scenario

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # reported by the _browser fixture below
    sync_playwright = None

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "baseline.yaml"
CHROMIUM = os.environ.get("SIM_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("SIM_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
START_TIMEOUT_S = 90

pytestmark = pytest.mark.browser


def missing_browser() -> str | None:
    """Why the browser test cannot run here (None if it can)."""
    if sync_playwright is None:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (install it with .ci/install-browser.sh)"
    return None


@pytest.fixture(scope="module", autouse=True)
def _browser():
    """Skip without a browser, or fail if SIM_REQUIRE_BROWSER=1 (CI) demands one."""
    reason = missing_browser()
    if reason and REQUIRED:
        pytest.fail(f"{reason}; SIM_REQUIRE_BROWSER=1 requires the browser test", pytrace=False)
    if reason:
        pytest.skip(f"{reason}; SIM_REQUIRE_BROWSER=1 turns this skip into a failure")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"sim dashboard exited with {process.returncode}:\n{log.read_text()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"sim dashboard did not listen on {port} in {START_TIMEOUT_S} s:\n"
                f"{log.read_text()}")


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory):
    """Start `sim dashboard` on a free port; stop it (and its solara server) afterwards."""
    port = free_port()
    log = tmp_path_factory.mktemp("dashboard") / "server.log"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "sim", "dashboard", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, process, log)
        assert f"dashboard: http://127.0.0.1:{port}/" in log.read_text()
        yield f"http://127.0.0.1:{port}/"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


@pytest.fixture(scope="module")
def browser_page(dashboard_url):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1100})
            page.goto(dashboard_url, timeout=60_000)
            yield page
        finally:
            browser.close()


def plot_pixels(page: Page) -> list[bytes]:
    """Screenshots (PNG bytes) of the areas of the two plot images.

    The page is clipped to each image's box (rather than screenshotting the element, which
    waits for the element to be "stable" and timed out on a busy machine).
    """
    plots = page.locator(".vue-grid-item img")
    expect(plots).to_have_count(2)
    shots = []
    for i in range(2):
        box = plots.nth(i).bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
        shots.append(page.screenshot(clip=box))
    return shots


def test_dashboard_in_chromium(browser_page: Page, tmp_path):
    page = browser_page
    expect(page.get_by_text("Step: 0")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Influence in Central Asia: baseline")).to_be_visible()
    settings = page.locator(".solara-markdown").filter(has_text="regional share")
    expect(settings).to_contain_text("step 0 of 40")
    before = plot_pixels(page)

    # Move a slider with the keyboard: one step (USD m per quarter) to the right. One key, one
    # value message: the page sends a widget's next value only once the server has finished
    # with its last one, while a click goes at once, so after several quick keys Reset could
    # reach the server before the last value did (on a loaded machine it did: Reset built the
    # model with 155, the slider showed 165). A single message is sent at once, ahead of the
    # click, on the same connection, and the server handles them in that order.
    from sim import app

    start = load_scenario(SCENARIO).powers["japan"].budget.invest
    _, step = app._nice_max(start, 100.0)
    value = f"{start + step:g}"
    slider = page.get_by_role("slider", name="Japan: invest (USD m / quarter)")
    expect(slider).to_have_attribute("aria-valuenow", f"{start:g}")
    slider.focus()
    slider.press("ArrowRight")
    expect(slider).to_have_attribute("aria-valuenow", value)

    # Reset builds a new model from the sliders; the settings table shows Japan's new budget.
    page.get_by_role("button", name="Reset").click()
    japan = settings.locator("tr", has_text="Japan").first
    expect(japan.locator("td").nth(1)).to_have_text(value, timeout=30_000)

    # A step advances one quarter and redraws both plots.
    page.get_by_role("button", name="Step").click()
    expect(page.get_by_text("Step: 1")).to_be_visible(timeout=30_000)
    expect(settings).to_contain_text("step 1 of 40")
    deadline = time.monotonic() + 30
    after = plot_pixels(page)
    while (after[0] == before[0] or after[1] == before[1]) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        after = plot_pixels(page)
    assert after[0] != before[0], "the shares-by-state plot did not change after a step"
    assert after[1] != before[1], "the regional-total plot did not change after a step"

    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    print(f"screenshot: {shot}")
