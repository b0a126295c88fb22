"""The simulator's size limits, in one place (docs/RELIABILITY.md lists them).

Each limit bounds what one command may ask for, so that a typing slip (``--replicates
100000000``, a generated file with 10,000 powers) is refused with a message naming the limit
instead of exhausting the machine's memory. Batches the simulator makes itself (a sweep's
samples) are cut into chunks instead, so they have no such limit beyond
:data:`sim.sweep.spec.MAX_SAMPLES`.
"""

from __future__ import annotations

from sim.errors import OptionError

MAX_POWERS = 50
"""Most powers a scenario may name."""

MAX_STATES = 200
"""Most states a scenario may name."""

MAX_REPLICATES = 100_000
"""Most seeds (``--replicates``) one ``sim run`` or ``sim compare`` may run; a run's arrays are
held in memory whole (use ``sim sweep``, which works in chunks, for more)."""

MAX_DRAWS = 100_000
"""Most replicates (``--draws``) of one ``sim hindcast``; each holds its observables in memory."""

MAX_POPULATION = 100_000
"""Most particles per generation (``--population``) of one ``sim calibrate``."""

MAX_GENERATIONS = 1_000
"""Most generations (``--generations``) of one ``sim calibrate``."""

MAX_WORKERS = 1_024
"""Most local worker processes (``--workers``) of any command."""

MAX_SEED = 2**63 - 1
"""The largest seed; replicate seeds ``seed, seed + 1, ...`` must all stay at or below it."""

MIN_SOBOL_SAMPLES = 16
"""Fewest base samples (N) of a Sobol sweep. Below it the estimates and their bootstrap
intervals are meaningless: with N = 1 a first-order index came out as 2.5 with an interval of
1e-16. A floor, not a recommendation: indices worth reading need N of 256 or more."""

MIN_MORRIS_SAMPLES = 4
"""Fewest trajectories of a Morris sweep: the elementary effects' mean, spread and bootstrap
interval need several (with one, sigma is 0 and the interval empty). A floor: use 10 or more."""

MAX_VALUES_CHECKED = 200
"""A sweep's listed values are each checked against the scenario up to this many; past it,
the ends and one fraction are (the schema's limits are ranges)."""


def check_replicates(replicates: int, seed: int) -> None:
    """Refuse a ``--replicates`` count that is too large, or whose seeds pass :data:`MAX_SEED`.

    Args:
        replicates: Number of seeds asked for (``seed, seed + 1, ...``).
        seed: The first seed.

    Raises:
        OptionError: Naming the option, the value and what is allowed.

    """
    if replicates < 1:
        raise OptionError(f"--replicates {replicates} is not allowed: give 1 or more")
    if replicates > MAX_REPLICATES:
        raise OptionError(f"--replicates {replicates:,} is not allowed: at most "
                          f"{MAX_REPLICATES:,} a command (sim.limits.MAX_REPLICATES); use "
                          "sim sweep, which works in chunks, for more runs")
    last = seed + replicates - 1
    if last > MAX_SEED:
        raise OptionError(f"--replicates {replicates:,} from seed {seed} would use seeds up to "
                          f"{last}, past the largest seed {MAX_SEED} (sim.limits.MAX_SEED); give "
                          f"--seed {MAX_SEED - replicates + 1} or less")


def check_count(option: str, value: int, most: int, name: str, least: int = 1) -> None:
    """Refuse a count outside ``least`` to ``most`` before any work is done.

    Args:
        option: The option (or file field) that gave it, for the message.
        value: The count.
        most: The largest allowed.
        name: The limit's name in this module (for the message).
        least: The smallest allowed.

    Raises:
        OptionError: Naming the option, the value and what is allowed.

    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionError(f"{option} {value!r} is not allowed: give a whole number from "
                          f"{least:,} to {most:,}")
    if value < least:
        raise OptionError(f"{option} {value:,} is not allowed: give {least:,} or more")
    if value > most:
        raise OptionError(f"{option} {value:,} is not allowed: at most {most:,} "
                          f"(sim.limits.{name})")


def check_seed(option: str, seed: int) -> None:
    """Refuse a seed below 0 or above :data:`MAX_SEED`.

    Raises:
        OptionError: Naming the option, the value and what is allowed.

    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise OptionError(f"{option} {seed!r} is not allowed: a seed is a whole number from 0 "
                          f"to {MAX_SEED:,} (2^63 - 1)")
