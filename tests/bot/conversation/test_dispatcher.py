"""One inbound message end to end: committed, de-duplicated, encrypted, resumable."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import Conversation

from bot.conversation import dispatcher as dispatcher_module
from bot.conversation import effects as effects_module
from bot.conversation.dispatcher import Dispatcher, Inbound
from bot.conversation.effects import READING_EFFECTS
from bot.runtime import Runtime
from bot.settings import load_settings
from models import (
    Booking,
    Channel,
    Contact,
    ConversationState,
    Episode,
    InboundEvent,
    Message,
    OutboxEvent,
    Referral,
    utcnow,
)

PHONE = "+447700900123"
SELF_REFERRAL = ["hi", "1", "2", "2", "yesterday", "no", "home", "cardiff", "yes", "cafe", "a woman", "1", "no", "yes"]


def all_at_once(run, arguments) -> None:
    """``run`` for each argument, each in a thread of its own, all started before any is waited for."""
    threads = [threading.Thread(target=run, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def count(runtime: Runtime, model) -> int:
    with runtime.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_self_referral_leaves_an_episode_a_referral_a_booking_request_and_provider_events(runtime, young_person):
    young_person.says(*SELF_REFERRAL)
    with runtime.session() as session:
        referral = session.scalars(sa.select(Referral)).one()
        episode = session.scalars(sa.select(Episode)).one()
        booking = session.scalars(sa.select(Booking)).one()
        events = session.scalars(sa.select(OutboxEvent.type).order_by(OutboxEvent.created_at)).all()
        assert referral.status == "booking_requested"
        assert referral.episodes == [episode]
        assert episode.hidden and episode.returned_at is not None
        # the 72-hour clock runs from the (estimated) return, not from the message
        assert referral.deadline_at == episode.returned_at + timedelta(hours=72)
        assert booking.slot_id is not None and booking.place_kind == "cafe" and booking.worker_preference == "woman"
        assert set(events) == {"referral.created", "episode.reported", "booking.requested"}


def test_the_same_delivery_twice_is_processed_once_and_answered_the_same(runtime, dispatcher):
    first = dispatcher.handle(Inbound(Channel.SMS, PHONE, "SM-1", "hi"))
    again = dispatcher.handle(Inbound(Channel.SMS, PHONE, "SM-1", "hi"))
    assert again.duplicate and not first.duplicate
    assert again.replies == first.replies
    assert count(runtime, InboundEvent) == 1
    assert count(runtime, Message) == 1 + len(first.replies)


def test_a_conversation_survives_a_restart_of_the_process(runtime, database_url, data_key, tmp_path):
    from bot.settings import load_settings

    first = Dispatcher(runtime)
    for n, text in enumerate(["hi", "1", "2"]):
        first.handle(Inbound(Channel.SMS, PHONE, f"SM-{n}", text))
    runtime.close()
    environ = {"RHI_DATABASE_URL": database_url, "RHI_DATA_KEY": data_key, "RHI_INSTANCE_PATH": str(tmp_path)}
    restarted = Runtime(load_settings(environ))
    try:
        outcome = Dispatcher(restarted).handle(Inbound(Channel.SMS, PHONE, "SM-9", "14"))
        assert outcome.replies[-1].text.startswith("When did you get back?")
    finally:
        restarted.close()


def test_phone_numbers_and_message_text_are_not_stored_in_plain_form(runtime, young_person):
    young_person.says("hi", "1", "3", "something else", "my mum found my diary and went mad")
    with runtime.engine.connect() as connection:
        for table in ("contacts", "messages", "conversation_states", "inbound_events", "referrals", "outbox_events"):
            for row in connection.execute(sa.text(f"SELECT * FROM {table}")):
                flat = " ".join(str(value) for value in row)
                assert "7700900123" not in flat, table
                assert "diary" not in flat, table
                assert "Who are you" not in flat, table


def test_stop_is_remembered_and_start_undoes_it(runtime, young_person):
    young_person.says("hi", "stop")
    with runtime.session() as session:
        assert session.scalars(sa.select(Contact)).one().opted_out
    assert young_person("are you there?") == []
    young_person("start")
    with runtime.session() as session:
        assert not session.scalars(sa.select(Contact)).one().opted_out


def test_delete_my_data_removes_messages_and_the_number_but_the_provider_keeps_the_referral(runtime, young_person):
    young_person.says("hi", "1", "3", "something else", "my mum would find out", "no thanks")
    young_person.says("delete my data", "yes")
    with runtime.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
        assert Contact.find(session, Channel.SMS, PHONE) is None
        referral = session.scalars(sa.select(Referral)).one()
        assert referral.decline_reason == "other" and referral.decline_text is None
    # the next message is a new conversation, not a crash
    assert "Who are you?" in "\n".join(young_person("hi again"))


def test_a_conversation_left_for_weeks_starts_again_from_the_menu(runtime, young_person):
    young_person.says("hi", "1", "2", "2")
    with runtime.session() as session, session.begin():
        state = session.scalars(sa.select(ConversationState)).one()
        state.expires_at = utcnow() - timedelta(minutes=1)
    replies = young_person("yesterday")
    assert "What would you like to do?" in "\n".join(replies)


def test_messages_from_one_new_person_arriving_together_are_all_handled(runtime, dispatcher):
    outcomes, errors = [], []

    def send(n: int) -> None:
        try:
            outcomes.append(dispatcher.handle(Inbound(Channel.SMS, PHONE, f"SM-{n}", "hi")))
        except Exception as exc:
            errors.append(exc)

    all_at_once(send, range(6))
    assert errors == []
    assert len(outcomes) == 6
    assert count(runtime, Contact) == 1
    assert count(runtime, InboundEvent) == 6


def test_a_first_message_in_welsh_makes_a_welsh_contact_the_next_message_finds(runtime, young_person):
    """A first message is written in one statement on PostgreSQL, without the ORM: the contact it makes is
    the one the ORM would have made, found again by the number however it is written."""
    young_person("shwmae")
    with runtime.session() as session:
        contact = Contact.find(session, Channel.SMS, "+44 7700 900123")
        assert contact is not None
        assert (contact.language, contact.language_chosen, contact.opted_out) == ("cy", False, False)
        assert contact.address == PHONE and None not in (contact.created_at, contact.last_seen_at)
        assert contact.state is not None and contact.state.version == 1
        [event] = session.scalars(sa.select(InboundEvent)).all()
        assert event.contact_id == contact.id and event.processed_at is not None
        assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1 + len(young_person.last.replies)
    young_person("1")
    assert count(runtime, Contact) == 1
    with runtime.session() as session:
        assert session.scalars(sa.select(ConversationState.version)).one() == 2


def test_a_long_conversation_is_kept_whole_on_its_page_on_postgresql(runtime, young_person):
    """Encrypted variables never compress: PostgreSQL keeps the row where it is (migration 0005) rather than
    writing it out to the TOAST table again on every message."""
    young_person.says(*SELF_REFERRAL[:11])  # times offered: the conversation holds the most it does
    with runtime.engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            pytest.skip("SQLite has no TOAST table")
        longest = connection.scalar(sa.text("SELECT max(length(variables)) FROM conversation_states"))
        moved = connection.scalar(
            sa.text("SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE relname = 'conversation_states'")
        )
    assert longest > 2032  # past the size at which PostgreSQL would otherwise move it
    assert moved == 0


class _Interrupted(Dispatcher):
    """A dispatcher that lets another message from the same person through between deciding and writing."""

    def __init__(self, runtime: Runtime, meanwhile) -> None:
        super().__init__(runtime)
        self.meanwhile = meanwhile

    def _decide(self, session, inbound, person, now, **options):
        decision = super()._decide(session, inbound, person, now, **options)
        meanwhile, self.meanwhile = self.meanwhile, None  # once: the message starts again after it
        if meanwhile is not None:
            meanwhile()
        return decision


def test_a_message_overtaken_by_another_from_the_same_person_is_decided_again(runtime, young_person):
    young_person.says("hi", "1")  # a young person, at "What would you like to do?"
    dispatcher = _Interrupted(runtime, meanwhile=lambda: young_person("cymraeg"))
    # Decided in English at "What would you like to do?", but "cymraeg" got in first: it is answered in Welsh.
    outcome = dispatcher.handle(Inbound(Channel.SMS, "+447700900123", "SM-overtaken", "menu"))
    assert outcome.replies and all("What would you like to do?" not in reply.text for reply in outcome.replies)
    with runtime.session() as session:
        state = session.scalars(sa.select(ConversationState)).one()
        assert state.variables["language"] == "cy"
        assert state.version == 4  # hi, 1, cymraeg, menu: each saved once, none lost


def _disk_full(*arguments, **options):
    raise RuntimeError("no space left on the device")


def test_a_message_that_fails_half_way_through_its_writes_leaves_nothing_of_itself(runtime, young_person, monkeypatch):
    young_person.says("hi", "1")  # a young person, at "What would you like to do?"
    kept = (count(runtime, InboundEvent), count(runtime, Message))
    # The event and the state are written, then the log fails: none of it may stay, or the message could never
    # be tried again.
    monkeypatch.setattr(dispatcher_module, "log_messages", _disk_full)
    with pytest.raises(RuntimeError):
        young_person("2")
    assert (count(runtime, InboundEvent), count(runtime, Message)) == kept
    with runtime.session() as session:
        assert session.scalars(sa.select(ConversationState.version)).one() == 2

    monkeypatch.undo()  # the channel delivers it again, and this time it goes through
    assert any("How old are you?" in text for text in young_person("2"))


def test_what_every_conversation_is_given_is_not_saved_with_each_one(runtime, young_person):
    young_person.says("hi", "1")
    with runtime.session() as session:
        saved = session.scalars(sa.select(ConversationState)).one().variables["vars"]
    assert "service_name" not in saved and not any(name.startswith("helpline") for name in saved)
    assert saved["role"] == "young_person"


def test_a_safety_message_still_names_the_helplines_after_the_state_is_read_back(runtime, young_person):
    young_person.says("hi", "1")
    replies = young_person("i want to kill myself")
    assert "116 123" in "\n".join(replies)  # Samaritans


def test_who_they_are_and_where_they_live_are_kept_on_the_contact_by_the_message_that_says_so(runtime, young_person):
    """Effects that only set the contact's own columns are done while the message is decided, and written with it."""
    young_person.says("hi", "1")
    with runtime.session() as session:
        assert Contact.find(session, Channel.SMS, PHONE).role == "young_person"
    young_person.says("2", "2", "yesterday", "no", "home", "cardiff")
    with runtime.session() as session:
        assert Contact.find(session, Channel.SMS, PHONE).area == "cardiff"


