"""The step function: advance every run of a batch by one quarter.

``step(state, batch) -> state`` is pure: everything a run depends on is in the state, the
batch's parameters and its seeds. The order within a quarter (docs/ODD.md, "Process overview")
is: events, risk, spend, reception, stocks and stability, shares, reactions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from sim.engine import rules
from sim.engine.events import apply_events
from sim.engine.params import Params, Structure
from sim.engine.random import STREAM_RECEPTION, STREAM_STABILITY, normal
from sim.engine.state import (
    WorldState,
    influence_shares,
    initial_state,
    structural_attraction,
)
from sim.errors import DivergenceError
from sim.scenario import MOVES


@dataclass(frozen=True)
class Batch:
    """A batch of runs ready to step: structure, parameters, seeds and derived constants.

    Attributes:
        structure: Shared structure.
        params: Per-run parameters (R runs).
        seeds: Per-run seeds (R,), uint64.
        budget_allocation: Budget spent in each state at zero effort, by channel (R, C, S, P),
            each channel's (R, S, P) block contiguous (a view of a (C, R, S, P) array).
        base_spend: Each power's total spend in each state at zero effort (R, S, P).
        visibility: Each power's visibility in each state (R, S, P): its ``visibility``, or
            ``visibility_by_state`` where set.
        loudness: How loud each power looks to rivals in each state (R, S, P).
        tolerance: Risk tolerance repeated over states (R, S, P).
        ceiling: The most reactive spending each power can make in each state, USD millions
            per quarter: (max_spend_multiplier - 1) x base spend (inf: no ceiling) (R, S, P).
        restraint: Restraint repeated over states (R, S, P).
        targets: How each power's leverage is spread over the rivals it reacts to (P, P).
        inflow: Each state's usual inflow from all the powers, USD millions per quarter (R, S).
        capacity: Each state's absorptive scale by kind of move (R, C, S), USD millions per
            quarter, with "no limit" as the dtype's largest value (so the rationing needs no
            special case); each kind's (R, S) block is contiguous (a view of a (C, R, S) array).
        rationed: The kinds of move with a finite scale in some state (rules.ration).
        visible_diplomatic_gain: Diplomatic capital per USD invested, k_v x v_p (R, S, P).
        sensitivity: Each ordered pair's reaction sensitivity, spread over the states pair by
            pair, (P, P, R, S): pair (p, q)'s block is contiguous.
        threshold: Each pair's reaction threshold (P, P, R, S).
        grievance: Each pair's grievance, USD millions per quarter (P, P, R, S).
        width: Each pair's threshold ramp width (P, P, R, S).
        keep: What each stock keeps of itself a quarter, 1 - decay (3, R, S, P)
            (``rules.stock_keep``).
        record_reactions: Whether steps keep each pair's signal and response (for logs).
        graded: Whether any threshold reaction has a ramp of non-zero width.
        reserve: Each power's reserve, the most reactive spending it can make over all the
            states in a quarter (R, P), USD millions: ``reserve`` x its regional budget; None
            when no power has one.
        means: What each power's threshold reactions are scaled by (R, S, P), USD millions
            per quarter: its reserve in every state, or its base spend in the state where it
            has no reserve; None when no power has one.

    The (R, S, P) copies exist for speed: numpy is several times faster on whole contiguous
    arrays than when it broadcasts along a short middle axis.
    """

    structure: Structure
    params: Params
    seeds: np.ndarray
    budget_allocation: np.ndarray
    base_spend: np.ndarray
    visibility: np.ndarray
    loudness: np.ndarray
    tolerance: np.ndarray
    ceiling: np.ndarray
    restraint: np.ndarray
    targets: np.ndarray
    inflow: np.ndarray
    capacity: np.ndarray
    rationed: tuple[int, ...]
    visible_diplomatic_gain: np.ndarray
    sensitivity: np.ndarray
    threshold: np.ndarray
    grievance: np.ndarray
    width: np.ndarray
    keep: np.ndarray
    record_reactions: bool = True
    graded: bool = False
    reserve: np.ndarray | None = None
    means: np.ndarray | None = None

    @property
    def n_runs(self) -> int:
        """Number of runs."""
        return self.params.n_runs


def make_batch(
    structure: Structure, params: Params, seeds: np.ndarray | list[int] | int,
    record_reactions: bool = True,
) -> Batch:
    """Prepare a batch: check seeds and compute the constants every step uses.

    Args:
        structure: From :func:`sim.engine.params.compile_scenario`.
        params: R runs' parameters.
        seeds: One seed per run (or one seed for a batch of one).
        record_reactions: Keep each pair's reaction signal and response in the state (needed
            for the moves log; sweeps that keep summaries switch it off).
    """
    seeds = np.atleast_1d(np.asarray(seeds, dtype=np.uint64))
    if seeds.shape != (params.n_runs,):
        raise ValueError(f"{seeds.shape[0]} seeds for a batch of {params.n_runs} runs")
    by_state = spend_by_state(params)
    base_spend = by_state.sum(axis=1)
    # Each kind's block contiguous, as the quarter's spend is (rules.spend copies it each step).
    budget_allocation = np.moveaxis(np.ascontiguousarray(np.moveaxis(by_state, 1, 0)), 0, 1)
    visibility = np.where(params.visibility_by_state >= 0, params.visibility_by_state,
                          params.visibility[:, None, :])
    loudness = rules.perceived(visibility, params.visibility_reaction_gain)
    shape = base_spend.shape

    def over_states(per_power: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.broadcast_to(per_power[:, None, :], shape))

    def pairs_over_states(per_pair: np.ndarray) -> np.ndarray:  # (R, P, P) -> (P, P, R, S)
        spread = np.broadcast_to(per_pair[:, None], (shape[0], shape[1], *per_pair.shape[1:]))
        return np.ascontiguousarray(np.transpose(spread, (2, 3, 0, 1)))

    multiplier = over_states(params.max_spend_multiplier)
    with np.errstate(invalid="ignore"):
        ceiling = np.where(np.isinf(multiplier), np.inf, (multiplier - 1.0) * base_spend)
    reacts = (structure.rule > 0).astype(base_spend.dtype)
    targets = reacts / np.maximum(reacts.sum(axis=1, keepdims=True), 1.0)
    inflow = rules.sum_powers(base_spend)
    inflow = np.where(inflow > 0, inflow, 1.0).astype(base_spend.dtype)

    scales = absorptive_scales(params)
    reserve = reserve_usd_m(params, base_spend)
    means = None
    if reserve is not None:
        finite = np.isfinite(reserve)[:, None, :]
        means = np.where(finite, np.where(np.isfinite(reserve), reserve, 0.0)[:, None, :],
                         base_spend)
        means = np.ascontiguousarray(means.astype(base_spend.dtype))
    return Batch(
        structure=structure,
        params=params,
        seeds=seeds,
        budget_allocation=budget_allocation,
        base_spend=base_spend,
        visibility=visibility,
        loudness=loudness,
        tolerance=over_states(params.risk_tolerance),
        ceiling=ceiling.astype(base_spend.dtype),
        restraint=over_states(params.restraint),
        targets=targets,
        inflow=inflow,
        capacity=np.moveaxis(np.ascontiguousarray(np.moveaxis(np.where(
            np.isfinite(scales), scales, np.finfo(params.dtype).max).astype(params.dtype), 2, 0)),
            0, 1),
        rationed=tuple(int(c) for c in np.flatnonzero(np.isfinite(scales).any(axis=(0, 1)))),
        visible_diplomatic_gain=params.visibility_diplomatic_gain[:, None, None] * visibility,
        record_reactions=record_reactions,
        graded=bool(params.width.any()),
        reserve=reserve,
        means=means,
        sensitivity=pairs_over_states(params.sensitivity),
        threshold=pairs_over_states(params.threshold),
        grievance=pairs_over_states(params.grievance),
        width=pairs_over_states(params.width),
        keep=rules.stock_keep(params.decay, shape),
    )


def absorptive_scales(params: Params) -> np.ndarray:
    """Each state's absorptive scale by kind of move, USD m per quarter (R, S, C).

    A scale the scenario leaves at ``gdp`` (NaN here) is the kind's default share of the
    state's GDP a year (``MoveKind.default_scale``) x GDP / 4; inf is no limit.
    """
    share = np.array([m.default_scale for m in MOVES], dtype=np.float64)
    default = share[None, None, :] * params.gdp.astype(np.float64)[:, :, None] * 1000.0 / 4.0
    return np.where(np.isnan(params.absorption), default, params.absorption)


def reserve_usd_m(params: Params, base_spend: np.ndarray) -> np.ndarray | None:
    """Each power's reserve, USD m per quarter (R, P): reserve_p x sum_s base[s, p].

    None when no power has a finite reserve (the rule then costs nothing).
    """
    if not np.isfinite(params.reserve).any():
        return None
    regional = base_spend.sum(axis=1)  # (R, P) base spend over states and kinds
    with np.errstate(invalid="ignore"):
        out = np.where(np.isinf(params.reserve), np.inf, params.reserve * regional)
    return out.astype(base_spend.dtype)


def spend_by_state(params: Params) -> np.ndarray:
    """Base spend of each power in each state by channel, USD m per quarter (R, C, S, P).

    budget[p, c] x allocation[c, s, p] (``rules.channel_allocation``), except in the states a
    power lists in ``budget_by_state`` (any of its cells >= 0): there the listed amounts (a
    cell left at -1 counts as 0), and budget x allocation is spread over the other states only.
    """
    explicit = params.budget_by_state
    listed = (explicit >= 0).any(axis=3)  # (R, S, P)
    weights = params.allocation
    if listed.any():
        weights = np.where(np.transpose(listed, (0, 2, 1)), 0.0, weights).astype(weights.dtype)
    allocation = rules.channel_allocation(weights, params.resource_interest, params.resources)
    spend = np.transpose(params.budget, (0, 2, 1))[:, :, None, :] * allocation
    if listed.any():
        amounts = np.transpose(np.maximum(explicit, 0.0), (0, 3, 1, 2))  # (R, C, S, P)
        spend = np.where(listed[:, None], amounts, spend)
    return spend


def step(state: WorldState, batch: Batch) -> WorldState:
    """Advance every run of the batch by one quarter.

    Args:
        state: The state after ``state.step`` quarters.
        batch: The batch.

    Returns:
        The state after one more quarter.
    """
    p, structure, seeds = batch.params, batch.structure, batch.seeds
    t = state.step + 1
    state = _count_down(state)
    state = apply_events(state, p, structure, seeds, t)

    risk = rules.state_risk(state.stability, state.disputes, p.instability_weight, p.dispute_weight)
    gate = rules.investment_gate(risk, batch.tolerance, p.risk_softness)
    spent, pressure = rules.spend(
        batch.budget_allocation, state.budget_scale, state.effort, gate,
        p.blocked_to_soft_power, p.pressure_share,
    )
    if batch.rationed:
        rules.ration(spent, batch.capacity, batch.rationed)
    if pressure.any():
        on = rules.pressure_on(pressure, state.leverage_share, batch.targets, batch.inflow)
    else:
        on = np.zeros_like(pressure)
    effectiveness = rules.reception(
        state.share, state.openness, p.hedging, p.hedging_max_premium, on, p.leverage,
        _event_modifier(state),
    )
    if p.reception_sd.any():
        shape = effectiveness.shape[1:]
        sd = p.reception_sd[:, None, None]
        z = normal(seeds, t, STREAM_RECEPTION, shape, p.dtype)
        effectiveness = effectiveness * np.exp(sd * z - 0.5 * sd * sd)
    footprint, goodwill, diplomatic = rules.update_stocks(
        state.footprint, state.goodwill, state.diplomatic, spent, effectiveness, p.decay,
        batch.visible_diplomatic_gain, keep=batch.keep,
    )
    scale = state.dependence_scale
    if p.dependence_decay.any():
        scale = rules.update_dependence(scale, p.dependence_decay)
    active = state.campaign_left > 0
    campaigning = bool(active.any())  # none: no loss, and every count stays at 0
    campaign_loss = (rules.sum_powers(np.where(active, state.campaign_intensity, 0.0))
                     if campaigning else None)
    noise = None
    if p.stability_sd.any():
        noise = p.stability_sd[:, None] * normal(
            seeds, t, STREAM_STABILITY, (structure.n_states,), p.dtype
        )
    stability = rules.update_stability(
        state.stability, p.stability_target, p.stability_recovery,
        spent[:, rules.DESTABILISE], p.destabilise_per_usd_m, campaign_loss, noise,
    )
    shocked = state.remittance_factor if (state.remittance_left > 0).any() else None
    structural = structural_attraction(state.dependence, scale, shocked, p.dependence_weights)
    share, leverage_share = influence_shares(
        footprint, goodwill, diplomatic, p.weights, p.autonomy, structural, leverage=True)
    past = _past_shares(state, structure, t)
    effort, signal, response = rules.react(
        structure.rule, state.effort, share, past, structure.gain_signal, _total_spend(spent),
        batch.base_spend, batch.loudness, batch.sensitivity, batch.threshold, batch.grievance,
        batch.restraint, batch.ceiling, record=batch.record_reactions,
        width=batch.width if batch.graded else None, reserve=batch.reserve, means=batch.means,
    )
    campaign_left = (np.maximum(state.campaign_left - active, 0.0) if campaigning
                     else state.campaign_left)
    history = state.share_history
    if structure.history:
        history = history.copy()
        history[:, t % structure.history] = share
    new = replace(
        state, step=t, footprint=footprint, goodwill=goodwill, diplomatic=diplomatic,
        share=share, stability=stability, effort=effort, spend=spent, signal=signal,
        response=response, campaign_left=campaign_left,
        dependence_scale=scale, leverage_share=leverage_share, share_history=history,
    )
    return _mark_divergence(new)


def _event_modifier(state: WorldState) -> np.ndarray | None:
    """Reception multipliers from standing platforms and sanctions (None when none is on)."""
    platform = state.platform_left > 0
    sanctioned = state.sanction_left > 0
    if not (platform.any() or sanctioned.any()):
        return None
    modifier = 1.0 + np.where(platform, state.platform_gain, 0.0)
    modifier *= 1.0 - np.where(sanctioned, state.sanction_friction, 0.0)[:, None, :]
    return modifier.astype(state.share.dtype)


def _past_shares(
    state: WorldState, structure: Structure, t: int
) -> dict[tuple[int, int], np.ndarray] | None:
    """Shares ``window`` quarters before step t for each pair watching a gain (the ring)."""
    if not structure.history:
        return None
    H = structure.history
    return {
        (p, q): state.share_history[:, (t - int(structure.window[p, q])) % H]
        for p, q in zip(*np.nonzero(structure.gain_signal), strict=True)
    }


def _count_down(state: WorldState) -> WorldState:
    """One quarter less for each lasting event, at the start of a step.

    An effect whose count reaches zero ends before the step, so a recorded step shows the
    effects that step used.
    """
    out: dict[str, np.ndarray] = {}
    if (state.remittance_left > 0).any():
        left = np.maximum(state.remittance_left - 1.0, 0.0)
        out["remittance_left"] = left
        out["remittance_factor"] = np.where(left > 0, state.remittance_factor, 1.0).astype(
            state.remittance_factor.dtype)
    if (state.sanction_left > 0).any():
        out["sanction_left"] = np.maximum(state.sanction_left - 1.0, 0.0)
    if (state.platform_left > 0).any():
        out["platform_left"] = np.maximum(state.platform_left - 1.0, 0.0)
    return replace(state, **out) if out else state


def _total_spend(spent: np.ndarray) -> np.ndarray:
    """Spend over all channels (R, S, P), adding the channel blocks in a fixed order."""
    total = spent[:, 0].copy()
    for c in range(1, spent.shape[1]):
        total += spent[:, c]
    return total


_CHECKED = ("footprint", "goodwill", "diplomatic", "stability", "share", "effort")
"""State arrays checked for non-finite values, in the order a quarter computes them."""

_LABELS = {
    "footprint": "economic footprint", "goodwill": "goodwill", "diplomatic": "diplomatic capital",
    "stability": "stability", "share": "influence share", "effort": "reactive effort",
}


def _mark_divergence(state: WorldState) -> WorldState:
    """Record the first step at which each run's state stops being finite."""
    arrays = [getattr(state, name) for name in _CHECKED]
    if all(np.isfinite(a).all() for a in arrays):
        return state
    finite = np.ones(state.n_runs, dtype=bool)
    for a in arrays:
        finite &= np.isfinite(a).reshape(state.n_runs, -1).all(axis=1)
    bad = ~finite & (state.diverged_step < 0)
    if not bad.any():
        return state
    return replace(state, diverged_step=np.where(bad, state.step, state.diverged_step))


