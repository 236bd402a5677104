"""What happens when a message needs a human: on a safeguarding alert, help for the young person at once and
an alert for the provider; on anything the machine cannot place (a message the script did not understand, an
answer in the person's own words, a safeguarding concern), an item on the provider's "To read" list. Both are
written in the same transaction as the message, so neither can be lost.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.alerts.duty import notify_new_alert
from bot.outbox.writing import enqueue_provider_event
from bot.routing import provider_id_for_area
from bot.safeguarding.categories import most_severe, order_categories
from bot.safeguarding.detector import Assessment
from bot.safeguarding.helplines import safety_message
from conversations.interpreter import Reply
from models import Contact, Escalation, Referral, ReviewItem, ReviewReason, Severity
from models.crypto import contact_reference

if TYPE_CHECKING:
    from bot.runtime import Runtime

# Every hit is recorded and alerted; the safety message is not repeated for the same category within
# this time, so a young person who keeps talking is not lectured at every line.
SAFETY_MESSAGE_QUIET_PERIOD = timedelta(hours=1)
EXCERPT_CHARS = 280  # enough for a duty worker to judge urgency; the full text is in the message log


def safety_replies(
    session: Session,
    runtime: Runtime,
    contact_id: int,
    assessment: Assessment,
    language: str,
    now: datetime,
    releases: dict[str, int],
) -> tuple[Reply, ...]:
    """What the young person is told at once on an alert: the safety message for each of its categories not
    already answered within SAFETY_MESSAGE_QUIET_PERIOD, with the live helplines (``releases``)."""
    if not assessment.escalate:
        return ()
    recently_told = set(
        session.scalars(
            sa.select(Escalation.category).where(
                Escalation.contact_id == contact_id,
                Escalation.created_at >= now - SAFETY_MESSAGE_QUIET_PERIOD,
            )
        )
    )
    due = [category for category in assessment.categories if category not in recently_told]
    helplines = runtime.helplines_for(releases.get("helplines"))
    if not due:
        return ()
    english = Reply(safety_message(due, "en", helplines=helplines)) if language != "en" else None
    return (Reply(safety_message(due, language, helplines=helplines), english=english),)


def answered_with_safety(safety: tuple[Reply, ...], said: tuple[Reply, ...], heard: str | None) -> tuple[Reply, ...]:
    """What the person is told: the safety message (``safety_replies``), then what the script ``said``. When the
    message was no answer to the question (``heard`` "not_understood"), the safety message is the whole reply,
    with the question's options shown again: it already says a worker knows, with 999, so the script's "someone
    will read your message" would say it all twice."""
    if not safety or heard != "not_understood" or not said:
        return (*safety, *said)
    return tuple(_with_options(reply, said[-1]) for reply in safety)


def _with_options(reply: Reply, question: Reply) -> Reply:
    """``reply`` showing the options ``question`` showed (in English too, for a worker who reads no Welsh)."""
    english = question.english or question
    in_english = reply.english and dataclasses.replace(reply.english, options=english.options)
    return dataclasses.replace(reply, options=question.options, english=in_english)


def with_raised(assessment: Assessment, raised: Iterable[str]) -> Assessment:
    """The safeguarding check's assessment with the categories an answer raised (``EffectContext.raised``: a young
    person still away) added, so both are alerted by ``escalate``, one write path."""
    raised = list(raised)
    if not raised:
        return assessment
    categories = order_categories([*(assessment.categories if assessment.escalate else ()), *raised])
    return dataclasses.replace(
        assessment,
        escalate=True,
        severity=most_severe(categories),
        categories=categories,
        outcome="alert",
        score=1.0,  # they said so themselves: nothing to weigh
    )


def escalate(
    session: Session,
    runtime: Runtime,
    contact: Contact,
    event_id: int,
    text: str,
    state: dict[str, Any],
    now: datetime,
    assessment: Assessment,
) -> None:
    """Record an alert (one escalation per category) for the message of ``event_id``, tell its provider
    (``safeguarding.alert``) and the duty rota."""
    referral, provider_id, ordering_key = _whose(session, contact, state)
    excerpt = text[:EXCERPT_CHARS]
    severity = Severity(assessment.severity)
    escalations = [
        Escalation(
            contact=contact,
            referral=referral,
            inbound_event_id=event_id,
            category=category,
            severity=severity,
            excerpt=excerpt,
            matches=list(assessment.matches),
            created_at=now,
        )
        for category in assessment.categories
    ]
    session.add_all(escalations)
    session.flush()
    enqueue_provider_event(
        session,
        "safeguarding.alert",
        {
            "escalation_ids": [escalation.id for escalation in escalations],
            "categories": list(assessment.categories),
            "severity": assessment.severity,
            "excerpt": excerpt,
            "contact_id": contact.id,
            "referral_id": referral.id if referral else None,
            "area": contact.area,
            "language": str(state.get("language", contact.language)),
            "channel": str(contact.channel),
            "detected_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        provider_id=provider_id,
        ordering_key=ordering_key,
        contact_id=contact.id,
    )
    notify_new_alert(session, runtime, provider_id, escalations)


def put_up_for_review(
    session: Session,
    contact: Contact,
    event_id: int,
    reason: ReviewReason,
    text: str,
    state: dict[str, Any],
    now: datetime,
    categories: tuple[str, ...] = (),
) -> ReviewItem:
    """Put a message on its provider's "To read" list and tell the provider (``message.for_review``)."""
    referral, provider_id, ordering_key = _whose(session, contact, state)
    language = str(state.get("language", contact.language))
    item = ReviewItem(
        provider_id=provider_id,
        contact=contact,
        referral=referral,
        inbound_event_id=event_id,
        reason=reason,
        text=text,
        categories=list(categories),
        language=language,
        channel=contact.channel,
        received_at=now,
    )
    session.add(item)
    enqueue_provider_event(
        session,
        "message.for_review",
        {
            "reason": str(reason),
            "text": text,
            "language": language,
            "channel": str(contact.channel),
            "received_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "referral_id": referral.id if referral else None,
            "contact": contact_reference(contact.id),
            "categories": list(categories),
        },
        provider_id=provider_id,
        ordering_key=ordering_key,
        contact_id=contact.id,
    )
    return item


def _whose(session: Session, contact: Contact, state: dict[str, Any]) -> tuple[Referral | None, int | None, str]:
    """The referral a message is about, the provider that hears of it, and the order its events keep."""
    referral = current_referral(session, contact, state)
    provider_id = referral.provider_id if referral else provider_id_for_area(session, contact.area)
    return referral, provider_id, f"referral:{referral.id}" if referral else f"contact:{contact.id}"


def current_referral(session: Session, contact: Contact, state: dict[str, Any]) -> Referral | None:
    """The referral a message is about: the conversation's own, else the person's latest."""
    referral_id = state.get("vars", {}).get("referral_id")
    if referral_id:
        referral = session.get(Referral, referral_id)
        if referral is not None and referral.contact_id == contact.id:
            return referral
    return session.scalars(
        sa.select(Referral).where(Referral.contact_id == contact.id).order_by(Referral.id.desc()).limit(1)
    ).first()
