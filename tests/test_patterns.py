"""The nine patterns of DESIGN.md section 3, one test each.

Stochastic comparisons run the same seeds on both sides (paired) and require the 95% confidence
interval of the mean paired difference to exclude zero.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from sim.engine import compile_scenario, make_batch, repeat, simulate
from sim.outputs.record import Recording
from sim.outputs.run import run_scenario
from sim.scenario import Scenario, load_scenario, resolve_file, validate

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
SEEDS = 30
T_95 = 2.045  # Student's t, two-sided 95%, 29 degrees of freedom (30 paired seeds)


def scenario(name: str, **overrides) -> Scenario:
    return load_scenario(SCENARIOS / name, list(overrides.items()) or None)


def edited(name: str, edit) -> Scenario:
    """Load a scenario file as a mapping, let ``edit`` change it, validate it."""
    data = resolve_file(SCENARIOS / name)
    edit(data)
    return validate(data, source=f"{name} (edited in a test)")


def drop_events(kind: str):
    def edit(data):
        data["events"] = [e for e in data.get("events", []) if e["kind"] != kind]

    return edit


def run(sc: Scenario, seeds: int = SEEDS) -> Recording:
    return run_scenario(sc, replicates=seeds)


def paired_ci(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Mean of a - b over seeds and its 95% confidence interval."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    half = T_95 * diff.std(ddof=1) / np.sqrt(len(diff))
    return diff.mean(), diff.mean() - half, diff.mean() + half


def power(rec: Recording, name: str) -> int:
    return rec.structure.powers.index(name)


def state(rec: Recording, name: str) -> int:
    return rec.structure.states.index(name)


INVEST, SOFT = 0, 1


def test_pattern_1_accord_lowers_risk_and_japan_invests_more():
    with_accord = run(scenario("border_accord.yaml"))
    without = run(edited("border_accord.yaml", drop_events("border_accord")))
    j = power(with_accord, "japan")
    window = slice(1, 21)  # the five years after the accord
    invest_with = with_accord.spend[window, :, INVEST, :, j].sum(axis=(0, 2))
    invest_without = without.spend[window, :, INVEST, :, j].sum(axis=(0, 2))
    mean, low, _ = paired_ci(invest_with, invest_without)
    assert low > 0, f"accord should raise Japan's investment: mean +{mean:.1f}, CI low {low:.1f}"
    assert mean > 0.2 * invest_without.mean(), "the rise should be substantial (over 20%)"

    def invest_share(rec):
        spend = rec.spend[window, :, :, :, j].sum(axis=(0, 3))  # (R, C)
        return spend[:, INVEST] / (spend[:, INVEST] + spend[:, SOFT])

    _, low, _ = paired_ci(invest_share(with_accord), invest_share(without))
    assert low > 0, "Japan's mix should shift from soft power toward investment"


def test_pattern_2_japan_soft_power_starts_smaller_than_china_and_russia():
    sc = scenario("baseline.yaml")
    _, params = compile_scenario(sc)
    powers = sc.power_names
    goodwill = params.goodwill[0]  # (S, P)
    japan, china, russia = (powers.index(p) for p in ("japan", "china", "russia"))
    for s, name in enumerate(sc.state_names):
        assert goodwill[s, japan] < goodwill[s, china], name
        assert goodwill[s, japan] < goodwill[s, russia], name
    soft = params.budget[0, :, SOFT]
    assert soft[japan] < soft[china] and soft[japan] < soft[russia]


def test_pattern_3_visibility_provokes():
    loud = run(scenario("japan_high_profile.yaml"))
    quiet = run(scenario("japan_low_profile.yaml"))
    for rival in ("china", "russia"):
        r = power(loud, rival)
        effort_loud = loud.effort[:, :, :, r].sum(axis=(0, 2))
        effort_quiet = quiet.effort[:, :, :, r].sum(axis=(0, 2))
        mean, low, _ = paired_ci(effort_loud, effort_quiet)
        assert low > 0, f"{rival}: high profile should draw more reaction (mean +{mean:.3f})"


def test_pattern_4_latecomer_room_is_largest_in_turkmenistan():
    """The same extra Japanese investment, put in one state at a time, buys the most share
    in Turkmenistan."""
    base = scenario("baseline.yaml")
    gains = {}
    for target in base.state_names:
        def edit(data, amount, target=target):
            japan = data["powers"]["japan"]
            japan["budget"] = {"invest": amount, "soft_power": 0, "diplomacy": 0}
            japan["risk_tolerance"] = 1.0  # every dollar is invested: equal investment
            japan["allocation"] = {s: (1.0 if s == target else 0.0) for s in base.state_names}

        with_money = run(edited("baseline.yaml", lambda d: edit(d, 200.0)), seeds=10)
        without = run(edited("baseline.yaml", lambda d: edit(d, 0.0)), seeds=10)
        s, j = state(with_money, target), power(with_money, "japan")
        gains[target] = float((with_money.share[4, :, s, j] - without.share[4, :, s, j]).mean())
    best = max(gains, key=gains.get)
    assert best == "turkmenistan", f"share gained per equal investment: {gains}"


def test_pattern_5_hedging_no_share_runs_to_one_and_japan_dilutes_the_leader():
    for name in ("baseline.yaml", "border_accord.yaml", "china_hard_reaction.yaml"):
        rec = run(scenario(name, steps=120), seeds=10)
        assert rec.share.max() < 0.9, f"{name}: a share ran to {rec.share.max():.3f}"

    def remove_japan(data):
        del data["powers"]["japan"]
        for other in data["powers"].values():
            other.get("reaction", {}).pop("japan", None)
        for st in data["states"].values():
            for channel in st["initial"].values():
                channel.pop("japan", None)

    with_japan = run(scenario("baseline.yaml"), seeds=10)
    without_japan = run(edited("baseline.yaml", remove_japan), seeds=10)
    final_with = with_japan.share[-1].mean(axis=0)  # (S, P)
    final_without = without_japan.share[-1].mean(axis=0)
    lowered = []
    for s, name in enumerate(with_japan.structure.states):
        leader = without_japan.structure.powers[int(final_without[s].argmax())]
        p_with = with_japan.structure.powers.index(leader)
        if final_with[s, p_with] < final_without[s].max():
            lowered.append(name)
    assert lowered, "adding Japan should lower the leading power's share in some state"


def test_pattern_6_destabilisation_deters_the_cautious_more():
    calm = run(scenario("border_accord.yaml"))
    campaign = run(scenario("russia_destabilises.yaml"))
    k = state(calm, "kyrgyzstan")
    window = slice(5, 15)  # 2026Q1 to 2027Q2 and the quarters after
    falls = {}
    for name in ("japan", "china"):
        p = power(calm, name)
        before = calm.spend[window, :, INVEST, k, p].sum(axis=0)
        after = campaign.spend[window, :, INVEST, k, p].sum(axis=0)
        falls[name] = 1.0 - after / before  # relative fall in investment per seed
    mean, low, _ = paired_ci(falls["japan"], falls["china"])
    assert low > 0, f"Japan's investment should fall more than China's (mean gap {mean:.3f})"


def test_pattern_7_china_defends_past_its_threshold():
    sc = scenario("border_accord.yaml")
    rec = run(sc, seeds=10)
    c, j = power(rec, "china"), power(rec, "japan")
    threshold = sc.powers["china"].reaction["japan"].threshold
    seen = rec.signal[:, :, :, c, j]  # (T + 1, R, S): Japan's share as China perceives it
    effort = rec.effort[:, :, :, c]
    crossed = seen > threshold
    assert crossed.any(), "Japan's gains should pass China's threshold somewhere"
    for r in range(rec.n_runs):
        for s in range(rec.structure.n_states):
            steps = np.flatnonzero(crossed[:, r, s])
            if len(steps) == 0:
                continue
            first = steps[0]
            assert effort[first, r, s] > effort[first - 1, r, s] >= 0
            assert np.all(effort[:first, r, s] == 0)

    def starve_japan(data):
        data["powers"]["japan"]["budget"] = {"invest": 0, "soft_power": 0, "diplomacy": 0}
        data["events"] = [e for e in data["events"] if e.get("power") != "japan"]

    quiet = run(edited("border_accord.yaml", starve_japan), seeds=10)
    assert quiet.effort[:, :, :, c].max() == 0, "no Japanese gain, no Chinese reaction"


def test_pattern_8_cancelled_summit_delays_japans_diplomatic_gain():
    cancelled = run(scenario("summit_cancelled.yaml"))
    held = run(edited("summit_cancelled.yaml", drop_events("summit_cancelled")))
    j = power(held, "japan")
    dipl_held = held.diplomatic[:, :, :, j].sum(axis=2)  # (T + 1, R)
    dipl_cancelled = cancelled.diplomatic[:, :, :, j].sum(axis=2)
    summit_step, delayed_step = 3, 5  # 2025Q3, and two quarters later
    for t in range(summit_step, delayed_step):
        _, _, high = paired_ci(dipl_cancelled[t], dipl_held[t])
        assert high < 0, f"step {t}: Japan's diplomatic capital should lag while delayed"
    gap_during = (dipl_held[summit_step] - dipl_cancelled[summit_step]).mean()
    gap_after = (dipl_held[delayed_step] - dipl_cancelled[delayed_step]).mean()
    assert abs(gap_after) < 0.5 * gap_during, "once held, the summit's gain is mostly caught up"


RICHARDSON_STABLE = [
    # a, b, m, n, g, h  (a: blue's sensitivity to red, m: blue's restraint, g: its grievance)
    (0.2, 0.3, 0.5, 0.4, 0.1, 0.05),
    (0.1, 0.1, 0.3, 0.3, 0.2, 0.2),
    (0.05, 0.4, 0.6, 0.2, 0.0, 0.3),
    (0.3, 0.2, 0.9, 0.8, 0.5, 0.1),
]


def richardson(a, b, m, n, g, h, steps=400) -> np.ndarray:
    sc = load_scenario(SCENARIOS / "richardson.yaml", [
        ("powers.blue.reaction.red.sensitivity", a), ("powers.red.reaction.blue.sensitivity", b),
        ("powers.blue.restraint", m), ("powers.red.restraint", n),
        ("powers.blue.reaction.red.grievance", g), ("powers.red.reaction.blue.grievance", h),
    ], steps=steps)
    structure, params = compile_scenario(sc)
    return simulate(make_batch(structure, repeat(params, 1), [sc.seed])).effort[0, 0]


@pytest.mark.parametrize("a,b,m,n,g,h", RICHARDSON_STABLE)
def test_pattern_9_richardson_equilibrium(a, b, m, n, g, h):
    assert m * n > a * b
    x_star = (a * h + n * g) / (m * n - a * b)
    y_star = (b * g + m * h) / (m * n - a * b)
    blue, red = richardson(a, b, m, n, g, h)
    assert abs(blue - x_star) < 1e-6 and abs(red - y_star) < 1e-6, (blue, red, x_star, y_star)


def test_pattern_9_richardson_runs_away_when_ab_exceeds_mn():
    a, b, m, n, g, h = 0.6, 0.5, 0.2, 0.3, 0.1, 0.1
    assert a * b > m * n
    efforts = [richardson(a, b, m, n, g, h, steps=t) for t in (50, 100, 150)]
    sums = [float(e.sum()) for e in efforts]
    assert sums[0] < sums[1] < sums[2] and sums[2] > 1e6, sums


def test_scenario_files_each_open_with_their_question():
    for path in sorted(SCENARIOS.glob("*.yaml")):
        head = path.read_text().splitlines()[:8]
        assert head[0].startswith("# "), path.name
        assert any("Question:" in line for line in head), f"{path.name} has no question comment"
        assert copy.deepcopy(load_scenario(path)).question, path.name
