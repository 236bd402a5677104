"""Children's words are kept only as long as the work needs them.

A young person's messages and free-text answers are removed ``keep_closed_days`` (default 90) after the last
activity of any kind (a message from them, a change a worker made) once every referral of theirs is closed or
declined, and ``keep_unreferred_days`` (default 30) after the last message of someone who never referred. What
goes, and what the provider keeps stripped of free text (the referral and its outcome, episodes, bookings,
safeguarding records), is exactly what "delete my data" does: ``bot.conversation.erasure`` is the one home of
that rule. Their conversation's saved answers go too; a message after that starts a new conversation.

``rhi worker`` runs it with its periodic jobs, at most once an hour per process, a batch at a time, each
person in the same short transaction as the mark that says when (``Contact.words_removed_at``).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.admin.audit import SYSTEM, Action, record
from bot.conversation.erasure import erase_person
from bot.routing import provider_id_for_area
from bot.runtime import Runtime
from bot.settings import Settings
from models import Contact, ConversationState, Referral, ReferralStatus

BATCH = 200  # people per transaction: a first run on a year of data must not hold locks for long
RUN_EVERY = timedelta(hours=1)
FINISHED = (ReferralStatus.CLOSED, ReferralStatus.DECLINED)

_last_run: weakref.WeakKeyDictionary[Runtime, datetime] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class RetentionPolicy:
    """How long words are kept; shown to providers as it is (``describe``)."""

    keep_closed: timedelta
    keep_unreferred: timedelta

    @classmethod
    def of(cls, settings: Settings) -> RetentionPolicy:
        return cls(timedelta(days=settings.keep_closed_days), timedelta(days=settings.keep_unreferred_days))

    def describe(self) -> dict[str, int]:
        return {"closed_referral_days": self.keep_closed.days, "never_referred_days": self.keep_unreferred.days}


def due_for_removal(policy: RetentionPolicy, now: datetime) -> sa.Select[tuple[int]]:
    """The contacts whose words are past their time and still held (or held again since the last removal)."""
    referral = sa.orm.aliased(Referral)
    has_referral = sa.exists().where(referral.contact_id == Contact.id)
    unfinished_or_recent = sa.exists().where(
        referral.contact_id == Contact.id,
        sa.or_(referral.status.not_in(FINISHED), referral.updated_at >= now - policy.keep_closed),
    )
    still_held = sa.or_(Contact.words_removed_at.is_(None), Contact.last_seen_at > Contact.words_removed_at)
    never_referred = sa.and_(~has_referral, Contact.last_seen_at < now - policy.keep_unreferred)
    all_closed = sa.and_(has_referral, ~unfinished_or_recent, Contact.last_seen_at < now - policy.keep_closed)
    return sa.select(Contact.id).where(still_held, sa.or_(never_referred, all_closed)).order_by(Contact.id)


def remove_words_past_their_time(session: Session, policy: RetentionPolicy, now: datetime) -> int:
    """One batch, in the caller's transaction: how many people's words were removed."""
    ids = list(session.scalars(due_for_removal(policy, now).limit(BATCH)))
    for contact in session.scalars(sa.select(Contact).where(Contact.id.in_(ids)).with_for_update()):
        remove_person(session, contact, now)
        record(session, now, SYSTEM, Action.RETENTION, "words removed: their time to be kept ran out",
               contact_id=contact.id, provider_id=provider_id_for_area(session, contact.area))  # fmt: skip
    return len(ids)


def remove_person(session: Session, contact: Contact, now: datetime) -> None:
    """Remove a person's words and number as "delete my data" does, and their conversation's saved answers."""
    erase_person(session, contact)
    session.execute(sa.delete(ConversationState).where(ConversationState.contact_id == contact.id))
    contact.words_removed_at = now


def retention_job(runtime: Runtime, now: datetime) -> int:
    """The periodic job: every batch that is due, once an hour."""
    last = _last_run.get(runtime)
    if last is not None and now - last < RUN_EVERY:
        return 0
    policy = RetentionPolicy.of(runtime.settings)
    removed = 0
    while True:
        with runtime.session() as session, session.begin():
            done = remove_words_past_their_time(session, policy, now)
        removed += done
        if done < BATCH:
            break
    _last_run[runtime] = now
    return removed
