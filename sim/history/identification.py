"""Which calibrated parameters the record identifies, as the recovery test measured it.

The recovery test (tests/test_recovery.py, slow tier; docs/CALIBRATION.md, "Identification,
measured") fits every calibrated parameter at three truths with observation noise at the fit's
level, and measures each parameter's 90% interval as a share of its prior's width. A parameter
whose share is not below :data:`IDENTIFIED_BELOW` is *unidentified*: the fit barely narrows its
prior, so its posterior is the prior again. ``sim calibrate`` names such parameters in the
posterior's manifest (``calibration.unidentified``), and ``--uncertainty posterior`` keeps them
out of a forecast's draws: the scenario's own value stands (docs/ODD.md 7.10), instead of a
prior-wide draw that would move even the starting quarter's shares.
"""

from __future__ import annotations

from collections.abc import Iterable

IDENTIFIED_BELOW = 0.5
"""A parameter is identified when its recovered 90% width is below this share of its prior's
(issue 18, item 2)."""

RECOVERY_WIDTH: dict[str, float] = {
    "rules.dependence.decay.remittances": 0.16,
    "rules.decay.footprint": 0.30,
    "history:events.china_investment_2015.factor": 0.53,
    "history:events.russia_investment_2015.factor": 0.65,
    "rules.dependence.decay.energy": 0.81,
    "rules.dependence.weights.remittances": 0.88,
    "rules.hedging": 0.88,
    "rules.hedging_max_premium": 0.90,
    "rules.weights.footprint": 0.91,
}
"""Each calibrated parameter's recovered 90% width as a share of its prior's, the mean over the
recovery test's three truths (500 particles, 8 generations, noise sd 0.2; measured on the
calibration of docs/CALIBRATION.md). tests/test_recovery.py checks these against a fresh
measurement, so a change to the model or the fit that moves a parameter across
:data:`IDENTIFIED_BELOW` fails there until this table is remeasured."""


def unidentified(names: Iterable[str]) -> list[str]:
    """The fitted parameters that are not identified, in the order given.

    A parameter the recovery test has not measured counts as unidentified: nothing shows
    the record narrows it.

    Args:
        names: Calibrated parameter names (posterior columns).

    Returns:
        The names whose recovered width share is missing or at least :data:`IDENTIFIED_BELOW`.
    """
    return [n for n in names if RECOVERY_WIDTH.get(n, 1.0) >= IDENTIFIED_BELOW]
