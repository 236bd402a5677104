"""No input gets a 500: anything at all in the two webhook bodies, properly authenticated so that it gets past
the door, is answered 200 (handled or ignored) or 400 (not a delivery), never a server error; and a 400
stores nothing, anywhere."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from auxil.channels import (  # noqa: F401 (fixtures)
    PUBLIC_BASE_URL,
    WEBHOOK_SECRET,
    channels_fixture,
    client_fixture,
    quick_person_fixture,
    telegram_api_fixture,
    twilio_api_fixture,
)
from auxil.fake_telegram import fixture
from auxil.fake_twilio import form_fixture, sign
from auxil.records import everything_stored
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.channels.telegram as telegram_channel

TELEGRAM_FIXTURES = [
    "text_message",
    "start_with_payload",
    "callback_query",
    "edited_message",
    "photo",
    "sticker",
    "voice",
    "blocked",
    "group_message",
]
TWILIO_FIXTURES = ["sms", "mms_no_body", "emoji", "long_1600", "stop_opt_out"]
EXAMPLES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

any_text = st.text(st.characters(exclude_categories=()), max_size=30)  # lone surrogates and NULs too
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with some of its parts replaced by anything JSON can hold, or removed."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            choice = draw(st.integers(0, 9))
            if choice == 0:
                continue  # the field is missing
            result[key] = draw(json_values) if choice == 1 else draw(mutated(item))
        return result
    if isinstance(value, list):
        return [draw(mutated(item)) for item in value]
    return draw(json_values) if draw(st.integers(0, 7)) == 0 else value


telegram_bodies = st.one_of(
    st.sampled_from(TELEGRAM_FIXTURES).flatmap(lambda name: mutated(fixture(name))).map(json.dumps),
    json_values.map(json.dumps),
    st.binary(max_size=200),
)


@pytest.fixture
def fast_bot(monkeypatch: pytest.MonkeyPatch, quick_person: None) -> None:
    """Hundreds of updates in seconds: no pace, so the test measures the webhook, not the sleeping."""
    monkeypatch.setattr(telegram_channel, "OVERALL", (0.0001, 30))


@EXAMPLES
@given(body=telegram_bodies)
def test_no_telegram_body_gets_a_server_error(channels, client, fast_bot, body):
    before = everything_stored(channels)
    response = client.post(
        "/webhooks/telegram",
        data=body,
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
    )
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert everything_stored(channels) == before


form_fields = st.dictionaries(
    st.sampled_from(
        ["Body", "From", "MessageSid", "SmsSid", "NumMedia", "OptOutType", "To", "MessageStatus", "ErrorCode"]
    )
    | st.text(max_size=10),
    st.text(max_size=60),
    max_size=6,
)
twilio_forms = st.one_of(
    st.tuples(st.sampled_from(TWILIO_FIXTURES).map(form_fixture), form_fields).map(lambda pair: {**pair[0], **pair[1]}),
    form_fields,
)


@EXAMPLES
@given(fields=twilio_forms, status=st.booleans())
def test_no_twilio_form_gets_a_server_error(channels, client, fields, status):
    path = "/webhooks/sms/status" if status else "/webhooks/sms"
    before = everything_stored(channels)
    response = client.post(
        path,
        data=urlencode(fields),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sign(f"{PUBLIC_BASE_URL}{path}", fields)},
    )
    assert response.status_code in ((204, 400) if status else (200, 400))
    if response.status_code == 400:
        assert everything_stored(channels) == before


@st.composite
def recut(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, str]]:
    """A real delivery and the same request cut again at another boundary: one field's value swallows the
    name and value of the field after it (Twilio signs keys and values joined with nothing between them, so
    the signature still fits)."""
    fields = form_fixture(draw(st.sampled_from(TWILIO_FIXTURES)))
    keys = sorted(fields)
    at = draw(st.integers(0, len(keys) - 2))
    key, swallowed = keys[at], keys[at + 1]
    again = {name: value for name, value in fields.items() if name != swallowed}
    again[key] = f"{fields[key]}{swallowed}{fields[swallowed]}"
    return fields, again


@EXAMPLES
@given(delivery=recut())
def test_a_delivery_cut_again_anywhere_stores_nothing_new(channels, client, delivery):
    fields, again = delivery
    url = f"{PUBLIC_BASE_URL}/webhooks/sms"
    assert sign(url, again) == sign(url, fields)
    signed = {"X-Twilio-Signature": sign(url, fields)}
    form = "application/x-www-form-urlencoded"
    assert client.post("/webhooks/sms", data=urlencode(fields), content_type=form, headers=signed).status_code == 200
    before = everything_stored(channels)

    response = client.post("/webhooks/sms", data=urlencode(again), content_type=form, headers=signed)

    assert response.status_code in (200, 400)  # 200: still the same delivery, answered as before
    assert everything_stored(channels) == before
