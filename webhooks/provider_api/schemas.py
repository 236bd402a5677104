"""What the provider API takes and answers, as pydantic models: one per request body and per query string,
and one per answer.

``webhooks/api.py`` validates every request with these models and ``webhooks/openapi.py`` builds the
OpenAPI document from them (pydantic writes JSON Schema 2020-12, which OpenAPI 3.1 uses as it is), so what
the document says and what the API accepts are one thing. The answers are built as dicts in ``bot/``; their
models here only document them.

Requests are strict (a string is not a number, "true" is not a boolean) and refuse fields they do not name.
A field that may be left out but not sent as null is typed without ``None`` and given the default None:
pydantic does not check defaults, so leaving it out gives None and sending null is refused.

Values that are each valid but do not fit together (ends before starts, an area the provider does not cover)
are checked in ``bot/`` and answered 409: a schema cannot say them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.offers.episodes import MAX_REFERENCE
from bot.outbox.events import data_schema
from bot.providers.actions import MAX_FOLLOW_UP_TEXT, MAX_WORKER_MESSAGE
from bot.providers.queue import MAX_QUEUE_PAGE
from bot.providers.reports import DELAY_REASON_KEYS
from bot.providers.return_interviews import COUNTS, FIXED_KEYS, SETTINGS, SMALL_NUMBER
from bot.providers.setup import (
    BOOKING_SETTINGS,
    MAX_ID,
    MAX_LISTING_DAYS,
    MAX_NOTE,
    MAX_PLACE_NAME,
    MAX_WEEKLY_LINES,
    MAX_WORKER_NAME,
    WORKER_LANGUAGES,
)
from bot.routing import AREA_KEY
from models import (
    AgeBand,
    BookingStatus,
    ChildAgrees,
    DeclineReason,
    DelayReason,
    Gender,
    Language,
    OfferMethod,
    OfferStatus,
    PlaceKind,
    PoliceInformed,
    ReferralOutcome,
    ReferralStatus,
    ReferredBy,
    Setting,
    Severity,
    SlotStatus,
    WorkerPreference,
)


def _int_if_whole(value: Any) -> Any:
    """JSON's 27.0 is the whole number 27 (JSON Schema says so too); strict pydantic alone would refuse it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _unique(values: list[Any]) -> list[Any]:
    if len(set(values)) != len(values):
        raise PydanticCustomError("unique", "give each value once")
    return values


def whole(low: int, high: int) -> Any:
    """A whole number from low to high (the bounds go in the schema, so the constraint comes first)."""
    return Annotated[int, Field(ge=low, le=high), BeforeValidator(_int_if_whole)]


Id = whole(1, MAX_ID)
Count = Annotated[int, Field(ge=0)]
Time = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="local time, 24-hour clock")]
# At least one character that is neither a space nor a control character (those become spaces).
VISIBLE = r"[^\s\x00-\x1f\x7f-\x9f]"
Area = Annotated[str, Field(pattern=AREA_KEY, max_length=64, description="the key of an area your service covers")]
Areas = Annotated[list[Area], AfterValidator(_unique), Field(json_schema_extra={"uniqueItems": True})]
Languages = Annotated[
    list[Literal[WORKER_LANGUAGES]],
    AfterValidator(_unique),
    Field(min_length=1, json_schema_extra={"uniqueItems": True}, description="languages held interviews in"),
]
WorkerName = Annotated[
    str, Field(min_length=1, max_length=MAX_WORKER_NAME, pattern=VISIBLE, description="as young people see it")
]
PlaceName = Annotated[str, Field(min_length=1, max_length=MAX_PLACE_NAME, pattern=VISIBLE)]
# A day of this century: the reports are about referrals this service holds. Pydantic checks the bounds; the
# pattern says them in the document.
REPORT_DATE_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
ReportDay = Annotated[
    date, Field(ge=date(2000, 1, 1), le=date(2099, 12, 31), json_schema_extra={"pattern": REPORT_DATE_PATTERN})
]
DELAY_REASON = (
    "only for a time after the 72-hour deadline: why it is later. Default: the young person's choice when that "
    "is what they said and the time is no later than they asked for, else no_availability"
)


