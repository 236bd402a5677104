"""When a worker may put a chat: never at night, inside the opening hours and the worker's own hours, and
never on their closed day. The demo's Eleri works weekdays 10:00 to 13:00 (and 16:00 to 19:00 on Tuesdays and
Thursdays)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.booking.guards import TimeRefused, check_meeting_time
from models import AvailabilityException, Provider, Slot, Worker

LONDON = ZoneInfo("Europe/London")
A_TUESDAY = date(2027, 3, 2)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


@pytest.fixture
def eleri(runtime):
    with runtime.session() as session:
        worker = session.scalars(sa.select(Worker).order_by(Worker.id)).first()
        return worker.id, worker.provider_id


def _check(runtime, eleri, moment: datetime, **provider_changes) -> None:
    worker_id, provider_id = eleri
    with runtime.session() as session:
        provider = session.get(Provider, provider_id)
        for name, value in provider_changes.items():
            setattr(provider, name, value)
        check_meeting_time(session, provider, session.get(Worker, worker_id), moment, LONDON)


def test_a_time_inside_the_workers_hours_is_fine(runtime, eleri):
    _check(runtime, eleri, _at(A_TUESDAY, 10))
    _check(runtime, eleri, _at(A_TUESDAY, 16))


@pytest.mark.parametrize(
    ("hour", "minute", "why"),
    [
        (3, 0, "is at night: a young person is never met between 21:00 and 08:00"),
        (7, 30, "is at night"),
        (20, 30, "is at night"),
        (8, 30, "outside the service's opening hours (09:00 to 20:00)"),
        (12, 30, "outside Eleri's hours (that day: 10:00 to 13:00, 16:00 to 19:00)"),
        (14, 0, "outside Eleri's hours"),
    ],
)
def test_a_time_at_night_or_outside_hours_is_refused_with_the_reason(runtime, eleri, hour, minute, why):
    with pytest.raises(TimeRefused, match=re.escape(why)):
        _check(runtime, eleri, _at(A_TUESDAY, hour, minute))


def test_a_wider_opening_never_opens_the_night(runtime, eleri):
    with pytest.raises(TimeRefused, match="at night"):
        _check(runtime, eleri, _at(A_TUESDAY, 6), opens_at=time(0), closes_at=time(23, 59))


def test_a_closed_day_closes_the_workers_hours(runtime, eleri):
    worker_id, provider_id = eleri
    with runtime.session() as session, session.begin():
        session.add(AvailabilityException(provider_id=provider_id, worker_id=worker_id, day=A_TUESDAY))
    with pytest.raises(TimeRefused, match="not working that day"):
        _check(runtime, eleri, _at(A_TUESDAY, 10))


def test_a_time_the_worker_has_a_slot_at_counts_as_theirs_but_never_at_night(runtime, eleri):
    worker_id, _ = eleri
    with runtime.session() as session, session.begin():
        for hour in (14, 22):  # extra times made by hand, outside the weekly hours
            starts = _at(A_TUESDAY, hour)
            session.add(Slot(worker_id=worker_id, starts_at=starts, ends_at=starts + timedelta(hours=1)))
    _check(runtime, eleri, _at(A_TUESDAY, 14))
    with pytest.raises(TimeRefused, match="at night"):
        _check(runtime, eleri, _at(A_TUESDAY, 22))
