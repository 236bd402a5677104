"""Offering interview times and holding the one a young person chooses.

Times are offered inside the 72-hour window first, then later ones, and only those that honour what the
young person asked for: the kind of place (a slot at a place of another kind does not fit; a phone or video
call fits any slot) and the worker (anyone, someone met before, a woman, a man, a Welsh speaker).

Holding a slot is a conditional UPDATE (``... WHERE status = 'open'``): of two people choosing the same
slot at the same moment, the database lets exactly one through, on SQLite and PostgreSQL alike, and the
partial unique index on live bookings' ``slot_id`` is the second line of defence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    Booking,
    BookingStatus,
    Gender,
    Place,
    PlaceKind,
    Referral,
    Slot,
    SlotStatus,
    Worker,
    WorkerPreference,
)

# England's statutory guidance and Wales' practice guide: the interview within 72 hours of return.
RETURN_INTERVIEW_WINDOW = timedelta(hours=72)
# A young person needs time to get there; a worker needs time to prepare (a provider may set its own).
MINIMUM_NOTICE = timedelta(hours=2)
# How far ahead times are offered when the referral has no provider yet (a provider sets its own).
BOOKING_HORIZON = timedelta(days=21)
# A handful per message: more is hard to read on a small screen and costs SMS segments.
SLOTS_PER_MESSAGE = 4
# When someone names a time, open times this far either side of it are offered, nearest first.
NEAR_SPAN = timedelta(days=2)
# Places that are not a place: a call fits any worker's free time, wherever that time was set up.
ANYWHERE = frozenset({PlaceKind.PHONE, PlaceKind.VIDEO})
LANGUAGE_FOR_PREFERENCE = {WorkerPreference.WELSH_SPEAKER: "cy"}
GENDER_FOR_PREFERENCE = {WorkerPreference.WOMAN: Gender.WOMAN, WorkerPreference.MAN: Gender.MAN}


@dataclass(frozen=True)
class Wishes:
    """What the young person asked for, which the times offered must honour."""

    place_kind: PlaceKind | None = None
    worker: WorkerPreference | None = None


@dataclass(frozen=True)
class Workers:
    """The workers whose times may be offered; ``fell_back`` when "met before" found nobody they had met."""

    ids: tuple[int, ...]
    fell_back: bool = False


def workers_for(session: Session, referral: Referral, preference: WorkerPreference | None) -> Workers:
    """The provider's active workers that fit the young person's wish about who."""
    query = sa.select(Worker).where(Worker.active.is_(True)).order_by(Worker.id)
    if referral.provider_id is not None:
        query = query.where(Worker.provider_id == referral.provider_id)
    workers = list(session.scalars(query))
    if preference == WorkerPreference.MET_BEFORE:
        known = met_before(session, referral)
        chosen = [worker for worker in workers if worker.id in known]
        if not chosen:
            return Workers(tuple(worker.id for worker in workers), fell_back=True)
        return Workers(tuple(worker.id for worker in chosen))
    if preference in LANGUAGE_FOR_PREFERENCE:
        language = LANGUAGE_FOR_PREFERENCE[preference]
        workers = [worker for worker in workers if language in (worker.languages or [])]
    elif preference in GENDER_FOR_PREFERENCE:
        workers = [worker for worker in workers if worker.gender == GENDER_FOR_PREFERENCE[preference]]
    return Workers(tuple(worker.id for worker in workers))


def met_before(session: Session, referral: Referral) -> set[int]:
    """Workers this young person has met or been given: earlier bookings' workers and assigned workers."""
    contact_referrals = sa.select(Referral.id).where(Referral.contact_id == referral.contact_id)
    booked = session.scalars(
        sa.select(Booking.worker_id).where(
            Booking.referral_id.in_(contact_referrals),
            Booking.worker_id.is_not(None),
            Booking.status != BookingStatus.CANCELLED,
        )
    )
    assigned = session.scalars(
        sa.select(Referral.assigned_worker_id).where(
            Referral.contact_id == referral.contact_id, Referral.assigned_worker_id.is_not(None)
        )
    )
    return {worker_id for worker_id in (*booked, *assigned) if worker_id is not None}


