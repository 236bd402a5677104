"""Checking a table row of real-sounding answers against the facts it should give (tests/conversations/understanding).

A row is (what they typed, the facts). Facts use short keys so a table stays readable: ``role`` (yp or parent),
``left`` and ``back`` (days before today: 0 today, 1 yesterday), ``missing`` (still not back), ``police``,
``setting``, ``age``, ``yes`` (True for a yes, False for a no) and ``when`` (the day and time they would like,
as the bot reads it back). Facts a row does not name must not be read from it either.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from conversations.understanding.core import read, wanted_time

TODAY = date(2026, 12, 7)  # a Monday
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Europe/London"))
_ROLES = {"yp": "young_person", "parent": "parent_carer"}


def facts_read(text: str, language: str, wanted: dict[str, Any]) -> dict[str, Any]:
    """What the bot reads from ``text``, in the table's short form, for the keys a row may name."""
    facts = read(text, TODAY, language)
    found: dict[str, Any] = {
        "role": {v: k for k, v in _ROLES.items()}.get(facts.role or ""),
        "left": None if facts.left is None else (TODAY - facts.left).days,
        "back": None if facts.returned is None else (TODAY - facts.returned).days,
        "missing": facts.still_missing or None,
        "police": facts.police,
        "setting": facts.setting,
        "age": facts.age,
    }
    if "yes" in wanted:
        found["yes"] = facts.yes
    if "when" in wanted:
        understood = wanted_time(text, NOW)
        found["when"] = understood.wanted.describe(language) if understood.wanted else understood.status
    return {key: value for key, value in found.items() if value is not None}


def expected(wanted: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in wanted.items() if value is not None}
