"""The human net: what the machine cannot place, a person reads. A message the script could not place, an
answer in the person's own words and a safeguarding concern each go on the provider's "To read" list and out
to the provider as `message.for_review`; one left unread too long is told to the duty rota.
"""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from auxil.providers import PASSWORD
from auxil.records import assert_matches_its_schema, staff_messages, with_rota
from auxil.staff import form, log_in

from bot.alerts.duty import renotify_unread
from bot.providers.queue import to_read
from models import OutboxEvent, Provider, ReviewItem, utcnow
from webhooks.app import create_app

NOT_PLACED = "my cat knocked the router over so the wifi keeps going"
CONCERN = "I'm not suicidal or anything, don't worry about me"


def events_for_review(runtime) -> list[dict]:
    with runtime.session() as session:
        events = session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.type == "message.for_review").order_by(OutboxEvent.created_at)
        ).all()
        return [event.payload for event in events]


def waiting(runtime) -> list[dict]:
    """The demo provider's "To read" list, as its queue page shows it."""
    with runtime.session() as session:
        provider_id = session.scalars(sa.select(Provider.id).where(Provider.is_default.is_(True))).one()
        return to_read(session, provider_id)


def test_a_message_the_script_cannot_place_is_put_up_for_a_person_to_read(runtime, young_person):
    young_person("hi")
    replies = young_person(NOT_PLACED)
    assert "Sorry, I didn't get that" in replies[0]  # nothing worrying in it: the ordinary re-ask
    [item] = waiting(runtime)
    assert item["reason"] == "not_understood" and item["text"] == NOT_PLACED
    [event] = events_for_review(runtime)
    assert_matches_its_schema(event)
    data = event["data"]
    assert data["reason"] == "not_understood" and data["text"] == NOT_PLACED
    assert (data["language"], data["channel"], data["referral_id"]) == ("en", "sms", None)


def test_the_contact_reference_is_the_same_for_one_person_and_says_nothing_about_them(runtime, dispatcher):
    from conftest import Conversation

    first, second = Conversation(dispatcher, "sms", "+447700900201"), Conversation(dispatcher, "sms", "+447700900202")
    for person in (first, second):
        person("hi")
        person(NOT_PLACED)
    first("the router again, sorry")
    references = [event["data"]["contact"] for event in events_for_review(runtime)]
    assert references[0] == references[2] != references[1]
    assert all("447700900" not in reference for reference in references)


def test_an_answer_in_their_own_words_is_put_up_for_reading(runtime, young_person):
    young_person.says("hi", "1")  # a young person
    young_person.says("I don't want one")
    young_person.says("Something else")
    young_person("my nan is ill so i have to look after her")
    reasons = [event["data"]["reason"] for event in events_for_review(runtime)]
    assert "free_text" in reasons


def test_a_concern_is_read_by_a_person_and_never_answered_with_sorry(runtime, young_person):
    young_person.says("hi", "1")  # at the menu, which the concern does not answer
    replies = young_person(CONCERN)
    assert not any("Sorry, I didn't get that" in reply for reply in replies)
    assert "Someone from our team will read your message" in replies[-1] and "999" in replies[-1]
    [item] = waiting(runtime)
    assert item["reason"] == "concern" and "suicide_self_harm" in item["categories"]
    [event] = events_for_review(runtime)
    assert event["data"]["reason"] == "concern"


def test_a_safety_reply_is_never_followed_by_sorry(runtime, young_person):
    young_person("hi")
    replies = young_person("i want to kill myself")  # also not an answer to the menu
    assert "999" in replies[0]
    assert not any("Sorry, I didn't get that" in reply for reply in replies)
    assert events_for_review(runtime) == []  # the alert is read first, and says more


def test_an_unread_message_is_told_to_the_duty_rota_after_the_providers_time(runtime, young_person):
    with_rota(runtime)
    young_person("hi")
    young_person(NOT_PLACED)
    now = utcnow()
    assert renotify_unread(runtime, now) == 0  # not yet: an hour has not passed
    assert renotify_unread(runtime, now + timedelta(minutes=61)) == 1
    assert renotify_unread(runtime, now + timedelta(minutes=62)) == 0  # told; the next reminder is an hour on
    assert renotify_unread(runtime, now + timedelta(minutes=122)) == 1
    assert renotify_unread(runtime, now + timedelta(minutes=183)) == 1  # the next person on the rota
    messages = staff_messages(runtime)
    assert [message["address"] for message in messages] == ["+447700900001", "+447700900001", "555000111"]
    assert all(NOT_PLACED not in message["replies"][0]["text"] for message in messages)


def test_a_provider_sets_how_long_a_message_may_wait(runtime, young_person):
    from auxil.providers import demo_login

    with_rota(runtime)
    demo = demo_login(runtime)
    client = create_app(runtime, {"TESTING": True}).test_client()
    response = client.patch("/api/v1/settings/booking", json={"review_within_minutes": 10}, headers=demo.auth)
    assert response.status_code == 200 and response.get_json()["review_within_minutes"] == 10
    young_person("hi")
    young_person(NOT_PLACED)
    assert renotify_unread(runtime, utcnow() + timedelta(minutes=11)) == 1


def test_a_read_message_leaves_the_list_and_is_not_told_again(runtime, young_person):
    with_rota(runtime)
    young_person("hi")
    young_person(NOT_PLACED)
    with runtime.session() as session, session.begin():
        session.scalars(sa.select(ReviewItem)).one().read_at = utcnow()
    assert waiting(runtime) == []
    assert renotify_unread(runtime, utcnow() + timedelta(hours=5)) == 0


@pytest.fixture
def queue_pages(runtime, young_person):
    from auxil.providers import demo_login, other_provider

    demo, other = demo_login(runtime), other_provider(runtime)
    young_person("hi")
    young_person(NOT_PLACED)
    client = create_app(runtime, {"TESTING": True}).test_client()
    return client, demo, other, runtime


def test_the_queue_shows_the_to_read_list_after_the_alerts_and_marking_read_clears_it(queue_pages):
    client, demo, _, _ = queue_pages
    assert log_in(client, demo.email, PASSWORD).status_code == 302
    page = client.get("/provider/").get_data(as_text=True)
    assert page.index("Alerts") < page.index("To read (1)") < page.index("Requests")
    assert NOT_PLACED in page
    item_id = int(page.split("/provider/to-read/")[1].split("/")[0])
    assert form(client, f"/provider/to-read/{item_id}/read").status_code == 303
    page = client.get("/provider/").get_data(as_text=True)
    assert "Nothing waiting to be read." in page and NOT_PLACED not in page


def test_another_providers_worker_cannot_see_or_mark_the_message(queue_pages):
    client, _, other, runtime = queue_pages
    assert log_in(client, other.email, PASSWORD).status_code == 302
    page = client.get("/provider/").get_data(as_text=True)
    assert NOT_PLACED not in page
    with runtime.session() as session:
        item_id = session.scalars(sa.select(ReviewItem.id)).one()
    assert form(client, f"/provider/to-read/{item_id}/read").status_code == 404


def test_delete_my_data_takes_their_words_off_the_list(runtime, young_person):
    young_person("hi")
    young_person(NOT_PLACED)
    young_person("delete my data")
    young_person("yes")
    assert waiting(runtime) == []
    with runtime.session() as session:
        assert session.scalars(sa.select(ReviewItem)).all() == []
