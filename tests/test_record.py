"""Pattern 14, the record: the hindcast reproduces the directions of 2014-2024 (issue 11 item 6).

Each fact is a function of a hindcast folder (``sim hindcast``'s ``observables.csv`` and
``skill.csv``) that returns (holds, what was measured), read on the model's mean. The facts
are those of docs/HINDCAST.md, "Directional facts" (the observations behind them are rows of
data/observed/*.csv, with their sources):

1. China's trade with the region grows faster than Russia's (region ``trade_usd_bn``, the last
   year over the first).
2. China overtakes Russia in Kazakhstan by 2023 (``trade_share``: below Russia's in the first
   year, above it in 2023).
3. Turkmenistan stays tied to China (its gas buyer since Gazprom's stop in 2016): every year
   China is Turkmenistan's largest partner of the three, with at least 30% of its trade and at
   least twice Russia's share.
4. Tajik and Kyrgyz remittances from Russia fall in 2015 (by at least a tenth of their 2014
   level) and recover to new highs by 2021-2023 (above 2014), in USD (``remittances_usd_bn``),
   the unit the record states the fact in (data/observed/remittances.csv: 3.83 to 1.28 bn;
   1.81 to 1.34 bn, then 2.7 bn in 2023). As a share of GDP the fact would not hold on the
   record itself for Kyrgyzstan (2.53 bn from Russia in 2023 is a smaller share of a GDP that
   grew by two thirds).
5. Japan's trade share stays small and flat: below 5% in every state and the region, every
   year, moving by less than 1.5 percentage points over the run.
6. Out of sample, the model beats persistence on every observable it is scored on: the 90%
   bootstrap interval of the pooled relative MAE (model MAE over persistence MAE) lies wholly
   below 1, on at least 5 test points (``skill.csv``'s ``verdict``; docs/HINDCAST.md, "Skill").

The test on the shipped hindcast runs ``sim hindcast`` with its defaults (the history scenario,
the shipped posterior); it is skipped only while those files are absent. The other tests check
that each fact holds on a record built to satisfy it and fails on one that breaks it, so the
checks themselves cannot silently pass.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from clihelp import run_sim

from sim.engine.approval import soft_of_approval
from sim.history.hindcast import DEFAULT_SCENARIO
from sim.uncertainty import DEFAULT_POSTERIOR

Verdict = tuple[bool, str]
STATES = ("kazakhstan", "kyrgyzstan", "tajikistan", "turkmenistan", "uzbekistan", "region")
MODELLED = ("trade_share", "trade_usd_bn", "remittances_gdp")


def _model(folder: Path) -> pd.DataFrame:
    return pd.read_csv(Path(folder) / "observables.csv")


def _series(table: pd.DataFrame, state: str, partner: str, observable: str) -> pd.Series:
    """The model's mean by year for one series (empty when the model lacks it)."""
    rows = table[(table["state"] == state) & (table["partner"] == partner)
                 & (table["observable"] == observable)]
    return rows.set_index("year")["model_mean"].sort_index()


def china_outgrows_russia(folder: Path) -> Verdict:
    """China's trade with the region grows faster than Russia's, first year to last."""
    table = _model(folder)
    growth = {}
    for partner in ("china", "russia"):
        s = _series(table, "region", partner, "trade_usd_bn")
        if s.empty:
            return False, f"no region trade_usd_bn for {partner}"
        growth[partner] = s.iloc[-1] / s.iloc[0]
    return (bool(growth["china"] > growth["russia"]),
            f"region trade x{growth['china']:.2f} with China, x{growth['russia']:.2f} with Russia")


def china_overtakes_russia_in_kazakhstan(folder: Path) -> Verdict:
    """China's share of Kazakhstan's trade is below Russia's at first and above it in 2023."""
    table = _model(folder)
    china = _series(table, "kazakhstan", "china", "trade_share")
    russia = _series(table, "kazakhstan", "russia", "trade_share")
    if 2023 not in china.index or 2023 not in russia.index:
        return False, "no Kazakh trade_share for China and Russia in 2023"
    first = china.index[0]
    holds = bool(china[first] < russia[first] and china[2023] > russia[2023])
    return holds, (f"China {china[first]:.1%} vs Russia {russia[first]:.1%} in {first}; "
                   f"{china[2023]:.1%} vs {russia[2023]:.1%} in 2023")


