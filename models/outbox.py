"""Everything that leaves the system, written in the same transaction as the change it reports."""

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, enum_type, utcnow
from models.crypto import EncryptedJSON
from models.enums import OutboxKind


def _new_event_id() -> str:
    return str(uuid.uuid4())


class OutboxEvent(Base):
    """One event for the relay to deliver: a provider webhook or a message to a contact.

    ``id`` is the event id the provider sees (and the Idempotency-Key), so retries carry the same id.
    Events with one ``ordering_key`` (e.g. ``referral:12``) are delivered in order. ``last_error`` is for
    operators and must never hold personal data.
    """

    __tablename__ = "outbox_events"
    __table_args__ = (sa.Index(None, "delivered_at", "dead_at", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=_new_event_id)
    kind: Mapped[OutboxKind] = mapped_column(enum_type(OutboxKind))
    type: Mapped[str] = mapped_column(sa.String(64))
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    ordering_key: Mapped[str] = mapped_column(sa.String(64), index=True)
    payload: Mapped[Any] = mapped_column(EncryptedJSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    # For channel messages: the channel's id of what was sent (Twilio MessageSid, Telegram message_id) and
    # the last delivery status the channel reported (queued, sent, delivered, undelivered, failed).
    external_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    delivery_status: Mapped[str | None] = mapped_column(sa.String(32))


class WebhookOutage(Base):
    """A provider's webhook endpoint that has failed every send since ``failing_since`` (when the first failed
    send began); the row goes at the first send it takes again.

    ``endpoint`` is ``provider:<id>``, or ``environment`` for events with no provider row. ``told_at``: when
    the outage was announced (logged, and the duty rota told), once per outage, by whichever worker saw it
    first. ``last_error`` is for operators and never holds personal data.
    """

    __tablename__ = "webhook_outages"

    endpoint: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id", ondelete="CASCADE"))
    failing_since: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
