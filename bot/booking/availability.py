"""Turning a provider's availability into the interview slots the bot offers.

Workers' hours are local wall-clock times ("Tuesdays 16:00 to 19:00"); slots are instants in UTC. Each
refresh works out, for every active worker, the slots their weekly pattern and the exceptions give from now
to the provider's booking horizon, and makes the table match: missing slots are added, open ones that no
longer fit are removed. Held and booked slots are never touched, and no new slot overlaps one (buffer
included). Refreshing twice changes nothing, so it is called after every change and by a periodic job that
moves the horizon on.

The rules for a day, in order: the weekly lines for its weekday, plus any extra hours (``available`` true,
for the worker or the whole provider); then every closure (the worker's or the whole provider's, all day or
some hours) is taken out. Closed always wins over open.

Clock changes: a slot starts at the same wall-clock time all year. A start that does not exist (the hour
skipped when clocks go forward in March) is skipped; one that happens twice (when clocks go back in October)
is the first. A slot lasts ``slot_minutes`` of real time.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import (
    AvailabilityException,
    Booking,
    BookingStatus,
    Place,
    Provider,
    Slot,
    SlotStatus,
    WeeklyAvailability,
    Worker,
)
from models.db import take_write_lock

if TYPE_CHECKING:
    from bot.runtime import Runtime

# How often ``rhi worker`` moves every provider's horizon on (each refresh is idempotent; more often only
# costs queries).
HORIZON_REFRESH_EVERY = timedelta(minutes=10)
LIVE_SLOT_STATUSES = (SlotStatus.HELD, SlotStatus.BOOKED)


@dataclass(frozen=True)
class SlotChanges:
    """What a refresh did: slots added, open slots changed (length or place) and open slots removed."""

    added: int = 0
    updated: int = 0
    removed: int = 0

    def __add__(self, other: SlotChanges) -> SlotChanges:
        return SlotChanges(self.added + other.added, self.updated + other.updated, self.removed + other.removed)

    @property
    def total(self) -> int:
        return self.added + self.updated + self.removed


@dataclass(frozen=True)
class Hours:
    """Part of one local day when a worker is available, at a place (or none)."""

    starts: datetime  # naive local wall-clock times
    ends: datetime
    place_id: int | None = None


@dataclass(frozen=True)
class WantedSlot:
    starts_at: datetime  # UTC
    ends_at: datetime
    place_id: int | None


# --- local wall-clock time to UTC --------------------------------------------------------------------------


def local_to_utc(wall: datetime, timezone: ZoneInfo) -> datetime | None:
    """The UTC instant of a naive local time; None when it does not exist (clocks going forward).

    An ambiguous time (clocks going back) is its first occurrence, which is zoneinfo's ``fold=0``.
    """
    aware = wall.replace(tzinfo=timezone, fold=0)
    instant = aware.astimezone(UTC)
    if instant.astimezone(timezone).replace(tzinfo=None) != wall:
        return None
    return instant


def _end_to_utc(wall: datetime, timezone: ZoneInfo) -> datetime:
    """Where hours end: a local end that does not exist is read with the offset before the change."""
    return wall.replace(tzinfo=timezone, fold=0).astimezone(UTC)


# --- one day's hours ---------------------------------------------------------------------------------------


def _at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment)


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0))


def _subtract(hours: list[Hours], closed: tuple[datetime, datetime]) -> list[Hours]:
    starts, ends = closed
    left: list[Hours] = []
    for part in hours:
        if ends <= part.starts or starts >= part.ends:
            left.append(part)
            continue
        if part.starts < starts:
            left.append(Hours(part.starts, starts, part.place_id))
        if ends < part.ends:
            left.append(Hours(ends, part.ends, part.place_id))
    return left


def day_hours(
    day: date, weekly: Iterable[WeeklyAvailability], exceptions: Iterable[AvailabilityException]
) -> list[Hours]:
    """A worker's hours on ``day``: the weekly lines and the extra hours, less every closure."""
    hours = [Hours(_at(day, line.starts), _at(day, line.ends), line.place_id) for line in weekly]
    todays = [exception for exception in exceptions if exception.day == day]
    for extra in (e for e in todays if e.available):
        starts = _at(day, extra.starts) if extra.starts else _at(day, time(0))
        ends = _at(day, extra.ends) if extra.ends else _end_of(day)
        hours.append(Hours(starts, ends, None))
    for closure in (e for e in todays if not e.available):
        starts = _at(day, closure.starts) if closure.starts else _at(day, time(0))
        ends = _at(day, closure.ends) if closure.ends else _end_of(day)
        hours = _subtract(hours, (starts, ends))
    return sorted(hours, key=lambda part: (part.starts, part.ends))


