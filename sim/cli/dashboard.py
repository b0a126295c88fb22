"""``sim dashboard``: serve the browser dashboard (a Solara page, sim/app.py) locally."""

from __future__ import annotations

import argparse
import errno
import importlib.util
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from sim.errors import SimError
from sim.scenario import load_scenario
from sim.scenario.files import resolve_path

REQUIRED = ("solara", "ipyvuetify", "altair")
"""Modules the dashboard needs beyond the core install (the 'dashboard' extra)."""

SERVER_SETTINGS = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",  # no network: no usage reports
    "SOLARA_CHECK_HOOKS": "off",  # its warning is about Mesa's code, not ours
}
"""Environment of the solara server."""


class DashboardError(SimError):
    """The dashboard cannot start (a missing optional package, a bad port)."""


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sim dashboard`` to the command line."""
    parser = sub.add_parser(
        "dashboard", help="open the browser dashboard (a live what-if: sliders, step, play)",
        description="Serve the dashboard on this machine with `solara run sim/app.py` and print "
                    "its address. Sliders set each power's budgets, risk tolerance, visibility "
                    "and reaction sensitivity, the border accord and the seed; each change "
                    "reruns the whole scenario for 16 seeds and redraws it (mean and 90% band). "
                    "Step and Play move a quarter cursor through the run. Stop it with Ctrl+C. "
                    "Needs the 'dashboard' extra: pip install -e '.[dashboard]'.",
    )
    parser.add_argument("scenario", nargs="?", default=None,
                        help="scenario YAML file the sliders start from "
                             "(default: scenarios/baseline.yaml)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    parser.add_argument("--open", action="store_true", help="also open a web browser")
    return parser


def solara_command(host: str, port: int, open_browser: bool = False) -> list[str]:
    """Build the ``solara run`` command line that serves sim/app.py.

    Args:
        host: Address to listen on.
        port: Port.
        open_browser: Whether solara opens a browser.

    Returns:
        The argument list (this interpreter's ``python -m solara run ...``).

    """
    app = Path(__file__).resolve().parents[1] / "app.py"
    return [sys.executable, "-m", "solara", "run", str(app), "--host", host, "--port", str(port),
            "--production", "--open" if open_browser else "--no-open"]


def port_free(host: str, port: int) -> None:
    """Refuse a port another program is listening on, before printing an address.

    Raises:
        DashboardError: Naming the host, the port and what to do.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DashboardError(f"--host {host!r} is not an address of this machine "
                             f"({exc.strerror or exc}); give 127.0.0.1 or 0.0.0.0") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise DashboardError(f"--port {port} on {host} is in use by another program; "
                                     "give another --port (e.g. --port 8766) or stop that "
                                     "program") from None
            raise DashboardError(f"cannot serve on {host}:{port}: {exc.strerror}; give another "
                                 "--host or --port") from None


def _interrupt(signum: int, frame: object) -> None:
    """Turn SIGTERM into KeyboardInterrupt, so the server is stopped as on Ctrl+C."""
    raise KeyboardInterrupt


def main(args: argparse.Namespace) -> int:
    """Run ``sim dashboard``."""
    if not 1 <= args.port <= 65535:
        raise DashboardError(f"--port {args.port} is not allowed: give 1 to 65535")
    missing = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
    if missing:
        raise DashboardError(
            f"the dashboard needs {', '.join(missing)}, not installed here; "
            "install the dashboard extra: pip install -e '.[dashboard]'")
    env = dict(os.environ, **SERVER_SETTINGS)
    if args.scenario is not None:
        load_scenario(args.scenario)  # refuse a bad file here, with the usual message
        env["SIM_DASHBOARD_SCENARIO"] = str(resolve_path(args.scenario, args.scenario))
    # sim/app.py imports sim; make sure the server's interpreter finds this copy of it.
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    port_free(args.host, args.port)
    url = f"http://{args.host}:{args.port}/"
    print(f"dashboard: {url}  (Ctrl+C to stop)", flush=True)
    process = subprocess.Popen(solara_command(args.host, args.port, args.open), env=env)
    signal.signal(signal.SIGTERM, _interrupt)  # stop the server too when we are terminated
    try:
        status = process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        print("dashboard: stopped", file=sys.stderr)
        return 0
    if status != 0:
        raise DashboardError(f"the dashboard server stopped with status {status} (its message "
                             f"is above); nothing is served at {url}")
    return 0
