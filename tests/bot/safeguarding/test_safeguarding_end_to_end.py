"""Safeguarding end to end, over the real webhooks and real HTTP: the young person gets help in the same
answer, and the provider's case system receives the alert, even when it was down at the time.
"""

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from auxil.channels import (  # noqa: F401 (fixtures)
    channels,
    quick_person,
    server,
    sms_user,
    telegram_api,
    telegram_user,
    twilio_api,
)
from auxil.fake_telegram import texts
from auxil.provider_endpoint import ProviderEndpoint, use_as_demo_webhook

from bot.outbox.relay import Relay
from models import OutboxEvent, utcnow


@pytest.fixture
def provider_endpoint(runtime) -> Iterator[ProviderEndpoint]:
    with ProviderEndpoint() as endpoint:
        yield use_as_demo_webhook(runtime, endpoint)


def relay_everything(runtime) -> None:
    relay = Relay(runtime)
    while relay.run_once():
        pass


def alerts_received(endpoint: ProviderEndpoint) -> list[dict]:
    return [receipt.event for receipt in endpoint.applied.values() if receipt.event["type"] == "safeguarding.alert"]


def test_a_hit_over_sms_answers_with_999_and_samaritans_and_alerts_the_provider(channels, sms_user, provider_endpoint):
    sms_user.texts("hi")
    replies = sms_user.texts("honestly i just want to kms")
    assert "999" in replies[0] and "116 123" in replies[0]
    relay_everything(channels)
    [alert] = alerts_received(provider_endpoint)
    assert alert["data"]["categories"] == ["suicide_self_harm"]
    assert alert["data"]["severity"] == "immediate"
    assert alert["data"]["channel"] == "sms"


def test_a_hit_over_telegram_answers_with_help_and_alerts_the_provider(channels, telegram_user, provider_endpoint):
    telegram_user.sends("/start")
    seen = texts(telegram_user.sends("theres a man who keeps me at his flat and wont let me leave"))
    assert "999" in seen and "116 000" in seen  # unsafe now: 999, then the Runaway Helpline
    relay_everything(channels)
    [alert] = alerts_received(provider_endpoint)
    assert "unsafe_now" in alert["data"]["categories"] and alert["data"]["channel"] == "telegram"


