"""The scenario schema: typed, frozen pydantic objects and :func:`validate`.

A scenario is plain YAML read safely (:mod:`sim.scenario.files`: no Python objects, duplicate
keys refused, alias expansion bounded), merged over the file it ``extends:``, overridden by
``--set`` pairs, and validated into the frozen pydantic objects below before anything runs.
Every problem is reported as a :class:`~sim.errors.ScenarioError` naming the file, the field
path, the value and what is allowed.

Units: money in USD millions per quarter (budgets) or USD millions (stocks); shares, stability,
openness, probabilities and tolerances are fractions in [0, 1].
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
from typing import Annotated, Any, ClassVar, Literal, NamedTuple, Union, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from sim.errors import ScenarioError
from sim.limits import MAX_POWERS, MAX_STATES
from sim.scenario.branch import check_branch
from sim.scenario.calendar import parse_quarter, quarter_index, quarter_label, step_of_quarter
from sim.scenario.files import actor_problems
from sim.scenario.messages import describe_error, show_value
from sim.scenario.moves import CHANNELS, INVESTMENT, MOVES
from sim.scenario.numbers import boolean_problems

SWITCHES = ("**.rules.goods.enabled",)
"""The scenario fields that are yes/no switches: the only places a YAML boolean is taken."""

DEPENDENCE = ("energy", "remittances", "security", "debt")
"""Structural dependence channels, in the order of the engine's dependence axis."""

RULES = ("none", "linear", "threshold", "tit_for_tat")
"""Reaction rules, in the order of the engine's rule codes."""

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]


FLOAT32_MAX = 3.4028234663852886e38
FLOAT32_TINY = 1.401298464324817e-45
"""The smallest positive float32 (a subnormal); a non-zero number below it rounds to 0."""
"""Largest finite float32: a scenario in float32 precision may not hold a larger number."""


def display_name(key: str, label: str | None = None) -> str:
    """How a power or state reads for people: its ``label``, else its key in words.

    The one definition behind figures, tables, the chronicle, reports and the dashboard:
    ``south_korea`` reads "South Korea".
    """
    return label or key.replace("_", " ").title()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, allow_inf_nan=False)


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



EventId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
"""An event's stable name (lower case, digits and ``_``, starting with a letter): its fields'
paths are ``events.<id>.<field>`` instead of ``events.<position>.<field>``, so calibration and
sweeps address it wherever it stands in the list."""


class Phrase(NamedTuple):
    """Words of an event's sentence that depend on one of its fields.

    ``cases[value]`` if the field's value is listed there, else ``otherwise``; both are format
    strings over the event's fields (as :attr:`EventBase.chronicle` is).
    """

    field: str
    cases: dict[Any, str]
    otherwise: str


class EventBase(_Strict):
    """What every kind of event has: when it fires, and how figures and the chronicle tell it.

    A kind of event is a subclass with a ``kind: Literal[...]`` field, its own fields, and
    three class attributes (plain format strings, read by :mod:`sim.outputs.event_text`):

    - ``figure_label``: the short label of its marker in the influence figure, e.g.
      ``"{power} visit"``;
    - ``chronicle``: its sentence in ``sim explain``'s chronicle, e.g. ``"{power} pays a state
      visit to {where}: ..."``;
    - ``phrases``: named :class:`Phrase` pieces of that sentence that depend on a field's
      value (``{later}`` reads "called off" when ``delay`` is empty).

    The strings are formatted over the event's fields plus ``power`` (the power's display
    name) and ``where`` (the states it touched, "A, B and C"); besides Python's format
    specifications they know ``usd_m`` (``+usd_m``: signed) for money, ``words`` (underscores
    as spaces) and ``plural_s`` ("s" unless the number is 1). It is registered with
    :func:`register_event_kind`, and its engine effect in :mod:`sim.engine.event_kinds`.
    """

    figure_label: ClassVar[str | None] = None
    chronicle: ClassVar[str | None] = None
    phrases: ClassVar[dict[str, Phrase]] = {}

    id: EventId | None = Field(default=None, exclude_if=lambda value: value is None)
    at: str | int | None = None
    probability: Fraction | None = None
    note: str = ""
    # Annotation only: excluded from dumps and digests, so it never changes a run or its id.
    info: InputInfo | None = Field(default=None, exclude=True)

    @field_validator("at")
    @classmethod
    def _quarter_or_step(cls, value: str | int | None) -> str | int | None:
        if isinstance(value, str):
            parse_quarter(value)
        elif isinstance(value, int) and value < 1:
            raise ValueError("a step number starts at 1")
        return value

    @model_validator(mode="after")
    def _one_timing(self) -> EventBase:
        if (self.at is None) == (self.probability is None):
            raise ValueError("give exactly one of 'at' (a quarter or step) or 'probability'")
        return self


