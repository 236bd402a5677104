"""Offering interview times and holding the one a young person chooses.

Times are offered inside the 72-hour window first, then later ones, and only those that honour what the
young person asked for: the kind of place (a slot at a place of another kind does not fit; a phone or video
call fits any slot) and the worker (anyone, someone met before, a woman, a man, a Welsh speaker).

Holding a slot is a conditional UPDATE (``... WHERE status = 'open'``): of two people choosing the same
slot at the same moment, the database lets exactly one through, on SQLite and PostgreSQL alike, and the
partial unique index on live bookings' ``slot_id`` is the second line of defence.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

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


# The queries every offer of times runs are built once (building one costs more than running it), with
# the values of each offer bound to them.
_ACTIVE_WORKERS = sa.select(Worker.id, Worker.languages, Worker.gender).where(Worker.active.is_(True))
_WORKERS_ANY_PROVIDER = _ACTIVE_WORKERS.order_by(Worker.id)
_WORKERS_OF_PROVIDER = _ACTIVE_WORKERS.where(Worker.provider_id == sa.bindparam("b_provider")).order_by(Worker.id)


def workers_for(session: Session, referral: Referral, preference: WorkerPreference | None) -> Workers:
    """The provider's active workers that fit the young person's wish about who."""
    if referral.provider_id is None:
        workers = session.execute(_WORKERS_ANY_PROVIDER).all()
    else:
        workers = session.execute(_WORKERS_OF_PROVIDER, {"b_provider": referral.provider_id}).all()
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


@functools.cache
def _open_slots(of_a_kind: bool) -> sa.Select[tuple[Slot]]:
    """Open slots of the workers ``b_workers`` from ``b_earliest`` to ``b_latest``, at an active place or none;
    ``of_a_kind``: only at places of the kind ``b_kind`` (or none)."""
    query = (
        sa.select(Slot)
        .outerjoin(Place, Slot.place_id == Place.id)
        .where(
            Slot.status == SlotStatus.OPEN,
            Slot.worker_id.in_(sa.bindparam("b_workers", expanding=True)),
            Slot.starts_at >= sa.bindparam("b_earliest"),
            Slot.starts_at <= sa.bindparam("b_latest"),
            sa.or_(Slot.place_id.is_(None), Place.active.is_(True)),
        )
    )
    if of_a_kind:
        query = query.where(sa.or_(Slot.place_id.is_(None), Place.kind == sa.bindparam("b_kind")))
    return query


def _open_slot_values(referral: Referral, now: datetime, wishes: Wishes, worker_ids: Iterable[int]) -> dict[str, Any]:
    """What ``_open_slots`` is asked with for this referral: its provider's notice and horizon, the wishes."""
    provider = referral.provider
    notice = timedelta(minutes=provider.minimum_notice_minutes) if provider else MINIMUM_NOTICE
    horizon = timedelta(days=provider.booking_horizon_days) if provider else BOOKING_HORIZON
    return {
        "b_workers": list(worker_ids),
        "b_earliest": now + notice,
        "b_latest": now + horizon,
        "b_kind": wishes.place_kind,
    }


def _of_a_kind(wishes: Wishes) -> bool:
    return wishes.place_kind is not None and wishes.place_kind not in ANYWHERE


@functools.cache
def _first_per_time(of_a_kind: bool, later: bool) -> sa.Select[tuple[Slot]]:
    """One open slot per start time (the first made, as a list would show it), before the deadline
    ``b_deadline`` or (``later``) after it: only the handful offered are read, however many workers are free
    at each time."""
    query = _open_slots(of_a_kind)
    deadline = sa.bindparam("b_deadline", type_=Slot.starts_at.type)
    query = query.where(Slot.starts_at > deadline) if later else query.where(Slot.starts_at <= deadline)
    first = (
        query.with_only_columns(sa.func.min(Slot.id))
        .group_by(Slot.starts_at)
        .order_by(Slot.starts_at)
        .limit(SLOTS_PER_MESSAGE)
    )
    return sa.select(Slot).where(Slot.id.in_(first)).order_by(Slot.starts_at)