def _open_slots(
    session: Session, referral: Referral, now: datetime, wishes: Wishes, worker_ids: Iterable[int]
) -> sa.Select[tuple[Slot]]:
    provider = referral.provider
    notice = timedelta(minutes=provider.minimum_notice_minutes) if provider else MINIMUM_NOTICE
    horizon = timedelta(days=provider.booking_horizon_days) if provider else BOOKING_HORIZON
    query = (
        sa.select(Slot)
        .outerjoin(Place, Slot.place_id == Place.id)
        .where(
            Slot.status == SlotStatus.OPEN,
            Slot.worker_id.in_(list(worker_ids)),
            Slot.starts_at >= now + notice,
            Slot.starts_at <= now + horizon,
            sa.or_(Slot.place_id.is_(None), Place.active.is_(True)),
        )
    )
    if wishes.place_kind is not None and wishes.place_kind not in ANYWHERE:
        query = query.where(sa.or_(Slot.place_id.is_(None), Place.kind == wishes.place_kind))
    return query


def find_slots(
    session: Session, referral: Referral, now: datetime, *, later: bool, wishes: Wishes | None = None
) -> list[Slot]:
    """Open slots that fit the young person's wishes, one per start time, earliest first.

    ``later=False`` gives times before the referral's deadline; ``later=True`` gives times after it
    (a young person may prefer a later time; the booking then records why it is late).
    """
    wishes = wishes or Wishes()
    workers = workers_for(session, referral, wishes.worker)
    deadline = referral.deadline_at or now + RETURN_INTERVIEW_WINDOW
    query = _open_slots(session, referral, now, wishes, workers.ids)
    query = query.where(Slot.starts_at > deadline) if later else query.where(Slot.starts_at <= deadline)
    # One per start time in the query itself (the first made, as the list would show it): only the
    # handful offered are read, however many workers are free at each time.
    first_per_time = (
        query.with_only_columns(sa.func.min(Slot.id))
        .group_by(Slot.starts_at)
        .order_by(Slot.starts_at)
        .limit(SLOTS_PER_MESSAGE)
    )
    return list(session.scalars(sa.select(Slot).where(Slot.id.in_(first_per_time)).order_by(Slot.starts_at)))


def slots_near(
    session: Session, referral: Referral, now: datetime, around: datetime, *, wishes: Wishes | None = None
) -> list[Slot]:
    """Open slots that fit, nearest to the moment the young person named (within NEAR_SPAN of it)."""
    wishes = wishes or Wishes()
    workers = workers_for(session, referral, wishes.worker)
    query = _open_slots(session, referral, now, wishes, workers.ids).where(
        Slot.starts_at >= around - NEAR_SPAN, Slot.starts_at <= around + NEAR_SPAN
    )
    candidates = list(session.scalars(query.order_by(Slot.starts_at, Slot.id)))
    candidates.sort(key=lambda slot: (abs(slot.starts_at - around), slot.starts_at))
    return _one_per_time(candidates)


def _one_per_time(slots: Iterable[Slot]) -> list[Slot]:
    offered: list[Slot] = []
    seen_times: set[datetime] = set()
    for slot in slots:
        if slot.starts_at not in seen_times:  # two workers free at 4pm is one choice for the young person
            seen_times.add(slot.starts_at)
            offered.append(slot)
        if len(offered) == SLOTS_PER_MESSAGE:
            break
    return offered


def still_open(session: Session, slot_id: object, now: datetime) -> Slot | None:
    """The slot, if it exists, is still open and has not started: what was offered may have gone since."""
    if not isinstance(slot_id, int) or isinstance(slot_id, bool):
        return None
    slot = session.get(Slot, slot_id)
    if slot is None or slot.status != SlotStatus.OPEN or slot.starts_at <= now:
        return None
    # A live booking on a slot marked open (a worker's own edit, a half-finished move) still holds it: the
    # unique index would refuse a second one, so it counts as gone rather than failing again on a retry.
    held = session.scalar(
        sa.select(Booking.id).where(Booking.slot_id == slot.id, Booking.status != BookingStatus.CANCELLED).limit(1)
    )
    return None if held is not None else slot


def take_slot(session: Session, slot_id: object, now: datetime, *, status: SlotStatus = SlotStatus.HELD) -> Slot | None:
    """Hold (or book) the slot if it is still open; None when someone else got there first.

    The UPDATE's own ``WHERE status = 'open'`` decides: PostgreSQL re-checks it after waiting for the other
    transaction's row lock, SQLite runs one writer at a time, so the second chooser always finds it gone.
    """
    if still_open(session, slot_id, now) is None:
        return None
    session.flush()  # a slot freed earlier in this transaction (a change of time) must be open in the database
    taken = session.execute(
        sa.update(Slot)
        .where(Slot.id == slot_id, Slot.status == SlotStatus.OPEN)
        .values(status=status)
        .execution_options(synchronize_session=False)
    )
    slot = session.get(Slot, slot_id)
    if taken.rowcount != 1:
        session.refresh(slot)
        return None
    set_committed_value(slot, "status", status)  # what the database now holds, without reading it back
    return slot
