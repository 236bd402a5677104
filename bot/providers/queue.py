"""What a provider's duty worker reads: alerts first, then requests by severity and by the 72-hour deadline.

The same data serves the queue pages and the provider API, always for one provider: nothing here ever
reads another provider's referrals. Values are plain dicts (datetimes left as datetimes; the API turns
them into ISO 8601 UTC).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session, selectinload

from bot.outbox.events import episode_summary
from bot.outbox.writing import ordering_key_for, without_alert_prefix
from bot.providers.actions import find_referral
from bot.providers.record import DELIVERY_WORDS, EVENT_WORDS, OUTCOME_WORDS, action_words, category_words
from bot.routing import area_names, areas_matching, escalation_provider_id
from models import (
    ActionRecord,
    Booking,
    BookingStatus,
    Direction,
    Escalation,
    Message,
    OutboxEvent,
    OutboxKind,
    Referral,
    ReferralStatus,
    ReviewItem,
    StaffUser,
    Worker,
)

# A request with no confirmed time inside the window whose deadline is this close (or gone) is at risk.
AT_RISK_WITHIN = timedelta(hours=24)
ACTIVE_STATUSES = (ReferralStatus.OPEN, ReferralStatus.BOOKING_REQUESTED, ReferralStatus.BOOKED)
SEVERITY_ORDER = {"immediate": 0, "urgent": 1, None: 2}
MAX_QUEUE_PAGE = 200
TIMELINE_MESSAGES = 200  # the latest messages with the young person shown on a referral


def _value(enum_value: Any) -> Any:
    return getattr(enum_value, "value", enum_value)


def is_outside_window(booking: Booking, referral: Referral) -> bool:
    """The booking is after the 72-hour deadline (a time in the young person's own words counts as after it,
    until a worker confirms the time)."""
    if referral.deadline_at is None:
        return False
    if booking.starts_at is None:
        return booking.outside_window
    return booking.starts_at > referral.deadline_at


def is_at_risk(referral: Referral, now: datetime) -> bool:
    """The 72 hours will be missed and nobody has said why: a live booking after the deadline with no reason
    recorded for the delay, or no confirmed time inside the window with the deadline less than a day away or
    gone. A later booking with its reason recorded (the young person's choice, say) is not at risk: it is
    counted in the reports as a delay with that reason."""
    if referral.status not in ACTIVE_STATUSES or referral.deadline_at is None:
        return False
    booking = _live_booking(referral)
    if booking is not None and is_outside_window(booking, referral):
        return booking.delay_reason is None
    if booking is not None and booking.status == BookingStatus.CONFIRMED:
        return False
    return referral.deadline_at - now <= AT_RISK_WITHIN


def _worker_ref(worker: Worker | None) -> dict[str, Any] | None:
    return {"id": worker.id, "name": worker.display_name} if worker else None


def worker_ref(session: Session, worker_id: int | None) -> dict[str, Any] | None:
    return _worker_ref(session.get(Worker, worker_id) if worker_id else None)


# --- alerts ----------------------------------------------------------------------------------------


def _unacknowledged(session: Session, provider_id: int) -> list[Escalation]:
    candidates = session.scalars(
        sa.select(Escalation)
        .where(Escalation.acknowledged_at.is_(None))
        .options(selectinload(Escalation.referral), selectinload(Escalation.contact))
        .order_by(Escalation.created_at, Escalation.id)
    )
    return [item for item in candidates if escalation_provider_id(session, item) == provider_id]


def group_alerts(escalations: Iterable[Escalation]) -> list[list[Escalation]]:
    """One alert per message: a message may raise several categories."""
    groups: dict[tuple[int, int], list[Escalation]] = {}
    for item in escalations:
        key = (item.contact_id, item.inbound_event_id if item.inbound_event_id is not None else -item.id)
        groups.setdefault(key, []).append(item)
    return list(groups.values())


def alert_of(group: list[Escalation], referral_id: int | None = None) -> dict[str, Any]:
    """One alert; ``referral_id`` is where it belongs when it was raised before the young person's referral."""
    first = group[0]
    severity = min((_value(item.severity) for item in group), key=lambda s: SEVERITY_ORDER[s])
    return {
        "id": first.id,
        "escalation_ids": [item.id for item in group],
        "categories": [item.category for item in group],
        "severity": severity,
        "excerpt": first.excerpt,
        "created_at": first.created_at,
        "referral_id": first.referral_id or referral_id,
        "person_id": first.contact_id,
        "area": first.contact.area if first.contact else None,
        "channel": _value(first.contact.channel) if first.contact else None,
        "language": _value(first.contact.language) if first.contact else None,
        "acknowledged_at": first.acknowledged_at,
        "acknowledged_by": first.acknowledged_by,
        "assigned_staff_id": first.assigned_staff_id,
        "done_at": first.done_at,
        "notified_count": max(item.notified_count for item in group),
    }


def latest_referrals(session: Session, provider_id: int, contact_ids: Iterable[int]) -> dict[int, int]:
    """Each person's newest referral to this provider, by person: where their earlier alerts and messages belong."""
    wanted = sorted(set(contact_ids))
    if not wanted:
        return {}
    rows = session.execute(
        sa.select(Referral.contact_id, sa.func.max(Referral.id))
        .where(Referral.provider_id == provider_id, Referral.contact_id.in_(wanted))
        .group_by(Referral.contact_id)
    )
    return {contact_id: referral_id for contact_id, referral_id in rows}


def _alerts(session: Session, provider_id: int, groups: list[list[Escalation]]) -> list[dict[str, Any]]:
    newest = latest_referrals(session, provider_id, (group[0].contact_id for group in groups))
    return [alert_of(group, newest.get(group[0].contact_id)) for group in groups]


def open_alerts(session: Session, provider_id: int) -> list[dict[str, Any]]:
    """Alerts nobody has acknowledged: immediate before urgent, then the oldest first."""
    alerts = _alerts(session, provider_id, group_alerts(_unacknowledged(session, provider_id)))
    return sorted(alerts, key=lambda alert: (SEVERITY_ORDER[alert["severity"]], alert["created_at"]))


def in_progress(session: Session, provider_id: int) -> list[dict[str, Any]]:
    """Alerts a person has acknowledged and not yet marked done, with who has each: the most serious first."""
    candidates = session.scalars(
        sa.select(Escalation)
        .where(Escalation.acknowledged_at.is_not(None), Escalation.done_at.is_(None))
        .options(selectinload(Escalation.referral), selectinload(Escalation.contact))
        .order_by(Escalation.created_at, Escalation.id)
    )
    mine = [item for item in candidates if escalation_provider_id(session, item) == provider_id]
    alerts = _alerts(session, provider_id, group_alerts(mine))
    holders = {alert["assigned_staff_id"] for alert in alerts} - {None}
    names = dict(
        session.execute(sa.select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(holders))).all()
    ) if holders else {}  # fmt: skip
    for alert in alerts:
        alert["held_by"] = names.get(alert["assigned_staff_id"]) or alert["acknowledged_by"]
    return sorted(alerts, key=lambda alert: (SEVERITY_ORDER[alert["severity"]], alert["created_at"]))


