"""Scenario discovery: under which parameter values does an outcome happen?

A sweep varies some scenario fields and records each run's outcomes (``runs.parquet``, see
:mod:`sim.sweep.store`). Given a condition on those outcomes, e.g.
``influence_end_japan > 0.08``, the Patient Rule Induction Method (PRIM; Friedman and Fisher
1999, as used for scenario discovery by Bryant and Lempert 2010) looks for a *box*, a range
for each varied parameter, that holds many of the runs where the condition is true and few of
the others. It starts from the box that holds every run and repeatedly *peels* off the
``alpha`` fraction of the remaining runs from one side of one parameter, the peel that raises
the share of runs with the outcome most, until the box holds too few runs; the boxes so
visited are the *peeling trajectory*. Two numbers describe each box:

- coverage: of all the runs with the outcome, the share inside the box;
- density: of the runs inside the box, the share with the outcome.

Peeling trades coverage for density. The box reported is chosen by :data:`RULE`: the
highest-density box whose coverage is at least ``min_coverage``.

PRIM is ema_workbench's (:class:`ema_workbench.analysis.prim.Prim`, lenient objective,
pasting after peeling). ema_workbench is imported only when a discovery runs: it takes a few
seconds to import, and its warnings and log records are kept out of the command's output.

Typical use::

    from sim.decide.discover import Discovery, discover, write_discovery
    found = discover("results/china_reaction", Discovery("influence_end_japan > 0.08"))
    found.box_table()
    folder = write_discovery(found)
"""

from __future__ import annotations

import hashlib
import json
import logging
import shlex
import sys
import warnings
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from sim.decide.outcome import OutcomeError, evaluate_columns, parse_outcome
from sim.errors import SimError
from sim.outputs.folders import (
    atomic_folder,
    git_commit,
    read_json_file,
    versions,
    write_csv,
    write_json,
)
from sim.outputs.plots import OKABE_ITO, pyplot, save
from sim.outputs.units import folder_units

RULE = ("the highest-density box on the peeling trajectory whose coverage is at least "
        "min_coverage (ties: the higher coverage)")
"""How the reported box is chosen from the peeling trajectory."""

MASS_MIN = 0.05
"""PRIM stops peeling before a box would hold fewer than this share of all runs."""


class DiscoverError(SimError):
    """A discovery that cannot be made: no such sweep, a bad outcome expression or option."""


