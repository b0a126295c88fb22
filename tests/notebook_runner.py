"""Execute the notebooks in a real Jupyter kernel (nbclient), as a student would run them.

Used by tests/test_notebooks.py, and run on its own by .ci/run in a virtual environment that
has exactly the extra the README names for notebooks (``pip install -e '.[notebooks]'``, no
pytest), to prove that extra is enough::

    python tests/notebook_runner.py          # exit 0 if every notebook runs without an error

Results the notebooks write go to ``$SIM_RESULTS`` (a temporary folder here), never to the
repository's results/.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from traitlets import default

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ["01_quickstart.ipynb", "02_what_if.ipynb", "03_reaction_sensitivity.ipynb"]


class _ThisInterpreter(KernelSpecManager):
    """Kernel specs whose ``python3`` kernel is this interpreter's ipykernel.

    CI runs in a fresh virtual environment that may have no kernelspec installed; using the
    running interpreter makes the kernel see the same installed packages as the caller.
    """

    def get_kernel_spec(self, kernel_name):
        if kernel_name != "python3":
            return super().get_kernel_spec(kernel_name)
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="Python 3 (tests)", language="python",
        )


class _Kernel(AsyncKernelManager):
    """A kernel manager that starts :class:`_ThisInterpreter`'s ``python3`` kernel."""

    @default("kernel_spec_manager")
    def _default_kernel_spec_manager(self) -> KernelSpecManager:
        return _ThisInterpreter(data_dir=self.data_dir)


def execute(name: str) -> nbformat.NotebookNode:
    """Run a notebook in a fresh kernel, from the notebooks folder, and return it.

    The kernel inherits this process's environment, so set ``SIM_RESULTS`` first to keep the
    notebooks' results out of the repository.
    """
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    # The client makes (and so shuts down) its own kernel manager; a manager passed in with
    # km= is left running, which stalled the next notebook for two minutes.
    client = NotebookClient(
        notebook, kernel_manager_class=_Kernel, kernel_name="python3", timeout=120,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    return notebook


def main() -> int:
    """Run every notebook with results in a temporary folder; 0 if all ran without error."""
    from nbclient.exceptions import CellExecutionError

    failed = []
    with tempfile.TemporaryDirectory(prefix="sim-notebooks-") as results:
        os.environ["SIM_RESULTS"] = results
        for name in NAMES:
            try:
                execute(name)
            except CellExecutionError as exc:
                failed.append(name)
                print(f"{name}: FAILED\n{exc}", file=sys.stderr)
            else:
                print(f"{name}: ran without errors")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