def divergence_error(
    state: WorldState, structure: Structure, seeds: np.ndarray | None = None
) -> DivergenceError | None:
    """Describe the first non-finite value of the first diverged run, or None if none.

    The quantities are searched in the order a quarter computes them (stocks, stability, shares,
    reactive effort), so the one named is where the overflow started, not where it spread to.
    Reported from the state at the step the run diverged (``simulate`` stops there).
    """
    runs = np.flatnonzero(state.diverged_step >= 0)
    if len(runs) == 0:
        return None
    run = int(runs[np.argmin(state.diverged_step[runs])])
    step_ = int(state.diverged_step[run])
    seed = None if seeds is None else int(seeds[run])
    for quantity in _CHECKED:
        values = getattr(state, quantity)[run]
        bad = np.argwhere(~np.isfinite(values))
        if len(bad):
            if quantity == "stability":
                actor = structure.states[bad[0][0]]
            else:
                s, q = bad[0]
                actor = f"{structure.powers[q]} in {structure.states[s]}"
            if quantity == "effort":
                return DivergenceError(step_, run, actor, _LABELS[quantity], seed)
            hint = (f"a value outgrew what precision {values.dtype} can hold; lower the budgets, "
                    "initial stocks or event gains, or set precision: float64")
            return DivergenceError(step_, run, actor, _LABELS[quantity], seed, hint)
    return DivergenceError(step_, run, "a power", "a stock", seed)


