"""What a worker at a provider can do, from the queue pages or the provider API.

Every action takes the acting provider and looks the referral (or alert) up only among that provider's:
another provider's is ``NotFound``, exactly like one that does not exist. Each runs in the caller's
transaction. What the young person is told goes through the bot: the provider script
(``conversations/scripts/provider.yaml``) is run on their conversation, and its replies are written to the
outbox for their channel, in their language, in that same transaction. Nobody at the provider needs their
phone number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.booking.availability import refresh_slots
from bot.booking.changes import (
    CLOSED_STATUSES,
    booking_labels,
    cancel_live_bookings,
    confirmed_delay_reason,
)
from bot.booking.guards import TimeRefused, check_meeting_time
from bot.conversation.outreach import speak_first
from bot.outbox import events
from bot.providers.record import Actor, record_action
from bot.routing import escalation_provider_id, provider_id_for_area
from conversations.dates import both_languages, format_slot
from models import (
    Booking,
    BookingStatus,
    Contact,
    DelayReason,
    Escalation,
    OfferMethod,
    PlaceKind,
    Referral,
    ReferralOutcome,
    ReferralStatus,
    ReviewItem,
    Slot,
    SlotStatus,
    Worker,
)
from models.db import take_write_lock

if TYPE_CHECKING:
    from bot.runtime import Runtime

PROVIDER_SCRIPT_ENTRY = "provider.what"  # after its "news" step, which the action itself stands in for
MAX_WORKER_MESSAGE = 480  # three SMS parts at most; a longer talk is a phone call
MAX_FOLLOW_UP_TEXT = 2000
MAX_NOTE_TEXT = 2000
# Outcomes that say the young person and the worker met: recorded only once the interview has started.
MET_OUTCOMES = (ReferralOutcome.INTERVIEW_HELD, ReferralOutcome.DECLINED_IN_PERSON)


class ActionError(Exception):
    """An action that cannot be done; the message is for the worker and names no personal data."""


class NotFound(ActionError):
    pass


class Invalid(ActionError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Conflict(ActionError):
    pass


@dataclass(frozen=True)
class Told:
    """Whether the young person was told (they may have sent STOP, or deleted their data)."""

    young_person_told: bool
    reason: str | None = None


# --- finding what a provider may touch -------------------------------------------------------------


def find_referral(session: Session, provider_id: int, referral_id: int) -> Referral:
    referral = session.scalars(
        sa.select(Referral).where(Referral.id == referral_id, Referral.provider_id == provider_id)
    ).one_or_none()
    if referral is None:
        raise NotFound("no such referral")
    return referral


def find_escalation(session: Session, provider_id: int, escalation_id: int) -> Escalation:
    escalation = session.get(Escalation, escalation_id)
    if escalation is None or escalation_provider_id(session, escalation) != provider_id:
        raise NotFound("no such alert")
    return escalation


def find_contact(session: Session, provider_id: int, contact_id: int) -> Contact:
    """A young person (or parent) this provider may see: one with a referral to it, a message on its To read
    list, or, with neither yet (an alert from someone new), one in an area it covers."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("no such person")
    for model in (Referral, ReviewItem):
        found = sa.select(model.id).where(model.contact_id == contact.id, model.provider_id == provider_id)
        if session.scalar(found.limit(1)) is not None:
            return contact
    has_referral = session.scalar(sa.select(Referral.id).where(Referral.contact_id == contact.id).limit(1))
    if has_referral is None and provider_id_for_area(session, contact.area) == provider_id:
        return contact
    raise NotFound("no such person")


def latest_referral(session: Session, provider_id: int, contact_id: int) -> Referral | None:
    """The person's newest referral to this provider: where an alert raised before it was made belongs now."""
    return session.scalars(
        sa.select(Referral)
        .where(Referral.contact_id == contact_id, Referral.provider_id == provider_id)
        .order_by(Referral.id.desc())
        .limit(1)
    ).first()


