"""Bookings as the young person's side changes them: the one that stands, cancelling it, taking a time a
worker suggested, and how a booking reads in the conversation. A worker's own changes are in
``bot.providers.actions``, which uses these too."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.outbox import events
from conversations.dates import both_languages, format_slot
from conversations.loading import load_catalog
from models import (
    Booking,
    BookingStatus,
    Contact,
    DelayReason,
    PlaceKind,
    Referral,
    ReferralStatus,
    Slot,
    SlotStatus,
    Worker,
)

CLOSED_STATUSES = (ReferralStatus.DECLINED, ReferralStatus.CLOSED)


def cancel_live_bookings(
    session: Session,
    referral: Referral,
    *,
    reason: str,
    now: datetime,
    keep: Booking | None = None,
) -> list[Booking]:
    """Cancel every live booking of the referral but ``keep``, free their slots, and tell the provider."""
    cancelled = []
    for booking in referral.bookings:
        if booking is keep or booking.id is None or booking.status == BookingStatus.CANCELLED:
            continue
        booking.status = BookingStatus.CANCELLED
        booking.cancel_reason = reason
        booking.cancelled_at = now
        if booking.slot is not None and booking.slot.status != SlotStatus.OPEN:
            booking.slot.status = SlotStatus.OPEN
        booking.slot = None  # a cancelled booking holds no slot, so the slot can be booked again
        events.booking_cancelled(session, referral, booking, reason=reason)
        cancelled.append(booking)
    return cancelled


def book_proposed_time(session: Session, contact: Contact, proposal: dict[str, Any], now: datetime) -> Booking | None:
    """Book the time a worker suggested, now that the young person said yes; None if it has gone."""
    referral = session.get(Referral, proposal.get("referral_id") or 0)
    if referral is None or referral.contact_id != contact.id or referral.status in CLOSED_STATUSES:
        return None
    starts_at = datetime.fromisoformat(proposal["starts_at"])
    if starts_at <= now:
        return None
    worker_id = proposal.get("worker_id")
    slot = None
    if worker_id:
        slot = session.scalars(
            sa.select(Slot).where(Slot.worker_id == worker_id, Slot.starts_at == starts_at)
        ).one_or_none()
        if slot is not None and slot.status != SlotStatus.OPEN:
            return None  # someone else has that worker at that time now
    previous = next((b for b in reversed(referral.bookings) if b.status != BookingStatus.CANCELLED), None)
    cancel_live_bookings(session, referral, reason="new_time_accepted", now=now)
    outside = bool(referral.deadline_at and starts_at > referral.deadline_at)
    place = proposal.get("place_kind") or (previous.place_kind if previous else None)
    booking = Booking(
        referral=referral,
        slot=slot,
        starts_at=starts_at,
        worker_id=worker_id,
        place_kind=PlaceKind(place) if place else None,
        worker_preference=previous.worker_preference if previous else None,
        trusted_adult=previous.trusted_adult if previous else None,
        status=BookingStatus.CONFIRMED,
        outside_window=outside,
        delay_reason=confirmed_delay_reason(
            outside,
            previous.delay_reason if previous else None,
            previous.starts_at if previous else None,
            starts_at,
            DelayReason(proposal["delay_reason"]) if proposal.get("delay_reason") else None,
        ),
    )
    if slot is not None:
        slot.status = SlotStatus.BOOKED
    referral.status = ReferralStatus.BOOKED
    if worker_id:
        referral.assigned_worker_id = worker_id
    session.add(booking)
    session.flush()
    events.booking_requested(session, referral, booking)
    return booking


def live_booking(session: Session, contact: Contact) -> Booking | None:
    """The booking that stands for this young person (requested or confirmed, on a referral still open)."""
    return session.scalars(
        sa.select(Booking)
        .join(Referral, Booking.referral_id == Referral.id)
        .where(
            Referral.contact_id == contact.id,
            Referral.status.not_in(CLOSED_STATUSES),
            Booking.status != BookingStatus.CANCELLED,
        )
        .order_by(Booking.id.desc())
        .limit(1)
    ).first()


def booking_labels(session: Session, booking: Booking, timezone: Any) -> dict[str, Any]:
    """When, where and who of a booking as the young person reads it, in both languages."""
    if booking.starts_at is not None:
        when: Any = both_languages(format_slot, booking.starts_at.astimezone(timezone))
    else:
        when = booking.preferred_time_text or ""
    worker = session.get(Worker, booking.worker_id) if booking.worker_id else None
    preference = _option_label("worker", booking.worker_preference.value) if booking.worker_preference else ""
    place = _option_label("place", booking.place_kind.value) if booking.place_kind else ""
    adult = "" if booking.trusted_adult is None else _option_label("adult", booking.trusted_adult)
    return {
        "booking_when": when,
        "booking_where": place,
        "worker_name": worker.display_name if worker else preference,
        "place_kind_label": place,
        "worker_preference_label": preference,
        "trusted_adult_label": adult,
    }


@cache
def _builtin_booking_options() -> dict[str, dict[Any, dict[str, str]]]:
    """The booking script's words for each place, worker preference and trusted-adult answer."""
    options: dict[str, dict[Any, dict[str, str]]] = {}
    catalog = load_catalog()
    for step_id in ("place", "worker", "adult"):
        step = catalog.step("booking", step_id)
        options[step_id] = {
            option.value: {"en": option.label.en, "cy": option.label.cy} for option in (step.options if step else ())
        }
    return options


def _option_label(step_id: str, value: Any) -> Any:
    label = _builtin_booking_options().get(step_id, {}).get(value)
    if label is None:
        text = str(value).replace("_", " ")
        return {"en": text, "cy": text}
    return label


def confirmed_delay_reason(
    outside: bool,
    recorded: DelayReason | None,
    asked_for: datetime | None,
    when: datetime,
    given: DelayReason | None = None,
) -> DelayReason | None:
    """Why a time the provider confirms is after the 72-hour deadline (None when it is not after it).

    What the worker says, if they say; else the reason already recorded when the time is the one asked for;
    else the young person's choice when that was recorded and the time is no later than they asked for (or they
    described it in their own words); else no availability: the provider could not offer a time in the window.
    """
    if not outside:
        return None
    if given is not None:
        return given
    if recorded is not None and when == asked_for:
        return recorded
    if recorded == DelayReason.YOUNG_PERSON_CHOICE and (asked_for is None or when <= asked_for):
        return recorded
    return DelayReason.NO_AVAILABILITY
