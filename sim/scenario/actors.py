"""The actors of a scenario: outside powers (budgets, reactions) and host states.

Units: money in USD millions per quarter (budgets) or USD millions (stocks and dependence);
shares, stability, openness and tolerances are fractions in [0, 1].
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, create_model

from sim.scenario.fields import Fraction, NonNegative, _Strict
from sim.scenario.moves import INVESTMENT, MOVES

DEPENDENCE = ("energy", "remittances", "security", "debt")
"""Structural dependence channels, in the order of the engine's dependence axis."""

RULES = ("none", "linear", "threshold", "tit_for_tat")
"""Reaction rules, in the order of the engine's rule codes."""


Budget = create_model(
    "Budget",
    __base__=_Strict,
    __doc__=("A power's baseline spend per quarter, by kind of move, in USD millions.\n\n"
             "Attributes (one per kind in sim/scenario/moves.py):\n"
             + "\n".join(f"    {m.name}: {m.description}" for m in MOVES)),
    **{m.name: (NonNegative, 0.0) for m in MOVES},
)
"""A power's spend per quarter by kind of move (a field per kind in ``MOVES``)."""


class Reaction(_Strict):
    """How a power reacts to one rival (its reactive spending is in USD millions per quarter).

    Attributes:
        rule: ``linear`` (Richardson), ``threshold``, ``tit_for_tat`` or ``none``.
        sensitivity: Scale of the reaction: for ``linear``, USD of reactive spending added per
            USD of the rival's perceived reactive spending; for ``threshold``, the fraction of
            the power's own base spending in the state added per unit of perceived share past
            the threshold; for ``tit_for_tat``, the fraction of the rival's perceived spending
            matched.
        threshold: For ``threshold``: the rival's perceived share (or gain) past which it reacts.
        width: For ``threshold``: the width of the ramp around the threshold (same unit): the
            response grows smoothly from ``threshold - width / 2`` and equals the step's from
            ``threshold + width / 2`` on; 0 is the sharp step.
        grievance: Reactive spending added per quarter (Richardson's g), USD millions; may be
            negative.
        signal: For ``threshold``: ``level`` watches the rival's perceived share, ``gain`` its
            perceived gain in share over the last ``window`` quarters.
        window: Quarters over which a ``gain`` is measured.
    """

    rule: Literal["none", "linear", "threshold", "tit_for_tat"] = "none"
    sensitivity: Annotated[float, Field(ge=0.0, le=1000.0)] = 0.0
    threshold: Fraction = 0.25
    width: Fraction = 0.0
    grievance: Annotated[float, Field(ge=-1e4, le=1e4)] = 0.0
    signal: Literal["level", "gain"] = "level"
    window: Annotated[int, Field(ge=1, le=40)] = 4


class Power(_Strict):
    """An outside power.

    Attributes:
        label: Display name (defaults to the key, capitalised).
        budget: Baseline spend per quarter by kind of move (USD millions).
        risk_tolerance: The state risk (0-1) up to which it invests.
        visibility: 0 quiet to 1 high-profile; raises diplomatic gain and rivals' reaction.
        visibility_by_state: Visibility in particular states (default: ``visibility``), e.g.
            a high-profile push in one state and quiet moves elsewhere.
        restraint: Fraction of its reactive spending that fades each quarter (Richardson's m).
        initial_effort: Reactive spending at step 0 in every state, USD millions per quarter.
        reserve: The most reactive spending it can make in a quarter, over all the states
            together, as a fraction of its regional budget (its base spend per quarter summed
            over states and kinds); the whole reserve may go to any one state. ``null`` for no
            limit (Richardson's unbounded race).
        max_spend_multiplier: An extra, local ceiling on spend in a state (base plus
            reactive) as a multiple of the base spend there; ``null`` (the default) for none.
            It was the only ceiling of the earlier model, which tied a power's answer in a
            state to what it happened to spend there.
        allocation: Relative weight of each state in its spending (default: equal).
        budget_by_state: Spend per quarter by kind of move in particular states (USD
            millions), e.g. a policy searched by ``sim optimise``; it replaces budget x
            allocation in the states it lists (kinds not given are 0 there), and ``budget``
            x ``allocation`` is then spread over the other states only.
        resource_interest: Pull of each resource sector on its investment allocation.
        reaction: Reaction rule toward each rival power, keyed by the rival's name.
    """

    label: str | None = None
    budget: Budget = Budget()
    risk_tolerance: Fraction = 0.5
    visibility: Fraction = 0.5
    visibility_by_state: dict[str, Fraction] = {}
    restraint: Fraction = 0.2
    initial_effort: Annotated[float, Field(ge=0.0, le=1e6)] = 0.0
    reserve: Annotated[float, Field(ge=0.0, le=100.0)] | None = 0.5
    max_spend_multiplier: Annotated[float, Field(ge=1.0, le=100.0)] | None = None
    allocation: dict[str, NonNegative] | None = None
    budget_by_state: dict[str, Budget] = {}
    resource_interest: dict[str, NonNegative] = {}
    reaction: dict[str, Reaction] = {}