# --- to read ---------------------------------------------------------------------------------------

REVIEW_REASONS = {
    "not_understood": "The bot could not place this message",
    "free_text": "An answer in their own words",
    "concern": "The safeguarding check was not sure",
}


def to_read(session: Session, provider_id: int, limit: int = MAX_QUEUE_PAGE) -> list[dict[str, Any]]:
    """Messages nobody has read yet that raised no alert: concerns first, then the oldest first."""
    items = session.scalars(
        sa.select(ReviewItem)
        .where(ReviewItem.provider_id == provider_id, ReviewItem.read_at.is_(None))
        .order_by((ReviewItem.reason != "concern"), ReviewItem.received_at, ReviewItem.id)
        .limit(limit)
    ).all()
    newest = latest_referrals(session, provider_id, (item.contact_id for item in items))
    return [
        {
            "id": item.id,
            "reason": _value(item.reason),
            "why": REVIEW_REASONS[_value(item.reason)],
            "text": item.text,
            "categories": list(item.categories or []),
            "language": _value(item.language),
            "channel": _value(item.channel),
            "received_at": item.received_at,
            "referral_id": item.referral_id or newest.get(item.contact_id),
            "person_id": item.contact_id,
        }
        for item in items
    ]


# --- dead letters ----------------------------------------------------------------------------------


