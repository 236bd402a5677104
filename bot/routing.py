"""Which provider a referral (and every event about it) goes to.

A deployment serves one or more providers, each covering named areas (local authorities). A young person
who names their area goes to the provider covering it; "not sure", or an area nobody covers, goes to the
default provider (``is_default``; the first provider when none is marked). With no provider rows at all the
events carry no provider and go to ``RHI_PROVIDER_WEBHOOK_URL``: one provider configured from the
environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from models import Contact, Escalation, Provider

AREAS_FILE = Path(__file__).resolve().parent / "data" / "areas.yaml"
NOT_SURE = "not_sure"


@dataclass(frozen=True)
class Area:
    key: str
    names: dict[str, str]  # language -> the name as the bot shows it


@cache
def _area_names() -> dict[str, dict[str, str]]:
    return yaml.safe_load(AREAS_FILE.read_text(encoding="utf-8")) or {}


def areas_matching(words: str) -> list[str]:
    """The keys of the areas whose key or English or Welsh name contains ``words`` (any case)."""
    folded = words.strip().casefold()
    if not folded:
        return []
    return [
        key
        for key, names in _area_names().items()
        if any(folded in name.casefold() for name in (key.replace("_", " "), *names.values()))
    ]


def area_names(key: str) -> dict[str, str]:
    """An area's name in English and Welsh; an area missing from the data file is shown by its key."""
    known = _area_names().get(key)
    if known:
        return {"en": known["en"], "cy": known["cy"]}
    fallback = key.replace("_", " ").title()
    return {"en": fallback, "cy": fallback}


# The default first, then the oldest: the order every routing decision reads them in.
_BY_ROUTING_ORDER = sa.select(Provider).order_by(Provider.is_default.desc(), Provider.id)


def deployment_areas(session: Session) -> list[Area]:
    """The areas some provider covers, in alphabetical order of their English names."""
    keys = {area for areas in session.scalars(sa.select(Provider.areas)) for area in (areas or [])}
    areas = [Area(key, area_names(key)) for key in keys]
    return sorted(areas, key=lambda area: area.names["en"])


def provider_for_area(session: Session, area: str | None) -> Provider | None:
    """The provider covering ``area``; otherwise the default provider; None when there are no providers."""
    providers = session.scalars(_BY_ROUTING_ORDER).all()
    chosen = next((row for row in providers if area and area != NOT_SURE and area in (row.areas or [])), None)
    return chosen or (providers[0] if providers else None)


def provider_id_for_area(session: Session, area: str | None) -> int | None:
    provider = provider_for_area(session, area)
    return provider.id if provider else None


def escalation_provider_id(session: Session, escalation: Escalation) -> int | None:
    """Whose alert this is: the provider of its referral, else the provider of the young person's area."""
    if escalation.referral is not None:
        return escalation.referral.provider_id
    contact = escalation.contact or session.get(Contact, escalation.contact_id)
    return provider_id_for_area(session, contact.area if contact else None)
