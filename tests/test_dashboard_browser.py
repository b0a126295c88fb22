"""End to end: `sim dashboard` in real headless Chromium (Debian's, driven by Playwright).

The page loads and draws the what-if; a slider moves by keyboard, its value shows beside it,
the busy sign comes and goes, and the plotted numbers change; Step clicks made in a burst all
count; the figure's fonts are at least 11 px on the page; and the page asks nothing of any
machine but this one (every request is recorded). A screenshot is saved. CI installs
Chromium with .ci/install-browser.sh.

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
from importlib.metadata import files
from pathlib import Path
from urllib.parse import urlparse

import pytest

from sim import app
from sim.scenario import load_scenario

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # reported by the _browser fixture below
    sync_playwright = None

pytestmark = pytest.mark.browser  # the browser tier (pyproject.toml's markers)

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "baseline.yaml"
CHROMIUM = os.environ.get("SIM_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("SIM_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
START_TIMEOUT_S = 90
WAIT_MS = 90_000  # a what-if takes about a second; a loaded CI machine may take much longer


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


def local_assets() -> set[str]:
    """The packages solara-assets ships for solara's /_solara/cdn/ (served from disk)."""
    shipped = set()
    for f in files("solara-assets") or []:
        parts = Path(f).parts
        if "cdn" in parts:
            rest = parts[parts.index("cdn") + 1:]
            if len(rest) > 1:
                shipped.add("/".join(rest[:2]) if rest[0].startswith("@") else rest[0])
    return shipped


@pytest.fixture(scope="module")
def browser_page(dashboard_url):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.requests = []
            page.on("request", lambda request: page.requests.append(request.url))
            page.goto(dashboard_url, timeout=60_000)
            yield page
        finally:
            browser.close()


def host(url: str) -> str | None:
    """The machine a request goes to (a blob: URL is memory of the page that made it)."""
    parsed = urlparse(url)
    if parsed.scheme == "blob":
        return urlparse(parsed.path).hostname
    return "127.0.0.1" if parsed.scheme == "data" else parsed.hostname


def end_cell(page: Page, state: str, power: str):
    return page.locator(f'td[data-state="{state}"][data-power="{power}"][data-at="end"]')


def test_dashboard_in_chromium(browser_page: Page, tmp_path):
    page = browser_page
    expect(page.get_by_text("Influence in Central Asia: baseline")).to_be_visible(
        timeout=60_000)
    japan_end = end_cell(page, "kazakhstan", "japan")
    expect(japan_end).to_be_visible(timeout=WAIT_MS)
    expect(page.locator(".whatif-busy")).to_have_count(0, timeout=WAIT_MS)
    before = float(japan_end.get_attribute("data-mean"))
    figure = page.locator("img.whatif-figure")
    expect(figure).to_have_count(1)
    shot_before = page.screenshot(clip=figure.bounding_box())

    # Each slider's value is on the page beside it, not only on a dragged thumb.
    start = load_scenario(SCENARIO).powers["japan"].budget.invest
    _, step = app._nice_max(start, 100.0)
    value = page.locator('[data-slider="japan_invest_budget"]')
    expect(value).to_have_text(f"{start:g} USD m")
    expect(page.locator('[data-slider="china_risk_tolerance"]')).to_be_visible()

    # Move Japan's investment budget three steps with the keyboard: the value shown follows,
    # the what-if reruns (busy sign, then gone), and the plotted numbers change.
    slider = page.get_by_role("slider", name="Japan: invest (USD m / quarter)")
    expect(slider).to_have_attribute("aria-valuenow", f"{start:g}")
    slider.focus()
    for _ in range(3):
        slider.press("ArrowRight")
    moved = f"{start + 3 * step:g}"
    expect(slider).to_have_attribute("aria-valuenow", moved)
    expect(value).to_have_text(f"{moved} USD m", timeout=WAIT_MS)
    expect(japan_end).not_to_have_attribute("data-mean", f"{before:.6f}", timeout=WAIT_MS)
    expect(page.locator(".whatif-busy")).to_have_count(0, timeout=WAIT_MS)
    after = float(japan_end.get_attribute("data-mean"))
    assert after > before + 0.001, (before, after)  # more money, more influence
    expected = app.recompute(SCENARIO, japan_invest_budget=float(moved)).band()[0][-1, 0, 0]
    assert after == pytest.approx(expected, abs=1e-6)  # the page shows the engine's numbers
    deadline = time.monotonic() + 30
    while page.screenshot(clip=figure.bounding_box()) == shot_before:
        assert time.monotonic() < deadline, "the figure was not redrawn"
        page.wait_for_timeout(250)

    # A burst of Step clicks: every one counts (none is lost while the page is busy).
    page.get_by_role("button", name="Start").click()
    cursor = page.locator(".whatif-cursor")
    expect(cursor).to_have_attribute("data-cursor", "0", timeout=WAIT_MS)
    for _ in range(12):
        page.get_by_role("button", name="Step").click()
    expect(cursor).to_have_attribute("data-cursor", "12", timeout=WAIT_MS)
    page.wait_for_timeout(1000)
    expect(cursor).to_have_attribute("data-cursor", "12")
    expect(cursor).to_have_text("2027Q4: step 12 of 40")

    # Play moves the cursor on by itself; Pause stops it.
    def at() -> int:
        return int(cursor.get_attribute("data-cursor"))

    page.get_by_role("button", name="Play").click()
    deadline = time.monotonic() + WAIT_MS / 1000
    while at() < 15:
        assert time.monotonic() < deadline, f"Play did not move the cursor (at {at()})"
        page.wait_for_timeout(200)
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_be_visible(timeout=WAIT_MS)
    page.wait_for_timeout(1000)
    paused = at()
    page.wait_for_timeout(1500)
    assert at() == paused < 40

    # Fonts: the figure's smallest text (ticks, FONT_PT - 1 points at 100 dpi) as shown.
    natural, shown = figure.evaluate("img => [img.naturalWidth, img.clientWidth]")
    tick_px = (app.FONT_PT - 1) * 100 / 72 * shown / natural
    assert tick_px >= 11, f"tick labels {tick_px:.1f} px on the page ({shown} of {natural} px)"

    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    print(f"screenshot: {shot}")

    # Nothing left the machine: every request went to 127.0.0.1, and every asset came from
    # what solara-assets installed (no KaTeX, nothing a CDN would have to send).
    assert page.requests, "no requests recorded"
    outside = sorted({u for u in page.requests if host(u) != "127.0.0.1"})
    assert not outside, f"requests outside this machine: {outside}"
    shipped = local_assets()
    cdn = "/_solara/cdn/"
    asked = {urlparse(u).path.split(cdn, 1)[1] for u in page.requests if cdn in u}
    missing = sorted(p for p in asked if not any(p.startswith(f"{s}/") for s in shipped))
    assert not missing, f"assets solara-assets does not ship (fetched from a CDN): {missing}"
    assert not any("katex" in u.lower() for u in page.requests)