def dead_letters(session: Session, provider_id: int, limit: int = 20) -> dict[str, Any]:
    """Events for this provider (and messages to its young people) that were given up on: a red alert."""
    its_contacts = sa.select(Referral.contact_id).where(Referral.provider_id == provider_id)
    condition = sa.and_(
        OutboxEvent.dead_at.is_not(None),
        sa.or_(
            OutboxEvent.provider_id == provider_id,
            sa.and_(OutboxEvent.kind == OutboxKind.CHANNEL_MESSAGE, OutboxEvent.contact_id.in_(its_contacts)),
        ),
    )
    count = session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent).where(condition)) or 0
    rows = session.execute(
        sa.select(
            OutboxEvent.id,
            OutboxEvent.kind,
            OutboxEvent.type,
            OutboxEvent.ordering_key,
            OutboxEvent.created_at,
            OutboxEvent.dead_at,
            OutboxEvent.attempts,
            OutboxEvent.last_error,
        )
        .where(condition)
        .order_by(OutboxEvent.dead_at.desc())
        .limit(limit)
    ).all()
    return {
        "count": count,
        "events": [
            {
                "id": row.id,
                "kind": _value(row.kind),
                "type": row.type,
                "referral_id": _referral_id(row.ordering_key),
                "created_at": row.created_at,
                "dead_at": row.dead_at,
                "attempts": row.attempts,
                "last_error": row.last_error,
            }
            for row in rows
        ],
    }


def _referral_id(ordering_key: str) -> int | None:
    kind, _, number = without_alert_prefix(ordering_key).partition(":")
    return int(number) if kind == "referral" and number.isdigit() else None


# --- the queue -------------------------------------------------------------------------------------


def _live_booking(referral: Referral) -> Booking | None:
    live = [booking for booking in referral.bookings if booking.status != BookingStatus.CANCELLED]
    return max(live, key=lambda booking: booking.id) if live else None


def _booking_ref(booking: Booking | None) -> dict[str, Any] | None:
    if booking is None:
        return None
    return {
        "id": booking.id,
        "status": _value(booking.status),
        "starts_at": booking.starts_at,
        "place_kind": _value(booking.place_kind),
        "outside_window": booking.outside_window,
        "delay_reason": _value(booking.delay_reason),
    }


def queue_item(
    referral: Referral,
    now: datetime,
    *,
    worker: Worker | None = None,
    severity: str | None = None,
    open_alert_count: int = 0,
) -> dict[str, Any]:
    episode = referral.episodes[-1] if referral.episodes else None
    counting = referral.deadline_at is not None and referral.status in ACTIVE_STATUSES  # none once it is closed
    return {
        "id": referral.id,
        "person_id": referral.contact_id,
        "status": _value(referral.status),
        "referred_by": _value(referral.referred_by),
        "area": referral.area,
        "area_name": area_names(object_session(referral), referral.area)["en"] if referral.area else None,
        "language": _value(referral.language),
        "channel": _value(referral.channel),
        "created_at": referral.created_at,
        "deadline_at": referral.deadline_at,
        "seconds_to_deadline": int((referral.deadline_at - now).total_seconds()) if counting else None,
        "at_risk": is_at_risk(referral, now),
        "severity": severity,
        "open_alerts": open_alert_count,
        "assigned_worker": _worker_ref(worker),
        "assigned_staff_id": referral.assigned_staff_id,
        "age_band": _value(episode.age_band) if episode else None,
        "setting": _value(episode.setting) if episode else None,
        "hidden": episode.hidden if episode else None,
        "booking": _booking_ref(_live_booking(referral)),
        "outcome": referral.outcome,
        "offered_at": referral.offered_at,
        "offer_method": _value(referral.offer_method),
        "offer_status": next((_value(offer.status) for offer in referral.offers if not offer.to_parent), None),
    }


