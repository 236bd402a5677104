"""The audit log: who saw or changed what about a child, and when. One write path (``record``); read on the
admin pages and exported as CSV. It never holds a young person's words or number."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import AuditEntry, Provider

SYSTEM = "system"  # what the worker's jobs record as who
PAGE = 200  # entries on one page, newest first


class Action(StrEnum):
    VIEWED = "viewed"  # a worker opened a person's or a referral's page, or a case system read a referral
    SUBJECT_ACCESS = "subject_access"  # someone read everything held about a person
    ERASURE = "erasure"  # a provider admin erased a person's data on their request
    RETENTION = "retention"  # the worker removed words past their time
    STUDIO_RESTORE = "studio_restore"  # a coordinator made an earlier version of the scripts live again


def record(
    session: Session,
    now: datetime,
    who: str,
    action: Action,
    what: str,
    *,
    contact_id: int | None = None,
    provider_id: int | None = None,
) -> AuditEntry:
    entry = AuditEntry(at=now, who=who, action=action.value, what=what[:200], contact_id=contact_id,
                       provider_id=provider_id)  # fmt: skip
    session.add(entry)
    return entry


def entries(session: Session, *, scope: int | None = None, limit: int | None = PAGE) -> list[AuditEntry]:
    """Newest first; only one provider's when ``scope`` names it (a provider admin's view)."""
    query = sa.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if scope is not None:
        query = query.where(AuditEntry.provider_id == scope)
    return list(session.scalars(query.limit(limit)))


def as_csv(session: Session, timezone: ZoneInfo, *, scope: int | None = None) -> str:
    """Every entry (of one provider with ``scope``), oldest first, with local and UTC times."""
    slugs = {row.id: row.slug for row in session.execute(sa.select(Provider.id, Provider.slug))}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["when (UTC)", "when (local)", "who", "provider", "action", "person", "what"])
    for entry in reversed(entries(session, scope=scope, limit=None)):
        local = entry.at.astimezone(timezone).strftime("%d/%m/%Y %H:%M")
        provider = slugs.get(entry.provider_id, "")
        row = [entry.at.isoformat(), local, entry.who, provider, entry.action, entry.contact_id or "", entry.what]
        writer.writerow(row)
    return out.getvalue()
