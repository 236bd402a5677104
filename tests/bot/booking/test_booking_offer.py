"""Which times are offered (bot/booking.py): the place and worker a young person chose, the 72-hour
window first, then later times, and times near one they named. Real database, rows made here."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.booking.offer import SLOTS_PER_MESSAGE, Wishes, find_slots, slots_near, still_open, take_slot, workers_for
from models import (
    Booking,
    BookingStatus,
    Channel,
    Contact,
    Gender,
    Place,
    PlaceKind,
    Provider,
    Referral,
    ReferredBy,
    Slot,
    SlotStatus,
    Worker,
    WorkerPreference,
    utcnow,
)

NOW = utcnow().replace(minute=0, second=0, microsecond=0)
HOUR = timedelta(hours=1)


class Service:
    """A provider with Eleri (Welsh, woman), Rhys (Welsh, man), Priya (woman) and Tom (man)."""

    def __init__(self, db) -> None:
        self.db = db
        self.provider = Provider(slug="offer", name="Offer test service", areas=["cardiff"], minimum_notice_minutes=120)
        db.add(self.provider)
        self.workers = {
            name: Worker(provider=self.provider, display_name=name, languages=languages, gender=gender)
            for name, languages, gender in (
                ("Eleri", ["en", "cy"], Gender.WOMAN),
                ("Rhys", ["en", "cy"], Gender.MAN),
                ("Priya", ["en"], Gender.WOMAN),
                ("Tom", ["en"], Gender.MAN),
            )
        }
        db.add_all(self.workers.values())
        self.contact = Contact.for_address(Channel.SMS, "+447700900301")
        db.add(self.contact)
        self.referral = self.referral_for(self.contact)
        db.flush()

    def referral_for(self, contact: Contact, deadline_hours: int = 72) -> Referral:
        referral = Referral(
            contact=contact,
            provider=self.provider,
            referred_by=ReferredBy.SELF,
            channel=Channel.SMS,
            deadline_at=NOW + timedelta(hours=deadline_hours),
        )
        self.db.add(referral)
        return referral

    def place(self, kind: PlaceKind, *, active: bool = True) -> Place:
        place = Place(provider=self.provider, kind=kind, name=str(kind), active=active)
        self.db.add(place)
        return place

    def slot(self, worker: str, hours_from_now: float, place: Place | None = None, **fields) -> Slot:
        starts = NOW + timedelta(hours=hours_from_now)
        slot = Slot(worker=self.workers[worker], starts_at=starts, ends_at=starts + HOUR, place=place, **fields)
        self.db.add(slot)
        self.db.flush()
        return slot

    def offered(self, *, later: bool = False, **wishes) -> list[tuple[str, float]]:
        slots = find_slots(self.db, self.referral, NOW, later=later, wishes=Wishes(**wishes))
        names = {worker.id: name for name, worker in self.workers.items()}
        return [(names[slot.worker_id], (slot.starts_at - NOW) / HOUR) for slot in slots]


@pytest.fixture
def service(db):
    return Service(db)


def test_times_inside_the_window_come_first_then_later_ones(service):
    for hours in (5, 30, 80, 100):
        service.slot("Tom", hours)
    assert service.offered() == [("Tom", 5), ("Tom", 30)]
    assert service.offered(later=True) == [("Tom", 80), ("Tom", 100)]


def test_a_handful_per_message_one_per_start_time_and_never_too_soon(service):
    service.slot("Tom", 1)  # inside the provider's two hours' notice
    for hours in range(3, 3 + SLOTS_PER_MESSAGE + 2):
        service.slot("Tom", hours)
        service.slot("Priya", hours)  # two workers free at once is one choice
    offered = service.offered()
    assert [hours for _, hours in offered] == list(range(3, 3 + SLOTS_PER_MESSAGE))


def test_a_welsh_speaker_gets_only_welsh_speaking_workers_times(service):
    for hours, worker in ((4, "Priya"), (5, "Eleri"), (6, "Tom"), (7, "Rhys")):
        service.slot(worker, hours)
    assert service.offered(worker=WorkerPreference.WELSH_SPEAKER) == [("Eleri", 5), ("Rhys", 7)]


@pytest.mark.parametrize(
    ("preference", "expected"),
    [
        (WorkerPreference.WOMAN, [("Priya", 4), ("Eleri", 5)]),
        (WorkerPreference.MAN, [("Tom", 6), ("Rhys", 7)]),
        (WorkerPreference.ANY, [("Priya", 4), ("Eleri", 5), ("Tom", 6), ("Rhys", 7)]),
        (None, [("Priya", 4), ("Eleri", 5), ("Tom", 6), ("Rhys", 7)]),
    ],
)
def test_a_woman_or_a_man_or_anyone(service, preference, expected):
    for hours, worker in ((4, "Priya"), (5, "Eleri"), (6, "Tom"), (7, "Rhys")):
        service.slot(worker, hours)
    assert service.offered(worker=preference) == expected


def test_someone_met_before_is_the_worker_of_an_earlier_booking_or_the_assigned_worker(service, db):
    for hours, worker in ((4, "Priya"), (5, "Eleri"), (6, "Tom")):
        service.slot(worker, hours)
    earlier = service.referral_for(service.contact)
    db.add(Booking(referral=earlier, worker_id=service.workers["Tom"].id, status=BookingStatus.CONFIRMED))
    db.flush()
    assert service.offered(worker=WorkerPreference.MET_BEFORE) == [("Tom", 6)]
    service.referral.assigned_worker_id = service.workers["Eleri"].id
    db.flush()
    assert service.offered(worker=WorkerPreference.MET_BEFORE) == [("Eleri", 5), ("Tom", 6)]


def test_nobody_met_before_falls_back_to_anyone_and_says_so(service):
    service.slot("Priya", 4)
    assert workers_for(service.db, service.referral, WorkerPreference.MET_BEFORE).fell_back
    assert service.offered(worker=WorkerPreference.MET_BEFORE) == [("Priya", 4)]


def test_a_slot_at_a_place_of_another_kind_does_not_fit_but_a_call_fits_any(service):
    school, cafe = service.place(PlaceKind.SCHOOL), service.place(PlaceKind.CAFE)
    service.slot("Tom", 4, school)
    service.slot("Tom", 5, cafe)
    service.slot("Tom", 6)  # no place set: the worker goes where the young person chose
    assert service.offered(place_kind=PlaceKind.CAFE) == [("Tom", 5), ("Tom", 6)]
    assert service.offered(place_kind=PlaceKind.SCHOOL) == [("Tom", 4), ("Tom", 6)]
    assert service.offered(place_kind=PlaceKind.PHONE) == [("Tom", 4), ("Tom", 5), ("Tom", 6)]


def test_a_place_no_longer_in_use_offers_no_times(service):
    service.slot("Tom", 4, service.place(PlaceKind.CAFE, active=False))
    service.slot("Tom", 5)
    assert service.offered(place_kind=PlaceKind.PHONE) == [("Tom", 5)]


def test_held_and_booked_times_and_inactive_workers_are_not_offered(service):
    service.slot("Tom", 4, status=SlotStatus.HELD)
    service.slot("Tom", 5, status=SlotStatus.BOOKED)
    service.slot("Priya", 6)
    service.workers["Priya"].active = False
    service.slot("Eleri", 7)
    assert service.offered() == [("Eleri", 7)]


def test_times_near_a_named_time_come_nearest_first(service):
    for hours in (20, 26, 30, 40, 100):
        service.slot("Tom", hours)
    near = slots_near(service.db, service.referral, NOW, NOW + timedelta(hours=29))
    assert [(slot.starts_at - NOW) / HOUR for slot in near] == [30, 26, 20, 40]


def test_taking_a_slot_holds_it_once_and_a_second_taker_finds_it_gone(service, db):
    slot = service.slot("Tom", 5)
    assert take_slot(db, slot.id, NOW) is slot and slot.status == SlotStatus.HELD
    assert take_slot(db, slot.id, NOW) is None
    assert db.scalar(sa.select(Slot.status).where(Slot.id == slot.id)) == SlotStatus.HELD


@pytest.mark.parametrize("slot_id", [None, "none", True, 10**9])
def test_a_slot_that_does_not_exist_is_gone_not_an_error(service, db, slot_id):
    assert still_open(db, slot_id, NOW) is None
    assert take_slot(db, slot_id, NOW) is None


def test_a_slot_marked_open_but_held_by_a_live_booking_counts_as_gone(service, db):
    slot = service.slot("Tom", 5)
    db.add(Booking(referral=service.referral, slot=slot, status=BookingStatus.REQUESTED))
    db.flush()
    assert still_open(db, slot.id, NOW) is None


def test_a_slot_that_has_started_is_gone(service, db):
    slot = service.slot("Tom", 5)
    assert still_open(db, slot.id, NOW + timedelta(hours=6)) is None
