"""Which provider a referral (and every event about it) goes to, and what the areas are called.

A deployment serves one or more providers, each covering named areas (local authorities; rows of ``areas``,
one provider at most each). A young person who names their area goes to the provider covering it; "not
sure", or an area nobody covers, goes to the default provider (``is_default``, the deployment's setting an
admin chooses; the first provider when none is marked). With no provider rows at all the events carry no
provider and go to ``RHI_PROVIDER_WEBHOOK_URL``: one provider configured from the environment.

``bot/data/areas.yaml`` ships the Welsh councils' names in both languages: an area added without names is
named from it, and the demo is seeded from it; after that the names are the database's, editable by an admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from models import Area as AreaRow
from models import Contact, Escalation, Provider

AREAS_FILE = Path(__file__).resolve().parent / "data" / "areas.yaml"
NOT_SURE = "not_sure"
# An area's key, as referrals and contacts record it: lowercase letters, digits and underscores.
AREA_KEY = r"^[a-z][a-z0-9_]{0,63}$"


@dataclass(frozen=True)
class Area:
    key: str
    names: dict[str, str]  # language -> the name as the bot shows it


@cache
def _shipped_names() -> dict[str, dict[str, str]]:
    return yaml.safe_load(AREAS_FILE.read_text(encoding="utf-8")) or {}


def shipped_area_names(key: str) -> dict[str, str]:
    """An area's names from the shipped list; an area missing from it is named by its key."""
    known = _shipped_names().get(key)
    if known:
        return {"en": known["en"], "cy": known["cy"]}
    fallback = key.replace("_", " ").title()
    return {"en": fallback, "cy": fallback}


def area_names(session: Session, key: str) -> dict[str, str]:
    """An area's name in English and Welsh, as the deployment has named it."""
    row = session.get(AreaRow, key)
    return row.names if row is not None else shipped_area_names(key)


# The default first, then the oldest: the order every routing decision reads them in.
_BY_ROUTING_ORDER = sa.select(Provider).order_by(Provider.is_default.desc(), Provider.id)


def areas_matching(session: Session, words: str) -> list[str]:
    """The keys of the areas whose key or English or Welsh name contains ``words`` (any case)."""
    folded = words.strip().casefold()
    if not folded:
        return []
    return [
        row.key
        for row in session.scalars(sa.select(AreaRow))
        if any(folded in name.casefold() for name in (row.key.replace("_", " "), *row.names.values()))
    ]


def area_english_names(session: Session) -> dict[str, str]:
    """Every area known, covered or not: the shipped councils, then the deployment's own names (key -> English)."""
    names = {key: shipped["en"] for key, shipped in _shipped_names().items()}
    names.update({key: name for key, name in session.execute(sa.select(AreaRow.key, AreaRow.name_en))})
    return names


def deployment_areas(session: Session) -> list[Area]:
    """The areas some provider covers, in alphabetical order of their English names."""
    rows = session.scalars(sa.select(AreaRow).where(AreaRow.provider_id.is_not(None)).order_by(AreaRow.name_en))
    return [Area(row.key, row.names) for row in rows]


def default_provider(session: Session) -> Provider | None:
    """Where a message from an area nobody covers goes; None when there are no providers."""
    return session.scalars(_BY_ROUTING_ORDER.limit(1)).first()


def provider_for_area(session: Session, area: str | None) -> Provider | None:
    """The provider covering ``area``; otherwise the default provider; None when there are no providers."""
    row = session.get(AreaRow, area) if area and area != NOT_SURE else None
    if row is not None and row.provider is not None:
        return row.provider
    return default_provider(session)


def provider_id_for_area(session: Session, area: str | None) -> int | None:
    provider = provider_for_area(session, area)
    return provider.id if provider else None


def escalation_provider_id(session: Session, escalation: Escalation) -> int | None:
    """Whose alert this is: the provider of its referral, else the provider of the young person's area."""
    if escalation.referral is not None:
        return escalation.referral.provider_id
    contact = escalation.contact or session.get(Contact, escalation.contact_id)
    return provider_id_for_area(session, contact.area if contact else None)
