"""POST /webhooks/sms and /webhooks/sms/status: Twilio's real form posts (tests/fixtures/twilio), signed with
twilio's own RequestValidator, through the real app. Forged, repeated and odd deliveries included."""

from __future__ import annotations

import threading
from urllib.parse import urlencode

import pytest
import requests
import sqlalchemy as sa
from auxil.channels import (  # noqa: F401 (fixtures)
    PERSON,
    PUBLIC_BASE_URL,
    channels_fixture,
    client_fixture,
    count,
    server_fixture,
    sms_user_fixture,
    telegram_api_fixture,
    twilio_api_fixture,
)
from auxil.fake_twilio import form_fixture, sign, twiml_messages
from werkzeug.datastructures import MultiDict

from models import Channel, Contact, Escalation, InboundEvent, Message, OutboxEvent

URL = f"{PUBLIC_BASE_URL}/webhooks/sms"
STATUS_URL = f"{PUBLIC_BASE_URL}/webhooks/sms/status"


def post(client, fields: dict[str, str], *, url: str = URL, path: str = "/webhooks/sms", signature: str | None = None):
    return client.post(
        path,
        data=urlencode(fields),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature if signature is not None else sign(url, fields)},
    )


def sids(sid: str) -> dict[str, str]:
    """A message's sid in each of the three fields Twilio gives it in."""
    return {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid}


def contact(runtime) -> Contact | None:
    with runtime.session() as session:
        return Contact.find(session, Channel.SMS, PERSON)


# --- who may post ---------------------------------------------------------------------------------------


def test_a_text_signed_by_twilio_is_answered_in_the_twiml_of_the_same_response(channels, client):
    response = post(client, form_fixture("sms"))
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    replies = twiml_messages(response.get_data(as_text=True))
    assert "Return Home service" in replies[0]
    assert "1. I'm a young person" in replies[-1]


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(None, id="no signature"),
        pytest.param("", id="empty signature"),
        pytest.param("bm90IGEgc2lnbmF0dXJl", id="made-up signature"),
        pytest.param(sign(URL, {"Body": "something else"}), id="signature of another body"),
        pytest.param(sign("http://localhost/webhooks/sms", form_fixture("sms")), id="signed for the app's own URL"),
    ],
)
def test_an_unsigned_or_forged_post_gets_403_and_nothing_is_stored(channels, client, signature):
    fields = form_fixture("sms")
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    response = client.post(
        "/webhooks/sms", data=urlencode(fields), content_type="application/x-www-form-urlencoded", headers=headers
    )
    assert response.status_code == 403
    assert count(channels, InboundEvent) == 0
    assert count(channels, Contact) == 0


def test_the_signature_covers_the_query_string_twilio_was_given(channels, client):
    fields = form_fixture("sms")
    path = "/webhooks/sms?provider=demo"
    assert post(client, fields, path=path, url=f"{URL}?provider=demo").status_code == 200
    assert post(client, form_fixture("emoji"), path=path, url=URL).status_code == 403


def test_a_status_callback_is_checked_the_same_way(channels, client):
    fields = form_fixture("status_unsubscribed")
    assert post(client, fields, path="/webhooks/sms/status", url=URL).status_code == 403
    assert post(client, fields, path="/webhooks/sms/status", url=STATUS_URL).status_code == 204


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"Body": "hi", "From": PERSON}, id="no MessageSid"),
        pytest.param({"Body": "hi", "MessageSid": "SM123"}, id="no From"),
        pytest.param({**form_fixture("sms"), "NumMedia": "lots"}, id="NumMedia not a number"),
        pytest.param({**form_fixture("sms"), "MessageSid": "SM" + "0" * 100, "SmsSid": ""}, id="MessageSid too long"),
        pytest.param({**form_fixture("sms"), "MessageSid": "SM\x00\x01", "SmsSid": ""}, id="MessageSid not printable"),
    ],
)
def test_a_signed_post_that_is_not_a_text_gets_400(channels, client, fields):
    assert post(client, fields).status_code == 400
    assert count(channels, InboundEvent) == 0


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"MessageSid": "SM1", "MessageStatus": "delivered"}, id="MessageSid not SM and 32 hex"),
        pytest.param({**form_fixture("status_delivered"), "MessageStatus": "deli\x00vered"}, id="status with a NUL"),
        pytest.param({**form_fixture("status_delivered"), "MessageStatus": "x" * 40}, id="status too long"),
        pytest.param({"MessageStatus": "delivered"}, id="no MessageSid"),
        pytest.param({**form_fixture("status_unsubscribed"), "To": "+447700900123ToCity"}, id="To not a number"),
        pytest.param({**form_fixture("status_unsubscribed"), "ErrorCode": "21610x"}, id="ErrorCode not a number"),
        pytest.param({**form_fixture("status_unsubscribed"), "AccountSid": "AC"}, id="AccountSid not AC and 32 hex"),
    ],
)
def test_a_signed_status_callback_that_is_not_one_gets_400_and_changes_nothing(channels, client, fields):
    post(client, form_fixture("sms"))
    assert post(client, fields, path="/webhooks/sms/status", url=STATUS_URL).status_code == 400
    assert not contact(channels).opted_out


