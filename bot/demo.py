"""Demo data: one provider, a few workers (Welsh speakers among them), places, and their weekly hours.

Loading is idempotent: run it every day and it only adds what is missing; the slots come from the weekly
hours (``bot.booking.availability``), so each load also moves the days offered on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.admin.providers import add_provider
from bot.booking.availability import day_hours, refresh_slots, slots_in_hours
from bot.providers.accounts import issue_api_token, new_password, set_password
from models import (
    Gender,
    Place,
    PlaceKind,
    Provider,
    StaffRole,
    StaffUser,
    WeeklyAvailability,
    Worker,
)

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
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
# Each worker's week: (weekdays, from, to, the kind of place those hours are at, or None for "wherever the
# young person chooses"). Every day has someone, so a young person is always offered times within 72 hours,
# including a woman and a Welsh speaker.
DEMO_WEEK: dict[str, list[tuple[tuple[int, ...], time, time, PlaceKind | None]]] = {
    "Eleri": [
        ((MON, TUE, WED, THU, FRI), time(10), time(13), None),
        ((TUE, THU), time(16), time(19), PlaceKind.YOUTH_CENTRE),
    ],
    "Rhys": [
        ((MON, TUE, WED, THU, FRI), time(13, 30), time(18), None),
        ((SAT,), time(10), time(13), PlaceKind.YOUTH_CENTRE),
    ],
    "Priya": [
        ((MON, WED, FRI), time(15), time(19), PlaceKind.CAFE),
        ((SAT, SUN), time(11), time(15), None),
    ],
    "Tom": [
        ((TUE, WED, THU, FRI, SAT), time(10), time(16), None),
        ((SUN,), time(12), time(15), PlaceKind.WALK),
    ],
}
# The demo provider keeps the booking settings every provider starts with (models.Provider's defaults).
DEMO_SLOT_MINUTES, DEMO_BUFFER_MINUTES, DEMO_NOTICE_MINUTES = 60, 15, 120
DEMO_DUTY_WORKER = ("duty@demo.example", "Demo duty worker")
DEMO_COORDINATOR = ("coordinator@demo.example", "Demo coordinator")


def load_demo_data(session: Session, now: datetime, timezone: ZoneInfo) -> Provider:
    """The demo provider, its workers, places and weekly hours, and slots from ``now``."""
    provider = session.scalars(sa.select(Provider).where(Provider.slug == DEMO_PROVIDER_SLUG)).one_or_none()
    if provider is None:
        provider = add_provider(session, DEMO_PROVIDER_SLUG, "Demo Return Home Service", DEMO_AREAS, default=True)
        session.flush()
    known_workers = {worker.display_name: worker for worker in provider.workers}
    for name, languages, gender in DEMO_WORKERS:
        if name not in known_workers:
            known_workers[name] = Worker(
                provider=provider, display_name=name, languages=languages, gender=gender, areas=DEMO_AREAS
            )
            session.add(known_workers[name])
    places = {place.kind: place for place in provider.places}
    for kind, name in DEMO_PLACES:
        if kind not in places:
            places[kind] = Place(
                provider=provider,
                kind=kind,
                name=name,
                area="cardiff",
                neutral=kind != PlaceKind.HOME,
                accessible=True,
            )
            session.add(places[kind])
    session.flush()
    for name, week in DEMO_WEEK.items():
        worker = known_workers[name]
        if session.scalars(sa.select(WeeklyAvailability.id).where(WeeklyAvailability.worker_id == worker.id)).first():
            continue  # hours someone set (or an earlier load) are kept as they are
        for weekdays, starts, ends, kind in week:
            place_id = places[kind].id if kind else None
            session.add_all(
                WeeklyAvailability(worker_id=worker.id, weekday=day, starts=starts, ends=ends, place_id=place_id)
                for day in weekdays
            )
    session.flush()
    refresh_slots(session, provider, now, timezone)
    return provider


def demo_times(now: datetime, timezone: ZoneInfo, days: int) -> list[datetime]:
    """The start times the demo offers in the next ``days`` days (any worker), worked out from its weekly
    hours without a database, the way ``load_demo_data`` makes its slots: for the studio's simulator."""
    length, buffer = timedelta(minutes=DEMO_SLOT_MINUTES), timedelta(minutes=DEMO_BUFFER_MINUTES)
    earliest = now + timedelta(minutes=DEMO_NOTICE_MINUTES)
    starts: set[datetime] = set()
    for week in DEMO_WEEK.values():
        lines = [
            WeeklyAvailability(weekday=day, starts=since, ends=until)
            for weekdays, since, until, _ in week
            for day in weekdays
        ]
        taken: list[tuple[datetime, datetime]] = []
        for offset in range(days + 1):
            day = now.astimezone(timezone).date() + timedelta(days=offset)
            hours = day_hours(day, [line for line in lines if line.weekday == day.weekday()], [])
            starts.update(slot.starts_at for slot in slots_in_hours(hours, timezone, length, buffer, taken))
    return sorted(moment.astimezone(timezone) for moment in starts if moment >= earliest)


@dataclass(frozen=True)
class DemoLogins:
    email: str
    password: str
    api_token: str


def reset_demo_logins(session: Session) -> DemoLogins:
    """A demo duty worker and an API token for the demo provider, with a new password and token each time.

    Only their hashes are stored, so the demo prints them when it makes them. The demo's one login is also
    the provider's admin, so whoever tries the demo can set up workers, hours and booking too.
    """
    provider = session.scalars(sa.select(Provider).where(Provider.slug == DEMO_PROVIDER_SLUG)).one()
    email, name = DEMO_DUTY_WORKER
    user = session.scalars(sa.select(StaffUser).where(StaffUser.email == email)).one_or_none()
    if user is None:
        user = StaffUser(provider_id=provider.id, email=email, display_name=name, role=StaffRole.PROVIDER_ADMIN)
        session.add(user)
    user.role = StaffRole.PROVIDER_ADMIN  # a demo loaded by an earlier version made a duty worker
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
