"""What a provider sets up for booking: workers, places, weekly hours, exceptions and booking settings.

The provider pages and the provider API both change these through ``ProviderSetup``, so the rules live here
once. Everything is looked up only among the acting provider's own records: another provider's worker,
place or exception is ``NotFound``, exactly like one that does not exist. Every change refreshes the
provider's slots (``bot.booking.availability``) in the same transaction, so what the bot offers always matches.

Errors say what is wrong in words a coordinator understands. ``Invalid`` is a value that is wrong in
itself; ``Clash`` (an ``Invalid``) is values that are each fine but do not fit together ("ends must be
after starts", two lines that overlap, an area the provider does not cover).
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.booking.availability import SlotChanges, refresh_slots
from bot.providers.actions import Invalid, NotFound
from models import (
    AvailabilityException,
    Gender,
    Place,
    PlaceKind,
    Provider,
    Slot,
    SlotStatus,
    WeeklyAvailability,
    Worker,
)

WORKER_LANGUAGES = ("en", "cy")
MAX_WORKER_NAME = 100
MAX_PLACE_NAME = 200
MAX_NOTE = 200
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Weekly lines per worker: a few a day is plenty; more is a mistake (or a script gone wrong).
MAX_WEEKLY_LINES = 35
# Booking settings a provider may choose: (lowest, highest).
SLOT_MINUTES = (15, 240)
BUFFER_MINUTES = (0, 120)
MINIMUM_NOTICE_MINUTES = (0, 7 * 24 * 60)
BOOKING_HORIZON_DAYS = (1, 90)
# How long a message on the "To read" list may wait unread before the duty rota is told.
REVIEW_WITHIN_MINUTES = (5, 24 * 60)
BOOKING_SETTINGS = {
    "slot_minutes": SLOT_MINUTES,
    "buffer_minutes": BUFFER_MINUTES,
    "minimum_notice_minutes": MINIMUM_NOTICE_MINUTES,
    "booking_horizon_days": BOOKING_HORIZON_DAYS,
    "review_within_minutes": REVIEW_WITHIN_MINUTES,
}
# The widest range of days one listing covers.
MAX_LISTING_DAYS = 92
TIME_FORMAT = "%H:%M"
MAX_ID = 2_147_483_647  # ids are 32-bit integers in the database


class Clash(Invalid):
    """Values that are each valid but do not fit together, or do not fit what is already there."""


# --- reading values (the pages send strings, the API JSON; both come through here) ----------------------


def parse_time(value: Any, field: str) -> time:
    """ "16:00" (24-hour clock, local time)."""
    if isinstance(value, time):
        return value
    text = str(value or "").strip()
    try:
        parsed = datetime.strptime(text, TIME_FORMAT).time()
    except ValueError:
        raise Invalid(field, "give a time on the 24-hour clock, like 16:00") from None
    if len(text) != len("16:00"):
        raise Invalid(field, "give a time on the 24-hour clock, like 16:00")
    return parsed


def parse_day(value: Any, field: str) -> date:
    """ "2026-12-25", or as people in the UK write it, "25/12/2026"."""
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    try:
        if len(text) != len("2026-12-25"):
            raise ValueError(text)
        if "/" in text:
            return datetime.strptime(text, "%d/%m/%Y").date()
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(field, "give a date like 25/12/2026") from None


def _whole_number(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise Invalid(field, "give a whole number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON's 27.0 is the whole number 27
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit() or len(value) > 9:
            raise Invalid(field, "give a whole number")
        value = int(value)
    if not isinstance(value, int):
        raise Invalid(field, "give a whole number")
    if not low <= value <= high:
        raise Invalid(field, f"give a number from {low} to {high}")
    return value


def _text(value: Any, field: str, longest: int, *, required: bool) -> str | None:
    """One line of plain text: control characters become spaces (a database refuses some), runs of spaces one."""
    raw = "".join(" " if unicodedata.category(char) in ("Cc", "Cs") else char for char in str(value or ""))
    text = " ".join(raw.split())
    if not text:
        if required:
            raise Invalid(field, "this cannot be empty")
        return None
    if len(text) > longest:
        raise Invalid(field, f"at most {longest} characters")
    return text


def _storable(record_id: int) -> bool:
    """An id the database could hold (a longer one is simply not found, not a database error)."""
    return 1 <= record_id <= MAX_ID


def time_words(moment: time | None) -> str:
    return moment.strftime(TIME_FORMAT) if moment else ""


# --- views (for the pages and the API) -----------------------------------------------------------------


def worker_view(worker: Worker) -> dict[str, Any]:
    return {
        "id": worker.id,
        "name": worker.display_name,
        "languages": list(worker.languages or []),
        "gender": worker.gender.value if worker.gender else None,
        "areas": list(worker.areas or []),
        "active": worker.active,
    }


def place_view(place: Place) -> dict[str, Any]:
    return {
        "id": place.id,
        "kind": place.kind.value,
        "name": place.name,
        "area": place.area,
        "neutral": place.neutral,
        "accessible": place.accessible,
        "active": place.active,
    }


def line_view(line: WeeklyAvailability) -> dict[str, Any]:
    return {
        "id": line.id,
        "weekday": line.weekday,
        "weekday_name": WEEKDAYS[line.weekday],
        "starts": time_words(line.starts),
        "ends": time_words(line.ends),
        "place_id": line.place_id,
    }


def exception_view(exception: AvailabilityException) -> dict[str, Any]:
    return {
        "id": exception.id,
        "day": exception.day.isoformat(),
        "worker_id": exception.worker_id,
        "starts": time_words(exception.starts) or None,
        "ends": time_words(exception.ends) or None,
        "available": exception.available,
        "note": exception.note,
    }


def settings_view(provider: Provider) -> dict[str, Any]:
    return {
        "slot_minutes": provider.slot_minutes,
        "buffer_minutes": provider.buffer_minutes,
        "minimum_notice_minutes": provider.minimum_notice_minutes,
        "booking_horizon_days": provider.booking_horizon_days,
        "review_within_minutes": provider.review_within_minutes,
        "auto_confirm": provider.auto_confirm,
        "opens_at": provider.opens_at.strftime(TIME_FORMAT),
        "closes_at": provider.closes_at.strftime(TIME_FORMAT),
    }


def slot_view(slot: Slot, timezone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": slot.id,
        "worker_id": slot.worker_id,
        "place_id": slot.place_id,
        "status": slot.status.value,
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
        "starts_local": slot.starts_at.astimezone(timezone).isoformat(),
        "ends_local": slot.ends_at.astimezone(timezone).isoformat(),
    }


# --- changing -------------------------------------------------------------------------------------------


class ProviderSetup:
    """One provider's setup, changed in the caller's transaction; each change refreshes the slots.

    Made for a change, it locks the provider before anything else is read, so that two changes at once take
    turns rather than remake the same slots together; make it before the transaction's first statement."""

    def __init__(
        self, session: Session, provider_id: int, now: datetime, timezone: ZoneInfo, *, change: bool = True
    ) -> None:
        """``change``: the caller will change something, so the provider is locked first (``for_change``) and
        changes take turns; ``change=False`` only reads, and locks nothing."""
        provider = Provider.for_change(session, provider_id) if change else session.get(Provider, provider_id)
        if provider is None:
            raise NotFound("no such provider")
        self.session, self.provider, self.now, self.timezone = session, provider, now, timezone
        self.slot_changes = SlotChanges()

    def refresh(self) -> SlotChanges:
        self.session.flush()
        self.slot_changes += refresh_slots(self.session, self.provider, self.now, self.timezone)
        return self.slot_changes

    # --- finding ---

    def worker(self, worker_id: int) -> Worker:
        worker = self.session.get(Worker, worker_id) if _storable(worker_id) else None
        if worker is None or worker.provider_id != self.provider.id:
            raise NotFound("no such worker")
        return worker

    def place(self, place_id: int) -> Place:
        place = self.session.get(Place, place_id) if _storable(place_id) else None
        if place is None or place.provider_id != self.provider.id:
            raise NotFound("no such place")
        return place

    def workers(self) -> list[Worker]:
        query = sa.select(Worker).where(Worker.provider_id == self.provider.id)
        return list(self.session.scalars(query.order_by(Worker.active.desc(), Worker.display_name, Worker.id)))

    def places(self) -> list[Place]:
        query = sa.select(Place).where(Place.provider_id == self.provider.id)
        return list(self.session.scalars(query.order_by(Place.active.desc(), Place.kind, Place.name, Place.id)))

    def weekly(self, worker_id: int) -> list[WeeklyAvailability]:
        worker = self.worker(worker_id)
        query = sa.select(WeeklyAvailability).where(WeeklyAvailability.worker_id == worker.id)
        order = (WeeklyAvailability.weekday, WeeklyAvailability.starts, WeeklyAvailability.id)
        return list(self.session.scalars(query.order_by(*order)))

    def exceptions(self, first: date, last: date) -> list[AvailabilityException]:
        last = min(last, first + timedelta(days=MAX_LISTING_DAYS))
        query = sa.select(AvailabilityException).where(
            AvailabilityException.provider_id == self.provider.id,
            AvailabilityException.day >= first,
            AvailabilityException.day <= last,
        )
        order = (AvailabilityException.day, AvailabilityException.starts.nulls_first(), AvailabilityException.id)
        return list(self.session.scalars(query.order_by(*order)))

    def slots(self, first: date, last: date, statuses: list[str] | None = None) -> list[Slot]:
        """Slots starting on local days ``first`` to ``last`` (at most ``MAX_LISTING_DAYS``)."""
        last = min(last, first + timedelta(days=MAX_LISTING_DAYS))
        after = datetime.combine(first, time(0), tzinfo=self.timezone)
        before = datetime.combine(last + timedelta(days=1), time(0), tzinfo=self.timezone)
        wanted = [SlotStatus(status) for status in statuses] if statuses else list(SlotStatus)
        query = (
            sa.select(Slot)
            .join(Worker, Slot.worker_id == Worker.id)
            .where(
                Worker.provider_id == self.provider.id,
                Slot.status.in_(wanted),
                Slot.starts_at >= after,
                Slot.starts_at < before,
            )
            .order_by(Slot.starts_at, Worker.display_name, Slot.id)
        )
        return list(self.session.scalars(query))

    # --- workers ---

    def _areas(self, value: Any, field: str = "areas") -> list[str]:
        areas = [value] if isinstance(value, str) else list(value or [])
        covered = set(self.provider.areas or [])
        for area in areas:
            if area not in covered:
                raise Clash(field, f"{str(area).replace('_', ' ')} is not an area your service covers")
        return sorted(set(areas), key=areas.index)

    def add_worker(
        self,
        *,
        name: Any,
        languages: Any = ("en",),
        gender: Any = None,
        areas: Any = None,
        active: bool = True,
    ) -> Worker:
        worker = Worker(provider_id=self.provider.id, display_name="", languages=[], areas=[], active=True)
        self._set_worker(worker, {"name": name, "languages": languages, "gender": gender, "active": active})
        worker.areas = self._areas(areas if areas is not None else list(self.provider.areas or []))
        self.session.add(worker)
        self.refresh()
        return worker

    def change_worker(self, worker_id: int, changes: dict[str, Any]) -> Worker:
        worker = self.worker(worker_id)
        self._set_worker(worker, changes)
        if "areas" in changes:
            worker.areas = self._areas(changes["areas"])
        self.refresh()
        return worker

    def _set_worker(self, worker: Worker, changes: dict[str, Any]) -> None:
        if "name" in changes:
            worker.display_name = _text(changes["name"], "name", MAX_WORKER_NAME, required=True) or ""
        if "languages" in changes:
            languages = [changes["languages"]] if isinstance(changes["languages"], str) else changes["languages"]
            languages = list(dict.fromkeys(languages or []))
            if not languages:
                raise Invalid("languages", "choose at least one language the worker can hold an interview in")
            for language in languages:
                if language not in WORKER_LANGUAGES:
                    raise Invalid("languages", "choose English (en), Welsh (cy) or both")
            worker.languages = languages
        if "gender" in changes:
            gender = changes["gender"] or None
            try:
                worker.gender = Gender(gender) if gender else None
            except ValueError:
                raise Invalid("gender", "choose woman, man, other, or leave it empty") from None
        if "active" in changes:
            worker.active = bool(changes["active"])

    # --- places ---

    def add_place(
        self,
        *,
        kind: Any,
        name: Any,
        area: Any = None,
        neutral: bool = False,
        accessible: bool = False,
        active: bool = True,
    ) -> Place:
        place = Place(provider_id=self.provider.id, kind=PlaceKind.CAFE, name="")
        self._set_place(
            place,
            {"kind": kind, "name": name, "area": area, "neutral": neutral, "accessible": accessible, "active": active},
        )
        self.session.add(place)
        self.refresh()
        return place

    def change_place(self, place_id: int, changes: dict[str, Any]) -> Place:
        place = self.place(place_id)
        self._set_place(place, changes)
        self.refresh()
        return place

    def _set_place(self, place: Place, changes: dict[str, Any]) -> None:
        if "kind" in changes:
            try:
                place.kind = PlaceKind(changes["kind"])
            except ValueError:
                kinds = ", ".join(kind.value.replace("_", " ") for kind in PlaceKind)
                raise Invalid("kind", f"choose one of: {kinds}") from None
        if "name" in changes:
            place.name = _text(changes["name"], "name", MAX_PLACE_NAME, required=True) or ""
        if "area" in changes:
            place.area = self._areas(changes["area"], "area")[0] if changes["area"] else None
        for flag in ("neutral", "accessible", "active"):
            if flag in changes:
                setattr(place, flag, bool(changes[flag]))

    # --- weekly hours ---

    def _line(self, worker: Worker, raw: dict[str, Any], field: str = "") -> WeeklyAvailability:
        weekday = _whole_number(raw.get("weekday"), f"{field}weekday", 0, 6)
        starts = parse_time(raw.get("starts"), f"{field}starts")
        ends = parse_time(raw.get("ends"), f"{field}ends")
        if ends <= starts:
            raise Clash(f"{field}ends", "Ends must be after starts")
        place_id = raw.get("place_id") or None
        if place_id is not None:
            place = self.place(_whole_number(place_id, f"{field}place_id", 1, MAX_ID))
            if not place.active:
                raise Clash(f"{field}place_id", f"{place.name} is no longer in use: choose another place")
            place_id = place.id
        return WeeklyAvailability(worker_id=worker.id, weekday=weekday, starts=starts, ends=ends, place_id=place_id)

    @staticmethod
    def _check_no_overlap(lines: list[WeeklyAvailability], field: str = "") -> None:
        ordered = sorted(lines, key=lambda line: (line.weekday, line.starts))
        for before, after in pairwise(ordered):
            if before.weekday == after.weekday and after.starts < before.ends:
                raise Clash(
                    f"{field}starts",
                    f"{WEEKDAYS[after.weekday]} {time_words(after.starts)}–{time_words(after.ends)} overlaps "
                    f"{time_words(before.starts)}–{time_words(before.ends)}: make them one line, or move one",
                )

    def add_weekly_line(self, worker_id: int, raw: dict[str, Any]) -> WeeklyAvailability:
        worker = self.worker(worker_id)
        line = self._line(worker, raw)
        existing = self.weekly(worker.id)
        if len(existing) >= MAX_WEEKLY_LINES:
            raise Clash("weekday", f"a worker can have at most {MAX_WEEKLY_LINES} weekly lines")
        self._check_no_overlap([*existing, line])
        self.session.add(line)
        self.refresh()
        return line

    def remove_weekly_line(self, worker_id: int, line_id: int) -> None:
        worker = self.worker(worker_id)
        line = self.session.get(WeeklyAvailability, line_id) if _storable(line_id) else None
        if line is None or line.worker_id != worker.id:
            raise NotFound("no such weekly line")
        self.session.delete(line)
        self.refresh()

    def set_weekly_pattern(self, worker_id: int, raw_lines: list[dict[str, Any]]) -> list[WeeklyAvailability]:
        """Replace the worker's whole weekly pattern."""
        worker = self.worker(worker_id)
        if len(raw_lines) > MAX_WEEKLY_LINES:
            raise Invalid("weekly", f"at most {MAX_WEEKLY_LINES} lines")
        lines = [self._line(worker, raw, f"weekly[{n}].") for n, raw in enumerate(raw_lines)]
        self._check_no_overlap(lines, "weekly.")
        for old in self.weekly(worker.id):
            self.session.delete(old)
        self.session.flush()
        self.session.add_all(lines)
        self.refresh()
        return self.weekly(worker.id)

    # --- exceptions ---

    def add_exception(
        self,
        *,
        day: Any,
        worker_id: int | None = None,
        starts: Any = None,
        ends: Any = None,
        available: bool = False,
        note: Any = None,
    ) -> AvailabilityException:
        on = parse_day(day, "day")
        worker = self.worker(_whole_number(worker_id, "worker_id", 1, MAX_ID)) if worker_id else None
        starts_at = parse_time(starts, "starts") if starts not in (None, "") else None
        ends_at = parse_time(ends, "ends") if ends not in (None, "") else None
        if (starts_at is None) != (ends_at is None):
            raise Clash("ends" if ends_at is None else "starts", "give both times, or neither for the whole day")
        if starts_at is not None and ends_at is not None and ends_at <= starts_at:
            raise Clash("ends", "Ends must be after starts")
        if available and starts_at is None:
            raise Clash("starts", "say which extra hours (from and to)")
        if available and worker is None:
            raise Clash("worker_id", "extra hours are for one worker: choose who")
        exception = AvailabilityException(
            provider_id=self.provider.id,
            worker_id=worker.id if worker else None,
            day=on,
            starts=starts_at,
            ends=ends_at,
            available=bool(available),
            note=_text(note, "note", MAX_NOTE, required=False),
        )
        self.session.add(exception)
        self.refresh()
        return exception

    def remove_exception(self, exception_id: int) -> None:
        exception = self.session.get(AvailabilityException, exception_id) if _storable(exception_id) else None
        if exception is None or exception.provider_id != self.provider.id:
            raise NotFound("no such exception")
        self.session.delete(exception)
        self.refresh()

    # --- booking settings ---

    def change_booking_settings(self, changes: dict[str, Any]) -> Provider:
        for name, (low, high) in BOOKING_SETTINGS.items():
            if name in changes:
                setattr(self.provider, name, _whole_number(changes[name], name, low, high))
        if "auto_confirm" in changes:
            self.provider.auto_confirm = bool(changes["auto_confirm"])
        # The opening hours: a worker's move or new time must fall inside them (bot/booking/guards.py).
        opens = parse_time(changes["opens_at"], "opens_at") if changes.get("opens_at") else self.provider.opens_at
        closes = parse_time(changes["closes_at"], "closes_at") if changes.get("closes_at") else self.provider.closes_at
        if closes <= opens:
            raise Clash("closes_at", "the service must close after it opens")
        self.provider.opens_at, self.provider.closes_at = opens, closes
        self.refresh()
        return self.provider