# Twilio's signature joins each key and value with nothing between them, so a captured request can be cut
# again at another place and keep its signature: a field's value swallows the next field's name and value.
# Only Twilio's own shapes for what we read keep such a re-cut request from being a new delivery.


def recut(fields: dict[str, str], key: str, swallowed: str) -> dict[str, str]:
    """``fields`` with ``key``'s value swallowing the field ``swallowed`` (the next one in sorted order)."""
    assert sorted(fields)[sorted(fields).index(key) + 1] == swallowed
    again = {name: value for name, value in fields.items() if name != swallowed}
    again[key] = f"{fields[key]}{swallowed}{fields[swallowed]}"
    assert sign(URL, again) == sign(URL, fields)  # the signature of the captured request still fits
    return again


def stored(runtime) -> dict[str, int]:
    return {model.__name__: count(runtime, model) for model in (InboundEvent, Contact, Escalation, OutboxEvent)}


@pytest.mark.parametrize(
    ("key", "swallowed"),
    [
        pytest.param("MessageSid", "NumMedia", id="MessageSid=<sid>NumMedia0 (a new delivery id)"),
        pytest.param("From", "FromCity", id="From=<number>FromCity (a new person)"),
    ],
)
def test_a_captured_request_cut_again_is_refused_and_nothing_is_stored(channels, client, key, swallowed):
    captured = {**form_fixture("sms"), "Body": "im going to kill myself"}
    assert post(client, captured).status_code == 200
    before = stored(channels)
    assert before["Escalation"] == 1

    response = post(client, recut(captured, key, swallowed))

    assert response.status_code == 400
    assert stored(channels) == before


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"MessageSid": "SM" + "A" * 32, "SmsSid": "", "SmsMessageSid": ""}, id="MessageSid in capitals"),
        pytest.param({"MessageSid": "XX" + "a" * 32, "SmsSid": "", "SmsMessageSid": ""}, id="MessageSid not SM or MM"),
        pytest.param({"MessageSid": "SM" + "a" * 31}, id="MessageSid one short"),
        pytest.param({"SmsSid": "SM" + "b" * 32}, id="SmsSid another message's"),
        pytest.param({"AccountSid": "AC123"}, id="AccountSid not AC and 32 hex"),
        pytest.param({"From": "+44\x00770\u2028"}, id="From with odd characters"),
        pytest.param({"From": "+4477009001230000"}, id="From of 16 digits"),
        pytest.param({"From": "+447700900123 "}, id="From with a space"),
        pytest.param({"From": "12"}, id="From a two-digit short code"),
        pytest.param({"To": "+447700900000ToCity"}, id="To with a field's name in it"),
        pytest.param({"NumMedia": "0NumSegments1"}, id="NumMedia with a field's name in it"),
        pytest.param({"NumMedia": "٣"}, id="NumMedia an Arabic-Indic digit"),
        pytest.param({"OptOutType": "STOPReferralNumMedia0"}, id="OptOutType not STOP, START or HELP"),
    ],
)
def test_a_signed_post_with_a_field_not_in_twilios_shape_gets_400_and_nothing_is_stored(channels, client, changes):
    assert post(client, {**form_fixture("sms"), **changes}).status_code == 400
    assert set(stored(channels).values()) == {0}


