"""Providers: adding one, listing them, choosing the default, and giving one new credentials.

A provider's API token is shown once and replaces the old one at once (the old is simply gone: whoever held it
must not keep access). Its webhook signing secret is different: the provider's system checks our signature,
and cannot change its secret at the very moment we do, so for ``WEBHOOK_SECRET_GRACE`` after a rotation every
event is signed with both secrets (``bot.outbox.provider_webhook``), and either one verifies.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from bot.admin import Refused
from bot.admin.areas import cover_areas
from bot.providers.accounts import issue_api_token
from models import Provider, StaffUser
from models.db import take_write_lock

SLUG = r"[a-z0-9][a-z0-9-]{1,63}"
MAX_PROVIDER_NAME = 200
MAX_WEBHOOK_URL = 500
WEBHOOK_SECRET_PREFIX = "whsec_"
WEBHOOK_SECRET_GRACE = timedelta(hours=72)


@dataclass(frozen=True)
class Credentials:
    """What ``rotate_credentials`` made: shown once, as only the token's hash is kept."""

    api_token: str
    webhook_secret: str
    previous_secret_until: datetime | None  # the old secret still verifies until then; None when there was none


def find_provider(session: Session, slug: str) -> Provider:
    provider = session.scalars(sa.select(Provider).where(Provider.slug == slug.strip().lower())).one_or_none()
    if provider is None:
        raise Refused(f"there is no provider {slug} (`rhi provider list` shows them)")
    return provider


def webhook_url(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or len(url) > MAX_WEBHOOK_URL:
        raise Refused(f"{value!r} is not a web address for the webhook (https://...)")
    return url


def add_provider(
    session: Session,
    slug: str,
    name: str,
    areas: Sequence[str] = (),
    url: str | None = None,
    *,
    default: bool = False,
    name_cy: str | None = None,
) -> Provider:
    """A new provider covering ``areas``, named ``name`` (``name_cy``: its Welsh name, shown beside it on the
    admin pages; the scripts name the service, ``{service_name}``, never the provider). The first provider is
    the default one until another is chosen."""
    take_write_lock(session)
    slug = slug.strip().lower()
    if not re.fullmatch(SLUG, slug):
        raise Refused(f"{slug!r} is not a provider slug: 2 to 64 lowercase letters, digits and -")
    name = " ".join(name.split())
    if not name or len(name) > MAX_PROVIDER_NAME:
        raise Refused(f"a provider's name must be 1 to {MAX_PROVIDER_NAME} characters")
    name_cy = " ".join((name_cy or "").split()) or None
    if name_cy is not None and len(name_cy) > MAX_PROVIDER_NAME:
        raise Refused(f"a provider's Welsh name must be at most {MAX_PROVIDER_NAME} characters")
    if session.scalars(sa.select(Provider.id).where(Provider.slug == slug)).first() is not None:
        raise Refused(f"there is already a provider {slug}")
    first = session.scalars(sa.select(Provider.id)).first() is None
    provider = Provider(slug=slug, name=name, name_cy=name_cy, webhook_url=webhook_url(url), is_default=False)
    session.add(provider)
    session.flush()
    cover_areas(session, provider, areas)
    if default or first:
        make_default(session, provider)
    return provider


def make_default(session: Session, provider: Provider) -> None:
    """Messages from an area nobody covers (or "not sure") go to ``provider`` from now on."""
    session.execute(sa.update(Provider).where(Provider.id != provider.id).values(is_default=False))
    provider.is_default = True


def rotate_credentials(session: Session, provider: Provider, now: datetime) -> Credentials:
    """A new API token (the old one stops working now) and a new webhook signing secret (the old one still
    verifies for ``WEBHOOK_SECRET_GRACE``)."""
    token = issue_api_token(provider)
    until = now + WEBHOOK_SECRET_GRACE if provider.webhook_secret else None
    provider.previous_webhook_secret = provider.webhook_secret
    provider.previous_webhook_secret_until = until
    provider.webhook_secret = WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)
    return Credentials(token, provider.webhook_secret, until)


def all_providers(session: Session) -> list[Provider]:
    query = sa.select(Provider).options(selectinload(Provider.covered_areas)).order_by(Provider.slug)
    return list(session.scalars(query))


def staff_counts(session: Session) -> dict[int, int]:
    """Active staff per provider id."""
    query = (
        sa.select(StaffUser.provider_id, sa.func.count())
        .where(StaffUser.active, StaffUser.provider_id.is_not(None))
        .group_by(StaffUser.provider_id)
    )
    return {provider_id: count for provider_id, count in session.execute(query)}
