"""Everything on the record: who did what, and when, on a young person's case, and how it reads.

``record_action`` is the one write path for an ``ActionRecord``: every action a worker takes (in
``bot/providers/actions.py``) calls it in the same transaction as the change, whether it came from the pages or
the API. The words here are the ones people read in a timeline: plain English, no codes, and every time in one
format (``when_words``: en-GB, 24-hour, in the service's time zone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.safeguarding.categories import CATEGORY_WORDS
from models import ActionRecord

TIME_FORMAT = "%a %d %b %Y, %H:%M"  # "Mon 07 Dec 2026, 14:05": en-GB, 24-hour


@dataclass(frozen=True)
class Actor:
    """Who is acting: a provider, and the person (a staff login) or system (an API token) acting for it."""

    provider_id: int
    label: str  # kept as who acted: a staff email, or "api"
    display_name: str | None = None  # a staff login's name, used when they write to a young person
    staff_id: int | None = None  # the staff login, who an alert and its referral go to when they acknowledge it

    @property
    def who(self) -> str:
        return self.display_name or ("your case system (API)" if self.label == "api" else self.label)


OUTCOME_WORDS = {
    "interview_held": "interview held",
    "declined_in_person": "declined when they met",
    "could_not_contact": "could not contact them",
    "missing_again": "missing again",
}
DELAY_WORDS = {
    "young_person_choice": "the young person's own choice",
    "no_availability": "no availability inside the 72 hours",
    "no_contact_yet": "no contact with them yet",
}
EVENT_WORDS = {
    "referral.created": "request sent to your case system",
    "episode.reported": "missing episode sent to your case system",
    "booking.requested": "booking sent to your case system",
    "booking.cancelled": "cancelled booking sent to your case system",
    "referral.declined": "their decline sent to your case system",
    "safeguarding.alert": "alert sent to your case system",
    "message.for_review": "message to read sent to your case system",
}
DELIVERY_WORDS = {"delivered": "delivered", "waiting": "not delivered yet", "dead-lettered": "NOT delivered (given up)"}


def when_words(moment: datetime | None, timezone: ZoneInfo) -> str:
    """The one way a time is shown to staff."""
    return "—" if moment is None else moment.astimezone(timezone).strftime(TIME_FORMAT)


def category_words(categories: list[str]) -> str:
    return ", ".join(CATEGORY_WORDS.get(category, category.replace("_", " ")) for category in categories)


def record_action(
    session: Session,
    actor: Actor,
    kind: str,
    now: datetime,
    *,
    contact_id: int,
    referral_id: int | None = None,
    escalation_id: int | None = None,
    **details: Any,
) -> ActionRecord:
    """Keep who did what, and when (``kind`` one of ``ACTION_WORDS``), with the details it reads back with."""
    if kind not in ACTION_WORDS:
        raise ValueError(f"unknown action {kind!r}")
    row = ActionRecord(
        provider_id=actor.provider_id,
        contact_id=contact_id,
        referral_id=referral_id,
        escalation_id=escalation_id,
        kind=kind,
        by=actor.label[:128],
        by_name=(actor.display_name or None) and actor.display_name[:100],
        at=now,
        details={key: value for key, value in details.items() if value is not None},
    )
    session.add(row)
    return row


def _time(details: dict[str, Any], key: str, timezone: ZoneInfo) -> str:
    raw = details.get(key)
    return when_words(datetime.fromisoformat(raw), timezone) if raw else "the same time"


ACTION_WORDS: dict[str, Any] = {
    "acknowledged": lambda d, tz: "acknowledged the alert and has it now",
    "alert_done": lambda d, tz: "marked the alert done",
    "assigned": lambda d, tz: f"asked {d['worker']} to meet them" if d.get("worker") else "took the worker off",
    "confirmed": lambda d, tz: (
        f"confirmed the chat: {_time(d, 'starts_at', tz)}" + (f" with {d['worker']}" if d.get("worker") else "")
    ),
    "proposed": lambda d, tz: f"suggested a new time: {_time(d, 'starts_at', tz)}",
    "cancelled": lambda d, tz: (
        "cancelled the chat"
        + (f" on {_time(d, 'starts_at', tz)}" if d.get("starts_at") else "")
        + (f" ({d['why']})" if d.get("why") else "")
    ),
    "moved": lambda d, tz: (
        f"moved the chat to {_time(d, 'starts_at', tz)}"
        + (f" with {d['worker']}" if d.get("worker") else "")
        + (f" ({d['why']})" if d.get("why") else "")
    ),
    "outcome": lambda d, tz: f"recorded the outcome: {OUTCOME_WORDS.get(d.get('outcome', ''), 'not given')}",
    "note": lambda d, tz: "added a note",
    "ticked": lambda d, tz: f"ticked “{d.get('item', '')}”",
    "unticked": lambda d, tz: f"unticked “{d.get('item', '')}”",
    "message": lambda d, tz: "sent them a message through the bot",
    "read": lambda d, tz: "read their message",
}


def action_words(row: ActionRecord, timezone: ZoneInfo) -> dict[str, Any]:
    """One action as a timeline shows it: when, who, what in plain words (and a note's text)."""
    return {
        "at": row.at,
        "kind": "action",
        "who": row.by_name or ("your case system (API)" if row.by == "api" else row.by),
        "what": ACTION_WORDS[row.kind](row.details or {}, timezone),
        "text": (row.details or {}).get("text"),
        "action": row.kind,
        "item": (row.details or {}).get("item"),
        "escalation_id": row.escalation_id,
    }