StateList = list[str] | Literal["all"]


class BorderAccord(EventBase):
    """Resolves open border disputes (and may lift stability) in the listed states."""

    figure_label: ClassVar[str] = "accord"
    chronicle: ClassVar[str] = "Border accord: {where} resolve {what}{stability}"
    phrases: ClassVar[dict[str, Phrase]] = {
        "what": Phrase("disputes_resolved", {None: "all open disputes"},
                       "up to {disputes_resolved} open dispute{disputes_resolved:plural_s}"),
        "stability": Phrase("stability_gain", {0: ""}, "; stability +{stability_gain:.2f}"),
    }

    kind: Literal["border_accord"]
    states: StateList = "all"
    disputes_resolved: Annotated[int, Field(ge=1)] | None = None
    stability_gain: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0


_GOODWILL = Phrase("goodwill_gain", {0: ""}, ", goodwill {goodwill_gain:+usd_m}")
"""The goodwill a visit or summit adds, told only when there is some."""


class Visit(EventBase):
    """A state visit: diplomatic capital and goodwill for a power in one state."""

    figure_label: ClassVar[str] = "{power} visit"
    chronicle: ClassVar[str] = ("{power} pays a state visit to {where}: diplomatic capital "
                                "{diplomatic_gain:+usd_m}{goodwill}")
    phrases: ClassVar[dict[str, Phrase]] = {"goodwill": _GOODWILL}

    kind: Literal["visit"]
    power: str
    state: str
    diplomatic_gain: NonNegative = 50.0
    goodwill_gain: NonNegative = 0.0


class Summit(EventBase):
    """A summit of a power with several states (a platform such as Central Asia plus Japan)."""

    figure_label: ClassVar[str] = "{power} summit"
    chronicle: ClassVar[str] = ("{power} holds a summit with {where}: diplomatic capital "
                                "{diplomatic_gain:+usd_m} in each{goodwill}")
    phrases: ClassVar[dict[str, Phrase]] = {"goodwill": _GOODWILL}

    kind: Literal["summit"]
    power: str
    states: StateList = "all"
    diplomatic_gain: NonNegative = 40.0
    goodwill_gain: NonNegative = 0.0


class SummitCancelled(EventBase):
    """Cancels the power's summit due in the same quarter; ``delay`` quarters later or never."""

    figure_label: ClassVar[str] = "{power} summit off"
    chronicle: ClassVar[str] = ("{power}'s summit due this quarter is cancelled ({later}), if "
                                "one was due")
    phrases: ClassVar[dict[str, Phrase]] = {
        "later": Phrase("delay", {None: "called off"},
                        "postponed by {delay} quarter{delay:plural_s}"),
    }

    kind: Literal["summit_cancelled"]
    power: str
    delay: Annotated[int, Field(ge=1, le=400)] | None = None


class BudgetChange(EventBase):
    """Multiplies a power's budget for one kind of move (or all) from then on."""

    figure_label: ClassVar[str] = "{power} budget x{factor:g}"
    chronicle: ClassVar[str] = "{power} multiplies its {which} by {factor:g}"
    phrases: ClassVar[dict[str, Phrase]] = {
        "which": Phrase("channel", {"all": "whole budget"}, "{channel:words} budget"),
    }

    kind: Literal["budget_change"]
    power: str
    channel: Literal[(*CHANNELS, "all")] = "all"  # type: ignore[valid-type]
    factor: Annotated[float, Field(ge=0.0, le=100.0)]


