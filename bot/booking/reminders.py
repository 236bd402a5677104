"""Discreet reminders before a booked chat: the evening before (18:00 local time) and two hours before.

What was sent is kept on the booking itself, in ``Booking.reminders_sent``, as ``"<kind>@<starts_at ISO>"``.
That one list is all the bookkeeping there is: a booking moved to a new time has new keys, so it is reminded
again at its new times (and never at its old ones), and a cancelled booking is never looked at.

Whether a reminder is due is a pure function of the booking and the moment (``due_reminders``); the job
(``send_due_reminders``) locks the bookings it looks at, so two workers running it at once send one reminder,
and writes the message to the outbox in the same transaction as the key.

The texts are in ``bot/data/reminders.yaml``, where a coordinator can change the words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from bot.booking.changes import CLOSED_STATUSES
from bot.outbox.delivery import enqueue_channel_message
from conversations.dates import format_day, format_time
from conversations.interpreter import Reply
from models import Booking, BookingStatus, Channel, Direction, Language, Message, PlaceKind
from models.db import take_write_lock

if TYPE_CHECKING:
    from bot.runtime import Runtime

TEXTS_FILE = Path(__file__).resolve().parent.parent / "data" / "reminders.yaml"

DAY_BEFORE = "day_before"
TWO_HOURS = "two_hours"
KINDS = (DAY_BEFORE, TWO_HOURS)
DAY_BEFORE_AT = time(18, 0)  # local time, on the evening before the day they meet
TWO_HOURS_BEFORE = timedelta(hours=2)  # real elapsed time, whatever the clocks do
# A reminder whose moment passed longer ago than this (the worker was down) is not sent late: "see you in two
# hours" after the chat started, or at midnight, would do more harm than good.
LATE_GRACE = timedelta(minutes=30)
# No text in the night (local time): a phone that lights up at 6am may be picked up by someone else. A
# two-hours reminder that would fall then is left out; the one the evening before has gone.
QUIET_FROM = time(21, 0)
QUIET_UNTIL = time(7, 0)
# Confirmed (or moved, which tells them again) this close to the start: that message was reminder enough.
RECENTLY_TOLD = timedelta(hours=3)
# How far ahead the job looks: the evening before is at most about 31 hours before the start.
LOOK_AHEAD = timedelta(hours=36)
# Only these channels can carry a message the person did not just ask for (the terminal cannot).
REMINDED_CHANNELS = (Channel.SMS, Channel.TELEGRAM)


def reminder_key(kind: str, starts_at: datetime) -> str:
    """What ``Booking.reminders_sent`` keeps for a reminder: its kind and the start it was about."""
    return f"{kind}@{starts_at.astimezone(UTC).isoformat()}"


def reminder_moment(kind: str, starts_at: datetime, timezone: ZoneInfo) -> datetime:
    """When a reminder is due, in UTC: 18:00 local on the day before the local day of the start, or two hours
    before the start."""
    if kind == TWO_HOURS:
        return starts_at - TWO_HOURS_BEFORE
    evening_before = starts_at.astimezone(timezone).date() - timedelta(days=1)
    return datetime.combine(evening_before, DAY_BEFORE_AT, tzinfo=timezone).astimezone(UTC)


def due_reminders(booking: Booking, now: datetime, timezone: ZoneInfo) -> list[str]:
    """The kinds of reminder due for this booking now (whether the person may be messaged is ``_may_remind``).

    ``booking.updated_at`` is when the booking last changed (confirmed or moved, and the young person was
    told then); the reminder job never changes it.
    """
    starts_at = booking.starts_at
    if booking.status != BookingStatus.CONFIRMED or starts_at is None or starts_at <= now:
        return []
    last_told = booking.updated_at or booking.created_at
    if last_told is not None and starts_at - last_told < RECENTLY_TOLD:
        return []
    due = []
    for kind in KINDS:
        moment = reminder_moment(kind, starts_at, timezone)
        if not moment <= now <= moment + LATE_GRACE or _in_the_night(moment, timezone):
            continue
        if last_told is not None and last_told > moment:
            continue  # confirmed after the reminder's moment: they have just been told
        if reminder_key(kind, starts_at) in (booking.reminders_sent or []):
            continue
        due.append(kind)
    return due


def _in_the_night(moment: datetime, timezone: ZoneInfo) -> bool:
    local = moment.astimezone(timezone).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


# --- the words ---------------------------------------------------------------------------------------------


# Each text of the file, and the {names} it must use (it may use no others).
_PLACEHOLDERS: dict[tuple[str, ...], set[str]] = {
    (DAY_BEFORE,): {"meeting"},
    (TWO_HOURS,): {"meeting"},
    ("when", "today"): {"time"},
    ("when", "tomorrow"): {"time"},
    ("when", "other_day"): {"day", "time"},
    **{("meeting", place): {"when"} for place in (*(kind.value for kind in PlaceKind), "unknown")},
}
_PLACEHOLDER = re.compile(r"{([^{}]*)}")


class RemindersFileInvalid(ValueError):
    """The reminders file cannot be used; the message says where and what to fix."""


def check_texts(data: object, file_name: str = TEXTS_FILE.name) -> list[str]:
    """What is wrong with the reminders file's content, one line each; an empty list when it is fine."""
    problems = []
    for path, names in _PLACEHOLDERS.items():
        where = ".".join(path)
        found = data
        for key in path:
            found = found.get(key) if isinstance(found, dict) else None
        if not isinstance(found, dict):
            problems.append(f"{file_name}: the text {where!r} is missing")
            continue
        for language in (Language.EN, Language.CY):
            text = found.get(language)
            if not isinstance(text, str) or not text.strip():
                problems.append(f"{file_name}: {where} has no {language} text")
                continue
            used = set(_PLACEHOLDER.findall(text))
            problems += [
                f"{file_name}: {where} ({language}) uses {{{name}}}, which is not known here; "
                f"it can use {', '.join('{' + known + '}' for known in sorted(names))}"
                for name in sorted(used - names)
            ]
            problems += [f"{file_name}: {where} ({language}) leaves out {{{name}}}" for name in sorted(names - used)]
    return problems


