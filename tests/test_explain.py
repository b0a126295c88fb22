"""Tests for sim.whatif.explain and ``sim explain``: the chronicle tells what was recorded."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.outputs.run import run_scenario, write_run
from sim.outputs.units import format_usd_m
from sim.scenario import load_scenario
from sim.whatif.explain import ExplainError, chronicle

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def accord_run(tmp_path_factory) -> Path:
    scenario = load_scenario(DATA / "small_accord.yaml")
    return write_run(run_scenario(scenario), out=tmp_path_factory.mktemp("runs"), plot=False)


@pytest.fixture(scope="module")
def replicated_run(tmp_path_factory) -> Path:
    scenario = load_scenario(DATA / "small.yaml")
    return write_run(run_scenario(scenario, 3), out=tmp_path_factory.mktemp("reps"), plot=False)


def test_chronicle_tells_events_moves_and_reactions(accord_run):
    story = chronicle(accord_run)
    quarters = dict(story.quarters)
    assert story.question == "How does a small two-power contest evolve?"
    assert any("Japan pays a state visit to Beta: diplomatic capital +USD 30.0 m (Prime "
               "minister's visit)" in s for s in quarters["2025Q3"])
    assert any(s.startswith("Border accord: Alpha resolve all open disputes; stability +0.10")
               for s in quarters["2025Q4"])
    assert quarters["2025Q1"][0].startswith("Opening moves: ")
    # each reaction told is one recorded in moves.csv, with its trigger and size
    moves = pd.read_csv(accord_run / "moves.csv")
    reactions = moves[(moves["type"] == "reaction") & (moves["quarter"] == "2026Q1")]
    top = reactions.loc[reactions["response"].abs().idxmax()]
    who = top["power"].title()
    expected = (f"{who}'s reactive spending in {top['state'].title()} rose from USD ")
    told = [s for s in quarters["2026Q1"] if s.startswith(expected)]
    assert len(told) == 1, quarters["2026Q1"]
    assert (f"to USD {top['effort_after']:,.1f} m per quarter: reacting to "
            f"{top['toward'].title()}'s perceived share of {100 * top['signal']:.1f}%") in told[0]
    assert f"added {format_usd_m(top['response'])}" in told[0]
    text = story.text()
    assert text.startswith("small_accord, seed 5: 2024Q4 to 2027Q4")
    assert "Outcome" in text


def test_money_and_shares_read_in_units(accord_run):
    story = chronicle(accord_run)
    opening = dict(story.quarters)["2025Q1"][0]
    assert re.search(r"invested USD [\d,]+\.\d m per quarter in", opening), opening
    traj = pd.read_csv(accord_run / "trajectories.csv")
    end = traj[(traj["step"] == traj["step"].max()) & (traj["state"] == "alpha")]
    japan = end.set_index("power").loc["japan", "share"]
    assert any(f"-> {100 * japan:.1f}%" in s for s in story.outcome if s.startswith("Alpha"))


@pytest.fixture(scope="module")
def push_run(tmp_path_factory) -> Path:
    scenario = load_scenario(DATA / "small_china_push.yaml")
    return write_run(run_scenario(scenario), out=tmp_path_factory.mktemp("push"), plot=False)


def test_why_names_the_rival_moves_before_the_largest_fall(push_run):
    story = chronicle(push_run, power="japan", limit=2)
    traj = pd.read_csv(push_run / "trajectories.csv")
    beta = traj[(traj["state"] == "beta") & (traj["power"] == "japan")].set_index("step")
    fall = beta["share"].diff().idxmin()
    quarter = beta.loc[fall, "quarter"]
    assert quarter == "2026Q1"  # the quarter China's budget rises tenfold
    told = [s for s in story.why if s.startswith("Beta: Japan's largest fall")]
    assert len(told) == 1, story.why
    sentence = told[0]
    assert f"in {quarter} (" in sentence
    assert "China's budget change (2026Q1)" in sentence
    moves = pd.read_csv(push_run / "moves.csv")
    china = moves[(moves["power"] == "china") & (moves["state"] == "beta")
                  & (moves["kind"] == "invest") & (moves["step"] == fall)]
    assert f"to USD {float(china['amount_usd_m'].iloc[0]):,.1f} m per quarter" in sentence
    assert "Why" in story.text()
    # without --power there is no why; with it, no sentence about another power's share
    assert chronicle(push_run).why == []
    assert all("China's largest" not in s for s in story.why)


def test_why_names_the_campaign_behind_a_retreat(tmp_path):
    run = write_run(run_scenario(load_scenario(DATA / "small_campaign.yaml")), out=tmp_path,
                    plot=False)
    story = chronicle(run, power="japan", state="beta", limit=2)
    moves = pd.read_csv(run / "moves.csv")
    invest = moves[(moves["type"] == "move") & (moves["power"] == "japan")
                   & (moves["state"] == "beta") & (moves["kind"] == "invest")]
    amounts = invest.set_index("step")["amount_usd_m"]
    cut = amounts.diff().idxmin()
    quarter = invest.set_index("step").loc[cut, "quarter"]
    told = [s for s in story.why if "largest cut in spending" in s]
    assert len(told) == 1, story.why
    sentence = told[0]
    assert sentence.startswith(f"Beta: Japan's largest cut in spending was in its investment, "
                               f"in {quarter} (-USD {-amounts.diff()[cut]:,.1f} m per quarter, "
                               f"to USD {amounts[cut]:,.1f} m per quarter)")
    assert "China's destabilisation campaign (2025Q3)" in sentence
    traj = pd.read_csv(run / "trajectories.csv").drop_duplicates(["step", "state"])
    stability = traj[traj["state"] == "beta"].set_index("step")["stability"]
    first = max(1, cut - 4)
    assert (f"stability fell from {stability[first - 1]:.2f} to {stability[cut]:.2f}"
            in sentence)


def test_cli_explain_prints_why(push_run, capsys):
    assert main(["explain", str(push_run), "--power", "japan", "--state", "beta"]) == 0
    out = capsys.readouterr().out
    why = out.split("\nWhy\n")[1].split("\nOutcome\n")[0]
    assert "Beta: Japan's largest fall in share was in 2026Q1" in why
    assert "Alpha" not in why


def test_accord_raises_investment_in_the_chronicle(accord_run):
    quarters = dict(chronicle(accord_run, power="china", state="alpha").quarters)
    assert any(s.startswith("China invested") and "up from" in s for s in quarters["2025Q4"])


def test_filters_and_limit(accord_run):
    story = chronicle(accord_run, power="Japan", state="beta", limit=1)
    assert "(power: Japan; state: Beta)" in story.title
    for _, sentences in story.quarters:
        told = [s for s in sentences if not s.startswith("...")]
        for sentence in told:
            assert "Alpha" not in sentence
            assert "Japan" in sentence
        moves = [s for s in told if " invested " in s or " spent " in s or "stopped" in s]
        assert len(moves) <= 1
    assert all("Alpha" not in s for s in story.outcome)
    wide = chronicle(accord_run, limit=10)
    assert sum(len(s) for _, s in wide.quarters) > sum(len(s) for _, s in
                                                      chronicle(accord_run, limit=1).quarters)


def test_replicated_run_by_seed(replicated_run):
    first = chronicle(replicated_run)
    third = chronicle(replicated_run, seed=7)
    assert "seed 5" in first.title and "seed 7" in third.title
    assert first.text() != third.text()


def test_errors(accord_run, replicated_run, tmp_path):
    with pytest.raises(ExplainError, match="did you mean 'japan'"):
        chronicle(accord_run, power="japn")
    with pytest.raises(ExplainError, match="no such state"):
        chronicle(accord_run, state="mars")
    with pytest.raises(ExplainError, match="no such folder"):
        chronicle(tmp_path / "nothing")
    with pytest.raises(ExplainError, match="not a run folder"):
        chronicle(tmp_path)
    with pytest.raises(ExplainError, match="not a seed of this run"):
        chronicle(replicated_run, seed=99)
    with pytest.raises(ExplainError, match="--limit 0"):
        chronicle(accord_run, limit=0)


def test_cli_explain(accord_run, capsys):
    assert main(["explain", str(accord_run), "--power", "japan", "--limit", "2"]) == 0
    out = capsys.readouterr().out
    assert "2025Q3" in out and "state visit" in out
    assert main(["explain", str(accord_run), "--power", "france"]) == 2
    err = capsys.readouterr().err
    assert "--power 'france'" in err and "Traceback" not in err


def _reaction_lines(story):
    return [(q, s) for q, sentences in story.quarters for s in sentences
            if "reactive spending in" in s]


def test_a_reaction_tells_the_net_change_with_restraint(tmp_path):
    """The chronicle says what the reaction added and what restraint took back, so the
    quarter's figure follows from the one before (issue: "raised by 0.55 m ... it is now
    2.2 m" after a quarter at 2.3 m)."""
    run = write_run(run_scenario(load_scenario(ROOT / "scenarios" / "border_accord.yaml")),
                    out=tmp_path, plot=False)
    story = chronicle(run, power="japan", state="turkmenistan", limit=3)
    traj = pd.read_csv(run / "trajectories.csv")
    japan = traj[(traj["power"] == "japan") & (traj["state"] == "turkmenistan")]
    effort = japan.set_index("quarter")["effort"]
    moves = pd.read_csv(run / "moves.csv")
    mine = moves[(moves["type"] == "reaction") & (moves["power"] == "japan")
                 & (moves["state"] == "turkmenistan")].set_index("quarter")
    single = [(q, s) for q, s in _reaction_lines(story) if " to " not in q]
    assert single, story.text()
    for quarter, sentence in single:
        quarters = list(effort.index)
        before = effort[quarters[quarters.index(quarter) - 1]]
        after = effort[quarter]
        added = mine.loc[quarter, "response"]
        assert f"from {format_usd_m(before)} to {format_usd_m(after)} per quarter" in sentence \
            or f"at about {format_usd_m(after)}" in sentence, sentence
        assert f"added {format_usd_m(added)}" in sentence, sentence
        if before > 0:
            taken = 0.25 * before  # Japan's restraint in the baseline
            assert f"restraint took back {format_usd_m(taken)}" in sentence, sentence
            assert after == pytest.approx(before + added - taken, abs=1e-6)