class DestabilisationCampaign(EventBase):
    """A power lowers stability in some states by ``intensity`` per quarter for a while."""

    figure_label: ClassVar[str] = "{power} campaign"
    chronicle: ClassVar[str] = ("{power} starts a destabilisation campaign in {where}: stability "
                                "-{intensity:.2f} a quarter for {duration} quarters")

    kind: Literal["destabilisation_campaign"]
    power: str
    states: StateList
    intensity: Fraction = 0.05
    duration: Annotated[int, Field(ge=1, le=400)] = 4


class StabilityShock(EventBase):
    """A one-off change of stability (negative: unrest, disaster; positive: a settlement)."""

    figure_label: ClassVar[str] = "shock {delta:+.2f}"
    chronicle: ClassVar[str] = "Stability shock in {where}: {delta:+.2f}"

    kind: Literal["stability_shock"]
    states: StateList = "all"
    delta: Annotated[float, Field(ge=-1.0, le=1.0)]


class RemittanceShock(EventBase):
    """Remittances from a power change by ``change`` (a fraction) for ``quarters`` quarters.

    A rouble fall: ``{kind: remittance_shock, power: russia, states: all, change: -0.5,
    quarters: 4}``. Both the remittances observed and the influence they carry change.
    """

    figure_label: ClassVar[str] = "{power} remittances {change:+.0%}"
    chronicle: ClassVar[str] = ("Remittances from {power} to {where} change by {change:+.0%} for "
                                "{quarters} quarter{quarters:plural_s}")

    kind: Literal["remittance_shock"]
    power: str
    states: StateList = "all"
    change: Annotated[float, Field(ge=-1.0, le=10.0)]
    quarters: Annotated[int, Field(ge=1, le=400)] = 4


class Sanctions(EventBase):
    """Sanctions on a power for ``quarters`` quarters.

    Its moves buy a fraction ``trade_friction`` less in every state (partners fear secondary
    sanctions), and its trade with the states grows by ``rerouting`` (a fraction) as trade with
    the rest of the world is rerouted through them. The goods rerouted to it come from
    somewhere: ``supplied_by: {china: 0.6}`` adds 0.6 of that rerouted amount to China's trade
    with each state (the states buy from China what they sell on to the sanctioned power).
    """

    figure_label: ClassVar[str] = "{power} sanctions"
    chronicle: ClassVar[str] = ("Sanctions on {power} for {quarters} quarter{quarters:plural_s}: "
                                "its moves buy {trade_friction:.0%} less, and its trade with the "
                                "states grows by {rerouting:.0%} (trade rerouted through them)")

    kind: Literal["sanctions"]
    power: str
    trade_friction: Fraction = 0.2
    rerouting: Annotated[float, Field(ge=0.0, le=10.0)] = 0.3
    quarters: Annotated[int, Field(ge=1, le=400)] = 12
    supplied_by: dict[str, Fraction] = Field(default_factory=dict)


class EnergyPurchase(EventBase):
    """A power's energy purchases change by ``change`` times its energy dependence at the start.

    -1 stops them, a positive change resumes or expands them: Gazprom and Turkmen gas, 2016.
    """

    figure_label: ClassVar[str] = "{power} energy {change:+.0%}"
    chronicle: ClassVar[str] = "{power} {what}"
    phrases: ClassVar[dict[str, Phrase]] = {
        "what": Phrase("change", {-1: "stops its energy purchases in {where}"},
                       "changes its energy purchases in {where} by {change:+.0%} of their "
                       "value at the start"),
    }

    kind: Literal["energy_purchase"]
    power: str
    states: StateList = "all"
    change: Annotated[float, Field(ge=-1.0, le=10.0)]