@dataclass(frozen=True)
class Discovery:
    """What to discover: the outcome and PRIM's options.

    Attributes:
        outcome: A condition on the runs table in the grammar of :mod:`sim.decide.outcome`,
            e.g. ``influence_end_japan > 0.08``; field paths go in backticks
            (```powers.japan.risk_tolerance` < 0.3``).
        min_coverage: The chosen box holds at least this share of the runs with the outcome.
        threshold: PRIM's density threshold: a box is kept only if its density reaches it.
        alpha: The share of the box's runs peeled off at each step (PRIM's peel alpha).

    """

    outcome: str
    min_coverage: float = 0.5
    threshold: float = 0.8
    alpha: float = 0.05

    def check(self) -> None:
        """Refuse options outside their ranges.

        Raises:
            DiscoverError: Naming the option, its value and what is allowed.

        """
        if not self.outcome.strip():
            raise DiscoverError("--outcome is empty; give a condition such as "
                                "'influence_end_japan > 0.08'")
        checks = (("--min-coverage", self.min_coverage, 0.0 <= self.min_coverage <= 1.0, "[0, 1]"),
                  ("--threshold", self.threshold, 0.0 < self.threshold <= 1.0, "(0, 1]"),
                  ("--alpha", self.alpha, 0.0 < self.alpha < 0.5, "(0, 0.5)"))
        for option, value, ok, allowed in checks:
            if not ok:
                raise DiscoverError(f"{option} {value:g} is outside {allowed}")

    def digest(self) -> str:
        """SHA-256 of the outcome expression and the options (names the results folder)."""
        text = json.dumps(asdict(self) | {"outcome": self.outcome.strip()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Found:
    """The result of a discovery.

    Attributes:
        folder: The sweep's results folder.
        sweep: The sweep's name.
        discovery: The outcome and options.
        parameters: The sweep's varied parameters (field paths), in the sweep's order.
        labels: Plain name of each parameter (the field path where the sweep gives none).
        n_runs: Runs in the sweep.
        n_outcome: Runs with the outcome.
        trajectory: One row per box on the peeling trajectory: ``box``, ``coverage``,
            ``density``, ``mass`` (share of all runs in the box), ``n_runs``, ``n_outcome``,
            ``restricted`` (parameters restricted), ``chosen``.
        limits: One DataFrame per box (rows 0 and 1: lower and upper limit; a column per
            parameter); limits are inclusive.
        ranges: The lowest and highest value of each parameter over the runs.
        chosen: Index of the chosen box.

    """

    folder: Path
    sweep: str
    discovery: Discovery
    parameters: list[str]
    labels: dict[str, str]
    n_runs: int
    n_outcome: int
    trajectory: pd.DataFrame
    limits: list[pd.DataFrame] = field(repr=False)
    ranges: pd.DataFrame = field(repr=False)
    chosen: int = 0

    def box_table(self, box: int | None = None) -> pd.DataFrame:
        """The limits of a box (default: the chosen one), a row per parameter.

        Columns: ``parameter`` (plain name), ``path`` (field path), ``lower``, ``upper``
        (inclusive), ``restricted`` (whether the box narrows the sweep's range), ``sweep_min``,
        ``sweep_max`` (the range over the sweep's runs).
        """
        lim = self.limits[self.chosen if box is None else box]
        rows = []
        for path in self.parameters:
            low, high = float(lim.loc[0, path]), float(lim.loc[1, path])
            first, last = float(self.ranges.loc[0, path]), float(self.ranges.loc[1, path])
            rows.append({"parameter": self.labels[path], "path": path, "lower": low,
                         "upper": high, "restricted": bool(low > first or high < last),
                         "sweep_min": first, "sweep_max": last})
        return pd.DataFrame(rows)

    def all_boxes(self) -> pd.DataFrame:
        """Every box's limits in long form: ``box``, ``path``, ``lower``, ``upper``."""
        rows = [{"box": i, "path": path, "lower": float(lim.loc[0, path]),
                 "upper": float(lim.loc[1, path])}
                for i, lim in enumerate(self.limits) for path in self.parameters]
        return pd.DataFrame(rows)

    @property
    def destination(self) -> Path:
        """Where the results go: ``<sweep folder>/discover/<digest>/``."""
        return self.folder / "discover" / self.discovery.digest()[:12]


def read_sweep(folder: str | Path) -> tuple[dict, pd.DataFrame]:
    """Read a finished sweep's plan.json and runs.parquet.

    Raises:
        DiscoverError: If the folder is missing, is not a sweep results folder, or the sweep
            has not finished.

    """
    folder = Path(folder)
    needs = "a sweep results folder written by sim sweep, e.g. results/china_reaction"
    give = f"give {needs}"
    plan_file = folder / "plan.json"
    plan = read_json_file(folder, "plan.json", DiscoverError, needs, "a sweep results folder")
    if not isinstance(plan.get("paths"), list):
        raise DiscoverError(f"{plan_file}: not a sweep plan (no list of 'paths'); {give}")
    runs_file = folder / "runs.parquet"
    if not runs_file.is_file():
        raise DiscoverError(f"{folder}: the sweep has not finished (no runs.parquet); run "
                            "the same sim sweep command again to finish it")
    try:
        runs = pd.read_parquet(runs_file)
    except (OSError, ValueError) as exc:
        raise DiscoverError(f"{runs_file}: not a readable Parquet file ({exc})") from None
    missing = [p for p in plan["paths"] if p not in runs.columns]
    if missing:
        raise DiscoverError(f"{runs_file}: no column for the swept parameter(s) "
                            f"{', '.join(missing)}; the folder does not match its plan.json")
    return plan, runs


def parameter_labels(plan: dict) -> dict[str, str]:
    """Plain name of each swept parameter: the sweep's ``label`` for it, else its field path."""
    specs = plan.get("sweep", {}).get("parameters", {})
    return {p: str((specs.get(p) or {}).get("label") or p) for p in plan["paths"]}


class _Columns(dict):
    """The runs table's columns as numpy arrays, converted when an outcome first uses them."""

    def __init__(self, runs: pd.DataFrame, source: str):
        super().__init__()
        self.runs, self.source = runs, source

    def __missing__(self, name: str) -> np.ndarray:
        column = self.runs[name]
        if pd.api.types.is_bool_dtype(column.dtype) or not pd.api.types.is_numeric_dtype(
                column.dtype):
            raise DiscoverError(f"--outcome: column {name!r} of {self.source} holds "
                                f"{column.dtype} values, not numbers; compare number columns")
        if isinstance(column.dtype, np.dtype):
            values = column.to_numpy()
        else:  # a nullable pandas type: missing values become NaN
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        self[name] = values
        return values


def evaluate_outcome(runs: pd.DataFrame, outcome: str, source: str) -> np.ndarray:
    """Evaluate the outcome condition on each run.

    The outcome is parsed by :mod:`sim.decide.outcome` (a grammar of its own: columns, numbers,
    comparisons, arithmetic, and/or/not, parentheses) and evaluated on numpy columns; no Python
    is evaluated.

    Args:
        runs: The runs table.
        outcome: A condition; it must give true or false for each run. Comparisons with NaN
            (a diverged run's outputs) are false.
        source: The runs file, for messages.

    Returns:
        A boolean array, one value per run.

    Raises:
        DiscoverError: If the expression does not parse, names an unknown column, or is not a
            condition.

    """
    try:
        node = parse_outcome(outcome, runs.columns, "--outcome", source)
    except OutcomeError as exc:
        raise DiscoverError(str(exc)) from None
    return evaluate_columns(node, _Columns(runs, source), len(runs))


def _prim_module():
    """Import ema_workbench's prim module quietly (its import warns about optional extras)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from ema_workbench.analysis import prim
            from ema_workbench.util.ema_logging import LOGGER_NAME
        except ImportError as exc:
            raise DiscoverError(f"scenario discovery needs ema_workbench ({exc}); install it "
                                "with: pip install -e '.[decide]'") from None
    # A handler on ema_workbench's logger keeps its records off stderr unless the caller's
    # own logging configuration shows them.
    ema_logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(h, logging.NullHandler) for h in ema_logger.handlers):
        ema_logger.addHandler(logging.NullHandler())
    return prim


def peel(x: pd.DataFrame, y: np.ndarray, threshold: float, alpha: float):
    """Run PRIM for one box and return it (an ema_workbench ``PrimBox``), or None.

    Args:
        x: The parameters, a column each (float).
        y: Whether each run has the outcome.
        threshold: PRIM's density threshold.
        alpha: PRIM's peel alpha.

    Returns:
        The box with its peeling trajectory, or None when the densest box falls short of the
        threshold (ema_workbench then keeps no trajectory).

    """
    prim = _prim_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = prim.Prim(x, y.astype(int), threshold=threshold, peel_alpha=alpha,
                          mass_min=MASS_MIN)
        box = model.find_box()
    if len(box.peeling_trajectory) == 1 and box.density < threshold:
        return None
    return box


def choose(trajectory: pd.DataFrame, min_coverage: float) -> int:
    """The box :data:`RULE` chooses: the densest with coverage at least ``min_coverage``.

    The first box (every run) has coverage 1, so a box always qualifies.
    """
    eligible = trajectory[trajectory["coverage"] >= min_coverage - 1e-12]
    order = eligible.sort_values(["density", "coverage"], ascending=False, kind="stable")
    return int(order.index[0])


def discover(folder: str | Path, discovery: Discovery) -> Found:
    """Find the PRIM box of an outcome over a sweep's varied parameters.

    Args:
        folder: A finished sweep's results folder.
        discovery: The outcome and options.

    Returns:
        The peeling trajectory and the chosen box.

    Raises:
        DiscoverError: On a missing or foreign folder, a bad outcome or options, an outcome
            that no run (or every run) has, or no box dense enough for the threshold.

    """
    discovery.check()
    folder = Path(folder)
    plan, runs = read_sweep(folder)
    y = evaluate_outcome(runs, discovery.outcome, str(folder / "runs.parquet"))
    n_outcome, n_runs = int(y.sum()), len(y)
    if n_outcome in (0, n_runs):
        which = "no run" if n_outcome == 0 else "every run"
        raise DiscoverError(f"--outcome {discovery.outcome!r} holds for {which} of the "
                            f"{n_runs:,} runs in {folder}; there is nothing to tell apart. "
                            "Change the condition (e.g. its threshold value)")
    parameters = list(plan["paths"])
    x = runs[parameters].astype(np.float64).reset_index(drop=True)
    box = peel(x, y, discovery.threshold, discovery.alpha)
    if box is None:
        best = peel(x, y, np.nextafter(0.0, 1.0), discovery.alpha)
        densest = float(best.peeling_trajectory["density"].max())
        raise DiscoverError(f"PRIM found no box with a density of at least --threshold "
                            f"{discovery.threshold:g} for {discovery.outcome!r} (the densest "
                            f"box it reached has {densest:.1%}); give a lower --threshold")
    raw = box.peeling_trajectory
    trajectory = pd.DataFrame({
        "box": raw["id"].astype(int).to_numpy(),
        "coverage": raw["coverage"].astype(float).to_numpy(),
        "density": raw["density"].astype(float).to_numpy(),
        "mass": raw["mass"].astype(float).to_numpy(),
        "n_runs": raw["n"].astype(int).to_numpy(),
        "n_outcome": raw["k"].astype(int).to_numpy(),
        "restricted": raw["res_dim"].astype(int).to_numpy(),
    })
    chosen = choose(trajectory, discovery.min_coverage)
    trajectory["chosen"] = trajectory.index == chosen
    ranges = pd.DataFrame([x.min(), x.max()]).reset_index(drop=True)
    return Found(folder=folder, sweep=str(plan.get("name", folder.name)), discovery=discovery,
                 parameters=parameters, labels=parameter_labels(plan), n_runs=n_runs,
                 n_outcome=n_outcome, trajectory=trajectory,
                 limits=[lim.reset_index(drop=True) for lim in box.box_lims],
                 ranges=ranges, chosen=chosen)


def tradeoff_figure(found: Found):
    """Coverage against density along the peeling trajectory, the chosen box marked."""
    from matplotlib.ticker import MaxNLocator, PercentFormatter


    t = found.trajectory
    fig, ax = pyplot().subplots(figsize=(6.4, 4.6))
    ax.plot(t["coverage"], t["density"], color="#999999", linewidth=0.8, zorder=1)
    for i, count in enumerate(sorted(t["restricted"].unique())):
        part = t[t["restricted"] == count]
        ax.scatter(part["coverage"], part["density"], s=22, zorder=2,
                   color=OKABE_ITO[i % len(OKABE_ITO)],
                   label=f"{count} parameter{'s' if count != 1 else ''} restricted")
    pick = t.loc[found.chosen]
    ax.scatter([pick["coverage"]], [pick["density"]], s=160, facecolors="none",
               edgecolors="black", linewidths=1.6, zorder=3,
               label=f"chosen box {int(pick['box'])}: coverage {pick['coverage']:.0%}, "
                     f"density {pick['density']:.0%}")
    ax.axvline(found.discovery.min_coverage, color="black", linestyle=":", linewidth=1,
               label=f"minimum coverage {found.discovery.min_coverage:.0%}")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.xaxis.set_major_locator(MaxNLocator(6))
    ax.set_xlabel("coverage: share of the runs with the outcome inside the box")
    ax.set_ylabel("density: share of the box's runs\nwith the outcome")
    ax.set_title(f"{found.sweep}: {found.discovery.outcome}\n"
                 f"PRIM peeling trajectory ({found.n_outcome:,} of {found.n_runs:,} runs "
                 "have the outcome)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False, loc="lower left")
    fig.tight_layout()
    return fig


def _limits_text(row) -> str:
    """A box's range of one parameter in words: 'a to b', 'at least a' or 'at most b'."""
    low = row.lower > row.sweep_min
    high = row.upper < row.sweep_max
    if low and high:
        return f"{row.lower:.4g} to {row.upper:.4g}"
    return f"at least {row.lower:.4g}" if low else f"at most {row.upper:.4g}"


def format_report(found: Found) -> str:
    """The chosen box as plain text: its coverage and density and its limits."""
    t = found.trajectory.loc[found.chosen]
    d = found.discovery
    inside, total = int(t["n_outcome"]), int(t["n_runs"])
    lines = [
        f"{found.sweep}: {d.outcome}",
        f"  {found.n_outcome:,} of {found.n_runs:,} runs have the outcome "
        f"({found.n_outcome / found.n_runs:.1%})",
        f"  PRIM's trajectory has {len(found.trajectory)} boxes (alpha {d.alpha:g}); chosen: "
        f"box {int(t['box'])}, the densest with coverage at least {d.min_coverage:.0%}",
        f"  coverage {t['coverage']:.1%}: {inside:,} of the {found.n_outcome:,} runs with the "
        "outcome are in the box",
        f"  density {t['density']:.1%}: {inside:,} of the box's {total:,} runs have the outcome",
        "",
    ]
    table = found.box_table()
    shown = table[table["restricted"]]
    if shown.empty:
        lines.append("  the box restricts no parameter (it is the whole sweep)")
    else:
        texts = [_limits_text(row) for row in shown.itertuples()]
        width = max(len("parameter"), *(len(p) for p in shown["parameter"]))
        middle = max(len("in the box"), *(len(text) for text in texts))
        lines.append(f"  {'parameter':<{width}}  {'in the box':<{middle}}  sweep range")
        for row, text in zip(shown.itertuples(), texts, strict=True):
            lines.append(f"  {row.parameter:<{width}}  {text:<{middle}}  "
                         f"{row.sweep_min:.4g} to {row.sweep_max:.4g}")
    free = table.loc[~table["restricted"], "parameter"].tolist()
    if free and not shown.empty:
        lines.append(f"  any value of: {', '.join(free)}")
    return "\n".join(lines)


def write_discovery(found: Found, plot: bool = True) -> Path:
    """Write ``<sweep folder>/discover/<digest>/`` atomically.

    Files: ``trajectory.csv`` (:attr:`Found.trajectory`), ``box.csv`` (the chosen box,
    :meth:`Found.box_table`), ``boxes.csv`` (every box's limits, :meth:`Found.all_boxes`),
    ``tradeoff.png`` (:func:`tradeoff_figure`) and ``manifest.json`` (the outcome, options,
    rule, counts and chosen box, versions and command).

    Returns:
        The folder written.

    """
    destination = found.destination
    pick = found.trajectory.loc[found.chosen]
    with atomic_folder(destination) as tmp:
        write_csv(found.trajectory, tmp / "trajectory.csv")
        write_csv(found.box_table(), tmp / "box.csv")
        write_csv(found.all_boxes(), tmp / "boxes.csv")
        if plot:
            save(tradeoff_figure(found), tmp / "tradeoff.png")
        write_json({
            "kind": "discovery",
            "units": folder_units(tmp),
            "sweep": found.sweep,
            "sweep_folder": str(found.folder),
            "digest": found.discovery.digest(),
            "outcome": found.discovery.outcome,
            "options": {"min_coverage": found.discovery.min_coverage,
                        "threshold": found.discovery.threshold,
                        "alpha": found.discovery.alpha, "mass_min": MASS_MIN},
            "rule": RULE,
            "method": "PRIM (ema_workbench.analysis.prim.Prim, lenient1 objective, pasting)",
            "n_runs": found.n_runs,
            "n_outcome": found.n_outcome,
            "chosen_box": int(pick["box"]),
            "coverage": float(pick["coverage"]),
            "density": float(pick["density"]),
            "parameters": found.labels,
            "versions": versions() | {"ema_workbench": version("ema_workbench")},
            "git_commit": git_commit(),
            "command": shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        }, tmp / "manifest.json")
    return destination
