"""What "delete my data" leaves, end to end: a young person talks over SMS or Telegram, says something that raises an
alert and something nobody can place, the provider receives both, then they delete their data. Afterwards no
table holds their words, their number or chat id, or the channel's ids of their messages (which would find
the number again in Twilio's or Telegram's logs), and nothing of them was logged; the provider keeps the
alert's category, severity and times.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from auxil.channels import (  # noqa: F401 (fixtures)
    CHAT_ID,
    PERSON,
    channels_fixture,
    quick_person_fixture,
    server_fixture,
    sms_user_fixture,
    telegram_api_fixture,
    telegram_user_fixture,
    twilio_api_fixture,
)
from auxil.fake_telegram import texts
from auxil.fake_twilio import twiml_messages
from auxil.provider_endpoint import ProviderEndpoint, use_as_demo_webhook
from auxil.providers import self_referral

from bot.demo import DEMO_PROVIDER_SLUG
from bot.outbox.relay import Relay
from models import Base, Escalation, OutboxEvent, Provider

ALERT = "I want to kill myself tonight"
MATCHED = "kill myself"  # the lexicon's phrase, kept in an escalation's ``matches``
NOT_PLACED = "the bus driver shouted at everyone and it was so weird"
THEIR_WORDS = (ALERT, MATCHED, NOT_PLACED)


@pytest.fixture
def provider_endpoint(channels) -> Iterator[ProviderEndpoint]:
    """The provider's case system; the provider asked to be given the young person's address too."""
    with ProviderEndpoint() as endpoint:
        use_as_demo_webhook(channels, endpoint)
        with channels.session() as session, session.begin():
            provider = session.scalars(sa.select(Provider).where(Provider.slug == DEMO_PROVIDER_SLUG)).one()
            provider.share_contact_address = True
        yield endpoint


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def relay_everything(runtime) -> None:
    relay = Relay(runtime)
    while relay.run_once():
        pass


def received(endpoint: ProviderEndpoint, event_type: str) -> list[dict[str, Any]]:
    return [receipt.event for receipt in endpoint.applied.values() if receipt.event["type"] == event_type]


def _values(value: Any) -> Iterator[str]:
    """Every scalar inside a column's value (JSON walked through), as text."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _values(item)
    elif value is not None:
        yield str(value)


def everything_stored(runtime) -> list[tuple[str, str, str]]:
    """(table, column, text) for every value of every row of every table, encrypted columns opened (a
    table's own column types decrypt them as they are read)."""
    found = []
    with runtime.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    found.extend((table.name, column, text) for text in _values(value))
    return found


def where_found(runtime, needles: list[str]) -> list[tuple[str, str, str]]:
    """Where any of ``needles`` is stored (ignoring case), as (table, column, needle)."""
    stored = everything_stored(runtime)
    addresses = [text for table, column, text in stored if (table, column) == ("contacts", "address")]
    assert addresses and all(address.startswith(("+", "1", "deleted-")) for address in addresses), "read opened"
    return sorted(
        {
            (table, column, needle)
            for table, column, text in stored
            for needle in needles
            if needle.casefold() in text.casefold()
        }
    )


def logged_with(caplog: pytest.LogCaptureFixture, needles: list[str]) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if any(needle.casefold() in record.getMessage().casefold() for needle in needles)
    ]


def the_alert_kept(runtime) -> Escalation:
    with runtime.session() as session:
        [escalation] = session.scalars(sa.select(Escalation)).all()
        session.expunge(escalation)
        return escalation


def test_over_sms_delete_my_data_leaves_nothing_of_their_words_their_number_or_their_messages_ids(
    channels, sms_user, provider_endpoint, everything_logged
):
    sids = []

    def texts_(body: str) -> list[str]:
        fields = sms_user.form(body)
        sids.append(fields["MessageSid"])
        response = sms_user.post(fields)
        assert response.status_code == 200
        return twiml_messages(response.text)

    for answer in self_referral():
        texts_(answer)
    assert "999" in "".join(texts_(ALERT))
    texts_(NOT_PLACED)
    relay_everything(channels)
    # the provider was told all of it: the referral (with the number, as it asked), the alert, the message
    assert received(provider_endpoint, "referral.created")[0]["data"]["contact_address"] == PERSON
    assert received(provider_endpoint, "safeguarding.alert")[0]["data"]["excerpt"] == ALERT
    assert received(provider_endpoint, "message.for_review")[0]["data"]["text"] == NOT_PLACED
    assert where_found(channels, [ALERT, NOT_PLACED, PERSON[1:], *sids]) != []  # the search finds them before

    texts_("delete my data")
    assert "deleted" in "".join(texts_("yes"))
    relay_everything(channels)

    assert where_found(channels, [*THEIR_WORDS, PERSON[1:], *sids]) == []
    assert logged_with(everything_logged, [*THEIR_WORDS, PERSON[1:], *sids]) == []
    # the provider keeps the safeguarding record: what it was about, how serious, when
    alert = the_alert_kept(channels)
    assert (alert.category, alert.severity, alert.created_at is not None) == ("suicide_self_harm", "immediate", True)
    # what the provider was sent keeps its shape: it validates and keeps its ids
    with channels.session() as session:
        kept = {event.type: event.payload for event in session.scalars(sa.select(OutboxEvent))}
    assert kept["safeguarding.alert"]["data"]["escalation_ids"] == [alert.id]
    assert kept["message.for_review"]["data"]["contact"].startswith("c_")