class EnergyPrice(EventBase):
    """The price of energy changes: every energy tie in the states is worth ``factor`` times more.

    The USD value of the energy dependence on every power (pipelines, purchases, transit) is
    multiplied by ``factor`` from then on, and so is the trade it carries (ODD 7.11), while
    volumes stay: the oil-price fall of 2015 is ``{kind: energy_price, states: all, factor:
    0.53}``. Later ``energy_purchase`` events add volumes at the price then.
    """

    figure_label: ClassVar[str] = "energy price x{factor:g}"
    chronicle: ClassVar[str] = ("Energy price: the value of every energy tie in {where} is "
                                "multiplied by {factor:g}")

    kind: Literal["energy_price"]
    states: StateList = "all"
    factor: Annotated[float, Field(gt=0.0, le=10.0)]


class PlatformSummit(EventBase):
    """A standing multilateral format (Central Asia plus China, Central Asia plus Japan).

    The convening power's moves buy ``reception_gain`` (a fraction) more in the listed states
    for ``quarters`` quarters, unlike ``summit``, a one-off diplomatic gain.
    """

    figure_label: ClassVar[str] = "{power} platform"
    chronicle: ClassVar[str] = ("{power} convenes a standing platform with {where}: its moves "
                                "buy {reception_gain:.0%} more there for {quarters} "
                                "quarter{quarters:plural_s}")

    kind: Literal["platform_summit"]
    power: str
    states: StateList = "all"
    reception_gain: Annotated[float, Field(ge=0.0, le=5.0)] = 0.1
    quarters: Annotated[int, Field(ge=1, le=400)] = 8


class Opening(EventBase):
    """A state's reform opens (or closes) it: its openness changes by ``openness_change``."""

    figure_label: ClassVar[str] = "opening {openness_change:+.2f}"
    chronicle: ClassVar[str] = "Opening in {where}: openness {openness_change:+.2f}"

    kind: Literal["opening"]
    states: StateList
    openness_change: Annotated[float, Field(ge=-1.0, le=1.0)]


EVENT_MODELS: dict[str, type[EventBase]] = {}
"""The model of each kind of event, in the order of registration (the engine's kind codes)."""
EVENT_KINDS: list[str] = []
"""The kinds of event, in the same order (it grows only through :func:`register_event_kind`)."""


def event_union() -> Any:
    """The type of one event: the registered models, told apart by their ``kind``."""
    return Annotated[Union[tuple(EVENT_MODELS.values())], Field(discriminator="kind")]  # noqa: UP007


def register_event_kind(model: type[EventBase]) -> type[EventBase]:
    """Add a kind of event to the schema (its engine effect goes to sim.engine.event_kinds).

    Args:
        model: A subclass of :class:`EventBase` with a ``kind: Literal["..."]`` field.

    Returns:
        The model (so this may decorate its class).

    Raises:
        ValueError: If its kind is already registered, or it lacks a figure label or a
            chronicle sentence.
    """
    kind = get_args(model.model_fields["kind"].annotation)[0]
    if kind in EVENT_MODELS:
        raise ValueError(f"event kind {kind!r} is already registered")
    if model.figure_label is None or model.chronicle is None:
        raise ValueError(f"event kind {kind!r} needs a figure_label and a chronicle sentence")
    EVENT_MODELS[kind] = model
    EVENT_KINDS.append(kind)
    if "Scenario" in globals():
        _rebuild_scenario()
    return model


def unregister_event_kind(kind: str) -> None:
    """Remove a registered kind of event (for tests that add a kind for a while)."""
    if EVENT_MODELS.pop(kind, None) is not None:
        EVENT_KINDS.remove(kind)
        _rebuild_scenario()


for _model in (BorderAccord, Visit, Summit, SummitCancelled, BudgetChange,
               DestabilisationCampaign, StabilityShock, RemittanceShock, Sanctions,
               EnergyPurchase, PlatformSummit, Opening, EnergyPrice):
    register_event_kind(_model)
Event = event_union()
"""The type of one event of the shipped kinds (:func:`event_union` for the registered ones)."""