def test_an_effect_that_must_write_is_done_in_the_transaction_even_if_listed_as_reading(
    runtime, young_person, monkeypatch
):
    """Recording the episode needs the contact's row: tried while deciding, it stops and is done once, in full."""
    monkeypatch.setattr(dispatcher_module, "READING_EFFECTS", READING_EFFECTS | {"record_episode", "create_referral"})
    young_person.says(*SELF_REFERRAL[:9])  # "yes": the episode and the referral
    assert count(runtime, Episode) == 1 and count(runtime, Referral) == 1


def _note_by_the_orm(context) -> None:
    context.session.add(Message(contact_id=context.contact_id, direction="outbound", channel="sms", text="a note"))
    context.session.flush()


def _note_by_a_statement(context) -> None:
    note = {"contact_id": context.contact_id, "direction": "outbound", "channel": "sms", "text": "a note"}
    context.session.execute(sa.insert(Message.__table__), {**note, "created_at": utcnow()})


@pytest.mark.parametrize("write_a_note", [_note_by_the_orm, _note_by_a_statement])
def test_a_write_tried_while_the_message_is_decided_is_made_in_the_transaction_or_not_at_all(
    runtime, dispatcher, monkeypatch, write_a_note
):
    """The channel repeats a delivery while the first is still being decided: the first is then undone in
    full, so the write of a careless effect is made once, by the repeat, and not also while deciding."""

    def careless_remember_role(context):  # writes through the session without asking for the contact's row
        write_a_note(context)
        return {}

    monkeypatch.setitem(effects_module.EFFECTS, "remember_role", careless_remember_role)
    dispatcher.handle(Inbound(Channel.SMS, PHONE, "SM-hi", "hi"))
    delivery = Inbound(Channel.SMS, PHONE, "SM-one", "1")
    first = _Interrupted(runtime, meanwhile=lambda: dispatcher.handle(delivery))
    assert first.handle(delivery).duplicate
    with runtime.session() as session:
        notes = session.scalars(sa.select(Message.text).where(Message.direction == "outbound")).all()
    assert notes.count("a note") == 1


