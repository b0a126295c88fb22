"""The kinds of event a scenario's timeline holds, and the registry that declares them.

A kind of event is declared once, here: its model (its fields and their checks), its label in
figures and its sentence in the chronicle; its effect in the engine is its entry in
sim/engine/event_kinds.py. :func:`register_event_kind` adds a kind; the scenario's ``events``
field then accepts exactly the registered kinds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, NamedTuple, Union, get_args

from pydantic import Field, field_validator, model_validator

from sim.scenario.calendar import parse_quarter
from sim.scenario.fields import Fraction, InputInfo, NonNegative, _Strict
from sim.scenario.moves import CHANNELS

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


SCHEMA_REBUILDERS: list[Callable[[], None]] = []
"""What rebuilds a model holding events when the kinds change (the scenario adds its own)."""


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
    for rebuild in SCHEMA_REBUILDERS:
        rebuild()
    return model


def unregister_event_kind(kind: str) -> None:
    """Remove a registered kind of event (for tests that add a kind for a while)."""
    if EVENT_MODELS.pop(kind, None) is not None:
        EVENT_KINDS.remove(kind)
        for rebuild in SCHEMA_REBUILDERS:
            rebuild()


for _model in (BorderAccord, Visit, Summit, SummitCancelled, BudgetChange,
               DestabilisationCampaign, StabilityShock, RemittanceShock, Sanctions,
               EnergyPurchase, PlatformSummit, Opening, EnergyPrice):
    register_event_kind(_model)

Event = event_union()
"""The type of one event of the shipped kinds (:func:`event_union` for the registered ones)."""