def slots_in_hours(
    hours: list[Hours], timezone: ZoneInfo, length: timedelta, buffer: timedelta, taken: list[tuple[datetime, datetime]]
) -> list[WantedSlot]:
    """Slots in a day's hours, each ``length`` long and ``buffer`` apart from everything in ``taken``
    (the worker's held and booked times, and the slots already chosen), which it adds them to."""
    wanted: list[WantedSlot] = []
    for part in hours:
        closes = _end_to_utc(part.ends, timezone)
        wall = part.starts
        while wall < part.ends:
            starts_at = local_to_utc(wall, timezone)
            wall += length + buffer
            if starts_at is None:
                continue  # the clocks skip this time
            ends_at = starts_at + length
            if ends_at > closes:
                break
            if any(starts_at < until + buffer and since < ends_at + buffer for since, until in taken):
                continue
            taken.append((starts_at, ends_at))
            wanted.append(WantedSlot(starts_at, ends_at, part.place_id))
    return wanted


# --- refreshing ----------------------------------------------------------------------------------------------


def wanted_slots(
    session: Session, provider: Provider, worker_id: int, now: datetime, timezone: ZoneInfo
) -> dict[datetime, WantedSlot]:
    """Every slot the worker's availability gives after ``now`` and before the horizon, by start.

    The minimum notice is not applied here: a slot that fits stays even once it is too soon to offer.
    """
    length = timedelta(minutes=provider.slot_minutes)
    buffer = timedelta(minutes=provider.buffer_minutes)
    horizon = now + timedelta(days=provider.booking_horizon_days)
    first_day = now.astimezone(timezone).date()
    last_day = horizon.astimezone(timezone).date()
    active_places = set(
        session.scalars(sa.select(Place.id).where(Place.provider_id == provider.id, Place.active.is_(True)))
    )
    weekly: dict[int, list[WeeklyAvailability]] = {}
    for line in session.scalars(sa.select(WeeklyAvailability).where(WeeklyAvailability.worker_id == worker_id)):
        weekly.setdefault(line.weekday, []).append(line)
    exceptions = list(
        session.scalars(
            sa.select(AvailabilityException).where(
                AvailabilityException.provider_id == provider.id,
                sa.or_(AvailabilityException.worker_id.is_(None), AvailabilityException.worker_id == worker_id),
                AvailabilityException.day >= first_day,
                AvailabilityException.day <= last_day,
            )
        )
    )
    taken = _busy(session, worker_id, now - length - buffer, horizon + length + buffer, length)
    wanted: dict[datetime, WantedSlot] = {}
    day = first_day
    while day <= last_day:
        hours = day_hours(day, weekly.get(day.weekday(), []), exceptions)
        # A line at a place that was closed down still gives the worker's time, without the place.
        hours = [part if part.place_id in active_places else Hours(part.starts, part.ends) for part in hours]
        for slot in slots_in_hours(hours, timezone, length, buffer, taken):
            if now < slot.starts_at < horizon:
                wanted[slot.starts_at] = slot
        day += timedelta(days=1)
    return wanted


def _busy(
    session: Session, worker_id: int, after: datetime, before: datetime, length: timedelta
) -> list[tuple[datetime, datetime]]:
    """When the worker is already taken: held and booked slots, and live bookings at a time of their own."""
    held = session.execute(
        sa.select(Slot.starts_at, Slot.ends_at).where(
            Slot.worker_id == worker_id,
            Slot.status.in_(LIVE_SLOT_STATUSES),
            Slot.ends_at > after,
            Slot.starts_at < before,
        )
    )
    own_times = session.scalars(
        sa.select(Booking.starts_at).where(
            Booking.worker_id == worker_id,
            Booking.slot_id.is_(None),
            Booking.status != BookingStatus.CANCELLED,
            Booking.starts_at > after,
            Booking.starts_at < before,
        )
    )
    return [(starts, ends) for starts, ends in held] + [(starts, starts + length) for starts in own_times]


