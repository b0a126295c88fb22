"""The ``rules:`` block of a scenario: model-wide rule parameters (docs/ODD.md).

Each class is one group of rules, with its units in its docstring; the engine compiles them
into its parameter arrays (sim/engine/params.py).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sim.scenario.fields import Fraction, NonNegative, _Strict


class Decay(_Strict):
    """Fraction of each stock lost per quarter."""

    footprint: Fraction = 0.01
    goodwill: Fraction = 0.03
    diplomatic: Fraction = 0.08


class Weights(_Strict):
    """Weight of each channel's stock in a power's attraction (influence)."""

    footprint: NonNegative = 1.0
    goodwill: NonNegative = 1.0
    diplomatic: NonNegative = 1.0


class RiskRules(_Strict):
    """How risk is made and how it gates investment.

    Attributes:
        instability_weight: Risk per unit of instability (1 - stability).
        dispute_weight: Risk per open border dispute.
        softness: Width of the logistic investment gate around the tolerance.
    """

    instability_weight: NonNegative = 1.0
    dispute_weight: NonNegative = 0.15
    softness: Annotated[float, Field(gt=0.0, le=1.0)] = 0.05


class VisibilityRules(_Strict):
    """What visibility does.

    Attributes:
        reaction_gain: Rivals perceive a power's signals times ``1 + gain * (2v - 1)``.
        diplomatic_gain: Diplomatic capital bought per USD of investment at visibility 1.
    """

    reaction_gain: Fraction = 0.8
    diplomatic_gain: NonNegative = 0.2


class StabilityRules(_Strict):
    """How stability moves.

    Attributes:
        recovery: Fraction of the gap to the target closed each quarter.
        destabilise_per_usd_m: Stability lost per USD million of destabilising spend.
    """

    recovery: Fraction = 0.1
    destabilise_per_usd_m: NonNegative = 0.002


class NoiseRules(_Strict):
    """Random noise (standard deviations per quarter); zero means none is drawn."""

    stability_sd: Annotated[float, Field(ge=0.0, le=1.0)] = 0.01
    reception_sd: Annotated[float, Field(ge=0.0, le=1.0)] = 0.05


class DependenceWeights(_Strict):
    """Influence stock (USD millions equivalent) per USD million of each dependence channel."""

    energy: Annotated[float, Field(ge=0.0, le=10.0)] = 0.5
    remittances: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0
    security: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0
    debt: Annotated[float, Field(ge=0.0, le=10.0)] = 0.5


class DependenceDecay(_Strict):
    """Fraction of each dependence channel lost per quarter (negative: it grows)."""

    energy: Annotated[float, Field(ge=-0.1, le=0.5)] = 0.005
    remittances: Annotated[float, Field(ge=-0.1, le=0.5)] = 0.005
    security: Annotated[float, Field(ge=-0.1, le=0.5)] = 0.005
    debt: Annotated[float, Field(ge=-0.1, le=0.5)] = 0.01


class DependenceRules(_Strict):
    """How structural dependence counts and changes.

    Attributes:
        weights: Influence stock (USD millions equivalent) per USD million of each channel's
            dependence.
        decay: Fraction of each channel's dependence lost per quarter (negative: it grows).
    """

    weights: DependenceWeights = DependenceWeights()
    decay: DependenceDecay = DependenceDecay()


class ReactionRules(_Strict):
    """What reactive spending does.

    Attributes:
        pressure_share: Fraction of reactive spending used as leverage on the rivals the power
            reacts to (it buys the reacting power nothing); the rest is invested in the state.
        leverage: How strongly leverage lowers a rival's reception: reception is divided by
            1 + leverage x (structural share of the reactor) x (pressure spending / the
            state's usual inflow from all the powers).
    """

    pressure_share: Fraction = 0.5
    leverage: Annotated[float, Field(ge=0.0, le=100.0)] = 4.0


class GoodsRules(_Strict):
    """The goods channel of the trade observables (docs/ODD.md section 7.11).

    Attributes:
        enabled: Whether trade with the powers has a goods channel; ``false`` (the mutant)
            attributes all of the observed start to the investment and energy ties.
        supply_elasticity: Elasticity of goods trade to the partner's export supply.
        demand_elasticity: Elasticity of goods trade to the state's import demand.
        investment_trade: Trade a year that a USD of the partner's investment stock carries
            (equipment, inputs, output shipped home), per year.
        export_growth: Nominal growth per year of each power's merchandise exports (an unlisted
            power grows as the world).
        world_export_growth: Nominal growth per year of world merchandise exports.
    """

    enabled: bool = True
    supply_elasticity: Annotated[float, Field(ge=0.0, le=5.0)] = 1.0
    demand_elasticity: Annotated[float, Field(ge=0.0, le=5.0)] = 1.0
    investment_trade: Annotated[float, Field(ge=0.0, le=5.0)] = 0.1
    export_growth: dict[str, Annotated[float, Field(ge=-0.5, le=1.0)]] = {}
    world_export_growth: Annotated[float, Field(ge=-0.5, le=1.0)] = 0.025


class Rules(_Strict):
    """Model-wide rule parameters (documented in docs/ODD.md)."""

    decay: Decay = Decay()
    weights: Weights = Weights()
    risk: RiskRules = RiskRules()
    hedging: Annotated[float, Field(ge=0.0, le=20.0)] = 3.0
    hedging_max_premium: Annotated[float, Field(ge=0.0, le=10.0)] = 0.5
    dependence: DependenceRules = DependenceRules()
    reaction: ReactionRules = ReactionRules()
    blocked_investment_to_soft_power: Fraction = 0.5
    visibility: VisibilityRules = VisibilityRules()
    stability: StabilityRules = StabilityRules()
    noise: NoiseRules = NoiseRules()
    goods: GoodsRules = GoodsRules()
