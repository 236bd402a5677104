"""Understanding a time a young person writes in their own words, in English or Welsh.

"tomorrow after school", "sat 2pm", "monday morning", "next friday", "dydd Llun ar ôl ysgol", "bore fory",
"dydd Sadwrn 2yp" become a day and an exact time or a part of the day, relative to the moment the message
was sent (in the service's local time). Pure: no clock, no database.

Rules a person would expect, decided here once:
- A weekday on its own ("friday") is the next one to come ("the weekend" is its Saturday); said on that
  very day it means today while the time they want is still ahead (the exact time, or the end of the part
  of day, or the end of the working day when they gave neither), and next week's otherwise.
- "next friday" is the first Friday after today: said on a Friday it is in 7 days, said on a Wednesday it
  is in 2. The bot always reads the date back ("Friday 11 December, ...") so they can correct it.
- A bare hour is read the way people arrange to meet: 8 to 11 in the morning, 12 midday, 1 to 7 in the
  afternoon or evening; a part of day given with it decides ("7 in the morning"). A time written on the
  24-hour clock ("07:30", "00:00", "14:30") means what it says.
- A time with no day is the next time it comes round: today if still ahead, else tomorrow.
- Anything in the past (yesterday, last Monday, 20/11 when it is December, 9am today at 10am) is refused,
  so the bot can say so kindly instead of booking it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from conversations.dates import MONTHS, calendar_date, format_day, format_time

# Parts of the day: (from, until, the moment to look for times nearest).
PARTS_OF_DAY: dict[str, tuple[time, time, time]] = {
    "morning": (time(8), time(12), time(10)),
    "lunchtime": (time(12), time(14), time(12, 30)),
    "afternoon": (time(12), time(17), time(14)),
    "after_school": (time(15, 30), time(18, 30), time(16)),
    "evening": (time(17), time(21), time(18, 30)),
}
# When only a day is given: the working day, and the moment nearest which times are offered.
DAY_STARTS, DAY_ENDS, DAY_TARGET = time(8), time(20), time(12)
# A date without a year this many days behind today is a mistake about the past, not next year's date.
PAST_DATE_GRACE = timedelta(days=60)

PART_LABELS = {
    "en": {
        "morning": "in the morning",
        "lunchtime": "at lunchtime",
        "afternoon": "in the afternoon",
        "after_school": "after school",
        "evening": "in the evening",
    },
    "cy": {
        "morning": "yn y bore",
        "lunchtime": "amser cinio",
        "afternoon": "yn y prynhawn",
        "after_school": "ar ôl ysgol",
        "evening": "gyda'r nos",
    },
}
ABOUT = {"en": "about", "cy": "tua"}


@dataclass(frozen=True)
class WantedTime:
    """A day, and an exact time or a part of it (or neither: any time that day)."""

    day: date
    at: time | None = None
    part: str | None = None

    @property
    def starts(self) -> time:
        return self.at or (PARTS_OF_DAY[self.part][0] if self.part else DAY_STARTS)

    @property
    def ends(self) -> time:
        return self.at or (PARTS_OF_DAY[self.part][1] if self.part else DAY_ENDS)

    @property
    def target(self) -> time:
        return self.at or (PARTS_OF_DAY[self.part][2] if self.part else DAY_TARGET)

    def describe(self, language: str) -> str:
        """'Saturday 5 December, about 2pm' / 'Dydd Sadwrn 5 Rhagfyr, tua 2yp'."""
        day = format_day(self.day, language)
        if self.at is not None:
            moment = datetime.combine(self.day, self.at)
            return f"{day}, {ABOUT[language]} {format_time(moment, language)}"
        if self.part:
            return f"{day}, {PART_LABELS[language][self.part]}"
        return day


@dataclass(frozen=True)
class Understood:
    """What was made of a reply: ``status`` is "ok" (with ``wanted``), "past" or "unclear"."""

    status: str
    wanted: WantedTime | None = None


UNCLEAR = Understood("unclear")
PAST = Understood("past")

_TODAY = ("today", "tdy", "2day", "todays", "heddiw", "tonight", "tonite", "2nite", "heno", "this morning",
          "this afternoon", "this evening", "bore ma", "pnawn ma", "prynhawn ma")  # fmt: skip
_TOMORROW = ("tomorrow", "tomorow", "tommorow", "tommorrow", "tmrw", "tmr", "tmoz", "tomoz", "2moro", "2morrow",
             "2mrw", "fory", "yfory", "vory")  # fmt: skip
_DAY_AFTER = ("day after tomorrow", "drennydd", "trennydd")
_YESTERDAY = ("yesterday", "yday", "yest", "ddoe", "last night", "neithiwr")
_NEXT = ("next", "nesaf", "nesa", "nxt")
_LAST = ("last", "diwethaf", "dwetha", "diwetha")
_WEEKDAYS = {
    0: ("monday", "mon", "mond", "llun", "dydd llun", "nos lun", "fore llun"),
    1: ("tuesday", "tue", "tues", "tuesd", "dydd_mawrth", "nos_fawrth", "fore_mawrth"),
    2: ("wednesday", "wed", "weds", "wednes", "mercher", "dydd mercher", "nos fercher", "fore mercher"),
    3: ("thursday", "thu", "thur", "thurs", "iau", "dydd iau", "nos iau", "fore iau"),
    4: ("friday", "fri", "gwener", "dydd gwener", "nos wener", "fore gwener"),
    5: ("saturday", "sat", "sadwrn", "dydd sadwrn", "nos sadwrn", "fore sadwrn", "weekend", "wknd", "penwythnos"),
    6: ("sunday", "sun", "sul", "dydd sul", "nos sul", "fore sul"),
}  # "mawrth" alone is also March, so Tuesday needs its "dydd" or "nos" (joined up by _fold)
_TUESDAY_CY = {" dydd mawrth ": " dydd_mawrth ", " nos fawrth ": " nos_fawrth ", " fore mawrth ": " fore_mawrth "}
_PARTS = {
    "after_school": ("after school", "afterschool", "after skool", "after college", "ar ol ysgol", "ar ol yr ysgol",
                     "ar ol coleg", "wedi ysgol"),
    "lunchtime": ("lunchtime", "lunch time", "lunch", "dinner time", "amser cinio", "cinio"),
    "morning": ("morning", "mornin", "morn", "bore", "fore", "y bore", "fore_mawrth"),
    "afternoon": ("afternoon", "arvo", "prynhawn", "pnawn", "y prynhawn"),
    "evening": ("evening", "tonight", "tonite", "2nite", "eve", "after tea", "heno", "gyda r nos", "gydar nos",
                "noswaith", "nos", "nos_fawrth"),
}  # fmt: skip
_MONTH_WORDS = {
    **{name.lower(): n for n, name in enumerate(MONTHS["en"], 1)},
    **{name.lower()[:3]: n for n, name in enumerate(MONTHS["en"], 1)},
    "sept": 9,
    **{name.lower(): n for n, name in enumerate(MONTHS["cy"], 1)},
    # Welsh mutates after "o" ("5ed o Ragfyr") and "fis" ("fis Mai"): the common soft mutations.
    "ragfyr": 12, "fai": 5, "fawrth": 3, "fedi": 9, "orffennaf": 7, "chwefror": 2, "ebrill": 4,
}  # fmt: skip
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b")  # not "4-6pm", a range of times
_IN_DAYS = re.compile(
    r"\b(?:in|mewn) (\d{1,2}|a|one|two|three|four|five|six|un|dau|tri|pedwar|pump) (?:days?|diwrnod)\b"
)
_SMALL_NUMBERS = {"a": 1, "one": 1, "un": 1, "two": 2, "dau": 2, "three": 3, "tri": 3, "four": 4, "pedwar": 4,
                  "five": 5, "pump": 5, "six": 6}  # fmt: skip
_DAY_THEN_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|ed|af|fed|ydd|eg)? (?:of |o )?([a-z]{3,})\b")
_MONTH_THEN_DAY = re.compile(r"\b([a-z]{3,}) (\d{1,2})(?:st|nd|rd|th)?\b")
_CLOCK = re.compile(
    r"\b(?:(half|hanner) (?:past |awr wedi |wedi )?)?(\d{1,2})(?:[:.](\d{2}))? ?"
    r"(am|pm|a m|p m|yb|yp|yh|oclock|o clock|o gloch)?\b"
)
_NOON = ("noon", "midday", "12 noon", "canol dydd", "hanner dydd")


def _fold(text: str) -> str:
    """Lower case, accents and apostrophes gone, other punctuation a space; ':' '/' '.' kept for times."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("'", "").replace("\u2019", "")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    text = re.sub(r"[^\w:/.\s-]", " ", text)
    text = re.sub(r"(?<!\d)[.:](?!\d)", " ", text)  # a full stop is punctuation unless it is inside 4.30
    text = " " + " ".join(text.split()) + " "
    for words, joined in _TUESDAY_CY.items():
        text = text.replace(words, joined)
    return text