def turkmenistan_tied_to_china(folder: Path) -> Verdict:
    """Every year China is Turkmenistan's largest partner, >= 30% and >= 2x Russia's share."""
    table = _model(folder)
    shares = {p: _series(table, "turkmenistan", p, "trade_share")
              for p in ("china", "russia", "japan")}
    if shares["china"].empty:
        return False, "no Turkmen trade_share for China"
    china = shares["china"]
    others = pd.concat([shares["russia"], shares["japan"]], axis=1).max(axis=1)
    russia = shares["russia"].reindex(china.index).fillna(0.0)
    bad = [int(y) for y in china.index if not (china[y] >= 0.3 and china[y] > others.get(y, 0.0)
                                                and china[y] >= 2 * russia[y])]
    return not bad, (f"China's share {china.min():.1%} to {china.max():.1%}, Russia's up to "
                     f"{russia.max():.1%}" + (f"; fails in {bad}" if bad else ""))


def remittances_fall_and_recover(folder: Path) -> Verdict:
    """Tajik and Kyrgyz remittances (USD) fall >= 10% in 2015 and exceed 2014 by 2021-2023."""
    table = _model(folder)
    holds, measured = True, []
    for state in ("tajikistan", "kyrgyzstan"):
        s = _series(table, state, "russia", "remittances_usd_bn")
        if not {2014, 2015, 2021, 2022, 2023} <= set(s.index):
            return False, f"no {state} remittances_usd_bn for 2014-2023"
        peak = s.loc[2021:2023].max()
        holds &= bool(s[2015] <= 0.9 * s[2014] and peak > s[2014])
        measured.append(f"{state} USD {s[2014]:.2f} bn (2014), {s[2015]:.2f} bn (2015), "
                        f"{peak:.2f} bn (2021-2023 high)")
    return holds, "; ".join(measured)


def japan_small_and_flat(folder: Path) -> Verdict:
    """Japan's trade share is below 5% and moves by less than 1.5 points, in every state."""
    table = _model(folder)
    bad, measured = [], []
    for state in STATES:
        s = _series(table, state, "japan", "trade_share")
        if s.empty:
            continue
        spread = s.max() - s.min()
        measured.append(f"{state} {s.min():.1%}-{s.max():.1%}")
        if s.max() >= 0.05 or spread >= 0.015:
            bad.append(state)
    if not measured:
        return False, "no Japanese trade_share"
    return not bad, "; ".join(measured) + (f"; fails in {bad}" if bad else "")


def beats_persistence(folder: Path) -> Verdict:
    """Every scored observable's pooled relative MAE has its whole 90% interval below 1."""
    skill = pd.read_csv(Path(folder) / "skill.csv")
    pooled = skill[skill["state"] == "pooled"].set_index("observable")
    missing = [o for o in MODELLED if o not in pooled.index]
    holds = not missing and bool((pooled["verdict"] == "beats persistence").all())
    return holds, "; ".join(
        f"{o} {r.rel_mae:.2f} (90%: {r.rel_mae_p5:.2f}-{r.rel_mae_p95:.2f}, {r.n_test} points, "
        f"{r.verdict})" for o, r in pooled.iterrows()) + (
        f"; not scored: {missing}" if missing else "")


SOFT_TOLERANCE = 0.05
"""How far below China's soft share Japan's may be and still count as level with it."""


def kyrgyz_surveys_rank_russia_first_and_japan_with_china(folder: Path) -> Verdict:
    """In Kyrgyzstan, Russia's soft share tops China's (2018, 2019); Japan's is level (2018).

    The record: IRI's polls of Kyrgyzstan (data/observed/approval.csv, ``relations_good``)
    rate relations good with Russia 97% and 98%, with China 39% and 55% (2018, 2019) and with
    Japan 41% (2018); Gallup's approval of Russia's leadership was 88% and 84% (2009, 2010).
    The model has no ``relations_good``: the soft shares are read back from its approval
    (:func:`sim.engine.approval.soft_of_approval`), and any question that rises with the soft
    share ranks the powers alike, so only the order is compared. "Level": Japan's soft share
    at most :data:`SOFT_TOLERANCE` below China's.
    """
    table = _model(folder)
    soft = {p: _series(table, "kyrgyzstan", p, "leadership_approval")
            for p in ("russia", "china", "japan")}
    if any(not {2018, 2019} <= set(s.index) for s in soft.values()):
        return False, "no Kyrgyz leadership_approval for Russia, China and Japan in 2018-2019"
    soft = {p: pd.Series(soft_of_approval(s.to_numpy()), index=s.index) for p, s in soft.items()}
    russia_first = all(soft["russia"][y] > soft["china"][y] for y in (2018, 2019))
    japan_level = bool(soft["japan"][2018] >= soft["china"][2018] - SOFT_TOLERANCE)
    return russia_first and japan_level, "; ".join(
        f"{y}: soft share Russia {soft['russia'][y]:.2f}, China {soft['china'][y]:.2f}, Japan "
        f"{soft['japan'][y]:.2f}" for y in (2018, 2019))