def list_queue(
    session: Session,
    provider_id: int,
    now: datetime,
    *,
    statuses: Iterable[str] | None = None,
    area: str | None = None,
    at_risk: bool | None = None,
    assigned_worker_id: int | None = None,
    assigned_staff_id: int | None = None,
    language: str | None = None,
    search: str | None = None,
    booked_today_unconfirmed: ZoneInfo | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The provider's requests: those with an open alert first (immediate, then urgent), then by deadline.

    ``search`` finds a referral number, an area (its key or name) or a worker's name; ``booked_today_unconfirmed``
    (the service's time zone) keeps those with a time today, local, that nobody has confirmed yet."""
    # Only the page's referrals are loaded whole: the order (and the at-risk filter) is worked out on a few
    # columns of each, which is what keeps the queue quick with thousands of open referrals.
    conditions = [
        Referral.provider_id == provider_id,
        Referral.status.in_(list(statuses) if statuses else list(ACTIVE_STATUSES)),
    ]
    if area:
        conditions.append(Referral.area == area)
    if assigned_worker_id is not None:
        conditions.append(Referral.assigned_worker_id == assigned_worker_id)
    if assigned_staff_id is not None:
        conditions.append(Referral.assigned_staff_id == assigned_staff_id)
    if language:
        conditions.append(Referral.language == language)
    if search:
        conditions.append(_matching(session, provider_id, search))
    if booked_today_unconfirmed is not None:
        start = now.astimezone(booked_today_unconfirmed).replace(hour=0, minute=0, second=0, microsecond=0)
        today = sa.select(Booking.referral_id).where(
            Booking.status == BookingStatus.REQUESTED,
            Booking.starts_at >= start,
            Booking.starts_at < start + timedelta(days=1),
        )
        conditions.append(Referral.id.in_(today))
    rows = session.execute(
        sa.select(Referral.id, Referral.contact_id, Referral.status, Referral.deadline_at).where(*conditions)
    ).all()
    if at_risk is not None:
        risky = _at_risk_rows(session, conditions, now)
        rows = [row for row in rows if risky.get(row.id, False) == at_risk]
    alerts_by_referral: dict[int, list[str]] = {}
    alerts_by_contact: dict[int, list[str]] = {}
    for group in group_alerts(_unacknowledged(session, provider_id)):
        severity = alert_of(group)["severity"]
        if group[0].referral_id is not None:
            alerts_by_referral.setdefault(group[0].referral_id, []).append(severity)
        else:
            alerts_by_contact.setdefault(group[0].contact_id, []).append(severity)
    found = {row.id: alerts_by_referral.get(row.id, []) + alerts_by_contact.get(row.contact_id, []) for row in rows}
    worst = {key: min(seen, key=lambda s: SEVERITY_ORDER[s]) if seen else None for key, seen in found.items()}
    far_future = now + timedelta(days=365 * 100)
    rows.sort(key=lambda row: (SEVERITY_ORDER[worst[row.id]], row.deadline_at or far_future, row.id))
    wanted = [row.id for row in rows[offset : offset + min(limit, MAX_QUEUE_PAGE)]]
    if not wanted:
        return []
    loaded = {
        referral.id: referral
        for referral in session.scalars(
            sa.select(Referral)
            .where(Referral.id.in_(wanted))
            .options(selectinload(Referral.episodes), selectinload(Referral.bookings), selectinload(Referral.offers))
        )
    }
    staff = {
        worker.id: worker for worker in session.scalars(sa.select(Worker).where(Worker.provider_id == provider_id))
    }
    page = [
        queue_item(
            loaded[key],
            now,
            worker=staff.get(loaded[key].assigned_worker_id or 0),
            severity=worst[key],
            open_alert_count=len(found[key]),
        )
        for key in wanted
    ]
    _mark_unread(session, page, loaded)
    return page


def _at_risk_rows(session: Session, conditions: list[Any], now: datetime) -> dict[int, bool]:
    """Whether each referral matching ``conditions`` is at risk, from a few columns of it and its bookings."""
    referrals = session.execute(sa.select(Referral.id, Referral.status, Referral.deadline_at).where(*conditions)).all()
    bookings: dict[int, list[Any]] = {}
    for booking in session.execute(
        sa.select(Booking.referral_id, Booking.id, Booking.status, Booking.starts_at, Booking.outside_window,
                  Booking.delay_reason)
        .where(Booking.referral_id.in_(sa.select(Referral.id).where(*conditions)))
    ):  # fmt: skip
        bookings.setdefault(booking.referral_id, []).append(booking)
    return {
        row.id: is_at_risk(
            SimpleNamespace(status=row.status, deadline_at=row.deadline_at, bookings=bookings.get(row.id, [])), now
        )
        for row in referrals
    }


def _matching(session: Session, provider_id: int, search: str) -> sa.ColumnElement[bool]:
    """A referral number ("1234", "#1234"), an area (key or name) or a worker's name, any case."""
    words = search.strip().lstrip("#").casefold()[:100]
    conditions: list[sa.ColumnElement[bool]] = []
    if words.isdigit():
        conditions.append(Referral.id == int(words[:9]))
    areas = areas_matching(session, words)
    if areas:
        conditions.append(Referral.area.in_(areas))
    named = sa.select(Worker.id).where(
        Worker.provider_id == provider_id, sa.func.lower(Worker.display_name).contains(words, autoescape=True)
    )
    conditions.append(Referral.assigned_worker_id.in_(named))
    return sa.or_(*conditions)


def _mark_unread(session: Session, items: list[dict[str, Any]], referrals: dict[int, Referral]) -> None:
    """A referral whose young person wrote since staff last read their messages is marked unread."""
    people = {referrals[item["id"]].contact_id for item in items}
    if not people:
        return
    last_in = dict(
        session.execute(
            sa.select(Message.contact_id, sa.func.max(Message.created_at))
            .where(Message.contact_id.in_(sorted(people)), Message.direction == Direction.INBOUND)
            .group_by(Message.contact_id)
        ).all()
    )
    for item in items:
        referral = referrals[item["id"]]
        wrote = last_in.get(referral.contact_id)
        item["unread"] = bool(wrote and wrote > (referral.staff_read_at or referral.created_at))


def workers(session: Session, provider_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        sa.select(Worker)
        .where(Worker.provider_id == provider_id, Worker.active.is_(True))
        .order_by(Worker.display_name)
    )
    return [
        {
            "id": worker.id,
            "name": worker.display_name,
            "languages": list(worker.languages or []),
            "gender": _value(worker.gender),
        }
        for worker in rows
    ]


# --- one referral ----------------------------------------------------------------------------------


def escalations_of(session: Session, contact_id: int, referral_id: int | None) -> list[Escalation]:
    """A person's alerts: with a referral, its own and those raised before any referral existed."""
    query = sa.select(Escalation).where(Escalation.contact_id == contact_id)
    if referral_id is not None:
        query = query.where(sa.or_(Escalation.referral_id == referral_id, Escalation.referral_id.is_(None)))
    return list(session.scalars(query.order_by(Escalation.created_at, Escalation.id)))


def referral_detail(
    session: Session, provider_id: int, referral_id: int, now: datetime, timezone: ZoneInfo
) -> dict[str, Any]:
    """Everything a worker needs about one referral, with its timeline. NotFound for another provider's."""
    referral = find_referral(session, provider_id, referral_id)
    escalations = escalations_of(session, referral.contact_id, referral.id)
    groups = group_alerts(escalations)
    open_groups = [group for group in groups if group[0].acknowledged_at is None]
    severities = [alert_of(group)["severity"] for group in open_groups]
    severity = min(severities, key=lambda s: SEVERITY_ORDER[s]) if severities else None
    worker = session.get(Worker, referral.assigned_worker_id) if referral.assigned_worker_id else None
    detail = queue_item(referral, now, worker=worker, severity=severity, open_alert_count=len(open_groups))
    unreachable = referral.contact.why_not_reachable()
    detail.update(
        answers={
            "consent_given": referral.consent_given,
            "child_agrees": referral.child_agrees,
            "time_preference": referral.time_preference,
            "place_kind": _value(referral.place_kind),
            "worker_preference": _value(referral.worker_preference),
            "trusted_adult": referral.trusted_adult,
            "decline_reason": _value(referral.decline_reason),
            "decline_text": referral.decline_text,
            "declined_at": referral.declined_at,
        },
        episodes=[episode_summary(episode) for episode in referral.episodes],
        bookings=[booking_of(booking) for booking in sorted(referral.bookings, key=lambda b: b.id)],
        alerts=[alert_of(group, referral.id) for group in groups],
        outcome={
            "outcome": referral.outcome,
            "outcome_at": referral.outcome_at,
            "follow_up_needed": referral.follow_up_needed,
            "follow_up_provided": referral.follow_up_provided,
        },
        can_message=unreachable is None,
        cannot_message_reason=unreachable,
        timeline=sorted(
            [
                *record_of(session, referral.contact_id, [referral], escalations, timezone),
                *_conversation_with_workers(session, referral),
            ],
            key=lambda entry: entry["at"],
        ),
    )
    return detail


def booking_of(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.id,
        "status": _value(booking.status),
        "starts_at": booking.starts_at,
        "slot_id": booking.slot_id,
        "worker": _worker_ref(booking.worker),
        "place_kind": _value(booking.place_kind),
        "worker_preference": _value(booking.worker_preference),
        "trusted_adult": booking.trusted_adult,
        "preferred_time_text": booking.preferred_time_text,
        "outside_window": booking.outside_window,
        "delay_reason": _value(booking.delay_reason),
        "created_at": booking.created_at,
    }


def _conversation_with_workers(session: Session, referral: Referral) -> list[dict[str, Any]]:
    """Messages sent for a worker, and what the young person wrote after the first of them.

    Not the scripted chat before it: its answers are the referral's fields (the person's page has it all).
    """
    sent_for_worker = sa.and_(Message.direction == Direction.OUTBOUND, Message.inbound_event_id.is_(None))
    first = session.scalar(
        sa.select(sa.func.min(Message.created_at)).where(
            Message.contact_id == referral.contact_id, Message.created_at >= referral.created_at, sent_for_worker
        )
    )
    if first is None:
        return []
    messages = session.scalars(
        sa.select(Message)
        .where(
            Message.contact_id == referral.contact_id,
            Message.created_at >= first,
            sa.or_(sent_for_worker, Message.direction == Direction.INBOUND),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(TIMELINE_MESSAGES)
    ).all()
    return [message_entry(message) for message in reversed(messages)]


def message_entry(message: Message) -> dict[str, Any]:
    inbound = message.direction == Direction.INBOUND
    return {
        "at": message.created_at,
        "kind": "message",
        "what": "from the young person" if inbound else "to the young person",
        "direction": _value(message.direction),
        "text": message.text,
        "english": message.english_text,
    }


def record_of(
    session: Session, contact_id: int, referrals: list[Referral], escalations: list[Escalation], timezone: ZoneInfo
) -> list[dict[str, Any]]:
    """What happened on the person's case, oldest first, in plain words: referrals made, events sent to the
    provider's system, alerts, and every action with who did it."""
    entries: list[dict[str, Any]] = []
    keys = []
    for referral in referrals:
        entries.append({"at": referral.created_at, "kind": "referral", "what": f"referral {referral.id} made"})
        if referral.declined_at:
            entries.append({"at": referral.declined_at, "kind": "declined", "what": "they said no to an interview"})
        if referral.outcome_at and not _has_action(session, referral.id, "outcome"):
            words = OUTCOME_WORDS.get(referral.outcome or "", "recorded")
            entries.append({"at": referral.outcome_at, "kind": "outcome", "what": f"outcome: {words}"})
        key = f"referral:{referral.id}"  # its alerts are ordered apart, under a key of their own
        keys += [key, ordering_key_for("safeguarding.alert", key)]
    if keys:
        sent = session.execute(
            sa.select(OutboxEvent.type, OutboxEvent.created_at, OutboxEvent.delivered_at, OutboxEvent.dead_at,
                      OutboxEvent.attempts, OutboxEvent.last_error)
            .where(OutboxEvent.kind == OutboxKind.PROVIDER_WEBHOOK, OutboxEvent.ordering_key.in_(keys))
            .order_by(OutboxEvent.created_at)
        ).all()  # fmt: skip
        for row in sent:
            delivery = "delivered" if row.delivered_at else "dead-lettered" if row.dead_at else "waiting"
            entries.append(
                {
                    "at": row.created_at,
                    "kind": "event",
                    "what": f"{EVENT_WORDS.get(row.type, row.type)}: {DELIVERY_WORDS[delivery]}",
                    "event_type": row.type,
                    "delivery": delivery,
                    "attempts": row.attempts,
                    "last_error": row.last_error,
                }
            )
    recorded = session.scalars(
        sa.select(ActionRecord).where(ActionRecord.contact_id == contact_id).order_by(ActionRecord.at, ActionRecord.id)
    ).all()
    acknowledged_on_record = {row.escalation_id for row in recorded if row.kind == "acknowledged"}
    for group in group_alerts(escalations):
        alert = alert_of(group)
        entries.append(
            {"at": alert["created_at"], "kind": "alert",
             "what": f"{alert['severity']} alert: {category_words(alert['categories'])}"}
        )  # fmt: skip
        if alert["acknowledged_at"] and not acknowledged_on_record & set(alert["escalation_ids"]):
            entries.append(
                {"at": alert["acknowledged_at"], "kind": "acknowledged", "who": alert["acknowledged_by"],
                 "what": "acknowledged the alert"}
            )  # fmt: skip
    entries.extend(action_words(row, timezone) for row in recorded)
    return sorted(entries, key=lambda entry: entry["at"])


def _has_action(session: Session, referral_id: int, kind: str) -> bool:
    found = sa.select(ActionRecord.id).where(ActionRecord.referral_id == referral_id, ActionRecord.kind == kind)
    return session.scalar(found.limit(1)) is not None
