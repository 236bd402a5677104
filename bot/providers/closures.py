"""A closed day (sickness, a bank holiday) and the bookings it falls on: each must be moved or cancelled, and
the young person told. Adding the closure takes the open times off offer; the bookings already made are listed
here for a worker to decide on, one by one (``move_booking`` or ``cancel_booking``, which tell the young person
through the outbox)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.booking.availability import local_to_utc
from bot.providers.actions import NotFound
from models import AvailabilityException, Booking, BookingStatus, Referral


def find_closure(session: Session, provider_id: int, exception_id: int) -> AvailabilityException:
    closure = session.get(AvailabilityException, exception_id)
    if closure is None or closure.provider_id != provider_id or closure.available:
        raise NotFound("no such closed day")
    return closure


def closure_span(closure: AvailabilityException, timezone: ZoneInfo) -> tuple[datetime, datetime]:
    """The closure in UTC: its hours, or the whole local day."""
    starts = datetime.combine(closure.day, closure.starts or time(0))
    ends = datetime.combine(closure.day + timedelta(days=0 if closure.ends else 1), closure.ends or time(0))
    # A wall-clock time skipped when the clocks go forward is read with the offset before the change.
    return tuple(local_to_utc(wall, timezone) or wall.replace(tzinfo=timezone) for wall in (starts, ends))


def bookings_on_closure(
    session: Session, provider_id: int, closure: AvailabilityException, timezone: ZoneInfo
) -> list[dict[str, Any]]:
    """The live bookings the closure falls on (the closed worker's, or everyone's for the whole service)."""
    starts, ends = closure_span(closure, timezone)
    query = (
        sa.select(Booking)
        .join(Referral, Booking.referral_id == Referral.id)
        .where(
            Referral.provider_id == provider_id,
            Booking.status != BookingStatus.CANCELLED,
            Booking.starts_at >= starts,
            Booking.starts_at < ends,
        )
        .order_by(Booking.starts_at, Booking.id)
    )
    if closure.worker_id is not None:
        query = query.where(Booking.worker_id == closure.worker_id)
    return [
        {
            "id": booking.id,
            "referral_id": booking.referral_id,
            "person_id": booking.referral.contact_id,
            "starts_at": booking.starts_at,
            "status": str(booking.status),
            "worker": booking.worker.display_name if booking.worker else None,
            "worker_id": booking.worker_id,
        }
        for booking in session.scalars(query)
    ]