FACTS: list[Callable[[Path], Verdict]] = [
    china_outgrows_russia, china_overtakes_russia_in_kazakhstan, turkmenistan_tied_to_china,
    remittances_fall_and_recover, japan_small_and_flat, beats_persistence,
    kyrgyz_surveys_rank_russia_first_and_japan_with_china]


# --------------------------------------------------------------------------------------------
# The shipped hindcast
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> Path:
    """``sim hindcast`` with its defaults: the history scenario and the shipped posterior."""
    absent = [p for p in (DEFAULT_SCENARIO, DEFAULT_POSTERIOR) if not p.is_file()]
    if absent:
        pytest.skip("the shipped hindcast needs the history scenario and the calibrated "
                    f"posterior (issue 11 items 2-3), not there yet: {absent}")
    out = tmp_path_factory.mktemp("shipped")
    result = run_sim("hindcast", "--cutoff", "2019", "--workers", "2", "--quiet", "--out", out,
                     timeout=600)
    assert result.returncode == 0, result.stderr
    (folder,) = (out / "hindcast").iterdir()
    return folder


FAILED_ON_THE_RECORD = {
    china_overtakes_russia_in_kazakhstan: (
        "the model does not reproduce it on this protocol: China 18.6% vs Russia 19.0% of "
        "Kazakhstan's trade in 2014, 19.6% vs 21.7% in 2023 (observed 21.3% vs 18.6%); the "
        "sanctions' rerouting at the model's default (0.3) adds to Russia's trade"),
    turkmenistan_tied_to_china: (
        "the model does not reproduce it in full: China's share of Turkmen trade 22.9-38.4% "
        "(below 30% in 2015-2017, 2019 and 2020, when the gas price fell) against 55% observed "
        "in 2024; Turkmenistan's other trade does not fall with the gas price"),
    beats_persistence: (
        "after 2019, on the 90% bootstrap interval of the pooled relative MAE, no observable "
        "beats persistence: trade shares 1.23 (0.90-1.85, 15 points) and trade in USD 0.86 "
        "(0.65-1.21, 23 points) cannot tell; remittances as a share of GDP 1.52 (0.56-3.08, "
        "5 points) cannot tell; remittances in USD (1 point) and leadership approval (2 "
        "points, 0.97) have too few points for a verdict"),
    kyrgyz_surveys_rank_russia_first_and_japan_with_china: (
        "the model fails it: its soft shares in Kyrgyzstan, read back from its approval, are "
        "Russia 0.36, China 0.57, Japan 0.07 in 2018 (0.35, 0.58, 0.07 in 2019; 0.50, 0.47, "
        "0.03 at the end of 2014), against IRI's relations rated good with Russia 97%, Japan "
        "41%, China 39% (2018); China's goodwill and diplomatic capital pass Russia's in 2015 "
        "and Japan's soft stock is a tenth of China's"),
}
"""Facts the shipped hindcast fails, measured: strict, so a fix that makes one hold fails the
test until its entry is removed here (and the README and docs/HINDCAST.md say so)."""


@pytest.mark.parametrize("fact", [
    pytest.param(f, marks=pytest.mark.xfail(strict=True, reason=FAILED_ON_THE_RECORD[f]))
    if f in FAILED_ON_THE_RECORD else f for f in FACTS], ids=lambda f: f.__name__)
@pytest.mark.slow
def test_pattern_14_the_shipped_hindcast_reproduces_the_record(shipped, fact):
    holds, measured = fact(shipped)
    assert holds, f"{fact.__name__}: {measured}"


# --------------------------------------------------------------------------------------------
# The checks can fail
# --------------------------------------------------------------------------------------------


def _textbook() -> dict[tuple[str, str, str], dict[int, float]]:
    """A record with every fact true: model means by series and year, 2014-2024."""
    years = range(2014, 2025)
    series = {
        ("region", "china", "trade_usd_bn"): {y: 45 + 5 * (y - 2014) for y in years},
        ("region", "russia", "trade_usd_bn"): {y: 30 + 1 * (y - 2014) for y in years},
        ("kazakhstan", "china", "trade_share"): {y: 0.14 + 0.008 * (y - 2014) for y in years},
        ("kazakhstan", "russia", "trade_share"): {y: 0.19 - 0.001 * (y - 2014) for y in years},
        ("turkmenistan", "china", "trade_share"): {y: 0.5 for y in years},
        ("turkmenistan", "russia", "trade_share"): {y: 0.1 for y in years},
        ("turkmenistan", "japan", "trade_share"): {y: 0.01 for y in years},
    }
    for state, level in (("tajikistan", 3.8), ("kyrgyzstan", 1.8)):
        path = {2014: level, 2015: 0.7 * level}
        path |= {y: 0.7 * level + 0.06 * level * (y - 2015) for y in range(2016, 2025)}
        series[(state, "russia", "remittances_usd_bn")] = path
    for state in STATES:
        series[(state, "japan", "trade_share")] = {y: 0.012 + 0.0005 * (y - 2014) for y in years}
    for partner, share in (("russia", 0.9), ("china", 0.45), ("japan", 0.44)):
        series[("kyrgyzstan", partner, "leadership_approval")] = {y: share for y in years}
    return series


