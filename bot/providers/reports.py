"""What providers and councils count about the 72 hours: per provider, the referrals made in a period, how
many interviews were booked (and held) within 72 hours of the return, how many later and why, and how many
are still open past their deadline.

Pure reads over the database: nothing here changes anything. Every referral of the period falls in exactly
one of the counted groups, so the groups add up to ``referrals``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from bot.providers.queue import ACTIVE_STATUSES, is_outside_window
from models import Booking, BookingStatus, DelayReason, Provider, Referral, ReferralOutcome, ReferralStatus

NOT_RECORDED = "not_recorded"  # a booking after the deadline with no reason for the delay
DELAY_REASON_KEYS = (*(reason.value for reason in DelayReason), NOT_RECORDED)


def period_bounds(first_day: date, last_day: date, timezone: ZoneInfo) -> tuple[datetime, datetime]:
    """From the start of ``first_day`` to the end of ``last_day``, local days, as UTC instants [start, end)."""
    start = datetime.combine(first_day, time(0), tzinfo=timezone)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=timezone)
    return start.astimezone(UTC), end.astimezone(UTC)


def empty_counts() -> dict[str, Any]:
    return {
        "referrals": 0,
        "declined": 0,
        "booked_within_72_hours": 0,
        "held_within_72_hours": 0,
        "booked_after_72_hours": 0,
        "held_after_72_hours": 0,
        "delay_reasons": dict.fromkeys(DELAY_REASON_KEYS, 0),
        "open_past_deadline": 0,
        "open_in_time": 0,
        "closed_without_booking": 0,
    }


def timeliness(
    session: Session, start: datetime, end: datetime, now: datetime, *, provider_id: int | None = None
) -> list[dict[str, Any]]:
    """One row per provider (only ``provider_id`` when given) for the referrals created in [start, end)."""
    query = sa.select(Provider).order_by(Provider.name, Provider.id)
    if provider_id is not None:
        query = query.where(Provider.id == provider_id)
    providers = session.scalars(query).all()
    rows = {
        provider.id: {"provider": {"id": provider.id, "slug": provider.slug, "name": provider.name}, **empty_counts()}
        for provider in providers
    }
    referrals = session.scalars(
        sa.select(Referral)
        .where(Referral.provider_id.in_(list(rows)), Referral.created_at >= start, Referral.created_at < end)
        .options(selectinload(Referral.bookings))
    )
    for referral in referrals:
        _count(rows[referral.provider_id], referral, now)
    return list(rows.values())


def _count(row: dict[str, Any], referral: Referral, now: datetime) -> None:
    row["referrals"] += 1
    if referral.status == ReferralStatus.DECLINED:
        row["declined"] += 1
        return
    booking = _confirmed_booking(referral)
    held = referral.outcome == ReferralOutcome.INTERVIEW_HELD
    if booking is not None and not is_outside_window(booking, referral):
        row["booked_within_72_hours"] += 1
        row["held_within_72_hours"] += int(held)
    elif booking is not None:
        row["booked_after_72_hours"] += 1
        row["held_after_72_hours"] += int(held)
        reason = booking.delay_reason.value if booking.delay_reason else NOT_RECORDED
        row["delay_reasons"][reason] += 1
    elif referral.status in ACTIVE_STATUSES:
        past = referral.deadline_at is not None and referral.deadline_at < now
        row["open_past_deadline" if past else "open_in_time"] += 1
    else:
        row["closed_without_booking"] += 1  # closed with an outcome (could not contact, missing again...)


def _confirmed_booking(referral: Referral) -> Booking | None:
    """The confirmed booking that stands (the latest), if any."""
    confirmed = [booking for booking in referral.bookings if booking.status == BookingStatus.CONFIRMED]
    return max(confirmed, key=lambda booking: booking.id) if confirmed else None