@functools.cache
def _near(of_a_kind: bool) -> sa.Select[tuple[Slot]]:
    """Open slots from ``b_near_from`` to ``b_near_until``."""
    return (
        _open_slots(of_a_kind)
        .where(Slot.starts_at >= sa.bindparam("b_near_from"), Slot.starts_at <= sa.bindparam("b_near_until"))
        .order_by(Slot.starts_at, Slot.id)
    )


def find_slots(
    session: Session,
    referral: Referral,
    now: datetime,
    *,
    later: bool,
    wishes: Wishes | None = None,
    workers: Workers | None = None,
) -> list[Slot]:
    """Open slots that fit the young person's wishes, one per start time, earliest first.

    ``later=False`` gives times before the referral's deadline; ``later=True`` gives times after it
    (a young person may prefer a later time; the booking then records why it is late). ``workers``, when
    given, is what ``workers_for`` gives for these wishes.
    """
    wishes = wishes or Wishes()
    if workers is None:
        workers = workers_for(session, referral, wishes.worker)
    deadline = referral.deadline_at or now + RETURN_INTERVIEW_WINDOW
    values = {**_open_slot_values(referral, now, wishes, workers.ids), "b_deadline": deadline}
    return list(session.scalars(_first_per_time(_of_a_kind(wishes), later), values))


def slots_near(
    session: Session, referral: Referral, now: datetime, around: datetime, *, wishes: Wishes | None = None
) -> list[Slot]:
    """Open slots that fit, nearest to the moment the young person named (within NEAR_SPAN of it)."""
    wishes = wishes or Wishes()
    workers = workers_for(session, referral, wishes.worker)
    values = {
        **_open_slot_values(referral, now, wishes, workers.ids),
        "b_near_from": around - NEAR_SPAN,
        "b_near_until": around + NEAR_SPAN,
    }
    candidates = list(session.scalars(_near(_of_a_kind(wishes)), values))
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


# A slot that is still open, has not started, and that no live booking holds: a worker's own edit or a
# half-finished move can leave a live booking on a slot marked open, and the unique index would refuse a
# second one, so it counts as gone rather than failing again on a retry. One read of its row.
_OPEN_AND_FREE = sa.select(Slot).where(
    Slot.id == sa.bindparam("b_id"),
    Slot.status == SlotStatus.OPEN,
    Slot.starts_at > sa.bindparam("b_now"),
    ~sa.exists().where(Booking.slot_id == Slot.id, Booking.status != BookingStatus.CANCELLED),
)


def still_open(session: Session, slot_id: object, now: datetime) -> Slot | None:
    """The slot, if it exists, is still open and free and has not started: what was offered may have gone."""
    if not isinstance(slot_id, int) or isinstance(slot_id, bool):
        return None
    return session.scalars(_OPEN_AND_FREE, {"b_id": slot_id, "b_now": now}).one_or_none()


def take_slot(session: Session, slot_id: object, now: datetime, *, status: SlotStatus = SlotStatus.HELD) -> Slot | None:
    """Hold (or book) the slot if it is still open; None when someone else got there first.

    The UPDATE's own ``WHERE status = 'open'`` decides: PostgreSQL re-checks it after waiting for the other
    transaction's row lock, SQLite runs one writer at a time, so the second chooser always finds it gone.
    """
    session.flush()  # a slot freed earlier in this transaction (a change of time) must be open in the database
    slot = still_open(session, slot_id, now)  # kept here: the session holds it only weakly
    if slot is None:
        return None
    taken = session.execute(
        sa.update(Slot).where(Slot.id == slot.id, Slot.status == SlotStatus.OPEN).values(status=status)
    )
    session.refresh(slot)
    return slot if taken.rowcount == 1 else None
