"""Every route to a booking leaves the same facts: the walk over the scripts.

The routes are not listed by hand: starting where a conversation starts (a first message, and the bot's offer
after a service reported a return), every question of the loaded scripts is answered with each of its options
that leads somewhere different (one option per next step), replaying the conversation from the start for each.
A route that reaches the booking's questions is then finished (the first option each time, so a time from the
list is chosen and sent) and the referral it leaves is checked: the request made with the young person's
consent, asked the same way, their episode recorded with the return day and whether police knew as they
answered, and the 72-hour deadline counted from that return.

A route ends when it comes back to a question it already asked (a loop), or finishes without a booking.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa
from auxil.offers import report
from auxil.providers import demo_login
from conftest import Conversation

from bot.booking.offer import RETURN_INTERVIEW_WINDOW
from bot.offers.episodes import check_report, report_episode
from bot.offers.offering import make_offer
from models import Contact, Offer, OfferStatus, Referral, ReferralStatus, ReferredBy

# The scripts' graph; the referral's writes run on PostgreSQL in test_dispatcher.py.
pytestmark = pytest.mark.one_database

BOOKING = "booking"
MOST_ANSWERS = 40  # a route longer than this is a loop the walk did not see
_numbers = itertools.count(1)
# The answers to "When did you get back?" that name a day, and how many days back it is.
DAYS_BACK = {"Today": timedelta(days=0), "Yesterday": timedelta(days=1), "2 or 3 days ago": timedelta(days=2)}
# A question asking for a typed answer gets one answer of its type.
TYPED_ANSWERS = {"text": "pass", "age": "14", "age_band": "14", "day": "yesterday", "day_band": "yesterday",
                 "time": "4pm", "yes_no": "yes"}  # fmt: skip


@dataclass(frozen=True)
class Route:
    start: str  # "hi" (a first message) or "offer"
    answers: tuple[str, ...] = ()


@dataclass
class Walked:
    """Where a route got to: the question it waits at (script, step), its options, and the questions on the way."""

    conversation: Conversation
    contact_id: int
    waiting: tuple[str, str] | None
    asked: list[tuple[str, str]] = field(default_factory=list)
    finished: bool = False


def new_number() -> str:
    return f"+4477009{next(_numbers):05d}"


def where(runtime, contact_id: int) -> tuple[tuple[str, str] | None, bool]:
    with runtime.session() as session:
        contact = session.get(Contact, contact_id)
        state = contact.state
        if state is None:
            return None, True
        finished = (state.variables or {}).get("waiting") == "finished"
        return (None if finished else (state.script, state.step)), finished


def offered(runtime, number: str) -> int:
    """A service reports a return for ``number`` and the bot makes its offer: the contact's id."""
    demo = demo_login(runtime, staff=False)
    now = runtime.clock()
    fields = {"phone": number, "reference": f"REF-{number[1:]}", "area": "cardiff"}
    episode, problems = check_report(report(now, **fields), ["cardiff", "newport"], now, runtime.timezone)
    assert not problems, problems
    with runtime.session() as session, session.begin():
        report_episode(session, runtime, demo.id, episode, now)
        offer = session.scalars(sa.select(Offer).order_by(Offer.id.desc()).limit(1)).one()
        if offer.status == OfferStatus.SCHEDULED:  # outside texting hours it waits: this walk does not
            make_offer(session, runtime, offer, now)
        return offer.contact_id


def walk(runtime, dispatcher, route: Route) -> Walked:
    number = new_number()
    conversation = Conversation(dispatcher, "sms", number)
    if route.start == "offer":
        contact_id = offered(runtime, number)
    else:
        conversation(route.start)
        contact_id = conversation.last.contact_id
    walked = Walked(conversation, contact_id, None)
    walked.waiting, walked.finished = where(runtime, contact_id)
    for answer in route.answers:
        walked.asked.append(walked.waiting)
        conversation(answer)
        walked.waiting, walked.finished = where(runtime, contact_id)
    return walked


