"""The offer and what follows it, on the simulated clock: no reply gets one gentle re-offer a day later (in texting
hours) and then "no response" for the worker; a reply, STOP or "wrong number" ends it; a parent's number gets the
parent's version. Messages go through the real outbox to the local Twilio; replies come in as texts do.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import auxil.channels as channel_fixtures
import pytest
import sqlalchemy as sa
from auxil.offers import CHILD, LONDON, PARENT, clock_at, report
from auxil.provider_endpoint import relay_everything
from auxil.providers import demo_login, self_referral
from conftest import Conversation

from bot.offers.episodes import check_report, report_episode
from bot.offers.offering import NO_RESPONSE_AFTER, REOFFER_AFTER, in_hours
from bot.worker import run_periodic_jobs
from models import Escalation, Offer, OfferStatus, Referral

channels = channel_fixtures.channels
telegram_api = channel_fixtures.telegram_api
twilio_api = channel_fixtures.twilio_api


def reported(runtime, **fields) -> int:
    """A service reports a return now; the referral's id."""
    demo = demo_login(runtime, staff=False)
    now = runtime.clock()
    episode, problems = check_report(report(now, **fields), ["cardiff", "newport"], now, runtime.timezone)
    assert not problems, problems
    with runtime.session() as session, session.begin():
        referral_id = report_episode(session, runtime, demo.id, episode, now).referral_id
    relay_everything(runtime)
    return referral_id


def offers(runtime) -> dict[bool, Offer]:
    """The offers made, by whether they went to a parent."""
    with runtime.session() as session:
        return {offer.to_parent: offer for offer in session.scalars(sa.select(Offer))}


def jobs(runtime) -> int:
    done = run_periodic_jobs(runtime)["send_offers"]
    relay_everything(runtime)
    return done


@pytest.mark.parametrize(
    "local, expected",
    [
        ((10, 0), (10, 0, 0)),
        ((7, 59), (8, 0, 0)),
        ((20, 59), (20, 59, 0)),
        ((21, 0), (8, 0, 1)),
        ((23, 30), (8, 0, 1)),
        ((0, 5), (8, 0, 0)),
    ],
)
def test_texts_go_between_eight_and_nine_else_at_eight(local, expected):
    moment = datetime(2026, 3, 28, *local, tzinfo=LONDON)  # the night the clocks go forward, too
    hour, minute, days = expected
    wanted = datetime(2026, 3, 28 + days, hour, minute, tzinfo=LONDON)
    assert in_hours(moment.astimezone(UTC), LONDON) == wanted.astimezone(UTC)


def test_no_reply_gets_one_gentle_reoffer_a_day_later_then_no_response_for_the_worker(channels, twilio_api):
    channels.clock = clock = clock_at(14)
    referral_id = reported(channels)
    sent_at = clock.now
    assert len(twilio_api.sent_to(CHILD)) == 1

    clock.now = sent_at + REOFFER_AFTER - timedelta(minutes=1)
    assert jobs(channels) == 0
    clock.now = sent_at + REOFFER_AFTER
    assert jobs(channels) == 1
    [_, again] = twilio_api.sent_to(CHILD)
    assert again.startswith("Hi, it's") and "No pressure" in again and "Would you like one?" in again
    assert offers(channels)[False].status == OfferStatus.REOFFERED

    clock.now += NO_RESPONSE_AFTER
    assert jobs(channels) == 1
    assert offers(channels)[False].status == OfferStatus.NO_RESPONSE
    assert len(twilio_api.sent_to(CHILD)) == 2  # nothing more is sent: a worker follows up another way
    clock.now += timedelta(days=3)
    assert jobs(channels) == 0
    with channels.session() as session:
        assert session.get(Referral, referral_id).offered_at == sent_at  # the first offer is the one counted


def test_a_reoffer_that_would_fall_at_night_waits_for_eight():
    """24 hours after 20:30 is 21:30 when the clocks go forward in between (29 March 2026)."""
    offered = datetime(2026, 3, 28, 20, 30, tzinfo=LONDON).astimezone(UTC)
    assert in_hours(offered + REOFFER_AFTER, LONDON) == datetime(2026, 3, 30, 8, 0, tzinfo=LONDON).astimezone(UTC)