def test_many_people_referring_themselves_at_once_are_all_carried_out(runtime, dispatcher):
    """Full messages (an episode, a referral) from several people at the same moment: none is refused for
    waiting on another writer (SQLite) or a lock (PostgreSQL)."""
    errors = []

    def refer(person: int) -> None:
        try:
            for n, text in enumerate(SELF_REFERRAL[:9]):
                dispatcher.handle(Inbound(Channel.SMS, f"+4477009002{person:02d}", f"SM-{person}-{n}", text))
        except Exception as exc:
            errors.append(exc)

    all_at_once(refer, range(12))
    assert errors == []
    assert count(runtime, Referral) == 12


def test_what_a_young_person_says_and_is_told_is_stored_encrypted(runtime, young_person):
    young_person.says("hi", "1", "2", "2", "yesterday", "no", "home", "cardiff")
    with runtime.engine.connect() as connection:
        stored = [
            *connection.execute(sa.text("SELECT text FROM messages")).scalars(),
            *connection.execute(sa.text("SELECT response FROM inbound_events")).scalars(),
            *connection.execute(sa.text("SELECT variables FROM conversation_states")).scalars(),
        ]
    assert len(stored) > 20
    for value in stored:
        assert value.startswith("aes:")  # sealed (models.crypto), and nothing but that
        assert "cardiff" not in value.lower() and "yesterday" not in value and "Who are you" not in value


