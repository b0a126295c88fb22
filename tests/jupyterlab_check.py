"""Open the notebooks the way a student does: start JupyterLab and ask it for each notebook.

``pip install -e '.[notebooks]'`` then ``jupyter lab`` is what the README tells a student. This
script starts that JupyterLab (``python -m jupyterlab``, the same server the ``jupyter lab``
command starts) from the project folder on a free local port with a random token, and checks
that, for every notebook in notebooks/:

* ``GET /api/contents/notebooks/<name>.ipynb`` returns the notebook (JSON of type
  ``notebook`` whose cells are the file's cells), and
* ``GET /lab/tree/notebooks/<name>.ipynb`` returns JupyterLab's page (HTML that loads
  JupyterLab's application),

then stops the server. Run by .ci/run in the notebooks-only environment; exit status 0 when
every check passes, 1 with a message naming what failed (and the server's log) otherwise::

    python tests/jupyterlab_check.py [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str, token: str, timeout: float = 10.0) -> tuple[int, str, str]:
    """GET a URL with the server's token: (status, content type, body)."""
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return (response.status, response.headers.get("Content-Type", ""),
                    response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode("utf-8",
                                                                                "replace")


def wait_until_up(base: str, token: str, server: subprocess.Popen, deadline: float) -> None:
    """Poll ``/api/status`` until the server answers; raise if it exits or time runs out."""
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with status {server.returncode} "
                               "before answering")
        try:
            status, _, _ = get(f"{base}/api/status", token, timeout=2.0)
            if status == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.5)
    raise RuntimeError("JupyterLab did not answer /api/status in time")


def check_notebook(base: str, token: str, name: str) -> list[str]:
    """What is wrong with how the server serves one notebook (empty when nothing)."""
    problems = []
    on_disk = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
    status, kind, body = get(f"{base}/api/contents/notebooks/{name}", token)
    if status != 200:
        problems.append(f"GET /api/contents/notebooks/{name}: HTTP {status}")
    else:
        model = json.loads(body)
        cells = (model.get("content") or {}).get("cells", [])
        if model.get("type") != "notebook":
            problems.append(f"/api/contents/notebooks/{name}: type {model.get('type')!r}, "
                            "not 'notebook'")
        elif len(cells) != len(on_disk["cells"]):
            problems.append(f"/api/contents/notebooks/{name}: {len(cells)} cells, the file "
                            f"has {len(on_disk['cells'])}")
    status, kind, body = get(f"{base}/lab/tree/notebooks/{name}", token)
    if status != 200 or "text/html" not in kind:
        problems.append(f"GET /lab/tree/notebooks/{name}: HTTP {status} ({kind})")
    elif "jupyter-config-data" not in body or "JupyterLab" not in body:
        problems.append(f"GET /lab/tree/notebooks/{name}: the page is not JupyterLab's")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Start JupyterLab, check every notebook, stop it; 0 if every check passed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds to wait for the server to answer (default 120)")
    args = parser.parse_args(argv)
    if not NOTEBOOKS:
        print("jupyterlab_check: no notebooks in notebooks/", file=sys.stderr)
        return 1
    port, token = free_port(), secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="sim-jupyterlab-") as home:
        # A private Jupyter home: nothing from the machine's settings, and nothing left behind.
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": f"{home}/runtime",
               "JUPYTER_CONFIG_DIR": f"{home}/config", "JUPYTERLAB_SETTINGS_DIR":
               f"{home}/settings", "JUPYTERLAB_WORKSPACES_DIR": f"{home}/workspaces"}
        log_path = Path(home) / "server.log"
        with open(log_path, "w", encoding="utf-8") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
                 "--ip=127.0.0.1", f"--IdentityProvider.token={token}",
                 "--ServerApp.port_retries=0", f"--ServerApp.root_dir={ROOT}",
                 # CI runs as root (a student's own account needs no such flag).
                 *(["--allow-root"] if os.geteuid() == 0 else [])],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            problems = []
            try:
                wait_until_up(base, token, server, time.monotonic() + args.timeout)
                for name in NOTEBOOKS:
                    found = check_notebook(base, token, name)
                    problems += found
                    print(f"{name}: {'FAILED' if found else 'JupyterLab opens it'}")
            except RuntimeError as exc:
                problems.append(str(exc))
            finally:
                server.terminate()
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
        if problems:
            print("jupyterlab_check: FAILED\n  " + "\n  ".join(problems), file=sys.stderr)
            print("--- JupyterLab's log ---\n" + log_path.read_text(encoding="utf-8")[-4000:],
                  file=sys.stderr)
            return 1
    print(f"jupyterlab_check: JupyterLab served all {len(NOTEBOOKS)} notebooks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
