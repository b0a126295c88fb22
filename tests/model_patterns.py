"""The model's patterns (docs/ODD.md, section 1) as checks that return a verdict.

Each check runs the model under optional extra settings (``--set``-style pairs) and returns
(holds, what was measured), so tests/test_patterns.py asserts that it holds on the shipped
scenarios and tests/test_mutants.py asserts that it fails under its named mutant: a setting
that removes the mechanism (:data:`MUTANTS`). Patterns 2 (a starting condition) and 9 (an
analytic result) are exempt and live in tests/test_patterns.py alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.engine import compile_scenario, make_batch, repeat, simulate
from sim.outputs.record import Recording
from sim.outputs.run import run_scenario
from sim.scenario import (
    CHANNELS,
    INVESTMENT,
    MOVE_BY_NAME,
    Scenario,
    load_scenario,
    resolve_file,
    set_path,
    validate,
)

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
SEEDS = 5
PAIRED = 30
"""Seeds for the stochastic patterns compared with a paired 95% interval."""
T_95 = 2.045  # Student's t, two-sided 95%, 29 degrees of freedom (30 paired seeds)
INVEST, SOFT = 0, 1
BASELINE_STATES = ("kazakhstan", "kyrgyzstan", "tajikistan", "turkmenistan", "uzbekistan")
SHIPPED = {"china": 2.0, "russia": 1.5}
"""The shipped sensitivities of China and Russia toward Japan (scenarios/baseline.yaml)."""


def scenario(name: str, extra: list = (), **fields) -> Scenario:
    """A shipped scenario with the mutant's (or any) settings applied."""
    return load_scenario(SCENARIOS / name, list(extra) + list(fields.items()) or None)


def edited(name: str, edit, extra: list = ()) -> Scenario:
    """A shipped scenario as a mapping, changed by ``edit``, with ``extra`` settings applied."""
    data = resolve_file(SCENARIOS / name)
    edit(data)
    for path, value in extra:
        set_path(data, path, value)
    return validate(data, source=f"{name} (edited in a test)")


def drop_events(kind: str):
    """An edit that removes a scenario's events of one kind."""

    def edit(data):
        data["events"] = [e for e in data.get("events", []) if e["kind"] != kind]

    return edit


def run(sc: Scenario, seeds: int = PAIRED) -> Recording:
    """Record ``seeds`` replicates of a scenario."""
    return run_scenario(sc, replicates=seeds)


