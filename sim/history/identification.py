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

from collections.abc import Iterable, Sequence

IDENTIFIED_BELOW = 0.5
"""A parameter is identified when its recovered 90% width is below this share of its prior's
(issue 18, item 2)."""

RECOVERY_WIDTH: dict[str, float] = {
    "rules.dependence.decay.remittances": 0.32,
    "rules.dependence.decay.energy": 0.78,
    "rules.decay.footprint": 0.89,
    "history:events.china_investment_2015.factor": 0.89,
    "history:events.russia_investment_2015.factor": 0.89,
    "rules.dependence.weights.remittances": 0.90,
    "rules.hedging": 0.91,
    "rules.hedging_max_premium": 0.90,
    "rules.weights.footprint": 0.89,
}
"""Each calibrated parameter's recovered 90% width as a share of its prior's, the mean over the
recovery test's three truths (500 particles, 8 generations, noise sd 0.2 on the records and in
the fit's own simulations, noisy ABC, as the shipped fit; docs/CALIBRATION.md, "Identification,
measured"). tests/test_recovery.py checks these against a fresh measurement, so a change to the
model or the fit that moves a parameter across :data:`IDENTIFIED_BELOW` fails there until this
table is remeasured."""


AT_BOUND_SHARE = 0.05
"""How near a bound of its prior, as a share of the prior's width, a posterior's mass is looked
for (:func:`bound_limited`)."""

BOUND_QUANTILES = (0.10, 0.90)
"""The posterior quantiles :func:`bound_limited` reads: a flat posterior puts 5% of its mass
within :data:`AT_BOUND_SHARE` of each bound, so a posterior is bound-limited only when at least
twice that, 10%, lies there (its 10th percentile that near the low bound, or its 90th that near
the high one). A rule on the 5th and 95th percentiles would be met by a flat posterior by chance
(its 5th percentile sits at exactly 5% of the width)."""


def bound_limited(parameters: dict[str, tuple[float, float]],
                  p10: Sequence[float], p90: Sequence[float]) -> list[str]:
    """The fitted parameters whose posterior piles up at a bound of its prior, in the order given.

    Identification (the recovery test) is measured at truths inside the prior. On the record a
    posterior can instead pile up at a bound: the data would take the parameter past it, so the
    prior, not the data, sets where the posterior ends and its centre is an artefact of the
    bound (the energy decay: its 10th percentile at -0.0282 against a bound of -0.03; the
    fit would have energy ties grow, absorbing what the model lacks to fit 2015-2019 trade).
    ``sim calibrate`` names such parameters in the manifest
    (``calibration.bound_limited``), and forecasts do not draw them either. A posterior that is
    the prior again (flat) is not bound-limited: it is unidentified (:func:`unidentified`).

    Args:
        parameters: Name to prior (low, high), in the fit's order.
        p10: Each parameter's posterior 10th percentile (:data:`BOUND_QUANTILES`), same order.
        p90: Each parameter's posterior 90th percentile, same order.

    Returns:
        The names whose 10th percentile is within :data:`AT_BOUND_SHARE` of the prior width of
        the low bound, or whose 90th percentile is that near the high bound: at least twice the
        mass a flat posterior puts there.
    """
    named = []
    for (name, (low, high)), lo, hi in zip(parameters.items(), p10, p90, strict=True):
        margin = AT_BOUND_SHARE * (high - low)
        if lo - low < margin or high - hi < margin:
            named.append(name)
    return named


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