class Request(BaseModel):
    """A request body or query string: strict, and a field it does not name is refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


# --- the queue and a referral --------------------------------------------------------------------------


class NoQuery(Request):
    """No query parameters."""


class ReferralsQuery(Request):
    status: list[ReferralStatus] = Field([], description="default: open, booking_requested and booked")
    area: str = Field(None, max_length=64)
    at_risk: bool = None
    assigned_worker_id: Id = None
    limit: whole(1, MAX_QUEUE_PAGE) = 100
    offset: whole(0, 1_000_000) = 0


class TimelinessQuery(Request):
    from_: ReportDay = Field(alias="from", description="the first local day (either order)")
    to: ReportDay = Field(description="the last local day, included")


class ReturnInterviewsQuery(Request):
    from_: ReportDay = Field(alias="from", description="the first local day (either order)")
    to: ReportDay = Field(description="the last local day, included")
    area: str = Field(
        None, pattern=r"^[a-z][a-z_]{0,63}$", description="only referrals from this area (a key in bot/data/areas.yaml)"
    )
    format: Literal["json", "csv"] = Field("json", description="csv: one row per setting and measure")


class AssignRequest(Request):
    """Assign a worker to the referral, or unassign with null."""

    worker_id: Id | None


class ConfirmRequest(Request):
    """Confirm the young person's booking (the latest one, or booking_id). Give starts_at when they described a
    time in their own words, worker_id when the booking has no worker, place_kind when it has no place. The bot
    then tells the young person, in their language, on their channel."""

    booking_id: Id = None
    starts_at: AwareDatetime = Field(None, description="with a time zone, e.g. 2026-11-24T16:00:00Z")
    worker_id: Id = None
    place_kind: PlaceKind = None
    delay_reason: DelayReason = Field(None, description=DELAY_REASON)


class ProposeRequest(Request):
    """Suggest another time; the bot asks the young person to accept it or choose another."""

    starts_at: AwareDatetime = Field(description="with a time zone, in the future")
    worker_id: Id = None
    place_kind: PlaceKind = None
    delay_reason: DelayReason = Field(None, description=DELAY_REASON)


class BookingCancelRequest(Request):
    """Cancel the young person's booking (the latest one, or booking_id). Its time is freed, the referral stays
    open for a new time, and the bot tells the young person, in their language, how to choose one."""

    booking_id: Id = None


MOVES = ("starts_at", "worker_id", "place_kind")


class BookingMoveRequest(Request):
    """Move the young person's booking (the latest one, or booking_id) to a new time, worker or place: at least
    one of them. The old booking is cancelled and a confirmed one made (booking.cancelled, then
    booking.requested); the worker's free time then is booked. The bot tells the young person."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": [name]} for name in MOVES]})
    booking_id: Id = None
    starts_at: AwareDatetime = Field(None, description="with a time zone, in the future")
    worker_id: Id = None
    place_kind: PlaceKind = None

    @model_validator(mode="after")
    def _something_moves(self) -> Self:
        if not self.model_fields_set & set(MOVES):
            raise PydanticCustomError("any_of", f"give at least one of {', '.join(MOVES)}", {"field": MOVES[0]})
        return self


class OutcomeRequest(Request):
    """How the referral ended, and the follow-up support needed and given. Closes the referral."""

    outcome: ReferralOutcome
    follow_up_needed: str = Field(None, max_length=MAX_FOLLOW_UP_TEXT)
    follow_up_provided: str = Field(None, max_length=MAX_FOLLOW_UP_TEXT)


class MessageRequest(Request):
    """A message to the young person through the bot, signed with the worker's name (worker_id, else the
    assigned worker). Their reply appears in the referral's timeline."""

    text: str = Field(min_length=1, max_length=MAX_WORKER_MESSAGE, pattern=r"\S")
    worker_id: Id = None


# --- episodes a service reports ------------------------------------------------------------------------

WHEN = (
    "ISO 8601: with a zone (2026-12-06T14:30:00Z), or UK local time without one; or the day alone (2026-12-06) when "
    "that is all that is known"
)