def _has(folded: str, words: tuple[str, ...]) -> bool:
    return any(f" {word} " in folded for word in words)


def _strip(folded: str, words: tuple[str, ...]) -> str:
    for word in sorted(words, key=len, reverse=True):
        folded = folded.replace(f" {word} ", " ")
    return folded


def understand(reply: str, now: datetime) -> Understood:
    """The day and time a reply means, relative to ``now`` (timezone-aware, the service's local time)."""
    folded = _fold(reply)
    today = now.date()
    part = next((name for name, words in _PARTS.items() if _has(folded, words)), None)
    if _has(folded, _YESTERDAY):
        return PAST
    day, folded = _explicit_date(folded, today)
    if day is None and (match := _IN_DAYS.search(folded)):
        count = match.group(1)
        day = today + timedelta(days=int(count) if count.isdigit() else _SMALL_NUMBERS[count])
        folded = _cut(folded, match)
    if day is None and _has(folded, _DAY_AFTER):
        day, folded = today + timedelta(days=2), _strip(folded, _DAY_AFTER)
    if day is None and _has(folded, _TOMORROW):
        day = today + timedelta(days=1)
    if day is None and _has(folded, _TODAY):
        day = today
    at = _clock_time(_strip(folded, tuple(w for words in _PARTS.values() for w in words)), part)
    if day is None:
        weekday = next((n for n, words in _WEEKDAYS.items() if _has(folded, words)), None)
        if weekday is not None:
            if _has(folded, _LAST):
                return PAST
            ahead = (weekday - today.weekday()) % 7
            if _has(folded, _NEXT):
                ahead = ahead or 7
            day = today + timedelta(days=ahead)
            if ahead == 0 and not _still_ahead(WantedTime(day, at, part), now):
                day += timedelta(days=7)
    if day is None:
        if at is None and part is None:
            return UNCLEAR
        day = today  # a time on its own: the next time it comes round
        if not _still_ahead(WantedTime(day, at, part), now):
            day += timedelta(days=1)
    wanted = WantedTime(day, at, None if at else part)
    if day < today or not _still_ahead(wanted, now):
        return PAST
    return Understood("ok", wanted)


