"""Writing events for the provider into the outbox, in the same transaction as the change they describe.

Nothing is sent from here: the relay (``rhi worker``) delivers what is committed, so a crash between
the change and the send can lose nothing.
"""

from __future__ import annotations

import uuid
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


def enqueue_provider_event(
    session: Session,
    event_type: str,
    data: dict[str, Any],
    *,
    provider_id: int | None,
    ordering_key: str,
    contact_id: int | None = None,
) -> OutboxEvent:
    """Add one provider webhook event; its id is fixed now, so every retry carries the same id."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown provider event type {event_type!r}")
    now = utcnow()
    event_id = str(uuid.uuid4())
    event = OutboxEvent(
        id=event_id,
        kind=OutboxKind.PROVIDER_WEBHOOK,
        type=event_type,
        provider_id=provider_id,
        contact_id=contact_id,
        ordering_key=ordering_key,
        created_at=now,
        next_attempt_at=now,
        payload={"id": event_id, "type": event_type, "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "data": data},
    )
    session.add(event)
    return event
