"""The provider events the journeys emit, with what a worker needs and no more.

No message text and no phone number or chat id travel in these (unless the provider's
``share_contact_address`` asks for the address): a worker replies through the bot, by the API or the queue
pages named in ``reply_via``. Each event's ``data`` is documented as a JSON Schema in
``bot/schemas/events/<type>.json``; the tests check every event the journeys emit against it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, object_session

from bot.outbox.writing import EVENT_TYPES, enqueue_provider_events
from bot.routing import area_names
from models import Booking, Episode, Referral

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"
EVENT_SCHEMAS_DIR = SCHEMAS_DIR / "events"
API_PREFIX = "/api/v1"
QUEUE_PREFIX = "/provider"


@cache
def envelope_schema() -> dict[str, Any]:
    """The JSON Schema of a whole webhook body: ``{"id", "type", "created_at", "data"}``."""
    return json.loads((SCHEMAS_DIR / "event.json").read_text(encoding="utf-8"))


@cache
def data_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of one event type's ``data``."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown provider event type {event_type!r}")
    return json.loads((EVENT_SCHEMAS_DIR / f"{event_type}.json").read_text(encoding="utf-8"))


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _value(enum_value: Any) -> Any:
    return getattr(enum_value, "value", enum_value)


def reply_via(referral_id: int) -> dict[str, str]:
    """Where a worker answers the young person: through the bot, never by their number."""
    return {
        "api": f"{API_PREFIX}/referrals/{referral_id}/messages",
        "queue": f"{QUEUE_PREFIX}/referrals/{referral_id}",
    }


def _contact_address(referral: Referral) -> dict[str, Any]:
    """The young person's address, only for a provider whose settings ask for it."""
    provider = referral.provider
    if provider is None or not provider.share_contact_address:
        return {}
    return {"contact_address": referral.contact.address}


def episode_summary(episode: Episode) -> dict[str, Any]:
    return {
        "episode_id": episode.id,
        "reported_by": _value(episode.reported_by),
        "left_at": _iso(episode.left_at),
        "returned_at": _iso(episode.returned_at),
        "returned_estimate": episode.returned_estimate,
        "still_missing": episode.still_missing,
        "police_informed": _value(episode.police_informed),
        "hidden": episode.hidden,
        "setting": _value(episode.setting),
        "age_band": _value(episode.age_band),
    }


def referral_summary(referral: Referral) -> dict[str, Any]:
    return {
        "referral_id": referral.id,
        "status": _value(referral.status),
        "referred_by": _value(referral.referred_by),
        "language": _value(referral.language),
        "channel": _value(referral.channel),
        "area": referral.area,
        "area_name": area_names(object_session(referral), referral.area)["en"] if referral.area else None,
        "deadline_at": _iso(referral.deadline_at),
        "consent_given": referral.consent_given,
        "child_agrees": referral.child_agrees,
        "episode_ids": [episode.id for episode in referral.episodes],
        "episodes": [episode_summary(episode) for episode in referral.episodes],
        "reply_via": reply_via(referral.id),
        **_contact_address(referral),
    }


def _booking_summary(referral: Referral, booking: Booking) -> dict[str, Any]:
    return {
        "referral_id": referral.id,
        "booking_id": booking.id,
        "status": _value(booking.status),
        "starts_at": _iso(booking.starts_at),
        "slot_id": booking.slot_id,
        "worker_id": booking.worker_id,
        "place_kind": _value(booking.place_kind),
        "worker_preference": _value(booking.worker_preference),
        "trusted_adult": booking.trusted_adult,
        # The young person's own words about a time stay in the bot; a worker reads them in the queue.
        "preferred_time_given": booking.preferred_time_text is not None,
        "outside_window": booking.outside_window,
        "delay_reason": _value(booking.delay_reason),
        "deadline_at": _iso(referral.deadline_at),
        "area": referral.area,
        "language": _value(referral.language),
        "channel": _value(referral.channel),
        "reply_via": reply_via(referral.id),
    }


def _emit(session: Session, referral: Referral, *events: tuple[str, dict[str, Any]]) -> None:
    """Events about ``referral`` (type, data), delivered to its provider in this order."""
    enqueue_provider_events(
        session,
        events,
        provider_id=referral.provider_id,
        ordering_key=f"referral:{referral.id}",
        contact_id=referral.contact_id,
    )


def referral_created(session: Session, referral: Referral, episodes: Sequence[Episode] = ()) -> None:
    """A new referral, then each of its ``episodes`` reported (in one statement)."""
    _emit(session, referral, ("referral.created", referral_summary(referral)), *_reported(referral, episodes))


def episodes_reported(session: Session, referral: Referral, episodes: Sequence[Episode]) -> None:
    """Episodes newly covered by a referral the provider already knows."""
    if episodes:
        _emit(session, referral, *_reported(referral, episodes))


def _reported(referral: Referral, episodes: Sequence[Episode]) -> list[tuple[str, dict[str, Any]]]:
    return [("episode.reported", {"referral_id": referral.id, **episode_summary(episode)}) for episode in episodes]


def booking_requested(session: Session, referral: Referral, booking: Booking) -> None:
    """A time the young person asked for, or (``status: confirmed``) a worker's time they accepted."""
    _emit(session, referral, ("booking.requested", _booking_summary(referral, booking)))


def booking_cancelled(session: Session, referral: Referral, booking: Booking, *, reason: str) -> None:
    """A booking that no longer stands; ``reason`` is one of the schema's codes (never free text)."""
    cancelled = {
        "referral_id": referral.id,
        "booking_id": booking.id,
        "starts_at": _iso(booking.starts_at),
        "reason": reason,
        "deadline_at": _iso(referral.deadline_at),
        "language": _value(referral.language),
        "channel": _value(referral.channel),
    }
    _emit(session, referral, ("booking.cancelled", cancelled))


def referral_declined(session: Session, referral: Referral) -> None:
    declined = {
        "referral_id": referral.id,
        "status": _value(referral.status),
        "referred_by": _value(referral.referred_by),
        "decline_reason": _value(referral.decline_reason),
        "has_own_words": bool(referral.decline_text),
        "area": referral.area,
        "language": _value(referral.language),
        "channel": _value(referral.channel),
        "reply_via": reply_via(referral.id),
    }
    _emit(session, referral, ("referral.declined", declined))
