"""The model's rules, one pure function each, vectorised over the run axis.

Each function's docstring gives its equation as coded; docs/ODD.md ("Submodels") explains them.
Shapes: R runs, S states, P powers (the reacting power p and the rival q), C channels (the
kinds of move of ``sim.scenario.MOVES``), K resource sectors.
"""

from __future__ import annotations

import numpy as np

from sim.scenario import CHANNELS, DESTABILISATION, FALLBACK, INVESTMENT, MOVES, RULES

LINEAR, THRESHOLD, TIT_FOR_TAT = RULES.index("linear"), RULES.index("threshold"), RULES.index(
    "tit_for_tat"
)
INVEST = CHANNELS.index(INVESTMENT)
"""The investment channel: reactive spending, resource pull, visible diplomatic gain, capacity."""
SOFT_POWER = CHANNELS.index(FALLBACK)
"""The channel that takes part of the risk-gated spending the gate blocks."""
DESTABILISE = CHANNELS.index(DESTABILISATION)
"""The channel whose spend lowers stability."""
GATED = tuple(c for c, m in enumerate(MOVES) if m.risk_gated)
"""The channels gated by risk."""
STOCK_ORDER = ("footprint", "goodwill", "diplomatic")
"""The stocks, in the order of the decay and weight axes."""
BUILDS = tuple(tuple(c for c, m in enumerate(MOVES) if m.stock == stock) for stock in STOCK_ORDER)
"""For each stock, the channels whose spend builds it."""


def sum_powers(values: np.ndarray) -> np.ndarray:
    """Sum over the last (powers) axis by adding slices: fast for a handful of powers.

    numpy's reduction over a short innermost axis is slow; adding the slices in a fixed order
    is faster and just as deterministic.
    """
    total = values[..., 0].copy()
    for q in range(1, values.shape[-1]):
        total += values[..., q]
    return total


def over_powers(op: np.ufunc, values: np.ndarray, other: np.ndarray,
                out: np.ndarray | None = None) -> np.ndarray:
    """``op(values, other[..., None])`` computed power by power: fast for a handful of powers.

    numpy is several times slower when it broadcasts along a short innermost axis than on long
    runs of elements; applying ``op`` to each power's slice gives the same numbers, bit for bit.

    Args:
        op: A binary ufunc (np.multiply, np.divide, np.subtract...).
        values: (..., P).
        other: (...), the shape of ``values`` without its powers axis.
        out: Where to write (may be ``values``); a new array of numpy's result dtype when None.
    """
    if out is None:
        out = np.empty(values.shape, dtype=np.result_type(values, other))
    for q in range(values.shape[-1]):
        op(values[..., q], other, out=out[..., q])
    return out


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
    z = over_powers(np.subtract, tolerance, risk)
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
    out = np.repeat(other[:, None], len(CHANNELS), axis=1)
    out[:, INVEST] = normalise(invest)
    return out


