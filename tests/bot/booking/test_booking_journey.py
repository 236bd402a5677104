"""The young person's booking journey end to end, over the SMS webhook (Twilio's signed form posts to the
real app on real HTTP): where and who first, then times that fit; change, cancel and book again by message
at any time; a time that has gone; times in their own words; and a provider's cancel or move reaching them.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import auxil.channels as channel_fixtures
import pytest
import requests
import sqlalchemy as sa
from auxil import staff
from auxil.fake_twilio import SmsUser
from auxil.providers import PASSWORD, demo_login, latest_referral_id
from auxil.staff import csrf
from conftest import Conversation
from jsonschema import Draft202012Validator

from bot.conversation.dispatcher import Dispatcher
from bot.outbox.events import data_schema
from conversations.dates import format_day, format_slot
from models import (
    Booking,
    BookingStatus,
    Contact,
    Escalation,
    OutboxEvent,
    OutboxKind,
    Provider,
    Referral,
    ReferralStatus,
    Slot,
    SlotStatus,
    Worker,
    utcnow,
)
from webhooks.app import create_app

channels = channel_fixtures.channels
server = channel_fixtures.server
sms_user = channel_fixtures.sms_user
telegram_api = channel_fixtures.telegram_api
twilio_api = channel_fixtures.twilio_api
PERSON = channel_fixtures.PERSON
LONDON = ZoneInfo("Europe/London")

# Up to the first question of the booking: a young person, back yesterday (so the 72-hour window has about
# two days left), home, Cardiff, consenting.
REFERRAL = ["hi", "1", "2", "2", "yesterday", "no", "home", "cardiff", "yes"]


def hours_from_now(hours: float) -> datetime:
    return utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)


def put_times(runtime, times: list[tuple[str, float]]) -> dict[tuple[str, float], int]:
    """Replace the demo's times with these (worker, hours from now): the tests know what is free."""
    with runtime.session() as session, session.begin():
        session.execute(sa.delete(Slot))
        workers = {worker.display_name: worker for worker in session.scalars(sa.select(Worker))}
        made = {}
        for name, hours in times:
            starts = hours_from_now(hours)
            slot = Slot(worker=workers[name], starts_at=starts, ends_at=starts + timedelta(hours=1))
            session.add(slot)
            session.flush()
            made[(name, hours)] = slot.id
        return made


def label(runtime, slot_id: int) -> str:
    with runtime.session() as session:
        return format_slot(session.get(Slot, slot_id).starts_at.astimezone(runtime.timezone), "en")


def bookings(runtime) -> list[tuple[str, int | None]]:
    with runtime.session() as session:
        return [(b.status.value, b.slot_id) for b in session.scalars(sa.select(Booking).order_by(Booking.id))]


def slot_status(runtime, slot_id: int) -> SlotStatus:
    with runtime.session() as session:
        return session.get(Slot, slot_id).status


def provider_events(runtime) -> list[tuple[str, dict]]:
    with runtime.session() as session:
        events = session.scalars(
            sa.select(OutboxEvent)
            .where(OutboxEvent.kind == OutboxKind.PROVIDER_WEBHOOK)
            .order_by(OutboxEvent.created_at)
        ).all()
        return [(event.type, event.payload["data"]) for event in events]


def messages_from_outbox(runtime) -> list[str]:
    """What the bot sends the young person outside a reply (a provider's news), as their channel gets it."""
    with runtime.session() as session:
        events = session.scalars(
            sa.select(OutboxEvent)
            .where(OutboxEvent.kind == OutboxKind.CHANNEL_MESSAGE)
            .order_by(OutboxEvent.created_at)
        ).all()
        return [reply["text"] for event in events for reply in event.payload["replies"]]


def text(sms_user: SmsUser, message: str) -> str:
    return "\n".join(sms_user.texts(message))


@pytest.fixture
def times(channels):
    """Tom and Priya free inside the window; Eleri (Welsh) inside it too; Tom again after the deadline."""
    return put_times(channels, [("Tom", 5), ("Priya", 6), ("Eleri", 7), ("Tom", 8), ("Tom", 100)])


