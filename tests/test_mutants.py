"""Each pattern fails under its named mutant, and every mechanism has a mutant some pattern catches
(docs/ODD.md, section 1: the table of patterns).

A pattern that no mutant kills would hold whatever the mechanism does; these tests show that each
one measures its mechanism. Patterns 2 (a starting condition) and 9 (an analytic result) are
exempt. The mutants live beside the checks, in tests/model_patterns.py.

:data:`MECHANISMS` lists the model's mechanisms, each with the settings that remove it and the
patterns expected to catch it; the test asserts that at least one of them fails.
"""

import pytest
from model_patterns import (
    CHECKS,
    MUTANTS,
    RATIONED,
    china_defends,
    crowding_out_bites,
    hedging_caps_the_leader,
    leverage_bites,
    reactions_bite,
    remittances_matter,
    rivals_answer_anywhere,
    structure_where_the_record_puts_it,
    swapped,
    unlimited,
)

from sim.scenario import CHANNELS, DEPENDENCE

MECHANISMS = {
    **{f"no rationing of {kind}": (unlimited(kind), [RATIONED[kind]]) for kind in CHANNELS},
    "no leverage": ([("rules.reaction.leverage", 0.0)], [leverage_bites]),
    "no crowding out": (unlimited("invest"), [crowding_out_bites]),
    "local reaction ceilings (the earlier rule)": (
        [("powers.china.reserve", None), ("powers.russia.reserve", None),
         ("powers.china.max_spend_multiplier", 3.0), ("powers.russia.max_spend_multiplier", 3.0)],
        [rivals_answer_anywhere]),
    "rivals cannot answer": ([("powers.china.reserve", 0.0), ("powers.russia.reserve", 0.0)],
                             [reactions_bite, china_defends]),
    "no hedging": ([("rules.hedging_max_premium", 0.0)], [hedging_caps_the_leader]),
    "no structural ties": ([(f"rules.dependence.weights.{c}", 0.0) for c in DEPENDENCE],
                           [structure_where_the_record_puts_it, remittances_matter]),
    "swapped dependence blocks (Kazakhstan, Turkmenistan)": (
        swapped("dependence", "kazakhstan", "turkmenistan"),
        [structure_where_the_record_puts_it]),
    "swapped initial stocks (Kazakhstan, Uzbekistan)": (
        swapped("initial", "kazakhstan", "uzbekistan"), [structure_where_the_record_puts_it]),
    # "no goods channel" (rules.goods.enabled: false) is caught by the record's "China outgrows
    # Russia" in tests/test_goods_trade.py::test_mutant_no_goods_channel_fails_the_record: it
    # needs two hindcasts, so it lives beside the goods channel's own tests.
}
"""Each mechanism: (settings that remove it, the patterns expected to catch it)."""


def test_every_pattern_has_a_mutant():
    assert set(MUTANTS) == set(CHECKS)


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_pattern_fails_under_its_mutant(check):
    holds, measured = check(MUTANTS[check])
    assert not holds, f"{check.__name__} still holds under {MUTANTS[check]}: {measured}"


@pytest.mark.parametrize("mechanism", list(MECHANISMS))
def test_every_mechanism_is_caught_by_a_pattern(mechanism):
    settings, catchers = MECHANISMS[mechanism]
    verdicts = {c.__name__: c(settings) for c in catchers}
    assert any(not holds for holds, _ in verdicts.values()), (
        f"no pattern catches {mechanism!r}: {verdicts}")
