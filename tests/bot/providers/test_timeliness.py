"""The 72-hour clock, told honestly: which referrals the queue marks at risk, the reason kept for a booking
after the deadline (whoever sets the time), and the report that counts them per provider.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from auxil import staff
from auxil.providers import (
    PASSWORD,
    demo_login,
    latest_referral_id,
    other_provider,
    self_referral,
    working_time,
)
from conftest import Conversation

from bot.providers import actions as provider_actions
from bot.providers.actions import Actor, Invalid
from bot.providers.queue import is_at_risk, list_queue
from bot.providers.reports import period_bounds, timeliness
from models import (
    Booking,
    BookingStatus,
    Channel,
    Contact,
    DelayReason,
    Language,
    PlaceKind,
    Provider,
    Referral,
    ReferralOutcome,
    ReferralStatus,
    ReferredBy,
    Worker,
    utcnow,
)
from webhooks.app import create_app

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
_numbers = iter(range(10_000, 99_999))


def provider_id(runtime, slug: str = "demo") -> int:
    with runtime.session() as session:
        return session.scalars(sa.select(Provider.id).where(Provider.slug == slug)).one()


def referral(
    runtime,
    *,
    deadline_in: timedelta,
    now: datetime = NOW,
    status: ReferralStatus = ReferralStatus.OPEN,
    booking: BookingStatus | None = None,
    starts_in: timedelta | None = None,
    delay_reason: DelayReason | None = None,
    outcome: ReferralOutcome | None = None,
    created_at: datetime | None = None,
    provider: str = "demo",
) -> int:
    """A referral whose deadline is ``deadline_in`` from ``now``, with a booking ``starts_in`` from now."""
    with runtime.session() as session, session.begin():
        contact = Contact.for_address(Channel.SMS, f"+4477009{next(_numbers):05d}", language=Language.EN)
        deadline = now + deadline_in
        row = Referral(
            contact=contact,
            provider_id=session.scalars(sa.select(Provider.id).where(Provider.slug == provider)).one(),
            referred_by=ReferredBy.SELF,
            status=status,
            language=Language.EN,
            channel=Channel.SMS,
            deadline_at=deadline,
            created_at=created_at or deadline - timedelta(hours=70),
            outcome=outcome.value if outcome else None,
        )
        session.add(row)
        if booking is not None:
            starts_at = now + starts_in if starts_in is not None else None
            session.add(
                Booking(
                    referral=row,
                    starts_at=starts_at,
                    status=booking,
                    place_kind=PlaceKind.CAFE,
                    outside_window=starts_at is None or starts_at > deadline,
                    delay_reason=delay_reason,
                )
            )
        session.flush()
        return row.id


def at_risk(runtime, referral_id: int, now: datetime = NOW) -> bool:
    with runtime.session() as session:
        return is_at_risk(session.get(Referral, referral_id), now)


# --- at risk ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ({"deadline_in": timedelta(hours=30)}, False),
        ({"deadline_in": timedelta(hours=20)}, True),
        ({"deadline_in": -timedelta(hours=5)}, True),
        # asked for a time inside the window, but nobody has confirmed it and the deadline is close
        (
            {
                "deadline_in": timedelta(hours=20),
                "status": ReferralStatus.BOOKING_REQUESTED,
                "booking": BookingStatus.REQUESTED,
                "starts_in": timedelta(hours=10),
            },
            True,
        ),
        # confirmed inside the window: safe, however close the deadline
        (
            {
                "deadline_in": timedelta(hours=2),
                "status": ReferralStatus.BOOKED,
                "booking": BookingStatus.CONFIRMED,
                "starts_in": timedelta(hours=1),
            },
            False,
        ),
        # confirmed after the deadline with no reason: the 72 hours will be missed and nobody said why
        (
            {
                "deadline_in": timedelta(hours=60),
                "status": ReferralStatus.BOOKED,
                "booking": BookingStatus.CONFIRMED,
                "starts_in": timedelta(hours=80),
            },
            True,
        ),
        # ...with the young person's choice recorded: a known delay, counted in the reports, not a risk
        (
            {
                "deadline_in": timedelta(hours=10),
                "status": ReferralStatus.BOOKED,
                "booking": BookingStatus.CONFIRMED,
                "starts_in": timedelta(hours=80),
                "delay_reason": DelayReason.YOUNG_PERSON_CHOICE,
            },
            False,
        ),
        # a cancelled booking counts for nothing
        (
            {
                "deadline_in": timedelta(hours=10),
                "booking": BookingStatus.CANCELLED,
                "starts_in": timedelta(hours=5),
            },
            True,
        ),
        ({"deadline_in": -timedelta(hours=5), "status": ReferralStatus.DECLINED}, False),
        ({"deadline_in": -timedelta(hours=5), "status": ReferralStatus.CLOSED}, False),
    ],
    ids=[
        "open-30h-left",
        "open-20h-left",
        "open-overdue",
        "requested-not-confirmed",
        "confirmed-inside",
        "confirmed-after-no-reason",
        "confirmed-after-their-choice",
        "cancelled-booking",
        "declined",
        "closed",
    ],
)
def test_the_queue_marks_at_risk_only_what_will_miss_the_72_hours_unexplained(runtime, case, expected):
    referral_id = referral(runtime, **case)
    assert at_risk(runtime, referral_id) is expected
    with runtime.session() as session:
        flagged = [item["id"] for item in list_queue(session, provider_id(runtime), NOW, at_risk=True)]
    assert (referral_id in flagged) is expected


# --- the reason for a delay, when the provider sets the time -------------------------------------------


def _first_worker(runtime) -> int:
    with runtime.session() as session:
        return session.scalars(sa.select(Worker.id).where(Worker.provider_id == provider_id(runtime))).first()


def _in_hours(runtime, after: datetime) -> datetime:
    """A time the worker confirming works, from ``after`` (a worker may only set a time inside their hours)."""
    return working_time(runtime, after, _first_worker(runtime))


def _confirm(runtime, referral_id: int, **fields):
    with runtime.session() as session, session.begin():
        actor = Actor(provider_id(runtime), "api")
        worker_id = _first_worker(runtime)
        booking, _ = provider_actions.confirm_booking(
            session, runtime, actor, referral_id, utcnow(), worker_id=worker_id, **fields
        )
        return booking.delay_reason


def _requested(
    runtime,
    *,
    starts_in: timedelta | None,
    delay_reason: DelayReason | None = None,
    deadline_in: timedelta = timedelta(hours=40),
) -> int:
    return referral(
        runtime,
        now=utcnow(),
        deadline_in=deadline_in,
        status=ReferralStatus.BOOKING_REQUESTED,
        booking=BookingStatus.REQUESTED,
        starts_in=starts_in,
        delay_reason=delay_reason,
    )


def test_a_time_the_provider_moves_past_the_deadline_is_for_want_of_availability(runtime):
    referral_id = _requested(runtime, starts_in=timedelta(hours=20))
    later = _in_hours(runtime, utcnow() + timedelta(days=4))
    assert _confirm(runtime, referral_id, starts_at=later) == DelayReason.NO_AVAILABILITY


def test_the_young_persons_own_later_choice_is_kept(runtime):
    referral_id = _requested(runtime, starts_in=timedelta(days=5), delay_reason=DelayReason.YOUNG_PERSON_CHOICE)
    assert _confirm(runtime, referral_id) == DelayReason.YOUNG_PERSON_CHOICE


def test_their_choice_is_kept_for_an_earlier_time_but_not_for_a_later_one(runtime):
    sooner = _in_hours(runtime, utcnow() + timedelta(days=4))
    chosen = sooner + timedelta(days=1) - utcnow()
    earlier = _requested(runtime, starts_in=chosen, delay_reason=DelayReason.YOUNG_PERSON_CHOICE)
    assert _confirm(runtime, earlier, starts_at=sooner) == DelayReason.YOUNG_PERSON_CHOICE
    later = _requested(runtime, starts_in=chosen, delay_reason=DelayReason.YOUNG_PERSON_CHOICE)
    after_it = _in_hours(runtime, utcnow() + chosen + timedelta(hours=1))
    assert _confirm(runtime, later, starts_at=after_it) == DelayReason.NO_AVAILABILITY


def test_a_time_in_their_own_words_confirmed_later_keeps_their_choice(runtime):
    referral_id = _requested(runtime, starts_in=None, delay_reason=DelayReason.YOUNG_PERSON_CHOICE)
    later = _in_hours(runtime, utcnow() + timedelta(days=6))
    assert _confirm(runtime, referral_id, starts_at=later) == DelayReason.YOUNG_PERSON_CHOICE


def test_the_worker_can_say_why_and_inside_the_window_there_is_no_reason(runtime):
    referral_id = _requested(runtime, starts_in=timedelta(hours=20))
    when = _in_hours(runtime, utcnow() + timedelta(days=4))
    assert _confirm(runtime, referral_id, starts_at=when, delay_reason="no_contact_yet") == DelayReason.NO_CONTACT_YET
    soon = _in_hours(runtime, utcnow() + timedelta(hours=1))
    inside = _requested(
        runtime,
        starts_in=soon + timedelta(days=5) - utcnow(),
        delay_reason=DelayReason.YOUNG_PERSON_CHOICE,
        deadline_in=soon + timedelta(hours=2) - utcnow(),
    )
    assert _confirm(runtime, inside, starts_at=soon, delay_reason="no_contact_yet") is None


def test_an_unknown_reason_is_refused_and_nothing_changes(runtime):
    referral_id = _requested(runtime, starts_in=timedelta(hours=20))
    with pytest.raises(Invalid) as refused:
        _confirm(runtime, referral_id, delay_reason="busy")
    assert refused.value.field == "delay_reason"
    with runtime.session() as session:
        assert session.get(Referral, referral_id).bookings[0].status == BookingStatus.REQUESTED


@pytest.fixture
def client(runtime):
    return create_app(runtime, {"TESTING": True}).test_client()


@pytest.fixture
def demo(runtime):
    return demo_login(runtime)


@pytest.fixture
def sam(runtime, dispatcher, demo):
    """A young person who asked for a time inside the window, through the real conversation."""
    sam = Conversation(dispatcher, "sms", "+447700900101")
    sam.says(*self_referral("cardiff"))
    sam.referral_id = latest_referral_id(runtime, demo.id)
    return sam


def _their_worker_after_the_deadline(runtime, referral_id: int) -> datetime:
    """A time a day after the deadline that the worker of the young person's booking works."""
    with runtime.session() as session:
        referral = session.get(Referral, referral_id)
        deadline, worker_id = referral.deadline_at, referral.bookings[-1].worker_id
    return working_time(runtime, deadline + timedelta(days=1), worker_id)