def ways_on(runtime, walked: Walked) -> list[str]:
    """One answer (an option's label, as the person sees it) for each different step the question leads to."""
    step = runtime.catalog.step(*walked.waiting)
    if step.kind == "ask":
        return [TYPED_ANSWERS[step.answer_type or "text"]]
    answers: dict[str, str] = {}
    if step.options_from:  # times or areas the bot looked up: all lead on to the step's next
        with runtime.session() as session:
            variables = session.get(Contact, walked.contact_id).state.variables["vars"]
        for looked_up in variables.get(step.options_from) or []:
            answers.setdefault(step.next or "", looked_up["label"]["en"])
    for option in step.options:
        answers.setdefault(option.next or step.next or "", option.label.en)
    return list(answers.values())


def routes_to_booking(runtime, dispatcher) -> list[tuple[Route, Walked]]:
    """Every route, from the loaded scripts, that reaches the booking's questions."""
    found: list[tuple[Route, Walked]] = []
    to_walk = [Route("hi"), Route("offer")]
    while to_walk:
        route = to_walk.pop()
        walked = walk(runtime, dispatcher, route)
        if walked.finished or walked.waiting is None:
            continue
        if walked.waiting[0] == BOOKING:
            found.append((route, walked))
            continue
        if walked.waiting in walked.asked or len(route.answers) >= MOST_ANSWERS:
            continue
        for answer in ways_on(runtime, walked):
            to_walk.append(Route(route.start, (*route.answers, answer)))
    return found


def finish_booking(runtime, walked: Walked) -> None:
    """The booking's questions, each answered with its first option: a place, anyone, the first time, yes."""
    for _ in range(MOST_ANSWERS):
        if walked.finished:
            return
        walked.conversation("1")
        walked.waiting, walked.finished = where(runtime, walked.contact_id)
    raise AssertionError(f"the booking did not finish: waiting at {walked.waiting}")


def test_every_route_to_a_booking_leaves_consent_the_episode_and_the_deadline_from_the_return(runtime, dispatcher):
    every_route = routes_to_booking(runtime, dispatcher)
    # The walk found the ways in, the tester's among them: a no to sending, a reason, then "A phone call".
    assert {walked.asked[-1] for _, walked in every_route} >= {("self_referral", "consent"), ("offer", "would_you")}
    assert any("A phone call" in route.answers and "No" in route.answers for route, _ in every_route)
    assert len(every_route) >= 20
    for route, walked in every_route:
        finish_booking(runtime, walked)
        said = f"route {route.start} -> {' / '.join(route.answers)}"
        with runtime.session() as session:
            [referral] = session.scalars(sa.select(Referral).where(Referral.contact_id == walked.contact_id)).all()
            assert referral.status in (ReferralStatus.BOOKING_REQUESTED, ReferralStatus.BOOKED), said
            assert len(referral.episodes) == 1, f"{said}: {len(referral.episodes)} episodes recorded"
            [episode] = referral.episodes
            if referral.referred_by == ReferredBy.SELF:
                assert referral.consent_given is True, f"{said}: consent not given"
                assert ("self_referral", "consent") in walked.asked, f"{said}: consent not asked"
                answered = dict(zip(walked.asked, route.answers, strict=True))
                police = {"Yes": "yes", "No": "no", "Not sure": "not_sure"}[answered[("self_referral", "police")]]
                assert episode.police_informed == police, said
                returned = answered[("self_referral", "returned")]
                assert (episode.returned_at is not None) == (returned in DAYS_BACK), said
                if returned in DAYS_BACK:
                    local = referral.created_at.astimezone(runtime.timezone).date()
                    assert episode.returned_at.astimezone(runtime.timezone).date() == local - DAYS_BACK[returned], said
            else:  # the service reported the return and has the request; the bot only offered it
                assert referral.referred_by == ReferredBy.PROVIDER, said
            if episode.returned_at is not None:
                assert referral.deadline_at == episode.returned_at + RETURN_INTERVIEW_WINDOW, said
            else:  # not back yet, or longer ago: no day to count from, so from the request itself
                assert abs(referral.deadline_at - referral.created_at - RETURN_INTERVIEW_WINDOW) < timedelta(seconds=1)
