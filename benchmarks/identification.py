"""Measure identification: recover every calibrated parameter at known truths, print the widths.

The measurement of tests/test_recovery.py (:func:`sim.history.recovery.measure`: three truths,
log-normal noise sd 0.2, 500 particles and 8 generations per fit, seed 18), on the record's
observed cells of 2015-2019 or with cells added: ``--approval-cells`` adds Gallup's
``leadership_approval`` of Russia and China in the four surveyed states for each of
``--approval-years`` (default 2015-2019: 40 cells), at the same noise, to measure what the fit
could learn if those figures were found (docs/CALIBRATION.md, "Identification, measured").

Usage:
    python benchmarks/identification.py [--approval-cells [--approval-years 2018 ...]]
        [--truths 3] [--population 500] [--generations 8] [--seed 18] [--noise 0.2]
        [--plain-abc] [--sensitivity]

Each fit adds the observation noise (``--noise``) to its simulated values, as the shipped fit
does (noisy ABC, :class:`sim.history.calibrate.HistorySimulator`'s ``noise_sd``);
``--plain-abc`` fits without it, as the shipped fit did before (docs/CALIBRATION.md, "Noisy
ABC").

Prints each parameter's 90% width as a share of its prior's (per truth and the mean), whether
it is identified (mean under one half), the coverage (truths inside their 90% interval), and
the wall and CPU time with the load average at the start and the end. ``--sensitivity`` prints
instead how far each parameter, moved across the middle 70% of its prior, moves the log value
of each kind of cell (:func:`sim.history.recovery.sensitivity`), and how many combinations of
the parameters the cells tell apart (:func:`sim.history.recovery.directions`); a few seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.errors import SimError  # noqa: E402
from sim.history import calibrate as cal  # noqa: E402
from sim.history.identification import IDENTIFIED_BELOW  # noqa: E402
from sim.history.recovery import (  # noqa: E402
    GENERATIONS,
    NOISE,
    POPULATION,
    SEED,
    TRUTHS,
    Recovery,
    approval_cells,
    directions,
    measure,
    sensitivity,
)

SHORT = {
    "rules.dependence.decay.remittances": "remittance decay",
    "rules.decay.footprint": "footprint decay",
    "rules.dependence.decay.energy": "energy decay",
    "rules.dependence.weights.remittances": "remittance weight",
    "rules.hedging": "hedging",
    "rules.hedging_max_premium": "hedging premium",
    "rules.weights.footprint": "footprint weight",
    "history:events.china_investment_2015.factor": "China's budget factor",
    "history:events.russia_investment_2015.factor": "Russia's budget factor",
}
"""Short names for the table."""


def load() -> str:
    """The load average, as printed."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu() -> float:
    """CPU seconds (user + system) this process has used."""
    times = os.times()
    return times.user + times.system


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--approval-cells", action="store_true",
                        help="add leadership_approval cells (Russia, China x 4 states x years)")
    parser.add_argument("--approval-years", type=int, nargs="+", default=list(range(2015, 2020)),
                        help="the years of the added approval cells (default 2015-2019)")
    parser.add_argument("--truths", type=int, default=TRUTHS)
    parser.add_argument("--population", type=int, default=POPULATION)
    parser.add_argument("--generations", type=int, default=GENERATIONS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--noise", type=float, default=NOISE,
                        help="sd of log(observed / model)")
    parser.add_argument("--approval-noise", type=float, default=None,
                        help="sd of the added approval cells' noise (default: --noise)")
    parser.add_argument("--plain-abc", action="store_true",
                        help="fit without adding the observation noise to the simulated values "
                             "(default: each fit adds --noise, noisy ABC, as the shipped fit)")
    parser.add_argument("--sensitivity", action="store_true",
                        help="print how far each parameter moves each kind of cell, and stop")
    args = parser.parse_args(argv)
    if args.truths < 1:
        parser.error(f"--truths {args.truths}: give 1 or more")
    for flag, value in (("--noise", args.noise), ("--approval-noise", args.approval_noise)):
        if value is not None and not 0 < value <= 2:
            parser.error(f"{flag} {value}: give a value in (0, 2]")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print the tables; 2 on bad input."""
    args = arguments(argv)
    extra = approval_cells(args.approval_years) if args.approval_cells else None
    started, used, load_before = time.perf_counter(), cpu(), load()
    try:
        scenario, observed = cal.load_inputs(None, None)
        if args.sensitivity:
            table = sensitivity(scenario, observed, extra=extra)
            singular, cosines = directions(scenario, observed, extra=extra, noise=args.noise)
        else:
            measured = measure(scenario, observed, extra=extra, truths=args.truths,
                               noise=args.noise, extra_noise=args.approval_noise,
                               population=args.population,
                               generations=args.generations, seed=args.seed,
                               abc_noise=0.0 if args.plain_abc else args.noise,
                               on_fit=lambda k, fit: print(
                                   f"truth {k + 1}: {fit.result.n_simulations:,} runs, "
                                   "epsilon by generation "
                                   f"{' '.join(f'{e:.3f}' for e in fit.result.epsilons[1:])}",
                                   flush=True))
    except SimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.sensitivity:
        print(f"{'parameter':<24}{'observable':<22}{'cells':>6}{'log range rms':>15}"
              f"{'max':>8}{'soft share max':>16}")
        for row in table.itertuples():
            soft = "" if np.isnan(row.soft_range_max) else f"{row.soft_range_max:.3f}"
            print(f"{SHORT.get(row.parameter, row.parameter):<24}{row.observable:<22}"
                  f"{row.cells:>6}{row.log_range_rms:>15.3f}{row.log_range_max:>8.3f}"
                  f"{soft:>16}")
        print("combinations of the parameters, singular values of the effects (noise sd over "
              f"all the cells, across 70% of the prior): {' '.join(f'{v:.2f}' for v in singular)}")
        print("cosines between the parameters' effects on all the cells:")
        heads = "".join(f"{SHORT[n].split()[0][:8]:>9}" for n in cal.PARAMETERS)
        print(f"{'':<24}{heads}")
        for name, row in zip(cal.PARAMETERS, cosines, strict=True):
            print(f"{SHORT[name]:<24}" + "".join(f"{c:>9.2f}" for c in row))
    else:
        report(measured, args)
    print(f"wall {time.perf_counter() - started:.1f} s, CPU {cpu() - used:.1f} s; load average "
          f"at the start {load_before}, at the end {load()} ({os.cpu_count()} CPUs)")
    return 0


def report(measured: Recovery, args: argparse.Namespace) -> None:
    """Print the width table and the coverage."""
    years = ", ".join(map(str, args.approval_years))
    noise = args.noise if args.approval_noise is None else args.approval_noise
    added = (f" + {measured.added_cells} approval cells ({years}; noise sd {noise})"
             if measured.added_cells else "")
    fit = "plain ABC" if args.plain_abc else "noisy ABC (the fit adds the noise to its simulations)"
    print(f"cells: {measured.record_cells} of the record{added}; {args.truths} truths, noise sd "
          f"{args.noise}, {fit}, {args.population} particles, {args.generations} generations, "
          f"seed {args.seed}")
    share, inside = measured.width_share(), measured.inside()
    heads = "".join(f"{f'truth {k + 1}':>9}" for k in range(len(share)))
    print(f"{'parameter':<24}{heads}{'mean':>7}  identified  inside")
    for j, name in enumerate(measured.names):
        cells = "".join(f"{s:>9.2f}" for s in share[:, j])
        mean = share[:, j].mean()
        print(f"{SHORT.get(name, name):<24}{cells}{mean:>7.2f}  "
              f"{'yes' if mean < IDENTIFIED_BELOW else 'no':<10}  "
              f"{int(inside[:, j].sum())}/{len(inside)}")
    identified = measured.identified()
    print(f"identified (90% width under {IDENTIFIED_BELOW} of the prior's): {len(identified)} of "
          f"{len(measured.names)} (target: two thirds)")
    print(f"coverage: {int(inside.sum())} of {inside.size} parameter-truth pairs "
          f"({inside.mean():.0%}) inside their 90% interval (required: 80%)")


if __name__ == "__main__":
    sys.exit(main())
