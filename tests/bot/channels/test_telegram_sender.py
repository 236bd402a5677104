"""Messages leaving for Telegram from the outbox: the relay, the channel_message deliverer and telegram.Bot,
against the local Bot API. Pace, Telegram's "slow down", a blocked bot, a send cut short, set-webhook."""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import timedelta

import sqlalchemy as sa
from auxil.channels import (  # noqa: F401 (fixtures)
    BOT_TOKEN,
    CHAT_ID,
    PUBLIC_BASE_URL,
    WEBHOOK_SECRET,
    channels_fixture,
    quick_person_fixture,
    server_fixture,
    telegram_api_fixture,
    telegram_user_fixture,
    twilio_api_fixture,
)

import bot.channels.telegram as telegram_channel
from bot.cli import main
from bot.outbox.delivery import enqueue_channel_message
from bot.outbox.relay import Relay, deliver_now
from conversations.interpreter import Reply
from models import Channel, Contact, OutboxEvent, utcnow


def a_contact(runtime, *, stopped: bool = False, chat_id: int = CHAT_ID) -> int:
    with runtime.session() as session, session.begin():
        contact = Contact.for_address(Channel.TELEGRAM, str(chat_id), opted_out=stopped)
        session.add(contact)
        session.flush()
        return contact.id


def enqueue(
    runtime,
    contact_id: int,
    *texts: str,
    kind: str = "reminder",
    address: str | None = None,
    options: tuple[str, ...] = (),
) -> str:
    with runtime.session() as session, session.begin():
        contact = session.get(Contact, contact_id)
        replies = [Reply(text, options) for text in texts]
        return enqueue_channel_message(session, contact, replies, kind_of_message=kind, address=address)


def event(runtime, event_id: str) -> OutboxEvent:
    with runtime.session() as session:
        return session.get(OutboxEvent, event_id)


def make_due(runtime) -> None:
    with runtime.session() as session, session.begin():
        session.execute(sa.update(OutboxEvent).values(next_attempt_at=utcnow()))


def sent_texts(telegram_api, chat_id: int = CHAT_ID) -> list[str]:
    return [call["text"] for call in telegram_api.calls_to("sendMessage") if int(call["chat_id"]) == chat_id]


def test_a_reminder_reaches_the_person_with_its_options_as_buttons(channels, telegram_api):
    contact = a_contact(channels)
    event_id = enqueue(channels, contact, "Your chat is tomorrow at 4pm. Still OK?", options=("Yes", "No"))
    [attempt] = deliver_now(channels, [event_id])
    assert attempt.delivered
    [message] = telegram_api.chat(CHAT_ID).visible()
    assert (message.text, message.buttons) == ("Your chat is tomorrow at 4pm. Still OK?", ["Yes", "No"])
    assert event(channels, event_id).external_id == str(message.message_id)


def test_nothing_but_the_bots_own_replies_goes_to_someone_who_stopped(channels, telegram_api):
    contact = a_contact(channels, stopped=True)
    reminder = enqueue(channels, contact, "Your chat is tomorrow at 4pm.")
    confirmation = enqueue(channels, contact, "OK, you won't get any more messages from us.", kind="reply")
    attempts = {attempt.event_id: attempt for attempt in deliver_now(channels, [reminder])}
    assert attempts[reminder].dead
    deliver_now(channels, [confirmation])
    assert sent_texts(telegram_api) == ["OK, you won't get any more messages from us."]


def test_a_message_with_its_own_address_goes_there(channels, telegram_api):
    contact = a_contact(channels)
    event_id = enqueue(channels, contact, "Done. Your messages and details have been deleted.", address="2222222")
    deliver_now(channels, [event_id])
    assert sent_texts(telegram_api, 2222222) == ["Done. Your messages and details have been deleted."]
    assert sent_texts(telegram_api) == []


def test_when_telegram_says_slow_down_the_relay_waits_as_long_as_it_was_told(channels, telegram_api):
    contact = a_contact(channels)
    event_id = enqueue(channels, contact, "Your chat is tomorrow at 4pm.")
    telegram_api.fail_next("sendMessage", 429, "Too Many Requests: retry after 30", retry_after=30)
    [attempt] = deliver_now(channels, [event_id])
    assert not attempt.delivered and not attempt.dead
    waiting = event(channels, event_id)
    assert waiting.next_attempt_at >= utcnow() + timedelta(seconds=29)
    assert waiting.last_error == "Telegram asked the bot to slow down"


def test_a_person_who_blocked_the_bot_is_marked_stopped_and_not_tried_again(channels, telegram_api):
    contact = a_contact(channels)
    telegram_api.blocked_by.add(CHAT_ID)
    event_id = enqueue(channels, contact, "Your chat is tomorrow at 4pm.")
    [attempt] = deliver_now(channels, [event_id])
    assert attempt.dead
    assert event(channels, event_id).last_error == "the person has blocked the bot"
    with channels.session() as session:
        assert session.get(Contact, contact).opted_out


def test_a_send_cut_short_carries_on_where_it_stopped_without_repeating_itself(channels, telegram_api):
    contact = a_contact(channels)
    event_id = enqueue(channels, contact, "one", "two", "three", kind="reply")
    telegram_api.fail_next("sendMessage", 502, "Bad Gateway", after=1)  # "two" does not get through
    [attempt] = deliver_now(channels, [event_id])
    assert not attempt.delivered
    make_due(channels)
    Relay(channels).run_once()
    assert sent_texts(telegram_api) == ["one", "two", "two", "three"]
    assert [m.text for m in telegram_api.chat(CHAT_ID).visible()] == ["one", "two", "three"]
    assert event(channels, event_id).delivered_at is not None


