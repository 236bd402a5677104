"""Every provider event the journeys emit matches its documented JSON Schema (bot/schemas), and carries
what a worker needs and no more: never the young person's number unless the provider asked for it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from auxil.providers import demo_login, latest_referral_id, self_referral
from auxil.records import assert_matches_its_schema
from conftest import Conversation
from jsonschema import Draft202012Validator

from bot.outbox.events import EVENT_SCHEMAS_DIR, data_schema, envelope_schema
from bot.outbox.writing import ADDRESS_FIELD, EVENT_TYPES, WORDS_IN
from models import Contact, OutboxEvent, OutboxKind, Provider, utcnow
from webhooks.app import create_app

PHONES = {"sam": "+447700900101", "pat": "+447700900102", "dee": "+447700900103", "ali": "+447700900104"}


def provider_events(runtime) -> list[dict]:
    with runtime.session() as session:
        rows = session.scalars(
            sa.select(OutboxEvent)
            .where(OutboxEvent.kind == OutboxKind.PROVIDER_WEBHOOK)
            .order_by(OutboxEvent.created_at)
        ).all()
        return [row.payload for row in rows]


def every_journey(runtime, dispatcher) -> None:
    """Each journey that tells a provider something, and each thing a worker can make a young person do."""
    demo = demo_login(runtime, staff=False)
    client = create_app(runtime, {"TESTING": True}).test_client()
    sam = Conversation(dispatcher, "sms", PHONES["sam"])
    sam.says(*self_referral("cardiff"))  # referral.created, episode.reported, booking.requested
    sam("i want to end my life")  # safeguarding.alert about a referral
    referral = latest_referral_id(runtime, demo.id)
    soon = (utcnow() + timedelta(days=2)).replace(hour=15, minute=0, second=0, microsecond=0).isoformat()
    client.post(f"/api/v1/referrals/{referral}/propose", json={"starts_at": soon}, headers=demo.auth)
    sam("1")  # accepted: booking.cancelled, booking.requested (confirmed)
    client.post(f"/api/v1/referrals/{referral}/propose", json={"starts_at": soon}, headers=demo.auth)
    sam.says("choose another time", "2", "yes")  # booking.cancelled, booking.requested
    Conversation(dispatcher, "sms", PHONES["pat"]).says("hi", "2", "1", "3", "2", "2", "2", "1", "4", "3", "1")
    Conversation(dispatcher, "sms", PHONES["dee"]).says("hi", "1", "3", "11", "my mum would find out", "5")
    Conversation(dispatcher, "telegram", "5550001").says("helo", "dw i eisiau marw")  # an alert, no referral yet
    Conversation(dispatcher, "sms", PHONES["ali"]).says("hi", "1", "2", "1", "not back", "yes", "care", "not sure",
                                                          "yes")  # fmt: skip


def test_the_schemas_are_valid_and_cover_every_event_type():
    Draft202012Validator.check_schema(envelope_schema())
    assert {path.name.removesuffix(".json") for path in EVENT_SCHEMAS_DIR.glob("*.json")} == set(EVENT_TYPES)
    for event_type in EVENT_TYPES:
        Draft202012Validator.check_schema(data_schema(event_type))


def test_every_event_the_journeys_emit_matches_its_schema(runtime, dispatcher):
    every_journey(runtime, dispatcher)
    events = provider_events(runtime)
    assert {event["type"] for event in events} == set(EVENT_TYPES), "every type was emitted at least once"
    for event in events:
        assert_matches_its_schema(event)
    reasons = {event["data"]["reason"] for event in events if event["type"] == "booking.cancelled"}
    assert reasons == {"new_time_accepted", "new_time_requested"}
    statuses = [event["data"]["status"] for event in events if event["type"] == "booking.requested"]
    assert statuses == ["requested", "confirmed", "requested"]


def test_no_event_carries_a_phone_number_or_words_the_young_person_typed(runtime, dispatcher):
    every_journey(runtime, dispatcher)
    events = provider_events(runtime)
    # Only a message put up for a person to read carries the words that need reading, and never a number.
    for_review = [event for event in events if event["type"] == "message.for_review"]
    assert for_review and all(event["data"]["text"] for event in for_review)
    assert not any(phone in str(for_review) for phone in PHONES.values())
    text = str([event for event in events if event["type"] != "message.for_review"])
    for phone in PHONES.values():
        assert phone not in text and phone[3:] not in text
    assert "5550001" not in text
    assert "my mum would find out" not in text
    assert "saturday" not in text.lower()


def test_a_provider_that_asks_for_the_number_gets_it_on_the_referral(runtime, dispatcher):
    with runtime.session() as session, session.begin():
        session.scalars(sa.select(Provider)).one().share_contact_address = True
    Conversation(dispatcher, "sms", PHONES["sam"]).says(*self_referral("cardiff"))
    [created] = [event for event in provider_events(runtime) if event["type"] == "referral.created"]
    assert_matches_its_schema(created)
    assert created["data"]["contact_address"] == PHONES["sam"]


# The safeguarding alert's content belongs to the safeguarding work and may grow; the rest are closed.
@pytest.mark.parametrize("event_type", [event_type for event_type in EVENT_TYPES if event_type != "safeguarding.alert"])
def test_a_schema_refuses_an_event_with_a_field_it_does_not_document(event_type):
    schema = data_schema(event_type)
    assert schema["additionalProperties"] is False


# Fields that are free text by their type but never hold anything of the young person.
NOT_PERSONAL = {"area", "area_name", "reply_via.api", "reply_via.queue"}


def free_text_fields(schema: dict, prefix: str = "") -> set[str]:
    """Every string field with no enum, pattern, format or constant: where words or an address could go."""
    found = set()
    for name, field in schema.get("properties", {}).items():
        types = field.get("type") if isinstance(field.get("type"), list) else [field.get("type")]
        if "string" in types and not {"enum", "pattern", "format", "const"} & set(field):
            found.add(prefix + name)
        found |= free_text_fields(field, f"{prefix}{name}.")
    return found


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_field_that_can_hold_the_young_persons_words_or_address_is_one_delete_my_data_empties(event_type):
    emptied = {*WORDS_IN.get(event_type, ()), ADDRESS_FIELD}
    assert free_text_fields(data_schema(event_type)) - NOT_PERSONAL <= emptied


def test_after_everyone_deletes_their_data_every_event_still_matches_its_schema_without_their_words(
    runtime, dispatcher
):
    with runtime.session() as session, session.begin():  # the number travels too, and must go as well
        session.execute(sa.update(Provider).values(share_contact_address=True))
    every_journey(runtime, dispatcher)
    for channel, address in [*(("sms", phone) for phone in PHONES.values()), ("telegram", "5550001")]:
        Conversation(dispatcher, channel, address).says("delete my data", "yes")
    with runtime.session() as session:
        assert all(address.startswith("deleted-") for address in session.scalars(sa.select(Contact.address)))
    events = provider_events(runtime)
    for event in events:
        assert_matches_its_schema(event)
        for name in WORDS_IN.get(event["type"], ()):
            assert event["data"][name] == ""
    assert not any(ADDRESS_FIELD in event["data"] for event in events)
    assert not any(phone[1:] in str(events) for phone in PHONES.values()) and "5550001" not in str(events)