def test_a_reply_ends_the_offer_and_no_reoffer_follows(channels, dispatcher, twilio_api):
    channels.clock = clock = clock_at(9)
    reported(channels)
    assert "Where would you like to meet?" in "\n".join(Conversation(dispatcher, "sms", CHILD)("ok"))

    clock.now += REOFFER_AFTER
    jobs(channels)
    assert len(twilio_api.sent_to(CHILD)) == 1
    assert offers(channels)[False].status == OfferStatus.ANSWERED


def test_stop_is_honoured_at_once(channels, dispatcher, twilio_api):
    channels.clock = clock = clock_at(9)
    reported(channels)
    assert "won't get any more messages" in "\n".join(Conversation(dispatcher, "sms", CHILD)("STOP"))

    clock.now += REOFFER_AFTER
    jobs(channels)
    assert len(twilio_api.sent_to(CHILD)) == 1
    assert offers(channels)[False].status == OfferStatus.STOPPED


def test_a_wrong_number_is_answered_kindly_and_the_offer_marked_so(channels, dispatcher, twilio_api):
    channels.clock = clock = clock_at(9)
    reported(channels)
    stranger = Conversation(dispatcher, "sms", CHILD)

    asked = "\n".join(stranger("who is this??"))
    assert "Is this message for you?" in asked
    assert "away from home" not in asked  # nothing about the young person to someone it may not be for
    sorry = "\n".join(stranger("no, wrong number"))
    assert "Sorry to bother you" in sorry

    assert offers(channels)[False].status == OfferStatus.WRONG_NUMBER
    clock.now += REOFFER_AFTER
    jobs(channels)
    assert len(twilio_api.sent_to(CHILD)) == 1


def test_who_is_this_then_yes_goes_back_to_the_offer(channels, dispatcher):
    channels.clock = clock_at(9)
    reported(channels)
    young_person = Conversation(dispatcher, "sms", CHILD)
    young_person("who are you")
    assert "Would you like one?" in "\n".join(young_person("yes it's me"))


def test_a_parent_gets_the_parents_version_which_never_says_what_the_young_person_says(
    channels, dispatcher, twilio_api
):
    channels.clock = clock = clock_at(9)
    reported(channels, parent_phone="07700 900654")
    [to_parent] = twilio_api.sent_to(PARENT)
    assert "We've offered one to your child: it's their choice." in to_parent
    assert "Would you like one?" not in to_parent

    Conversation(dispatcher, "sms", CHILD).says("no thanks", "Something else", "my mum hits me")
    clock.now += REOFFER_AFTER
    jobs(channels)
    assert len(twilio_api.sent_to(PARENT)) == 1  # a parent is told once, and nothing of the young person's words
    assert "mum" not in "\n".join(twilio_api.sent_to(PARENT))
    parent = Conversation(dispatcher, "sms", PARENT)
    assert "Your child chooses when, where and who" in "\n".join(parent("tell me more"))


def test_a_reply_to_the_offer_is_checked_for_safety_like_any_message(channels, dispatcher):
    channels.clock = clock_at(9)
    referral_id = reported(channels)
    young_person = Conversation(dispatcher, "sms", CHILD)

    replies = young_person("yes but I'm being kept somewhere and I'm scared")

    assert "999" in replies[0]  # the safety message comes first
    assert "Where would you like to meet?" in "\n".join(replies)  # and the conversation carries on
    with channels.session() as session:
        [alert] = session.scalars(sa.select(Escalation)).all()
        assert (alert.referral_id, alert.severity) == (referral_id, "immediate")


def test_the_young_person_can_say_no_and_why(channels, dispatcher):
    channels.clock = clock_at(9)
    referral_id = reported(channels)
    young_person = Conversation(dispatcher, "sms", CHILD)
    assert "Can you tell us why?" in "\n".join(young_person("no thanks"))
    young_person.says("sounds too formal", "no thanks")
    with channels.session() as session:
        referral = session.get(Referral, referral_id)
        assert (referral.status, referral.decline_reason) == ("declined", "too_formal")


def test_a_young_person_who_comes_to_the_bot_themselves_is_offered_in_the_conversation(runtime, young_person):
    young_person.says(*self_referral("cardiff"))
    with runtime.session() as session:
        referral = session.scalars(sa.select(Referral)).one()
        assert referral.offer_method == "in_conversation" and referral.offered_at == referral.created_at
