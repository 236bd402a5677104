"""The provider API, /api/v1/: the queue, a referral, and a worker's actions, each answered through the bot.

Two providers share the deployment; neither can see or touch the other's referrals. The young people are
real conversations through the dispatcher; what they are told is read from the outbox, as their channel
would send it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from auxil.providers import (
    OTHER_AREA,
    demo_login,
    latest_referral_id,
    messages_to,
    other_provider,
    self_referral,
    working_time,
)
from conftest import Conversation

from models import (
    Booking,
    Escalation,
    OutboxEvent,
    OutboxKind,
    Referral,
    Slot,
    SlotStatus,
    utcnow,
)
from webhooks.app import create_app


@pytest.fixture
def client(runtime):
    return create_app(runtime, {"TESTING": True}).test_client()


@pytest.fixture
def demo(runtime):
    return demo_login(runtime, staff=False)


@pytest.fixture
def world(runtime, dispatcher, client, demo):
    """The demo provider with a young person's booking request."""
    sam = Conversation(dispatcher, "sms", "+447700900101")
    sam.says(*self_referral("cardiff"))
    return {"client": client, "demo": demo, "sam": sam, "referral": latest_referral_id(runtime, demo.id)}


@pytest.fixture
def two_providers(world, runtime, dispatcher):
    """...and another provider on the same deployment, with a young person's request of its own."""
    other = other_provider(runtime, staff=False)
    dee = Conversation(dispatcher, "sms", "+447700900102")
    dee.says(*self_referral(OTHER_AREA.replace("_", " ")))
    return {**world, "other": other, "dee": dee, "other_referral": latest_referral_id(runtime, other.id)}


def provider_events(runtime, referral_id: int) -> list[tuple[str, dict]]:
    with runtime.session() as session:
        events = session.scalars(
            sa.select(OutboxEvent)
            .where(
                OutboxEvent.kind == OutboxKind.PROVIDER_WEBHOOK, OutboxEvent.ordering_key == f"referral:{referral_id}"
            )
            .order_by(OutboxEvent.created_at)
        ).all()
        return [(event.type, event.payload["data"]) for event in events]


# --- who may call -------------------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/api/v1/referrals", None),
    ("get", "/api/v1/referrals/{referral}", None),
    ("post", "/api/v1/referrals/{referral}/assign", {"worker_id": None}),
    ("post", "/api/v1/referrals/{referral}/confirm", {}),
    ("post", "/api/v1/referrals/{referral}/propose", {"starts_at": "2099-01-05T16:00:00Z"}),
    ("post", "/api/v1/referrals/{referral}/booking/cancel", {}),
    ("post", "/api/v1/referrals/{referral}/booking/move", {"starts_at": "2099-01-05T16:00:00Z"}),
    ("post", "/api/v1/referrals/{referral}/outcome", {"outcome": "interview_held"}),
    ("post", "/api/v1/referrals/{referral}/messages", {"text": "Hi, it's Eleri"}),
    ("get", "/api/v1/alerts", None),
    ("post", "/api/v1/alerts/{alert}/acknowledge", None),
    ("get", "/api/v1/workers", None),
    ("get", "/api/v1/dead-letters", None),
]


