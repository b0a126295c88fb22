"""Approval of a partner's leadership: the survey observable that depends on influence.

Gallup's World Poll asks adults in Kazakhstan, Kyrgyzstan, Tajikistan and Uzbekistan (not
Turkmenistan) whether they approve of the job performance of the leadership of Russia, China
and others (docs/ODD.md section 7.11; data/observed/approval.csv). The model reads it from the
stocks that stand for being liked and listened to, goodwill G and diplomatic capital D:

    soft[s, p] = (w_G G[s, p] + w_D D[s, p]) / sum_q (w_G G[s, q] + w_D D[s, q])

the partner's share of the soft-power and diplomatic attraction of the three powers in the
state (the goodwill and diplomatic terms of the influence share's attraction, ODD 7.5; the
investment footprint, which is not liked or disliked but owned, left out), averaged over the
year's four quarters (the survey is fielded through the year), and

    approval[s, p] = 1 / (1 + exp(-(APPROVAL_LEVEL + APPROVAL_SLOPE x soft[s, p])))

a logistic, so approval stays a share of adults in (0, 1). The two parameters are set so that
the model's approval of Russia and China, averaged over the four surveyed states in 2014, is the
average Gallup reports for 2006-2018 (Russia 80%, China 46%; McGlinchey and Laruelle 2019,
data/observed/README.md); no country-year figure of 2015-2019 was found to fit them on.
"""

from __future__ import annotations

import numpy as np

from sim.engine.params import Params
from sim.engine.state import WorldState

APPROVAL_LEVEL = -3.594
"""alpha: the logit of approval of a partner with no goodwill or diplomatic capital (2.7%)."""

APPROVAL_SLOPE = 9.064
"""beta: the change of logit approval per unit of soft share (fraction): at the history
scenario's 2014 stocks, mean soft share 0.549 for Russia and 0.379 for China over the four
surveyed states give 80% and 46%."""

SURVEYED = ("kazakhstan", "kyrgyzstan", "tajikistan", "uzbekistan")
"""The states Gallup's World Poll asks (Turkmenistan is not surveyed)."""


def soft_share(state: WorldState, params: Params) -> np.ndarray:
    """The partners' soft-power and diplomatic share of attraction, this quarter (R, S, P)."""
    w = params.weights.astype(np.float64)[:, None, None, :]
    soft = (w[..., 1] * state.goodwill.astype(np.float64)
            + w[..., 2] * state.diplomatic.astype(np.float64))
    total = soft.sum(axis=2, keepdims=True)
    return np.divide(soft, total, out=np.zeros_like(soft), where=total > 0)


def approval(soft: np.ndarray) -> np.ndarray:
    """Share of adults approving of each partner's leadership, from the year's mean soft share."""
    return 1.0 / (1.0 + np.exp(-(APPROVAL_LEVEL + APPROVAL_SLOPE * soft)))


def soft_of_approval(share: np.ndarray) -> np.ndarray:
    """The soft share that gives this approval: the inverse of :func:`approval`.

    Any survey question whose answer rises with the soft share ranks the powers as the soft
    share does, so comparing soft shares read back from the model's approval with the order a
    different question gives (relations rated good, favourable views) needs no assumption about
    that question's level.
    """
    share = np.asarray(share, dtype=np.float64)
    return (np.log(share / (1.0 - share)) - APPROVAL_LEVEL) / APPROVAL_SLOPE