class Branch(_Strict):
    """Where a branched scenario leaves its parent (see sim/scenario/branch.py and docs/WHATIF.md).

    Attributes:
        from_: The parent scenario file, as written (``from:`` in YAML; relative to the file).
        at: The first quarter whose step uses the branch's changes; every step before it is
            the parent's, seed for seed.
        parent: The parent's resolved scenario, filled in by :func:`load_scenario` (so a
            manifest holds everything needed to rerun the branch).

    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True,
                              validate_by_alias=True, serialize_by_alias=True)
    from_: str = Field(alias="from")
    at: str
    parent: Scenario | None = None

    @field_validator("at")
    @classmethod
    def _at_is_quarter(cls, value: str) -> str:
        parse_quarter(value)
        return value


class Scenario(_Strict):
    """A whole scenario: actors, rules, events and run settings.

    Attributes:
        name: Short name; names the results folder.
        question: The question the scenario answers (shown in reports).
        description: Free text.
        start: First simulated quarter.
        steps: Number of quarters to simulate.
        seed: Random seed.
        precision: Floating-point type of the engine's arrays (float32 is several times
            faster for large batches; float64 for exact checks).
        powers: Outside powers by key (lower-case).
        states: Host states by key (lower-case).
        rules: Model-wide parameters.
        events: Timeline of events.
        branch: Set when the scenario continues another's history from a quarter on.
        inputs: When the values of some fields became known (:class:`InputInfo`), by field
            path: an annotation for hindcasts (docs/HINDCAST.md), excluded from the digest.
    """

    name: Annotated[str, Field(min_length=1, max_length=80)] = "scenario"
    question: str = ""
    description: str = ""
    start: str = "2025Q1"
    steps: Annotated[int, Field(ge=1, le=10_000)] = 40
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    precision: Literal["float32", "float64"] = "float32"
    powers: dict[str, Power]
    states: dict[str, State]
    rules: Rules = Rules()
    events: list[Event] = []
    branch: Branch | None = None
    # Annotation only (excluded from dumps and digests): field path -> when its value was known.
    inputs: dict[str, InputInfo] = Field(default_factory=dict, exclude=True)

    @field_validator("start")
    @classmethod
    def _start_is_quarter(cls, value: str) -> str:
        parse_quarter(value)
        return value

    @field_validator("powers", "states")
    @classmethod
    def _non_empty(cls, value: dict) -> dict:
        if not value:
            raise ValueError("name at least one")
        return value

    @property
    def power_names(self) -> list[str]:
        """Power keys in file order."""
        return list(self.powers)

    @property
    def state_names(self) -> list[str]:
        """State keys in file order."""
        return list(self.states)

    def event_step(self, event: EventBase) -> int | None:
        """Return the step an event is scheduled at (None for a random event)."""
        if event.at is None:
            return None
        if isinstance(event.at, int):
            return event.at
        return step_of_quarter(self.start, event.at)

    def digest(self) -> str:
        """Return a SHA-256 of the resolved scenario (compact JSON, fields in schema order).

        Keys are not sorted: the order of powers and states is the order of the engine's axes
        and of every output table, so two scenarios listing actors in another order differ.
        """
        text = json.dumps(self.model_dump(mode="json"), separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


Branch.model_rebuild()


def _rebuild_scenario() -> None:
    """Make the scenario's ``events`` field accept exactly the registered kinds."""
    Scenario.model_fields["events"] = FieldInfo.from_annotated_attribute(list[event_union()], [])
    Scenario.model_rebuild(force=True)
    Branch.model_rebuild(force=True)

# --------------------------------------------------------------------------- cross-checks


