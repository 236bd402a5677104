"""Demo data: one provider, a few workers (Welsh speakers among them), places, and a week of times.

Loading is idempotent: run it every day and it only adds what is missing (new days' times).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.provider_accounts import issue_api_token, new_password, set_password
from models import Gender, Place, PlaceKind, Provider, Slot, SlotStatus, StaffRole, StaffUser, Worker

DEMO_PROVIDER_SLUG = "demo"
DEMO_AREAS = ["cardiff", "newport", "vale_of_glamorgan"]
DEMO_WORKERS = [
    ("Eleri", ["en", "cy"], Gender.WOMAN),
    ("Rhys", ["en", "cy"], Gender.MAN),
    ("Priya", ["en"], Gender.WOMAN),
    ("Tom", ["en"], Gender.MAN),
]
DEMO_PLACES = [
    (PlaceKind.SCHOOL, "Your school (a quiet room)"),
    (PlaceKind.YOUTH_CENTRE, "Canolfan Ieuenctid / Youth Centre, City Road"),
    (PlaceKind.CAFE, "A cafe of your choice"),
    (PlaceKind.WALK, "A walk in the park"),
    (PlaceKind.HOME, "Your home"),
    (PlaceKind.PHONE, "Phone call"),
    (PlaceKind.VIDEO, "Video call"),
]
DEMO_DUTY_WORKER = ("duty@demo.example", "Demo duty worker")
DEMO_COORDINATOR = ("coordinator@demo.example", "Demo coordinator")
WEEKDAY_TIMES = (time(10), time(13), time(16), time(17, 30))
SATURDAY_TIMES = (time(11), time(14))
DAYS_AHEAD = 7
INTERVIEW_LENGTH = timedelta(hours=1)


def load_demo_data(session: Session, today: date, timezone: ZoneInfo) -> Provider:
    provider = session.scalars(sa.select(Provider).where(Provider.slug == DEMO_PROVIDER_SLUG)).one_or_none()
    if provider is None:
        provider = Provider(slug=DEMO_PROVIDER_SLUG, name="Demo Return Home Service", areas=DEMO_AREAS, is_default=True)
        session.add(provider)
        session.flush()
    known_workers = {worker.display_name: worker for worker in provider.workers}
    for name, languages, gender in DEMO_WORKERS:
        if name not in known_workers:
            known_workers[name] = Worker(
                provider=provider, display_name=name, languages=languages, gender=gender, areas=DEMO_AREAS
            )
            session.add(known_workers[name])
    known_places = {place.kind for place in provider.places}
    for kind, name in DEMO_PLACES:
        if kind not in known_places:
            session.add(
                Place(
                    provider=provider,
                    kind=kind,
                    name=name,
                    area="cardiff",
                    neutral=kind != PlaceKind.HOME,
                    accessible=True,
                )
            )
    session.flush()
    for worker in known_workers.values():
        taken = set(session.scalars(sa.select(Slot.starts_at).where(Slot.worker_id == worker.id)))
        for moment in _demo_times(today, timezone):
            if moment not in taken:
                session.add(
                    Slot(worker=worker, starts_at=moment, ends_at=moment + INTERVIEW_LENGTH, status=SlotStatus.OPEN)
                )
    return provider


def _demo_times(today: date, timezone: ZoneInfo) -> list[datetime]:
    moments = []
    for offset in range(DAYS_AHEAD + 1):
        day = today + timedelta(days=offset)
        times = SATURDAY_TIMES if day.weekday() == 5 else () if day.weekday() == 6 else WEEKDAY_TIMES
        moments.extend(datetime.combine(day, moment, tzinfo=timezone).astimezone(ZoneInfo("UTC")) for moment in times)
    return moments


@dataclass(frozen=True)
class DemoLogins:
    email: str
    password: str
    api_token: str


def reset_demo_logins(session: Session) -> DemoLogins:
    """A demo duty worker and an API token for the demo provider, with a new password and token each time.

    Only their hashes are stored, so the demo prints them when it makes them.
    """
    provider = session.scalars(sa.select(Provider).where(Provider.slug == DEMO_PROVIDER_SLUG)).one()
    email, name = DEMO_DUTY_WORKER
    user = session.scalars(sa.select(StaffUser).where(StaffUser.email == email)).one_or_none()
    if user is None:
        user = StaffUser(provider_id=provider.id, email=email, display_name=name, role=StaffRole.DUTY_WORKER)
        session.add(user)
    password = new_password()
    set_password(user, password)
    return DemoLogins(email, password, issue_api_token(provider))


def reset_demo_coordinator(session: Session) -> tuple[str, str]:
    """A demo coordinator for the studio (/studio/): its email and a new password each time (only the hash
    is stored, so the demo prints the password when it makes it)."""
    email, name = DEMO_COORDINATOR
    user = session.scalars(sa.select(StaffUser).where(StaffUser.email == email)).one_or_none()
    if user is None:
        user = StaffUser(email=email, display_name=name, role=StaffRole.COORDINATOR)
        session.add(user)
    password = new_password()
    set_password(user, password)
    return email, password