def test_an_alert_raised_while_the_provider_is_down_arrives_when_it_recovers(channels, sms_user, provider_endpoint):
    provider_endpoint.refuse()
    sms_user.texts("hi")
    sms_user.texts("my stepdad hits me when hes drunk")
    relay_everything(channels)
    assert alerts_received(provider_endpoint) == []
    provider_endpoint.listen()
    with channels.session() as session, session.begin():  # time passes: the backoff runs out
        session.execute(sa.update(OutboxEvent).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    relay_everything(channels)
    [alert] = alerts_received(provider_endpoint)
    assert alert["data"]["categories"] == ["abuse_at_home"]


def for_review_received(endpoint: ProviderEndpoint) -> list[dict]:
    return [receipt.event for receipt in endpoint.applied.values() if receipt.event["type"] == "message.for_review"]


def test_over_sms_a_message_nobody_can_place_reaches_the_provider_to_be_read(channels, sms_user, provider_endpoint):
    sms_user.texts("hi")
    sms_user.texts("the bus driver shouted at everyone and it was so weird")
    relay_everything(channels)
    [event] = for_review_received(provider_endpoint)
    assert event["data"]["reason"] == "not_understood" and event["data"]["channel"] == "sms"
    assert event["data"]["text"] == "the bus driver shouted at everyone and it was so weird"


def test_over_telegram_a_concern_reaches_the_provider_to_be_read(channels, telegram_user, provider_endpoint):
    telegram_user.sends("/start")
    seen = texts(telegram_user.sends("i used to cut myself in year 8 but im ok now"))
    assert "Sorry, I didn't get that" not in seen and "read your message" in seen
    relay_everything(channels)
    [event] = for_review_received(provider_endpoint)
    assert event["data"]["reason"] == "concern" and event["data"]["channel"] == "telegram"
    assert "suicide_self_harm" in event["data"]["categories"]


def test_over_telegram_an_unplaceable_message_is_read_and_an_unread_one_renotifies(
    channels, telegram_user, provider_endpoint
):
    from bot.alerts.duty import renotify_unread
    from models import OutboxKind, Provider

    with channels.session() as session, session.begin():
        provider = session.scalars(sa.select(Provider).where(Provider.is_default.is_(True))).one()
        provider.duty_contacts = [{"channel": "sms", "address": "+447700900001"}]
    telegram_user.sends("/start")
    telegram_user.sends("whats the wifi password at the youth club")
    relay_everything(channels)
    [event] = for_review_received(provider_endpoint)
    assert event["data"]["reason"] == "not_understood" and event["data"]["channel"] == "telegram"
    assert renotify_unread(channels, utcnow() + timedelta(minutes=61)) == 1
    with channels.session() as session:
        staff = (OutboxEvent.kind == OutboxKind.CHANNEL_MESSAGE) & (OutboxEvent.type == "message.staff")
        told = session.scalars(sa.select(OutboxEvent).where(staff)).all()
    assert [event.payload["address"] for event in told] == ["+447700900001"]


@pytest.mark.parametrize(
    "first, still_away, safe, next_question",
    [
        ("hi", "I'm not back yet", "yes", "Did the police know"),
        ("hi", "im still away tbh", "yes im safe", "Did the police know"),
        ("helo", "dw i dal ddim adre", "ydw", "Oedd yr heddlu'n gwybod"),
    ],
)
def test_a_young_person_still_away_is_asked_if_they_are_safe_and_the_duty_worker_is_alerted(
    channels, sms_user, provider_endpoint, first, still_away, safe, next_question
):
    for message in (first, "1", "2", "14"):
        sms_user.texts(message)
    replies = "\n".join(sms_user.texts(still_away))
    assert replies.count("999") == 1 and replies.count("116 000") == 1  # once, however the turn came to say it
    assert replies.index("999") < replies.index("116 000")  # 999 first
    assert "safe right now?" in replies or "ddiogel ar hyn o bryd?" in replies
    relay_everything(channels)
    [alert] = alerts_received(provider_endpoint)
    assert alert["data"]["categories"] == ["unsafe_now"] and alert["data"]["severity"] == "immediate"
    # They carry on when they are ready: the alert does not stop the conversation.
    assert next_question in "\n".join(sms_user.texts(safe))


@pytest.mark.parametrize(
    "first, away, told",
    [
        ("hi", "no, still away", "telling one of our workers now"),
        ("helo", "na, dal i ffwrdd", "dweud wrth un o'n gweithwyr nawr"),
    ],
)
def test_a_parent_whose_child_is_missing_now_hears_999_and_101_first_and_the_duty_worker_is_alerted(
    channels, sms_user, provider_endpoint, first, away, told
):
    sms_user.texts(first)
    sms_user.texts("2")  # a parent or carer
    replies = "\n".join(sms_user.texts(away))
    assert replies.index("999") < replies.index("101") < replies.index(told)
    relay_everything(channels)
    [alert] = alerts_received(provider_endpoint)
    assert alert["data"]["categories"] == ["unsafe_now"] and alert["data"]["severity"] == "immediate"


def test_a_parent_whose_child_is_home_but_who_is_worried_hears_999_and_no_alert_is_raised(
    channels, sms_user, provider_endpoint
):
    sms_user.texts("hi")
    sms_user.texts("2")
    replies = "\n".join(sms_user.texts("home, but I'm worried now"))
    assert "999" in replies and "telling one of our workers" not in replies
    relay_everything(channels)
    assert alerts_received(provider_endpoint) == []


@pytest.mark.parametrize(
    "first, alarming, thanks, day, next_question",
    [
        ("hi", "i want to kill myself", "Thank you for telling me", "yesterday", "Did the police know"),
        ("helo", "dwi isio lladd fy hun", "Diolch am", "ddoe", "Oedd yr heddlu'n gwybod"),
    ],
)
def test_an_alert_the_question_cannot_place_is_answered_once_and_the_question_stays_open(
    channels, sms_user, provider_endpoint, first, alarming, thanks, day, next_question
):
    for message in (first, "1", "2", "2"):  # at "When did you get back?"
        sms_user.texts(message)
    replies = "\n".join(sms_user.texts(alarming))
    # one safety message: 999 and "thank you for telling me" once, not again as "someone will read your message"
    assert replies.count("999") == 1 and replies.count(thanks) == 1
    assert "Yesterday" in replies or "Ddoe" in replies  # the question's options, still there to pick
    relay_everything(channels)
    assert len(alerts_received(provider_endpoint)) == 1
    assert next_question in "\n".join(sms_user.texts(day))  # and they answer it when they are ready