def paired_ci(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Mean of a - b over seeds and its 95% confidence interval."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    half = T_95 * diff.std(ddof=1) / np.sqrt(len(diff))
    return diff.mean(), diff.mean() - half, diff.mean() + half


def index(rec: Recording, power: str | None = None, state: str | None = None) -> int:
    """The axis index of a power or a state."""
    return rec.structure.powers.index(power) if power else rec.structure.states.index(state)


def accord_raises_japans_investment(extra: list = ()) -> tuple[bool, str]:
    """Pattern 1: with the accord, Japan invests more over the next five years (paired 95%
    interval above zero, by over 20%) and its mix shifts from soft power toward investment.
    Mutant: risk weights at 0 (risk no longer gates investment)."""
    with_accord = run(scenario("border_accord.yaml", extra))
    without = run(edited("border_accord.yaml", drop_events("border_accord"), extra))
    j = index(with_accord, "japan")
    window = slice(1, 21)
    invest_with = with_accord.spend[window, :, INVEST, :, j].sum(axis=(0, 2))
    invest_without = without.spend[window, :, INVEST, :, j].sum(axis=(0, 2))
    mean, low, _ = paired_ci(invest_with, invest_without)

    def invest_share(rec):
        spend = rec.spend[window, :, :, :, j].sum(axis=(0, 3))
        return spend[:, INVEST] / (spend[:, INVEST] + spend[:, SOFT])

    _, mix_low, _ = paired_ci(invest_share(with_accord), invest_share(without))
    holds = low > 0 and mean > 0.2 * invest_without.mean() and mix_low > 0
    return holds, (f"Japan's five-year investment +{mean:.0f} (95% low {low:.0f}) on "
                   f"{invest_without.mean():.0f}; mix shift low {mix_low:.4f}")


def visibility_provokes(extra: list = ()) -> tuple[bool, str]:
    """Pattern 3: the same Japanese push made high-profile draws more Chinese and Russian
    reactive spending, and the reactions cost Japan more of its regional share than they do
    when it is quiet. Visibility provokes twice: rivals perceive a loud power's signals as
    larger, and a loud power's investment buys diplomatic capital that lifts the share they
    watch. Mutant: rules.visibility.reaction_gain and rules.visibility.diplomatic_gain at 0
    (either alone leaves the other path, measured: reaction_gain 0 alone still draws USD 874 m
    more Chinese reactive spending)."""
    quiet_rivals = rival_sensitivity(0.0)
    loud, quiet = (run(scenario(f"japan_{x}_profile.yaml", extra)) for x in ("high", "low"))
    drawn = []
    for rival in ("china", "russia"):
        r = index(loud, rival)
        mean, low, _ = paired_ci(loud.effort[:, :, :, r].sum(axis=(0, 2)),
                                 quiet.effort[:, :, :, r].sum(axis=(0, 2)))
        drawn.append((rival, round(mean, 1), low > 0))
    cost = {}
    for x in ("high", "low"):
        reacting = regional_end_share(f"japan_{x}_profile.yaml", list(extra))
        calm = regional_end_share(f"japan_{x}_profile.yaml", quiet_rivals + list(extra))
        cost[x] = calm - reacting
    holds = all(ok for _, _, ok in drawn) and cost["high"] > cost["low"]
    return holds, f"extra reactive spending drawn (USD m): {drawn}; share cost: {cost}"


def latecomer_room(extra: list = ()) -> tuple[bool, str]:
    """Pattern 4: an equal extra investment (USD 50 m a quarter, fully invested) buys Japan,
    the latecomer, at least twice the footprint per dollar that it buys China, the incumbent
    holding over half, in Turkmenistan. Two mechanisms make this room: the hedging premium
    (a newcomer's dollar buys up to 1 + M times parity, a dominant power's at least 1 / (1 + M))
    and the shared absorptive capacity (where the incumbent fills the pool, its extra dollar
    mostly displaces its own projects, while a newcomer's takes a proportional part).
    Mutant: rules.hedging_max_premium at 0 and Turkmenistan's capacity unlimited (either alone
    leaves the other: premium 0 alone still gives 4.6x).

    Which state gives Japan the most share per dollar is reported in docs/DATA.md: the model
    picks Kyrgyzstan (the smallest influence pool, with Russia dominant), not Turkmenistan."""
    sc = scenario("baseline.yaml", extra)
    structure, params = compile_scenario(sc)
    batch = make_batch(structure, repeat(params, SEEDS), list(range(SEEDS)))
    s = structure.states.index("turkmenistan")
    per_dollar = {}
    for who in ("japan", "china"):
        p = structure.powers.index(who)
        extra_money = batch.budget_allocation.copy()
        extra_money[:, INVEST, s, p] += 50.0
        from dataclasses import replace

        tolerant = replace(batch, budget_allocation=extra_money,
                           tolerance=np.ones_like(batch.tolerance))
        base = replace(batch, tolerance=np.ones_like(batch.tolerance))
        gained = simulate(tolerant, 4).footprint[:, s, p] - simulate(base, 4).footprint[:, s, p]
        per_dollar[who] = float(gained.mean()) / 200.0
    ratio = per_dollar["japan"] / per_dollar["china"]
    gained = latecomer_share_gain(extra)
    pick = max(gained, key=gained.get)
    return ratio >= 2.0, (f"footprint per extra dollar in Turkmenistan: {per_dollar}, "
                          f"{ratio:.2f}x (minimum 2x); Japan's share gained per extra USD 50 m a "
                          f"quarter for a year, by state: {gained}; the model picks {pick}")


def latecomer_share_gain(extra: list = ()) -> dict[str, float]:
    """Japan's share gained in each state after a year of an extra USD 50 m a quarter fully
    invested there (risk tolerance 1, so the gate does not decide), in percentage points."""
    from dataclasses import replace

    sc = scenario("baseline.yaml", extra)
    structure, params = compile_scenario(sc)
    batch = make_batch(structure, repeat(params, SEEDS), list(range(SEEDS)))
    base = replace(batch, tolerance=np.ones_like(batch.tolerance))
    j = structure.powers.index("japan")
    before = simulate(base, 4).share[:, :, j]
    out = {}
    for s, name in enumerate(structure.states):
        money = batch.budget_allocation.copy()
        money[:, INVEST, s, j] += 50.0
        after = simulate(replace(base, budget_allocation=money), 4).share[:, s, j]
        out[name] = round(100.0 * float((after - before[:, s]).mean()), 3)
    return out


def hedging_caps_the_leader(extra: list = ()) -> tuple[bool, str]:
    """Pattern 5: over 30 years of the baseline no share runs past 0.9, and hedging lowers the
    share of the power holding over half a state (China in Turkmenistan) by at least 0.02
    against the same run without the hedging premium (paired seeds). The earlier version
    asked China to lose at least 0.05 of its own start, which with pattern 12's "at most 0.10
    in ten years" pinned the erosion rate inside a window (a calibration target written as a
    test); this one measures hedging against its absence instead. Mutant:
    rules.hedging_max_premium at 0."""
    rec = run(scenario("baseline.yaml", extra, steps=120), seeds=SEEDS)
    flat = run(scenario("baseline.yaml", list(extra) + [("rules.hedging_max_premium", 0.0)],
                        steps=120), seeds=SEEDS)
    c, t = index(rec, "china"), index(rec, state="turkmenistan")
    lowered = float(flat.share[-1, :, t, c].mean() - rec.share[-1, :, t, c].mean())
    top = float(rec.share.max())
    return top < 0.9 and lowered >= 0.02, (f"largest share {top:.3f}; hedging lowers China's "
                                           f"Turkmen share after 30 years by {lowered:.3f} "
                                           "(minimum 0.02)")


def destabilisation_deters_the_cautious(extra: list = ()) -> tuple[bool, str]:
    """Pattern 6: Russia's campaign in Kyrgyzstan lowers Japan's investment there by a larger
    fraction than China's (paired 95% interval above zero).
    Mutant: Japan's risk tolerance at China's (0.6): no more cautious than China."""
    calm = run(scenario("border_accord.yaml", extra))
    campaign = run(scenario("russia_destabilises.yaml", extra))
    k = index(calm, state="kyrgyzstan")
    window = slice(5, 15)
    falls = {}
    for name in ("japan", "china"):
        p = index(calm, name)
        before = calm.spend[window, :, INVEST, k, p].sum(axis=0)
        after = campaign.spend[window, :, INVEST, k, p].sum(axis=0)
        falls[name] = 1.0 - after / before
    mean, low, _ = paired_ci(falls["japan"], falls["china"])
    return low > 0, f"Japan's fall minus China's: {mean:.3f} (95% low {low:.3f})"


def china_defends(extra: list = ()) -> tuple[bool, str]:
    """Pattern 7: where Japan's gains pass China's trigger (its high-profile push), China's
    reaction lowers Japan's share below what it would have been, by at least 2% of it (paired
    95% interval above zero, in the states where China reacted, at the last step). In
    border_accord, where quiet Japan's gains only reach China's ramp, the same measure is
    0.0005 of share (0.4%): too small to call a defence. Mutant: China's reserve at 0."""
    reacting = run(scenario("japan_high_profile.yaml", extra))
    calm = run(scenario("japan_high_profile.yaml", list(extra) + [
        ("powers.china.reaction.japan.sensitivity", 0.0)]))
    c, j = index(reacting, "china"), index(reacting, "japan")
    reacted = reacting.effort[:, :, :, c].max(axis=(0, 1)) > 0  # (S,)
    if not reacted.any():
        return False, "China never reacted"
    held = calm.share[-1][:, reacted, j].sum(axis=1)
    lost = held - reacting.share[-1][:, reacted, j].sum(axis=1)
    mean, low, _ = paired_ci(lost, np.zeros_like(lost))
    relative = mean / float(held.mean())
    states = [s for s, r in zip(reacting.structure.states, reacted, strict=True) if r]
    return low > 0 and relative >= 0.02, (
        f"Japan's share lost to China's reaction in {states}: {mean:.4f} (95% low {low:.4f}), "
        f"{relative:.1%} of what it would hold (minimum 2%)")


def cancelled_summit_delays(extra: list = ()) -> tuple[bool, str]:
    """Pattern 8: a cancelled summit leaves Japan's diplomatic capital behind while it is
    delayed, and once held the gain is mostly caught up.
    Mutant: the summit's diplomatic_gain at 0 (events.0.diplomatic_gain)."""
    cancelled = run(scenario("summit_cancelled.yaml", extra))
    held = run(edited("summit_cancelled.yaml", drop_events("summit_cancelled"), extra))
    j = index(held, "japan")
    dipl_held = held.diplomatic[:, :, :, j].sum(axis=2)
    dipl_cancelled = cancelled.diplomatic[:, :, :, j].sum(axis=2)
    summit_step, delayed_step = 3, 5
    lag = all(paired_ci(dipl_cancelled[t], dipl_held[t])[2] < 0
              for t in range(summit_step, delayed_step))
    gap_during = float((dipl_held[summit_step] - dipl_cancelled[summit_step]).mean())
    gap_after = float((dipl_held[delayed_step] - dipl_cancelled[delayed_step]).mean())
    holds = lag and abs(gap_after) < 0.5 * gap_during
    return holds, f"gap while delayed {gap_during:.1f}, after {gap_after:.1f}"


def regional_end_share(name: str, sets: list, power: str = "japan") -> float:
    """Mean over seeds of a power's share averaged over the states at the last step."""
    rec = run_scenario(load_scenario(SCENARIOS / name, sets), replicates=SEEDS)
    return float(rec.share[-1, :, :, rec.structure.powers.index(power)].mean())


def rival_sensitivity(factor: float) -> list:
    """Settings for China's and Russia's sensitivity toward Japan at ``factor`` x shipped."""
    return [(f"powers.{p}.reaction.japan.sensitivity", v * factor) for p, v in SHIPPED.items()]


def reactions_bite(extra: list = ()) -> tuple[bool, str]:
    """Pattern 10: Japan's end share in japan_high_profile does not rise as the rivals'
    sensitivity toward Japan rises, and at 4x the shipped values is at least 5% below its
    value at 0 (measured: 7.8%; the rivals' reserves bind from 2x on, so the fall flattens).
    Mutant: the rivals' reserve at 0 (they cannot answer)."""
    factors = (0.0, 0.5, 1.0, 2.0, 4.0)
    shares = [regional_end_share("japan_high_profile.yaml", rival_sensitivity(f) + list(extra))
              for f in factors]
    falling = all(b <= a + 1e-6 for a, b in zip(shares, shares[1:], strict=False))
    fall = 1.0 - shares[-1] / shares[0]
    return falling and fall >= 0.05, (f"Japan's regional end share at {factors} x shipped: "
                                      f"{[round(s, 5) for s in shares]}; fall at 4x "
                                      f"{fall:.1%} (minimum 5%)")


def leverage_bites(extra: list = ()) -> tuple[bool, str]:
    """Leverage is one of the channels through which reactions hurt: in japan_high_profile at
    the shipped sensitivities, switching leverage off gives back at least 15% of what the
    rivals' reactions cost Japan's regional end share (measured: 21.2%).
    Mutant: rules.reaction.leverage at 0."""
    reacting = regional_end_share("japan_high_profile.yaml", list(extra))
    calm = regional_end_share("japan_high_profile.yaml", rival_sensitivity(0.0) + list(extra))
    no_leverage = regional_end_share("japan_high_profile.yaml",
                                     list(extra) + [("rules.reaction.leverage", 0.0)])
    cost = calm - reacting
    part = (no_leverage - reacting) / cost if cost > 0 else 0.0
    return part >= 0.15, (f"reactions cost Japan {cost:.5f} of regional share; leverage's part "
                          f"{part:.1%} (minimum 15%)")


def caution_is_rational(extra: list = ()) -> tuple[bool, str]:
    """Pattern 11: with the rivals not reacting, high profile ends at least as high as low
    profile; at 4x the shipped sensitivities, low profile does at least as well.
    Mutant: rules.visibility.reaction_gain at 0 (visibility provokes no one)."""
    out = {}
    for factor in (0.0, 4.0):
        sets = rival_sensitivity(factor) + list(extra)
        out[factor] = (regional_end_share("japan_high_profile.yaml", sets),
                       regional_end_share("japan_low_profile.yaml", sets))
    (hi0, lo0), (hi4, lo4) = out[0.0], out[4.0]
    return hi0 >= lo0 and lo4 >= hi4, f"(high, low) at 0 and 4 x shipped: {out}"


def incumbents_hold(extra: list = ()) -> tuple[bool, str]:
    """Pattern 12: in the no-event baseline China still leads in Turkmenistan and Kazakhstan at
    the end and no power loses more than 0.10 of share in any state (measured: 0.056; the
    mutant loses 0.135).
    Mutant: rules.hedging_max_premium at 10 (hedging all but unbounded)."""
    rec = run_scenario(load_scenario(SCENARIOS / "baseline.yaml", list(extra)), replicates=SEEDS)
    share = rec.share.mean(axis=1)  # (T + 1, S, P)
    states, powers = rec.structure.states, rec.structure.powers
    china = powers.index("china")
    leads = all(share[-1, states.index(s), china] > np.delete(share[-1, states.index(s)],
                                                                china).max()
                for s in ("turkmenistan", "kazakhstan"))
    loss = float((share[0] - share[-1]).max())
    return leads and loss <= 0.10, (f"China leads TM and KZ: {leads}; largest loss {loss:.3f} "
                                    "(maximum 0.10)")


def remittances_matter(extra: list = ()) -> tuple[bool, str]:
    """Pattern 13: a Russian remittance_shock (-50% for a year from 2026Q1) lowers Russia's
    influence in Tajikistan and Kyrgyzstan more than in Turkmenistan (at 2026Q4).
    Mutant: rules.dependence.weights.remittances at 0 (remittances carry no influence)."""
    base = load_scenario(SCENARIOS / "baseline.yaml", list(extra))
    data = base.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["events"] = [{"kind": "remittance_shock", "at": "2026Q1", "power": "russia",
                       "states": "all", "change": -0.5, "quarters": 4}]
    data.pop("branch", None)
    shocked = validate(data)
    a, b = run_scenario(base, replicates=SEEDS), run_scenario(shocked, replicates=SEEDS)
    russia, t = a.structure.powers.index("russia"), 8  # step 8 closes 2026Q4
    change = dict(zip(a.structure.states,
                      (b.share[t, :, :, russia] - a.share[t, :, :, russia]).mean(axis=0),
                      strict=True))
    holds = all(change[s] < change["turkmenistan"] for s in ("tajikistan", "kyrgyzstan"))
    return holds, f"change of Russia's share at 2026Q4: {change}"


def _japan_push(extra: list, kind: str, state: str, amount: float, steps: int = 8) -> Scenario:
    """The baseline with Japan spending ``amount`` more of ``kind`` a quarter in ``state``."""
    base = scenario("baseline.yaml", extra, steps=steps)
    structure, params = compile_scenario(base)
    batch = make_batch(structure, params, [base.seed])
    j, s = structure.powers.index("japan"), structure.states.index(state)
    listed = {k: float(batch.budget_allocation[0, c, s, j]) for c, k in enumerate(CHANNELS)}
    listed[kind] += amount
    sets = [(f"powers.japan.budget_by_state.{state}.{k}", v) for k, v in listed.items()]
    return scenario("baseline.yaml", list(extra) + sets, steps=steps)


def _bought(sc: Scenario, kind: str, state: str) -> float:
    """What Japan's spend of one kind bought in a state over the run: the stock it builds
    (summed over quarters of inflow, measured as the end stock), or stability lost."""
    structure, params = compile_scenario(sc)
    final = simulate(make_batch(structure, repeat(params, SEEDS), list(range(SEEDS))))
    s, j = structure.states.index(state), structure.powers.index("japan")
    stock = MOVE_BY_NAME[kind].stock
    if stock is None:
        return -float(final.stability[:, s].mean())
    return float(getattr(final, stock)[:, s, j].mean())


RATIONING_TRIAL = {"destabilise": (2.0, 20, 2)}
"""Per kind: (extra USD m a quarter, multiple, quarters) where the default (100, 8, 8) would
drive stability to its floor of 0 (which would cap the effect whatever the rationing)."""


def channel_is_rationed(kind: str):
    """Every channel is rationed: eight times the extra money (USD 800 m a quarter instead of
    100 m) of one kind of move in Turkmenistan buys Japan at most 0.6 of eight times what the
    first 100 m buys (destabilise: 20 x USD 2 m over two quarters). Mutant: that kind's
    absorptive scale at null (no limit) in every state."""

    def check(extra: list = ()) -> tuple[bool, str]:
        state = "turkmenistan"
        amount, multiple, steps = RATIONING_TRIAL.get(kind, (100.0, 8, 8))

        def bought(x: float) -> float:
            return _bought(_japan_push(extra, kind, state, x, steps), kind, state)

        none = bought(0.0)
        small, large = bought(amount) - none, bought(multiple * amount) - none
        ratio = large / (multiple * small) if small > 0 else 1.0
        return ratio <= 0.6, (f"{kind} in {state}: an extra {amount:g} m a quarter buys "
                              f"{small:.4g}, {multiple} times as much buys {large:.4g}: "
                              f"per-dollar return {ratio:.2f} of the first (maximum 0.6)")

    check.__name__ = f"{kind}_is_rationed"
    return check


def unlimited(kind: str) -> list:
    """Settings that remove one kind's absorptive scale in every baseline state."""
    field = "absorptive_capacity" if kind == INVESTMENT else f"absorption.{kind}"
    return [(f"states.{s}.{field}", None) for s in BASELINE_STATES]


def structure_where_the_record_puts_it(extra: list = ()) -> tuple[bool, str]:
    """The state data where the record puts them (docs/DATA.md 2-3): at the start China's
    structural share is largest in Turkmenistan (gas), Russia's in Tajikistan (remittances),
    and Japan's influence share is largest in Kazakhstan (its largest investment stock), by
    stated margins over the next state: China 2.5x (measured 3.8x: the Turkmen gas bought),
    Russia 1.2x (1.3x) and Japan 2.5x (3.3x). Mutants: two states' dependence blocks
    swapped (Kazakhstan and Turkmenistan), two states' initial stocks swapped (Kazakhstan and
    Uzbekistan)."""
    sc = scenario("baseline.yaml", extra, steps=1)
    structure, params = compile_scenario(sc)
    recorded = []

    def keep(state):
        if state.step == 0:
            recorded.append(state)

    simulate(make_batch(structure, params, [sc.seed]), observe=keep)
    st = recorded[0]
    states = structure.states
    found = {}
    for who, values, where, margin in (("china", st.leverage_share, "turkmenistan", 2.5),
                                       ("russia", st.leverage_share, "tajikistan", 1.2),
                                       ("japan", st.share, "kazakhstan", 2.5)):
        p = structure.powers.index(who)
        column = values[0, :, p]
        top = int(np.argmax(column))
        runner_up = float(np.sort(column)[-2])
        found[who] = (states[top], round(float(column[top]), 4), round(runner_up, 4))
        if states[top] != where or column[top] < margin * runner_up:
            return False, f"largest (state, value, next): {found}; expected {where} for {who}"
    return True, f"largest (state, value, next): {found}"


def swapped(block: str, a: str, b: str) -> list:
    """Settings that swap two baseline states' ``block`` (dependence or initial stocks)."""
    data = resolve_file(SCENARIOS / "baseline.yaml")["states"]
    channels = sorted(set(data[a][block]) | set(data[b][block]))
    sets = []
    for first, second in ((a, b), (b, a)):
        for channel in channels:
            for power in ("japan", "china", "russia"):
                value = data[second][block].get(channel, {}).get(power, 0.0)
                sets.append((f"states.{first}.{block}.{channel}.{power}", value))
    return sets


def rivals_answer_anywhere(extra: list = ()) -> tuple[bool, str]:
    """Rivals answer with their capability: Japan's loud push in Tajikistan (USD 272 m a
    quarter of soft power, the policy search's earlier answer there, at visibility 1) draws
    Chinese reactive spending there of at least three times China's own base spend in the
    state at its peak (the earlier rule capped it at twice). Mutant: local reaction ceilings
    (reserve null, max_spend_multiplier 3: the earlier model's rule)."""
    sets = [("powers.japan.visibility_by_state.tajikistan", 1.0)]
    sc = _japan_push(list(extra) + sets, "soft_power", "tajikistan", 272.0, steps=40)
    structure, params = compile_scenario(sc)
    batch = make_batch(structure, params, [sc.seed])
    peak = []
    simulate(batch, observe=lambda st: peak.append(st.effort[0].copy()))
    s, c = structure.states.index("tajikistan"), structure.powers.index("china")
    top = float(np.max([e[s, c] for e in peak]))
    base = float(batch.base_spend[0, s, c])
    return top >= 3.0 * base, (f"China's peak reactive spending in Tajikistan USD {top:.0f} m "
                               f"a quarter against its base spend there {base:.0f} "
                               f"({top / base:.1f}x; minimum 3x)")


def crowding_out_bites(extra: list = ()) -> tuple[bool, str]:
    """Crowding out is one of the channels through which reactions hurt: in japan_high_profile
    the rivals' reactive investment, competing for the states' shared pools, lowers the
    investment Japan gets absorbed over the run by at least 3% against the same scenario with
    the rivals not reacting (paired seeds). Mutant: every state's absorptive capacity null
    (no shared pool)."""
    reacting = run(scenario("japan_high_profile.yaml", extra), seeds=SEEDS)
    calm = run(scenario("japan_high_profile.yaml", rival_sensitivity(0.0) + list(extra)),
               seeds=SEEDS)
    j = index(reacting, "japan")
    got = reacting.spend[:, :, INVEST, :, j].sum(axis=(0, 2))
    alone = calm.spend[:, :, INVEST, :, j].sum(axis=(0, 2))
    fall = float(1.0 - got.mean() / alone.mean())
    return fall >= 0.03, (f"Japan's absorbed investment over the run: {got.mean():.0f} with the "
                          f"rivals reacting, {alone.mean():.0f} without: {fall:.1%} less "
                          "(minimum 3%)")


RATIONED = {kind: channel_is_rationed(kind) for kind in CHANNELS}
"""A rationing check per kind of move."""


CHECKS = [accord_raises_japans_investment, visibility_provokes, latecomer_room,
          hedging_caps_the_leader, destabilisation_deters_the_cautious, china_defends,
          cancelled_summit_delays, reactions_bite, leverage_bites, caution_is_rational,
          incumbents_hold,
          remittances_matter, rivals_answer_anywhere, structure_where_the_record_puts_it,
          crowding_out_bites,
          *RATIONED.values()]
"""Patterns 1, 3-8 and 10-13, in the order of docs/ODD.md's table of patterns."""

MUTANTS = {
    accord_raises_japans_investment: [("rules.risk.instability_weight", 0.0),
                                      ("rules.risk.dispute_weight", 0.0)],
    visibility_provokes: [("rules.visibility.reaction_gain", 0.0),
                          ("rules.visibility.diplomatic_gain", 0.0)],
    latecomer_room: [("rules.hedging_max_premium", 0.0),
                     ("states.turkmenistan.absorptive_capacity", 1e9)],
    hedging_caps_the_leader: [("rules.hedging_max_premium", 0.0)],
    destabilisation_deters_the_cautious: [("powers.japan.risk_tolerance", 0.6)],
    china_defends: [("powers.china.reserve", 0.0)],
    cancelled_summit_delays: [("events.0.diplomatic_gain", 0.0)],
    reactions_bite: [("powers.china.reserve", 0.0), ("powers.russia.reserve", 0.0)],
    leverage_bites: [("rules.reaction.leverage", 0.0)],
    caution_is_rational: [("rules.visibility.reaction_gain", 0.0)],
    incumbents_hold: [("rules.hedging_max_premium", 10.0)],
    remittances_matter: [("rules.dependence.weights.remittances", 0.0)],
    rivals_answer_anywhere: [("powers.china.reserve", None), ("powers.russia.reserve", None),
                             ("powers.china.max_spend_multiplier", 3.0),
                             ("powers.russia.max_spend_multiplier", 3.0)],
    structure_where_the_record_puts_it: swapped("dependence", "kazakhstan", "turkmenistan"),
    crowding_out_bites: unlimited(INVESTMENT),
    **{RATIONED[kind]: unlimited(kind) for kind in CHANNELS},
}
"""Each check's mutant: settings that remove its mechanism (tests/test_mutants.py)."""


if __name__ == "__main__":  # python tests/model_patterns.py: what each pattern measures now
    for check in CHECKS:
        holds, measured = check()
        print(f"{check.__name__}: {'holds' if holds else 'FAILS'}; {measured}")
