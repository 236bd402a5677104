"""The outbox relay: claims committed events, delivers them outside any transaction, records the result.

At-least-once: an event is marked delivered only after its deliverer returned, so a relay killed mid-send
delivers it again later (receivers de-duplicate on the event id). Events sharing an ``ordering_key`` (one
referral, one contact) go strictly in order: only the oldest undelivered one of a key can be claimed.
Several relays may run at once: PostgreSQL claims with ``FOR UPDATE SKIP LOCKED``; on SQLite a
conditional update of the lease decides who has it.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from bot.delivery import DELIVERERS, RetryLater, Undeliverable
from bot.runtime import Runtime
from models import OutboxEvent, utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)  # longer than any one send (10 s time-out), so a live relay keeps its claim
BACKOFF_FIRST = timedelta(seconds=2)
BACKOFF_MAX = timedelta(minutes=10)
DEFAULT_MAX_AGE = timedelta(hours=72)  # after this an event is dead-lettered and shown as a red alert
CLAIM_BATCH = 50
IDLE_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Attempt:
    event_id: str
    delivered: bool
    dead: bool = False


def _take_write_lock(session: Session) -> None:
    """On SQLite, start the transaction as a writer.

    A SQLite transaction that reads first and writes later cannot wait for another writer (SQLite refuses at
    once, to avoid a deadlock); one that writes first waits politely. This write changes nothing.
    PostgreSQL needs nothing: its row locks wait.
    """
    if session.bind.dialect.name == "sqlite":
        session.execute(sa.text("UPDATE outbox_events SET attempts = attempts WHERE 0"))


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: up to 2 s, 4 s, 8 s... capped at 10 minutes."""
    ceiling = min(BACKOFF_MAX, BACKOFF_FIRST * (2 ** max(attempts - 1, 0)))
    return ceiling * (rng or random).random() + timedelta(milliseconds=100)


class Relay:
    def __init__(self, runtime: Runtime, *, max_age: timedelta = DEFAULT_MAX_AGE, name: str | None = None) -> None:
        self.runtime = runtime
        self.max_age = max_age
        self.name = name or f"{socket.gethostname()}:{threading.get_ident()}"

    # --- claiming --------------------------------------------------------------------------------

    def _due(self, now: datetime) -> sa.Select:
        earlier = aliased(OutboxEvent)
        blocked_by_earlier = (
            sa.select(earlier.id)
            .where(
                earlier.ordering_key == OutboxEvent.ordering_key,
                earlier.delivered_at.is_(None),
                earlier.dead_at.is_(None),
                earlier.created_at < OutboxEvent.created_at,
            )
            .exists()
        )
        return sa.select(OutboxEvent.id).where(
            OutboxEvent.delivered_at.is_(None),
            OutboxEvent.dead_at.is_(None),
            OutboxEvent.next_attempt_at <= now,
            sa.or_(OutboxEvent.lease_until.is_(None), OutboxEvent.lease_until < now),
            ~blocked_by_earlier,
        )

    def claim(self, limit: int = CLAIM_BATCH, only: Iterable[str] | None = None) -> list[str]:
        """Take a lease on up to ``limit`` due events (or on those of ``only`` that are due)."""
        now = utcnow()
        with self.runtime.session() as session, session.begin():
            _take_write_lock(session)
            query = self._due(now).order_by(OutboxEvent.created_at).limit(limit)
            if only is not None:
                query = query.where(OutboxEvent.id.in_(list(only)))
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=OutboxEvent)
            candidates = list(session.scalars(query))
            claimed = []
            for event_id in candidates:
                taken = session.execute(
                    sa.update(OutboxEvent)
                    .where(
                        OutboxEvent.id == event_id,
                        OutboxEvent.delivered_at.is_(None),
                        sa.or_(OutboxEvent.lease_until.is_(None), OutboxEvent.lease_until < now),
                    )
                    .values(lease_until=now + LEASE)
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount == 1:
                    claimed.append(event_id)
            return claimed

    # --- delivering ------------------------------------------------------------------------------

    def deliver(self, event_id: str) -> Attempt:
        """Deliver one claimed event and record what happened."""
        with self.runtime.session() as session:
            event = session.get(OutboxEvent, event_id)
            if event is None or event.delivered_at is not None:
                return Attempt(event_id, delivered=True)
            session.expunge(event)
        deliverer = DELIVERERS.get(event.kind)
        try:
            if deliverer is None:
                raise RetryLater(f"no deliverer is registered for {event.kind} events")
            external_id = deliverer(self.runtime, event)
        except Undeliverable as exc:
            return self._record_failure(event_id, str(exc), permanent=True)
        except RetryLater as exc:
            return self._record_failure(event_id, str(exc), retry_after=exc.retry_after)
        except Exception as exc:  # a bug in a deliverer must not stop the relay; the event is retried
            log.exception("delivering outbox event %s failed unexpectedly", event_id)
            return self._record_failure(event_id, f"unexpected error: {type(exc).__name__}")
        with self.runtime.session() as session, session.begin():
            session.execute(
                sa.update(OutboxEvent)
                .where(OutboxEvent.id == event_id)
                .values(
                    delivered_at=utcnow(),
                    lease_until=None,
                    attempts=OutboxEvent.attempts + 1,
                    external_id=external_id,
                    last_error=None,
                )
            )
        return Attempt(event_id, delivered=True)

    def _record_failure(
        self, event_id: str, reason: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> Attempt:
        now = utcnow()
        with self.runtime.session() as session, session.begin():
            _take_write_lock(session)
            event = session.get(OutboxEvent, event_id)
            if event is None:
                return Attempt(event_id, delivered=False)
            event.attempts += 1
            event.last_error = reason[:500]
            event.lease_until = None
            wait = backoff(event.attempts)
            if retry_after is not None:
                wait = max(wait, timedelta(seconds=retry_after))
            event.next_attempt_at = now + wait
            too_old = now - event.created_at > self.max_age
            if permanent or too_old:
                event.dead_at = now
                # Loud on purpose: a dead provider event is a referral or an alert nobody received.
                log.error(
                    "outbox event %s (%s) dead-lettered after %d attempts: %s",
                    event_id,
                    event.type,
                    event.attempts,
                    "undeliverable" if permanent else "too old",
                )
            return Attempt(event_id, delivered=False, dead=event.dead_at is not None)

    # --- loops -----------------------------------------------------------------------------------

    def run_once(self, limit: int = CLAIM_BATCH) -> list[Attempt]:
        return [self.deliver(event_id) for event_id in self.claim(limit)]

    def run_forever(self, stop: threading.Event, poll_seconds: float = IDLE_POLL_SECONDS) -> None:
        """Deliver until ``stop`` is set; the event being sent when it is set is finished first."""
        while not stop.is_set():
            attempts = self.run_once()
            if not attempts:
                stop.wait(poll_seconds)


def deliver_now(runtime: Runtime, event_ids: Iterable[str]) -> list[Attempt]:
    """Try events at once after their transaction committed (a Telegram reply should not wait for a poll).

    Whatever fails, or is held back behind an earlier event of its key, is left for the relay.
    """
    relay = Relay(runtime)
    ids = list(event_ids)
    return [relay.deliver(event_id) for event_id in relay.claim(len(ids), only=ids)] if ids else []
