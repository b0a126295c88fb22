"""Each pattern fails under its named mutant (docs/ODD.md, section 1: the table of patterns).

A pattern that no mutant kills would hold whatever the mechanism does; these tests show that each
one measures its mechanism. Patterns 2 (a starting condition) and 9 (an analytic result) are
exempt. The mutants live beside the checks, in tests/model_patterns.py.
"""

import pytest
from model_patterns import CHECKS, MUTANTS


def test_every_pattern_has_a_mutant():
    assert set(MUTANTS) == set(CHECKS)


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_pattern_fails_under_its_mutant(check):
    holds, measured = check(MUTANTS[check])
    assert not holds, f"{check.__name__} still holds under {MUTANTS[check]}: {measured}"