def test_over_telegram_delete_my_data_leaves_nothing_of_their_words_their_chat_or_their_messages_ids(
    channels, telegram_api, telegram_user, provider_endpoint, everything_logged
):
    # Telegram's ids are numbers: these are made long enough that no other value in the database is one.
    first_message_id, first_update_id = 7_340_000_001, 880_000_000_001
    telegram_api._message_ids = itertools.count(first_message_id)
    telegram_api._update_ids = itertools.count(first_update_id)

    for answer in self_referral():
        telegram_user.sends(answer)
    assert "999" in texts(telegram_user.sends(ALERT))
    telegram_user.sends(NOT_PLACED)
    relay_everything(channels)
    assert received(provider_endpoint, "referral.created")[0]["data"]["contact_address"] == str(CHAT_ID)
    assert received(provider_endpoint, "safeguarding.alert")[0]["data"]["excerpt"] == ALERT

    telegram_user.sends("delete my data")
    assert "have been deleted" in texts(telegram_user.taps("Yes, delete them"))  # the last message still goes
    relay_everything(channels)

    ids = [
        str(n)
        for n in [
            *range(first_message_id, telegram_api.new_message_id()),
            *range(first_update_id, telegram_api.new_update_id()),
        ]
    ]
    assert len(ids) > 40
    assert where_found(channels, [*THEIR_WORDS, str(CHAT_ID), *ids]) == []
    assert logged_with(everything_logged, [*THEIR_WORDS, str(CHAT_ID), *ids]) == []
    alert = the_alert_kept(channels)
    assert (alert.category, alert.severity) == ("suicide_self_harm", "immediate")


def test_an_alert_in_the_message_that_confirms_deletion_is_recorded_without_its_words(
    runtime, young_person, provider_endpoint
):
    young_person.says("hi", "1", "delete my data")
    young_person(f"yes. {ALERT}")
    relay_everything(runtime)
    assert where_found(runtime, [*THEIR_WORDS, young_person.address[1:]]) == []
    [alert] = received(provider_endpoint, "safeguarding.alert")
    assert alert["data"]["categories"] == ["suicide_self_harm"] and alert["data"]["excerpt"] == ""
    json.dumps(alert)  # a whole event, as any other


def test_over_telegram_the_last_reply_still_goes_after_telegram_was_down_and_replies_never_sent_are_dropped(
    channels, telegram_api, telegram_user
):
    telegram_user.sends("/start")
    telegram_user.sends("delete my data")
    telegram_api.fail_next("sendMessage", 502, "Bad Gateway")
    telegram_user.sends(NOT_PLACED)  # its answer waits in the outbox: Telegram is down
    telegram_api.fail_next("sendMessage", 502, "Bad Gateway")
    assert telegram_user.taps("Yes, delete them") == []  # so does the last one
    with channels.session() as session, session.begin():  # time passes: Telegram is back, the backoff runs out
        session.execute(sa.update(OutboxEvent).values(next_attempt_at=channels.clock()))
    relay_everything(channels)

    seen = texts(telegram_user.new_messages())
    assert "have been deleted" in seen and "read your message" not in seen  # the answer to their words: never sent
    with channels.session() as session:
        waiting = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.delivered_at.is_(None))).all()
    assert waiting == []  # nothing left to retry and nothing dead-lettered
    assert where_found(channels, [NOT_PLACED, str(CHAT_ID)]) == []


def test_over_telegram_the_last_reply_to_someone_who_blocked_the_bot_forgets_their_chat_when_it_gives_up(
    channels, telegram_api, telegram_user
):
    telegram_user.sends("/start")
    telegram_user.sends("delete my data")
    telegram_api.blocked_by.add(CHAT_ID)
    telegram_user.taps("Yes, delete them")
    relay_everything(channels)
    with channels.session() as session:
        [last] = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.delivered_at.is_(None))).all()
    assert last.dead_at is not None  # it never went, and never will
    assert where_found(channels, [str(CHAT_ID)]) == []
