"""Two young people choosing the same time at the same moment: exactly one gets it, the other is told
kindly that it has just gone and offered the next ones. Real threads against the real database (PostgreSQL
when RHI_TEST_DATABASE_URL is set: the production case, with real concurrent transactions)."""

from __future__ import annotations

import threading
from datetime import timedelta

import auxil.channels as channel_fixtures
import pytest
import sqlalchemy as sa
from auxil.fake_twilio import SmsUser
from conftest import Conversation

import bot.booking.offer as booking_module
import bot.conversation.effects
from bot.booking.offer import take_slot
from bot.conversation.dispatcher import Dispatcher
from models import Booking, BookingStatus, Slot, SlotStatus, Worker, utcnow

channels = channel_fixtures.channels
server = channel_fixtures.server
telegram_api = channel_fixtures.telegram_api
twilio_api = channel_fixtures.twilio_api
PUBLIC_BASE_URL = channel_fixtures.PUBLIC_BASE_URL

UP_TO_SUMMARY = ["hi", "1", "2", "2", "yesterday", "no", "home", "cardiff", "yes", "cafe", "anyone", "1", "no"]
WAIT_FOR_LOCK_POLLS = 200
BLIND_LOOKS = 2
ROUNDS = 3  # each round a fresh pair of people and a fresh time: one lucky interleaving proves little


def one_time_free(runtime, hours: int) -> tuple[int, int]:
    """Only Tom's time in ``hours`` (the one both will choose) and one later time, for the loser."""
    with runtime.session() as session, session.begin():
        session.execute(sa.delete(Slot).where(Slot.status == SlotStatus.OPEN))
        tom = session.scalars(sa.select(Worker).where(Worker.display_name == "Tom")).one()
        starts = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)
        wanted = Slot(worker=tom, starts_at=starts, ends_at=starts + timedelta(hours=1))
        spare = Slot(worker=tom, starts_at=starts + timedelta(hours=1), ends_at=starts + timedelta(hours=2))
        session.add_all([wanted, spare])
        session.flush()
        return wanted.id, spare.id


def at_the_same_moment(people: list[SmsUser], message: str) -> list[str]:
    barrier = threading.Barrier(len(people))
    answers: list[str | None] = [None] * len(people)

    def send(n: int) -> None:
        barrier.wait()
        answers[n] = "\n".join(people[n].texts(message))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(people))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [answer or "" for answer in answers]


def test_two_people_sending_the_same_time_at_once_one_gets_it_the_other_is_offered_the_next(channels, server):
    for round_ in range(ROUNDS):
        wanted, spare = one_time_free(channels, hours=5 + 2 * round_)
        people = [
            SmsUser(f"{server}/webhooks/sms", f"{PUBLIC_BASE_URL}/webhooks/sms", f"+4477009002{round_}{n}")
            for n in range(2)
        ]
        for person in people:
            for message in UP_TO_SUMMARY:
                person.texts(message)
        answers = at_the_same_moment(people, "yes")
        sent = [answer for answer in answers if "Sent!" in answer]
        gone = [answer for answer in answers if "someone else has just booked that time" in answer]
        assert len(sent) == 1 and len(gone) == 1, answers
        assert "When suits you?" in gone[0] and "1. " in gone[0], "the next times are offered at once"
        with channels.session() as session:
            live = session.scalars(
                sa.select(Booking.slot_id).where(Booking.status != BookingStatus.CANCELLED, Booking.slot_id == wanted)
            ).all()
            assert live == [wanted]
            assert session.get(Slot, wanted).status == SlotStatus.HELD
            assert session.get(Slot, spare).status == SlotStatus.OPEN
        loser = people[answers.index(gone[0])]
        loser.texts("1")
        assert "Sent!" in "\n".join(loser.texts("yes"))
        with channels.session() as session:
            assert session.get(Slot, spare).status == SlotStatus.HELD


def test_a_second_transaction_waits_for_the_first_and_then_finds_the_slot_gone(runtime, database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite lets one transaction write at a time: the second cannot start until the first ends")
    wanted, _ = one_time_free(runtime, hours=5)
    now = utcnow()
    results: list[object] = []
    with runtime.session() as first, first.begin():
        assert take_slot(first, wanted, now) is not None  # held, not yet committed: the row is locked

        def second() -> None:
            with runtime.session() as session, session.begin():
                results.append(take_slot(session, wanted, now))

        thread = threading.Thread(target=second)
        thread.start()
        waiting = 0
        for _ in range(WAIT_FOR_LOCK_POLLS):  # until the second transaction is seen waiting on the row lock
            with runtime.engine.connect() as watcher:
                waiting = watcher.scalar(
                    sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                )
            if waiting or results:
                break
            threading.Event().wait(0.05)
        assert not results, "the second transaction went ahead without waiting for the first one's lock"
        assert waiting
    thread.join()
    assert results == [None]
    with runtime.session() as session:
        assert session.get(Slot, wanted).status == SlotStatus.HELD


def test_the_database_refuses_two_live_bookings_on_one_slot(runtime):
    wanted, _ = one_time_free(runtime, hours=5)
    sam = Conversation(Dispatcher(runtime), "sms", "+447700900601")
    sam.says(*UP_TO_SUMMARY, "yes")
    with runtime.session() as session:
        referral_id = session.scalars(sa.select(Booking.referral_id)).one()
    with pytest.raises(sa.exc.IntegrityError), runtime.session() as session, session.begin():
        session.add(Booking(referral_id=referral_id, slot_id=wanted, status=BookingStatus.REQUESTED))


def test_a_message_retried_after_the_index_refused_it_finds_the_time_gone(runtime, monkeypatch):
    """The unique index is the last line: the dispatcher retries the message, and the retry sees it gone."""
    wanted, _ = one_time_free(runtime, hours=5)
    sam = Conversation(Dispatcher(runtime), "sms", "+447700900602")
    sam.says(*UP_TO_SUMMARY, "yes")
    with runtime.session() as session, session.begin():
        session.get(Slot, wanted).status = SlotStatus.OPEN  # as if a worker's edit had reopened a held time
    real_still_open = booking_module.still_open
    looks: list[str] = []

    def blind_twice(session, slot_id, now):  # Dee's choice and first try do not see Sam's booking; then real
        if len(looks) < BLIND_LOOKS:
            looks.append("blind")
            return session.get(Slot, slot_id)
        looks.append("real")
        return real_still_open(session, slot_id, now)

    dee = Conversation(Dispatcher(runtime), "sms", "+447700900603")
    dee.says(*UP_TO_SUMMARY[:-2])
    monkeypatch.setattr(booking_module, "still_open", blind_twice)
    monkeypatch.setattr(bot.conversation.effects, "still_open", blind_twice)
    dee.says("1", "no")
    replies = dee("yes")
    assert looks == ["blind", "blind", "real"], "the first try hit the unique index and the message was tried again"
    assert "someone else has just booked that time" in replies[0] and "When suits you?" in replies[-1]
    with runtime.session() as session:
        live = session.scalars(sa.select(Booking).where(Booking.status != BookingStatus.CANCELLED)).all()
        assert [booking.slot_id for booking in live] == [wanted]