def referral_of_alert(session: Session, provider_id: int, escalation: Escalation) -> Referral | None:
    if escalation.referral is not None:
        return escalation.referral
    return latest_referral(session, provider_id, escalation.contact_id)


def mark_read(session: Session, actor: Actor, item_id: int, now: datetime) -> ReviewItem:
    """A person has read a message on the "To read" list (it leaves the list)."""
    take_write_lock(session)
    item = session.get(ReviewItem, item_id)
    if item is None or item.provider_id != actor.provider_id:
        raise NotFound("no such message to read")
    if item.read_at is None:
        item.read_at = now
        item.read_by = actor.label[:128]
        record_action(session, actor, "read", now, contact_id=item.contact_id, referral_id=item.referral_id)
    return item


def _worker(session: Session, provider_id: int, worker_id: int, field: str = "worker_id") -> Worker:
    worker = session.get(Worker, worker_id)
    if worker is None or worker.provider_id != provider_id or not worker.active:
        raise Invalid(field, "no active worker with this id at your service")
    return worker


def _future(moment: datetime, now: datetime, field: str = "starts_at") -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise Invalid(field, "give a time zone, e.g. 2026-11-24T16:00:00Z or +00:00")
    if moment <= now:
        raise Invalid(field, "must be in the future")
    return moment


def _fits_hours(session: Session, runtime: Runtime, referral: Referral, worker: Worker | None, when: datetime) -> None:
    """A time a worker sets: never at night, inside opening hours and the worker's own (``bot/booking/guards``)."""
    if referral.provider is None:
        return
    try:
        check_meeting_time(session, referral.provider, worker, when, runtime.timezone)
    except TimeRefused as refused:
        raise Invalid("starts_at", str(refused)) from None


# --- actions ---------------------------------------------------------------------------------------


def acknowledge_alert(session: Session, actor: Actor, escalation_id: int, now: datetime) -> list[Escalation]:
    """A person has picked the alert up. Every category raised by the same message is acknowledged."""
    take_write_lock(session)
    escalation = find_escalation(session, actor.provider_id, escalation_id)
    query = sa.select(Escalation).where(Escalation.contact_id == escalation.contact_id)
    if escalation.inbound_event_id is not None:
        query = query.where(Escalation.inbound_event_id == escalation.inbound_event_id)
    else:
        query = query.where(Escalation.id == escalation.id)
    alert = list(session.scalars(query.order_by(Escalation.id)))
    if all(item.acknowledged_at is not None for item in alert):
        return alert  # again changes nothing, and is not recorded twice
    referral = referral_of_alert(session, actor.provider_id, escalation)
    for item in alert:
        if item.acknowledged_at is None:
            item.acknowledged_at = now
            item.acknowledged_by = actor.label[:128]
            item.assigned_staff_id = actor.staff_id
    if referral is not None and actor.staff_id is not None:
        referral.assigned_staff_id = actor.staff_id
    record_action(
        session,
        actor,
        "acknowledged",
        now,
        contact_id=escalation.contact_id,
        referral_id=referral.id if referral else None,
        escalation_id=alert[0].id,
    )
    return alert


def finish_alert(session: Session, actor: Actor, escalation_id: int, now: datetime) -> list[Escalation]:
    """The person who has the alert has done what it needed: it leaves the In progress list."""
    alert = acknowledge_alert(session, actor, escalation_id, now)
    if all(item.done_at is not None for item in alert):
        return alert
    for item in alert:
        item.done_at = now
    record_action(session, actor, "alert_done", now, contact_id=alert[0].contact_id,
                  referral_id=alert[0].referral_id, escalation_id=alert[0].id)  # fmt: skip
    return alert