def test_one_chat_gets_a_short_burst_then_about_a_message_a_second(channels, telegram_api):
    contact = a_contact(channels)
    deliver_now(channels, [enqueue(channels, contact, *[f"message {n}" for n in range(1, 7)], kind="reply")])
    assert len(sent_texts(telegram_api)) == 6
    times = telegram_api.times_of("sendMessage")
    assert times[4] - times[0] < 0.5  # five at once
    # then one a second: the sixth goes when the first of the burst has been paid back, a second after it
    assert 0.9 < times[5] - times[0] < 1.5


def test_a_message_that_would_wait_too_long_for_its_turn_is_left_to_the_relay(channels, telegram_api, monkeypatch):
    monkeypatch.setattr(telegram_channel, "MAX_WAIT_SECONDS", 0.2)
    contact = a_contact(channels)
    event_id = enqueue(channels, contact, *[f"message {n}" for n in range(1, 7)], kind="reply")
    [attempt] = deliver_now(channels, [event_id])
    assert not attempt.delivered
    waiting = event(channels, event_id)
    assert waiting.last_error == "waiting for Telegram's send rate limit"
    assert waiting.next_attempt_at > utcnow() + timedelta(seconds=0.5)
    assert len(sent_texts(telegram_api)) == 5
    time.sleep(1.0)
    make_due(channels)
    Relay(channels).run_once()
    assert sent_texts(telegram_api) == [f"message {n}" for n in range(1, 7)]


def test_other_chats_are_not_held_up_by_a_busy_one(channels, telegram_api):
    busy, other = a_contact(channels), a_contact(channels, chat_id=3333333)
    deliver_now(channels, [enqueue(channels, busy, *[f"message {n}" for n in range(5)], kind="reply")])
    started = time.monotonic()
    deliver_now(channels, [enqueue(channels, other, "hello", kind="reply")])
    assert time.monotonic() - started < 0.5
    assert sent_texts(telegram_api, 3333333) == ["hello"]


def test_set_webhook_registers_the_url_the_secret_and_only_the_updates_used(
    channels, telegram_api, monkeypatch, capsys
):
    for name, value in {
        "RHI_DATABASE_URL": channels.settings.database_url,
        "RHI_DATA_KEY": ",".join(channels.settings.data_keys),
        "RHI_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "RHI_TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "RHI_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "RHI_TELEGRAM_API_BASE_URL": telegram_api.base_url,
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["telegram", "set-webhook"]) == 0
    assert telegram_api.webhook == {
        "url": f"{PUBLIC_BASE_URL}/webhooks/telegram",
        "secret_token": WEBHOOK_SECRET,
        "allowed_updates": ["message", "callback_query", "my_chat_member"],
    }
    assert f"{PUBLIC_BASE_URL}/webhooks/telegram" in capsys.readouterr().out


def test_set_webhook_without_a_public_url_stops_with_one_line_naming_it(monkeypatch, capsys):
    monkeypatch.setenv("RHI_TELEGRAM_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("RHI_TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.delenv("RHI_PUBLIC_BASE_URL", raising=False)
    assert main(["telegram", "set-webhook"]) == 2
    assert capsys.readouterr().err == "error: the setting RHI_PUBLIC_BASE_URL is required here but is not set\n"


def test_the_logs_of_a_conversation_hold_no_chat_id_and_no_words(channels, telegram_user, telegram_api, caplog):
    caplog.set_level(logging.DEBUG, logger="bot")
    caplog.set_level(logging.DEBUG, logger="webhooks")
    caplog.set_level(logging.INFO)
    telegram_user.sends("hi")
    telegram_user.taps("I'm a young person")
    telegram_user.sends("i dont want to go home")
    telegram_api.blocked_by.add(CHAT_ID)
    telegram_user.sends("/help")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert str(CHAT_ID) not in logged
    assert BOT_TOKEN not in logged
    for words in ("i dont want to go home", "young person", "Who are you"):
        assert words not in logged


def test_a_relay_without_the_telegram_settings_keeps_the_message_for_one_that_has_them(channels, telegram_api):
    contact = a_contact(channels)
    channels.settings = dataclasses.replace(channels.settings, telegram_bot_token=None)
    event_id = enqueue(channels, contact, "Your chat is tomorrow at 4pm.")
    [attempt] = deliver_now(channels, [event_id])
    assert not attempt.delivered and not attempt.dead
    assert event(channels, event_id).last_error == "the setting RHI_TELEGRAM_BOT_TOKEN is required here but is not set"


def test_a_bot_api_that_does_not_answer_leaves_the_reply_in_the_outbox(channels, telegram_api, telegram_user):
    telegram_api.__exit__()  # Telegram is down
    telegram_user.sends("hi")
    assert telegram_user.last_status == 200  # the message itself is safe: committed, waiting to be sent
    with channels.session() as session:
        [waiting] = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.kind == "channel_message")).all()
        assert waiting.delivered_at is None and "Telegram did not answer" in waiting.last_error
