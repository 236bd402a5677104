"""Telling a duty worker at once about a safeguarding alert, and telling them again (then the next person
on the rota) while nobody has acknowledged an immediate one; and telling them when a message on the "To read"
list has waited unread longer than the provider allows, again and down the rota in the same way; and telling
them, once per outage, when the provider's own system has not taken our events for a while (alerts then
reach the queue pages but not the provider's system).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from bot.outbox.delivery import enqueue_staff_message
from bot.outbox.outages import announce_outages
from bot.routing import escalation_provider_id
from models import Escalation, Provider, ReviewItem, Severity
from models.db import take_write_lock

if TYPE_CHECKING:
    from bot.runtime import Runtime

STAFF_MESSAGES_FILE = Path(__file__).resolve().parent.parent / "data" / "staff_messages.yaml"
# An immediate alert nobody has acknowledged after this long is notified again.
RENOTIFY_AFTER = timedelta(minutes=15)
# Each person on the rota is told twice (the first time, and once again) before the next person is.
NOTIFICATIONS_PER_PERSON = 2
QUEUE_PATH = "/provider/"


@cache
def _messages() -> dict[str, str]:
    return yaml.safe_load(STAFF_MESSAGES_FILE.read_text(encoding="utf-8"))


def _queue_link(runtime: Runtime) -> str:
    return f"{runtime.settings.public_base_url or ''}{QUEUE_PATH}"


def notify_new_alert(session: Session, runtime: Runtime, provider_id: int | None, alert: list[Escalation]) -> None:
    """Tell the first person on the provider's rota, if the provider has one (it is optional)."""
    provider = session.get(Provider, provider_id) if provider_id else None
    rota = (provider.duty_contacts or []) if provider else []
    if not rota or not alert:
        return
    _send(session, runtime, provider, rota[0], "duty_alert")
    for escalation in alert:
        escalation.notified_count = 1
        escalation.last_notified_at = alert[0].created_at


def renotify_unacknowledged(runtime: Runtime, now: datetime) -> int:
    """Notify again for immediate alerts nobody acknowledged in time: the same person once, then the next."""
    sent = 0
    with runtime.session() as session, session.begin():
        take_write_lock(session)
        due = session.scalars(
            sa.select(Escalation)
            .where(
                Escalation.severity == Severity.IMMEDIATE,
                Escalation.acknowledged_at.is_(None),
                Escalation.notified_count > 0,
                Escalation.last_notified_at <= now - RENOTIFY_AFTER,
            )
            .order_by(Escalation.created_at)
            .with_for_update(skip_locked=True)
        ).all()
        alerts: dict[int | None, list[Escalation]] = {}
        for escalation in due:  # one notification per alert (an alert may have several categories)
            alerts.setdefault(escalation.inbound_event_id, []).append(escalation)
        for escalations in alerts.values():
            first = escalations[0]
            provider_id = escalation_provider_id(session, first)
            provider = session.get(Provider, provider_id) if provider_id else None
            if not _tell_next_on_rota(session, runtime, provider, first.notified_count, "duty_alert_again"):
                continue  # everyone on the rota was told twice; the alert stays red at the top of the queue
            for escalation in escalations:
                escalation.notified_count += 1
                escalation.last_notified_at = now
            sent += 1
    return sent


def renotify_unread(runtime: Runtime, now: datetime) -> int:
    """Tell the rota about messages on the "To read" list nobody has read within the provider's time
    (``Provider.review_within_minutes``), and again after as long, down the rota as for an alert."""
    sent = 0
    with runtime.session() as session, session.begin():
        take_write_lock(session)
        waiting = session.execute(
            sa.select(ReviewItem, Provider)
            .join(Provider, Provider.id == ReviewItem.provider_id)
            .where(ReviewItem.read_at.is_(None))
            .order_by(ReviewItem.received_at)
            .with_for_update(of=ReviewItem, skip_locked=True)
        ).all()
        told: set[int] = set()  # one message per provider per run, however many items wait
        for item, provider in waiting:
            allowed = timedelta(minutes=provider.review_within_minutes)
            due = item.received_at + allowed if item.last_notified_at is None else item.last_notified_at + allowed
            if due > now:
                continue
            if provider.id not in told:
                if not _tell_next_on_rota(session, runtime, provider, item.notified_count, "duty_unread"):
                    continue  # everyone on the rota was told twice; it stays on the list
                told.add(provider.id)
                sent += 1
            item.notified_count += 1
            item.last_notified_at = now
    return sent


def tell_of_provider_outages(runtime: Runtime, now: datetime) -> int:
    """Tell the first person on the rota of each provider whose webhook endpoint has just become an outage
    (``bot.outbox.outages.OUTAGE_AFTER`` of failed sends); once per outage, whichever worker sees it first."""
    sent = 0
    with runtime.session() as session, session.begin():
        take_write_lock(session)
        for outage in announce_outages(session, now):
            provider = session.get(Provider, outage.provider_id) if outage.provider_id is not None else None
            rota = (provider.duty_contacts or []) if provider else []
            if not rota:
                continue  # the outage is logged and on /healthz; there is nobody to text
            since = outage.failing_since.astimezone(runtime.timezone).strftime("%H:%M")
            _send(session, runtime, provider, rota[0], "duty_provider_down", since=since)
            sent += 1
    return sent


def _tell_next_on_rota(
    session: Session, runtime: Runtime, provider: Provider | None, told_before: int, message: str
) -> bool:
    """Tell the person whose turn it is after ``told_before`` notifications (each person twice, in rota
    order); False when everyone on the rota has been told."""
    rota = (provider.duty_contacts or []) if provider else []
    person = told_before // NOTIFICATIONS_PER_PERSON
    if provider is None or person >= len(rota):
        return False
    _send(session, runtime, provider, rota[person], message)
    return True


def _send(
    session: Session, runtime: Runtime, provider: Provider, person: dict[str, str], message: str, **values: str
) -> None:
    enqueue_staff_message(
        session,
        channel=person["channel"],
        address=person["address"],
        text=_messages()[message].format(link=_queue_link(runtime), **values),
        ordering_key=f"duty:{provider.id}",
    )