def test_the_api_takes_the_reason_on_confirm(client, demo, sam, runtime):
    after = _their_worker_after_the_deadline(runtime, sam.referral_id).strftime("%Y-%m-%dT%H:%M:%SZ")
    url = f"/api/v1/referrals/{sam.referral_id}/confirm"
    refused = client.post(url, json={"starts_at": after, "delay_reason": "later"}, headers=demo.auth)
    assert refused.status_code == 422 and refused.get_json()["field"] == "delay_reason"

    answer = client.post(url, json={"starts_at": after, "delay_reason": "young_person_choice"}, headers=demo.auth)
    assert answer.status_code == 200, answer.get_json()
    booking = answer.get_json()["booking"]
    assert booking["outside_window"] and booking["delay_reason"] == "young_person_choice"
    [item] = client.get("/api/v1/referrals", headers=demo.auth).get_json()["referrals"]
    assert item["booking"]["delay_reason"] == "young_person_choice" and not item["at_risk"]


def test_a_proposed_time_after_the_deadline_keeps_the_reason_given_when_the_young_person_accepts(
    client, demo, sam, runtime
):
    after = _their_worker_after_the_deadline(runtime, sam.referral_id).strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = client.post(
        f"/api/v1/referrals/{sam.referral_id}/propose",
        json={"starts_at": after, "delay_reason": "no_contact_yet"},
        headers=demo.auth,
    )
    assert answer.status_code == 200, answer.get_json()
    sam("yes")
    with runtime.session() as session:
        booking = session.scalars(
            sa.select(Booking)
            .where(Booking.referral_id == sam.referral_id, Booking.status == BookingStatus.CONFIRMED)
        ).one()  # fmt: skip
        assert booking.outside_window and booking.delay_reason == DelayReason.NO_CONTACT_YET


