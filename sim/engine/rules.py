"""The model's rules, one pure function each, vectorised over the run axis.

Each function's docstring gives its equation as coded; docs/ODD.md ("Submodels") explains them.
Shapes: R runs, S states, P powers (the reacting power p and the rival q), C = 4 channels
(invest, soft_power, diplomacy, destabilise), K resource sectors.
"""

from __future__ import annotations

import numpy as np

from sim.scenario import RULES

LINEAR, THRESHOLD, TIT_FOR_TAT = RULES.index("linear"), RULES.index("threshold"), RULES.index(
    "tit_for_tat"
)
INVEST, SOFT_POWER, DIPLOMACY, DESTABILISE = range(4)


def sum_powers(values: np.ndarray) -> np.ndarray:
    """Sum over the last (powers) axis by adding slices: fast for a handful of powers.

    numpy's reduction over a short innermost axis is slow; adding the slices in a fixed order
    is faster and just as deterministic.
    """
    total = values[..., 0].copy()
    for q in range(1, values.shape[-1]):
        total += values[..., q]
    return total


def state_risk(
    stability: np.ndarray, disputes: np.ndarray, instability_weight: np.ndarray,
    dispute_weight: np.ndarray,
) -> np.ndarray:
    """Risk of each state: clip(w_i (1 - stability) + w_d disputes, 0, 1), shape (R, S)."""
    raw = instability_weight[:, None] * (1.0 - stability) + dispute_weight[:, None] * disputes
    return np.clip(raw, 0.0, 1.0)


def investment_gate(risk: np.ndarray, tolerance: np.ndarray, softness: np.ndarray) -> np.ndarray:
    """Fraction of planned investment a power makes in a state, shape (R, S, P).

    gate = logistic((tolerance_p - risk_s) / softness): one half at the tolerance, near one
    well below it, near zero well above it.

    Args:
        risk: (R, S) state risk.
        tolerance: (R, S, P) each power's risk tolerance, repeated over states.
        softness: (R,) width of the gate.
    """
    z = tolerance - risk[:, :, None]
    z *= 0.5 / softness[:, None, None]
    np.tanh(z, out=z)
    z += 1.0
    z *= 0.5
    return z


def channel_allocation(
    allocation: np.ndarray, resource_interest: np.ndarray, resources: np.ndarray
) -> np.ndarray:
    """Fraction of each channel's budget each power spends in each state, shape (R, C, S, P).

    Every channel follows the power's allocation weights a[p, s]; investment is further pulled
    toward resources: a[p, s] (1 + sum_k interest[p, k] resources[s, k]). Each column is
    normalised to sum to one over states (all zero if the power allocates nothing).
    """
    pull = 1.0 + np.einsum("rpk,rsk->rsp", resource_interest, resources)
    base = np.transpose(allocation, (0, 2, 1))  # (R, S, P)
    invest = base * pull

    def normalise(weights: np.ndarray) -> np.ndarray:
        total = weights.sum(axis=1, keepdims=True)
        return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)

    other = normalise(base)
    out = np.repeat(other[:, None], 4, axis=1)
    out[:, INVEST] = normalise(invest)
    return out


def spend(
    budget_allocation: np.ndarray, budget_scale: np.ndarray, effort: np.ndarray,
    max_multiplier: np.ndarray, gate: np.ndarray, blocked_to_soft_power: np.ndarray,
) -> np.ndarray:
    """Spend of each power in each state this quarter by channel, USD millions, (R, C, S, P).

    planned = budget[p, c] x allocation[c, s, p] x scale[p, c] x min(1 + effort[s, p], ceiling);
    invest = planned_invest x gate; a fraction ``blocked_to_soft_power`` of the blocked
    investment is spent on soft power instead. A power's total spend over channels never
    exceeds its total budget x scale x ceiling.

    Args:
        budget_allocation: budget[p, c] x allocation[c, s, p], shape (R, C, S, P).
        budget_scale: (R, P, C) multipliers from budget-change events.
        effort: (R, S, P) reactive effort.
        max_multiplier: (R, S, P) spend ceiling as a multiple of the budget.
        gate: (R, S, P) investment gate.
        blocked_to_soft_power: (R,) share of blocked investment moved to soft power.
    """
    multiplier = effort + 1.0
    np.minimum(multiplier, max_multiplier, out=multiplier)
    planned = np.empty_like(budget_allocation)
    for c in range(planned.shape[1]):
        np.multiply(budget_allocation[:, c], multiplier, out=planned[:, c])
    if (budget_scale != 1.0).any():  # multiplying by exactly 1 would change nothing
        planned *= np.transpose(budget_scale, (0, 2, 1))[:, :, None, :]
    invest = planned[:, INVEST] * gate
    blocked = planned[:, INVEST] - invest
    planned[:, INVEST] = invest
    planned[:, SOFT_POWER] += blocked_to_soft_power[:, None, None] * blocked
    return planned


