"""Batch sweeps of scenario fields, on a local pool or a Dask cluster.

A sweep varies scenario fields over a design, keeps summaries (and trajectories) as Parquet
and analyses sensitivity.

Command line: ``sim sweep FILE --workers N`` and ``sim replay results/<sweep> RUN_ID``.
Python (see :mod:`sim.sweep.api`)::

    from sim.sweep import Sweep
    result = Sweep("scenarios/baseline.yaml", {"rules.hedging": (0.2, 0.8)}).sobol(256).run()
    result.summary, result.sensitivity
"""

from sim.sweep.api import Sweep, SweepResult
from sim.sweep.plan import build_plan, load_sweep
from sim.sweep.runner import run_sweep

__all__ = ["Sweep", "SweepResult", "build_plan", "load_sweep", "run_sweep"]