@cache
def _texts() -> dict:
    data = yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))
    problems = check_texts(data)
    if problems:
        raise RemindersFileInvalid("\n".join(problems))
    return data


@dataclass(frozen=True)
class _Words:
    language: str

    def text(self, *path: str) -> str:
        found = _texts()
        for key in path:
            found = found[key]
        return found[self.language]


def reminder_text(kind: str, starts_at: datetime, place_kind: str | None, language: str, now: datetime,
                  timezone: ZoneInfo) -> str:  # fmt: skip
    """The reminder as the young person reads it, in their language: 'Hi, just a reminder: see you tomorrow
    at 4pm at the youth centre. Reply CHANGE to move it.'"""
    words = _Words(language if language in (Language.EN, Language.CY) else Language.EN)
    local_start = starts_at.astimezone(timezone)
    when = words.text("when", _day_word(local_start.date(), now.astimezone(timezone).date())).format(
        time=format_time(local_start, words.language), day=_day_name(local_start.date(), words.language)
    )
    meeting_words = _texts()["meeting"]
    meeting = words.text("meeting", place_kind if place_kind in meeting_words else "unknown").format(when=when)
    return words.text(kind).format(meeting=meeting)


def _day_word(day: date, today: date) -> str:
    if day == today:
        return "today"
    return "tomorrow" if day == today + timedelta(days=1) else "other_day"


def _day_name(day: date, language: str) -> str:
    name = format_day(day, language)
    # Welsh mutates "Dydd" when it means "on that day": "ddydd Llun".
    return "d" + name[0].lower() + name[1:] if language == Language.CY else name


# --- the job -----------------------------------------------------------------------------------------------


def send_due_reminders(runtime: Runtime, now: datetime) -> int:
    """Send every reminder that is due now; returns how many were sent."""
    with runtime.session() as session:
        # A look without locking first: most runs find nothing due, and need not hold SQLite's write lock.
        if not any(due_reminders(booking, now, runtime.timezone) for booking in session.scalars(_upcoming(now))):
            return 0
    sent = 0
    with runtime.session() as session, session.begin():
        take_write_lock(session)
        # Locked, so a second worker skips these (PostgreSQL) or waits for this one to commit and then finds
        # the keys written (SQLite's single writer).
        for booking in session.scalars(_upcoming(now).with_for_update(skip_locked=True)).all():
            kinds = due_reminders(booking, now, runtime.timezone)
            if kinds and _may_remind(booking):
                sent += _send(session, runtime, booking, kinds, now)
    return sent


def _upcoming(now: datetime) -> sa.Select[tuple[Booking]]:
    """Confirmed bookings that start soon enough for a reminder to be due."""
    return (
        sa.select(Booking)
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            Booking.starts_at > now,
            Booking.starts_at <= now + LOOK_AHEAD,
        )
        .order_by(Booking.starts_at, Booking.id)
    )


def _may_remind(booking: Booking) -> bool:
    """Never to someone who sent STOP or deleted their data, or about a referral that is over."""
    referral = booking.referral
    contact = referral.contact
    if referral.status in CLOSED_STATUSES or contact.channel not in REMINDED_CHANNELS:
        return False
    return contact.why_not_reachable() is None


def _send(session: Session, runtime: Runtime, booking: Booking, kinds: list[str], now: datetime) -> int:
    assert booking.starts_at is not None  # due_reminders only gives kinds for a booking with a start
    contact = booking.referral.contact
    place = str(booking.place_kind) if booking.place_kind else None
    texts = [
        reminder_text(kind, booking.starts_at, place, str(contact.language), now, runtime.timezone) for kind in kinds
    ]
    enqueue_channel_message(session, contact, [Reply(text) for text in texts], kind_of_message="reminder")
    for text in texts:
        session.add(
            Message(contact=contact, direction=Direction.OUTBOUND, channel=contact.channel, text=text, created_at=now)
        )
    keys = [*(booking.reminders_sent or []), *(reminder_key(kind, booking.starts_at) for kind in kinds)]
    # updated_at stays: it is when the booking last changed, which due_reminders reads.
    session.execute(
        sa.update(Booking)
        .where(Booking.id == booking.id)
        .values(reminders_sent=keys, updated_at=Booking.updated_at)
        .execution_options(synchronize_session=False)
    )
    return len(kinds)
