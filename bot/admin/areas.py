"""The areas a deployment hears from and which provider covers each: one provider per area, checked here and
held by the database (an area is one row)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.admin import Refused
from bot.routing import AREA_KEY, shipped_area_names
from models import Area, Provider

MAX_AREA_NAME = 100


def area_key(value: str) -> str:
    key = value.strip().lower()
    if not re.fullmatch(AREA_KEY, key):
        raise Refused(
            f"{value!r} is not an area key: use lowercase letters, digits and _ (for example vale_of_glamorgan)"
        )
    return key


def name_area(session: Session, key: str, en: str | None = None, cy: str | None = None) -> Area:
    """The area ``key``, made if missing (named from the shipped list of councils unless names are given), with
    any names given."""
    key = area_key(key)
    area = session.get(Area, key, with_for_update=True)
    if area is None:
        shipped = shipped_area_names(key)
        area = Area(key=key, name_en=shipped["en"], name_cy=shipped["cy"])
        session.add(area)
    for language, name in (("en", en), ("cy", cy)):
        if name is None:
            continue
        name = " ".join(name.split())
        if not name or len(name) > MAX_AREA_NAME:
            raise Refused(f"an area's name must be 1 to {MAX_AREA_NAME} characters")
        setattr(area, f"name_{language}", name)
    return area


def cover_areas(session: Session, provider: Provider, keys: Iterable[str]) -> list[Area]:
    """``provider`` covers these areas too; an area another provider covers is refused (nothing changes)."""
    areas = [name_area(session, key) for key in keys]
    for area in areas:
        if area.provider_id is not None and area.provider_id != provider.id:
            other = session.get(Provider, area.provider_id)
            raise Refused(f"the area {area.key} is already covered by the provider {other.slug if other else '?'}")
    for area in areas:
        area.provider = provider
    return areas


def uncover_area(session: Session, key: str) -> Area:
    """Nobody covers ``key`` any more: its messages go to the default provider."""
    area = session.get(Area, area_key(key), with_for_update=True)
    if area is None:
        raise Refused(f"there is no area {key}")
    area.provider = None
    return area


def all_areas(session: Session) -> list[Area]:
    return list(session.scalars(sa.select(Area).order_by(Area.name_en)))