def test_book_change_cancel_and_book_again_by_text(channels, server, sms_user, times):
    for message in REFERRAL:
        last = text(sms_user, message)
    assert "Where would you like to meet?" in last
    assert "Who would you like to talk to?" in text(sms_user, "cafe")
    offer = text(sms_user, "anyone")
    assert "When suits you?" in offer and f"1. {label(channels, times[('Tom', 5)])}" in offer
    assert "trusted adult" in text(sms_user, "1")
    summary = text(sms_user, "no")
    assert f"When: {label(channels, times[('Tom', 5)])}" in summary and "Where: A cafe" in summary
    # "change" inside the summary is still the summary's own "Change something".
    assert "What would you like to change?" in text(sms_user, "change")
    assert "When suits you?" in text(sms_user, "when")
    text(sms_user, "1")
    assert "Sent!" in text(sms_user, "yes")
    assert bookings(channels) == [("requested", times[("Tom", 5)])]
    assert slot_status(channels, times[("Tom", 5)]) == SlotStatus.HELD

    # Later, "change" shows the booking, and moving it frees the old time and holds the new one.
    mine = text(sms_user, "change")
    assert "Your chat:" in mine and f"When: {label(channels, times[('Tom', 5)])}" in mine
    assert "Where: A cafe" in mine and "Who: Tom" in mine
    moved = text(sms_user, "1")
    assert "When suits you?" in moved and label(channels, times[("Tom", 5)]) not in moved
    assert "Send this?" in text(sms_user, "1")  # where, who and the adult are kept
    assert "Sent!" in text(sms_user, "yes")
    assert bookings(channels) == [("cancelled", None), ("requested", times[("Priya", 6)])]
    assert slot_status(channels, times[("Tom", 5)]) == SlotStatus.OPEN
    assert slot_status(channels, times[("Priya", 6)]) == SlotStatus.HELD
    types = [event_type for event_type, _ in provider_events(channels)]
    assert types[-2:] == ["booking.cancelled", "booking.requested"]

    # Cancelling frees the time, tells the provider, and leaves the request open to book again.
    assert "Call it off" in text(sms_user, "cancel my booking")
    assert "Call off your chat" in text(sms_user, "2")
    assert "You can book again any time" in text(sms_user, "yes")
    assert bookings(channels)[-1] == ("cancelled", None)
    assert slot_status(channels, times[("Priya", 6)]) == SlotStatus.OPEN
    event_type, data = provider_events(channels)[-1]
    assert event_type == "booking.cancelled" and data["reason"] == "young_person"
    with channels.session() as session:
        assert session.scalars(sa.select(Referral.status)).one() == ReferralStatus.OPEN

    # ...and book again.
    assert "You don't have a chat booked" in text(sms_user, "change")
    assert "Where would you like to meet?" in text(sms_user, "yes")
    text(sms_user, "phone")
    assert "When suits you?" in text(sms_user, "a woman")
    text(sms_user, "1")
    assert "Sent!" in text(sms_user, "yes")
    with channels.session() as session:
        assert len(session.scalars(sa.select(Referral)).all()) == 1, "the same request, booked again"
        live = session.scalars(sa.select(Booking).where(Booking.status != BookingStatus.CANCELLED)).one()
        assert session.get(Worker, live.worker_id).display_name in ("Priya", "Eleri")
    for event_type, data in provider_events(channels):  # every event as its documented schema says
        Draft202012Validator(data_schema(event_type)).validate(data)


@pytest.mark.parametrize("channel, address", [("telegram", "1111111"), ("terminal", "terminal-1")])
def test_where_there_is_no_carrier_cancel_in_the_change_menu_cancels_and_the_provider_is_told(
    channels, dispatcher, times, channel, address
):
    young_person = Conversation(dispatcher, channel, address)
    young_person.says(*REFERRAL, "cafe", "anyone", "1", "no", "yes")
    young_person("change")
    assert "Call it off" in young_person.options
    assert "Call off your chat" in "\n".join(young_person("cancel"))
    assert "your chat is cancelled" in "\n".join(young_person("cancel"))
    assert bookings(channels)[-1] == ("cancelled", None)
    event_type, data = provider_events(channels)[-1]
    assert event_type == "booking.cancelled" and data["reason"] == "young_person"
    assert young_person.last.opted_out is False
    young_person("stop")  # STOP itself still stops, everywhere
    assert young_person.last.opted_out is True


