"""What every part of the scenario schema shares: the strict frozen base and its field types.

Units: money in USD millions per quarter (budgets) or USD millions (stocks); shares, stability,
openness, probabilities and tolerances are fractions in [0, 1].
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
"""A share, probability or tolerance in [0, 1]."""
NonNegative = Annotated[float, Field(ge=0.0)]
"""A number of at least 0 (money, a weight)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, allow_inf_nan=False)


class InputInfo(_Strict):
    """When an input's value became known, and what kind of input it is (docs/HINDCAST.md).

    Attributes:
        known: The year of the latest figure the value was set from (a fitted value: the last
            year of the calibration window it was fitted on).
        kind: ``conditioning`` (an exogenous driver a forecaster would be handed, never part of
            a scored observable) or ``information`` (set from figures, or fitted).
        source: Where the value came from, in words.
    """

    known: Annotated[int, Field(ge=1990, le=2100)]
    kind: Literal["conditioning", "information"]
    source: str = ""