def test_a_repeated_field_gets_400(channels, client):
    fields = form_fixture("sms")
    pairs = [*fields.items(), ("From", "+447700900999")]
    response = client.post(
        "/webhooks/sms",
        data=urlencode(pairs),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sign(URL, MultiDict(pairs))},
    )
    assert response.status_code == 400
    assert count(channels, InboundEvent) == 0


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"From": "+15005550006"}, id="an E.164 number"),
        pytest.param({"From": "64446"}, id="a short code"),
        pytest.param(sids("MM" + "c" * 32), id="an MMS sid"),
        pytest.param({"SomethingTwilioAddsOneDay": "anything at all\x00"}, id="an unknown field"),
    ],
)
def test_every_shape_twilio_sends_is_taken(channels, client, changes):
    assert post(client, {**form_fixture("sms"), **changes}).status_code == 200


def test_a_body_over_64_kib_gets_413(channels, client):
    fields = {**form_fixture("sms"), "Body": "x" * (65 * 1024)}
    assert post(client, fields).status_code == 413
    assert count(channels, InboundEvent) == 0


def test_a_chunked_body_over_64_kib_gets_413_too(channels, server):
    fields = {**form_fixture("sms"), "Body": "x" * (65 * 1024)}
    body = urlencode(fields).encode()
    chunks = (body[n : n + 4096] for n in range(0, len(body), 4096))
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sign(URL, fields)}
    assert requests.post(f"{server}/webhooks/sms", data=chunks, headers=headers, timeout=10).status_code == 413
    assert count(channels, InboundEvent) == 0


def test_the_webhooks_are_not_there_when_sms_is_not_set_up(runtime):
    from webhooks.app import create_app

    client = create_app(runtime, {"TESTING": True}).test_client()
    assert post(client, form_fixture("sms")).status_code == 404


# --- what people send ---------------------------------------------------------------------------------


def test_a_picture_message_with_no_words_gets_a_kind_answer_and_only_its_kind_is_logged(channels, client):
    replies = twiml_messages(post(client, form_fixture("mms_no_body")).get_data(as_text=True))
    assert replies == [
        "Sorry, I can only read text here. Please type your message. If you're in danger now, call 999.\n"
        "Sori, dim ond testun dw i'n gallu ei ddarllen yma. Teipiwch eich neges. "
        "Os ydych chi mewn perygl nawr, ffoniwch 999."
    ]
    with channels.session() as session:
        logged = session.scalars(sa.select(Message.text).where(Message.direction == "inbound")).all()
    assert logged == ["[picture message]"]


def test_a_text_with_emoji_is_read_like_any_other(channels, client):
    replies = twiml_messages(post(client, form_fixture("emoji")).get_data(as_text=True))
    assert "Who are you?" in replies[-1]


def test_a_1600_character_text_is_read_whole_and_safeguarding_sees_its_end(channels, client):
    fields = form_fixture("long_1600")
    fields["Body"] = fields["Body"][:1560] + " I want to kill myself."
    replies = twiml_messages(post(client, fields).get_data(as_text=True))
    assert "116 123" in replies[0]  # Samaritans, first
    with channels.session() as session:
        assert session.scalars(sa.select(Escalation.category)).all() == ["suicide_self_harm"]
        assert len(session.scalars(sa.select(Message.text).where(Message.direction == "inbound")).one()) == 1583


def test_stop_with_twilios_opt_out_type_stops_the_number_and_twilio_confirms_it_not_us(channels, client):
    post(client, form_fixture("sms"))
    response = post(client, form_fixture("stop_opt_out"))
    assert response.status_code == 200
    assert twiml_messages(response.get_data(as_text=True)) == []
    assert contact(channels).opted_out


def test_a_stop_word_only_twilio_knows_still_stops_the_number(channels, client):
    post(client, form_fixture("sms"))
    fields = {**form_fixture("stop_opt_out"), "Body": "ARRET"}  # a keyword set up in Twilio's console
    assert twiml_messages(post(client, fields).get_data(as_text=True)) == []
    assert contact(channels).opted_out