def test_the_referral_page_asks_why_when_confirming_and_the_queue_shows_it(client, demo, sam, runtime):
    staff.log_in(client, demo.email, PASSWORD)
    page = client.get(f"/provider/referrals/{sam.referral_id}").get_data(as_text=True)
    assert 'name="delay_reason"' in page and '<option value="no_contact_yet">no contact with them yet</option>' in page

    after = _their_worker_after_the_deadline(runtime, sam.referral_id).astimezone(LONDON)
    token = staff.csrf(page)
    fields = {"csrf_token": token, "starts_at": after.strftime("%Y-%m-%dT%H:%M"), "delay_reason": "no_contact_yet"}
    assert client.post(f"/provider/referrals/{sam.referral_id}/confirm", data=fields).status_code in (302, 303)
    queue = client.get("/provider/").get_data(as_text=True)
    assert "after the deadline: no contact with them yet" in queue


# --- the report ---------------------------------------------------------------------------------------


NOVEMBER = period_bounds(date(2026, 11, 1), date(2026, 11, 30), LONDON)
MID_NOVEMBER = datetime(2026, 11, 10, 12, tzinfo=UTC)
REPORT_NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def november_referral(runtime, **case) -> int:
    """A referral made in mid-November (its deadline 72 hours later), seen from 1 December."""
    return referral(runtime, now=MID_NOVEMBER, deadline_in=timedelta(hours=72), created_at=MID_NOVEMBER, **case)


