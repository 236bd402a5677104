"""POST /webhooks/telegram: Telegram's real updates (tests/fixtures/telegram) through the real app, with the
replies going out to a local Bot API over HTTP. Forged, repeated, odd and unused updates included."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa
from auxil.channels import (  # noqa: F401 (fixtures)
    CHAT_ID,
    WEBHOOK_SECRET,
    channels_fixture,
    client_fixture,
    count,
    quick_person_fixture,
    server_fixture,
    telegram_api_fixture,
    telegram_user_fixture,
    twilio_api_fixture,
)
from auxil.fake_telegram import fixture, texts

from models import Channel, Contact, InboundEvent, Message, OutboxEvent

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def post(client, update, *, secret: str | None = WEBHOOK_SECRET):
    headers = {} if secret is None else {SECRET_HEADER: secret}
    body = update if isinstance(update, bytes | str) else json.dumps(update)
    return client.post("/webhooks/telegram", data=body, content_type="application/json", headers=headers)


def the_contact(runtime) -> Contact:
    with runtime.session() as session:
        contact = Contact.find(session, Channel.TELEGRAM, str(CHAT_ID))
        assert contact is not None
        return contact


# --- who may post ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(None, id="no secret"),
        pytest.param("", id="empty secret"),
        pytest.param("a-secret-only-telegram-and-we-knoW", id="nearly the secret"),
        pytest.param(WEBHOOK_SECRET + " ", id="the secret and more"),
    ],
)
def test_an_update_without_the_secret_token_gets_403_and_nothing_is_stored(channels, client, telegram_api, secret):
    response = post(client, fixture("text_message"), secret=secret)
    assert response.status_code == 403
    assert count(channels, InboundEvent) == 0
    assert count(channels, Contact) == 0
    assert telegram_api.calls == []


@pytest.mark.one_database  # refused before anything the database does differently
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="not JSON"),
        pytest.param(b"\xff\xfe\x00", id="not UTF-8"),
        pytest.param(b"[1, 2, 3]", id="a list"),
        pytest.param(b'{"message": {"text": "hi"}}', id="no update_id"),
        pytest.param(b'{"update_id": "10000"}', id="update_id as text"),
        pytest.param(b'{"update_id": 1, "message": 5}', id="message not an object"),
        pytest.param(b'{"update_id": 1, "message": {"text": "hi"}}', id="message without chat or date"),
        pytest.param(
            b'{"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": "me", "type": "private"}, '
            b'"text": "hi"}}',
            id="chat id not a number",
        ),
        pytest.param(b"[" * 5000 + b"]" * 5000, id="nested too deep"),
    ],
)
def test_a_body_that_is_not_an_update_gets_400(channels, client, body):
    assert post(client, body).status_code == 400
    assert count(channels, InboundEvent) == 0


def test_a_body_over_64_kib_gets_413(channels, client):
    update = fixture("text_message")
    update["message"]["text"] = "x" * (65 * 1024)
    assert post(client, update).status_code == 413
    assert count(channels, InboundEvent) == 0


def test_a_chunked_body_over_64_kib_gets_413_too(channels, server):
    chunks = (b"x" * 1024 for _ in range(65))
    headers = {SECRET_HEADER: WEBHOOK_SECRET, "Content-Type": "application/json"}
    assert requests.post(f"{server}/webhooks/telegram", data=chunks, headers=headers, timeout=10).status_code == 413


def test_a_chunked_update_under_the_limit_is_read_whole(channels, server, telegram_api):
    body = json.dumps(fixture("text_message")).encode()
    chunks = (body[n : n + 100] for n in range(0, len(body), 100))
    headers = {SECRET_HEADER: WEBHOOK_SECRET, "Content-Type": "application/json"}
    assert requests.post(f"{server}/webhooks/telegram", data=chunks, headers=headers, timeout=10).status_code == 200
    assert count(channels, InboundEvent) == 1


@pytest.mark.parametrize("name", ["edited_message", "group_message"])
def test_updates_the_bot_does_not_use_get_200_and_are_ignored(channels, client, telegram_api, name):
    assert post(client, fixture(name)).status_code == 200
    assert count(channels, InboundEvent) == 0
    assert telegram_api.calls == []


@pytest.mark.parametrize("text", ["\\ud83d", "nul \\u0000 in the middle", "\\u202e\\u200b"])
def test_text_with_broken_unicode_or_control_characters_is_read_not_choked_on(channels, client, text):
    body = json.dumps(fixture("text_message")).replace('"text": "hi"', f'"text": "{text}"')
    assert post(client, body).status_code == 200
    assert count(channels, InboundEvent) == 1


def test_an_update_of_a_type_telegram_adds_later_gets_200(channels, client):
    assert post(client, {"update_id": 10009, "business_message_from_the_future": {"id": 1}}).status_code == 200


# --- what people send ---------------------------------------------------------------------------------


def test_a_text_message_is_answered_through_the_bot_api_with_options_as_buttons(channels, telegram_user):
    replies = telegram_user.sends("hi")
    assert "Return Home service" in replies[0].text
    assert replies[-1].text == "Who are you?"
    assert replies[-1].buttons == ["I'm a young person", "A parent or carer", "Someone else"]


def test_start_with_a_deep_link_payload_records_how_the_person_found_the_service(channels, client, telegram_api):
    assert post(client, fixture("start_with_payload")).status_code == 200
    assert the_contact(channels).found_via == "school_poster"
    sent = telegram_api.calls_to("sendMessage")
    assert "Who are you?" in [call["text"] for call in sent]


def test_a_deep_link_payload_that_is_not_one_of_ours_is_not_recorded(channels, client):
    update = fixture("start_with_payload")
    update["message"]["text"] = "/start <script>alert(1)</script>"
    post(client, update)
    assert the_contact(channels).found_via is None


@pytest.mark.parametrize("kind", ["photo", "sticker", "voice"])
def test_a_photo_sticker_or_voice_note_gets_a_kind_answer_that_only_text_is_read(channels, telegram_user, kind):
    telegram_user.sends("hi")
    replies = telegram_user.sends_a(kind)
    assert [reply.text for reply in replies] == [
        "Sorry, I can only read text here. Please type your message. If you're in danger now, call 999."
    ]
    with channels.session() as session:
        logged = session.scalars(sa.select(Message.text).where(Message.direction == "inbound")).all()
    assert logged == ["hi", f"[{kind}]"]  # what kind of message it was, never its content


def test_someone_whose_first_message_is_a_photo_is_answered_in_both_languages(channels, telegram_user):
    replies = telegram_user.sends_a("photo")
    assert "Sorry, I can only read text here" in replies[0].text
    assert "Sori, dim ond testun" in replies[0].text


def test_pressing_a_button_answers_the_question_stops_the_spinner_and_shows_the_choice(
    channels, telegram_user, telegram_api
):
    telegram_user.sends("hi")
    replies = telegram_user.taps("I'm a young person")
    assert "What would you like to do?" in replies[-1].text
    assert len(telegram_api.calls_to("answerCallbackQuery")) == 1
    question = next(m for m in telegram_user.screen() if m.text and m.text.startswith("Who are you?"))
    assert question.text == "Who are you?\n\n✓ I'm a young person"
    assert question.buttons == []  # the old buttons cannot be pressed again


def test_a_button_on_an_old_message_means_what_it_says_not_its_position(channels, telegram_user):
    telegram_user.sends("hi")
    update = fixture("callback_query")
    update["callback_query"]["data"] = "Someone else"  # from "Who are you?", pressed after moving on
    telegram_user.taps("I'm a young person")
    update["update_id"] = 99
    update["callback_query"]["message"]["message_id"] = 1
    replies = telegram_user.deliver(update)
    assert "Reply with a number, or the words" in texts(replies)


def test_help_stop_and_start_work_as_commands(channels, telegram_user):
    telegram_user.sends("hi")
    assert "MENU: go back to the start" in texts(telegram_user.sends("/help"))
    assert "you won't get any more messages" in texts(telegram_user.sends("/stop"))
    assert the_contact(channels).opted_out
    assert telegram_user.sends("hello?") == []
    assert "Who are you?" in texts(telegram_user.sends("/start"))
    assert not the_contact(channels).opted_out


def test_language_offers_english_and_welsh_and_the_choice_sticks(channels, telegram_user):
    telegram_user.sends("hi")
    [question] = telegram_user.sends("/language")
    assert question.text == "Which language would you like?"
    assert question.buttons == ["English", "Cymraeg"]
    assert "Iawn, Cymraeg o hyn ymlaen." in texts(telegram_user.taps("Cymraeg"))
    assert the_contact(channels).language == "cy"


def test_clear_deletes_both_sides_of_the_chat(channels, telegram_user):
    telegram_user.sends("hi")
    telegram_user.taps("I'm a young person")
    telegram_user.sends_a("sticker")
    assert len(telegram_user.screen()) == 6
    assert telegram_user.sends("/clear") == []
    assert telegram_user.screen() == []


def test_clear_says_how_to_remove_messages_telegram_no_longer_lets_the_bot_delete(
    channels, telegram_user, telegram_api
):
    telegram_user.sends("hi")
    three_days = timedelta(days=3)
    with channels.session() as session, session.begin():
        for row in [*session.scalars(sa.select(Message)), *session.scalars(sa.select(OutboxEvent))]:
            row.created_at -= three_days
    for message in telegram_api.chat(CHAT_ID).messages.values():
        message.date -= int(three_days.total_seconds())
    old = telegram_user.screen()
    telegram_user.sends("hi again")
    [note] = telegram_user.sends("/clear")
    assert "I can't delete messages older than 2 days" in note.text
    assert telegram_user.screen() == [*old, note]


def test_a_person_who_blocks_the_bot_is_marked_stopped(channels, client, telegram_api):
    post(client, fixture("text_message"))
    assert post(client, fixture("blocked")).status_code == 200
    assert the_contact(channels).opted_out


# --- the same delivery again ----------------------------------------------------------------------------


def test_a_repeated_update_id_is_processed_once(channels, client, telegram_api):
    post(client, fixture("text_message"))
    post(client, fixture("text_message"))
    assert count(channels, InboundEvent) == 1
    assert len(telegram_api.calls_to("sendMessage")) == 2


def test_the_same_update_ten_times_at_once_is_processed_once(channels, telegram_user, telegram_api):
    update = fixture("text_message")
    statuses, barrier = [], threading.Barrier(10)

    def deliver() -> None:
        barrier.wait()
        telegram_user.deliver(json.loads(json.dumps(update)))
        statuses.append(telegram_user.last_status)

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 10
    assert count(channels, InboundEvent) == 1
    assert [call["text"] for call in telegram_api.calls_to("sendMessage")][-1] == "Who are you?"
    assert len(telegram_api.calls_to("sendMessage")) == 2
