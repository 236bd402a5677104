"""Whole journeys, end to end: the real app over real HTTP, a young person on each channel, and the local
Telegram Bot API and Twilio at the network edge. One person, one state: the same scripts on both.
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from auxil.channels import (  # noqa: F401 (fixtures)
    PUBLIC_BASE_URL,
    channels_fixture,
    count,
    quick_person_fixture,
    server_fixture,
    sms_user_fixture,
    telegram_api_fixture,
    telegram_user_fixture,
    twilio_api_fixture,
)
from auxil.fake_twilio import SmsUser

from models import Booking, Channel, Contact, ConversationState, InboundEvent, Message, Referral

# The self-referral, as a young person answers it: (what the bot asks, what they answer). Asked in this
# order; a question a script does not ask (yet) is skipped.
SELF_REFERRAL = [
    ("Who are you?", "1"),
    ("What would you like to do?", "2"),
    ("How old are you?", "2"),
    ("When did you get back?", "yesterday"),
    ("Did the police know", "no"),
    ("Where do you live?", "home"),
    ("Which area do you live in", "not sure"),
    ("Is that OK?", "yes"),
    ("Where would you like to meet?", "cafe"),
    ("Who would you like to talk to?", "a woman"),
    ("When suits you?", "1"),
    ("trusted adult", "no"),
    ("Send this?", "yes"),
]


def walk(say, first: str = "hi") -> str:
    """Say ``first``, then answer each question of SELF_REFERRAL the bot asks; return the bot's last words."""
    last = say(first)
    for question, answer in SELF_REFERRAL:
        if question in last:
            last = say(answer)
    return last


def the_booking(runtime) -> Booking:
    with runtime.session() as session:
        return session.scalars(sa.select(Booking)).one()


def test_a_young_person_refers_themselves_on_telegram_typing_and_pressing_buttons(channels, telegram_user):
    def say(answer: str) -> str:
        # Buttons where the answer is one, else typed, as people do.
        buttons = telegram_user.screen()[-1].buttons if telegram_user.screen() else []
        labels = {str(n): label for n, label in enumerate(buttons, 1)}
        replies = telegram_user.taps(labels[answer]) if answer in labels else telegram_user.sends(answer)
        return "\n".join(reply.text or "" for reply in replies)

    assert "Sent!" in walk(say)
    booking = the_booking(channels)
    assert (booking.place_kind, booking.worker_preference, booking.trusted_adult) == ("cafe", "woman", False)
    # Every question answered with a button shows its answer under it, and has no buttons left to press.
    answered = [m for m in telegram_user.screen() if m.from_bot and "✓" in (m.text or "")]
    assert len(answered) == 4  # who, what, age, time: "yesterday", "no", "home"... were typed
    assert all(m.buttons == [] for m in answered)


def test_a_young_person_refers_themselves_by_sms_with_numbers_and_words(channels, sms_user, twilio_api):
    assert "Sent!" in walk(lambda text: "\n".join(sms_user.texts(text)))
    booking = the_booking(channels)
    assert (booking.place_kind, booking.worker_preference) == ("cafe", "woman")
    assert twilio_api.sent == []  # every reply went back in the webhook's own answer


def test_the_same_scripts_serve_both_channels_only_the_rendering_differs(channels, telegram_user, sms_user):
    [_, on_telegram] = telegram_user.sends("hi")
    on_sms = sms_user.texts("hi")[-1]
    assert on_telegram.text == "Who are you?"
    assert on_telegram.buttons == ["I'm a young person", "A parent or carer", "Someone else"]
    assert on_sms.endswith("Who are you?\n1. I'm a young person\n2. A parent or carer\n3. Someone else")


@pytest.mark.parametrize("first, second", [("1", "2"), ("2", "1")])
def test_two_messages_from_one_person_at_the_same_moment_are_handled_one_after_the_other(
    channels, server, first, second
):
    """Whichever lands first, the other is handled after it, on the state it left (no lost update)."""
    racing = SmsUser(f"{server}/webhooks/sms", f"{PUBLIC_BASE_URL}/webhooks/sms", "+447700900555")
    racing.texts("hi")
    barrier, answers = threading.Barrier(2), {}

    def send(text: str) -> None:
        barrier.wait()
        answers[text] = racing.texts(text)

    threads = [threading.Thread(target=send, args=(text,)) for text in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # The two orders the messages could have been handled in, replayed one after the other by two others.
    outcomes = []
    for n, order in enumerate([(first, second), (second, first)]):
        other = SmsUser(f"{server}/webhooks/sms", f"{PUBLIC_BASE_URL}/webhooks/sms", f"+44770090060{n}")
        other.texts("hi")
        replies = {text: other.texts(text) for text in order}
        outcomes.append((state_of(channels, other.number), replies))
    assert (state_of(channels, racing.number), answers) in outcomes
    assert count(channels, InboundEvent) == 3 + 6


def state_of(runtime, number: str) -> tuple[str, str, int]:
    with runtime.session() as session:
        contact = Contact.find(session, Channel.SMS, number)
        assert contact is not None
        state = session.scalars(sa.select(ConversationState).where(ConversationState.contact_id == contact.id)).one()
        said = session.scalar(
            sa.select(sa.func.count()).where(Message.contact_id == contact.id, Message.direction == "inbound")
        )
        return state.script, state.step, said


def test_a_referral_made_on_one_channel_is_not_visible_to_another_address(channels, sms_user, telegram_user):
    walk(lambda text: "\n".join(sms_user.texts(text)))
    replies = telegram_user.sends("hi")
    assert replies[-1].text == "Who are you?"  # a stranger on Telegram starts at the beginning
    with channels.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 1
