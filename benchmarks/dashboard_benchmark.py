"""Benchmark the dashboard's live what-if: what one slider move and one Step cost.

Times, side by side in one process, the parts of a slider move (building the scenario from the
sliders, the engine batch of 16 seeds x 40 quarters, drawing the figure's background) and of a
cursor move (one frame of the figure, PNG-encoded), each the median of --repeat calls with a
different slider value each time.

Usage: python benchmarks/dashboard_benchmark.py [--repeat 7]

Prints a table of median and best wall times in milliseconds, with the load average before
and after (the machine may be shared: quote times with the load).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import app  # noqa: E402

SCENARIO = ROOT / "scenarios" / "baseline.yaml"


def timed(fn) -> tuple[float, object]:
    """Wall time of one call, seconds, and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    load_before = os.getloadavg()
    app.WhatIfFigure(app.recompute(SCENARIO)).png(0)  # warm up: imports, font cache
    times: dict[str, list[float]] = {"scenario from the sliders": [], "engine batch": [],
                                     "recompute (both)": [], "figure background": [],
                                     "slider move (all above)": [], "cursor frame (PNG)": []}
    for i in range(args.repeat):
        budget = 150.0 + 10 * (i + 1)
        t_scenario, _ = timed(lambda b=budget: app.what_if_scenario(
            SCENARIO, japan_invest_budget=b))
        t_recompute, what_if = timed(lambda b=budget: app.recompute(
            SCENARIO, japan_invest_budget=b))
        t_figure, figure = timed(lambda w=what_if: app.WhatIfFigure(w))
        t_frame, _ = timed(lambda f=figure, c=i: f.png(5 * c % 41))
        times["scenario from the sliders"].append(t_scenario)
        times["engine batch"].append(what_if.seconds)
        times["recompute (both)"].append(t_recompute)
        times["figure background"].append(t_figure)
        times["slider move (all above)"].append(t_recompute + t_figure)
        times["cursor frame (PNG)"].append(t_frame)
    load_after = os.getloadavg()
    print(f"dashboard what-if: {app.SEEDS} seeds x 40 quarters, {args.repeat} repeats; "
          f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
          f"({os.cpu_count()} cores)")
    print(f"{'step':<28}{'median ms':>12}{'best ms':>10}")
    for name, values in times.items():
        print(f"{name:<28}{1000 * statistics.median(values):>12.0f}"
              f"{1000 * min(values):>10.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