def test_over_sms_cancel_stays_the_carriers_opt_out_even_in_the_change_menu(channels, server, sms_user, times):
    for message in [*REFERRAL, "cafe", "anyone", "1", "no", "yes", "change"]:
        text(sms_user, message)
    assert "you won't get any more messages" in text(sms_user, "cancel")
    with channels.session() as session:
        assert session.scalars(sa.select(Contact.opted_out)).one() is True


def test_cancelling_never_cancels_a_safeguarding_alert(channels, server, sms_user, times):
    for message in [*REFERRAL, "cafe", "anyone", "1", "no", "yes"]:
        text(sms_user, message)
    assert "116 123" in text(sms_user, "i want to kill myself")
    text(sms_user, "cancel my booking")
    text(sms_user, "2")
    text(sms_user, "yes")
    with channels.session() as session:
        alert = session.scalars(sa.select(Escalation)).one()
        assert alert.acknowledged_at is None
    assert any(event_type == "safeguarding.alert" for event_type, _ in provider_events(channels))


def test_with_no_booking_they_are_told_so_and_offered_one(channels, server, sms_user, times):
    for message in REFERRAL:
        text(sms_user, message)
    text(sms_user, "cafe")
    assert "You don't have a chat booked" in text(sms_user, "newid")  # Welsh works for English speakers too
    back = text(sms_user, "no thanks")
    assert "You can message BOOK any time" in back and "Who would you like to talk to?" in back


def test_a_time_that_has_gone_since_it_was_offered_gets_others_never_a_crash(channels, server, sms_user, times):
    for message in [*REFERRAL, "cafe", "anyone"]:
        text(sms_user, message)
    other = Conversation(Dispatcher(channels), "sms", "+447700900999")
    other.says(*REFERRAL, "cafe", "anyone", "1", "no", "yes")
    assert bookings(channels) == [("requested", times[("Tom", 5)])]
    gone = text(sms_user, "1")  # the first time in the list they were shown
    assert "that time has just gone" in gone and "When suits you?" in gone
    assert label(channels, times[("Tom", 5)]) not in gone
    with channels.session() as session, session.begin():
        session.execute(sa.delete(Slot).where(Slot.id == times[("Priya", 6)]))  # a worker took a time away
    assert "that time has just gone" in text(sms_user, "1")
    text(sms_user, "1")
    assert "Send this?" in text(sms_user, "no")


def test_a_slot_taken_between_the_summary_and_send_offers_the_next_times(channels, server, sms_user, times):
    for message in [*REFERRAL, "cafe", "anyone", "1", "no"]:
        text(sms_user, message)
    other = Conversation(Dispatcher(channels), "sms", "+447700900999")
    other.says(*REFERRAL, "cafe", "anyone", "1", "no", "yes")
    taken = text(sms_user, "yes")
    assert "someone else has just booked that time" in taken and "When suits you?" in taken
    text(sms_user, "1")
    assert "Sent!" in text(sms_user, "yes")
    assert sorted(slot for _, slot in bookings(channels)) == sorted([times[("Tom", 5)], times[("Priya", 6)]])


def test_a_welsh_speaker_asked_for_gets_only_welsh_speaking_workers_times(channels, server, sms_user, times):
    for message in REFERRAL:
        text(sms_user, message)
    text(sms_user, "cafe")
    offer = text(sms_user, "a welsh speaker")
    assert f"1. {label(channels, times[('Eleri', 7)])}" in offer
    for tom_or_priya in (("Tom", 5), ("Priya", 6), ("Tom", 8)):
        assert label(channels, times[tom_or_priya]) not in offer


def test_someone_met_before_with_nobody_known_is_told_kindly_and_offered_anyone(channels, server, sms_user, times):
    for message in [*REFERRAL, "cafe"]:
        text(sms_user, message)
    offer = text(sms_user, "someone i've met before")
    assert "couldn't find a worker you've met before" in offer and "When suits you?" in offer


