"""Writing to the outbox, in the same transaction as the change being reported.

Nothing is sent from here: the relay (``rhi worker``) delivers what is committed, so a crash between
the change and the send loses nothing.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import OutboxEvent, OutboxKind, utcnow

EVENT_TYPES = (
    "referral.created",
    "episode.reported",
    "booking.requested",
    "booking.cancelled",
    "referral.declined",
    "safeguarding.alert",
    "message.for_review",
)

# A safeguarding alert is never ordered behind anything: not behind an earlier event of its referral that is
# waiting out a long backoff while the provider is down. Alerts get a key of their own (the key they were
# given, prefixed), so they keep their order among themselves, per referral or per contact, and nothing else;
# the relay also retries them sooner (``relay.ALERT_BACKOFF_MAX``) and claims them first.
ALERT_EVENT_TYPES = frozenset({"safeguarding.alert"})
ALERT_KEY_PREFIX = "alert:"


def ordering_key_for(event_type: str, ordering_key: str) -> str:
    """The key an event is ordered by: its own, or for an alert, the alerts' own key of it."""
    if event_type in ALERT_EVENT_TYPES and not is_alert_key(ordering_key):
        return ALERT_KEY_PREFIX + ordering_key
    return ordering_key


def is_alert_key(ordering_key: str) -> bool:
    """Whether events of this ordering key are alerts."""
    return ordering_key.startswith(ALERT_KEY_PREFIX)


def without_alert_prefix(ordering_key: str) -> str:
    """The key as the caller gave it (``referral:12``), for an alert's key too."""
    return ordering_key.removeprefix(ALERT_KEY_PREFIX)


# The fields of provider events that hold a person's own words (every other field is a code, a time or an id):
# what "delete my data" empties, in events delivered or not. An event type with words of its own names them
# here; a test reads every event schema for free-text fields and fails on one missing.
WORDS_IN: dict[str, tuple[str, ...]] = {
    "safeguarding.alert": ("excerpt",),
    "message.for_review": ("text",),
}
# The young person's number or chat id, in the events of a provider whose settings ask for it.
ADDRESS_FIELD = "contact_address"
# What a message to a person holds of them besides the bot's words: where it went (given when their own
# address is already gone) and the channel's ids of what was sent (which find the number in the channel's logs).
_MESSAGE_LINKS = ("address", "sent_ids", "clear")

# Written with one INSERT (an executemany for several), not added as ORM objects: nothing reads an event back
# in the transaction that writes it.
_OUTBOX = OutboxEvent.__table__


def _add(session: Session, rows: list[dict[str, Any]]) -> None:
    session.execute(sa.insert(_OUTBOX), [{**row, "next_attempt_at": row["created_at"]} for row in rows])


_clock_lock = threading.Lock()
_last_created_at: datetime | None = None


def _strictly_later_now() -> datetime:
    """``utcnow()``, but never equal to or before the last one this process gave out.

    Events with one ordering key are delivered in ``created_at`` order; two events written in the same
    microsecond would otherwise have no order. This is the one place the real clock is read rather than the
    runtime's: it orders what was written, and the relay compares it with the real time to send it.
    """
    global _last_created_at
    with _clock_lock:
        now = utcnow()
        if _last_created_at is not None and now <= _last_created_at:
            now = _last_created_at + timedelta(microseconds=1)
        _last_created_at = now
        return now


def _row(
    *,
    kind: OutboxKind,
    event_type: str,
    payload: dict[str, Any],
    provider_id: int | None,
    ordering_key: str,
    contact_id: int | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": payload.get("id") or str(uuid.uuid4()),
        "kind": kind,
        "type": event_type,
        "provider_id": provider_id,
        "contact_id": contact_id,
        "ordering_key": ordering_key,
        "payload": payload,
        "created_at": now,
        "attempts": 0,
    }


