"""The whole path, over real HTTP at every edge: a young person texts the SMS webhook (Twilio's signed form
posts) and refers themselves; the relay delivers signed events to the provider's case system (a local
endpoint); the provider confirms through the API; the confirmation reaches the young person by SMS (a local
Twilio API), in their language. Nobody at the provider ever held their number.
"""

from __future__ import annotations

import hashlib
import hmac

import auxil.channels as channel_fixtures
import pytest
import requests
from auxil.provider_endpoint import WEBHOOK_SECRET, ProviderEndpoint, relay_everything, use_as_demo_webhook
from auxil.providers import demo_login, latest_referral_id
from jsonschema import Draft202012Validator

from bot.outbox.events import data_schema, envelope_schema

# The channel engineer's fixtures: the runtime with SMS on against a local Twilio, and the app on real HTTP.
channels = channel_fixtures.channels
server = channel_fixtures.server
sms_user = channel_fixtures.sms_user
telegram_api = channel_fixtures.telegram_api
twilio_api = channel_fixtures.twilio_api
PERSON = channel_fixtures.PERSON

ANSWERS = {
    "en": [
        ("Who are you?", "1"),
        ("What would you like to do?", "2"),
        ("How old are you?", "16"),
        ("When did you get back?", "yesterday"),
        ("Did the police know", "no"),
        ("Where do you live?", "home"),
        ("Which area do you live in now?", "cardiff"),
        ("Is that OK?", "yes"),
        ("Where would you like to meet?", "youth centre"),
        ("Who would you like to talk to?", "anyone"),
        ("When suits you?", "1"),
        ("trusted adult", "no"),
        ("Send this?", "yes"),
    ],
    "cy": [
        ("Pwy ydych chi?", "1"),
        ("Beth hoffet ti ei wneud?", "2"),
        ("Faint yw dy oed di?", "16"),
        ("Pryd dest ti'n ôl?", "ddoe"),
        ("Oedd yr heddlu'n gwybod", "nac oedden"),
        ("Ble rwyt ti'n byw?", "gartref"),
        ("Ym mha ardal rwyt ti'n byw nawr?", "caerdydd"),
        ("Ydy hynny'n iawn?", "ydy"),
        ("Ble hoffet ti gyfarfod?", "canolfan ieuenctid"),
        ("Gyda phwy hoffet ti siarad?", "unrhyw un"),
        ("Pryd sy'n dy siwtio di?", "1"),
        ("oedolyn", "na"),
        ("Anfon hwn?", "ie"),
    ],
}
CONFIRMED = {"en": "Your chat is booked.", "cy": "Mae dy sgwrs wedi'i threfnu."}
PLACE = {"en": "Where: Youth centre", "cy": "Ble: Canolfan ieuenctid"}


@pytest.fixture
def case_system(channels):
    with ProviderEndpoint() as endpoint:
        yield use_as_demo_webhook(channels, endpoint)


@pytest.mark.parametrize("language", ["en", "cy"])
def test_a_referral_by_sms_reaches_the_provider_and_their_confirmation_reaches_the_young_person(
    channels, server, sms_user, twilio_api, case_system, language
):
    last = "\n".join(sms_user.texts("hi" if language == "en" else "helo"))
    for question, answer in ANSWERS[language]:
        assert question in last, f"expected {question!r}, got {last!r}"
        last = "\n".join(sms_user.texts(answer))
    assert ("Sent!" if language == "en" else "Wedi anfon!") in last

    relay_everything(channels)
    types = [event["type"] for event in case_system.applied_events()]
    assert types == ["referral.created", "episode.reported", "booking.requested"]
    for receipt in case_system.received:
        t, v1 = (part.split("=", 1)[1] for part in receipt.headers["X-RHI-Signature"].split(","))
        assert hmac.compare_digest(v1, hmac.new(WEBHOOK_SECRET.encode(), f"{t}.".encode() + receipt.body,
                                                hashlib.sha256).hexdigest())  # fmt: skip
        Draft202012Validator(envelope_schema()).validate(receipt.event)
        Draft202012Validator(data_schema(receipt.event["type"])).validate(receipt.event["data"])
        assert PERSON not in receipt.body.decode() and PERSON[3:] not in receipt.body.decode()
    created = case_system.applied_events()[0]["data"]
    assert created["language"] == language and created["area"] == "cardiff"

    demo = demo_login(channels, staff=False)
    referral = latest_referral_id(channels, demo.id)
    assert created["reply_via"]["api"] == f"/api/v1/referrals/{referral}/messages"
    response = requests.post(f"{server}/api/v1/referrals/{referral}/confirm", json={}, headers=demo.auth, timeout=30)
    assert response.status_code == 200 and response.json()["young_person_told"], response.text

    relay_everything(channels)
    [sms] = twilio_api.sent_to(PERSON)
    assert sms.startswith(CONFIRMED[language]) and PLACE[language] in sms
