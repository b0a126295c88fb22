"""``sim calibrate``: fit the uncertain rules to the observed record (ABC-SMC).

``sim calibrate --crosscheck`` fits the same problem by neural posterior estimation instead
(:mod:`sim.history.crosscheck`, the optional ``crosscheck`` extra) and compares it with an ABC
posterior.
"""

from __future__ import annotations

import argparse

import numpy as np

from sim.batch import Progress, make_executor
from sim.cli.sweep import add_executor_options, check_executor_options
from sim.history import calibrate as cal
from sim.history import crosscheck as xc
from sim.history.abc import batch_map
from sim.history.origins import scenario_for
from sim.limits import MAX_GENERATIONS, MAX_POPULATION, check_count, check_seed

POPULATION = 2000
"""Particles per generation of the shipped fit (``--population``)."""

GENERATIONS = 12
"""Generations of the shipped fit (``--generations``)."""

FIT_ONLY = ("--population", "--generations", "--observation-noise", "--install", "--no-plot")
"""Options of the ABC fit, refused with ``--crosscheck`` (which does not fit by ABC)."""

CROSSCHECK_ONLY = ("--posterior", "--simulations", "--sbc", "--samples")
"""Options of the cross-check, refused without ``--crosscheck``."""


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sim calibrate`` to the command line."""
    parser = sub.add_parser(
        "calibrate", help="fit the uncertain parameters to the observed record (ABC-SMC)",
        description="Fit the uncertain rules (docs/CALIBRATION.md) to data/observed up to the "
                    "cut-off year with a batched ABC-SMC, and write "
                    "<out>/calibrate/<id>/: posterior.parquet, parameters.csv, "
                    "diagnostics.csv, fit.csv, marginals.png, pairs.png and manifest.json. "
                    "The shipped posterior (data/posterior) is replaced only with --install.",
    )
    parser.add_argument("scenario", nargs="?", default=None,
                        help="history scenario (default: the one written for the cut-off: "
                             "scenarios/history/2015-known-2017.yaml for 2017 and 2018, "
                             "2015.yaml for 2019 and later)")
    parser.add_argument("--observed", default=None, metavar="DIR",
                        help="observed-data folder (default: data/observed)")
    parser.add_argument("--cutoff", type=int, default=2019, metavar="YEAR",
                        help="last year fitted (default 2019; later years are left for the "
                             "hindcast)")
    parser.add_argument("--out", default="results", help="results root folder (default: results)")
    add_executor_options(parser)
    parser.add_argument("--seed", type=int, default=0, help="the fit's seed (default 0)")
    parser.add_argument("--population", type=int, default=None, metavar="N",
                        help=f"particles per generation (default {POPULATION})")
    parser.add_argument("--generations", type=int, default=None, metavar="G",
                        help=f"generations, the prior's included (default {GENERATIONS})")
    parser.add_argument("--observation-noise", type=float, default=None, metavar="SD",
                        help="noisy ABC: add normal noise of this sd to every simulated log "
                             "value, as the record is assumed to carry it (docs/CALIBRATION.md, "
                             f"'Noisy ABC'; default {cal.OBSERVATION_NOISE:g}, the shipped "
                             "fit's; 0: the plain ABC)")
    parser.add_argument("--install", action="store_true",
                        help="replace the shipped posterior, data/posterior, with this one")
    parser.add_argument("--no-plot", action="store_true", help="skip marginals.png and pairs.png")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or log lines")
    check = parser.add_argument_group(
        "cross-check (docs/CALIBRATION.md, 'Cross-check: neural posterior estimation'; needs "
        f"`{xc.INSTALL_HINT}`)")
    check.add_argument("--crosscheck", action="store_true",
                       help="instead of fitting by ABC, fit the same prior, simulator and "
                            "summaries by sbi's neural posterior estimation, compare it with "
                            "the ABC posterior of --posterior and check its calibration; "
                            "writes <out>/crosscheck/<id>/: comparison.csv, sbc.csv, "
                            "manifest.json")
    check.add_argument("--posterior", default=None, metavar="DIR",
                       help="the ABC posterior to compare with: a `sim calibrate` folder "
                            "(default: the shipped one fitted through --cutoff, "
                            "data/posterior for 2019, data/posterior-2017 for 2017)")
    check.add_argument("--simulations", type=int, default=xc.DEFAULT_SIMULATIONS, metavar="N",
                       help=f"prior draws simulated to train the network (default "
                            f"{xc.DEFAULT_SIMULATIONS:,})")
    check.add_argument("--sbc", type=int, default=xc.DEFAULT_SBC, metavar="N",
                       help=f"held-out prior draws for simulation-based calibration (default "
                            f"{xc.DEFAULT_SBC})")
    check.add_argument("--samples", type=int, default=xc.DEFAULT_SAMPLES, metavar="N",
                       help=f"NPE posterior samples at the record (default "
                            f"{xc.DEFAULT_SAMPLES:,})")
    return parser


def given(args: argparse.Namespace, option: str) -> bool:
    """Whether ``option`` was given on the command line (it differs from its default)."""
    value = getattr(args, option.lstrip("-").replace("-", "_"))
    defaults = {"--simulations": xc.DEFAULT_SIMULATIONS, "--sbc": xc.DEFAULT_SBC,
                "--samples": xc.DEFAULT_SAMPLES}
    return value not in (None, False, defaults.get(option))


def check_options(args: argparse.Namespace) -> None:
    """Refuse options of the fit with ``--crosscheck``, and of the cross-check without it."""
    wrong = [o for o in (FIT_ONLY if args.crosscheck else CROSSCHECK_ONLY) if given(args, o)]
    if wrong:
        what = ("apply to the ABC fit, which --crosscheck does not run" if args.crosscheck
                else "apply to the cross-check only: add --crosscheck")
        raise cal.CalibrationError(f"{', '.join(wrong)}: {what}")


def main(args: argparse.Namespace) -> int:
    """Run ``sim calibrate`` (or, with ``--crosscheck``, the cross-check)."""
    check_executor_options(args)
    check_seed("--seed", args.seed)
    check_options(args)
    if args.crosscheck:
        return crosscheck(args)
    args.population = POPULATION if args.population is None else args.population
    args.generations = GENERATIONS if args.generations is None else args.generations
    check_count("--population", args.population, MAX_POPULATION, "MAX_POPULATION", least=10)
    check_count("--generations", args.generations, MAX_GENERATIONS, "MAX_GENERATIONS")
    noise = args.observation_noise
    if noise is not None and not cal.valid_observation_noise(noise):
        raise cal.CalibrationError(f"--observation-noise {noise} is not allowed: give an sd "
                                   f"from 0 to {cal.MAX_OBSERVATION_NOISE:g} (of the log "
                                   "values; the record's is about 0.2)")
    scenario, observed = cal.load_inputs(args.scenario or scenario_for(args.cutoff),
                                         args.observed)
    cal.check_out(args.out)
    progress = Progress(None, 0, args.quiet, desc="calibrate")

    def log(generation) -> None:
        if not args.quiet:
            progress.write(cal.log_generation(generation))

    with make_executor(args.workers, args.scheduler) as executor, progress:
        calibration = cal.calibrate(
            scenario, observed, args.cutoff, population=args.population,
            generations=args.generations, seed=args.seed,
            map_chunks=batch_map(executor, progress), on_generation=log,
            noise_sd=cal.OBSERVATION_NOISE if noise is None else noise)
        description = executor.description or "in-process"
    run_info = {"executor": description, "workers": args.workers}
    folder = cal.write_results(calibration, scenario, args.observed, args.out, run_info,
                               plot=not args.no_plot)
    r = calibration.result
    print(f"{scenario.name}: {r.n_simulations:,} runs in {len(r.generations)} generations, "
          f"{calibration.seconds:.1f} s ({calibration.runs_per_second:,.0f} runs/s); "
          f"{r.stop_reason}")
    if not args.quiet:
        table = calibration.parameters()
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(f"fit: median distance {float(np.median(r.distances)):.4f} "
              f"(root mean square log ratio over {len(calibration.fit)} observations)")
    print(f"results: {folder}")
    if args.install:
        print(f"installed: {cal.install(folder)}")
    return 0


def crosscheck(args: argparse.Namespace) -> int:
    """Run ``sim calibrate --crosscheck``: every check first, then simulate, train, compare."""
    xc.check_settings(args.simulations, args.sbc, args.samples)
    scenario, observed = cal.load_inputs(args.scenario or scenario_for(args.cutoff),
                                         args.observed)
    abc = xc.load_abc_posterior(args.posterior or xc.default_posterior(args.cutoff),
                                args.cutoff)
    xc.require_sbi()
    cal.check_out(args.out, "crosscheck")
    progress = Progress(None, 0, args.quiet, desc="crosscheck")

    def say(line: str) -> None:
        if not args.quiet:
            progress.write(line)

    with make_executor(args.workers, args.scheduler) as executor, progress:
        check = xc.crosscheck(scenario, observed, abc, simulations=args.simulations,
                              sbc=args.sbc, samples=args.samples, seed=args.seed,
                              map_chunks=batch_map(executor, progress), on_stage=say)
        description = executor.description or "in-process"
    folder = xc.write_results(check, scenario, args.out,
                              {"executor": description, "workers": args.workers})
    if not args.quiet:
        s = check.seconds
        print(f"{scenario.name}: NPE on {check.network.used:,} runs ({check.network.epochs} "
              f"epochs), {check.simulated:,} runs simulated; {s['simulate']:.1f} s simulating, "
              f"{s['train']:.1f} s training, {s['sbc']:.1f} s calibration check")
        source = ("the ABC's final tolerance" if abc.observation_noise is None
                  else "the noisy-ABC fit's observation noise")
        print(f"against {abc.path} (noise sd {abc.noise_sd:.4f}, {source})")
        print(check.comparison.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(check.sbc.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"results: {folder}")
    return 0
