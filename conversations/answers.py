"""Understanding typed answers: an age, a day, a time. Pure functions of the reply and today."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from conversations.dates import MONTHS, WEEKDAYS, calendar_date

_AGE_WORDS = {
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20,
    "deg": 10, "un ar ddeg": 11, "deuddeg": 12, "tri ar ddeg": 13, "pedwar ar ddeg": 14, "pymtheg": 15,
    "un ar bymtheg": 16, "dau ar bymtheg": 17, "deunaw": 18, "pedwar ar bymtheg": 19, "ugain": 20,
}  # fmt: skip
MIN_AGE, MAX_AGE = 5, 25

_TODAY = (
    "today",
    "this morning",
    "this afternoon",
    "tonight",
    "just now",
    "heddiw",
    "bore ma",
    "heno",
    "nawr",
    "2day",
    "tdy",
    "this mornin",
    "this arvo",
    "this evening",
    "tonite",
    "2nite",
    "pnawn ma",
    "prynhawn ma",
)
_YESTERDAY = ("yesterday", "last night", "ddoe", "neithiwr", "yday", "yest", "last nite", "yesterdy", "ystrdy")
_DAY_BEFORE_YESTERDAY = ("day before yesterday", "echdoe")
_DAYS_AGO = re.compile(
    r"\b(\d{1,2}|a|one|two|three|four|five|six|seven|un|dau|tri|pedwar|pump) "
    r"(?:days?|diwrnod|niwrnod|diwrnodau) (?:ago|yn ol|nol)\b"
)
_SMALL_NUMBERS = {"a": 1, "one": 1, "un": 1, "two": 2, "dau": 2, "three": 3, "tri": 3, "four": 4, "pedwar": 4,
                  "five": 5, "pump": 5, "six": 6, "seven": 7}  # fmt: skip
_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?\b")
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|ed|af|fed|ydd)? (?:of )?([a-z]+)\b")
_TIME = re.compile(r"\b(\d{1,2})(?:[:.](\d{2}))? ?(am|pm|yb|yp|y bore|y prynhawn)?\b")
_WEEKDAY_WORDS = {
    **{name.lower(): n for n, name in enumerate(WEEKDAYS["en"])},
    **{name[:3].lower(): n for n, name in enumerate(WEEKDAYS["en"])},
    **{name.lower(): n for n, name in enumerate(WEEKDAYS["cy"])},
    **{name.lower().removeprefix("dydd "): n for n, name in enumerate(WEEKDAYS["cy"])},
    "nos wener": 4,
    "nos sadwrn": 5,
    "nos sul": 6,
    "nos lun": 0,
    "nos fawrth": 1,
    "nos fercher": 2,
    "nos iau": 3,
    "tues": 1,
    "weds": 2,
    "thur": 3,
    "thurs": 3,
}


def _prepare(reply: str) -> str:
    """Lower case without accents, keeping the / : . that dates and times need."""
    text = unicodedata.normalize("NFKC", reply).casefold()
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    text = re.sub(r"[^\w/:.\s-]", " ", text).replace("'", "")
    return " ".join(text.split())


def parse_age(reply: str) -> int | None:
    """A young person's age from '14', "I'm 14", 'fourteen', 'pedwar ar ddeg'."""
    folded = _prepare(reply)
    numbers = re.findall(r"\b\d{1,2}\b", folded)
    if len(numbers) == 1:
        age = int(numbers[0])
        return age if MIN_AGE <= age <= MAX_AGE else None
    for words, age in sorted(_AGE_WORDS.items(), key=lambda item: -len(item[0])):
        if f" {words} " in f" {folded} ":
            return age
    return None


def age_band(age: int) -> str:
    if age < 13:
        return "under_13"
    if age <= 15:
        return "age_13_15"
    if age <= 17:
        return "age_16_17"
    return "age_18_plus"


def parse_past_day(reply: str, today: date) -> date | None:
    """A day in the past (or today): 'yesterday', 'saturday', '3 days ago', '20/11', '20 november'."""
    folded = _prepare(reply)
    if any(f" {word} " in f" {folded} " for word in _DAY_BEFORE_YESTERDAY):
        return today - timedelta(days=2)
    if any(f" {word} " in f" {folded} " for word in _TODAY):
        return today
    if any(f" {word} " in f" {folded} " for word in _YESTERDAY):
        return today - timedelta(days=1)
    if match := _DAYS_AGO.search(folded):
        word = match.group(1)
        return today - timedelta(days=int(word) if word.isdigit() else _SMALL_NUMBERS[word])
    if match := _DATE.search(folded):
        day, month, year = match.groups()
        return _past_date(int(day), int(month), int(year) if year else None, today)
    if match := _DAY_MONTH.search(folded):
        month = _month_number(match.group(2))
        if month:
            return _past_date(int(match.group(1)), month, None, today)
    for words in sorted(_WEEKDAY_WORDS, key=len, reverse=True):
        if f" {words} " in f" {folded} ":
            back = (today.weekday() - _WEEKDAY_WORDS[words]) % 7
            if "last" in folded.split() or "diwethaf" in folded.split():
                back = back or 7
            return today - timedelta(days=back)
    return None


def day_band(day: date, today: date) -> str:
    """today / yesterday / days_2_3 / longer: how the referral records a rough return time."""
    days = (today - day).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days <= 3:
        return "days_2_3"
    return "longer"


def parse_time(reply: str) -> tuple[int, int] | None:
    """A time of day from '4pm', '4 pm', '16:30', '4.30yp'. A bare number is read as afternoon up to 7."""
    folded = _prepare(reply)
    for match in _TIME.finditer(folded):
        hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
        if hour > 23 or minute > 59 or (half and hour > 12):
            continue
        if half in ("pm", "yp", "y prynhawn") and hour < 12:
            hour += 12
        elif half in ("am", "yb", "y bore") and hour == 12:
            hour = 0
        elif not half and not match.group(2) and 1 <= hour <= 7:
            hour += 12  # "at 4" means 4pm for a meeting after school
        return hour, minute
    return None


def _month_number(word: str) -> int | None:
    for language in ("en", "cy"):
        for n, name in enumerate(MONTHS[language], 1):
            folded_name = name.lower()
            if word == folded_name or (len(word) >= 3 and folded_name.startswith(word)):
                return n
    return None


def _past_date(day: int, month: int, year: int | None, today: date) -> date | None:
    candidate = calendar_date(day, month, year, today.year)
    if candidate is not None and year is None and candidate > today:
        candidate = candidate.replace(year=today.year - 1)
    return candidate if candidate is not None and candidate <= today else None