def test_a_time_outside_the_window_records_why(channels, server, sms_user, times):
    for message in [*REFERRAL, "cafe", "a man", "none of these"]:
        last = text(sms_user, message)
    assert "How about one of these?" in last
    text(sms_user, "1")
    text(sms_user, "no")
    text(sms_user, "yes")
    with channels.session() as session:
        booking = session.scalars(sa.select(Booking)).one()
        assert booking.outside_window and booking.delay_reason == "young_person_choice"


def test_no_times_inside_the_window_records_no_availability(channels, server, sms_user):
    put_times(channels, [("Tom", 100)])
    for message in [*REFERRAL, "cafe", "anyone"]:
        last = text(sms_user, message)
    assert "How about one of these?" in last
    for message in ("1", "no", "yes"):
        text(sms_user, message)
    with channels.session() as session:
        assert session.scalars(sa.select(Booking.delay_reason)).one() == "no_availability"


def test_a_time_in_their_own_words_is_read_back_then_the_nearest_times_offered(channels, server, sms_user, times):
    for message in [*REFERRAL, "cafe", "anyone", "none of these", "none of these"]:
        last = text(sms_user, message)
    assert "What day and time suits you?" in last
    wanted = hours_from_now(7).astimezone(LONDON)
    said = f"{format_day(wanted.date(), 'en').split()[0]} {wanted:%H}:00"
    if wanted.date() == datetime.now(LONDON).date():
        said = f"today {wanted:%H}:00"
    readback = text(sms_user, said)
    assert f"{format_day(wanted.date(), 'en')}, about" in readback and "Is that right?" in readback
    near = text(sms_user, "yes")
    assert "nearest to that" in near and f"1. {label(channels, times[('Eleri', 7)])}" in near
    text(sms_user, "1")
    assert "Send this?" in text(sms_user, "no")


def test_a_day_in_the_past_and_gibberish_get_kind_re_asks(channels, server, sms_user, times):
    for message in [*REFERRAL, "cafe", "anyone", "none of these", "none of these"]:
        text(sms_user, message)
    assert "already gone by" in text(sms_user, "yesterday")
    assert "couldn't tell the day" in text(sms_user, "blah blah")
    passed_on = text(sms_user, "whenever my mum is out")
    assert "We'll pass your words on" in passed_on and "trusted adult" in passed_on
    summary = text(sms_user, "no")
    assert "When: whenever my mum is out" in summary
    text(sms_user, "yes")
    with channels.session() as session:
        booking = session.scalars(sa.select(Booking)).one()
        assert booking.slot_id is None and booking.preferred_time_text == "whenever my mum is out"


def test_next_friday_said_on_a_friday_means_in_seven_days_and_friday_means_today(runtime):
    friday = datetime(2026, 12, 4, 10, 0, tzinfo=LONDON)
    runtime.clock = lambda: friday.astimezone(ZoneInfo("UTC"))
    with runtime.session() as session, session.begin():
        session.execute(sa.delete(Slot))  # no times at all: straight to "what suits you?"
    sam = Conversation(Dispatcher(runtime), "sms", "+447700900555")
    sam.says(*REFERRAL, "cafe")
    assert "What day and time suits you?" in sam("anyone")[-1]
    assert sam("next friday")[-1].startswith("Friday 11 December. Is that right?")
    assert "What day and time suits you?" in sam("no, another time")[-1]
    assert sam("friday after school")[-1].startswith("Friday 4 December, after school. Is that right?")
    assert "arrange Friday 4 December, after school with you" in sam("yes")[0]


def test_the_provider_cancels_and_the_young_person_is_told_on_their_channel(channels, server, sms_user, times):
    for message in [*REFERRAL, "cafe", "anyone", "1", "no", "yes"]:
        text(sms_user, message)
    demo = demo_login(channels, staff=False)
    referral = latest_referral_id(channels, demo.id)
    response = requests.post(f"{server}/api/v1/referrals/{referral}/booking/cancel", json={}, headers=demo.auth,
                             timeout=30)  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["young_person_told"] is True and body["booking"]["status"] == "cancelled"
    [news] = messages_from_outbox(channels)
    assert "the service had to cancel your chat" in news and label(channels, times[("Tom", 5)]) in news
    assert slot_status(channels, times[("Tom", 5)]) == SlotStatus.OPEN
    assert provider_events(channels)[-1][1]["reason"] == "provider"
    # They can book again straight away.
    assert "Where would you like to meet?" in text(sms_user, "book") + text(sms_user, "yes")
    again = requests.post(f"{server}/api/v1/referrals/{referral}/booking/cancel", json={}, headers=demo.auth,
                          timeout=30)  # fmt: skip
    assert again.status_code == 409


