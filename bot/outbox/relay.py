"""The outbox relay: claims committed events, delivers them outside any transaction, records the result.

At-least-once: an event is marked delivered only after its deliverer returned, so a relay killed mid-send
delivers it again later (receivers de-duplicate on the event id). Events of one kind sharing an
``ordering_key`` (one referral, one contact) go strictly in order: only the oldest undelivered one can be
claimed. Provider webhooks and messages to a contact are ordered separately, as they go to different places.
Safeguarding alerts have keys of their own (``writing.ordering_key_for``), are claimed first and are retried
at least every ``ALERT_BACKOFF_MAX``; every send to a provider also records whether its endpoint is failing
(``outages``), so an outage is logged and told to the duty rota once.
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
from sqlalchemy.orm import Session

from bot.outbox import outages
from bot.outbox.delivery import DELIVERERS, RetryLater, Undeliverable, load_deliverers
from bot.outbox.writing import ALERT_KEY_PREFIX, forget_in, is_alert_key, is_last_reply
from bot.runtime import Runtime
from models import OutboxEvent, OutboxKind
from models.db import take_write_lock

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)  # longer than any one send (10 s time-out), so a live relay keeps its claim
BACKOFF_FIRST = timedelta(seconds=2)
BACKOFF_MAX = timedelta(minutes=10)
# An alert is tried again at least this often, whatever the provider asks (Retry-After): a duty worker
# must see it within half a minute of the provider's system coming back.
ALERT_BACKOFF_FIRST = timedelta(seconds=1)
ALERT_BACKOFF_MAX = timedelta(seconds=30)
DEFAULT_MAX_AGE = timedelta(hours=72)  # after this an event is dead-lettered and shown as a red alert
CLAIM_BATCH = 50
IDLE_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Attempt:
    event_id: str
    delivered: bool
    dead: bool = False


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: up to 2 s, 4 s, 8 s... capped at 10 minutes."""
    ceiling = min(BACKOFF_MAX, BACKOFF_FIRST * (2 ** max(attempts - 1, 0)))
    return ceiling * (rng or random).random() + timedelta(milliseconds=100)


def alert_backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """An alert's backoff: up to 1 s, 2 s, 4 s... with full jitter, never more than 30 s in all."""
    ceiling = min(ALERT_BACKOFF_MAX, ALERT_BACKOFF_FIRST * (2 ** min(max(attempts - 1, 0), 16)))
    return min(ALERT_BACKOFF_MAX, ceiling * (rng or random).random() + timedelta(milliseconds=100))


def _is_alert(event: OutboxEvent) -> bool:
    return is_alert_key(event.ordering_key)