def tick_checklist(
    session: Session, actor: Actor, escalation_id: int, item: str, ticked: bool, now: datetime
) -> Escalation:
    """A line of the alert's checklist done (or undone), on the record with who and when."""
    take_write_lock(session)
    escalation = find_escalation(session, actor.provider_id, escalation_id)
    item = item.strip()
    if not item or len(item) > 200:
        raise Invalid("item", "tick a line of the checklist")
    referral = referral_of_alert(session, actor.provider_id, escalation)
    record_action(
        session,
        actor,
        "ticked" if ticked else "unticked",
        now,
        contact_id=escalation.contact_id,
        referral_id=referral.id if referral else None,
        escalation_id=escalation.id,
        item=item,
    )
    return escalation


def add_note(session: Session, actor: Actor, contact_id: int, text: str, now: datetime) -> None:
    """A worker's note on the young person's case: the provider's own record."""
    take_write_lock(session)
    contact = find_contact(session, actor.provider_id, contact_id)
    text = text.strip()
    if not text:
        raise Invalid("text", "write a note")
    if len(text) > MAX_NOTE_TEXT:
        raise Invalid("text", f"at most {MAX_NOTE_TEXT} characters")
    referral = latest_referral(session, actor.provider_id, contact.id)
    record_action(session, actor, "note", now, contact_id=contact.id, referral_id=referral.id if referral else None,
                  text=text)  # fmt: skip


def _on_record(session: Session, actor: Actor, referral: Referral, kind: str, now: datetime, **details: Any) -> None:
    record_action(session, actor, kind, now, contact_id=referral.contact_id, referral_id=referral.id, **details)


def assign_worker(session: Session, actor: Actor, referral_id: int, worker_id: int | None, now: datetime) -> Referral:
    take_write_lock(session)
    referral = find_referral(session, actor.provider_id, referral_id)
    worker = _worker(session, actor.provider_id, worker_id) if worker_id else None
    referral.assigned_worker_id = worker.id if worker else None
    _on_record(session, actor, referral, "assigned", now, worker=worker.display_name if worker else None)
    return referral


def confirm_booking(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    referral_id: int,
    now: datetime,
    *,
    booking_id: int | None = None,
    starts_at: datetime | None = None,
    worker_id: int | None = None,
    place_kind: str | None = None,
    delay_reason: str | None = None,
) -> tuple[Booking, Told]:
    """Confirm what the young person asked for (with the time, worker or place the worker fills in).

    A time after the 72-hour deadline keeps a reason for the delay: ``delay_reason`` when the worker gives
    one, else as ``confirmed_delay_reason`` decides."""
    take_write_lock(session)
    referral = find_referral(session, actor.provider_id, referral_id)
    if referral.status in CLOSED_STATUSES:
        raise Conflict(f"the referral is {referral.status}: there is nothing to confirm")
    booking = _booking_to_confirm(referral, booking_id)
    assigned = session.get(Worker, referral.assigned_worker_id) if referral.assigned_worker_id else None
    worker = _worker(session, actor.provider_id, worker_id) if worker_id else booking.worker or assigned
    if worker is None:
        raise Invalid("worker_id", "say which worker will meet them: the booking has no worker yet")
    when = _future(starts_at, now) if starts_at else booking.starts_at
    if when is None:
        raise Invalid("starts_at", "they described a time in their own words: give the time you agreed")
    if starts_at:  # a time the worker sets, rather than the one offered and chosen
        _fits_hours(session, runtime, referral, worker, when)
    place = _place_kind(place_kind) if place_kind else booking.place_kind
    if place is None:
        raise Invalid("place_kind", "say where (or how) you will meet: the booking has no place yet")
    given_reason = _delay_reason(delay_reason) if delay_reason else None

    slot = booking.slot
    if slot is not None and (slot.starts_at != when or slot.worker_id != worker.id):
        slot.status = SlotStatus.OPEN  # a different time or worker: the slot held goes back to the pool
        booking.slot = None
    elif slot is not None:
        slot.status = SlotStatus.BOOKED
    asked_for = booking.starts_at
    booking.starts_at = when
    booking.worker_id = worker.id
    booking.place_kind = place
    booking.status = BookingStatus.CONFIRMED
    booking.outside_window = bool(referral.deadline_at and when > referral.deadline_at)
    booking.delay_reason = confirmed_delay_reason(
        booking.outside_window, booking.delay_reason, asked_for, when, given_reason
    )
    cancel_live_bookings(session, referral, reason="replaced_by_provider", now=now, keep=booking)
    referral.status = ReferralStatus.BOOKED
    referral.assigned_worker_id = worker.id
    _slots_follow(session, runtime, booking, now)
    _on_record(session, actor, referral, "confirmed", now, starts_at=when.isoformat(), worker=worker.display_name)
    told = _tell(
        session,
        runtime,
        referral,
        "confirmed",
        {
            "booking_when": _when_label(runtime, when),
            "booking_where": _place_label(runtime, place),
            "worker_name": worker.display_name,
        },
        now,
    )
    return booking, told


