"""Reminders before a booked chat: the evening before at 6pm local time and two hours before, following every
change of the booking, never to someone who sent STOP, and sent once however many workers run the job.

The job is driven with an explicit ``now``; the messages go through the real outbox, and over SMS to the
local fake Twilio at the network edge.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import yaml
from auxil.channels import (  # noqa: F401 (fixtures)
    CHAT_ID,
    PERSON,
    channels_fixture,
    quick_person_fixture,
    telegram_api_fixture,
    twilio_api_fixture,
)

import bot.booking.reminders as reminders
from bot.booking.reminders import DAY_BEFORE, TWO_HOURS, reminder_moment, reminder_text, send_due_reminders
from bot.outbox.relay import Relay
from bot.worker import PERIODIC_JOBS, run_periodic_jobs
from conversations import sms
from conversations.validate import PREVIEW_ALARM_WORDS
from models import (
    Booking,
    BookingStatus,
    Channel,
    Contact,
    Direction,
    Language,
    Message,
    OutboxEvent,
    PlaceKind,
    Provider,
    Referral,
    ReferralStatus,
    ReferredBy,
)

LONDON = ZoneInfo("Europe/London")
# Words that would tell someone reading over a shoulder what this is about, in either language.
ALARMING = {
    *PREVIEW_ALARM_WORDS["en"],
    *PREVIEW_ALARM_WORDS["cy"],
    "interview",
    "cyfweliad",
    "return home",
    "dychwelyd",
    "rhi",
    "safeguarding",
    "diogelu",
}


def london(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in the UK, as the aware UTC instant the database holds."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


# Monday 23 November 2026, 4pm: a week without a clock change.
MONDAY_4PM = london(2026, 11, 23, 16)
CONFIRMED_FRIDAY = london(2026, 11, 20, 10)


def book(
    runtime,
    starts_at: datetime,
    *,
    confirmed_at: datetime = CONFIRMED_FRIDAY,
    status: BookingStatus = BookingStatus.CONFIRMED,
    language: str = "en",
    place: PlaceKind | None = PlaceKind.YOUTH_CENTRE,
    channel: Channel = Channel.SMS,
    address: str = PERSON,
    opted_out: bool = False,
) -> int:
    """A young person's confirmed (or other) booking, made at ``confirmed_at``; its id."""
    with runtime.session() as session, session.begin():
        provider_id = session.scalars(sa.select(Provider.id).order_by(Provider.id)).first()
        contact = Contact.for_address(channel, address, language=Language(language), opted_out=opted_out)
        referral = Referral(
            contact=contact,
            provider_id=provider_id,
            referred_by=ReferredBy.SELF,
            status=ReferralStatus.BOOKED if status == BookingStatus.CONFIRMED else ReferralStatus.BOOKING_REQUESTED,
            language=Language(language),
            channel=channel,
            deadline_at=starts_at + timedelta(hours=12),
            created_at=confirmed_at - timedelta(hours=1),
            updated_at=confirmed_at,
        )
        booking = Booking(
            referral=referral,
            starts_at=starts_at,
            place_kind=place,
            status=status,
            created_at=confirmed_at - timedelta(hours=1),
            updated_at=confirmed_at,
        )
        session.add(booking)
        session.flush()
        return booking.id


def move(runtime, booking_id: int, starts_at: datetime, *, at: datetime) -> None:
    """The booking is moved to a new time (the young person is told then)."""
    with runtime.session() as session, session.begin():
        booking = session.get(Booking, booking_id)
        booking.starts_at = starts_at
        booking.updated_at = at


def sent_reminders(runtime) -> list[str]:
    """The reminders written to the outbox so far, oldest first."""
    with runtime.session() as session:
        events = session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.type == "message.reminder").order_by(OutboxEvent.created_at)
        ).all()
        return [reply["text"] for event in events for reply in event.payload["replies"]]


def keys_of(runtime, booking_id: int) -> list[str]:
    with runtime.session() as session:
        return list(session.get(Booking, booking_id).reminders_sent)


def run_at(runtime, *moments: datetime) -> int:
    return sum(send_due_reminders(runtime, moment) for moment in moments)