def _write(folder: Path, series: dict, mase: dict[str, float]) -> Path:
    """A hindcast folder with these model means and pooled relative MAEs (interval +-0.1)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"year": y, "state": s, "partner": p, "observable": o, "model_mean": v,
             "model_p5": v, "model_p95": v, "observed": None}
            for (s, p, o), values in series.items() for y, v in values.items()]
    pd.DataFrame(rows).to_csv(folder / "observables.csv", index=False)
    pd.DataFrame([{"observable": o, "state": "pooled", "partner": "all", "rel_mae": m,
                   "rel_mae_p5": m - 0.1, "rel_mae_p95": m + 0.1, "n_test": 10,
                   "verdict": "beats persistence" if m + 0.1 < 1 else "cannot tell"}
                  for o, m in mase.items()]).to_csv(folder / "skill.csv", index=False)
    return folder


GOOD_MASE = {"trade_share": 0.8, "trade_usd_bn": 0.85, "remittances_gdp": 0.7}


def _break(fact: str, series: dict, mase: dict) -> None:
    """Change a textbook record so that one fact no longer holds."""
    if fact == "china_outgrows_russia":
        series[("region", "russia", "trade_usd_bn")][2024] = 200.0
    elif fact == "china_overtakes_russia_in_kazakhstan":
        series[("kazakhstan", "china", "trade_share")][2023] = 0.15
    elif fact == "turkmenistan_tied_to_china":
        series[("turkmenistan", "russia", "trade_share")][2016] = 0.3
    elif fact == "remittances_fall_and_recover":
        series[("kyrgyzstan", "russia", "remittances_usd_bn")][2015] = 1.7
    elif fact == "japan_small_and_flat":
        series[("uzbekistan", "japan", "trade_share")][2020] = 0.04
    elif fact == "kyrgyz_surveys_rank_russia_first_and_japan_with_china":
        series[("kyrgyzstan", "japan", "leadership_approval")][2018] = 0.05
    else:
        mase["trade_usd_bn"] = 0.95  # below 1, but its interval (0.85-1.05) holds 1


def test_every_fact_holds_on_a_record_built_to_satisfy_it(tmp_path):
    folder = _write(tmp_path / "good", _textbook(), GOOD_MASE)
    for fact in FACTS:
        holds, measured = fact(folder)
        assert holds, f"{fact.__name__}: {measured}"


@pytest.mark.parametrize("fact", FACTS, ids=lambda f: f.__name__)
def test_each_fact_fails_on_a_record_that_breaks_it(tmp_path, fact):
    series, mase = _textbook(), dict(GOOD_MASE)
    _break(fact.__name__, series, mase)
    folder = _write(tmp_path / fact.__name__, series, mase)
    holds, measured = fact(folder)
    assert not holds, f"{fact.__name__} still holds: {measured}"
    others = [f for f in FACTS if f is not fact]
    assert all(f(folder)[0] for f in others), "a break must touch one fact only"


def test_a_missing_observable_fails_rather_than_passes(tmp_path):
    series = {k: v for k, v in _textbook().items() if k[2] != "remittances_usd_bn"}
    folder = _write(tmp_path / "partial", series, {"trade_share": 0.5})
    assert not remittances_fall_and_recover(folder)[0]
    assert not beats_persistence(folder)[0]


def test_the_kyrgyz_order_fails_when_china_tops_russia(tmp_path):
    """The fact's other half: Japan level with China, but China above Russia in 2019."""
    series = _textbook()
    series[("kyrgyzstan", "china", "leadership_approval")][2019] = 0.95
    series[("kyrgyzstan", "japan", "leadership_approval")][2019] = 0.95
    folder = _write(tmp_path / "china-first", series, dict(GOOD_MASE))
    holds, measured = kyrgyz_surveys_rank_russia_first_and_japan_with_china(folder)
    assert not holds, measured