def propose_time(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    referral_id: int,
    now: datetime,
    *,
    starts_at: datetime,
    worker_id: int | None = None,
    place_kind: str | None = None,
    delay_reason: str | None = None,
) -> Told:
    """Suggest another time; the bot asks the young person to accept it or choose another. ``delay_reason``
    is kept for when they accept a time after the deadline."""
    take_write_lock(session)
    referral = find_referral(session, actor.provider_id, referral_id)
    if referral.status in CLOSED_STATUSES:
        raise Conflict(f"the referral is {referral.status}: suggest a time only on an open referral")
    when = _future(starts_at, now)
    worker = _worker(session, actor.provider_id, worker_id) if worker_id else None
    _fits_hours(session, runtime, referral, worker, when)
    place = _place_kind(place_kind) if place_kind else None
    given_reason = _delay_reason(delay_reason) if delay_reason else None
    _require_reachable(referral.contact)
    _on_record(session, actor, referral, "proposed", now, starts_at=when.isoformat())
    proposal = {
        "referral_id": referral.id,
        "starts_at": when.isoformat(),
        "worker_id": worker.id if worker else None,
        "place_kind": place.value if place else None,
        "delay_reason": given_reason.value if given_reason else None,
    }
    return _tell(
        session,
        runtime,
        referral,
        "proposed",
        {"proposed_when": _when_label(runtime, when), "proposal": proposal, "proposal_taken": None},
        now,
    )


def cancel_booking(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    referral_id: int,
    now: datetime,
    *,
    booking_id: int | None = None,
    why: str | None = None,
) -> tuple[Booking, Told]:
    """The provider cancels the booking: its slot is freed, the referral stays open for a new time, and the
    young person is told in their language (with how to choose a new time). ``why`` is for the record (a
    closed day, say)."""
    take_write_lock(session)
    referral = find_referral(session, actor.provider_id, referral_id)
    _booking_exists(referral, booking_id)
    if booking_id is None and all(b.status == BookingStatus.CANCELLED for b in referral.bookings):
        raise Conflict("there is no booking to cancel")
    booking = _booking_to_confirm(referral, booking_id)
    when = _booking_when(runtime, booking)
    cancel_live_bookings(session, referral, reason="provider", now=now)
    if referral.status not in CLOSED_STATUSES:
        referral.status = ReferralStatus.OPEN
    starts = booking.starts_at.isoformat() if booking.starts_at else None
    _on_record(session, actor, referral, "cancelled", now, starts_at=starts, why=why)
    told = _tell(session, runtime, referral, "cancelled", {"booking_when": when}, now)
    return booking, told