def spend(
    budget_allocation: np.ndarray, budget_scale: np.ndarray, effort: np.ndarray,
    gate: np.ndarray, blocked_to_soft_power: np.ndarray, pressure_share: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Spend of each power in each state this quarter, USD millions.

    base = budget[p, c] x allocation[c, s, p] x scale[p, c]; the reactive spending R[s, p]
    (``effort``) is split: a fraction ``pressure_share`` is leverage on rivals (returned apart:
    it buys the reacting power nothing) and the rest is invested where the rival gained.
    invest = (base_invest + (1 - pressure_share) R) x gate; a fraction ``blocked_to_soft_power``
    of the blocked investment is spent on soft power instead.

    Args:
        budget_allocation: budget[p, c] x allocation[c, s, p], shape (R, C, S, P).
        budget_scale: (R, P, C) multipliers from budget-change events.
        effort: (R, S, P) reactive spending, USD millions per quarter.
        gate: (R, S, P) investment gate.
        blocked_to_soft_power: (R,) share of blocked investment moved to soft power.
        pressure_share: (R,) share of reactive spending used as leverage.

    Returns:
        (spend by channel (R, C, S, P), each channel's (R, S, P) block contiguous; pressure
        spending (R, S, P)).
    """
    # Each kind's block is contiguous in memory (the returned array is a (R, C, S, P) view of a
    # (C, R, S, P) one): every later rule works on one kind at a time.
    scaled = (budget_scale != 1.0).any()  # multiplying by exactly 1 would change nothing
    dtype = np.result_type(budget_allocation, budget_scale) if scaled else budget_allocation.dtype
    planned = np.moveaxis(np.empty((budget_allocation.shape[1], *effort.shape), dtype=dtype), 0, 1)
    if scaled:
        np.multiply(budget_allocation, np.transpose(budget_scale, (0, 2, 1))[:, :, None, :],
                    out=planned)
    else:
        np.copyto(planned, budget_allocation)
    share = pressure_share[:, None, None]
    pressure = share * effort
    planned[:, INVEST] += effort - pressure
    for c in GATED:
        gated = planned[:, c] * gate
        blocked = planned[:, c] - gated
        planned[:, c] = gated
        planned[:, SOFT_POWER] += blocked_to_soft_power[:, None, None] * blocked
    return planned, pressure


def absorb(spent: np.ndarray, capacity: np.ndarray) -> None:
    """Ration investment to each state's absorptive capacity, in place.

    With demand D_s = sum_p invest[s, p], every power's investment in s is scaled by
    min(1, K_s / D_s) (:func:`absorbed_fraction`): the pool of projects, licences and offtake is
    shared in proportion to what each power brings, so one power's extra investment crowds out
    the others'.

    Args:
        spent: (R, C, S, P) spend; its invest channel is changed.
        capacity: (R, S) USD millions per quarter, finite (no limit: the dtype's largest value).
    """
    invest = spent[:, INVEST]
    over_powers(np.multiply, invest, absorbed_fraction(sum_powers(invest), capacity), out=invest)


def absorbed_fraction(demand: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """min(1, K / D) for investment's hard pool, 1 where nothing is asked (same shape as D).

    Args:
        demand: D, the powers' investment summed over powers; overwritten with the result.
        capacity: K, finite (no limit: the dtype's largest value).
    """
    np.maximum(demand, capacity, out=demand)
    return np.divide(capacity, demand, out=demand)


def saturate(spent: np.ndarray, channel: int, scale: np.ndarray) -> None:
    """Ration one kind of move to each state's absorptive scale, smoothly, in place.

    With demand D_s = sum_p spend[c, s, p] and scale K_s, the state absorbs
    A_s = K_s (1 - exp(-D_s / K_s)) of it, shared pro rata: every power's spend in s is scaled
    by A_s / D_s (:func:`saturated_fraction`). The first dollars are absorbed in full (slope 1
    at D = 0), the marginal dollar buys exp(-D_s / K_s) (1/e at the scale), and no amount buys
    more than K_s a quarter; one power's extra spend lowers what the others' buy (the pool is
    shared).

    Args:
        spent: (R, C, S, P) spend; channel ``channel`` is changed.
        channel: The kind of move's index.
        scale: (R, S) K_s, USD millions per quarter, > 0 and finite.
    """
    flow = spent[:, channel]
    over_powers(np.multiply, flow, saturated_fraction(sum_powers(flow), scale), out=flow)


def saturated_fraction(demand: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """A / D = K (1 - exp(-D / K)) / D, the share of the demand a state absorbs (shape of D).

    Args:
        demand: D, summed over powers, >= 0.
        scale: K, > 0 and finite.

    Returns:
        A / D, 1 where nothing is asked.
    """
    ratio = demand / scale
    absorbed = -np.expm1(-ratio)  # 1 - exp(-D / K), exact for small D / K
    return np.divide(absorbed, ratio, out=np.ones_like(ratio), where=ratio > 0)


def ration(spent: np.ndarray, scale: np.ndarray, channels: tuple[int, ...]) -> None:
    """Ration every limited kind of move to the states' absorptive scales, in place.

    Investment keeps its shared pool with a hard capacity (:func:`absorb`); every other kind
    saturates smoothly at its scale (:func:`saturate`). One kind at a time: fast when each
    kind's block is contiguous, as :func:`spend` returns it.

    Args:
        spent: (R, C, S, P) spend.
        scale: (R, C, S) absorptive scales, USD millions per quarter (no limit: the dtype's
            largest value).
        channels: The kinds of move with a finite scale in some state.
    """
    for c in channels:
        if c == INVEST:
            absorb(spent, scale[:, c])
        else:
            saturate(spent, c, scale[:, c])


def pressure_on(
    pressure: np.ndarray, leverage_share: np.ndarray, targets: np.ndarray,
    inflow: np.ndarray,
) -> np.ndarray:
    """Leverage each power faces in each state, (R, S, P) indexed by the rival q.

    on[s, q] = sum_p T[p, q] x lev[s, p] x pressure[s, p] / inflow[s], where lev[s, p] is the
    reacting power's structural share in s (its leverage: debt, trade access, migration,
    security ties), T[p, q] spreads p's pressure over the rivals it reacts to, and inflow[s] is
    the state's usual inflow from all the powers (USD millions per quarter).
    """
    weighted = leverage_share * pressure
    out = np.zeros_like(weighted)
    for p, q in zip(*np.nonzero(targets), strict=True):  # a handful of pairs: no einsum
        out[:, :, q] += float(targets[p, q]) * weighted[:, :, p]
    over_powers(np.divide, out, inflow, out=out)
    return out


def hedging_factor(share: np.ndarray, hedging: np.ndarray,
                   max_premium: np.ndarray) -> np.ndarray:
    """How much more (or less) a state lets a power's dollar buy as a counterweight, (R, S, P).

    factor = exp(clip(h x (L[s, p] - I[s, p]), -log(1 + M), log(1 + M))), where L[s, p] is the
    largest share held by any other power and M the largest premium: a newcomer facing a
    dominant rival gets at most 1 + M times parity, a dominant power at least 1 / (1 + M).
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
    bound = np.log1p(max_premium)[:, None, None]
    np.maximum(gap, -bound, out=gap)  # clip to [-bound, bound] (np.clip with array bounds
    np.minimum(gap, bound, out=gap)  # is several times slower)
    np.exp(gap, out=gap)
    return gap


def reception(
    share: np.ndarray, openness: np.ndarray, hedging: np.ndarray, max_premium: np.ndarray,
    pressure: np.ndarray, leverage: np.ndarray, modifier: np.ndarray | None,
) -> np.ndarray:
    """How much of a dollar from each power a state lets turn into stock, (R, S, P).

    eff = openness_s x hedging_factor x modifier / (1 + leverage x on[s, p]), with ``on``
    from :func:`pressure_on` and ``modifier`` the events' effects (platforms raise a power's
    reception, sanctions lower it; None for none).

    Args:
        share: (R, S, P) influence shares.
        openness: (R, S) openness.
        hedging: (R,) hedging strength h.
        max_premium: (R,) the largest hedging premium M.
        pressure: (R, S, P) leverage each power faces (:func:`pressure_on`).
        leverage: (R,) how strongly leverage lowers reception.
        modifier: (R, S, P) event multipliers, or None.
    """
    eff = hedging_factor(share, hedging, max_premium)
    over_powers(np.multiply, eff, openness, out=eff)
    if modifier is not None:
        eff *= modifier
    resist = pressure * leverage[:, None, None]
    resist += 1.0
    eff /= resist
    return eff


def update_dependence(scale: np.ndarray, decay: np.ndarray) -> np.ndarray:
    """Structural dependence after a quarter: dep' = (1 - decay_c) dep.

    The engine keeps dependence as its value before decay times a per-run factor per channel
    (:attr:`sim.engine.state.WorldState.dependence_scale`), so this updates the (R, 4)
    factor: scale' = (1 - decay_c) scale.
    """
    return scale * (1.0 - decay)


def stock_keep(decay: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """What each stock keeps of itself a quarter, 1 - d, spread over states and powers.

    Args:
        decay: (R, 3) decay rates, in :data:`STOCK_ORDER`.
        shape: (R, S, P).

    Returns:
        (3, R, S, P), contiguous for each stock.
    """
    keep = np.moveaxis(1.0 - decay, 1, 0)[:, :, None, None]
    return np.ascontiguousarray(np.broadcast_to(keep, (decay.shape[1], *shape)))


def update_stocks(
    footprint: np.ndarray, goodwill: np.ndarray, diplomatic: np.ndarray, spend: np.ndarray,
    effectiveness: np.ndarray, decay: np.ndarray, visible_diplomatic_gain: np.ndarray,
    keep: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decay the stocks, then add what this quarter's spend buys.

    E' = (1 - d_E) E + eff x invest;  G' = (1 - d_G) G + eff x soft_power;
    D' = (1 - d_D) D + eff x (diplomacy + k_v x v_p x invest), where k_v is the diplomatic
    gain of visible investment and v_p the power's visibility. In general each stock gains
    eff x the spend of every kind of move whose ``stock`` is it (``sim.scenario.MOVES``).

    Args:
        footprint: (R, S, P) economic footprint, USD millions.
        goodwill: (R, S, P) goodwill.
        diplomatic: (R, S, P) diplomatic capital.
        spend: (R, C, S, P) this quarter's spend.
        effectiveness: (R, S, P) from :func:`reception`.
        decay: (R, 3) decay rates of footprint, goodwill, diplomatic capital.
        visible_diplomatic_gain: (R, S, P) k_v x v_p.
        keep: :func:`stock_keep` of ``decay`` when the caller has it (a batch computes it once).
    """
    keep = stock_keep(decay, footprint.shape) if keep is None else keep
    old = (footprint, goodwill, diplomatic)
    new = []
    for i, channels in enumerate(BUILDS):
        stock = keep[i] * old[i]
        if STOCK_ORDER[i] == "diplomatic":  # visible investment buys diplomatic capital too
            inflow = visible_diplomatic_gain * spend[:, INVEST]
            for c in channels:
                inflow += spend[:, c]
            inflow *= effectiveness
            stock += inflow
        else:
            for c in channels:
                stock += effectiveness * spend[:, c]
        new.append(stock)
    return new[0], new[1], new[2]


def update_stability(
    stability: np.ndarray, target: np.ndarray, recovery: np.ndarray,
    destabilise_spend: np.ndarray, destabilise_per_usd_m: np.ndarray,
    campaign_loss: np.ndarray | None, noise: np.ndarray | None,
) -> np.ndarray:
    """Stability after a quarter, clipped to [0, 1], shape (R, S).

    s' = s + recovery (target - s) - k x sum_p destabilise_spend[s, p] - campaigns + noise.
    A value that overflowed to infinity becomes NaN (not clipped into [0, 1]): a divergence.
    """
    new = stability + recovery[:, None] * (target - stability)
    new -= destabilise_per_usd_m[:, None] * sum_powers(destabilise_spend)
    if campaign_loss is not None:  # None: no campaign (subtracting zeros changes nothing)
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


def graded_excess(excess: np.ndarray, width: np.ndarray) -> np.ndarray:
    """How far a signal is past a threshold, graded over a ramp of the given width.

    ramp_w(x) = 0 for x <= -w/2;  (x + w/2)^2 / (2 w) for -w/2 < x < w/2;  x for x >= w/2,
    with x = signal - threshold: the sharp hinge max(0, x) with its corner rounded over
    [-w/2, w/2] (continuous with a continuous slope, never decreasing in x, never below the
    hinge's value less w/8). w = 0 is exactly max(0, x).

    Args:
        excess: (R, S) signal - threshold.
        width: (R, 1) the ramp's width w >= 0, or (R, S).
    """
    half = 0.5 * width
    with np.errstate(divide="ignore", invalid="ignore"):
        out = excess + half
        np.square(out, out=out)
        out /= 2.0 * width  # (x + w/2)^2 / (2 w), then the two outer pieces over it
    np.copyto(out, 0.0, where=~(excess > -half))
    np.copyto(out, excess, where=excess >= half)
    return out.astype(excess.dtype, copy=False)


def react(
    rule: np.ndarray, effort: np.ndarray, share: np.ndarray,
    past_share: dict[tuple[int, int], np.ndarray] | None,
    gain_signal: np.ndarray, spend_total: np.ndarray, base_spend: np.ndarray,
    loudness: np.ndarray, sensitivity: np.ndarray, threshold: np.ndarray,
    grievance: np.ndarray, restraint: np.ndarray, ceiling: np.ndarray, record: bool = True,
    width: np.ndarray | None = None, reserve: np.ndarray | None = None,
    means: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Each power's reactive spending after watching its rivals, per state (USD m a quarter).

    For power p watching rival q in state s, with q's loudness there v_q = :func:`perceived`:

    - linear (Richardson): signal = v_q x R[s, q]; change = sensitivity x signal (USD m).
    - threshold: signal = v_q x I[s, q] (level) or v_q x (I[s, q] - I[s, q] w quarters ago)
      (gain); change = sensitivity x ramp_w(signal - threshold) x M[s, p], with
      ramp_w = :func:`graded_excess` (max(0, .) when the width w is 0) and M the power's
      means (``means``: its reserve, in any state; its base spend there if it has none).
    - tit-for-tat: signal = v_q x spend[s, q] (USD m); p's reactive spending is raised at
      least to sensitivity x signal - base[s, p], so its total spend matches the rival's.

    R' = min(ceiling, max(0, R + sum_q change + sum_q grievance - restraint x R), at least every
    tit-for-tat target), then scaled to the power's reserve over all states
    (:func:`within_reserve`). Grievance counts only for pairs with a rule.

    Args:
        rule: (P, P) rule codes, shared by the batch.
        effort: (R, S, P) reactive spending R.
        share: (R, S, P) influence shares.
        past_share: For each pair (p, q) that watches a gain, the shares (R, S, P) of the
            quarter ``window[p, q]`` quarters ago; None if no reaction watches a gain.
        gain_signal: (P, P) whether the pair's threshold rule watches a gain.
        spend_total: (R, S, P) last quarter's spend over all channels.
        base_spend: (R, S, P) the power's spend in the state with no reaction.
        loudness: (R, S, P) perceived loudness of each power in each state.
        sensitivity: (R, P, P) per ordered pair [p, q], or spread over the states pair by
            pair, (P, P, R, S), as :class:`sim.engine.step.Batch` keeps it; so may be the
            threshold, the grievance and the width.
        threshold: (R, P, P) perceived share (or gain) past which a threshold rule reacts.
        grievance: (R, P, P) USD millions added per quarter.
        restraint: (R, S, P), each power's restraint repeated over states.
        ceiling: (R, S, P) the most reactive spending a state can take from a power.
        record: Whether to return the signals and responses (for the moves log).
        width: (R, P, P) width of each threshold's ramp, or None for sharp steps.
        reserve: (R, P) the most reactive spending each power can make over all the states
            in a quarter, USD millions (:func:`within_reserve`), or None for no limit.
        means: (R, S, P) what a threshold reaction is scaled by, USD millions per quarter: the
            power's reserve (the same in every state), or its base spend in the state for a
            power with no reserve; None: the base spend everywhere.

    Returns:
        (R', signal, response), the last two (R, S, P, P) indexed [run, state, p, q],
        or None when ``record`` is false.
    """
    R, S, P = effort.shape
    signal = np.zeros((R, S, P, P), dtype=effort.dtype) if record else None
    response = np.zeros((R, S, P, P), dtype=effort.dtype) if record else None
    floor = None
    drift = restraint * effort
    np.negative(drift, out=drift)
    seen_cache: dict[tuple[int, int, int], np.ndarray] = {}
    for p, q in zip(*np.nonzero(rule), strict=True):
        code = int(rule[p, q])
        gain = bool(gain_signal[p, q])
        key = (code, q, p if gain else -1)
        seen = seen_cache.get(key)
        if seen is None:
            if gain:
                source = share - past_share[(p, q)]
            else:
                source = {LINEAR: effort, THRESHOLD: share, TIT_FOR_TAT: spend_total}[code]
            seen = loudness[:, :, q] * source[:, :, q]
            seen_cache[key] = seen
        sens = _pair(sensitivity, p, q)
        if code == LINEAR:
            change = sens * seen
        elif code == THRESHOLD:
            change = seen - _pair(threshold, p, q)
            ramp = None if width is None else _pair(width, p, q)
            if ramp is not None and ramp.any():
                change = graded_excess(change, ramp)
            else:
                np.maximum(change, 0.0, out=change)
            change *= sens
            change *= (base_spend if means is None else means)[:, :, p]
        else:
            target = sens * seen
            target -= base_spend[:, :, p]
            floor = np.zeros_like(effort) if floor is None else floor
            np.maximum(floor[:, :, p], target, out=floor[:, :, p])
            change = np.zeros_like(target)
        change += _pair(grievance, p, q)
        if record:
            signal[:, :, p, q] = seen
            response[:, :, p, q] = change
        drift[:, :, p] += change
    drift += effort
    np.maximum(drift, 0.0, out=drift)
    if floor is not None:
        np.maximum(drift, floor, out=drift)
    np.minimum(drift, ceiling, out=drift)
    if reserve is not None:
        within_reserve(drift, reserve)
    return drift, signal, response


def _pair(values: np.ndarray, p: int, q: int) -> np.ndarray:
    """Pair (p, q)'s values, (R, 1) from an (R, P, P) array or (R, S) from a spread one.

    An array already spread over the states, (P, P, R, S), gives the pair's contiguous block:
    the same numbers, without numpy's slow broadcasting along the short states axis.
    """
    return values[:, p, q, None] if values.ndim == 3 else values[p, q]


def within_reserve(effort: np.ndarray, reserve: np.ndarray) -> None:
    """Scale each power's reactive spending down to its reserve, pro rata over states, in place.

    x[s, p] <- x[s, p] min(1, Q_p / sum_s' x[s', p]), with Q_p = reserve_p x B_p the power's
    reserve in USD millions per quarter (B_p its regional budget): a power answers with its
    means, anywhere, and where it answers in several states at once the reserve is shared.

    Args:
        effort: (R, S, P) reactive spending, USD millions per quarter.
        reserve: (R, P) Q_p, USD millions per quarter (inf: no limit).
    """
    total = effort[:, 0].copy()  # (R, P): the states added one by one (as numpy's sum does,
    for s in range(1, effort.shape[1]):  # without its slow reduction over a middle axis)
        total += effort[:, s]
    over = total > reserve
    if over.any():
        scale = np.where(over, reserve / np.where(over, total, 1.0), 1.0)
        effort *= scale[:, None, :].astype(effort.dtype)