@pytest.mark.one_database  # refused before anything the database does differently
@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize("token", [None, "rhi_not-a-real-token", "Basic dXNlcjpwYXNz"])
def test_every_endpoint_needs_the_providers_own_token(client, demo, method, path, body, token):
    headers = {} if token is None else {"Authorization": token if token.startswith("Basic") else f"Bearer {token}"}
    url = path.format(referral=1, alert=1)
    response = getattr(client, method)(url, json=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"] == "unauthorized"


@pytest.mark.parametrize(("method", "path", "body"), [e for e in ENDPOINTS if "{" in e[1]])
def test_another_providers_referral_or_alert_is_not_found_on_every_endpoint(two_providers, runtime, method, path, body):
    world = two_providers
    world["dee"]("i want to kill myself")  # an alert on the other provider's referral
    with runtime.session() as session:
        their_alert = session.scalars(sa.select(Escalation.id)).one()
    url = path.format(referral=world["other_referral"], alert=their_alert)
    response = getattr(world["client"], method)(url, json=body, headers=world["demo"].auth)
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    # ...and the same call with the right provider's token works (it is not a path problem)
    response = getattr(world["client"], method)(url, json=body, headers=world["other"].auth)
    assert response.status_code in (200, 409, 422), response.get_json()


def test_a_provider_lists_only_its_own_queue(two_providers):
    world = two_providers
    demo = world["client"].get("/api/v1/referrals", headers=world["demo"].auth).get_json()["referrals"]
    other = world["client"].get("/api/v1/referrals", headers=world["other"].auth).get_json()["referrals"]
    assert [item["id"] for item in demo] == [world["referral"]]
    assert [item["id"] for item in other] == [world["other_referral"]]
    assert other[0]["area"] == OTHER_AREA


# --- bad input ----------------------------------------------------------------------------------------

INVALID = [
    ("assign", {}, "worker_id"),
    ("assign", {"worker_id": "Eleri"}, "worker_id"),
    ("assign", {"worker_id": 999999}, "worker_id"),
    ("confirm", {"starts_at": "next tuesday"}, "starts_at"),
    ("confirm", {"starts_at": "2099-01-05T16:00:00"}, "starts_at"),
    ("confirm", {"place_kind": "pub"}, "place_kind"),
    ("confirm", {"booking_id": 999999}, "booking_id"),
    ("confirm", {"surprise": 1}, "surprise"),
    ("propose", {}, "starts_at"),
    ("propose", {"starts_at": "2001-01-01T10:00:00Z"}, "starts_at"),
    ("propose", {"starts_at": "2099-01-05T16:00:00Z", "worker_id": 0}, "worker_id"),
    ("outcome", {}, "outcome"),
    ("outcome", {"outcome": "went_well"}, "outcome"),
    ("outcome", {"outcome": "interview_held", "follow_up_needed": "x" * 2001}, "follow_up_needed"),
    ("messages", {"text": ""}, "text"),
    ("messages", {"text": "   "}, "text"),
    ("messages", {"text": "x" * 481}, "text"),
    ("messages", {"text": 42}, "text"),
    ("messages", [], "body"),
]


@pytest.mark.one_database  # refused before anything the database does differently
@pytest.mark.parametrize(("action", "body", "field"), INVALID)
def test_an_invalid_body_is_422_naming_the_field(world, action, body, field):
    url = f"/api/v1/referrals/{world['referral']}/{action}"
    response = world["client"].post(url, json=body, headers=world["demo"].auth)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["field"] == field


def test_a_body_that_is_not_json_is_422(world):
    url = f"/api/v1/referrals/{world['referral']}/messages"
    response = world["client"].post(url, data="text=hi", headers=world["demo"].auth)
    assert response.status_code == 422 and response.get_json()["field"] == "body"


@pytest.mark.parametrize(
    ("query", "field"), [("limit=0", "limit"), ("at_risk=maybe", "at_risk"), ("status=lost", "status")]
)
def test_a_bad_filter_is_422_naming_it(world, query, field):
    response = world["client"].get(f"/api/v1/referrals?{query}", headers=world["demo"].auth)
    assert response.status_code == 422 and response.get_json()["field"] == field


@pytest.mark.one_database  # refused before anything the database does differently
@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_a_query_parameter_the_path_does_not_take_is_422_naming_it(world, method, path, body):
    url = path.format(referral=world["referral"], alert=1) + "?colour=red"
    response = getattr(world["client"], method)(url, json=body, headers=world["demo"].auth)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["field"] == "colour"


# --- reading ------------------------------------------------------------------------------------------


def test_the_queue_puts_alerts_first_then_the_nearest_deadline(world, runtime, dispatcher):
    later = Conversation(dispatcher, "sms", "+447700900103")
    later.says(*self_referral("newport"))
    worried = Conversation(dispatcher, "sms", "+447700900104")
    worried.says(*self_referral("cardiff"))
    worried("he said he'll stab me if i tell anyone")  # urgent
    with runtime.session() as session, session.begin():
        # the first young person came back longest ago: their deadline is nearest, and less than a day away
        referral = session.get(Referral, world["referral"])
        referral.deadline_at = utcnow() + timedelta(hours=5)
    items = world["client"].get("/api/v1/referrals", headers=world["demo"].auth).get_json()["referrals"]
    assert items[0]["severity"] == "urgent" and items[0]["open_alerts"] == 1
    assert items[1]["id"] == world["referral"] and items[1]["at_risk"]
    assert not items[2]["at_risk"] and items[2]["severity"] is None
    at_risk = world["client"].get("/api/v1/referrals?at_risk=true", headers=world["demo"].auth).get_json()
    assert [item["id"] for item in at_risk["referrals"]] == [world["referral"]]


def test_a_referral_has_its_episodes_answers_bookings_alerts_and_timeline(world):
    world["sam"]("i want to end my life")
    detail = world["client"].get(f"/api/v1/referrals/{world['referral']}", headers=world["demo"].auth).get_json()
    assert detail["status"] == "booking_requested" and detail["area"] == "cardiff"
    assert detail["episodes"][0]["hidden"] is True and detail["episodes"][0]["age_band"] == "age_13_15"
    assert detail["answers"]["place_kind"] == "cafe" and detail["answers"]["worker_preference"] == "woman"
    assert detail["bookings"][0]["status"] == "requested"
    assert detail["alerts"][0]["severity"] == "immediate" and "end my life" in detail["alerts"][0]["excerpt"]
    kinds = [entry["kind"] for entry in detail["timeline"]]
    assert {"referral", "event", "alert"} <= set(kinds)
    events = [entry["event_type"] for entry in detail["timeline"] if entry["kind"] == "event"]
    assert "safeguarding.alert" in events, "an alert, though ordered apart, is still on its referral's timeline"
    assert "message" not in kinds, "the scripted chat is not shown: its answers are the referral's fields"
    assert "+4477" not in str(detail), "the young person's number is never shown"


# --- acting -------------------------------------------------------------------------------------------


def test_confirming_tells_the_young_person_in_their_language_on_their_channel(world, runtime):
    client, demo = world["client"], world["demo"]
    response = client.post(f"/api/v1/referrals/{world['referral']}/confirm", json={}, headers=demo.auth)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["young_person_told"] is True and body["booking"]["status"] == "confirmed"
    [text] = messages_to(runtime, world["sam"].last.contact_id)
    assert text.startswith("Your chat is booked.") and "Where: A cafe" in text
    with runtime.session() as session:
        booking = session.scalars(sa.select(Booking).where(Booking.referral_id == world["referral"])).one()
        assert session.get(Slot, booking.slot_id).status == SlotStatus.BOOKED
        assert session.get(Referral, world["referral"]).status == "booked"


def test_a_welsh_speaker_is_told_in_welsh(runtime, dispatcher, client, demo):
    cerys = Conversation(dispatcher, "sms", "+447700900105")
    cerys.says(
        "helo", "1", "2", "2", "ddoe", "nac oedden", "gartref", "caerdydd", "ydy", "caffi", "menyw", "1", "na", "ie"
    )
    referral = latest_referral_id(runtime, demo.id)
    assert client.post(f"/api/v1/referrals/{referral}/confirm", json={}, headers=demo.auth).status_code == 200
    [text] = messages_to(runtime, cerys.last.contact_id)
    assert text.startswith("Mae dy sgwrs wedi'i threfnu.") and "Ble: Caffi" in text


def test_confirming_a_time_given_in_words_needs_the_time_agreed(world, runtime, dispatcher):
    words = Conversation(dispatcher, "sms", "+447700900106")
    words.says(*self_referral("cardiff", time="none of these")[:-2], "none of these", "saturday morning", "yes",
               "none of these", "no", "yes")  # fmt: skip
    referral = latest_referral_id(runtime, world["demo"].id)
    url = f"/api/v1/referrals/{referral}/confirm"
    response = world["client"].post(url, json={"worker_id": world["demo"].worker_id}, headers=world["demo"].auth)
    assert response.status_code == 422 and response.get_json()["field"] == "starts_at"
    agreed = working_time(runtime, utcnow() + timedelta(days=3), world["demo"].worker_id)
    body = {"starts_at": agreed.isoformat(), "worker_id": world["demo"].worker_id}
    response = world["client"].post(url, json=body, headers=world["demo"].auth)
    assert response.status_code == 200, response.get_json()
    assert "Your chat is booked." in messages_to(runtime, words.last.contact_id)[0]


def test_a_new_time_is_offered_and_the_young_person_accepts_it(world, runtime):
    sam, client, demo = world["sam"], world["client"], world["demo"]
    when = working_time(runtime, utcnow() + timedelta(days=2), demo.worker_id)
    body = {"starts_at": when.isoformat(), "worker_id": demo.worker_id}
    response = client.post(f"/api/v1/referrals/{world['referral']}/propose", json=body, headers=demo.auth)
    assert response.status_code == 200 and response.get_json()["young_person_told"]
    [text] = messages_to(runtime, sam.last.contact_id)
    assert "A worker has suggested a new time" in text and "Does that suit you?" in text
    replies = sam("1")
    assert "that's booked" in replies[-1]
    with runtime.session() as session:
        bookings = session.scalars(
            sa.select(Booking).where(Booking.referral_id == world["referral"]).order_by(Booking.id)
        ).all()
        assert [b.status for b in bookings] == ["cancelled", "confirmed"]
        assert bookings[1].starts_at == when and bookings[1].worker_id == demo.worker_id
        assert session.get(Referral, world["referral"]).status == "booked"
    types = [event_type for event_type, _ in provider_events(runtime, world["referral"])]
    assert types[-2:] == ["booking.cancelled", "booking.requested"]
    assert provider_events(runtime, world["referral"])[-1][1]["status"] == "confirmed"


def test_a_new_time_is_offered_and_the_young_person_chooses_another(world, runtime):
    sam, client, demo = world["sam"], world["client"], world["demo"]
    when = (utcnow() + timedelta(days=2)).replace(hour=15, minute=0, second=0, microsecond=0)
    client.post(
        f"/api/v1/referrals/{world['referral']}/propose", json={"starts_at": when.isoformat()}, headers=demo.auth
    )
    assert "When suits you?" in sam("choose another time")[-1]
    assert "Send this?" in sam("2")[-1]  # the place, worker and adult are kept from before
    assert "Sent!" in sam("yes")[-1]
    with runtime.session() as session:
        statuses = session.scalars(
            sa.select(Booking.status).where(Booking.referral_id == world["referral"]).order_by(Booking.id)
        ).all()
        assert statuses == ["cancelled", "requested"]
        assert session.scalar(sa.select(sa.func.count()).where(Slot.status == SlotStatus.HELD)) == 1


def test_a_message_reaches_the_young_person_and_their_reply_shows_in_the_timeline(world, runtime):
    sam, client, demo = world["sam"], world["client"], world["demo"]
    body = {"text": "Hi, it's Eleri. Is 4pm still OK?", "worker_id": demo.worker_id}
    response = client.post(f"/api/v1/referrals/{world['referral']}/messages", json=body, headers=demo.auth)
    assert response.status_code == 200 and response.get_json()["young_person_told"]
    [text] = messages_to(runtime, sam.last.contact_id)
    assert "Is 4pm still OK?" in text and "Eleri" in text
    assert "will see your reply" in sam("yes that's fine")[-1]
    detail = client.get(f"/api/v1/referrals/{world['referral']}", headers=demo.auth).get_json()
    said = [entry["text"] for entry in detail["timeline"] if entry["kind"] == "message"]
    assert "yes that's fine" in said and any("Is 4pm still OK?" in text for text in said)


def test_a_young_person_who_sent_stop_is_not_messaged(world, runtime):
    world["sam"]("stop")
    client, demo = world["client"], world["demo"]
    response = client.post(f"/api/v1/referrals/{world['referral']}/messages", json={"text": "Hi"}, headers=demo.auth)
    assert response.status_code == 409
    response = client.post(f"/api/v1/referrals/{world['referral']}/confirm", json={}, headers=demo.auth)
    assert response.status_code == 200
    assert response.get_json()["young_person_told"] is False and "STOP" in response.get_json()["not_told_because"]
    assert messages_to(runtime, world["sam"].last.contact_id) == []


def test_assigning_recording_the_outcome_and_acknowledging_an_alert(world, runtime):
    client, demo, referral = world["client"], world["demo"], world["referral"]
    world["sam"]("i want to end my life")
    response = client.post(
        f"/api/v1/referrals/{referral}/assign", json={"worker_id": demo.worker_id}, headers=demo.auth
    )
    assert response.get_json()["assigned_worker"]["id"] == demo.worker_id
    [alert] = client.get("/api/v1/alerts", headers=demo.auth).get_json()["alerts"]
    response = client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=demo.auth)
    assert response.status_code == 200 and response.get_json()["alert"]["acknowledged_by"] == "api"
    assert client.get("/api/v1/alerts", headers=demo.auth).get_json()["alerts"] == []
    body = {"outcome": "interview_held", "follow_up_needed": "school support", "follow_up_provided": "met head of year"}
    response = client.post(f"/api/v1/referrals/{referral}/outcome", json=body, headers=demo.auth)
    assert response.status_code == 422 and "has not started" in response.get_json()["detail"], "the chat is ahead"
    body["outcome"] = "could_not_contact"
    response = client.post(f"/api/v1/referrals/{referral}/outcome", json=body, headers=demo.auth)
    assert response.get_json()["status"] == "closed"
    detail = client.get(f"/api/v1/referrals/{referral}", headers=demo.auth).get_json()
    assert detail["outcome"]["follow_up_provided"] == "met head of year"
    assert client.get("/api/v1/referrals", headers=demo.auth).get_json()["referrals"] == []  # closed: off the queue


def test_unknown_paths_and_methods_answer_in_json(world):
    client, demo = world["client"], world["demo"]
    assert client.get("/api/v1/nothing", headers=demo.auth).get_json()["error"] == "not_found"
    assert client.delete(f"/api/v1/referrals/{world['referral']}", headers=demo.auth).status_code == 405
    assert client.get("/api/v1/referrals/99999999999", headers=demo.auth).status_code == 404


# --- the document matches the implementation ----------------------------------------------------------


def test_the_openapi_document_describes_every_route(runtime):
    app = create_app(runtime, {"TESTING": True})
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    documented = {
        (method.upper(), "/api/v1" + path.replace("{", "<").replace("}", ">"))
        for path, operations in document["paths"].items()
        for method in operations
    }
    routed = {
        (method, rule.rule.replace("<int:", "<"))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "provider_api.openapi_json"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == routed
    assert set(document["webhooks"]) == {
        "referral.created", "episode.reported", "booking.requested", "booking.cancelled", "referral.declined",
        "safeguarding.alert", "message.for_review",
    }  # fmt: skip