def test_a_monday_4pm_chat_is_reminded_on_sunday_at_6pm_and_on_monday_at_2pm(runtime):
    booking_id = book(runtime, MONDAY_4PM)

    assert run_at(runtime, london(2026, 11, 22, 17, 59)) == 0
    assert run_at(runtime, london(2026, 11, 22, 18, 0)) == 1
    assert sent_reminders(runtime) == [
        "Hi, just a reminder: see you tomorrow at 4pm at the youth centre. Reply CHANGE to move it."
    ]
    assert run_at(runtime, london(2026, 11, 22, 18) + timedelta(seconds=5), london(2026, 11, 22, 18, 20)) == 0

    assert run_at(runtime, london(2026, 11, 23, 13, 59)) == 0
    assert run_at(runtime, london(2026, 11, 23, 14, 0)) == 1
    assert run_at(runtime, london(2026, 11, 23, 14, 5)) == 0
    assert sent_reminders(runtime)[1] == (
        "Hi, just a reminder: see you today at 4pm at the youth centre. Reply CHANGE to move it."
    )
    assert keys_of(runtime, booking_id) == [
        "day_before@2026-11-23T16:00:00+00:00",
        "two_hours@2026-11-23T16:00:00+00:00",
    ]


def test_the_reminder_is_in_the_conversation_log_and_the_booking_keeps_its_last_change(runtime):
    booking_id = book(runtime, MONDAY_4PM)
    run_at(runtime, london(2026, 11, 22, 18, 1))
    with runtime.session() as session:
        [message] = session.scalars(sa.select(Message).where(Message.direction == Direction.OUTBOUND)).all()
        assert message.text.startswith("Hi, just a reminder")
        assert session.get(Booking, booking_id).updated_at == CONFIRMED_FRIDAY


@pytest.mark.parametrize(
    ("starts_at", "evening_before_utc", "two_hours_utc"),
    [
        # The clocks go back at 2am on Sunday 25 October 2026: Sunday 6pm is 18:00 GMT (and UTC).
        (london(2026, 10, 26, 16), datetime(2026, 10, 25, 18, tzinfo=UTC), datetime(2026, 10, 26, 14, tzinfo=UTC)),
        # They go forward at 1am on Sunday 28 March 2027: Sunday 6pm is 18:00 BST, 17:00 UTC.
        (london(2027, 3, 29, 16), datetime(2027, 3, 28, 17, tzinfo=UTC), datetime(2027, 3, 29, 13, tzinfo=UTC)),
    ],
    ids=["autumn", "spring"],
)
def test_across_the_clock_change_the_reminders_come_at_the_right_local_time(
    runtime, starts_at, evening_before_utc, two_hours_utc
):
    assert reminder_moment(DAY_BEFORE, starts_at, LONDON) == evening_before_utc
    assert evening_before_utc.astimezone(LONDON).hour == 18
    book(runtime, starts_at, confirmed_at=starts_at - timedelta(days=3))

    assert run_at(runtime, evening_before_utc - timedelta(seconds=1)) == 0
    assert run_at(runtime, evening_before_utc) == 1
    assert run_at(runtime, two_hours_utc - timedelta(seconds=1)) == 0
    assert run_at(runtime, two_hours_utc) == 1
    assert two_hours_utc.astimezone(LONDON).hour == 14
    assert [" tomorrow at 4pm " in text for text in sent_reminders(runtime)] == [True, False]
    assert " today at 4pm " in sent_reminders(runtime)[1]


def test_a_cancelled_booking_gets_no_reminder(runtime):
    book(runtime, MONDAY_4PM, status=BookingStatus.CANCELLED)
    book(runtime, MONDAY_4PM, status=BookingStatus.REQUESTED, address="+447700900124")  # not confirmed yet
    assert run_at(runtime, london(2026, 11, 22, 18), london(2026, 11, 23, 14)) == 0
    assert sent_reminders(runtime) == []


def test_a_moved_booking_is_reminded_at_its_new_times_and_not_its_old(runtime):
    booking_id = book(runtime, MONDAY_4PM)
    assert run_at(runtime, london(2026, 11, 22, 18)) == 1

    move(runtime, booking_id, london(2026, 11, 24, 17, 30), at=london(2026, 11, 22, 20))  # to Tuesday 5:30pm
    assert run_at(runtime, london(2026, 11, 23, 14)) == 0, "nothing at the old time"
    assert run_at(runtime, london(2026, 11, 23, 18)) == 1
    assert run_at(runtime, london(2026, 11, 24, 15, 30)) == 1
    assert sent_reminders(runtime)[1:] == [
        "Hi, just a reminder: see you tomorrow at 5:30pm at the youth centre. Reply CHANGE to move it.",
        "Hi, just a reminder: see you today at 5:30pm at the youth centre. Reply CHANGE to move it.",
    ]


def test_a_booking_moved_back_to_its_first_time_is_not_reminded_twice(runtime):
    booking_id = book(runtime, MONDAY_4PM)
    assert run_at(runtime, london(2026, 11, 22, 18)) == 1
    move(runtime, booking_id, london(2026, 11, 23, 17), at=london(2026, 11, 22, 18, 5))
    move(runtime, booking_id, MONDAY_4PM, at=london(2026, 11, 22, 18, 10))
    assert run_at(runtime, london(2026, 11, 22, 18, 15)) == 0
    assert len(sent_reminders(runtime)) == 1


