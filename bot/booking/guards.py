"""When a worker may put a chat with a young person: the rules every new or moved time obeys.

A time a worker sets (confirming at another time, suggesting one, moving a booking) must be, for the whole
length of the chat: inside the service's opening hours (``Provider.opens_at`` to ``closes_at``, local time),
inside that worker's own hours that day (weekly hours and extra hours, less closures: ``day_hours``), and never
at night, whatever the settings say. The pages and the API both go through ``check_meeting_time``.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.booking.availability import day_hours
from models import AvailabilityException, Provider, Slot, WeeklyAvailability, Worker

# A young person is never met at night, whatever a provider's opening hours say.
NIGHT_ENDS = time(8)
NIGHT_STARTS = time(21)


class TimeRefused(ValueError):
    """The time breaks a rule; the message says which, in words for the worker."""


def _hm(moment: time | datetime) -> str:
    return moment.strftime("%H:%M")


def check_meeting_time(
    session: Session, provider: Provider, worker: Worker | None, starts_at: datetime, timezone: ZoneInfo
) -> None:
    """Raise ``TimeRefused`` unless a chat from ``starts_at`` fits the night rule, the opening hours and the
    worker's hours (when the worker is known)."""
    local = starts_at.astimezone(timezone).replace(tzinfo=None)
    ends = local + timedelta(minutes=provider.slot_minutes)
    day = local.strftime("%a %d %b")
    if local.time() < NIGHT_ENDS or ends.date() != local.date() or ends.time() > NIGHT_STARTS:
        raise TimeRefused(
            f"{_hm(local)} on {day} is at night: a young person is never met between "
            f"{_hm(NIGHT_STARTS)} and {_hm(NIGHT_ENDS)}"
        )
    if local.time() < provider.opens_at or ends.time() > provider.closes_at:
        raise TimeRefused(
            f"{_hm(local)} to {_hm(ends)} on {day} is outside the service's opening hours "
            f"({_hm(provider.opens_at)} to {_hm(provider.closes_at)})"
        )
    if worker is None:
        return
    at_a_slot = sa.select(Slot.id).where(Slot.worker_id == worker.id, Slot.starts_at == starts_at).limit(1)
    if session.scalar(at_a_slot) is not None:
        return  # a time made from their hours (free or not: whether it is free is the booking's to say)
    weekly = session.scalars(
        sa.select(WeeklyAvailability).where(
            WeeklyAvailability.worker_id == worker.id, WeeklyAvailability.weekday == local.weekday()
        )
    ).all()
    exceptions = session.scalars(
        sa.select(AvailabilityException).where(
            AvailabilityException.provider_id == provider.id,
            AvailabilityException.day == local.date(),
            sa.or_(AvailabilityException.worker_id == worker.id, AvailabilityException.worker_id.is_(None)),
        )
    ).all()
    hours = day_hours(local.date(), weekly, exceptions)
    if any(part.starts <= local and ends <= part.ends for part in hours):
        return
    working = ", ".join(f"{_hm(part.starts)} to {_hm(part.ends)}" for part in hours)
    raise TimeRefused(
        f"{_hm(local)} to {_hm(ends)} on {day} is outside {worker.display_name}'s hours "
        + (f"(that day: {working})" if working else "(not working that day)")
    )