class EpisodeReportRequest(Request):
    """A return your service heard about (from the police or the council). The bot records the episode and a
    referral for it, and offers the young person a chat by text: at once between 08:00 and 21:00 UK time, else at
    08:00, in Welsh when language is cy. The same reference again makes nothing new (created is false). A number
    that is not a mobile, a return in the future or an area your service does not cover is 422, naming the field."""

    reference: str = Field(
        min_length=1, max_length=MAX_REFERENCE, description="your own reference for this episode: it is recorded once"
    )
    phone: str = Field(max_length=40, description="the young person's mobile, e.g. +447700900123 or 07700 900123")
    parent_phone: str = Field(
        None,
        max_length=40,
        description="a parent's or carer's mobile: they get the parent's version, which never says what the young "
        "person says",
    )
    returned_at: str = Field(max_length=40, description=f"when they came back: {WHEN}")
    left_at: str = Field(None, max_length=40, description=f"when they went missing: {WHEN}")
    setting: Setting = None
    area: str = Field(max_length=64, description="an area key (bot/data/areas.yaml) your service covers")
    language: Language = Field(None, description="cy: the offer and the chat in Welsh (default en)")
    age_band: AgeBand = None
    police_informed: PoliceInformed = None


class EpisodeReported(BaseModel):
    episode_id: Id
    referral_id: Id
    created: bool = Field(description="false when this reference was reported before: these are its ids")


# --- setting up booking --------------------------------------------------------------------------------


class WorkerCreateRequest(Request):
    """A new worker (areas default to all your service covers)."""

    name: WorkerName
    languages: Languages = ["en"]
    gender: Gender | None = None
    areas: Areas = None
    active: bool = Field(True, description="false: no new times are offered with this worker")


class WorkerUpdateRequest(Request):
    """Change a worker: only the fields given change. Deactivating removes their open times."""

    name: WorkerName = None
    languages: Languages = None
    gender: Gender | None = None
    areas: Areas = None
    active: bool = Field(None, description="false: no new times are offered with this worker")


NEUTRAL = "not school, home or police: somewhere a young person may feel safe"


class PlaceCreateRequest(Request):
    """A new place (or way) interviews can happen."""

    kind: PlaceKind
    name: PlaceName
    area: Area | None = None
    neutral: bool = Field(False, description=NEUTRAL)
    accessible: bool = False
    active: bool = True


class PlaceUpdateRequest(Request):
    """Change a place: only the fields given change."""

    kind: PlaceKind = None
    name: PlaceName = None
    area: Area | None = None
    neutral: bool = Field(None, description=NEUTRAL)
    accessible: bool = None
    active: bool = None


class WeeklyLine(Request):
    weekday: whole(0, 6) = Field(description="0 is Monday")
    starts: Time
    ends: Time
    place_id: Id | None = None


class AvailabilityRequest(Request):
    """The worker's whole weekly pattern (it replaces the one there). Times are local (Europe/London)."""

    weekly: list[WeeklyLine] = Field(max_length=MAX_WEEKLY_LINES)


class ExceptionRequest(Request):
    """A day that differs from the weekly pattern. No worker_id: the whole service (a bank holiday). available
    false (the default): closed, all day or between starts and ends; true: extra hours for one worker. Closed
    always wins over open."""

    day: date
    worker_id: Id | None = None
    starts: Time | None = None
    ends: Time | None = None
    available: bool = False
    note: str | None = Field(None, max_length=MAX_NOTE, description="for staff, e.g. Bank holiday")


class DaysQuery(Request):
    from_: date = Field(None, alias="from", description="first local day (default today)")
    to: date = Field(None, description=f"last local day (at most {MAX_LISTING_DAYS} days after from)")


class SlotsQuery(DaysQuery):
    status: list[SlotStatus] = []
    worker_id: Id = None