def simulate(
    batch: Batch,
    steps: int | None = None,
    observe: Callable[[WorldState], None] | None = None,
    on_divergence: str = "raise",
    initial: WorldState | None = None,
) -> WorldState:
    """Run a batch from step 0 (or from ``initial``) for ``steps`` quarters.

    Args:
        batch: The batch.
        steps: Number of quarters (default: the scenario's).
        observe: Called with the state at step 0 and after every step (to record outputs).
        on_divergence: ``"raise"`` stops at the first step where any run becomes non-finite
            with a :class:`~sim.errors.DivergenceError`; ``"flag"`` carries on and leaves it in
            ``state.diverged_step`` (sweeps).
        initial: Start from this state instead of step 0 (a branch continuing its parent's
            history; see sim/scenario/branch.py); ``steps`` then defaults to the quarters left.

    Returns:
        The final state.
    """
    start = 0 if initial is None else initial.step
    steps = batch.structure.steps - start if steps is None else steps
    with np.errstate(over="ignore", invalid="ignore"):
        first = (initial_state(batch.structure, batch.params, batch.ceiling, batch.reserve)
                 if initial is None
                 else initial)
        state = _mark_divergence(first)
        for t in range(steps + 1):
            if t > 0:
                state = step(state, batch)
            if on_divergence == "raise" and (state.diverged_step >= 0).any():
                raise divergence_error(state, batch.structure, batch.seeds)
            if observe is not None:
                observe(state)
    return state