class Relay:
    def __init__(self, runtime: Runtime, *, max_age: timedelta = DEFAULT_MAX_AGE, name: str | None = None) -> None:
        self.runtime = runtime
        self.max_age = max_age
        self.name = name or f"{socket.gethostname()}:{threading.get_ident()}"
        load_deliverers()  # a relay that could not send some kind of event would only retry it until it died

    # --- claiming --------------------------------------------------------------------------------

    def _due(self, now: datetime, limit: int, only: Iterable[str] | None = None) -> sa.Select:
        """The ids of up to ``limit`` due events that are each the oldest undelivered one of their kind and key.

        One pass with a window function, rather than a "no earlier event" subquery per row: right after a
        burst the table's statistics are stale, and the planner then runs that subquery as a nested loop,
        quadratic in the backlog (0.9 s a claim at 4,000 waiting events). This stays one scan and a sort.
        """
        # Order is kept per kind and key: a provider webhook and a message to the young person go to different
        # places, so neither waits for the other (a safety message must never queue behind a provider that
        # is down, even when both are keyed by the contact).
        place = sa.func.row_number().over(
            partition_by=(OutboxEvent.kind, OutboxEvent.ordering_key), order_by=OutboxEvent.created_at
        )
        queued = (
            sa.select(
                OutboxEvent.id,
                OutboxEvent.created_at,
                OutboxEvent.next_attempt_at,
                OutboxEvent.lease_until,
                OutboxEvent.ordering_key,
                place.label("place"),
            )
            .where(OutboxEvent.delivered_at.is_(None), OutboxEvent.dead_at.is_(None))
            .subquery()
        )
        heads = sa.select(queued.c.id).where(
            queued.c.place == 1,
            queued.c.next_attempt_at <= now,
            sa.or_(queued.c.lease_until.is_(None), queued.c.lease_until < now),
        )
        if only is not None:
            heads = heads.where(queued.c.id.in_(list(only)))
        # Alerts first: a backlog of ordinary events (after an outage) never makes an alert wait a batch.
        alerts_first = sa.case((queued.c.ordering_key.startswith(ALERT_KEY_PREFIX), 0), else_=1)
        heads = heads.order_by(alerts_first, queued.c.created_at).limit(limit)
        return sa.select(OutboxEvent.id).where(OutboxEvent.id.in_(heads)).order_by(OutboxEvent.created_at)

    def claim(self, limit: int = CLAIM_BATCH, only: Iterable[str] | None = None) -> list[str]:
        """Take a lease on up to ``limit`` due events (or on those of ``only`` that are due)."""
        return [event.id for event in self._claim(limit, only)]

    def _claim(self, limit: int, only: Iterable[str] | None = None) -> list[OutboxEvent]:
        """The events now leased to this relay, loaded (and detached) in the claiming transaction itself, so
        sending them needs no further read."""
        now = self.runtime.clock()
        with self.runtime.session() as session, session.begin():
            take_write_lock(session)
            query = self._due(now, limit, only)
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=OutboxEvent)
            candidates = list(session.scalars(query))
            if not candidates:
                return []
            # One conditional update for the batch: only rows still free are taken (on SQLite, where there are
            # no row locks, this condition is what decides who has an event).
            claimed = list(
                session.scalars(
                    sa.update(OutboxEvent)
                    .where(
                        OutboxEvent.id.in_(candidates),
                        OutboxEvent.delivered_at.is_(None),
                        sa.or_(OutboxEvent.lease_until.is_(None), OutboxEvent.lease_until < now),
                    )
                    .values(lease_until=now + LEASE)
                    .returning(OutboxEvent)
                    .execution_options(synchronize_session=False)
                )
            )
            session.expunge_all()
        return sorted(claimed, key=lambda event: (not _is_alert(event), event.created_at))

    # --- delivering ------------------------------------------------------------------------------

    def deliver(self, event_id: str) -> Attempt:
        """Deliver one claimed event and record what happened."""
        with self.runtime.session() as session:
            event = session.get(OutboxEvent, event_id)
            if event is None or event.delivered_at is not None:
                return Attempt(event_id, delivered=True)
            session.expunge(event)
        return self._deliver(event)

    def _deliver(self, event: OutboxEvent) -> Attempt:
        event_id = event.id
        deliverer = DELIVERERS.get(event.kind)
        started = self.runtime.clock()
        try:
            if deliverer is None:
                raise RetryLater(f"no deliverer is registered for {event.kind} events")
            external_id = deliverer(self.runtime, event)
        except Undeliverable as exc:
            return self._record_failure(event_id, str(exc), started, permanent=True)
        except RetryLater as exc:
            return self._record_failure(event_id, str(exc), started, retry_after=exc.retry_after)
        except Exception as exc:  # a bug in a deliverer must not stop the relay; the event is retried
            log.exception("delivering outbox event %s failed unexpectedly", event_id)
            return self._record_failure(event_id, f"unexpected error: {type(exc).__name__}", started)
        now = self.runtime.clock()
        with self.runtime.session() as session, session.begin():
            if event.kind == OutboxKind.PROVIDER_WEBHOOK:
                outages.record_success(session, event.provider_id, now)
            session.execute(
                sa.update(OutboxEvent)
                .where(OutboxEvent.id == event_id)
                .values(
                    delivered_at=now,
                    lease_until=None,
                    attempts=OutboxEvent.attempts + 1,
                    external_id=external_id,
                    last_error=None,
                )
            )
        return Attempt(event_id, delivered=True)

    def _record_failure(
        self,
        event_id: str,
        reason: str,
        started: datetime,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
    ) -> Attempt:
        now = self.runtime.clock()
        with self.runtime.session() as session, session.begin():
            take_write_lock(session)
            event = session.get(OutboxEvent, event_id)
            if event is None:
                return Attempt(event_id, delivered=False)
            event.attempts += 1
            event.last_error = reason[:500]
            event.lease_until = None
            if _is_alert(event):
                # The provider's Retry-After is obeyed up to the alerts' own limit, not beyond it.
                wait = alert_backoff(event.attempts)
                if retry_after is not None:
                    wait = min(max(wait, timedelta(seconds=retry_after)), ALERT_BACKOFF_MAX)
            else:
                wait = backoff(event.attempts)
                if retry_after is not None:
                    wait = max(wait, timedelta(seconds=retry_after))
            event.next_attempt_at = now + wait
            if event.kind == OutboxKind.PROVIDER_WEBHOOK and not permanent:
                outages.record_failure(session, event.provider_id, started, reason)
            too_old = now - event.created_at > self.max_age
            if permanent or too_old:
                event.dead_at = now
                if is_last_reply(event):  # it will never go: nor does the address it carried stay
                    forget_in(event)
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

    def run_once(self, limit: int = CLAIM_BATCH, stop: threading.Event | None = None) -> list[Attempt]:
        """Claim a batch and deliver it; once ``stop`` is set, the rest of the batch is let go at once."""
        claimed = self._claim(limit)
        attempts = []
        for position, event in enumerate(claimed):
            if stop is not None and stop.is_set():
                self.release([later.id for later in claimed[position:]])
                break
            attempts.append(self._deliver(event))
        return attempts

    def release(self, event_ids: list[str]) -> None:
        """Give up leases on events not sent, so another relay can take them now rather than in a minute."""
        with self.runtime.session() as session, session.begin():
            session.execute(
                sa.update(OutboxEvent)
                .where(OutboxEvent.id.in_(event_ids), OutboxEvent.delivered_at.is_(None))
                .values(lease_until=None)
                .execution_options(synchronize_session=False)
            )

    def run_forever(self, stop: threading.Event, poll_seconds: float = IDLE_POLL_SECONDS) -> None:
        """Deliver until ``stop`` is set; the event being sent when it is set is finished first."""
        while not stop.is_set():
            attempts = self.run_once(stop=stop)
            if not attempts:
                stop.wait(poll_seconds)


def outbox_health(session: Session, now: datetime) -> dict[str, int | str | None]:
    """For ``/healthz``: events given up on, events waiting, and how long the oldest has waited."""
    undelivered = OutboxEvent.delivered_at.is_(None)
    dead = session.scalar(sa.select(sa.func.count()).where(undelivered, OutboxEvent.dead_at.is_not(None))) or 0
    waiting = sa.and_(undelivered, OutboxEvent.dead_at.is_(None))
    count = session.scalar(sa.select(sa.func.count()).where(waiting)) or 0
    oldest = session.scalar(sa.select(sa.func.min(OutboxEvent.created_at)).where(waiting))
    return {
        "dead_lettered": dead,
        "waiting": count,
        "oldest_waiting_seconds": int((now - oldest).total_seconds()) if oldest else None,
    }


def deliver_now(runtime: Runtime, event_ids: Iterable[str]) -> list[Attempt]:
    """Try events at once after their transaction committed (a Telegram reply should not wait for a poll).

    Whatever fails, or is held back behind an earlier event of its key, is left for the relay.
    """
    relay = Relay(runtime)
    ids = list(event_ids)
    return [relay._deliver(event) for event in relay._claim(len(ids), only=ids)] if ids else []