def test_perceived_share_is_explained_once_with_the_actual_share(tmp_path):
    run = write_run(run_scenario(load_scenario(ROOT / "scenarios" / "border_accord.yaml")),
                    out=tmp_path, plot=False)
    story = chronicle(run)
    lines = [s for _, s in _reaction_lines(story) if "China's perceived share" in s
             and "in Turkmenistan" in s]
    explained = [s for s in lines if "as Japan sees it" in s]
    assert len(explained) == 1 and lines[0] == explained[0], lines[:3]
    traj = pd.read_csv(run / "trajectories.csv")
    first = traj[(traj["step"] == 1) & (traj["state"] == "turkmenistan")
                 & (traj["power"] == "china")]["share"].iloc[0]
    assert f"its actual share, {100 * first:.1f}%, looks" in explained[0], explained[0]
    assert all("(actual " in s for s in lines[1:]), lines[1:3]


def test_repeated_quarters_are_folded_into_a_span(tmp_path):
    run = write_run(run_scenario(load_scenario(ROOT / "scenarios" / "border_accord.yaml")),
                    out=tmp_path, plot=False)
    story = chronicle(run)
    spans = [q for q, _ in story.quarters if " to " in q]
    assert spans, [q for q, _ in story.quarters]
    for span in spans:
        first, rest = span.split(" to ")
        last, count = rest.split(" (")
        steps = pd.read_csv(run / "trajectories.csv").drop_duplicates("quarter")
        quarters = list(steps["quarter"])
        assert int(count.split()[0]) == quarters.index(last) - quarters.index(first) + 1 >= 3
    # every quarter is told at most once
    told = []
    for q, _ in story.quarters:
        if " to " in q:
            first, last = q.split(" (")[0].split(" to ")
            told += quarters[quarters.index(first):quarters.index(last) + 1]
        else:
            told.append(q)
    assert len(told) == len(set(told))
    assert len(story.quarters) < 20  # 40 quarters, most of them one repeated reaction
