"""Days and times read naturally in English and Welsh. Pure: the caller passes the local date."""

from __future__ import annotations

from datetime import date, datetime

WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "cy": ("Dydd Llun", "Dydd Mawrth", "Dydd Mercher", "Dydd Iau", "Dydd Gwener", "Dydd Sadwrn", "Dydd Sul"),
}
MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
    "cy": ("Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf", "Awst", "Medi",
           "Hydref", "Tachwedd", "Rhagfyr"),
}  # fmt: skip


def format_day(day: date, language: str) -> str:
    """'Friday 20 November' / 'Dydd Gwener 20 Tachwedd'."""
    return f"{WEEKDAYS[language][day.weekday()]} {day.day} {MONTHS[language][day.month - 1]}"


def format_time(moment: datetime, language: str) -> str:
    """'4pm', '4:30pm' in English; '4yp', '4:30yp' in Welsh (yb/yp are what Welsh speakers text)."""
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    if language == "cy":
        return f"{hour}{minutes}{'yb' if moment.hour < 12 else 'yp'}"
    return f"{hour}{minutes}{'am' if moment.hour < 12 else 'pm'}"


def format_slot(moment: datetime, language: str) -> str:
    """A slot as a person reads it: 'Tue 24 Nov, 4pm' is short enough for an SMS list."""
    day = WEEKDAYS[language][moment.weekday()]
    if language == "cy":
        day = day.removeprefix("Dydd ")
    month = MONTHS[language][moment.month - 1][:3]
    return f"{day[:3] if language == 'en' else day} {moment.day} {month}, {format_time(moment, language)}"


def calendar_date(day: int, month: int, year: int | None, this_year: int) -> date | None:
    """The date a person typed ("5/12", "5/12/26"), or None when there is no such day; a two-digit year is
    this century's, and no year is ``this_year``."""
    if year is not None and year < 100:
        year += 2000
    try:
        return date(year or this_year, month, day)
    except ValueError:
        return None


def both_languages(fn, *args) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A label in both languages, so a conversation can switch language and still read its answers."""
    return {language: fn(*args, language) for language in ("en", "cy")}
