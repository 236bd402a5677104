"""Providers, their logins and their referrals, for the provider queue tests: two providers on one
deployment, each with an API token and a duty worker, and young people who refer themselves to each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from bot.admin.providers import add_provider
from bot.demo import DEMO_PROVIDER_SLUG
from bot.providers.accounts import issue_api_token, set_password
from models import (
    Gender,
    OutboxEvent,
    OutboxKind,
    Provider,
    Referral,
    Slot,
    SlotStatus,
    StaffRole,
    StaffUser,
    Worker,
    utcnow,
)

PASSWORD = "correct horse battery staple"
OTHER_AREA = "rhondda_cynon_taf"


def self_referral(area: str = "cardiff", time: str = "1") -> list[str]:
    """A young person's answers, by number and words, through to a booking request."""
    return ["hi", "1", "2", "2", "yesterday", "no", "home", area, "yes", "cafe", "a woman", time, "no", "yes"]


@dataclass(frozen=True)
class ProviderLogin:
    id: int
    token: str
    email: str
    worker_id: int

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def login_for(runtime, slug: str, email: str, *, staff: bool = True) -> ProviderLogin:
    """An API token and (unless ``staff=False``) a duty worker login for the provider ``slug``."""
    with runtime.session() as session, session.begin():
        provider = session.scalars(sa.select(Provider).where(Provider.slug == slug)).one()
        token = issue_api_token(provider)
        if staff:
            user = StaffUser(provider_id=provider.id, email=email, display_name=email.split("@")[0].title(),
                             role=StaffRole.DUTY_WORKER, password_hash="")  # fmt: skip
            set_password(user, PASSWORD)
            session.add(user)
        worker_id = session.scalars(
            sa.select(Worker.id).where(Worker.provider_id == provider.id).order_by(Worker.id)
        ).first()
        return ProviderLogin(provider.id, token, email, worker_id)


def demo_login(runtime, *, staff: bool = True) -> ProviderLogin:
    return login_for(runtime, DEMO_PROVIDER_SLUG, "duty@demo.test", staff=staff)


def other_provider(runtime, *, staff: bool = True) -> ProviderLogin:
    """A second provider on the deployment, covering one other area, with a worker of its own."""
    with runtime.session() as session, session.begin():
        provider = add_provider(session, "valleys", "Valleys Return Home", [OTHER_AREA])
        session.flush()
        dai = Worker(provider_id=provider.id, display_name="Dai", languages=["en", "cy"], areas=[OTHER_AREA])
        session.add(dai)
        session.flush()
        # A woman with one free time, so self_referral()'s "a woman" and "1" book it: the booking asks for both.
        nia = Worker(provider_id=provider.id, display_name="Nia", languages=["en", "cy"], gender=Gender.WOMAN,
                     areas=[OTHER_AREA])  # fmt: skip
        starts = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=5)
        session.add_all([nia, Slot(worker=nia, starts_at=starts, ends_at=starts + timedelta(hours=1))])
    return login_for(runtime, "valleys", "duty@valleys.test", staff=staff)


def latest_referral_id(runtime, provider_id: int) -> int:
    with runtime.session() as session:
        return session.scalars(
            sa.select(Referral.id).where(Referral.provider_id == provider_id).order_by(Referral.id.desc())
        ).first()


def working_time(runtime, after: datetime, worker_id: int | None = None) -> datetime:
    """The first time from ``after`` that a worker (any, or ``worker_id``) is offered, so inside their hours and
    the opening hours: a time a worker may set (``bot/booking/guards.py``)."""
    with runtime.session() as session:
        query = sa.select(Slot.starts_at).where(Slot.starts_at >= after, Slot.status == SlotStatus.OPEN)
        if worker_id is not None:
            query = query.where(Slot.worker_id == worker_id)
        return session.scalars(query.order_by(Slot.starts_at).limit(1)).one()


def messages_to(runtime, contact_id: int) -> list[str]:
    """What the bot will send this person from the outbox (not replies in a webhook response), oldest first."""
    with runtime.session() as session:
        events = session.scalars(
            sa.select(OutboxEvent)
            .where(OutboxEvent.kind == OutboxKind.CHANNEL_MESSAGE, OutboxEvent.contact_id == contact_id)
            .order_by(OutboxEvent.created_at)
        ).all()
        return [reply["text"] for event in events for reply in event.payload["replies"]]