def test_the_report_counts_each_referral_once_per_provider(runtime):
    other_provider(runtime, staff=False)
    booked = {"status": ReferralStatus.BOOKED, "booking": BookingStatus.CONFIRMED}
    held = {**booked, "status": ReferralStatus.CLOSED, "outcome": ReferralOutcome.INTERVIEW_HELD}
    november_referral(runtime, **held, starts_in=timedelta(hours=30))
    november_referral(runtime, **booked, starts_in=timedelta(hours=72))  # exactly at the deadline: in time
    november_referral(runtime, **held, starts_in=timedelta(days=5), delay_reason=DelayReason.YOUNG_PERSON_CHOICE)
    november_referral(runtime, **booked, starts_in=timedelta(days=4), delay_reason=DelayReason.NO_AVAILABILITY)
    november_referral(runtime, **booked, starts_in=timedelta(days=6), delay_reason=DelayReason.NO_AVAILABILITY)
    november_referral(runtime, **booked, starts_in=timedelta(days=4))  # after the deadline, no reason
    november_referral(runtime)  # nothing booked, deadline gone
    november_referral(runtime, booking=BookingStatus.REQUESTED, starts_in=timedelta(hours=20))  # never confirmed
    november_referral(runtime, status=ReferralStatus.DECLINED)
    november_referral(runtime, status=ReferralStatus.CLOSED, outcome=ReferralOutcome.COULD_NOT_CONTACT)
    # Made on 30 November, still within its 72 hours on 1 December.
    referral(runtime, now=REPORT_NOW, deadline_in=timedelta(hours=40), created_at=REPORT_NOW - timedelta(hours=20))
    # Outside the period (31 October), and another provider's: not in the demo provider's figures.
    referral(runtime, now=datetime(2026, 10, 31, 12, tzinfo=UTC), deadline_in=timedelta(hours=72),
             created_at=datetime(2026, 10, 31, 12, tzinfo=UTC))  # fmt: skip
    november_referral(runtime, provider="valleys", **booked, starts_in=timedelta(hours=30))

    with runtime.session() as session:
        rows = {row["provider"]["slug"]: row for row in timeliness(session, *NOVEMBER, REPORT_NOW)}

    demo = rows["demo"]
    assert demo == {
        "provider": demo["provider"],
        "referrals": 11,
        "declined": 1,
        "booked_within_72_hours": 2,
        "held_within_72_hours": 1,
        "booked_after_72_hours": 4,
        "held_after_72_hours": 1,
        "delay_reasons": {"young_person_choice": 1, "no_availability": 2, "no_contact_yet": 0, "not_recorded": 1},
        "open_past_deadline": 2,
        "open_in_time": 1,
        "closed_without_booking": 1,
    }
    groups = ("declined", "booked_within_72_hours", "booked_after_72_hours", "open_past_deadline", "open_in_time",
              "closed_without_booking")  # fmt: skip
    assert sum(demo[group] for group in groups) == demo["referrals"]
    assert sum(demo["delay_reasons"].values()) == demo["booked_after_72_hours"]
    assert rows["valleys"]["referrals"] == 1 and rows["valleys"]["booked_within_72_hours"] == 1