def add_event(
    session: Session,
    *,
    kind: OutboxKind,
    event_type: str,
    payload: dict[str, Any],
    provider_id: int | None,
    ordering_key: str,
    contact_id: int | None,
) -> str:
    """Add one event to the outbox, due now; its id."""
    row = _row(
        kind=kind,
        event_type=event_type,
        payload=payload,
        provider_id=provider_id,
        ordering_key=ordering_key,
        contact_id=contact_id,
        now=_strictly_later_now(),
    )
    _add(session, [row])
    return row["id"]


def enqueue_provider_event(
    session: Session,
    event_type: str,
    data: dict[str, Any],
    *,
    provider_id: int | None,
    ordering_key: str,
    contact_id: int | None = None,
) -> str:
    """Add one provider webhook event; its id, fixed now, so every retry carries the same id."""
    [event_id] = enqueue_provider_events(
        session, [(event_type, data)], provider_id=provider_id, ordering_key=ordering_key, contact_id=contact_id
    )
    return event_id


def enqueue_provider_events(
    session: Session,
    events: Sequence[tuple[str, dict[str, Any]]],
    *,
    provider_id: int | None,
    ordering_key: str,
    contact_id: int | None = None,
) -> list[str]:
    """Add provider webhook events (type, data) to be delivered in this order, in one statement; their ids.

    Alerts among them are ordered apart, by ``ordering_key_for``: they never wait behind the others."""
    rows = []
    for event_type, data in events:
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown provider event type {event_type!r}")
        now = _strictly_later_now()
        created_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        payload = {"id": str(uuid.uuid4()), "type": event_type, "created_at": created_at, "data": data}
        rows.append(
            _row(
                kind=OutboxKind.PROVIDER_WEBHOOK,
                event_type=event_type,
                payload=payload,
                provider_id=provider_id,
                ordering_key=ordering_key_for(event_type, ordering_key),
                contact_id=contact_id,
                now=now,
            )
        )
    _add(session, rows)
    return [row["id"] for row in rows]


def without_the_person(kind: OutboxKind, payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with nothing left of the person it is about: a provider event keeps its envelope, ids, codes
    and times (what the provider already has still matches) with their words emptied and no address; a message
    to them keeps how many replies it had and the channel, not what they said (the bot's words can repeat
    theirs), where it went, or the channel's ids."""
    if kind == OutboxKind.PROVIDER_WEBHOOK:
        data = {name: value for name, value in (payload.get("data") or {}).items() if name != ADDRESS_FIELD}
        for name in WORDS_IN.get(payload.get("type", ""), ()):
            if name in data:
                data[name] = ""
        return {**payload, "data": data}
    kept = {name: value for name, value in payload.items() if name not in _MESSAGE_LINKS}
    kept["replies"] = [{"text": "", "options": []} for _ in payload.get("replies", [])]
    return kept


def forget_the_person(session: Session, contact_id: int) -> None:
    """What "delete my data" does to the outbox, in the caller's transaction: every event about ``contact_id``
    loses what it held of them (``without_the_person``) and the channel's id of what was sent, delivered or not.
    A message to them not yet sent is dropped: it has nowhere to go (only the last reply, written after this,
    carries the address)."""
    for event in session.scalars(sa.select(OutboxEvent).where(OutboxEvent.contact_id == contact_id)).all():
        if event.kind == OutboxKind.CHANNEL_MESSAGE and event.delivered_at is None and event.dead_at is None:
            session.delete(event)
        else:
            forget_in(event)


def is_last_reply(event: OutboxEvent) -> bool:
    """The reply to the message that asked to delete the person's data: the one message to a contact that
    carries the address itself (``enqueue_channel_message``), to be forgotten once it is done with."""
    return event.kind == OutboxKind.CHANNEL_MESSAGE and event.contact_id is not None and "address" in event.payload


def forget_in(event: OutboxEvent) -> None:
    """Empty one event of the person it is about (``without_the_person``): the session writes it."""
    event.payload = without_the_person(event.kind, event.payload)
    event.external_id = None
