"""A service reporting returns to the bot, on the one simulated clock: the moments the offer tests start at (a
day ahead, so the outbox's real-time stamps are always due), and a report as a service's system sends it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from auxil.clock import SimulatedClock
from models import utcnow

LONDON = ZoneInfo("Europe/London")
CHILD = "+447700900321"  # Ofcom's numbers for drama: never anyone's phone
PARENT = "+447700900654"


def clock_at(hour: int, minute: int = 0, *, days_ahead: int = 1) -> SimulatedClock:
    """A simulated clock at this local time of a day to come, so it is never before the real time the outbox stamps
    events with."""
    clock = SimulatedClock()
    day = utcnow().astimezone(LONDON).date() + timedelta(days=days_ahead)
    clock.now = datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).astimezone(UTC)
    return clock


def report(now: datetime, **fields: Any) -> dict[str, Any]:
    """A return three hours before ``now``, as a service's system reports it."""
    body = {
        "reference": "MISPER-2026-0001",
        "phone": "07700 900321",
        "returned_at": (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "left_at": (now - timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "setting": "care",
        "area": "cardiff",
        "age_band": "age_13_15",
        "police_informed": "yes",
    }
    body.update(fields)
    return {name: value for name, value in body.items() if value is not None}
