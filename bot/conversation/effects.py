"""Carrying out what a script asks for (``do:`` steps), inside the message's transaction.

Each effect reads the conversation's answers, changes the database (and writes outbox events), and
gives back any values the script needs next. One function per effect, registered in ``EFFECTS``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.booking.changes import book_proposed_time, booking_labels, cancel_live_bookings, live_booking
from bot.booking.offer import (
    RETURN_INTERVIEW_WINDOW,
    Wishes,
    find_slots,
    slots_near,
    still_open,
    take_slot,
    workers_for,
)
from bot.conversation.erasure import erase_person
from bot.outbox import events
from bot.routing import NOT_SURE, deployment_areas, provider_for_area
from conversations.dates import both_languages, format_day, format_slot
from conversations.timephrases import understand
from conversations.vocabulary import EFFECTS as DECLARED_EFFECTS
from models import (
    AgeBand,
    Booking,
    BookingStatus,
    Contact,
    DeclineReason,
    DelayReason,
    Episode,
    Language,
    Offer,
    OfferMethod,
    OfferStatus,
    PlaceKind,
    PoliceInformed,
    Referral,
    ReferralStatus,
    ReferredBy,
    ReportedBy,
    Role,
    Setting,
    Slot,
    SlotStatus,
    WorkerPreference,
)
from models.enums import OPEN_OFFER_STATUSES

SKIP_WORDS = frozenset({"pass", "skip", "pasio", "no", "na"})  # "other" reason left blank on purpose
# Answers to "what suits you?" with no day or time in them before their words are passed on as they are.
MAX_TIME_TRIES = 2
# Referrals a young person can still book on (not declined, not closed).
BOOKABLE_STATUSES = (ReferralStatus.OPEN, ReferralStatus.BOOKING_REQUESTED, ReferralStatus.BOOKED)


# Effects that only read (or read nothing) and change no more than the contact's own columns. They may run
# while a message is decided, before its write transaction: a message whose script asks only for these is
# then carried out as plainly as an answer to a question. Anything else they would need (creating a
# referral, say) raises NeedsWriting, and the message is carried out in full from that effect on.
READING_EFFECTS = frozenset(
    {
        "remember_role",
        "set_language",
        "list_areas",
        "remember_area",
        "find_request",
        "find_slots",
        "check_slot",
        "understand_time",
        "find_slots_near",
        "provider_news",
        "offer_news",
    }
)


class Deciding(Session):
    """The session effects read through while a message is decided (``bot.conversation.dispatcher``): it is not
    the message's transaction, so an effect that tries to write there is stopped (NeedsWriting) and carried
    out in the transaction instead."""


class NeedsWriting(Exception):
    """An effect run while deciding needs what only the write transaction has (the contact's row, a write)."""


@dataclass
class EffectContext:
    """What an effect works with. While a message is decided there is no contact row (``loaded`` is None):
    effects read through ``session`` and change the contact with ``change_contact``, which the message
    then writes with its state."""

    session: Session
    loaded: Contact | None
    variables: dict[str, Any]
    now: datetime  # UTC
    timezone: ZoneInfo
    contact_id: int = 0
    deleted: bool = False  # set by delete_my_data: nothing more is logged for this contact
    contact_changes: dict[str, Any] = field(default_factory=dict)
    # Rows an effect made or read, held here for the next effect of the same message: the session holds its
    # objects only weakly, and one it has let go of is read back from the database (offering times reads the
    # referral twice when none fit inside the window).
    held: list[Any] = field(default_factory=list)
    # What an effect worked out that the next effect of the same message may ask again (see ``once``).
    worked_out: dict[Any, Any] = field(default_factory=dict)
    # Safeguarding categories an answer raised (a young person still away): the message alerts the provider for
    # them exactly as for the safeguarding check's own (bot.alerts.escalation), after the effects are done.
    raised: list[str] = field(default_factory=list)
    # Categories whose helplines this message's own safety reply has just given (not to be said twice in a turn).
    helped_now: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.loaded is not None:
            self.contact_id = self.loaded.id

    @property
    def contact(self) -> Contact:
        """The contact's row, read when first asked for (most messages never need it); while a message is
        decided there is none to read (NeedsWriting)."""
        if self.loaded is None:
            if isinstance(self.session, Deciding) or not self.contact_id:
                raise NeedsWriting("this effect needs the contact's row")
            self.loaded = self.session.get_one(Contact, self.contact_id)
            for name, value in self.contact_changes.items():
                setattr(self.loaded, name, value)
        return self.loaded

    def save_contact_changes(self) -> None:
        """What this message set of the contact's own columns: on the row if something read it (the session writes
        it with its other changes), else in one UPDATE."""
        if self.loaded is None and self.contact_changes:
            self.session.execute(sa.update(Contact).where(Contact.id == self.contact_id).values(**self.contact_changes))

    def change_contact(self, **columns: Any) -> None:
        """Set the contact's own columns (role, area, language)."""
        self.contact_changes.update(columns)
        if self.loaded is not None:
            for name, value in columns.items():
                setattr(self.loaded, name, value)

    def once(self, key: Any, work_out: Callable[[], Any]) -> Any:
        """``work_out()``, done once per message for ``key``: offering the times inside the window and then, when
        none fit, later ones asks twice which workers fit."""
        if key not in self.worked_out:
            self.worked_out[key] = work_out()
        return self.worked_out[key]

    @property
    def language(self) -> Language:
        return Language(self.variables.get("language", "en"))

    def var(self, name: str, default: Any = None) -> Any:
        value = self.variables.get(name, default)
        return default if value in (None, "") else value


Handler = Callable[[EffectContext], dict[str, Any]]


def apply_effect(name: str, context: EffectContext) -> dict[str, Any]:
    """Carry out effect ``name``; the values returned go back into the conversation."""
    return EFFECTS[name](context)


# --- who is writing ------------------------------------------------------------------------------


def remember_role(context: EffectContext) -> dict[str, Any]:
    role = context.var("role")
    context.change_contact(role=Role(role) if role in Role.__members__.values() else None)
    return {}


def set_language(context: EffectContext) -> dict[str, Any]:
    context.change_contact(language=context.language, language_chosen=True)
    return {}


def list_areas(context: EffectContext) -> dict[str, Any]:
    """The areas this deployment's providers cover, as options (plus the script's own "not sure")."""
    offered = [{"value": area.key, "label": area.names} for area in deployment_areas(context.session)]
    return {"areas": offered, "areas_found": "yes" if offered else "no"}


def remember_area(context: EffectContext) -> dict[str, Any]:
    """Where the young person lives, which decides the provider; "not sure" leaves it to the default one.

    The answer is one of the areas ``list_areas`` offered in this conversation; a script that asks without
    offering them is checked against the areas covered now.
    """
    area = context.var("area")
    offered = context.var("areas")
    if isinstance(offered, list):
        known = {choice.get("value") for choice in offered if isinstance(choice, dict)}
    else:
        known = {area.key for area in deployment_areas(context.session)}
    context.change_contact(area=area if area in known and area != NOT_SURE else None)
    return {}


def opt_out(context: EffectContext) -> dict[str, Any]:
    context.contact.opted_out = True
    context.contact.opted_out_at = context.now
    _close_offers(context, OfferStatus.STOPPED)  # no re-offer, and the worker sees why at once
    return {}


def opt_in(context: EffectContext) -> dict[str, Any]:
    context.contact.opted_out = False
    context.contact.opted_out_at = None
    return {}


# --- episodes and referrals ---------------------------------------------------------------------


def record_episode(context: EffectContext) -> dict[str, Any]:
    """One missing episode from the answers; the best estimate of dates, never more than was said."""
    is_parent = context.var("role") == Role.PARENT_CARER
    still_missing = bool(context.var("still_missing", False)) or context.var("returned_band") == "not_back"
    values = {
        "contact_id": context.contact.id,
        "reported_by": ReportedBy.PARENT_CARER if is_parent else ReportedBy.YOUNG_PERSON,
        "left_at": _estimate(context, "left_band"),
        "returned_at": None if still_missing else _estimate(context, "returned_band"),
        "returned_estimate": "not_back" if still_missing else context.var("returned_band"),
        "still_missing": still_missing,
        "police_informed": _enum(PoliceInformed, context.var("police_informed"), PoliceInformed.NOT_SURE),
        "setting": _enum(Setting, context.var("setting"), Setting.NOT_SURE),
        "age_band": _enum(AgeBand, context.var("age_band"), None),
        "created_at": context.now,
    }
    episode = Episode(**values)
    context.session.add(episode)
    context.session.flush()  # its id goes back into the conversation
    context.held.append(episode)
    episode_ids = [*context.variables.get("episode_ids", []), episode.id]
    return {"episode_id": episode.id, "episode_ids": episode_ids}


def alert_missing_now(context: EffectContext) -> dict[str, Any]:
    """A young person tells us they are not back yet: missing now, and talking to us. The duty worker is alerted
    at once (``unsafe_now``), through the same escalation as the safeguarding check's alerts."""
    context.raised.append("unsafe_now")
    return {"still_missing": True, "helped_already": "yes" if "unsafe_now" in context.helped_now else "no"}


def create_referral(context: EffectContext) -> dict[str, Any]:
    """The request, made once per route to a booking. One this person declined is taken up again (they changed
    their mind about the same return: one request, counted as accepted); one that was closed is not booked on,
    and a new one is made."""
    if _bookable_referral(context) is None and _taken_up_again(context) is None:
        context.variables.pop("referral_id", None)
    referral = _open_referral(context)
    return {"referral_id": referral.id, "deadline": deadline_label(referral, context.timezone)}


def find_request(context: EffectContext) -> dict[str, Any]:
    """Whether this conversation has a request open to book on; the booking makes one first when not."""
    return {"request_open": "yes" if _bookable_referral(context) is not None else "no"}


def find_slots_effect(context: EffectContext) -> dict[str, Any]:
    """Interview times that fit the young person's wishes: the first call inside the 72-hour window, the
    next call later ones."""
    referral = _open_referral(context)
    page = int(context.var("slot_page", 0))
    wishes = _wishes(context, referral)
    workers = context.once(
        ("workers", referral.id, wishes.worker), lambda: workers_for(context.session, referral, wishes.worker)
    )
    slots = find_slots(context.session, referral, context.now, later=page > 0, wishes=wishes, workers=workers)
    values: dict[str, Any] = {**_offered(context, slots), "slot_page": page + 1}
    if page == 0:
        # Kept for the booking: a time after the deadline is the young person's choice only if they were
        # offered times inside the window and passed them over.
        values["window_slots_offered"] = values["slots_found"]
        fell_back = wishes.worker == WorkerPreference.MET_BEFORE and workers.fell_back
        values["met_before_found"] = "no" if fell_back else "yes"
    return values


def check_slot(context: EffectContext) -> dict[str, Any]:
    """The time chosen from a list may have gone since it was offered (booked by someone else, removed)."""
    gone = still_open(context.session, context.var("slot"), context.now) is None
    if gone:
        return {"slot_gone": "yes", "slot": None, "slot_label": ""}
    # A time from the list replaces any time they described in words.
    return {"slot_gone": "no", "preferred_time_text": None, "preferred_time_text_label": ""}


def understand_time(context: EffectContext) -> dict[str, Any]:
    """Their answer to "what suits you?" as a day and a time (conversations.timephrases), to read back."""
    words = context.var("time_words") or ""
    return reading_of_time(words, int(context.var("time_tries", 0)), context.now, context.timezone)


def reading_of_time(words: str, tries: int, now: datetime, timezone: ZoneInfo) -> dict[str, Any]:
    """What ``understand_time`` gives back, worked out from their words alone (the studio's simulator too).

    After MAX_TIME_TRIES answers that say no day or time, their words are passed on as they are: a worker
    can make sense of "whenever my mum is out", and the young person is not asked a fourth time.
    """
    understood = understand(words, now.astimezone(timezone))
    tries += 1
    if understood.status == "ok" and understood.wanted is not None:
        wanted = understood.wanted
        moment = datetime.combine(wanted.day, wanted.target, tzinfo=timezone)
        label = {language: wanted.describe(language) for language in ("en", "cy")}
        return {
            "time_understood": "ok",
            "time_wanted": moment.isoformat(),
            # What they named runs from .. until ("tuesday evening" is 5pm to 9pm): a free time inside it fits.
            "time_wanted_from": datetime.combine(wanted.day, wanted.starts, tzinfo=timezone).isoformat(),
            "time_wanted_until": datetime.combine(wanted.day, wanted.ends, tzinfo=timezone).isoformat(),
            "time_wanted_label": label,
            "preferred_time_text": words,
            "preferred_time_text_label": label,
            "time_tries": 0,
        }
    if understood.status == "past":  # understood, only not possible: not a try that failed
        return {"time_understood": "past", "time_wanted": None}
    if tries >= MAX_TIME_TRIES:
        return {
            "time_understood": "given_up",
            "time_wanted": None,
            "preferred_time_text": words,
            "preferred_time_text_label": words,
            "time_tries": 0,
        }
    return {"time_understood": "unclear", "time_wanted": None, "time_tries": tries}


def find_slots_near(context: EffectContext) -> dict[str, Any]:
    """Open times that fit, nearest to the time they named; ``slot_fits`` is yes (with that time as ``slot``)
    when one of them is inside what they named ("tuesday evening"), on whichever page of times it was."""
    referral = _open_referral(context)
    wanted = context.var("time_wanted")
    if not wanted:
        return {**_offered(context, []), "slot_fits": "no"}
    around = datetime.fromisoformat(wanted)
    slots = slots_near(context.session, referral, context.now, around, wishes=_wishes(context, referral))
    return with_the_fitting_slot(_offered(context, slots), [slot.starts_at for slot in slots], context.variables)


def with_the_fitting_slot(offered: dict[str, Any], starts: list[datetime], variables: dict[str, Any]) -> dict[str, Any]:
    """``offered`` (the times, as ``_offered`` gives them, starting at ``starts``) with ``slot_fits``: yes, and
    that time as ``slot``, when one starts inside what they named ("tuesday evening")."""
    values = {**offered, "slot_fits": "no"}
    since, until = variables.get("time_wanted_from"), variables.get("time_wanted_until")
    if since and until:
        window = (datetime.fromisoformat(since), datetime.fromisoformat(until))
        fits = next((n for n, start in enumerate(starts) if window[0] <= start <= window[1]), None)
        if fits is not None:
            chosen = values["slots"][fits]
            values.update(slot_fits="yes", slot=chosen["value"], slot_label=chosen["label"])
    return values


def request_booking(context: EffectContext) -> dict[str, Any]:
    """The young person's choices as a booking on the referral: the slot is HELD until the provider
    confirms, or BOOKED at once when the provider confirms automatically.

    ``booking_made: no`` when the slot went to someone else first (the script offers the next times); the
    booking they had before, if any, then stands.
    """
    session = context.session
    referral = _open_referral(context)
    provider = referral.provider
    slot_id = context.var("slot")
    if not isinstance(slot_id, int) or isinstance(slot_id, bool):
        slot_id = None  # "none of these", or a time described in words
    auto = bool(provider and provider.auto_confirm)
    slot = None
    if slot_id is not None:
        already_theirs = any(b.slot_id == slot_id for b in referral.bookings if b.status != BookingStatus.CANCELLED)
        if already_theirs:  # the same time again, with something else changed: release it to themselves
            cancel_live_bookings(session, referral, reason="new_time_requested", now=context.now)
        slot = take_slot(session, slot_id, context.now, status=SlotStatus.BOOKED if auto else SlotStatus.HELD)
        if slot is None:
            return {"booking_made": "no", "slot": None, "slot_label": ""}
    # Asking again (a change of mind, or "choose another time" after a worker's suggestion) replaces
    # whatever was asked or booked before: one live booking per referral.
    cancel_live_bookings(session, referral, reason="new_time_requested", now=context.now)
    starts_at = slot.starts_at if slot else None
    wanted = context.var("time_wanted")
    compared = starts_at or (datetime.fromisoformat(wanted) if wanted else None)
    outside_window = bool(referral.deadline_at and (compared is None or compared > referral.deadline_at))
    confirmed = auto and slot is not None
    written = context.now
    booking = Booking(
        referral=referral,
        slot=slot,
        starts_at=starts_at,
        worker_id=slot.worker_id if slot else None,
        place_kind=_enum(PlaceKind, context.var("place_kind"), None),
        worker_preference=_enum(WorkerPreference, context.var("worker_preference"), None),
        trusted_adult=context.var("trusted_adult"),
        preferred_time_text=None if slot else _preferred_time_text(context),
        status=BookingStatus.CONFIRMED if confirmed else BookingStatus.REQUESTED,
        outside_window=outside_window,
        # The reason for a delay is recorded so reports can count it: the young person's own choice when
        # they passed over times inside the window, no availability when there were none to offer.
        delay_reason=_delay_reason(context) if outside_window else None,
        reminders_sent=[],
        created_at=written,
        updated_at=written,
    )
    chosen = {
        "status": ReferralStatus.BOOKED if confirmed else ReferralStatus.BOOKING_REQUESTED,
        "place_kind": booking.place_kind,
        "worker_preference": booking.worker_preference,
        "trusted_adult": booking.trusted_adult,
    }
    if confirmed:
        chosen["assigned_worker_id"] = slot.worker_id
    for name, value in chosen.items():
        setattr(referral, name, value)
    session.add(booking)
    session.flush()
    events.booking_requested(session, referral, booking)
    values: dict[str, Any] = {"booking_id": booking.id, "booking_made": "yes", "booking_status": booking.status.value}
    if confirmed:
        values.update(booking_labels(session, booking, context.timezone))
    return values


def find_my_booking(context: EffectContext) -> dict[str, Any]:
    """The young person's booking that stands (when, where, who), to change or cancel it.

    Its choices are put back into the conversation, so moving it offers times that fit them and the
    summary reads them back, even after the conversation started again.
    """
    session, contact = context.session, context.contact
    booking = live_booking(session, contact)
    if booking is None:
        referral = _reofferable_referral(session, contact)
        return {"has_booking": "no", "can_book": "yes" if referral else "no", **_referral_var(referral)}
    labels = booking_labels(session, booking, context.timezone)
    values: dict[str, Any] = {
        "has_booking": "yes",
        "referral_id": booking.referral_id,
        "my_booking_status": booking.status.value,
        "my_booking_when": labels["booking_when"],
        "my_booking_where": labels["booking_where"],
        "my_booking_who": labels["worker_name"],
    }
    for name, value in (
        ("place_kind", booking.place_kind),
        ("worker_preference", booking.worker_preference),
        ("trusted_adult", booking.trusted_adult),
    ):
        if value is not None and context.var(name) is None:
            values[name] = getattr(value, "value", value)
            values[f"{name}_label"] = labels.get(f"{name}_label", "")
    return values


def cancel_my_booking(context: EffectContext) -> dict[str, Any]:
    """The young person cancels their booking: the slot is freed and the provider told; the referral stays
    open for a re-offer. A safeguarding alert is never touched by this."""
    booking = live_booking(context.session, context.contact)
    if booking is None:
        return {"booking_cancelled": "no"}
    referral = booking.referral
    cancel_live_bookings(context.session, referral, reason="young_person", now=context.now)
    referral.status = ReferralStatus.OPEN
    return {"booking_cancelled": "yes", "referral_id": referral.id}


def record_decline(context: EffectContext) -> dict[str, Any]:
    """Declining is a right: keep the reason (one code) and their words; never cancel an alert."""
    referral = _open_referral(context)
    reason = _enum(DeclineReason, context.var("decline_reason"), DeclineReason.OTHER)
    words = (context.var("decline_text") or "").strip()
    referral.status = ReferralStatus.DECLINED
    referral.decline_reason = reason
    referral.decline_text = None if words.casefold() in SKIP_WORDS else words or None
    referral.declined_at = context.now
    events.referral_declined(context.session, referral)
    return {"referral_id": referral.id}


def provider_news(context: EffectContext) -> dict[str, Any]:
    """Reached only by a script that goes to the provider script itself: there is no news then.

    When a worker acts, ``bot.providers.actions`` starts the provider script after this step, with the news.
    """
    return {"provider_news": "none"}


def offer_news(context: EffectContext) -> dict[str, Any]:
    """Reached only by a script that goes to the offer script itself: there is no offer to make then.

    When a service reports an episode, ``bot.offers`` starts the offer script after this step, with the offer.
    """
    return {"offer_kind": "none"}


def accept_proposed_time(context: EffectContext) -> dict[str, Any]:
    """The young person said yes to the time a worker suggested: it is booked, and the provider told."""
    booking = book_proposed_time(context.session, context.contact, context.var("proposal") or {}, context.now)
    return {"proposal_taken": "yes" if booking else "no"}


def request_human(context: EffectContext) -> dict[str, Any]:
    """Someone asked for a person: make sure the provider's queue has them."""
    referral = _open_referral(context)
    return {"referral_id": referral.id}


def wrong_number(context: EffectContext) -> dict[str, Any]:
    """The bot's offer reached someone it was not for: the worker sees the offer marked so (and finds the young
    person another way), and no re-offer goes to this number."""
    _close_offers(context, OfferStatus.WRONG_NUMBER)
    return {}


def _close_offers(context: EffectContext, status: OfferStatus) -> None:
    """The bot's offers to this number still open end here: nothing more about them is sent to it."""
    context.session.execute(
        sa.update(Offer)
        .where(Offer.contact_id == context.contact_id, Offer.status.in_(OPEN_OFFER_STATUSES))
        .values(status=status, due_at=None, closed_at=context.now)
        .execution_options(synchronize_session=False)
    )


def delete_my_data(context: EffectContext) -> dict[str, Any]:
    """Delete what identifies this person and what they wrote (``bot.conversation.erasure``); the provider keeps
    its referrals and safeguarding records without them. Nothing more of this message is logged."""
    erase_person(context.session, context.contact)
    context.deleted = True
    return {}


EFFECTS: dict[str, Handler] = {
    "remember_role": remember_role,
    "list_areas": list_areas,
    "remember_area": remember_area,
    "set_language": set_language,
    "opt_out": opt_out,
    "opt_in": opt_in,
    "alert_missing_now": alert_missing_now,
    "record_episode": record_episode,
    "create_referral": create_referral,
    "find_request": find_request,
    "find_slots": find_slots_effect,
    "check_slot": check_slot,
    "understand_time": understand_time,
    "find_slots_near": find_slots_near,
    "request_booking": request_booking,
    "find_my_booking": find_my_booking,
    "cancel_my_booking": cancel_my_booking,
    "record_decline": record_decline,
    "request_human": request_human,
    "provider_news": provider_news,
    "offer_news": offer_news,
    "accept_proposed_time": accept_proposed_time,
    "delete_my_data": delete_my_data,
    "wrong_number": wrong_number,
}
assert set(EFFECTS) == set(DECLARED_EFFECTS), "every effect a script may name needs a handler here"
assert set(EFFECTS) >= READING_EFFECTS, "a reading effect needs a handler too"


# --- helpers ----------------------------------------------------------------------------------------


# Built once: a loader option is a small object tree that costs more to build than the lookup it steers.
_WITH_PROVIDER = [sa.orm.joinedload(Referral.provider)]


def _referral(session: Session, referral_id: int) -> Referral | None:
    """The referral with its provider, whose notice and horizon decide which times are offered."""
    return session.get(Referral, referral_id, options=_WITH_PROVIDER)


def _bookable_referral(context: EffectContext) -> Referral | None:
    """This conversation's referral, when it is this person's and still open to book on."""
    referral_id = context.variables.get("referral_id")
    referral = _referral(context.session, referral_id) if referral_id else None
    if referral is None or referral.contact_id != context.contact_id or referral.status not in BOOKABLE_STATUSES:
        return None
    context.held.append(referral)
    return referral


def _taken_up_again(context: EffectContext) -> Referral | None:
    """This conversation's referral, if this person declined it: open again, with the consent, the episodes and
    the deadline this route has just recorded (the provider hears of any new episode)."""
    referral_id = context.variables.get("referral_id")
    referral = _referral(context.session, referral_id) if referral_id else None
    if referral is None or referral.contact_id != context.contact_id or referral.status != ReferralStatus.DECLINED:
        return None
    referral.status = ReferralStatus.OPEN
    referral.decline_reason = referral.decline_text = referral.declined_at = None
    consent = context.var("consent_given")
    if isinstance(consent, bool):
        referral.consent_given = consent
    new = [episode for episode in _conversation_episodes(context) if episode not in referral.episodes]
    referral.episodes.extend(new)
    if any(episode.returned_at for episode in referral.episodes):
        referral.deadline_at = _deadline(referral.episodes, context.now)
    referral.updated_at = context.now
    context.held.append(referral)
    events.episodes_reported(context.session, referral, new)
    return referral


def _conversation_episodes(context: EffectContext) -> list[Episode]:
    """The episodes this conversation recorded."""
    found = (context.session.get(Episode, episode_id) for episode_id in context.variables.get("episode_ids", []))
    return [episode for episode in found if episode is not None]


def _deadline(episodes: Sequence[Episode], now: datetime) -> datetime:
    """72 hours from the earliest return told, or from now when no return day is known."""
    returned = [episode.returned_at for episode in episodes if episode.returned_at]
    return (min(returned) if returned else now) + RETURN_INTERVIEW_WINDOW


def _open_referral(context: EffectContext) -> Referral:
    """The referral this conversation is about, creating it (and telling the provider) if needed."""
    session = context.session
    referral_id = context.variables.get("referral_id")
    referral = _referral(session, referral_id) if referral_id else None
    if referral is not None and referral.contact_id == context.contact_id:
        context.held.append(referral)
        return referral
    contact = context.contact
    is_parent = context.var("role") == Role.PARENT_CARER
    episodes = _conversation_episodes(context)
    deadline = _deadline(episodes, context.now)
    consent = context.var("consent_given")
    provider = provider_for_area(session, contact.area)
    values = {
        "contact_id": contact.id,
        "provider_id": provider.id if provider else None,
        "referred_by": ReferredBy.PARENT_CARER if is_parent else ReferredBy.SELF,
        "status": ReferralStatus.OPEN,
        "child_agrees": context.var("child_agrees") if is_parent else None,
        "consent_given": consent if isinstance(consent, bool) else None,
        "deadline_at": deadline,
        "language": context.language,
        "channel": contact.channel,
        "area": contact.area,
        "created_at": context.now,
        "updated_at": context.now,
    }
    referral = Referral(**values, contact=contact, provider=provider, episodes=episodes)
    if referral.referred_by == ReferredBy.SELF:
        # They came to the bot themselves, and the conversation told them what an interview is and offered one.
        referral.record_offer(context.now, OfferMethod.IN_CONVERSATION)
    session.add(referral)
    session.flush()
    context.held.append(referral)
    context.variables["referral_id"] = referral.id
    events.referral_created(session, referral, episodes)
    return referral


def _wishes(context: EffectContext, referral: Referral) -> Wishes:
    """Where and who, as answered in this conversation, else as the referral last recorded them."""
    return Wishes(
        place_kind=_enum(PlaceKind, context.var("place_kind"), referral.place_kind),
        worker=_enum(WorkerPreference, context.var("worker_preference"), referral.worker_preference),
    )


def _offered(context: EffectContext, slots: list[Slot]) -> dict[str, Any]:
    offered = [
        {"value": slot.id, "label": both_languages(format_slot, slot.starts_at.astimezone(context.timezone))}
        for slot in slots
    ]
    return {"slots": offered, "slots_found": "yes" if offered else "no"}


def _preferred_time_text(context: EffectContext) -> str | None:
    """Their own words, with what the bot understood of them, for the worker who arranges the time."""
    words = context.var("preferred_time_text")
    label = context.var("time_wanted_label")
    if words and isinstance(label, dict) and label.get("en") and context.var("time_wanted"):
        return f"{words} ({label['en']})"
    return words


def _delay_reason(context: EffectContext) -> DelayReason:
    if context.var("window_slots_offered") == "yes":
        return DelayReason.YOUNG_PERSON_CHOICE
    return DelayReason.NO_AVAILABILITY


def _reofferable_referral(session: Session, contact: Contact) -> Referral | None:
    """The young person's own request still open; a parent's referral is for the provider to follow up."""
    return session.scalars(
        sa.select(Referral)
        .where(
            Referral.contact_id == contact.id,
            Referral.status.in_(BOOKABLE_STATUSES),
            Referral.referred_by == ReferredBy.SELF,
        )
        .order_by(Referral.id.desc())
        .limit(1)
    ).first()


def _referral_var(referral: Referral | None) -> dict[str, Any]:
    return {"referral_id": referral.id} if referral else {}


def _estimate(context: EffectContext, band_variable: str) -> datetime | None:
    """A rough time from 'today' / 'yesterday' / '2 or 3 days ago', or the exact day they typed."""
    local_today = context.now.astimezone(context.timezone).date()
    exact = context.var(f"{band_variable}_date")
    if exact:
        day = date.fromisoformat(exact)
    else:
        days_back = {"today": 0, "yesterday": 1, "days_2_3": 2}.get(context.var(band_variable))
        if days_back is None:
            return None  # "longer ago" or "not sure": no date is better than a made-up one
        day = local_today - timedelta(days=days_back)
    if day >= local_today:
        return context.now
    # Midday of that day: an honest middle when only the day is known.
    return datetime(day.year, day.month, day.day, 12, tzinfo=context.timezone).astimezone(context.now.tzinfo)


def deadline_label(referral: Referral, timezone: ZoneInfo) -> dict[str, str]:
    if referral.deadline_at is None:
        return {"en": "", "cy": ""}
    local = referral.deadline_at.astimezone(timezone)
    return both_languages(format_day, local.date())


def _enum(enum_class: Any, value: Any, default: Any) -> Any:
    try:
        return enum_class(value)
    except ValueError:
        return default