def test_a_referral_made_is_among_the_contacts_referrals_at_once(runtime, young_person):
    """Made without the ORM's flush, it is still where the rest of the message would look for it."""
    from bot.conversation.effects import EffectContext, apply_effect

    young_person.says("hi", "1")
    with runtime.session() as session, session.begin():
        contact = Contact.find(session, Channel.SMS, PHONE)
        assert contact.referrals == []  # read before the referral is made
        context = EffectContext(session, contact, {"role": "young_person"}, utcnow(), runtime.timezone)
        made = apply_effect("create_referral", context)
        assert [referral.id for referral in contact.referrals] == [made["referral_id"]]
        assert contact.referrals[0].provider_id is not None and contact.referrals[0].episodes == []
    assert count(runtime, Referral) == 1


def test_an_answer_to_a_question_is_one_read_and_three_writes(runtime, young_person):
    """The person and their conversation are read in one statement; the conversation, the delivery with its
    answer, and the log are written in one each; nothing is read back. (Which release is live is asked at most
    once a second, so it is left out of the count.)"""
    young_person("hi")
    young_person("1")  # a young person: the bot asks what they would like to do
    statements: list[str] = []

    def counted(connection, cursor, statement, parameters, context, executemany) -> None:
        if "live_releases" not in statement:
            statements.append(statement.split(None, 1)[0].upper())

    sa.event.listen(runtime.engine, "before_cursor_execute", counted)
    try:
        assert any("How old are you?" in text for text in young_person("2"))
    finally:
        sa.event.remove(runtime.engine, "before_cursor_execute", counted)
    assert statements == ["SELECT", "UPDATE", "INSERT", "INSERT"]


def test_the_service_is_named_in_welsh_in_welsh_messages(runtime, young_person):
    welsh = young_person("shwmae")[0]
    assert welsh.startswith("Helo, Gwasanaeth Dychwelyd Adref sydd yma") and "Return Home" not in welsh
    young_person("english")
    english = Conversation(Dispatcher(runtime), "sms", "+447700900999")("hi")[0]
    assert english.startswith("Hi, this is the Return Home service")


@pytest.mark.parametrize(
    "environment, welsh_name",
    [
        ({"RHI_SERVICE_NAME": "Valleys Return Home", "RHI_SERVICE_NAME_CY": "Dychwelyd Adref y Cymoedd"},
         "Dychwelyd Adref y Cymoedd"),
        ({"RHI_SERVICE_NAME": "Valleys Return Home"}, "Valleys Return Home"),  # a name with no Welsh: kept
        ({}, "Gwasanaeth Dychwelyd Adref"),
    ],
)  # fmt: skip
def test_the_welsh_name_is_set_beside_the_english_one(tmp_path, environment, welsh_name):
    settings = load_settings({"RHI_INSTANCE_PATH": str(tmp_path), **environment})
    assert settings.service_name_cy == welsh_name
