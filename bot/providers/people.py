"""A person's page: everything a duty worker needs about one young person (or parent), with or without a
referral yet: the conversation as they saw it, their alerts with what to do now, their referrals and bookings,
and the record of what staff did.

Only a person this provider may see is shown (``find_contact``): another provider's is ``NotFound``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from bot.alerts.checklists import checklist_for
from bot.providers.actions import find_contact
from bot.providers.queue import (
    alert_of,
    booking_of,
    escalations_of,
    group_alerts,
    message_entry,
    queue_item,
    record_of,
)
from bot.providers.record import category_words
from models import ActionRecord, Direction, Escalation, Message, Provider, Referral, ReviewItem, Worker
from models.db import take_write_lock

CONVERSATION_MESSAGES = 400  # the latest messages shown; the page says when older ones are left out


def person_detail(
    session: Session, provider_id: int, contact_id: int, now: datetime, timezone: ZoneInfo
) -> dict[str, Any]:
    contact = find_contact(session, provider_id, contact_id)
    provider = session.get(Provider, provider_id)
    referrals = list(
        session.scalars(
            sa.select(Referral)
            .where(Referral.contact_id == contact.id, Referral.provider_id == provider_id)
            .options(selectinload(Referral.episodes), selectinload(Referral.bookings))
            .order_by(Referral.id)
        )
    )
    ours = {referral.id for referral in referrals}
    # Alerts raised about another provider's referral stay with that provider.
    escalations = [
        e for e in escalations_of(session, contact.id, None) if e.referral_id is None or e.referral_id in ours
    ]
    newest = referrals[-1].id if referrals else None
    staff = {w.id: w for w in session.scalars(sa.select(Worker).where(Worker.provider_id == provider_id))}
    unreachable = contact.why_not_reachable()
    return {
        "id": contact.id,
        "role": str(contact.role) if contact.role else None,
        "language": str(contact.language),
        "channel": str(contact.channel),
        "area": contact.area,
        "first_seen": contact.created_at,
        "last_seen": contact.last_seen_at,
        "can_message": unreachable is None,
        "cannot_message_reason": unreachable,
        "referral_id": newest,
        "referrals": [
            {
                **queue_item(referral, now, worker=staff.get(referral.assigned_worker_id or 0)),
                "bookings": [booking_of(b) for b in sorted(referral.bookings, key=lambda b: b.id)],
            }
            for referral in reversed(referrals)
        ],
        "alerts": [_alert_now(session, provider, group, newest) for group in reversed(group_alerts(escalations))],
        "to_read": _to_read(session, provider_id, contact.id),
        "conversation": _conversation(session, contact.id),
        "record": record_of(session, contact.id, referrals, escalations, timezone),
    }


def _alert_now(
    session: Session, provider: Provider | None, group: list[Escalation], newest: int | None
) -> dict[str, Any]:
    """An alert with what to do now: the checklist with its ticks, and what the bot already told them."""
    alert = alert_of(group, newest)
    alert["category_words"] = category_words(alert["categories"])
    ticks: dict[str, ActionRecord] = {}
    for row in session.scalars(
        sa.select(ActionRecord)
        .where(ActionRecord.escalation_id == alert["id"], ActionRecord.kind.in_(["ticked", "unticked"]))
        .order_by(ActionRecord.at, ActionRecord.id)
    ):
        ticks[row.details.get("item", "")] = row
    items = dict.fromkeys(line for category in alert["categories"] for line in checklist_for(provider, category))
    alert["checklist"] = [
        {
            "text": line,
            "ticked": line in ticks and ticks[line].kind == "ticked",
            "by": (ticks[line].by_name or ticks[line].by) if line in ticks else None,
            "at": ticks[line].at if line in ticks else None,
        }
        for line in items
    ]
    told = []
    if group[0].inbound_event_id is not None:
        told = session.scalars(
            sa.select(Message)
            .where(Message.inbound_event_id == group[0].inbound_event_id, Message.direction == Direction.OUTBOUND)
            .order_by(Message.id)
        ).all()
    alert["bot_told"] = [message_entry(message) for message in told]
    return alert


def _to_read(session: Session, provider_id: int, contact_id: int) -> list[dict[str, Any]]:
    items = session.scalars(
        sa.select(ReviewItem)
        .where(ReviewItem.contact_id == contact_id, ReviewItem.provider_id == provider_id)
        .order_by(ReviewItem.received_at.desc())
    )
    return [
        {"id": item.id, "reason": str(item.reason), "text": item.text, "received_at": item.received_at,
         "read_at": item.read_at, "read_by": item.read_by}
        for item in items
    ]  # fmt: skip


def _conversation(session: Session, contact_id: int) -> dict[str, Any]:
    """Their messages and the bot's replies, in order, as they saw them (the latest ``CONVERSATION_MESSAGES``)."""
    latest = session.scalars(
        sa.select(Message)
        .where(Message.contact_id == contact_id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(CONVERSATION_MESSAGES + 1)
    ).all()
    shown = list(reversed(latest[:CONVERSATION_MESSAGES]))
    return {"messages": [message_entry(message) for message in shown], "older_left_out": len(latest) > len(shown)}


def _unread(session: Session, provider_id: int, contact_id: int) -> sa.ColumnElement[bool] | None:
    wrote = session.scalar(
        sa.select(sa.func.max(Message.created_at)).where(
            Message.contact_id == contact_id, Message.direction == Direction.INBOUND
        )
    )
    if wrote is None:
        return None
    return sa.and_(
        Referral.contact_id == contact_id,
        Referral.provider_id == provider_id,
        sa.or_(Referral.staff_read_at.is_(None), Referral.staff_read_at < wrote),
    )


def has_unread(session: Session, provider_id: int, contact_id: int) -> bool:
    """Whether the person wrote since staff last read their messages (checked before writing anything: the page
    looks again every few seconds)."""
    unread = _unread(session, provider_id, contact_id)
    return unread is not None and session.scalar(sa.select(Referral.id).where(unread).limit(1)) is not None


def mark_conversation_read(session: Session, provider_id: int, contact_id: int, now: datetime) -> None:
    """Staff have read the person's messages: their referrals lose the unread marker."""
    take_write_lock(session)
    session.execute(
        sa.update(Referral)
        .where(Referral.contact_id == contact_id, Referral.provider_id == provider_id)
        .values(staff_read_at=now)
        .execution_options(synchronize_session=False)
    )