SETTING_NUMBERS = {name: whole(low, high) for name, (low, high) in BOOKING_SETTINGS.items()}
AUTO_CONFIRM = "confirm a young person's chosen time without a worker"
OPENING = "the service's opening hours, local time: a time a worker sets must fall inside them (and never at night)"
BookingSettingsRequest = create_model(
    "BookingSettingsRequest",
    __base__=Request,
    __doc__="How interviews are booked; only the fields given change. Slots are remade at once.",
    **{name: (number, None) for name, number in SETTING_NUMBERS.items()},
    auto_confirm=(bool, Field(None, description=AUTO_CONFIRM)),
    opens_at=(Time, Field(None, description=OPENING)),
    closes_at=(Time, Field(None, description=OPENING)),
)


# --- answers (documentation only: bot/ builds them) --------------------------------------------------------


class Error(BaseModel):
    error: Literal["unauthorized", "not_found", "invalid", "conflict", "method_not_allowed"]
    detail: str
    field: str = Field(None, description="for invalid and conflict: the field (or query parameter) at fault")


class WorkerRef(BaseModel):
    id: Id
    name: str


class Worker(BaseModel):
    id: Id
    name: str
    languages: list[str]
    gender: Gender | None


class Workers(BaseModel):
    workers: list[Worker]


class BookingRef(BaseModel):
    id: Id
    status: BookingStatus
    starts_at: datetime | None
    place_kind: PlaceKind | None
    outside_window: bool
    delay_reason: DelayReason | None = Field(None, description="why a booking after the 72-hour deadline is later")


class QueueItem(BaseModel):
    id: Id
    status: ReferralStatus
    referred_by: ReferredBy = Field(description="provider: an episode your service reported, offered by the bot")
    area: str | None
    area_name: str | None
    language: Literal["en", "cy"]
    channel: Literal["sms", "telegram", "terminal"]
    created_at: datetime
    deadline_at: datetime | None = Field(description="72 hours after the (estimated) return")
    seconds_to_deadline: int | None = Field(
        description="negative once the deadline has passed; none once the referral is declined or closed"
    )
    at_risk: bool = Field(
        description="no confirmed time inside the 72 hours and the deadline is less than a day away (or gone), or "
        "a booking after the deadline with no reason recorded for the delay"
    )
    severity: Severity | None = Field(description="of the most serious unacknowledged alert")
    open_alerts: Count
    assigned_worker: WorkerRef | None
    age_band: AgeBand | None
    setting: Setting | None
    hidden: bool | None = Field(description="the police were never told")
    booking: BookingRef | None
    outcome: ReferralOutcome | None
    offered_at: datetime | None = Field(description="when the young person was first offered an interview")
    offer_method: OfferMethod | None = Field(
        description="bot_sms: the bot's text; worker_phone: a worker's call, recorded on the referral's page; "
        "in_conversation: they came to the bot themselves and were offered one there"
    )
    offer_status: OfferStatus | None = Field(
        description="where the bot's text offer to the young person got to (for an episode your service reported): "
        "no_response and wrong_number are for a worker to follow up another way before the deadline"
    )


class Referrals(BaseModel):
    referrals: list[QueueItem] = Field(description="the queue, in order")


class Alert(BaseModel):
    """One message that tripped the safeguarding check (it may raise several categories)."""

    id: Id
    escalation_ids: list[Id]
    categories: list[str]
    severity: Severity
    excerpt: str
    created_at: datetime
    referral_id: Id | None = None
    area: str | None = None
    channel: Literal["sms", "telegram", "terminal"] | None = None
    language: Literal["en", "cy"] | None = None
    acknowledged_at: datetime | None
    acknowledged_by: str | None = None
    notified_count: Count = None


class Alerts(BaseModel):
    alerts: list[Alert]


class AlertAcknowledged(BaseModel):
    alert: Alert


class Booking(BaseModel):
    id: Id
    status: BookingStatus
    starts_at: datetime | None
    slot_id: Id | None = None
    worker: WorkerRef | None
    place_kind: PlaceKind | None
    worker_preference: WorkerPreference | None = None
    trusted_adult: bool | None = None
    preferred_time_text: str | None = Field(None, description="a time in the young person's own words")
    outside_window: bool
    delay_reason: DelayReason | None = None
    created_at: datetime = None