def move_booking(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    referral_id: int,
    now: datetime,
    *,
    booking_id: int | None = None,
    starts_at: datetime | None = None,
    worker_id: int | None = None,
    place_kind: str | None = None,
    why: str | None = None,
) -> tuple[Booking, Told]:
    """The provider moves the booking to a new time, worker or place, and the young person is told.

    The old booking is cancelled (its slot freed) and a new, confirmed one made: the provider gets
    ``booking.cancelled`` then ``booking.requested``, as when the young person moves it. A worker's own
    slot at the new time is booked if it is open, and refused if someone else has it.
    """
    take_write_lock(session)
    referral = find_referral(session, actor.provider_id, referral_id)
    if referral.status in CLOSED_STATUSES:
        raise Conflict(f"the referral is {referral.status}: there is nothing to move")
    _booking_exists(referral, booking_id)
    if booking_id is None and all(b.status == BookingStatus.CANCELLED for b in referral.bookings):
        raise Conflict("there is no booking to move: suggest a time instead")
    old = _booking_to_confirm(referral, booking_id)
    if starts_at is None and worker_id is None and place_kind is None:
        raise Invalid("starts_at", "say what changes: starts_at, worker_id or place_kind")
    when = _future(starts_at, now) if starts_at else old.starts_at
    if when is None:
        raise Invalid("starts_at", "they described a time in their own words: give the new time")
    worker = _worker(session, actor.provider_id, worker_id) if worker_id else old.worker
    if worker is None:
        raise Invalid("worker_id", "say which worker will meet them: the booking has no worker yet")
    if (when, worker.id) != (old.starts_at, old.worker_id):  # only a new time or worker is checked again
        _fits_hours(session, runtime, referral, worker, when)
    place = _place_kind(place_kind) if place_kind else old.place_kind
    slot = session.scalars(sa.select(Slot).where(Slot.worker_id == worker.id, Slot.starts_at == when)).one_or_none()
    if slot is not None and slot.id != old.slot_id and slot.status != SlotStatus.OPEN:
        raise Conflict("that worker is already booked at that time")
    cancel_live_bookings(session, referral, reason="moved_by_provider", now=now)
    if slot is not None:
        session.flush()  # the old slot, if it is this one, is free again before it is booked
        session.execute(
            sa.update(Slot)
            .where(Slot.id == slot.id, Slot.status == SlotStatus.OPEN)
            .values(status=SlotStatus.BOOKED)
            .execution_options(synchronize_session=False)
        )
        session.refresh(slot)
        if slot.status != SlotStatus.BOOKED:
            raise Conflict("that worker is already booked at that time")
    outside = bool(referral.deadline_at and when > referral.deadline_at)
    booking = Booking(
        referral=referral,
        slot=slot,
        starts_at=when,
        worker_id=worker.id,
        place_kind=place,
        worker_preference=old.worker_preference,
        trusted_adult=old.trusted_adult,
        status=BookingStatus.CONFIRMED,
        outside_window=outside,
        delay_reason=confirmed_delay_reason(outside, old.delay_reason, old.starts_at, when),
    )
    session.add(booking)
    referral.status = ReferralStatus.BOOKED
    referral.assigned_worker_id = worker.id
    session.flush()
    _on_record(session, actor, referral, "moved", now, starts_at=when.isoformat(), worker=worker.display_name, why=why)
    events.booking_requested(session, referral, booking)
    _slots_follow(session, runtime, booking, now)
    labels = booking_labels(session, booking, runtime.timezone)
    told = _tell(
        session,
        runtime,
        referral,
        "moved",
        {key: labels[key] for key in ("booking_when", "booking_where", "worker_name")},
        now,
    )
    return booking, told


