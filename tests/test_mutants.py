"""Each pattern fails under its named mutant (DESIGN.md section 3).

A pattern that no mutant kills would hold whatever the mechanism does; these tests show that each
one measures its mechanism. Patterns 2 (a starting condition) and 9 (an analytic result) are
exempt.
"""

import pytest
from model_patterns import (
    accord_raises_japans_investment,
    cancelled_summit_delays,
    caution_is_rational,
    china_defends,
    destabilisation_deters_the_cautious,
    hedging_caps_the_leader,
    incumbents_hold,
    latecomer_room,
    reactions_bite,
    remittances_matter,
    visibility_provokes,
)

MUTANTS = [
    (accord_raises_japans_investment, [("rules.risk.instability_weight", 0.0),
                                       ("rules.risk.dispute_weight", 0.0)]),
    (visibility_provokes, [("rules.visibility.reaction_gain", 0.0),
                           ("rules.visibility.diplomatic_gain", 0.0)]),
    (latecomer_room, [("rules.hedging_max_premium", 0.0),
                      ("states.turkmenistan.absorptive_capacity", 1e9)]),
    (hedging_caps_the_leader, [("rules.hedging_max_premium", 0.0)]),
    (destabilisation_deters_the_cautious, [("powers.japan.risk_tolerance", 0.6)]),
    (china_defends, [("powers.china.max_spend_multiplier", 1.0)]),
    (cancelled_summit_delays, [("events.0.diplomatic_gain", 0.0)]),
    (reactions_bite, [("powers.china.max_spend_multiplier", 1.0),
                      ("powers.russia.max_spend_multiplier", 1.0)]),
    (caution_is_rational, [("rules.visibility.reaction_gain", 0.0)]),
    (incumbents_hold, [("rules.hedging_max_premium", 10.0)]),
    (remittances_matter, [("rules.dependence.weights.remittances", 0.0)]),
]


@pytest.mark.parametrize(("check", "mutant"), MUTANTS, ids=[m[0].__name__ for m in MUTANTS])
def test_pattern_fails_under_its_mutant(check, mutant):
    holds, measured = check(mutant)
    assert not holds, f"{check.__name__} still holds under {mutant}: {measured}"