def _lock_provider(session: Session, provider: Provider) -> None:
    """One refresh of a provider at a time (two would both add the same slot)."""
    take_write_lock(session)
    session.execute(sa.select(Provider.id).where(Provider.id == provider.id).with_for_update())


def refresh_slots(session: Session, provider: Provider, now: datetime, timezone: ZoneInfo) -> SlotChanges:
    """Make the provider's open slots match its availability, in the caller's transaction."""
    _lock_provider(session, provider)
    session.flush()
    changes = SlotChanges()
    workers = session.execute(sa.select(Worker.id, Worker.active).where(Worker.provider_id == provider.id))
    for worker_id, active in workers.all():
        changes += _refresh_worker(session, provider, worker_id, active, now, timezone)
    session.flush()
    return changes


def _refresh_worker(
    session: Session, provider: Provider, worker_id: int, active: bool, now: datetime, timezone: ZoneInfo
) -> SlotChanges:
    wanted = wanted_slots(session, provider, worker_id, now, timezone) if active else {}
    earliest = now + timedelta(minutes=provider.minimum_notice_minutes)
    existing = session.scalars(sa.select(Slot).where(Slot.worker_id == worker_id, Slot.starts_at > now)).all()
    starts_taken = {slot.starts_at for slot in existing}
    # Each change only while the slot is still open: a young person may have held it since it was read.
    still_open = Slot.status == SlotStatus.OPEN
    updated = removed = 0
    for slot in existing:
        if slot.status != SlotStatus.OPEN:
            continue
        fits = wanted.get(slot.starts_at)
        if fits is None:
            statement: sa.Executable = sa.delete(Slot).where(Slot.id == slot.id, still_open)
        elif (slot.ends_at, slot.place_id) != (fits.ends_at, fits.place_id):
            values = {"ends_at": fits.ends_at, "place_id": fits.place_id}
            statement = sa.update(Slot).where(Slot.id == slot.id, still_open).values(values)
        else:
            continue
        done = session.execute(statement.execution_options(synchronize_session="evaluate")).rowcount or 0
        if fits is None:
            removed += done
        else:
            updated += done
    new_slots = [
        {
            "worker_id": worker_id,
            "place_id": slot.place_id,
            "starts_at": slot.starts_at,
            "ends_at": slot.ends_at,
            "status": SlotStatus.OPEN,
        }
        for starts_at, slot in sorted(wanted.items())
        if starts_at not in starts_taken and starts_at >= earliest
    ]
    if new_slots:
        # One INSERT of many rows: three weeks of a worker's slots are hundreds, and as objects in the
        # session each would be tracked, flushed and read back for nothing.
        session.execute(sa.insert(Slot), new_slots)
    return SlotChanges(added=len(new_slots), updated=updated, removed=removed)


# --- the periodic job ------------------------------------------------------------------------------------

# When each runtime last moved the horizons on (per process; several workers doing it is only repetition).
_last_refreshed: weakref.WeakKeyDictionary[Runtime, datetime] = weakref.WeakKeyDictionary()


def extend_slot_horizons(runtime: Runtime, now: datetime) -> int:
    """Every provider's slots up to its horizon from now; each provider in its own transaction."""
    last = _last_refreshed.get(runtime)
    if last is not None and now - last < HORIZON_REFRESH_EVERY:
        return 0
    _last_refreshed[runtime] = now
    done = 0
    with runtime.session() as session:
        provider_ids = list(session.scalars(sa.select(Provider.id).order_by(Provider.id)))
    for provider_id in provider_ids:
        with runtime.session() as session, session.begin():
            # Locked like a change to the provider's setup, which remakes the same slots; on SQLite this is
            # the writer's lock, taken before reading (a reader that writes later finds the database locked).
            provider = Provider.for_change(session, provider_id)
            if provider is not None:
                done += refresh_slots(session, provider, now, runtime.timezone).total
    return done
