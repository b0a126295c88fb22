"""A small Python API for sweeps, in the spirit of SALib's ProblemSpec.

::

    from sim.sweep import Sweep

    result = (
        Sweep("scenarios/baseline.yaml", {
            "powers.china.reaction.japan.sensitivity": (0.0, 4.0),   # a tuple: bounds
            "powers.japan.risk_tolerance": (0.1, 0.6),
        }, seeds=4)
        .sobol(256)
        .run(workers=2)
    )
    result.summary        # pandas DataFrame, one row per sample
    result.sensitivity    # S1, S1_conf, ST, ST_conf per output and parameter

A tuple ``(low, high)`` gives bounds, a list gives grid values, and a dict is read as in a sweep
file (``{"bounds": [0, 4], "levels": 9}``). Each design method returns a new ``Sweep``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.dataset as ds

from sim.scenario.files import resolve_path
from sim.sweep.runner import SweepOutcome, run_sweep
from sim.sweep.spec import SweepPlan, build_plan, read_yaml


def _parameter(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, tuple):
        return {"bounds": list(value)}
    return {"values": list(value)}


class Sweep:
    """A sweep built in Python; the same settings as a sweep file.

    Args:
        scenario: The base scenario file.
        parameters: Field path to bounds (tuple), values (list) or a dict as in a sweep file.
        **settings: Any other sweep-file key: ``name``, ``seeds``, ``seed``, ``steps``, ``set``,
            ``keep``, ``chunk_size``, ``plot``, ``design``, ``samples``...

    """

    def __init__(self, scenario: str | Path, parameters: dict[str, Any] | None = None,
                 **settings: Any):
        data: dict[str, Any] = {
            "name": settings.pop("name", f"{Path(scenario).stem}_sweep"),
            "scenario": str(resolve_path(scenario, "<Sweep>", "scenario")),
            "design": settings.pop("design", "grid"),
            "parameters": {k: _parameter(v) for k, v in (parameters or {}).items()},
        }
        data.update(settings)
        self.data = data
        self.base_dir = Path(".")

    @classmethod
    def from_file(cls, path: str | Path) -> Sweep:
        """Read a sweep from a sweep file (its scenario path stays relative to the file)."""
        path = Path(path)
        sweep = cls.__new__(cls)
        sweep.data = read_yaml(path)
        sweep.base_dir = path.resolve().parent
        sweep.source = str(path)
        return sweep

    def _with(self, **changes: Any) -> Sweep:
        new = copy.copy(self)
        new.data = copy.deepcopy(self.data) | changes
        return new

    def grid(self, levels: int | None = None) -> Sweep:
        """Every combination; ``levels`` evenly spaced values for parameters given by bounds."""
        params = copy.deepcopy(self.data["parameters"])
        if levels is not None:
            for spec in params.values():
                if "bounds" in spec:
                    spec["levels"] = levels
        return self._with(design="grid", samples=None, parameters=params)

    def random(self, n: int) -> Sweep:
        """``n`` uniform random samples within the bounds."""
        return self._with(design="random", samples=n)

    def latin(self, n: int) -> Sweep:
        """``n`` samples of a Latin hypercube within the bounds."""
        return self._with(design="latin", samples=n)

    def sobol(self, n: int, second_order: bool = False) -> Sweep:
        """Use a Saltelli design with base ``n`` (a power of 2) for Sobol indices."""
        return self._with(design="sobol", samples=n, sobol={"second_order": second_order})

    def morris(self, n: int, levels: int = 4) -> Sweep:
        """``n`` Morris trajectories on a ``levels``-level grid."""
        return self._with(design="morris", samples=n, morris={"levels": levels})

    def plan(self) -> SweepPlan:
        """Validate the sweep (raises ScenarioError naming the field on a problem)."""
        data = {k: v for k, v in self.data.items() if v is not None}
        return build_plan(data, source=getattr(self, "source", "<Sweep>"), base_dir=self.base_dir)

    def run(self, out: str | Path = "results", workers: int = 1, scheduler: Any = None,
            fresh: bool = False, quiet: bool = True) -> SweepResult:
        """Run (or resume) the sweep; returns its results.

        Args:
            out: Results root (the sweep writes ``out/<name>/``).
            workers: Local processes.
            scheduler: A Dask scheduler address or ``distributed.Client``.
            fresh: Discard an earlier sweep of the same name.
            quiet: No progress bar.

        """
        outcome = run_sweep(self.plan(), out=out, workers=workers, scheduler=scheduler,
                            fresh=fresh, quiet=quiet)
        return SweepResult(outcome.folder, outcome)


@dataclass
class SweepResult:
    """A finished sweep's results folder, read as DataFrames.

    Attributes:
        folder: ``results/<sweep name>``.
        outcome: What the run did (runs, chunks, speed), when it was just run.

    """

    folder: Path
    outcome: SweepOutcome | None = None

    @property
    def summary(self) -> pd.DataFrame:
        """Per sample: parameters, and mean, 5th and 95th percentiles over seeds per output."""
        return pd.read_parquet(self.folder / "summary.parquet")

    @property
    def runs(self) -> pd.DataFrame:
        """Per run: run_id, sample_id, seed, parameters, diverged_step and outputs."""
        return pd.read_parquet(self.folder / "runs.parquet")

    @property
    def sensitivity(self) -> pd.DataFrame | None:
        """The Sobol or Morris table (None for other designs)."""
        path = self.folder / "sensitivity.csv"
        return pd.read_csv(path) if path.is_file() else None

    def trajectories(self, run_ids: list[int] | None = None) -> pd.DataFrame:
        """Kept trajectories (all, or of some runs), one row per (run, step, state, power)."""
        dataset = ds.dataset(self.folder / "trajectories", format="parquet")
        where = None if run_ids is None else ds.field("run_id").isin(list(run_ids))
        return dataset.to_table(filter=where).to_pandas()