class TimelineEntry(BaseModel):
    at: datetime
    kind: Literal["referral", "event", "alert", "acknowledged", "message", "declined", "outcome", "action"]
    what: str = Field(description="in plain words")
    who: str | None = Field(None, description="who acted: a member of staff, or your case system (API)")
    event_type: str = Field(None, description="an event sent to your system: its type, e.g. referral.created")
    delivery: Literal["delivered", "waiting", "dead-lettered"] = None
    direction: Literal["inbound", "outbound"] = None
    text: str | None = None
    english: str | None = Field(None, description="a bot message sent in Welsh, in the script's own English")


class Answers(BaseModel):
    consent_given: bool | None = None
    child_agrees: ChildAgrees | None = None
    time_preference: str | None = None
    place_kind: PlaceKind | None = None
    worker_preference: WorkerPreference | None = None
    trusted_adult: bool | None = None
    decline_reason: DeclineReason | None = None
    decline_text: str | None = None
    declined_at: datetime | None = None


class OutcomeDetail(BaseModel):
    outcome: ReferralOutcome | None = None
    outcome_at: datetime | None = None
    follow_up_needed: str | None = None
    follow_up_provided: str | None = None


# An episode as the referral.created event gives it: that event's schema is the contract.
Episode = Annotated[dict[str, Any], WithJsonSchema(data_schema("referral.created")["properties"]["episodes"]["items"])]


class ReferralDetail(QueueItem):
    outcome: OutcomeDetail  # the queue's outcome, with its follow-up
    answers: Answers
    episodes: list[Episode]
    bookings: list[Booking]
    alerts: list[Alert]
    can_message: bool
    cannot_message_reason: str | None
    timeline: list[TimelineEntry]


class Assigned(BaseModel):
    referral_id: Id
    assigned_worker: WorkerRef | None


class YoungPersonTold(BaseModel):
    young_person_told: bool
    not_told_because: str | None = Field(description="e.g. they sent STOP")


class BookingTold(YoungPersonTold):
    booking: Booking


class OutcomeRecorded(BaseModel):
    referral_id: Id
    status: ReferralStatus
    outcome: ReferralOutcome
    outcome_at: datetime


class DeadLetter(BaseModel):
    id: str
    kind: Literal["provider_webhook", "channel_message"]
    type: str
    referral_id: Id | None = None
    created_at: datetime
    dead_at: datetime
    attempts: int
    last_error: str | None = None


class DeadLetters(BaseModel):
    """Dead-lettered events, newest first."""

    count: Count
    events: list[DeadLetter]


class ProviderRef(BaseModel):
    id: Id
    slug: str
    name: str


DelayReasons = create_model(
    "DelayReasons",
    __doc__="booked_after_72_hours by the reason recorded for the delay",
    **dict.fromkeys(DELAY_REASON_KEYS, (Count, ...)),
)


class TimelinessRow(BaseModel):
    """One provider's referrals made in the period. Each falls in exactly one of declined,
    booked_within_72_hours, booked_after_72_hours, open_past_deadline, open_in_time and closed_without_booking,
    so those add up to referrals."""

    provider: ProviderRef
    referrals: Count = Field(description="referrals made in the period")
    declined: Count
    booked_within_72_hours: Count = Field(description="a confirmed time at or before the 72-hour deadline")
    held_within_72_hours: Count = Field(description="of those, the interview was recorded as held")
    booked_after_72_hours: Count = Field(description="a confirmed time after the deadline")
    held_after_72_hours: Count
    delay_reasons: DelayReasons
    open_past_deadline: Count = Field(description="still open with no confirmed time, the deadline gone")
    open_in_time: Count = Field(description="still open with no confirmed time, the deadline still ahead")
    closed_without_booking: Count = Field(description="an outcome recorded with no confirmed time")


class Timeliness(BaseModel):
    """The report, for the calling provider."""

    from_: date = Field(alias="from")
    to: date
    as_of: datetime
    providers: list[TimelinessRow]