def record_outcome(
    session: Session,
    actor: Actor,
    referral_id: int,
    now: datetime,
    *,
    outcome: str,
    follow_up_needed: str | None = None,
    follow_up_provided: str | None = None,
) -> Referral:
    """How it ended (interview held, declined in person, could not contact, missing again) and the support
    that followed; the referral is closed."""
    take_write_lock(session)
    referral = find_referral(session, actor.provider_id, referral_id)
    try:
        chosen = ReferralOutcome(outcome)
    except ValueError:
        raise Invalid("outcome", f"must be one of {', '.join(item.value for item in ReferralOutcome)}") from None
    if chosen in MET_OUTCOMES:
        _interview_started(referral, now)
    referral.outcome = chosen.value
    for field, text in (("follow_up_needed", follow_up_needed), ("follow_up_provided", follow_up_provided)):
        if text is not None and len(text) > MAX_FOLLOW_UP_TEXT:
            raise Invalid(field, f"at most {MAX_FOLLOW_UP_TEXT} characters")
    referral.outcome_at = now
    if follow_up_needed is not None:
        referral.follow_up_needed = follow_up_needed.strip() or None
    if follow_up_provided is not None:
        referral.follow_up_provided = follow_up_provided.strip() or None
    referral.status = ReferralStatus.CLOSED
    _on_record(session, actor, referral, "outcome", now, outcome=referral.outcome)
    return referral


def record_phone_offer(
    session: Session, actor: Actor, referral_id: int, now: datetime, *, offered_at: datetime | None = None
) -> Referral:
    """A worker offered the young person an interview by phone (``offered_at``, else now): recorded as the
    referral's offer, which keeps the first one made."""
    take_write_lock(session)
    referral = find_referral(session, actor.provider_id, referral_id)
    when = now if offered_at is None else offered_at
    if when.tzinfo is None or when.utcoffset() is None:
        raise Invalid("offered_at", "give a time zone, e.g. 2026-11-24T16:00:00Z or +00:00")
    if when > now:
        raise Invalid("offered_at", "is in the future: give when you phoned them")
    referral.record_offer(when, OfferMethod.WORKER_PHONE)
    return referral


def _interview_started(referral: Referral, now: datetime) -> None:
    """An outcome saying they met is refused while their booked interview has not started. With no booking a
    worker may still have met them (a drop-in, a visit arranged by phone), so that is taken as said."""
    times = [b.starts_at for b in referral.bookings if b.status != BookingStatus.CANCELLED and b.starts_at]
    if times and min(times) > now:
        raise Invalid("outcome", "the interview has not started yet: record how it went after it starts")


def send_message(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    referral_id: int,
    text: str,
    now: datetime,
    *,
    worker_id: int | None = None,
) -> Told:
    """A message to the young person through the bot; their reply shows in the referral's timeline."""
    take_write_lock(session)
    referral = find_referral(session, actor.provider_id, referral_id)
    return _message(session, runtime, actor, referral.contact, referral, text, now, worker_id=worker_id)


def message_person(session: Session, runtime: Runtime, actor: Actor, contact_id: int, text: str, now: datetime) -> Told:
    """A message through the bot to someone who may have no referral yet (an alert from someone new)."""
    take_write_lock(session)
    contact = find_contact(session, actor.provider_id, contact_id)
    referral = latest_referral(session, actor.provider_id, contact.id)
    return _message(session, runtime, actor, contact, referral, text, now)


def _message(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    contact: Contact,
    referral: Referral | None,
    text: str,
    now: datetime,
    *,
    worker_id: int | None = None,
) -> Told:
    text = text.strip()
    if not text:
        raise Invalid("text", "write a message")
    if len(text) > MAX_WORKER_MESSAGE:
        raise Invalid("text", f"at most {MAX_WORKER_MESSAGE} characters (three text messages)")
    _require_reachable(contact)
    name: str | dict[str, str]  # the service's name is in both languages
    if worker_id:
        name = _worker(session, actor.provider_id, worker_id).display_name
    elif actor.display_name:
        name = actor.display_name
    elif referral is not None and referral.assigned_worker_id:
        name = session.get(Worker, referral.assigned_worker_id).display_name
    else:
        # Nobody assigned yet (a duty worker writing at night): the message comes from the service itself,
        # rather than refusing a message that may be urgent.
        name = runtime.service_names
    record_action(session, actor, "message", now, contact_id=contact.id, referral_id=referral.id if referral else None)
    values = {"worker_name": name, "worker_message": text}
    return _tell_contact(session, runtime, contact, referral.id if referral else None, "message", values, now)