def reception(share: np.ndarray, openness: np.ndarray, hedging: np.ndarray) -> np.ndarray:
    """How much of a dollar from each power a state lets turn into stock, (R, S, P).

    eff = openness_s x exp(hedging x (L[s, p] - I[s, p])), where L[s, p] is the largest share
    held by any other power. A state hedges: the more a power already holds relative to its
    strongest rival, the less its next dollar buys; the more dominant that rival, the more a
    newcomer's dollar buys (a counterweight is welcome). ``share`` and ``openness`` are
    (R, S, P), ``hedging`` (R,).
    """
    n_powers = share.shape[2]
    gap = np.zeros_like(share)
    if n_powers > 1:
        # Largest share among the other powers: running maxima from the left and the right.
        left = [np.zeros_like(share[..., 0])]
        for q in range(n_powers - 1):
            left.append(np.maximum(left[-1], share[..., q]))
        right = np.zeros_like(share[..., 0])
        for q in range(n_powers - 1, -1, -1):
            gap[..., q] = np.maximum(left[q], right)
            right = np.maximum(right, share[..., q])
    gap -= share
    gap *= hedging[:, None, None]
    np.exp(gap, out=gap)
    gap *= openness
    return gap


def update_stocks(
    footprint: np.ndarray, goodwill: np.ndarray, diplomatic: np.ndarray, spend: np.ndarray,
    effectiveness: np.ndarray, decay: np.ndarray, visible_diplomatic_gain: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decay the stocks, then add what this quarter's spend buys.

    E' = (1 - d_E) E + eff x invest;  G' = (1 - d_G) G + eff x soft_power;
    D' = (1 - d_D) D + eff x (diplomacy + k_v x v_p x invest), where k_v is the diplomatic
    gain of visible investment and v_p the power's visibility.

    Args:
        footprint: (R, S, P) economic footprint, USD millions.
        goodwill: (R, S, P) goodwill.
        diplomatic: (R, S, P) diplomatic capital.
        spend: (R, C, S, P) this quarter's spend.
        effectiveness: (R, S, P) from :func:`reception`.
        decay: (R, 3) decay rates of footprint, goodwill, diplomatic capital.
        visible_diplomatic_gain: (R, S, P) k_v x v_p.
    """
    keep = 1.0 - decay[:, None, None, :]
    dipl = visible_diplomatic_gain * spend[:, INVEST]
    dipl += spend[:, DIPLOMACY]
    dipl *= effectiveness
    new_footprint = keep[..., 0] * footprint
    new_footprint += effectiveness * spend[:, INVEST]
    new_goodwill = keep[..., 1] * goodwill
    new_goodwill += effectiveness * spend[:, SOFT_POWER]
    new_diplomatic = keep[..., 2] * diplomatic
    new_diplomatic += dipl
    return new_footprint, new_goodwill, new_diplomatic


def update_stability(
    stability: np.ndarray, target: np.ndarray, recovery: np.ndarray,
    destabilise_spend: np.ndarray, destabilise_per_usd_m: np.ndarray,
    campaign_loss: np.ndarray, noise: np.ndarray | None,
) -> np.ndarray:
    """Stability after a quarter, clipped to [0, 1], shape (R, S).

    s' = s + recovery (target - s) - k x sum_p destabilise_spend[s, p] - campaigns + noise.
    A value that overflowed to infinity becomes NaN (not clipped into [0, 1]): a divergence.
    """
    new = stability + recovery[:, None] * (target - stability)
    new -= destabilise_per_usd_m[:, None] * sum_powers(destabilise_spend)
    new -= campaign_loss
    if noise is not None:
        new += noise
    clipped = np.clip(new, 0.0, 1.0)
    if not np.isfinite(new).all():  # an overflowed sum is a divergence, not a stability of 0
        clipped[~np.isfinite(new)] = np.nan
    return clipped


def perceived(visibility: np.ndarray, reaction_gain: np.ndarray) -> np.ndarray:
    """How loud each power's moves look to rivals: 1 + gain x (2 v - 1).

    Args:
        visibility: (R, ...) visibility, e.g. (R, S, P) per state and power.
        reaction_gain: (R,) the model-wide gain.
    """
    gain = reaction_gain.reshape(-1, *([1] * (visibility.ndim - 1)))
    return 1.0 + gain * (2.0 * visibility - 1.0)


def react(
    rule: np.ndarray, effort: np.ndarray, share: np.ndarray, spend_total: np.ndarray,
    base_spend: np.ndarray, loudness: np.ndarray, sensitivity: np.ndarray,
    threshold: np.ndarray, grievance: np.ndarray, restraint: np.ndarray, record: bool = True,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Each power's reactive effort after watching its rivals, per state.

    For power p watching rival q in state s, with q's loudness there v_q = :func:`perceived`:

    - linear (Richardson): signal = v_q x effort[s, q]; change = sensitivity x signal.
    - threshold: signal = v_q x I[s, q]; change = sensitivity x max(0, signal - threshold).
    - tit-for-tat: signal = v_q x spend[s, q] (USD millions); p's effort is raised at least to
      sensitivity x signal / base_spend[s, p] - 1, so its spend matches the rival's.

    effort' = max(0, effort + sum_q change + sum_q grievance - restraint x effort), then at least
    every tit-for-tat target. Grievance counts only for pairs with a rule.

    Args:
        rule: (P, P) rule codes, shared by the batch.
        effort: (R, S, P) current effort.
        share: (R, S, P) influence shares.
        spend_total: (R, S, P) last quarter's spend over all channels.
        base_spend: (R, S, P) the power's spend in the state at zero effort.
        loudness: (R, S, P) perceived loudness of each power in each state.
        sensitivity: (R, P, P) per ordered pair [p, q].
        threshold: (R, P, P) perceived share past which a threshold rule reacts.
        grievance: (R, P, P) constant effort added per quarter.
        restraint: (R, S, P), each power's restraint repeated over states.
        record: Whether to return the signals and responses (for the moves log).

    Returns:
        (effort', signal, response), the last two (R, S, P, P) indexed [run, state, p, q],
        or None when ``record`` is false.
    """
    R, S, P = effort.shape
    signal = np.zeros((R, S, P, P), dtype=effort.dtype) if record else None
    response = np.zeros((R, S, P, P), dtype=effort.dtype) if record else None
    floor = None
    drift = restraint * effort
    np.negative(drift, out=drift)
    seen_cache: dict[tuple[int, int], np.ndarray] = {}
    for p, q in zip(*np.nonzero(rule), strict=True):
        code = int(rule[p, q])
        seen = seen_cache.get((code, q))
        if seen is None:
            source = {LINEAR: effort, THRESHOLD: share, TIT_FOR_TAT: spend_total}[code]
            seen = loudness[:, :, q] * source[:, :, q]
            seen_cache[(code, q)] = seen
        sens = sensitivity[:, p, q, None]
        if code == LINEAR:
            change = sens * seen
        elif code == THRESHOLD:
            change = seen - threshold[:, p, q, None]
            np.maximum(change, 0.0, out=change)
            change *= sens
        else:
            own = base_spend[:, :, p]
            target = np.divide(sens * seen, own, out=np.zeros_like(own), where=own > 0)
            target -= 1.0
            floor = np.zeros_like(effort) if floor is None else floor
            np.maximum(floor[:, :, p], target, out=floor[:, :, p])
            change = np.zeros_like(own)
        change += grievance[:, p, q, None]
        if record:
            signal[:, :, p, q] = seen
            response[:, :, p, q] = change
        drift[:, :, p] += change
    drift += effort
    np.maximum(drift, 0.0, out=drift)
    if floor is not None:
        np.maximum(drift, floor, out=drift)
    return drift, signal, response
