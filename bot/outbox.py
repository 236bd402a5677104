"""Writing to the outbox, in the same transaction as the change being reported.

Nothing is sent from here: the relay (``rhi worker``) delivers what is committed, so a crash between
the change and the send loses nothing.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from models import OutboxEvent, OutboxKind, utcnow

EVENT_TYPES = (
    "referral.created",
    "episode.reported",
    "booking.requested",
    "booking.cancelled",
    "referral.declined",
    "safeguarding.alert",
)

_clock_lock = threading.Lock()
_last_created_at: datetime | None = None


def _strictly_later_now() -> datetime:
    """``utcnow()``, but never equal to or before the last one this process gave out.

    Events with one ordering key are delivered in ``created_at`` order; two events written in the same
    microsecond would otherwise have no order.
    """
    global _last_created_at
    with _clock_lock:
        now = utcnow()
        if _last_created_at is not None and now <= _last_created_at:
            now = _last_created_at + timedelta(microseconds=1)
        _last_created_at = now
        return now


def add_event(
    session: Session,
    *,
    kind: OutboxKind,
    event_type: str,
    payload: dict[str, Any],
    provider_id: int | None,
    ordering_key: str,
    contact_id: int | None,
) -> OutboxEvent:
    now = _strictly_later_now()
    event = OutboxEvent(
        id=payload.get("id") or str(uuid.uuid4()),
        kind=kind,
        type=event_type,
        provider_id=provider_id,
        contact_id=contact_id,
        ordering_key=ordering_key,
        created_at=now,
        next_attempt_at=now,
        payload=payload,
    )
    session.add(event)
    return event


def enqueue_provider_event(
    session: Session,
    event_type: str,
    data: dict[str, Any],
    *,
    provider_id: int | None,
    ordering_key: str,
    contact_id: int | None = None,
) -> OutboxEvent:
    """Add one provider webhook event. Its id is fixed now, so every retry carries the same id."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown provider event type {event_type!r}")
    event_id = str(uuid.uuid4())
    event = add_event(
        session,
        kind=OutboxKind.PROVIDER_WEBHOOK,
        event_type=event_type,
        payload={"id": event_id, "type": event_type, "created_at": "", "data": data},
        provider_id=provider_id,
        ordering_key=ordering_key,
        contact_id=contact_id,
    )
    event.payload = {**event.payload, "created_at": event.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return event
