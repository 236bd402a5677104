"""A provider's webhook endpoint that keeps failing: recorded by the relay as it sends, announced once.

The relay records every failed send to a provider's endpoint and the first send it takes again, in the
transaction that records the event's own result. An endpoint whose sends have failed, with none taken, over
more than ``OUTAGE_AFTER`` (its first failure and its latest that far apart: evidence, not a guess from
one old failure) is an outage: the first worker to see it announces it (an ERROR line in its log, and the
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

from models import Provider, WebhookOutage

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


def record_failure(session: Session, provider_id: int | None, now: datetime, reason: str) -> None:
    """A send to the provider's endpoint failed: it is failing since now, unless it already was."""
    insert = (postgresql if session.bind.dialect.name == "postgresql" else sqlite).insert(_OUTAGES)
    reason = reason[:500]
    session.execute(
        insert.values(
            endpoint=endpoint_of(provider_id),
            provider_id=provider_id,
            failing_since=now,
            last_failed_at=now,
            last_error=reason,
        ).on_conflict_do_update(
            index_elements=[_OUTAGES.c.endpoint], set_={"last_failed_at": now, "last_error": reason}
        )
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
        sa.select(WebhookOutage.endpoint, WebhookOutage.failing_since, WebhookOutage.last_failed_at).where(
            WebhookOutage.told_at.is_(None)
        )
    ).all()
    outages = []
    for candidate in unannounced:
        if not _is_outage(candidate.failing_since, candidate.last_failed_at):
            continue
        row = session.execute(
            sa.update(WebhookOutage)
            .where(
                WebhookOutage.endpoint == candidate.endpoint,
                WebhookOutage.failing_since == candidate.failing_since,
                WebhookOutage.told_at.is_(None),
            )
            .values(told_at=now)
            .returning(
                WebhookOutage.endpoint, WebhookOutage.provider_id, WebhookOutage.failing_since, WebhookOutage.last_error
            )
            .execution_options(synchronize_session=False)
        ).first()
        if row is None:
            continue  # another worker announced it, or it ended, in the meantime
        outage = Outage(row.endpoint, row.provider_id, row.failing_since, row.last_error)
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


def endpoints_health(session: Session, now: datetime) -> dict[str, str]:
    """For ``/healthz``: each failing endpoint, by provider (its slug), "down since ..." once it is an outage,
    "failing since ..." before."""
    rows = session.execute(
        sa.select(
            WebhookOutage.endpoint, WebhookOutage.failing_since, WebhookOutage.last_failed_at, Provider.slug
        ).outerjoin(Provider, Provider.id == WebhookOutage.provider_id)
    ).all()
    return {
        row.slug or row.endpoint: (
            f"{'down' if _is_outage(row.failing_since, row.last_failed_at) else 'failing'} "
            f"since {_when(row.failing_since)}"
        )
        for row in rows
    }


def _is_outage(failing_since: datetime, last_failed_at: datetime) -> bool:
    """Failed sends, none taken, over more than ``OUTAGE_AFTER``."""
    return last_failed_at - failing_since > OUTAGE_AFTER


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