def test_the_provider_moves_a_booking_and_the_young_person_is_told(channels, server, sms_user, times):
    for message in [*REFERRAL, "cafe", "anyone", "1", "no", "yes"]:
        text(sms_user, message)
    demo = demo_login(channels, staff=False)
    referral = latest_referral_id(channels, demo.id)
    elsewhen = daytime_slot(channels, "Eleri", 11)
    with channels.session() as session:
        eleri = session.scalars(sa.select(Worker).where(Worker.display_name == "Eleri")).one()
        eleri_id, new_time = eleri.id, session.get(Slot, elsewhen).starts_at
    body = {"starts_at": new_time.isoformat(), "worker_id": eleri_id, "place_kind": "youth_centre"}
    response = requests.post(f"{server}/api/v1/referrals/{referral}/booking/move", json=body, headers=demo.auth,
                             timeout=30)  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["booking"]["status"] == "confirmed"
    [news] = messages_from_outbox(channels)
    assert news.startswith("Your chat has moved.") and label(channels, elsewhen) in news
    assert "Where: Youth centre" in news and "Who: Eleri" in news
    assert slot_status(channels, times[("Tom", 5)]) == SlotStatus.OPEN
    assert slot_status(channels, elsewhen) == SlotStatus.BOOKED
    assert [t for t, _ in provider_events(channels)][-2:] == ["booking.cancelled", "booking.requested"]
    # "change" now shows the moved booking.
    assert "Who: Eleri" in text(sms_user, "change")
    # Moving onto a time someone else has is refused, and nothing changes.
    with channels.session() as session:
        taken = session.get(Slot, daytime_slot(channels, "Rhys", 15, SlotStatus.BOOKED)).starts_at
    body = {"starts_at": taken.isoformat(), "worker_id": worker_id(channels, "Rhys")}
    response = requests.post(f"{server}/api/v1/referrals/{referral}/booking/move", json=body, headers=demo.auth,
                             timeout=30)  # fmt: skip
    assert response.status_code == 409
    assert slot_status(channels, elsewhen) == SlotStatus.BOOKED


def test_a_provider_that_confirms_automatically_books_at_once(channels, server, sms_user, times):
    with channels.session() as session, session.begin():
        session.scalars(sa.select(Provider)).one().auto_confirm = True
    for message in [*REFERRAL, "cafe", "anyone", "1", "no"]:
        text(sms_user, message)
    booked = text(sms_user, "yes")
    assert "Your chat is booked." in booked and "Who: Tom" in booked and "Where: A cafe" in booked
    assert bookings(channels) == [("confirmed", times[("Tom", 5)])]
    assert slot_status(channels, times[("Tom", 5)]) == SlotStatus.BOOKED
    with channels.session() as session:
        assert session.scalars(sa.select(Referral.status)).one() == ReferralStatus.BOOKED


def daytime_slot(runtime, name: str, hour: int, status: SlotStatus = SlotStatus.OPEN) -> int:
    """A time of the worker's tomorrow at ``hour`` (local): a worker may move a chat only in the day."""
    starts = datetime.combine(datetime.now(LONDON).date() + timedelta(days=1), time(hour), tzinfo=LONDON)
    with runtime.session() as session, session.begin():
        worker = session.scalars(sa.select(Worker).where(Worker.display_name == name)).one()
        slot = Slot(worker=worker, starts_at=starts, ends_at=starts + timedelta(hours=1), status=status)
        session.add(slot)
        session.flush()
        return slot.id


def worker_id(runtime, name: str) -> int:
    with runtime.session() as session:
        return session.scalars(sa.select(Worker.id).where(Worker.display_name == name)).one()


