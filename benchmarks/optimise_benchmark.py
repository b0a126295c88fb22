"""Speed of the robust policy search (``sim optimise``), with the machine's load average.

Rows:

1. the engine alone, one batch of 4,096 runs (one chunk of the shipped search: 64 candidates x
   64 draws) to 2030Q4, in this process;
2. the shipped search, ``scenarios/optimise/japan_allocation.yaml``, through the command line
   with ``--workers 2`` (wall time of the whole command: start-up, search, evaluation, files),
   and the runs per second of its search as its manifest reports them (time waiting for the
   engine's chunks);
3. the same with ``--workers 1`` and a tenth of the generations (``--quick`` shortens row 2 the
   same way).

Usage::

    python benchmarks/optimise_benchmark.py            # about 3 minutes on 2 idle cores
    python benchmarks/optimise_benchmark.py --quick    # 25 generations instead of 250

Other processes on the machine slow every row: the 1-minute load average is printed before and
after each row.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHIPPED = ROOT / "scenarios" / "optimise" / "japan_allocation.yaml"


def load() -> str:
    """The 1-minute load average and the number of CPUs, as text."""
    return f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


def engine_row(runs: int = 4096) -> tuple[str, int, float, str]:
    """One engine batch of the searched scenario (baseline to 2030Q4)."""
    from sim.engine import compile_scenario, make_batch, repeat, simulate
    from sim.scenario import load_scenario

    before = load()
    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml", steps=23)
    structure, params = compile_scenario(scenario)
    batch = make_batch(structure, repeat(params, runs), np.arange(runs), record_reactions=False)
    start = time.perf_counter()
    simulate(batch, on_divergence="flag")
    return "engine, one batch (23 quarters), 1 process", runs, \
        time.perf_counter() - start, before


def search_row(workers: int, generations: int | None) -> tuple[str, int, float, str, dict]:
    """The shipped search through the command line; returns its manifest too."""
    before = load()
    with tempfile.TemporaryDirectory() as tmp:
        file = SHIPPED
        if generations is not None:
            data = yaml.safe_load(SHIPPED.read_text())
            data["optimiser"]["generations"] = generations
            data["scenario"] = str((SHIPPED.parent / data["scenario"]).resolve())
            data["uncertainty"] = str((SHIPPED.parent / data["uncertainty"]).resolve())
            file = Path(tmp) / "search.yaml"
            file.write_text(yaml.safe_dump(data))
        env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", "optimise", str(file), "--out", tmp,
                        "--workers", str(workers), "--quiet"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        manifest = json.loads((Path(tmp) / "optimise" / "japan_allocation" /
                               "manifest.json").read_text())
    label = f"sim optimise --workers {workers}, {manifest['file']['optimiser']['generations']} gen."
    return label, manifest["runs"]["total"], wall, before, manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="25 generations instead of 250")
    args = parser.parse_args()
    rows = []
    label, runs, seconds, before = engine_row()
    rows.append((label, runs, seconds, runs / seconds, before, load()))
    for workers, generations in ((2, 25 if args.quick else None), (1, 25)):
        label, runs, seconds, before, manifest = search_row(workers, generations)
        rows.append((label + " (wall)", runs, seconds, runs / seconds, before, load()))
        rows.append((label + " (search only)", manifest["runs"]["search"],
                     manifest["runs"]["search"] / manifest["runs_per_second"],
                     manifest["runs_per_second"], before, load()))
    print(f"{'what':<52} {'runs':>10} {'seconds':>8} {'runs/s':>8}  load before -> after")
    for label, runs, seconds, rate, before, after in rows:
        print(f"{label:<52} {runs:>10,} {seconds:>8.1f} {rate:>8,.0f}  {before} -> {after}")


if __name__ == "__main__":
    main()