SmallCount = Annotated[
    Count | None, Field(description=f"null: from 1 to {SMALL_NUMBER - 1}, hidden so that no child can be told apart")
]
# What each count means is the README's "Reports" section; the one home of the rules is
# bot/providers/return_interviews.py.
FIGURE_ABOUT = {
    "episodes": "(a) missing episodes told in the period, each counted once",
    "hidden_episodes": "episodes the police were not told of",
    "repeat": "people with more than one episode in the period",
    "offered": "(b) referrals offered an interview",
    "accepted": "(c) offered and not (or no longer) declined",
    "declined": "(e) declined, to the bot or in person",
    "held": "(d) interviews held",
    "held_within_72_hours": "held at or before the 72-hour deadline",
    "held_after_72_hours": "held after it; delay_reasons says why",
    "follow_up_needed": "(g) referrals with follow-up support recorded as needed",
    "follow_up_provided": "(g) referrals with follow-up support recorded as provided",
    "self_referrals": "referrals a young person made",
    "parent_reports": "referrals a parent or carer made",
}
_BREAKDOWNS = {
    name: create_model("".join(part.title() for part in name.split("_")), **dict.fromkeys(keys, (SmallCount, ...)))
    for name, keys in FIXED_KEYS.items()
}
Figures = create_model(
    "ReturnInterviewFigures",
    __doc__="One setting's figures (or all settings'): counts of referrals made in the period unless said.",
    **{name: (SmallCount, Field(description=FIGURE_ABOUT[name])) for name in COUNTS},
    **{name: (model, ...) for name, model in _BREAKDOWNS.items()},
    by_area=(dict[str, SmallCount], Field(description="by the area the referral came from")),
)
FiguresBySetting = create_model("FiguresBySetting", **dict.fromkeys(SETTINGS, (Figures, ...)))


class ReportWeek(BaseModel):
    week: date = Field(description="the Monday (local) of a week in the period")
    held: SmallCount
    held_within_72_hours: SmallCount


class ReturnInterviews(BaseModel):
    """The toolkit's data items a-g for the calling provider's referrals made in the period, overall and per
    setting, with counts from 1 to 4 hidden (null)."""

    from_: date = Field(alias="from")
    to: date
    area: str | None
    as_of: datetime
    overall: Figures
    settings: FiguresBySetting
    weeks: list[ReportWeek]


class WorkerDetail(BaseModel):
    id: Id
    name: str
    languages: list[str]
    gender: Gender | None
    areas: list[str]
    active: bool


class Place(BaseModel):
    id: Id
    kind: PlaceKind
    name: str
    area: str | None
    neutral: bool
    accessible: bool
    active: bool


class Places(BaseModel):
    places: list[Place]


class SlotChanges(BaseModel):
    """What the change did to the slots offered."""

    added: Count
    updated: Count
    removed: Count


class WeeklyLineDetail(BaseModel):
    id: Id
    weekday: int = Field(ge=0, le=6)
    weekday_name: str = None
    starts: Time
    ends: Time
    place_id: Id | None


class Availability(BaseModel):
    worker_id: Id
    weekly: list[WeeklyLineDetail]
    slot_changes: SlotChanges = None


class AvailabilityException(BaseModel):
    id: Id
    day: date
    worker_id: Id | None
    starts: Time | None
    ends: Time | None
    available: bool
    note: str | None


class AvailabilityExceptions(BaseModel):
    exceptions: list[AvailabilityException] = Field(description="by day")


BookingSettings = create_model(
    "BookingSettings",
    **{name: (number, ...) for name, number in SETTING_NUMBERS.items()},
    auto_confirm=(bool, ...),
    opens_at=(Time, Field(..., description=OPENING)),
    closes_at=(Time, Field(..., description=OPENING)),
    slot_changes=(SlotChanges, None),
)


class Slot(BaseModel):
    id: Id
    worker_id: Id
    place_id: Id | None
    status: SlotStatus
    starts_at: datetime = Field(description="UTC")
    ends_at: datetime
    starts_local: datetime = Field(description="the same instant in local time, with its offset")
    ends_local: datetime


class RetentionSettings(BaseModel):
    closed_referral_days: int = Field(description="words kept this long after the last activity on closed referrals")
    never_referred_days: int = Field(
        description="words kept this long after the last message of one who never referred"
    )


class Slots(BaseModel):
    slots: list[Slot] = Field(description="earliest first")
    timezone: str