def _cross_check(scenario: Scenario) -> list[str]:
    """Check names and timing that the field types alone cannot check."""
    problems: list[str] = []
    powers, states = scenario.power_names, scenario.state_names

    def actor(path: str, name: str, known: list[str], kind: str) -> None:
        if name not in known:
            hint = difflib.get_close_matches(name, known, n=1)
            extra = f"; did you mean {hint[0]!r}?" if hint else ""
            known_text = ", ".join(known)
            problems.append(f"{path}: unknown {kind} {name!r}; known {kind}s: {known_text}{extra}")

    for key, power in scenario.powers.items():
        for rival in power.reaction:
            actor(f"powers.{key}.reaction.{rival}", rival, powers, "power")
            if rival == key:
                problems.append(f"powers.{key}.reaction.{rival}: a power cannot react to itself")
        for state in power.allocation or {}:
            actor(f"powers.{key}.allocation.{state}", state, states, "state")
        for state in power.visibility_by_state:
            actor(f"powers.{key}.visibility_by_state.{state}", state, states, "state")
        for state in power.budget_by_state:
            actor(f"powers.{key}.budget_by_state.{state}", state, states, "state")
        if power.allocation is not None and sum(power.allocation.values()) <= 0:
            problems.append(
                f"powers.{key}.allocation: the weights sum to 0; give some state weight > 0"
            )
    for key, state in scenario.states.items():
        for channel in ("footprint", "goodwill", "diplomatic"):
            for name in getattr(state.initial, channel):
                actor(f"states.{key}.initial.{channel}.{name}", name, powers, "power")
        for channel in DEPENDENCE:
            for name in getattr(state.dependence, channel):
                actor(f"states.{key}.dependence.{channel}.{name}", name, powers, "power")
        for name in state.economy.trade_with:
            actor(f"states.{key}.economy.trade_with.{name}", name, powers, "power")
        if sum(state.economy.trade_with.values()) > state.economy.trade_usd_bn:
            problems.append(f"states.{key}.economy.trade_with: the trade with the powers sums to "
                            f"more than trade_usd_bn ({state.economy.trade_usd_bn:g})")
    for name in scenario.rules.goods.export_growth:
        actor(f"rules.goods.export_growth.{name}", name, powers, "power")
    problems += _check_sectors(scenario)
    if scenario.precision == "float32":
        dumped = scenario.model_dump(mode="python")
        problems += _too_big_for_float32(dumped) + _underflow_float32(dumped)
    end_step = scenario.steps
    first_of: dict[str, int] = {}
    for i, event in enumerate(scenario.events):
        path = f"events.{i}"
        if event.id is not None and first_of.setdefault(event.id, i) != i:
            problems.append(f"{path}.id: {event.id!r} is already the id of "
                            f"events.{first_of[event.id]}; give each event its own id")
        if hasattr(event, "power"):
            actor(f"{path}.power", event.power, powers, "power")
        if hasattr(event, "state"):
            actor(f"{path}.state", event.state, states, "state")
        supply = getattr(event, "supplied_by", {})
        for name in supply:
            actor(f"{path}.supplied_by.{name}", name, powers, "power")
            if name == getattr(event, "power", None):
                problems.append(f"{path}.supplied_by.{name}: the sanctioned power cannot supply "
                                "the goods rerouted to it")
        if sum(supply.values()) > 1.0 + 1e-9:
            problems.append(f"{path}.supplied_by: the shares sum to {sum(supply.values()):g}; "
                            "at most 1 (the whole rerouted amount)")
        if isinstance(getattr(event, "states", None), list):
            for j, name in enumerate(event.states):
                actor(f"{path}.states.{j}", name, states, "state")
        step = scenario.event_step(event)
        if step is not None and not 1 <= step <= end_step:
            last = f"step {end_step}"
            if isinstance(event.at, str):
                first = quarter_index(scenario.start)

                last = f"{scenario.start} to {quarter_label(first + end_step - 1)}"
            problems.append(f"{path}.at: {event.at!r} is outside the run ({last})")
    problems += _events_that_do_nothing(scenario)
    if scenario.branch is not None:  # the branch point and what a branch may change
        problems += check_branch(scenario)
    return problems