# --- bookings (also used by the effects, when the young person answers) -----------------------------


def _booking_when(runtime: Runtime, booking: Booking) -> Any:
    if booking.starts_at is not None:
        return _when_label(runtime, booking.starts_at)
    return booking.preferred_time_text or ""


def _booking_exists(referral: Referral, booking_id: int | None) -> None:
    """A booking named in the path's referral that is not there is not found, like the referral itself."""
    if booking_id is not None and all(b.id != booking_id for b in referral.bookings):
        raise NotFound("no booking with this id on this referral")


def _slots_follow(session: Session, runtime: Runtime, booking: Booking, now: datetime) -> None:
    """A time agreed outside the offered slots takes that worker's times around it off offer now, rather than
    at the next refresh, so nobody else is offered a time the worker is already giving to this young person."""
    if booking.slot_id is None and booking.referral.provider is not None:
        session.flush()
        refresh_slots(session, booking.referral.provider, now, runtime.timezone)


def _booking_to_confirm(referral: Referral, booking_id: int | None) -> Booking:
    if booking_id is not None:
        booking = next((b for b in referral.bookings if b.id == booking_id), None)
        if booking is None:
            raise Invalid("booking_id", "no booking with this id on this referral")
        if booking.status == BookingStatus.CANCELLED:
            raise Conflict("that booking was cancelled")
        return booking
    live = [b for b in referral.bookings if b.status != BookingStatus.CANCELLED]
    if not live:
        raise Conflict("the young person has not asked for a time yet: suggest one instead")
    return max(live, key=lambda b: b.id)


def _delay_reason(value: str) -> DelayReason:
    try:
        return DelayReason(value)
    except ValueError:
        raise Invalid("delay_reason", f"must be one of {', '.join(item.value for item in DelayReason)}") from None


def _place_kind(value: str) -> PlaceKind:
    try:
        return PlaceKind(value)
    except ValueError:
        raise Invalid("place_kind", f"must be one of {', '.join(kind.value for kind in PlaceKind)}") from None


# --- telling the young person ----------------------------------------------------------------------


def _require_reachable(contact: Contact) -> None:
    reason = contact.why_not_reachable()
    if reason:
        raise Conflict(f"the young person cannot be messaged: {reason}")


def _tell(
    session: Session, runtime: Runtime, referral: Referral, news: str, values: dict[str, Any], now: datetime
) -> Told:
    """Run the provider script on the young person's conversation and send what it says."""
    return _tell_contact(session, runtime, referral.contact, referral.id, news, values, now)


def _tell_contact(
    session: Session,
    runtime: Runtime,
    contact: Contact,
    referral_id: int | None,
    news: str,
    values: dict[str, Any],
    now: datetime,
) -> Told:
    reason = contact.why_not_reachable()
    if reason:
        return Told(False, reason)
    spoken = speak_first(
        session,
        runtime,
        contact,
        PROVIDER_SCRIPT_ENTRY,
        {"referral_id": referral_id, "provider_news": news, **values},
        now,
        kind_of_message="provider",
        back_after=True,
    )
    if not spoken.replies:
        return Told(False, "the provider script has nothing to say for this")
    return Told(True)


def _when_label(runtime: Runtime, moment: datetime) -> dict[str, str]:
    return both_languages(format_slot, moment.astimezone(runtime.timezone))


def _place_label(runtime: Runtime, kind: PlaceKind) -> dict[str, str]:
    """The words the booking script uses for this place, so the young person reads what they chose."""
    step = runtime.catalog.step("booking", "place")
    for option in step.options if step else ():
        if option.value == kind.value:
            return {"en": option.label.en, "cy": option.label.cy}
    return {"en": kind.value.replace("_", " "), "cy": kind.value.replace("_", " ")}
