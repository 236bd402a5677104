"""A young person's rights over what the service holds: everything about them, as data and as a page they can
read (a subject access request), and erasure when they ask a provider for it. A provider admin finds only
people their provider works with; each look and each erasure is written to the audit log in the same
transaction, so nothing is seen or erased without a record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.admin import Refused
from bot.admin.audit import Action, record
from bot.admin.retention import remove_person
from bot.routing import provider_id_for_area
from models import Booking, Channel, Contact, Episode, Escalation, Message, Referral, ReviewItem

# Columns that only find rows again, never something about the person.
NOT_SHOWN = frozenset({"address_hash", "external_id", "inbound_event_id", "response"})


@dataclass(frozen=True)
class Staff:
    """Who is asking: their email for the audit log, and the provider they are limited to (None: an admin)."""

    email: str
    provider_id: int | None


def find_person(session: Session, asker: Staff, *, referral_id: int | None = None, phone: str | None = None) -> Contact:
    """The person of a referral, or with this phone number (SMS); refused alike when there is none or they are
    not the asker's provider's."""
    contact = None
    if referral_id is not None:
        referral = session.get(Referral, referral_id)
        contact = referral.contact if referral is not None else None
    elif phone:
        try:
            contact = Contact.find(session, Channel.SMS, phone.strip())
        except ValueError:
            contact = None
    if contact is None or not _is_theirs(session, asker, contact):
        raise Refused("nobody your service works with matches that")
    return contact


def person_by_id(session: Session, asker: Staff, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or not _is_theirs(session, asker, contact):
        raise Refused("nobody your service works with matches that")
    return contact


def _is_theirs(session: Session, asker: Staff, contact: Contact) -> bool:
    if asker.provider_id is None:
        return True
    referred = session.scalar(
        sa.select(sa.func.count()).where(Referral.contact_id == contact.id, Referral.provider_id == asker.provider_id)
    )
    return bool(referred) or provider_id_for_area(session, contact.area) == asker.provider_id


def subject_access(session: Session, asker: Staff, contact: Contact, now: datetime) -> dict[str, Any]:
    """Everything held about ``contact``, by kind of record; the look is audited."""
    referrals = list(
        session.scalars(sa.select(Referral).where(Referral.contact_id == contact.id).order_by(Referral.id))
    )
    referral_ids = [referral.id for referral in referrals]
    held = {
        "person": _row(contact),
        "messages": _rows(session, sa.select(Message).where(Message.contact_id == contact.id).order_by(Message.id)),
        "referrals": [_row(referral) for referral in referrals],
        "episodes": _rows(session, sa.select(Episode).where(Episode.contact_id == contact.id).order_by(Episode.id)),
        "bookings": _rows(
            session, sa.select(Booking).where(Booking.referral_id.in_(referral_ids)).order_by(Booking.id)
        ),
        "safeguarding": _rows(
            session, sa.select(Escalation).where(Escalation.contact_id == contact.id).order_by(Escalation.id)
        ),
        "to_read": _rows(
            session, sa.select(ReviewItem).where(ReviewItem.contact_id == contact.id).order_by(ReviewItem.id)
        ),
    }
    record(session, now, asker.email, Action.SUBJECT_ACCESS, "everything held about them was read",
           contact_id=contact.id, provider_id=asker.provider_id)  # fmt: skip
    return held


def erase_on_request(session: Session, asker: Staff, contact: Contact, now: datetime) -> None:
    """The person asked their provider to delete their data: as "delete my data" does, recorded."""
    remove_person(session, contact, now)
    record(session, now, asker.email, Action.ERASURE, "their words and number erased at their request",
           contact_id=contact.id, provider_id=asker.provider_id)  # fmt: skip


def _rows(session: Session, query: sa.Select[Any]) -> list[dict[str, Any]]:
    return [_row(row) for row in session.scalars(query)]


def _row(row: Any) -> dict[str, Any]:
    values = {}
    for column in sa.inspect(type(row)).columns:
        if column.key in NOT_SHOWN:
            continue
        value = getattr(row, column.key)
        values[column.key] = _plain(value)
    return values


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value