def test_a_worker_moves_then_cancels_from_the_referral_page(channels, server, sms_user, times):
    for message in [*REFERRAL, "cafe", "anyone", "1", "no", "yes"]:
        text(sms_user, message)
    demo = demo_login(channels)
    referral = latest_referral_id(channels, demo.id)
    client = create_app(channels, {"TESTING": True}).test_client()
    staff.log_in(client, demo.email, PASSWORD)
    page = client.get(f"/provider/referrals/{referral}").get_data(as_text=True)
    assert "Move the booking" in page and "Cancel the booking" in page
    elsewhen = daytime_slot(channels, "Tom", 12)
    with channels.session() as session:
        new_time = session.get(Slot, elsewhen).starts_at.astimezone(channels.timezone)
    moved = client.post(
        f"/provider/referrals/{referral}/booking/move",
        data={"csrf_token": csrf(page), "starts_at": new_time.strftime("%Y-%m-%dT%H:%M")},
    )
    assert "Booking moved. The young person is being told." in client.get(moved.headers["Location"]).get_data(
        as_text=True
    )
    assert slot_status(channels, elsewhen) == SlotStatus.BOOKED
    cancelled = client.post(f"/provider/referrals/{referral}/booking/cancel", data={"csrf_token": csrf(page)})
    assert "Booking cancelled" in client.get(cancelled.headers["Location"]).get_data(as_text=True)
    assert slot_status(channels, elsewhen) == SlotStatus.OPEN
    for event_type, data in provider_events(channels):
        Draft202012Validator(data_schema(event_type)).validate(data)
    news = messages_from_outbox(channels)
    assert news[0].startswith("Your chat has moved.") and "the service had to cancel your chat" in news[1]


def test_a_welsh_speaker_hears_of_the_cancellation_in_welsh(channels, server, times):
    cerys = Conversation(Dispatcher(channels), "sms", "+447700900777")
    cerys.says("helo", "person ifanc", "gofyn am sgwrs", "13 i 15", "ddoe", "nac oedden", "gartref", "caerdydd", "ydy")
    cerys.says("caffi", "unrhyw un", "1", "na")
    assert "Wedi anfon!" in cerys("ie")[-1]
    demo = demo_login(channels, staff=False)
    referral = latest_referral_id(channels, demo.id)
    response = requests.post(
        f"{server}/api/v1/referrals/{referral}/booking/cancel", json={}, headers=demo.auth, timeout=30
    )
    assert response.status_code == 200, response.text
    [news] = messages_from_outbox(channels)
    assert news.startswith("Sori, roedd rhaid i'r gwasanaeth ganslo dy sgwrs") and "ARCHEBU" in news
    assert "Does dim sgwrs wedi'i threfnu" in cerys("newid")[-1]


def test_the_provider_moves_only_the_place_and_the_same_time_stays_theirs(channels, server, sms_user, times):
    for message in [*REFERRAL, "cafe", "anyone", "1", "no", "yes"]:
        text(sms_user, message)
    demo = demo_login(channels, staff=False)
    referral = latest_referral_id(channels, demo.id)
    url = f"{server}/api/v1/referrals/{referral}/booking/move"
    nothing = requests.post(url, json={}, headers=demo.auth, timeout=30)
    assert nothing.status_code == 422 and nothing.json()["field"] == "starts_at", "something must change"
    unknown = requests.post(url, json={"booking_id": 99999, "place_kind": "phone"}, headers=demo.auth, timeout=30)
    assert unknown.status_code == 404
    response = requests.post(url, json={"place_kind": "phone"}, headers=demo.auth, timeout=30)
    assert response.status_code == 200, response.text
    assert bookings(channels) == [("cancelled", None), ("confirmed", times[("Tom", 5)])]
    assert slot_status(channels, times[("Tom", 5)]) == SlotStatus.BOOKED
    [news] = messages_from_outbox(channels)
    assert "Where: Phone call" in news and label(channels, times[("Tom", 5)]) in news


def test_a_parent_asking_to_change_is_not_sent_into_the_young_persons_booking(channels):
    parent = Conversation(Dispatcher(channels), "sms", "+447700900888")
    parent.says("hi", "2", "1", "3", "2", "2", "2", "1", "4", "3", "1")
    assert "You don't have a chat booked" in parent("change")[-1]
    assert not any("Where would you like to meet?" in reply for reply in parent("yes"))
