"""SMS that are not a direct reply (a reminder, a provider's confirmation) leave from the outbox through
twilio's REST client, at RHI_TWILIO_API_BASE_URL: here, the local Twilio API."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import sqlalchemy as sa
from auxil.channels import (  # noqa: F401 (fixtures)
    PERSON,
    PUBLIC_BASE_URL,
    channels_fixture,
    telegram_api_fixture,
    twilio_api_fixture,
)

from bot.outbox.delivery import enqueue_channel_message
from bot.outbox.relay import Relay, deliver_now
from conversations.interpreter import Reply
from models import Channel, Contact, OutboxEvent, utcnow


def a_contact(runtime, *, stopped: bool = False, language: str = "en") -> int:
    with runtime.session() as session, session.begin():
        contact = Contact.for_address(Channel.SMS, PERSON, opted_out=stopped, language=language)
        session.add(contact)
        session.flush()
        return contact.id


def enqueue(runtime, contact_id: int, *replies: Reply, kind: str = "reminder", address: str | None = None) -> str:
    with runtime.session() as session, session.begin():
        contact = session.get(Contact, contact_id)
        return enqueue_channel_message(session, contact, replies, kind_of_message=kind, address=address)


def event(runtime, event_id: str) -> OutboxEvent:
    with runtime.session() as session:
        return session.get(OutboxEvent, event_id)


def test_a_reminder_is_sent_through_twilio_as_a_numbered_list_with_a_status_callback(channels, twilio_api):
    contact = a_contact(channels)
    event_id = enqueue(channels, contact, Reply("Your chat is tomorrow at 4pm. Still OK?", ("Yes", "No")))
    [attempt] = deliver_now(channels, [event_id])
    assert attempt.delivered
    [sms] = twilio_api.sent
    assert (sms.to, sms.body) == (PERSON, "Your chat is tomorrow at 4pm. Still OK?\n1. Yes\n2. No")
    assert sms.status_callback == f"{PUBLIC_BASE_URL}/webhooks/sms/status"
    assert event(channels, event_id).external_id == sms.sid


def test_nothing_is_sent_to_a_number_that_has_stopped(channels, twilio_api):
    contact = a_contact(channels, stopped=True)
    [attempt] = deliver_now(channels, [enqueue(channels, contact, Reply("Your chat is tomorrow at 4pm."))])
    assert attempt.dead
    assert twilio_api.sent == []


def test_the_last_message_after_delete_my_data_goes_to_the_address_it_carries(channels, twilio_api):
    contact = a_contact(channels)
    with channels.session() as session, session.begin():  # what "delete my data" leaves behind
        row = session.get(Contact, contact)
        row.address = "deleted-0123456789abcdef"
    deliver_now(channels, [enqueue(channels, contact, Reply("Done."), kind="reply", address=PERSON)])
    assert twilio_api.sent_to(PERSON) == ["Done."]


def test_error_21610_marks_the_number_stopped_and_is_not_tried_again(channels, twilio_api):
    contact = a_contact(channels)
    twilio_api.fail_next(400, 21610, "Attempt to send to unsubscribed recipient")
    event_id = enqueue(channels, contact, Reply("Your chat is tomorrow at 4pm."))
    [attempt] = deliver_now(channels, [event_id])
    assert attempt.dead
    assert event(channels, event_id).last_error == "the number has texted STOP (Twilio 21610)"
    with channels.session() as session:
        assert session.get(Contact, contact).opted_out


def test_twilio_busy_or_down_is_tried_again_later_and_the_reason_names_no_number(channels, twilio_api):
    contact = a_contact(channels)
    twilio_api.fail_next(429, 20429, "Too Many Requests")
    event_id = enqueue(channels, contact, Reply("Your chat is tomorrow at 4pm."))
    [attempt] = deliver_now(channels, [event_id])
    assert not attempt.delivered and not attempt.dead
    assert event(channels, event_id).last_error == "Twilio answered HTTP 429 (Twilio 20429)"
    with channels.session() as session, session.begin():
        session.execute(sa.update(OutboxEvent).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    Relay(channels).run_once()
    assert twilio_api.sent_to(PERSON) == ["Your chat is tomorrow at 4pm."]


def test_a_number_twilio_cannot_reach_is_given_up_on(channels, twilio_api):
    contact = a_contact(channels)
    twilio_api.fail_next(400, 21211, f"The 'To' number {PERSON} is not a valid phone number.")
    event_id = enqueue(channels, contact, Reply("Your chat is tomorrow at 4pm."))
    assert deliver_now(channels, [event_id])[0].dead
    assert PERSON not in event(channels, event_id).last_error


def test_a_send_cut_short_carries_on_without_repeating_what_went(channels, twilio_api):
    contact = a_contact(channels)
    long_reply = Reply(" ".join(["This sentence is here to make the message long enough to split."] * 12))
    event_id = enqueue(channels, contact, long_reply)
    twilio_api.fail_next(500, 20500, "Internal Server Error", after=1)  # the second part does not go
    assert not deliver_now(channels, [event_id])[0].delivered
    with channels.session() as session, session.begin():
        session.execute(sa.update(OutboxEvent).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    Relay(channels).run_once()
    parts = twilio_api.sent_to(PERSON)
    assert len(parts) == 2 and " ".join(parts) == long_reply.text
    assert event(channels, event_id).delivered_at is not None


def test_a_messaging_service_sends_when_one_is_configured(channels, twilio_api):
    channels.settings = dataclasses.replace(channels.settings, twilio_from="MG" + "1" * 32)
    contact = a_contact(channels)
    assert deliver_now(channels, [enqueue(channels, contact, Reply("Hello."))])[0].delivered
    assert twilio_api.sent_to(PERSON) == ["Hello."]


def test_the_wrong_credentials_are_retried_not_given_up_on(channels, twilio_api):
    channels.settings = dataclasses.replace(channels.settings, twilio_auth_token="not-the-token")
    contact = a_contact(channels)
    [attempt] = deliver_now(channels, [enqueue(channels, contact, Reply("Hello."))])
    assert not attempt.delivered and not attempt.dead