def _events_that_do_nothing(scenario: Scenario) -> list[str]:
    """Events that would be logged as fired but change nothing (docs/ODD.md, events).

    - ``states: []`` targets no state (``all`` or a list of states is meant);
    - a ``summit_cancelled`` at a quarter cancels the power's summit scheduled (``at:``) in that
      quarter, so it needs one there; a random one (``probability:``) needs the power to have
      some scheduled summit.
    """
    problems = []
    summits = {(event.power, scenario.event_step(event)) for event in scenario.events
               if event.kind == "summit" and event.at is not None}
    for i, event in enumerate(scenario.events):
        if getattr(event, "states", None) == []:
            problems.append(f"events.{i}.states: [] names no state, so the {event.kind} would "
                            "change nothing; list the states or write all")
        if event.kind != "summit_cancelled":
            continue
        if event.at is not None and (event.power, scenario.event_step(event)) not in summits:
            problems.append(f"events.{i}: summit_cancelled at {event.at!r}: {event.power} has no "
                            f"summit scheduled at {event.at!r}, so it cancels nothing; a "
                            "cancellation goes in the quarter of the summit it cancels")
        elif event.at is None and not any(power == event.power for power, _ in summits):
            problems.append(f"events.{i}: a random summit_cancelled of {event.power}, who has no "
                            "scheduled summit (kind: summit with at:), cancels nothing")
    return problems


def _check_sectors(scenario: Scenario) -> list[str]:
    """Resource sectors that would silently have no effect (a misspelt name).

    A power's ``resource_interest`` in a sector no state holds pulls nothing, and a state's
    resource in a sector no power is interested in pulls no one: the first is refused, the
    second when its name is a near miss of a sector some power is interested in (``oill`` for
    ``oil``). Sectors are free names otherwise (a state may list resources no power wants).
    """
    held = list(dict.fromkeys(k for state in scenario.states.values() for k in state.resources))
    wanted = list(dict.fromkeys(
        k for power in scenario.powers.values() for k in power.resource_interest))
    problems = []
    for key, power in scenario.powers.items():
        for sector in power.resource_interest:
            if sector not in held:
                hint = difflib.get_close_matches(sector, held, n=1)
                problems.append(
                    f"powers.{key}.resource_interest.{sector}: no state holds sector {sector!r} "
                    f"(sectors in states' resources: {', '.join(held) or 'none'})"
                    + (f"; did you mean {hint[0]!r}?" if hint else ""))
    matched = [k for k in wanted if k in held]
    for key, state in scenario.states.items():
        for sector in state.resources:
            hint = difflib.get_close_matches(sector, matched, n=1, cutoff=0.8)
            if sector not in wanted and hint:
                problems.append(
                    f"states.{key}.resources.{sector}: no power is interested in sector "
                    f"{sector!r}; did you mean {hint[0]!r}?")
    return problems


