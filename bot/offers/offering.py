"""Making the offer by text, and what follows when nobody answers.

The offer goes at once between 08:00 and 21:00 local time, otherwise at 08:00 (``in_hours``). The young person
gets the offer script's first message; a parent's or carer's number gets the parent's version, which says what is
offered and never anything the young person says. With no reply, one gentle re-offer goes 24 hours later (in
hours); with no reply to that either, the offer is marked "no response" 12 hours on, for the worker to reach them
another way before the 72-hour deadline. STOP (or "delete my data") ends it at once: nothing more is sent. Any
reply is the ordinary conversation from then on, safeguarding first.

``Offer.due_at`` is when the next of these steps is due; ``send_due_offers`` (a periodic job of ``rhi worker``)
takes them in turn, locking what it takes, so several workers send each once.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.conversation.effects import deadline_label
from bot.conversation.outreach import speak_first
from models import Direction, Message, Offer, OfferMethod, OfferStatus, Role
from models.db import take_write_lock
from models.enums import OPEN_OFFER_STATUSES

if TYPE_CHECKING:
    from bot.runtime import Runtime

OFFER_ENTRY = "offer.what"  # after its "news" step, which making the offer stands in for
TEXTING_FROM = time(8, 0)  # local time: a phone that lights up at night may be picked up by someone else
TEXTING_UNTIL = time(21, 0)
REOFFER_AFTER = timedelta(hours=24)  # then moved into texting hours
NO_RESPONSE_AFTER = timedelta(hours=12)  # after the re-offer: the worker still has a day before the deadline


def in_hours(moment: datetime, timezone: ZoneInfo) -> datetime:
    """``moment`` when it falls between 08:00 and 21:00 local time, else the next 08:00 (in UTC, as stored)."""
    local = moment.astimezone(timezone)
    if TEXTING_FROM <= local.time() < TEXTING_UNTIL:
        return moment
    day = local.date() if local.time() < TEXTING_FROM else local.date() + timedelta(days=1)
    return datetime.combine(day, TEXTING_FROM, tzinfo=timezone).astimezone(moment.tzinfo)


def make_offer(session: Session, runtime: Runtime, offer: Offer, now: datetime) -> None:
    """Send the offer (or, when it went already, the re-offer) through the outbox, in the caller's transaction, and
    record it: on the offer, and for the young person's, as the referral's offer (``Referral.record_offer``)."""
    contact, referral = offer.contact, offer.referral
    if contact.why_not_reachable() is not None:
        _close(offer, OfferStatus.STOPPED, now)
        return
    kind = "parent" if offer.to_parent else "again" if offer.status == OfferStatus.SENT else "first"
    speak_first(session, runtime, contact, OFFER_ENTRY, _news(offer, kind, runtime.timezone), now,
                kind_of_message="offer", fresh=True)  # fmt: skip
    if offer.status == OfferStatus.SCHEDULED:
        offer.sent_at = now
        offer.status = OfferStatus.SENT
        # A parent's number is told once; the young person's gets one re-offer when they do not answer.
        offer.due_at = None if offer.to_parent else in_hours(now + REOFFER_AFTER, runtime.timezone)
        if not offer.to_parent:
            referral.record_offer(now, OfferMethod.BOT_SMS)
    else:
        offer.reoffered_at = now
        offer.status = OfferStatus.REOFFERED
        offer.due_at = now + NO_RESPONSE_AFTER


def _news(offer: Offer, kind: str, timezone: ZoneInfo) -> dict[str, Any]:
    """What the offer script starts with. For the young person, what the service told the bot is filled in, so a
    "yes" goes straight to choosing (the referral, its episode, deadline, area and setting); a parent's
    conversation holds none of it, as it is the young person's."""
    if offer.to_parent:
        return {"offer_kind": kind, "role": Role.PARENT_CARER.value}
    referral = offer.referral
    episodes = referral.episodes
    known: dict[str, Any] = {
        "offer_kind": kind,
        "role": Role.YOUNG_PERSON.value,
        "episode_known": "yes",
        "referral_id": referral.id,
        "episode_ids": [episode.id for episode in episodes],
        "deadline": deadline_label(referral, timezone),
        "area": referral.area,
    }
    if episodes:
        episode = episodes[0]
        known["setting"] = str(episode.setting)
        known["age_band"] = str(episode.age_band) if episode.age_band else None
        if episode.returned_at is not None:
            known["returned_band_date"] = episode.returned_at.astimezone(timezone).date().isoformat()
    return known


def _close(offer: Offer, status: OfferStatus, now: datetime) -> None:
    offer.status = status
    offer.due_at = None
    offer.closed_at = now


def _answered(session: Session, offer: Offer) -> bool:
    """Whether they wrote to the bot since the offer went: then the conversation is under way, and no re-offer goes."""
    return bool(
        session.scalar(
            sa.select(sa.literal(True))
            .where(
                Message.contact_id == offer.contact_id,
                Message.direction == Direction.INBOUND,
                Message.created_at >= offer.sent_at,
            )
            .limit(1)
        )
    )


def _due(now: datetime) -> sa.Select[tuple[Offer]]:
    return (
        sa.select(Offer)
        .where(Offer.status.in_(OPEN_OFFER_STATUSES), Offer.due_at <= now)
        .order_by(Offer.due_at, Offer.id)
    )


def send_due_offers(runtime: Runtime, now: datetime) -> int:
    """The periodic job: every offer, re-offer and "no response" due now; how many it did."""
    with runtime.session() as session:
        # A look without locking first: most runs find nothing due, and need not hold SQLite's write lock.
        if session.scalar(sa.select(sa.func.count()).select_from(_due(now).subquery())) == 0:
            return 0
    done = 0
    with runtime.session() as session, session.begin():
        take_write_lock(session)
        # Locked, so a second worker skips these (PostgreSQL) or waits and then finds them done (SQLite).
        for offer in session.scalars(_due(now).with_for_update(skip_locked=True, of=Offer)).all():
            if offer.contact.why_not_reachable() is not None:
                _close(offer, OfferStatus.STOPPED, now)
            elif offer.status != OfferStatus.SCHEDULED and _answered(session, offer):
                _close(offer, OfferStatus.ANSWERED, now)
            elif offer.status == OfferStatus.REOFFERED:
                _close(offer, OfferStatus.NO_RESPONSE, now)
            else:
                make_offer(session, runtime, offer, now)
            done += 1
    return done