def test_someone_who_sent_stop_or_deleted_their_data_gets_none(runtime):
    book(runtime, MONDAY_4PM, opted_out=True)
    book(runtime, MONDAY_4PM, address="deleted-3f2a", channel=Channel.TELEGRAM)
    assert run_at(runtime, london(2026, 11, 22, 18), london(2026, 11, 23, 14)) == 0
    assert sent_reminders(runtime) == []


def test_a_referral_that_is_over_gets_none(runtime):
    booking_id = book(runtime, MONDAY_4PM)
    with runtime.session() as session, session.begin():
        session.get(Booking, booking_id).referral.status = ReferralStatus.CLOSED
    assert run_at(runtime, london(2026, 11, 22, 18)) == 0


def test_late_reminders_are_not_sent_once_their_moment_has_long_passed(runtime):
    book(runtime, MONDAY_4PM)
    # The worker was down from Sunday afternoon: back at 7pm, too late for "see you tomorrow" at 6pm.
    assert run_at(runtime, london(2026, 11, 22, 19)) == 0
    # Back at 3pm on Monday: an hour after "two hours before", too late as well.
    assert run_at(runtime, london(2026, 11, 23, 15)) == 0
    # After the start nothing is ever sent.
    assert run_at(runtime, london(2026, 11, 23, 16), london(2026, 11, 23, 16, 10)) == 0
    # A short hiccup is fine: within a few minutes the reminder still goes.
    book(runtime, MONDAY_4PM + timedelta(days=7), address="+447700900124")
    assert run_at(runtime, london(2026, 11, 29, 18, 10)) == 1


def test_a_booking_confirmed_after_the_evening_before_gets_only_the_two_hours_reminder(runtime):
    book(runtime, MONDAY_4PM, confirmed_at=london(2026, 11, 22, 18, 5))
    assert run_at(runtime, london(2026, 11, 22, 18, 10)) == 0
    assert run_at(runtime, london(2026, 11, 23, 14)) == 1


def test_a_booking_confirmed_shortly_before_the_start_gets_no_reminder(runtime):
    book(runtime, MONDAY_4PM, confirmed_at=london(2026, 11, 23, 13, 30))
    assert run_at(runtime, london(2026, 11, 23, 14), london(2026, 11, 23, 14, 10)) == 0


def test_no_reminder_comes_in_the_night(runtime):
    book(runtime, london(2026, 11, 23, 8, 30))  # 8:30am on Monday: two hours before is 6:30am
    assert run_at(runtime, london(2026, 11, 22, 18)) == 1
    assert run_at(runtime, london(2026, 11, 23, 6, 30)) == 0
    book(runtime, london(2026, 11, 24, 9), address="+447700900124")  # 9am on Tuesday: 7am is morning
    assert run_at(runtime, london(2026, 11, 24, 7)) == 1


def test_two_workers_running_the_job_at_once_send_each_reminder_once(runtime, monkeypatch):
    booking_ids = [book(runtime, MONDAY_4PM, address=f"+4477009001{n:02d}") for n in range(5)]
    now = london(2026, 11, 22, 18, 1)
    first_inside, let_first_go = threading.Event(), threading.Event()
    real_send = reminders._send

    def send_pausing_the_first_worker(*args):
        if threading.current_thread().name == "first" and not first_inside.is_set():
            first_inside.set()
            let_first_go.wait(30)  # holds its bookings, mid-job, until the second worker has had its go
        return real_send(*args)

    monkeypatch.setattr(reminders, "_send", send_pausing_the_first_worker)
    done: dict[str, int] = {}

    def worker() -> None:
        done[threading.current_thread().name] = send_due_reminders(runtime, now)

    first = threading.Thread(target=worker, name="first")
    second = threading.Thread(target=worker, name="second")
    first.start()
    try:
        assert first_inside.wait(30)
        second.start()
        if runtime.engine.dialect.name == "postgresql":
            second.join()  # the rows are locked: it skips them rather than wait
            assert done["second"] == 0
    finally:
        let_first_go.set()
        first.join()
        if second.ident is not None:
            second.join()

    assert done["first"] + done["second"] == 5
    assert len(sent_reminders(runtime)) == 5
    for booking_id in booking_ids:
        assert keys_of(runtime, booking_id) == ["day_before@2026-11-23T16:00:00+00:00"]


