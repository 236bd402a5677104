"""Children's words are kept only as long as needed: a job the worker runs removes them a set time after the
work ended (or after the last message of someone who never referred), and the provider keeps its records."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from auxil.clock import SimulatedClock
from auxil.providers import demo_login, self_referral
from conftest import Conversation

from bot.admin.retention import RetentionPolicy, retention_job
from bot.providers.actions import Actor, record_outcome
from bot.worker import PERIODIC_JOBS
from models import Contact, ConversationState, Escalation, Message, Referral, ReviewItem
from webhooks.app import create_app

DAY = 24 * 60 * 60


def contact_id(runtime, conversation: Conversation) -> int:
    with runtime.session() as session:
        return Contact.find(session, conversation.channel, conversation.address).id


def held(runtime, contact: int) -> dict[str, object]:
    with runtime.session() as session:
        return {
            "messages": session.scalar(sa.select(sa.func.count()).where(Message.contact_id == contact)),
            "to_read": session.scalar(sa.select(sa.func.count()).where(ReviewItem.contact_id == contact)),
            "excerpts": session.scalars(sa.select(Escalation.excerpt).where(Escalation.contact_id == contact)).all(),
            "conversation": session.scalar(sa.select(sa.func.count()).where(ConversationState.contact_id == contact)),
            "address_kept": not session.get(Contact, contact).address.startswith("deleted-"),
        }


def test_words_go_after_their_time_and_the_providers_records_stay(runtime, dispatcher):
    runtime.clock = clock = SimulatedClock()
    referred = Conversation(dispatcher, "sms", "+447700900201")
    referred.says(*self_referral())
    referred.says("i feel like hurting myself")  # a safeguarding alert, with their words as its excerpt
    with runtime.session() as session, session.begin():
        referral = session.scalars(sa.select(Referral)).one()
        referral_id, provider_id = referral.id, referral.provider_id
        clock.advance((min(booking.starts_at for booking in referral.bookings) - clock()).total_seconds() + 3600)
        record_outcome(session, Actor(provider_id, "duty@demo.test"), referral_id, clock(),
                       outcome="interview_held", follow_up_needed="school support")  # fmt: skip
    asked_only = Conversation(dispatcher, "sms", "+447700900202")
    asked_only.says("hi", "what is this about? my mum said to text")
    still_open = Conversation(dispatcher, "sms", "+447700900203")
    still_open.says(*self_referral())
    people = {name: contact_id(runtime, who) for name, who in
              (("referred", referred), ("asked_only", asked_only), ("still_open", still_open))}  # fmt: skip
    assert all(held(runtime, contact)["messages"] for contact in people.values())
    assert held(runtime, people["referred"])["excerpts"] != [""]

    clock.advance(31 * DAY)
    assert retention_job(runtime, clock()) == 1
    assert held(runtime, people["asked_only"]) == {
        "messages": 0, "to_read": 0, "excerpts": [], "conversation": 0, "address_kept": False}  # fmt: skip
    assert held(runtime, people["referred"])["messages"] > 0  # closed, but only 31 days ago

    clock.advance(60 * DAY)
    assert retention_job(runtime, clock()) == 1
    gone = held(runtime, people["referred"])
    assert gone["messages"] == 0 and gone["conversation"] == 0 and not gone["address_kept"]
    assert gone["excerpts"] and set(gone["excerpts"]) == {""}  # the safeguarding record stays, without words
    with runtime.session() as session:
        referral = session.get(Referral, referral_id)
        assert referral.outcome == "interview_held" and referral.follow_up_needed == "school support"
    assert held(runtime, people["still_open"])["messages"] > 0  # an open referral's words are still needed
    assert retention_job(runtime, clock() + timedelta(hours=2)) == 0  # nothing removed twice


def test_someone_who_writes_again_starts_the_clock_again(runtime, dispatcher):
    runtime.clock = clock = SimulatedClock()
    person = Conversation(dispatcher, "sms", "+447700900204")
    person.says("hi")
    clock.advance(20 * DAY)
    person.says("hello again")
    clock.advance(20 * DAY)
    assert retention_job(runtime, clock()) == 0  # 20 days since their last message, not 40 since the first
    assert held(runtime, contact_id(runtime, person))["messages"] > 0


def test_the_worker_runs_it_and_the_times_are_settings(runtime):
    assert PERIODIC_JOBS["remove_words_past_their_time"] is retention_job
    assert RetentionPolicy.of(runtime.settings).describe() == {"closed_referral_days": 90, "never_referred_days": 30}


def test_a_provider_sees_how_long_words_are_kept(runtime):
    client = create_app(runtime, {"TESTING": True}).test_client()
    answer = client.get("/api/v1/settings/retention", headers=demo_login(runtime, staff=False).auth)
    assert answer.status_code == 200
    assert answer.get_json() == {"closed_referral_days": 90, "never_referred_days": 30}