class Stocks(_Strict):
    """Initial stocks held by each power in a state (USD millions or equivalent)."""

    footprint: dict[str, NonNegative] = {}
    goodwill: dict[str, NonNegative] = {}
    diplomatic: dict[str, NonNegative] = {}


class Dependence(_Strict):
    """Structural dependence of a state on each power, by channel (keyed by power).

    Attributes:
        energy: Energy bought from the state or carried for it in transit, USD millions a year
            (Turkmen gas to China, Kazakh oil through Russia's CPC pipeline).
        remittances: Remittances from migrants working in the power, USD millions a year.
        security: Security ties (bases, alliances, arms), USD millions a year equivalent.
        debt: External debt owed to the power's lenders, USD millions.
    """

    energy: dict[str, NonNegative] = {}
    remittances: dict[str, NonNegative] = {}
    security: dict[str, NonNegative] = {}
    debt: dict[str, NonNegative] = {}


class Economy(_Strict):
    """What an observer measures of a state: the denominators and starting values of observables.

    Attributes:
        gdp_usd_bn: GDP in the year before the start, USD billions.
        gdp_growth: Nominal GDP growth per year (fraction).
        trade_usd_bn: Merchandise trade turnover (exports plus imports) in the year before the
            start, USD billions, the host state's statistics.
        trade_growth: Nominal growth per year of trade that the model's ties do not drive.
        trade_with: Trade turnover with each power in the year before the start, USD billions
            (the same convention as ``trade_usd_bn``).
        population_m: Population in the year before the start, millions (for the ``population``
            weighting of regional influence; docs/OPTIMISE.md).
        resources_usd_bn: Natural-resource rents a year, USD billions (oil, gas, coal, mineral
            and forest rents, World Bank definition), for the ``resources`` weighting.
    """

    gdp_usd_bn: Annotated[float, Field(gt=0.0)] = 10.0
    gdp_growth: Annotated[float, Field(ge=-0.5, le=1.0)] = 0.0
    trade_usd_bn: Annotated[float, Field(gt=0.0)] = 10.0
    trade_growth: Annotated[float, Field(ge=-0.5, le=1.0)] = 0.0
    trade_with: dict[str, NonNegative] = {}
    population_m: Annotated[float, Field(gt=0.0)] | None = None
    resources_usd_bn: NonNegative | None = None


Scale = Annotated[float, Field(gt=0.0)] | Literal["gdp"] | None
"""An absorptive scale: USD m per quarter, ``gdp`` (a default share of GDP) or null (no limit)."""

Absorption = create_model(
    "Absorption",
    __base__=_Strict,
    __doc__=("A state's absorptive scale for each kind of move but investment (whose scale is\n"
             "``absorptive_capacity``), USD millions per quarter from all the powers together;\n"
             "``null`` for no limit; ``gdp`` (the default) for the kind's default share of the\n"
             "state's GDP (``MoveKind.default_scale``), computed by the engine from the\n"
             "state's ``economy.gdp_usd_bn`` (so a sweep of the GDP moves it too)."),
    **{m.name: (Scale, "gdp") for m in MOVES if m.name != INVESTMENT},
)
"""A state's absorptive scale by kind of move (a field per kind but investment)."""


class State(_Strict):
    """A Central Asian state (or any host state).

    Attributes:
        label: Display name.
        stability: Initial stability in [0, 1].
        stability_target: Level stability recovers toward (default: initial stability).
        border_disputes: Open border disputes at the start.
        openness: Fraction of a move's value the state lets in.
        autonomy: Residual stock (domestic autonomy and other actors), USD millions equivalent.
        resources: Endowment by sector, each an index in [0, 1].
        initial: Stocks each power holds at step 0.
        dependence: Structural dependence on each power, by channel (slow to change).
        absorptive_capacity: Investment the state can absorb per quarter from all the powers
            together (projects, licences, offtake), USD millions; ``null`` for no limit;
            ``gdp`` (the default): the investment kind's default share of GDP (5% a year).
        absorption: The absorptive scale of each other kind of move, USD millions per
            quarter (:data:`Absorption`; past it a dollar buys less, docs/ODD.md 7.3).
        economy: GDP and trade, for the observables.
    """

    label: str | None = None
    stability: Fraction = 0.7
    stability_target: Fraction | None = None
    border_disputes: Annotated[int, Field(ge=0, le=100)] = 0
    openness: Fraction = 1.0
    autonomy: Annotated[float, Field(gt=0.0)] = 1000.0
    resources: dict[str, Fraction] = {}
    initial: Stocks = Stocks()
    dependence: Dependence = Dependence()
    absorptive_capacity: Scale = "gdp"
    absorption: Absorption = Absorption()
    economy: Economy = Economy()
