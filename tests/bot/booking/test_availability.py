"""Slots from availability: a provider's weekly hours, its closed days and a worker's changes become the
times the bot offers, at the same local time across the UK clock changes, never on top of a held one.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.booking.availability import SlotChanges, extend_slot_horizons, local_to_utc, refresh_slots
from bot.demo import DEMO_PROVIDER_SLUG
from bot.worker import PERIODIC_JOBS
from models import (
    AvailabilityException,
    Place,
    PlaceKind,
    Provider,
    Slot,
    SlotStatus,
    WeeklyAvailability,
    Worker,
    utcnow,
)

LONDON = ZoneInfo("Europe/London")
MONDAY, TUESDAY, SATURDAY, SUNDAY = 0, 1, 5, 6
# Monday 19 October 2026, 09:00 in London: the clocks go back on Sunday 25 October.
BEFORE_AUTUMN = datetime(2026, 10, 19, 9, tzinfo=LONDON).astimezone(UTC)
# Monday 22 March 2027, 09:00: the clocks go forward on Sunday 28 March.
BEFORE_SPRING = datetime(2027, 3, 22, 9, tzinfo=LONDON).astimezone(UTC)
WAIT_FOR_LOCK_POLLS = 200


@pytest.fixture
def provider(db):
    """A provider with 60-minute interviews and 15-minute buffers, looking two weeks ahead, and two workers."""
    provider = Provider(
        slug="valleys",
        name="Valleys Return Home",
        areas=["cardiff"],
        slot_minutes=60,
        buffer_minutes=15,
        minimum_notice_minutes=120,
        booking_horizon_days=14,
    )
    db.add(provider)
    db.flush()
    db.add_all(
        [
            Worker(provider_id=provider.id, display_name="Eleri", languages=["en", "cy"]),
            Worker(provider_id=provider.id, display_name="Tom", languages=["en"]),
        ]
    )
    db.commit()
    return provider


def worker(db, name: str) -> Worker:
    return db.scalars(sa.select(Worker).where(Worker.display_name == name)).one()


def hours(db, name: str, weekday: int, starts: str, ends: str, place: Place | None = None) -> None:
    db.add(
        WeeklyAvailability(
            worker_id=worker(db, name).id,
            weekday=weekday,
            starts=time.fromisoformat(starts),
            ends=time.fromisoformat(ends),
            place_id=place.id if place else None,
        )
    )
    db.commit()


def refresh(db, provider, now: datetime) -> SlotChanges:
    changes = refresh_slots(db, provider, now, LONDON)
    db.commit()
    return changes


def slots(db, name: str | None = None, status: SlotStatus | None = None) -> list[Slot]:
    query = sa.select(Slot).order_by(Slot.starts_at)
    if name:
        query = query.where(Slot.worker_id == worker(db, name).id)
    if status:
        query = query.where(Slot.status == status)
    return list(db.scalars(query))


def local(slot: Slot) -> str:
    return slot.starts_at.astimezone(LONDON).strftime("%a %Y-%m-%d %H:%M")


def local_times(db, name: str | None = None, status: SlotStatus | None = None) -> list[str]:
    return [local(slot) for slot in slots(db, name, status)]


# --- the weekly pattern ----------------------------------------------------------------------------------


def test_open_on_tuesdays_16_to_19_with_hour_long_interviews_and_15_minute_buffers_offers_16_00_and_17_15(db, provider):
    hours(db, "Eleri", TUESDAY, "16:00", "19:00")
    refresh(db, provider, BEFORE_AUTUMN)
    assert local_times(db, "Eleri") == [
        "Tue 2026-10-20 16:00",
        "Tue 2026-10-20 17:15",
        "Tue 2026-10-27 16:00",
        "Tue 2026-10-27 17:15",
    ]
    assert all(slot.ends_at - slot.starts_at == timedelta(hours=1) for slot in slots(db))
    assert all(slot.status == SlotStatus.OPEN for slot in slots(db))
    assert local_times(db, "Tom") == [], "Tom has no hours"


def test_tuesday_16_00_stays_16_00_local_when_the_clocks_go_back_in_october(db, provider):
    hours(db, "Eleri", TUESDAY, "16:00", "17:00")
    refresh(db, provider, BEFORE_AUTUMN)
    before, after = slots(db, "Eleri")
    assert [local(before), local(after)] == ["Tue 2026-10-20 16:00", "Tue 2026-10-27 16:00"]
    assert before.starts_at == datetime(2026, 10, 20, 15, tzinfo=UTC), "British Summer Time is UTC+1"
    assert after.starts_at == datetime(2026, 10, 27, 16, tzinfo=UTC), "Greenwich Mean Time is UTC"


def test_tuesday_16_00_stays_16_00_local_when_the_clocks_go_forward_in_march(db, provider):
    hours(db, "Eleri", TUESDAY, "16:00", "17:00")
    refresh(db, provider, BEFORE_SPRING)
    before, after = slots(db, "Eleri")
    assert [local(before), local(after)] == ["Tue 2027-03-23 16:00", "Tue 2027-03-30 16:00"]
    assert before.starts_at == datetime(2027, 3, 23, 16, tzinfo=UTC)
    assert after.starts_at == datetime(2027, 3, 30, 15, tzinfo=UTC)


def test_a_start_the_clocks_skip_in_march_is_skipped_and_slots_last_an_hour_of_real_time(db, provider):
    provider.buffer_minutes = 0
    hours(db, "Eleri", SUNDAY, "00:30", "03:30")
    refresh(db, provider, BEFORE_SPRING)
    spring = [slot for slot in slots(db, "Eleri") if slot.starts_at.date() == date(2027, 3, 28)]
    # 00:30, then 01:30 does not exist that night (01:00 becomes 02:00), then 02:30
    assert [local(slot) for slot in spring] == ["Sun 2027-03-28 00:30", "Sun 2027-03-28 02:30"]
    assert [slot.ends_at - slot.starts_at for slot in spring] == [timedelta(hours=1)] * 2
    assert local_to_utc(datetime(2027, 3, 28, 1, 30), LONDON) is None


def test_a_start_that_happens_twice_in_october_is_the_first_one(db, provider):
    provider.buffer_minutes = 0
    hours(db, "Eleri", SUNDAY, "00:30", "03:00")
    refresh(db, provider, BEFORE_AUTUMN)
    autumn = [slot for slot in slots(db, "Eleri") if local(slot).startswith("Sun 2026-10-25")]
    assert [local(slot) for slot in autumn] == ["Sun 2026-10-25 00:30", "Sun 2026-10-25 01:30"]
    # 01:30 happens at 00:30 UTC (summer time) and again at 01:30 UTC: the first
    assert autumn[1].starts_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert all(slot.ends_at - slot.starts_at == timedelta(hours=1) for slot in autumn)


def test_each_slot_carries_the_place_of_its_weekly_line(db, provider):
    centre = Place(provider_id=provider.id, kind=PlaceKind.YOUTH_CENTRE, name="Youth Centre", neutral=True)
    db.add(centre)
    db.commit()
    hours(db, "Eleri", TUESDAY, "16:00", "17:00", place=centre)
    hours(db, "Tom", TUESDAY, "16:00", "17:00")
    refresh(db, provider, BEFORE_AUTUMN)
    assert {slot.place_id for slot in slots(db, "Eleri")} == {centre.id}
    assert {slot.place_id for slot in slots(db, "Tom")} == {None}


# --- exceptions --------------------------------------------------------------------------------------


def test_a_bank_holiday_closes_the_day_for_everyone(db, provider):
    hours(db, "Eleri", MONDAY, "10:00", "12:00")
    hours(db, "Tom", MONDAY, "10:00", "12:00")
    db.add(AvailabilityException(provider_id=provider.id, day=date(2026, 10, 26), note="Bank holiday"))
    provider.booking_horizon_days = 21
    db.commit()
    refresh(db, provider, BEFORE_AUTUMN)
    assert local_times(db) == ["Mon 2026-11-02 10:00", "Mon 2026-11-02 10:00"], "the holiday Monday has none"


def test_a_workers_afternoon_off_takes_only_their_afternoon(db, provider):
    hours(db, "Eleri", TUESDAY, "10:00", "17:00")
    hours(db, "Tom", TUESDAY, "10:00", "12:00")
    db.add(
        AvailabilityException(
            provider_id=provider.id,
            worker_id=worker(db, "Eleri").id,
            day=date(2026, 10, 20),
            starts=time(12),
            ends=time(17),
            note="Training",
        )
    )
    db.commit()
    refresh(db, provider, BEFORE_AUTUMN)
    eleri = [when for when in local_times(db, "Eleri") if "2026-10-20" in when]
    assert eleri == ["Tue 2026-10-20 10:00"], "11:15 to 12:15 would run into the afternoon off"
    assert len([when for when in local_times(db, "Eleri") if "2026-10-27" in when]) == 5, "next week as usual"
    assert local_times(db, "Tom")[:1] == ["Tue 2026-10-20 10:00"]


def test_extra_hours_on_a_day_add_slots_that_day_only(db, provider):
    db.add(
        AvailabilityException(
            provider_id=provider.id,
            worker_id=worker(db, "Tom").id,
            day=date(2026, 10, 24),
            starts=time(10),
            ends=time(12, 30),
            available=True,
        )
    )
    db.commit()
    refresh(db, provider, BEFORE_AUTUMN)
    assert local_times(db, "Tom") == ["Sat 2026-10-24 10:00", "Sat 2026-10-24 11:15"]


def test_no_slot_sooner_than_the_minimum_notice(db, provider):
    hours(db, "Eleri", TUESDAY, "16:00", "19:00")
    tuesday_3pm = datetime(2026, 10, 20, 15, tzinfo=LONDON).astimezone(UTC)
    refresh(db, provider, tuesday_3pm)
    assert local_times(db, "Eleri")[:2] == ["Tue 2026-10-20 17:15", "Tue 2026-10-27 16:00"], "16:00 is too soon"


def test_slots_go_no_further_than_the_horizon(db, provider):
    hours(db, "Eleri", TUESDAY, "16:00", "17:00")
    provider.booking_horizon_days = 3
    refresh(db, provider, BEFORE_AUTUMN)
    assert local_times(db, "Eleri") == ["Tue 2026-10-20 16:00"]


def test_a_shorter_horizon_takes_the_far_open_slots_away(db, provider):
    hours(db, "Eleri", TUESDAY, "16:00", "17:00")
    refresh(db, provider, BEFORE_AUTUMN)
    provider.booking_horizon_days = 3
    db.commit()
    assert refresh(db, provider, BEFORE_AUTUMN) == SlotChanges(removed=1)
    assert local_times(db, "Eleri") == ["Tue 2026-10-20 16:00"]


# --- refreshing is safe --------------------------------------------------------------------------------


def test_refreshing_twice_changes_nothing(db, provider):
    hours(db, "Eleri", TUESDAY, "16:00", "19:00")
    first = refresh(db, provider, BEFORE_AUTUMN)
    before = [(slot.id, slot.starts_at, slot.ends_at) for slot in slots(db)]
    assert first.added == 4
    assert refresh(db, provider, BEFORE_AUTUMN) == SlotChanges()
    assert [(slot.id, slot.starts_at, slot.ends_at) for slot in slots(db)] == before


def test_an_open_slot_that_no_longer_fits_goes_and_a_new_one_comes(db, provider):
    hours(db, "Eleri", TUESDAY, "16:00", "19:00")
    refresh(db, provider, BEFORE_AUTUMN)
    line = db.scalars(sa.select(WeeklyAvailability)).one()
    line.starts, line.ends = time(10), time(11)
    db.commit()
    changes = refresh(db, provider, BEFORE_AUTUMN)
    assert changes == SlotChanges(added=2, removed=4)
    assert local_times(db, "Eleri") == ["Tue 2026-10-20 10:00", "Tue 2026-10-27 10:00"]


def test_a_shorter_slot_length_keeps_a_held_slot_and_nothing_new_overlaps_it(db, provider):
    hours(db, "Eleri", TUESDAY, "16:00", "20:00")
    refresh(db, provider, BEFORE_AUTUMN)
    assert local_times(db, "Eleri")[:3] == ["Tue 2026-10-20 16:00", "Tue 2026-10-20 17:15", "Tue 2026-10-20 18:30"]
    held = slots(db, "Eleri")[1]
    held.status = SlotStatus.HELD  # a young person chose Tuesday 17:15
    held_id, held_at = held.id, (held.starts_at, held.ends_at)
    provider.slot_minutes = 45
    db.commit()
    refresh(db, provider, BEFORE_AUTUMN)
    tuesday = [slot for slot in slots(db, "Eleri") if "2026-10-20" in local(slot)]
    assert [(local(slot), slot.status) for slot in tuesday] == [
        ("Tue 2026-10-20 16:00", SlotStatus.OPEN),
        ("Tue 2026-10-20 17:15", SlotStatus.HELD),
        ("Tue 2026-10-20 19:00", SlotStatus.OPEN),
    ]
    still_held = db.get(Slot, held_id)
    assert (still_held.starts_at, still_held.ends_at) == held_at, "the held slot is exactly as the young person chose"
    buffer = timedelta(minutes=15)
    for slot in tuesday:
        if slot.id != held_id:
            assert slot.ends_at - slot.starts_at == timedelta(minutes=45)
            assert slot.ends_at + buffer <= held_at[0] or slot.starts_at >= held_at[1] + buffer


def test_a_booked_slot_outside_the_new_hours_stays_booked(db, provider):
    hours(db, "Eleri", TUESDAY, "16:00", "17:00")
    refresh(db, provider, BEFORE_AUTUMN)
    booked = slots(db, "Eleri")[0]
    booked.status = SlotStatus.BOOKED
    db.execute(sa.delete(WeeklyAvailability))
    db.commit()
    refresh(db, provider, BEFORE_AUTUMN)
    assert [(local(slot), slot.status) for slot in slots(db, "Eleri")] == [("Tue 2026-10-20 16:00", SlotStatus.BOOKED)]


def test_a_deactivated_workers_open_slots_disappear_and_their_booked_one_stays(db, provider):
    hours(db, "Tom", TUESDAY, "16:00", "19:00")
    refresh(db, provider, BEFORE_AUTUMN)
    slots(db, "Tom")[0].status = SlotStatus.BOOKED
    worker(db, "Tom").active = False
    db.commit()
    changes = refresh(db, provider, BEFORE_AUTUMN)
    assert changes.removed == 3
    assert [slot.status for slot in slots(db, "Tom")] == [SlotStatus.BOOKED]


def test_past_slots_are_left_alone(db, provider):
    hours(db, "Eleri", TUESDAY, "16:00", "17:00")
    refresh(db, provider, BEFORE_AUTUMN)
    db.execute(sa.delete(WeeklyAvailability))
    db.commit()
    a_week_later = BEFORE_AUTUMN + timedelta(days=7)
    refresh(db, provider, a_week_later)
    assert local_times(db, "Eleri") == ["Tue 2026-10-20 16:00"], "last week's slot is history, not a change"


# --- the periodic job -------------------------------------------------------------------------------------


def test_the_worker_moves_every_providers_horizon_on(runtime):
    assert PERIODIC_JOBS["extend_slot_horizons"] is extend_slot_horizons
    with runtime.session() as session, session.begin():
        session.execute(sa.delete(Slot))
    later = datetime.now(UTC) + timedelta(days=1)
    assert extend_slot_horizons(runtime, later) > 0
    with runtime.session() as session:
        furthest = session.scalars(sa.select(sa.func.max(Slot.starts_at))).one()
        provider = session.scalars(sa.select(Provider)).one()
        horizon = later + timedelta(days=provider.booking_horizon_days)
    assert horizon - timedelta(days=2) < furthest.replace(tzinfo=UTC) < horizon
    assert extend_slot_horizons(runtime, later + timedelta(minutes=1)) == 0, "it ran a minute ago"


# --- at the same moment (PostgreSQL: real concurrent transactions) ------------------------------------------


def waiting_for_a_lock(runtime, finished: list) -> int:
    """How many transactions on this database wait for a lock, once one does (or the other side finished)."""
    waiting = 0
    for _ in range(WAIT_FOR_LOCK_POLLS):
        with runtime.engine.connect() as watcher:
            waiting = watcher.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            )
        if waiting or finished:
            break
        threading.Event().wait(0.05)
    return waiting


def demo_provider(session) -> Provider:
    return session.scalars(sa.select(Provider).where(Provider.slug == DEMO_PROVIDER_SLUG)).one()


def test_two_refreshes_at_once_the_second_waits_and_then_adds_nothing(runtime, database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite lets one transaction write at a time: the second cannot start until the first ends")
    with runtime.session() as session, session.begin():
        session.execute(sa.delete(Slot))
    now, results = utcnow(), []
    with runtime.session() as first, first.begin():
        assert refresh_slots(first, demo_provider(first), now, runtime.timezone).added > 0  # not yet committed

        def second() -> None:
            with runtime.session() as session, session.begin():
                results.append(refresh_slots(session, demo_provider(session), now, runtime.timezone))

        thread = threading.Thread(target=second)
        thread.start()
        waiting = waiting_for_a_lock(runtime, results)
        assert not results, "the second refresh went ahead without waiting for the first"
        assert waiting
    thread.join()
    assert results == [SlotChanges()], "the first one's slots are there: nothing to add twice"


def test_a_slot_a_young_person_holds_while_a_refresh_removes_it_stays_held(runtime, database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite lets one transaction write at a time: the second cannot start until the first ends")
    with runtime.session() as session, session.begin():
        eleri = session.scalars(sa.select(Worker).where(Worker.display_name == "Eleri")).one()
        open_ids = session.scalars(
            sa.select(Slot.id).where(Slot.worker_id == eleri.id, Slot.status == SlotStatus.OPEN).order_by(Slot.id)
        ).all()
        session.execute(sa.delete(WeeklyAvailability).where(WeeklyAvailability.worker_id == eleri.id))
    chosen, results = open_ids[len(open_ids) // 2], []
    with runtime.session() as young_person, young_person.begin():
        young_person.execute(sa.update(Slot).where(Slot.id == chosen).values(status=SlotStatus.HELD))

        def refresh_now() -> None:
            with runtime.session() as session, session.begin():
                results.append(refresh_slots(session, demo_provider(session), utcnow(), runtime.timezone))

        thread = threading.Thread(target=refresh_now)
        thread.start()
        waiting = waiting_for_a_lock(runtime, results)
        assert not results and waiting, "the refresh waits for the young person's transaction"
    thread.join()
    with runtime.session() as session:
        assert session.get(Slot, chosen).status == SlotStatus.HELD
        left = session.scalars(sa.select(Slot.id).where(Slot.worker_id == eleri.id)).all()
    assert left == [chosen], "Eleri's other open times went with her hours"
    assert results[0].removed == len(open_ids) - 1