def _still_ahead(wanted: WantedTime, now: datetime) -> bool:
    if wanted.day != now.date():
        return wanted.day > now.date()
    return datetime.combine(wanted.day, wanted.ends, tzinfo=now.tzinfo) > now


def _explicit_date(folded: str, today: date) -> tuple[date | None, str]:
    """A date written out ("5/12", "5th December", "dec 5", "5 Rhagfyr"), and the text without it."""
    match = _NUMERIC_DATE.search(folded)
    if match:
        day, month, year = match.groups()
        return _dated(int(day), int(month), int(year) if year else None, today), _cut(folded, match)
    for pattern, day_group, month_group in ((_DAY_THEN_MONTH, 1, 2), (_MONTH_THEN_DAY, 2, 1)):
        for match in pattern.finditer(folded):
            month = _MONTH_WORDS.get(match.group(month_group))
            if month:
                return _dated(int(match.group(day_group)), month, None, today), _cut(folded, match)
    return None, folded


def _cut(folded: str, match: re.Match[str]) -> str:
    return f"{folded[: match.start()]} {folded[match.end() :]}"


def _dated(day: int, month: int, year: int | None, today: date) -> date | None:
    """A real date; without a year, this year's unless it went by long ago (then next year's)."""
    candidate = calendar_date(day, month, year, today.year)
    if candidate is not None and year is None and candidate < today - PAST_DATE_GRACE:
        candidate = candidate.replace(year=today.year + 1)
    return candidate


def _clock_time(folded: str, part: str | None) -> time | None:
    """An exact time ("2pm", "14:30", "2yp", "half 4", "at 7" with "evening"), or None."""
    if _has(folded, _NOON):
        return time(12)
    for match in _CLOCK.finditer(folded):
        half, hour_text, minute_text, suffix = match.groups()
        hour, minute = int(hour_text), int(minute_text or 0)
        if half:
            minute = 30
        if minute > 59 or hour > 23:
            continue
        if suffix in ("pm", "p m", "yp", "yh") and hour < 12:
            hour += 12
        elif suffix in ("am", "a m", "yb") and hour == 12:
            hour = 0
        elif suffix in ("am", "a m", "yb") and hour > 12:
            continue
        elif suffix is None and minute_text is not None and len(hour_text) == 2 and not half:
            pass  # the 24-hour clock as written: "07:30" is the morning, "00:00" midnight
        elif suffix is None or suffix in ("oclock", "o clock", "o gloch"):
            if hour == 0 or (hour > 12 and minute_text is None and suffix is None and not half):
                continue  # "0" or "15" alone is a number, not a time
            evening_part = part in ("afternoon", "after_school", "evening")
            if (hour < 12 and evening_part) or (part is None and 1 <= hour <= 7):
                hour += 12
        return time(hour, minute)
    return None