def test_the_worker_runs_the_job_on_its_clock(runtime, monkeypatch):
    book(runtime, MONDAY_4PM)
    runtime.clock = lambda: london(2026, 11, 23, 14, 1)  # the clock the worker runs its jobs on
    assert PERIODIC_JOBS["send_reminders"] is send_due_reminders
    assert run_periodic_jobs(runtime)["send_reminders"] == 1
    assert run_periodic_jobs(runtime)["send_reminders"] == 0


# --- the words ------------------------------------------------------------------------------------------------


def test_a_welsh_speaker_gets_the_reminder_in_welsh_by_sms_through_the_outbox(channels, twilio_api):
    book(channels, MONDAY_4PM, language="cy", place=PlaceKind.CAFE)
    assert run_at(channels, london(2026, 11, 22, 18)) == 1
    assert twilio_api.sent == [], "nothing is sent inside the job's transaction"

    Relay(channels).run_once()

    [text] = twilio_api.sent_to(PERSON)
    assert text == "Helo, dim ond i dy atgoffa: welwn ni di yfory am 4yp yn y caffi. Ateba NEWID i'w symud."
    assert not _alarming_words(text)
    with channels.session() as session:
        event = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == "message.reminder")).one()
        assert event.delivered_at is not None


def test_on_telegram_the_reminder_comes_in_the_chat(channels, telegram_api, quick_person):
    book(channels, MONDAY_4PM, channel=Channel.TELEGRAM, address=str(CHAT_ID), place=PlaceKind.VIDEO)
    assert run_at(channels, london(2026, 11, 23, 14)) == 1
    Relay(channels).run_once()
    [message] = telegram_api.chat(CHAT_ID).visible()
    assert message.from_bot and message.buttons == []
    assert message.text == "Hi, just a reminder: we'll video call you today at 4pm. Reply CHANGE to move it."


def test_a_phone_call_is_not_a_meeting(runtime):
    text = reminder_text(TWO_HOURS, MONDAY_4PM, "phone", "en", london(2026, 11, 23, 14), LONDON)
    assert text == "Hi, just a reminder: we'll call you today at 4pm. Reply CHANGE to move it."
    text = reminder_text(DAY_BEFORE, MONDAY_4PM, None, "cy", london(2026, 11, 22, 18), LONDON)
    assert text == "Helo, dim ond i dy atgoffa: welwn ni di yfory am 4yp. Ateba NEWID i'w symud."


def test_a_day_further_off_is_named(runtime):
    text = reminder_text(DAY_BEFORE, MONDAY_4PM, "walk", "cy", london(2026, 11, 20, 18), LONDON)
    assert "ddydd Llun 23 Tachwedd am 4yp am dro" in text
    text = reminder_text(DAY_BEFORE, MONDAY_4PM, "walk", "en", london(2026, 11, 20, 18), LONDON)
    assert "see you on Monday 23 November at 4pm for a walk" in text


@pytest.mark.parametrize("language", ["en", "cy"])
@pytest.mark.parametrize("kind", [DAY_BEFORE, TWO_HOURS])
@pytest.mark.parametrize("place", [*(kind.value for kind in PlaceKind), None])
def test_every_reminder_is_discreet_and_fits_two_sms(kind, place, language):
    longest_time = london(2026, 9, 30, 12, 30)  # a Wednesday in September, at 12:30pm
    for now in (longest_time - timedelta(days=1), longest_time - timedelta(hours=2), longest_time - timedelta(days=3)):
        text = reminder_text(kind, longest_time, place, language, now, LONDON)
        assert "{" not in text and "}" not in text
        assert sms.segments(text) <= 2, text
        assert sms.encoding(text) == "GSM-7", text
        assert not _alarming_words(text), text


def test_the_texts_file_is_checked_so_a_coordinators_slip_is_named_not_sent():
    shipped = yaml.safe_load(reminders.TEXTS_FILE.read_text(encoding="utf-8"))
    assert reminders.check_texts(shipped) == []

    shipped["day_before"]["cy"] = "Helo, dim ond i dy atgoffa: {cyfarfod}."
    shipped["meeting"]["cafe"]["en"] = "see you at the cafe"
    del shipped["when"]["tomorrow"]["cy"]
    assert reminders.check_texts(shipped) == [
        "reminders.yaml: day_before (cy) uses {cyfarfod}, which is not known here; it can use {meeting}",
        "reminders.yaml: day_before (cy) leaves out {meeting}",
        "reminders.yaml: when.tomorrow has no cy text",
        "reminders.yaml: meeting.cafe (en) leaves out {when}",
    ]


def _alarming_words(text: str) -> list[str]:
    return [word for word in ALARMING if re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE)]
