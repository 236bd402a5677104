"""A provider's webhook endpoint that keeps failing: recorded by the relay as it sends, announced once.

The relay records every failed send to a provider's endpoint and the first send it takes again, in the
transaction that records the event's own result. An endpoint that has failed every send for longer than
``OUTAGE_AFTER`` is an outage: the first worker to see it announces it (an ERROR line in its log, and the
duty rota is told by ``bot.alerts.duty``), once however many events and workers see it; the send that ends
it is logged too. ``/healthz`` shows it. Nothing here names or quotes a young person.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import OutboxEvent, OutboxKind, Provider, WebhookOutage

log = logging.getLogger(__name__)

# Failing this long is an outage, not a blip: the duty rota is told, and alerts may be missing from the
# provider's own system.
OUTAGE_AFTER = timedelta(minutes=2)
ENVIRONMENT_ENDPOINT = "environment"  # RHI_PROVIDER_WEBHOOK_URL, for events with no provider row

_OUTAGES = WebhookOutage.__table__


@dataclass(frozen=True)
class Outage:
    endpoint: str
    provider_id: int | None
    failing_since: datetime
    last_error: str | None


def endpoint_of(provider_id: int | None) -> str:
    return f"provider:{provider_id}" if provider_id is not None else ENVIRONMENT_ENDPOINT


def record_failure(session: Session, provider_id: int | None, attempted_at: datetime, reason: str) -> None:
    """A send to the provider's endpoint, begun at ``attempted_at``, failed: the endpoint is failing since
    then, unless it already was."""
    insert = (postgresql if session.bind.dialect.name == "postgresql" else sqlite).insert(_OUTAGES)
    reason = reason[:500]
    session.execute(
        insert.values(
            endpoint=endpoint_of(provider_id), provider_id=provider_id, failing_since=attempted_at, last_error=reason
        ).on_conflict_do_update(index_elements=[_OUTAGES.c.endpoint], set_={"last_error": reason})
    )


def record_success(session: Session, provider_id: int | None, now: datetime) -> None:
    """A send to the provider's endpoint went through: whatever it was failing, it no longer is (and an
    announced outage is said to be over)."""
    ended = session.execute(
        sa.delete(WebhookOutage)
        .where(WebhookOutage.endpoint == endpoint_of(provider_id))
        .returning(WebhookOutage.failing_since, WebhookOutage.told_at)
    ).first()
    if ended is not None and ended.told_at is not None:
        log.warning(
            "provider webhook endpoint %s is back: it was down from %s for %d s",
            endpoint_of(provider_id),
            _when(ended.failing_since),
            int((now - ended.failing_since).total_seconds()),
        )


def announce_outages(session: Session, now: datetime) -> list[Outage]:
    """The outages nobody has announced yet, now taken by this caller to announce (logged here; the caller
    tells the duty rota in the same transaction). One conditional update per outage decides, when several
    workers look at once, which of them announces it."""
    unannounced = session.execute(
        sa.select(WebhookOutage.endpoint, WebhookOutage.provider_id, WebhookOutage.failing_since).where(
            WebhookOutage.told_at.is_(None), WebhookOutage.failing_since < now - OUTAGE_AFTER
        )
    ).all()
    outages = []
    for candidate in unannounced:
        this_one = sa.and_(
            WebhookOutage.endpoint == candidate.endpoint,
            WebhookOutage.failing_since == candidate.failing_since,
            WebhookOutage.told_at.is_(None),
        )
        if _taken_since(session, candidate.provider_id, candidate.failing_since):
            # A send that failed was recorded after another, begun later, went through (two relays at
            # once): the endpoint works, and this row is left over.
            session.execute(sa.delete(WebhookOutage).where(this_one))
            continue
        row = session.execute(
            sa.update(WebhookOutage)
            .where(this_one)
            .values(told_at=now)
            .returning(WebhookOutage.last_error)
            .execution_options(synchronize_session=False)
        ).first()
        if row is None:
            continue  # another worker announced it, or it ended, in the meantime
        outage = Outage(candidate.endpoint, candidate.provider_id, candidate.failing_since, row.last_error)
        # Loud on purpose: while it lasts, alerts reach the duty rota and the queue pages but not the
        # provider's own system.
        log.error(
            "provider webhook endpoint %s is down since %s: every send for %d s has failed (last: %s); "
            "events wait and are retried, alerts every 30 s at most",
            outage.endpoint,
            _when(outage.failing_since),
            int((now - outage.failing_since).total_seconds()),
            outage.last_error,
        )
        outages.append(outage)
    return outages


def _taken_since(session: Session, provider_id: int | None, since: datetime) -> bool:
    """Whether the endpoint took an event of this provider after ``since``."""
    provider = OutboxEvent.provider_id.is_(None) if provider_id is None else OutboxEvent.provider_id == provider_id
    taken = sa.select(OutboxEvent.id).where(
        OutboxEvent.kind == OutboxKind.PROVIDER_WEBHOOK, provider, OutboxEvent.delivered_at > since
    )
    return session.scalar(sa.select(taken.exists())) is True


def endpoints_health(session: Session, now: datetime) -> dict[str, str]:
    """For ``/healthz``: each failing endpoint, by provider (its slug), "down since ..." once it is an outage,
    "failing since ..." before."""
    rows = session.execute(
        sa.select(WebhookOutage.endpoint, WebhookOutage.failing_since, Provider.slug).outerjoin(
            Provider, Provider.id == WebhookOutage.provider_id
        )
    ).all()
    return {
        row.slug or row.endpoint: (
            f"{'down' if now - row.failing_since > OUTAGE_AFTER else 'failing'} since {_when(row.failing_since)}"
        )
        for row in rows
    }


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