def test_a_report_day_is_a_local_day_across_the_clock_change():
    start, end = period_bounds(date(2026, 10, 25), date(2026, 10, 25), LONDON)
    assert start == datetime(2026, 10, 24, 23, tzinfo=UTC)  # midnight BST
    assert end == datetime(2026, 10, 26, 0, tzinfo=UTC)  # midnight GMT: a 25-hour day


def test_the_report_endpoint_shows_only_the_callers_figures(client, runtime):
    demo, other = demo_login(runtime, staff=False), other_provider(runtime, staff=False)
    today = utcnow().astimezone(LONDON).date()
    referral(runtime, now=utcnow(), deadline_in=-timedelta(hours=1), created_at=utcnow() - timedelta(hours=73))
    referral(runtime, now=utcnow(), deadline_in=timedelta(hours=40), provider="valleys")
    week = {"from": (today - timedelta(days=7)).isoformat(), "to": today.isoformat()}

    answer = client.get("/api/v1/reports/timeliness", query_string=week, headers=demo.auth)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["from"] == week["from"] and body["to"] == week["to"]
    [row] = body["providers"]
    assert row["provider"]["slug"] == "demo" and row["referrals"] == 1 and row["open_past_deadline"] == 1

    [row] = client.get("/api/v1/reports/timeliness", query_string=week, headers=other.auth).get_json()["providers"]
    assert row["provider"]["slug"] == "valleys" and row["open_in_time"] == 1

    backwards = {"from": week["to"], "to": week["from"]}  # the same days, written the other way round
    again = client.get("/api/v1/reports/timeliness", query_string=backwards, headers=demo.auth).get_json()
    assert (again["from"], again["to"]) == (week["from"], week["to"])
    assert again["providers"] == body["providers"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"to": "2026-11-30"}, "from"),
        ({"from": "2026-11-01"}, "to"),
        ({"from": "1 November", "to": "2026-11-30"}, "from"),
        ({"from": "2026-11-01", "to": "2026-02-30"}, "to"),
        ({"from": "1999-12-31", "to": "2026-11-30"}, "from"),
        ({"from": "2026-11-01", "to": "2026-11-30", "provider": "valleys"}, "provider"),
    ],
)
def test_a_bad_period_gets_a_kind_422(client, runtime, query, field):
    demo = demo_login(runtime, staff=False)
    answer = client.get("/api/v1/reports/timeliness", query_string=query, headers=demo.auth)
    assert answer.status_code == 422
    assert answer.get_json()["field"] == field


def test_a_time_agreed_outside_the_offered_ones_takes_that_workers_times_around_it_off_offer(runtime):
    from models import Slot, SlotStatus

    with runtime.session() as session:
        slot = session.scalars(
            sa.select(Slot).where(Slot.status == SlotStatus.OPEN, Slot.starts_at > utcnow() + timedelta(hours=6))
        ).first()
        worker_id, starts_at = slot.worker_id, slot.starts_at
    referral_id = _requested(runtime, starts_in=None)
    with runtime.session() as session, session.begin():
        actor = Actor(provider_id(runtime), "api")
        provider_actions.confirm_booking(
            session,
            runtime,
            actor,
            referral_id,
            utcnow(),
            worker_id=worker_id,
            starts_at=starts_at + timedelta(minutes=20),
            place_kind="phone",
        )
    with runtime.session() as session:
        overlapping = session.scalars(
            sa.select(Slot).where(
                Slot.worker_id == worker_id,
                Slot.status == SlotStatus.OPEN,
                Slot.starts_at < starts_at + timedelta(minutes=80),
                Slot.ends_at > starts_at,
            )
        ).all()
    assert overlapping == []
