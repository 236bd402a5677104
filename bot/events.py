"""The provider events the journeys emit, with what a worker needs and no more.

No phone number, chat id or message text travels in these: a worker replies through the bot.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.outbox import enqueue_provider_event
from models import Booking, Episode, Referral


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _value(enum_value: Any) -> Any:
    return getattr(enum_value, "value", enum_value)


def referral_summary(referral: Referral) -> dict[str, Any]:
    return {
        "referral_id": referral.id,
        "status": _value(referral.status),
        "referred_by": _value(referral.referred_by),
        "language": _value(referral.language),
        "channel": _value(referral.channel),
        "area": referral.area,
        "deadline_at": _iso(referral.deadline_at),
        "consent_given": referral.consent_given,
        "child_agrees": referral.child_agrees,
        "episode_ids": [episode.id for episode in referral.episodes],
        "reply_via": "api",
    }


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


def _emit(session: Session, event_type: str, referral: Referral, data: dict[str, Any]) -> None:
    enqueue_provider_event(
        session,
        event_type,
        data,
        provider_id=referral.provider_id,
        ordering_key=f"referral:{referral.id}",
        contact_id=referral.contact_id,
    )


def referral_created(session: Session, referral: Referral) -> None:
    _emit(session, "referral.created", referral, referral_summary(referral))


def episode_reported(session: Session, referral: Referral, episode: Episode) -> None:
    _emit(session, "episode.reported", referral, {"referral_id": referral.id, **episode_summary(episode)})


def booking_requested(session: Session, referral: Referral, booking: Booking) -> None:
    _emit(
        session,
        "booking.requested",
        referral,
        {
            "referral_id": referral.id,
            "booking_id": booking.id,
            "starts_at": _iso(booking.starts_at),
            "slot_id": booking.slot_id,
            "worker_id": booking.worker_id,
            "place_kind": _value(booking.place_kind),
            "worker_preference": _value(booking.worker_preference),
            "trusted_adult": booking.trusted_adult,
            "preferred_time_given": booking.preferred_time_text is not None,
            "outside_window": booking.outside_window,
            "delay_reason": _value(booking.delay_reason),
            "deadline_at": _iso(referral.deadline_at),
            "language": _value(referral.language),
        },
    )


def referral_declined(session: Session, referral: Referral) -> None:
    _emit(
        session,
        "referral.declined",
        referral,
        {
            "referral_id": referral.id,
            "decline_reason": _value(referral.decline_reason),
            "has_own_words": bool(referral.decline_text),
            "language": _value(referral.language),
            "channel": _value(referral.channel),
        },
    )