def _too_big_for_float32(node: Any, path: str = "") -> list[str]:
    """Numbers a float32 engine could not hold (they would become infinite when compiled)."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _too_big_for_float32(v, f"{path}{k}.")]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _too_big_for_float32(v, f"{path}{i}.")]
    if isinstance(node, float) and abs(node) > FLOAT32_MAX:
        return [f"{path[:-1]}: {node:g} is too large for precision float32 (at most "
                f"{FLOAT32_MAX:.3g}); use a smaller number or precision: float64"]
    return []


def _tiny_for_float32(node: Any, path: tuple = ()) -> list[tuple[tuple, float]]:
    """(path, value) of each non-zero number that float32 rounds to 0."""
    if isinstance(node, dict):
        return [t for k, v in node.items() for t in _tiny_for_float32(v, (*path, k))]
    if isinstance(node, list):
        return [t for i, v in enumerate(node) for t in _tiny_for_float32(v, (*path, i))]
    if isinstance(node, float) and node != 0 and abs(node) <= FLOAT32_TINY / 2:
        return [(path, node)]
    return []


def _underflow_float32(data: dict[str, Any]) -> list[str]:
    """Numbers float32 rounds to 0 in fields where 0 is not allowed (an autonomy of 1e-46).

    Elsewhere a number that small is as good as 0 (a noise of 1e-200 is no noise), so it is
    accepted; where 0 is refused (a divisor), the run would divide by zero.
    """
    tiny = _tiny_for_float32(data)
    if not tiny:
        return []
    zeroed = copy.deepcopy(data)
    for path, _ in tiny:
        node = zeroed
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = 0.0
    try:
        Scenario.model_validate(zeroed)
    except ValidationError as exc:
        refused = {tuple(str(p) for p in e["loc"]) for e in exc.errors()}
        named = [(p, v) for p, v in tiny if tuple(map(str, p)) in refused] or tiny
        return [f"{'.'.join(map(str, p))}: {v:g} is too small for precision float32: it would "
                f"round to 0, which is not allowed here (the smallest positive float32 is "
                f"{FLOAT32_TINY:.3g}); give a larger number, or precision: float64"
                for p, v in named]
    return []


def _too_many_actors(data: dict[str, Any]) -> list[str]:
    """Refuse more powers or states than :mod:`sim.limits` allows, before building anything."""
    problems = []
    for group, limit in (("powers", MAX_POWERS), ("states", MAX_STATES)):
        actors = data.get(group)
        if isinstance(actors, dict) and len(actors) > limit:
            problems.append(f"{group}: {len(actors):,} {group} named; at most {limit} are "
                            f"allowed (sim.limits.MAX_{group.upper()})")
    return problems


def _field_names(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _describe(error: dict[str, Any], data: dict[str, Any]) -> str:
    """Turn one pydantic error into 'path: value: what is allowed (did you mean ...)'."""
    loc = [str(p) for p in error["loc"]]
    # Drop the discriminator tag pydantic inserts for tagged unions (events.0.visit.power).
    if len(loc) >= 3 and loc[0] == "events" and loc[2] in EVENT_KINDS:
        loc = loc[:2] + loc[3:]
    if error["type"] in ("union_tag_invalid", "union_tag_not_found") and loc[0] == "events":
        return _describe_event_kind(".".join(loc), error.get("input"))
    return describe_error({**error, "loc": tuple(loc)},
                          lambda where: _allowed_keys(list(where), data))


def _describe_event_kind(path: str, event: Any) -> str:
    """An event whose ``kind`` is missing or unknown: the allowed kinds and the nearest one."""
    allowed = ", ".join(EVENT_KINDS)
    if not isinstance(event, dict) or "kind" not in event:
        return f"{path}.kind: required field is missing; allowed: {allowed}"
    given = event["kind"]
    hint = difflib.get_close_matches(str(given), EVENT_KINDS, n=1, cutoff=0.5)
    did = f"; did you mean {hint[0]}?" if hint else ""
    return f"{path}.kind: {show_value(given)} is not a kind of event; allowed: {allowed}{did}"


def _allowed_keys(loc: list[str], data: dict[str, Any]) -> list[str]:
    """The field names allowed at a location (for unknown-key messages)."""
    model: Any = Scenario
    i = 0
    while i < len(loc):
        part = loc[i]
        if model is Scenario and part in ("powers", "states"):
            model = Power if part == "powers" else State
            i += 2
            continue
        if model is Scenario and part == "events":
            try:
                kind = data["events"][int(loc[i + 1])]["kind"]
                model = EVENT_MODELS[kind]
            except (KeyError, IndexError, ValueError, TypeError):
                return []
            i += 2
            continue
        if model is Power and part == "reaction":
            model = Reaction
            i += 2
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation if is_model else None
        if model is None:
            return []
        i += 1
    return _field_names(model) if model else []


def validate(data: dict[str, Any], source: str = "<dict>") -> Scenario:
    """Validate a raw scenario mapping.

    Args:
        data: The merged mapping (``extends`` already resolved).
        source: Name of the file, for messages.

    Returns:
        The typed, frozen scenario.

    Raises:
        ScenarioError: Listing every problem found.
    """
    if "extends" in data:
        raise ScenarioError(source, ["extends: resolve it with load_scenario(), not validate()"])
    too_many = _too_many_actors(data) or actor_problems(data)
    if too_many:
        raise ScenarioError(source, too_many)
    booleans = boolean_problems(data, SWITCHES)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(e, data) for e in exc.errors()]
        named = {p.split(":", 1)[0] for p in problems}
        raise ScenarioError(source, problems + [b for b in booleans
                                                if b.split(":", 1)[0] not in named]) from None
    if booleans:
        raise ScenarioError(source, booleans)
    problems = _cross_check(scenario)
    if problems:
        raise ScenarioError(source, problems)
    return scenario