def test_stop_without_twilios_opt_out_management_is_confirmed_by_us(channels, client):
    post(client, form_fixture("sms"))
    fields = {**form_fixture("sms"), "Body": "STOP", **sids("SM" + "5" * 32)}
    replies = twiml_messages(post(client, fields).get_data(as_text=True))
    assert replies == ["OK, you won't get any more messages from us. Text START if you want to chat again."]
    assert contact(channels).opted_out


def test_a_stopped_number_hears_nothing_until_start_but_a_cry_for_help_is_still_answered(channels, client):
    post(client, form_fixture("sms"))
    post(client, form_fixture("stop_opt_out"))
    quiet = {**form_fixture("sms"), "Body": "hello?", **sids("SM" + "6" * 32)}
    assert twiml_messages(post(client, quiet).get_data(as_text=True)) == []
    urgent = {**form_fixture("sms"), "Body": "im going to kill myself", **sids("SM" + "7" * 32)}
    assert "116 123" in twiml_messages(post(client, urgent).get_data(as_text=True))[0]
    assert count(channels, Escalation) == 1


def test_twilios_start_words_start_again_even_yes(channels, client):
    post(client, form_fixture("sms"))
    post(client, form_fixture("stop_opt_out"))
    fields = {**form_fixture("sms"), "Body": "YES", "OptOutType": "START", **sids("SM" + "8" * 32)}
    replies = twiml_messages(post(client, fields).get_data(as_text=True))
    assert "Who are you?" in replies[-1]
    assert not contact(channels).opted_out


def test_yes_is_an_answer_not_a_restart_for_someone_who_never_stopped(channels, client):
    post(client, form_fixture("sms"))
    fields = {**form_fixture("sms"), "Body": "yes", "OptOutType": "START", **sids("SM" + "9" * 32)}
    replies = twiml_messages(post(client, fields).get_data(as_text=True))
    assert "Reply with a number" in replies[0]  # "yes" does not answer "Who are you?"


# --- the same delivery again ----------------------------------------------------------------------------


def test_a_repeated_message_sid_is_processed_once_and_gets_the_same_twiml(channels, client):
    first = post(client, form_fixture("sms")).get_data(as_text=True)
    again = post(client, form_fixture("sms")).get_data(as_text=True)
    assert again == first
    assert count(channels, InboundEvent) == 1
    assert count(channels, Message) == 3  # one in, two out


def test_a_repeated_stop_gets_the_same_empty_answer(channels, client):
    post(client, form_fixture("sms"))
    assert (
        post(client, form_fixture("stop_opt_out")).get_data() == post(client, form_fixture("stop_opt_out")).get_data()
    )


def test_the_same_delivery_ten_times_at_once_is_processed_once(channels, server, sms_user):
    fields = sms_user.form("hi")
    answers, barrier = [], threading.Barrier(10)

    def deliver() -> None:
        barrier.wait()
        response = sms_user.post(fields)
        answers.append((response.status_code, response.text))

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 10
    assert {status for status, _ in answers} == {200}
    assert len({body for _, body in answers}) == 1
    assert count(channels, InboundEvent) == 1
    assert count(channels, Contact) == 1


# --- what became of our messages ------------------------------------------------------------------------


def test_error_21610_in_a_status_callback_marks_the_number_stopped(channels, client):
    post(client, form_fixture("sms"))
    response = post(client, form_fixture("status_unsubscribed"), url=STATUS_URL, path="/webhooks/sms/status")
    assert response.status_code == 204
    assert contact(channels).opted_out


def test_delivery_statuses_are_recorded_and_a_late_sent_does_not_undo_delivered(channels, client):
    post(client, form_fixture("sms"))
    sid = form_fixture("status_delivered")["MessageSid"]
    with channels.session() as session, session.begin():
        message = session.scalars(sa.select(Message).where(Message.direction == "outbound")).first()
        message.external_id = sid
    post(client, form_fixture("status_delivered"), url=STATUS_URL, path="/webhooks/sms/status")
    late = {**form_fixture("status_delivered"), "MessageStatus": "sent", "SmsStatus": "sent"}
    post(client, late, url=STATUS_URL, path="/webhooks/sms/status")
    with channels.session() as session:
        assert (
            session.scalars(sa.select(Message.delivery_status).where(Message.external_id == sid)).one() == "delivered"
        )
