"""The provider API's referrals, alerts and reports: a provider's queue and the actions a worker takes.

A bearer token per provider (stored hashed) says which provider is calling; everything is then looked up
only among that provider's referrals. Wrong or missing token: 401. Another provider's referral: 404.
A body or query that does not match its model (``webhooks/api_schemas.py``): 422 naming the field. The rules
live in ``bot/provider_actions.py`` and ``bot/provider_queue.py``; this module is HTTP only.

Each view says with ``@operation`` what it takes and answers; the same declaration validates the request
and, in ``webhooks/openapi.py``, documents the operation.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g

from bot.admin import audit
from bot.providers import actions as provider_actions
from bot.providers import queue as provider_queue
from bot.providers import reports
from bot.providers import return_interviews as report
from webhooks.provider_api.common import api, operation, runtime, told_answer, transaction, valid_id
from webhooks.provider_api.schemas import (
    AlertAcknowledged,
    Alerts,
    Assigned,
    AssignRequest,
    BookingCancelRequest,
    BookingMoveRequest,
    BookingTold,
    ConfirmRequest,
    DeadLetters,
    MessageRequest,
    OutcomeRecorded,
    OutcomeRequest,
    ProposeRequest,
    ReferralDetail,
    Referrals,
    ReferralsQuery,
    ReturnInterviews,
    ReturnInterviewsQuery,
    Timeliness,
    TimelinessQuery,
    Workers,
    YoungPersonTold,
)


@api.get("/referrals")
@operation(query=ReferralsQuery, answer=Referrals)
def list_referrals(query: ReferralsQuery) -> dict[str, Any]:
    """The queue: requests with an open alert first (immediate, urgent), then by deadline."""
    with transaction() as session:
        items = provider_queue.list_queue(
            session,
            g.actor.provider_id,
            runtime().clock(),
            statuses=query.status or None,
            area=query.area,
            at_risk=query.at_risk,
            assigned_worker_id=query.assigned_worker_id,
            limit=query.limit,
            offset=query.offset,
        )
    return {"referrals": items}


@api.get("/referrals/<int:referral_id>")
@operation(answer=ReferralDetail)
def get_referral(referral_id: int) -> dict[str, Any]:
    """One referral with its episodes, answers, bookings, alerts and timeline."""
    now = runtime().clock()
    with transaction() as session:
        detail = provider_queue.referral_detail(
            session, g.actor.provider_id, valid_id(referral_id, "referral"), now, runtime().timezone
        )
        audit.record(session, now, g.actor.label, audit.Action.VIEWED, f"referral {referral_id} (API)",
                     contact_id=detail["person_id"], provider_id=g.actor.provider_id)  # fmt: skip
    return detail


@api.get("/alerts")
@operation(answer=Alerts)
def list_alerts() -> dict[str, Any]:
    """Safeguarding alerts nobody has acknowledged: immediate first, then the oldest."""
    with transaction() as session:
        return {"alerts": provider_queue.open_alerts(session, g.actor.provider_id)}


@api.get("/workers")
@operation(answer=Workers)
def list_workers() -> dict[str, Any]:
    """The provider's active workers (for assigning and confirming)."""
    with transaction() as session:
        return {"workers": provider_queue.workers(session, g.actor.provider_id)}


@api.get("/dead-letters")
@operation(answer=DeadLetters)
def list_dead_letters() -> dict[str, Any]:
    """Events for this provider that were given up on after the maximum age: act on them."""
    with transaction() as session:
        return provider_queue.dead_letters(session, g.actor.provider_id)


@api.get("/reports/timeliness")
@operation(query=TimelinessQuery, answer=Timeliness)
def timeliness_report(query: TimelinessQuery) -> dict[str, Any]:
    """The 72 hours: interviews booked and held in time, later ones by reason, open ones late.

    For the referrals made from the first to the last day given (local days, both included, in either order),
    as things stand now (as_of)."""
    first, last = sorted((query.from_, query.to))
    start, end = reports.period_bounds(first, last, runtime().timezone)
    now = runtime().clock()
    with transaction() as session:
        rows = reports.timeliness(session, start, end, now, provider_id=g.actor.provider_id)
    return {"from": first.isoformat(), "to": last.isoformat(), "as_of": now, "providers": rows}


@api.get("/reports/return-interviews")
@operation(query=ReturnInterviewsQuery, answer=ReturnInterviews)
def return_interviews_report(query: ReturnInterviewsQuery) -> dict[str, Any] | Response:
    """The toolkit's data items a-g, the 72 hours and hidden episodes, overall and per setting.

    For the referrals made from the first to the last day given (local days, both included, in either order),
    as things stand now (as_of). Counts from 1 to 4 are hidden (null; `<5` in the CSV). With format=csv, the
    same as CSV: one row per setting and measure."""
    scope = report.Scope.of(query.from_, query.to, runtime().timezone, (g.actor.provider_id,), query.area)
    with transaction() as session:
        figures = report.suppressed(report.return_interviews(session, scope))
    if query.format == "csv":
        attachment = f'attachment; filename="{report.csv_filename(figures)}"'
        return Response(report.as_csv(figures), mimetype="text/csv", headers={"Content-Disposition": attachment})
    return {**figures, "as_of": runtime().clock()}


# --- acting --------------------------------------------------------------------------------------------


@api.post("/alerts/<int:alert_id>/acknowledge")
@operation(answer=AlertAcknowledged)
def acknowledge_alert(alert_id: int) -> dict[str, Any]:
    """A person has picked the alert up (every category raised by that message); again changes nothing."""
    with transaction() as session:
        alert = provider_actions.acknowledge_alert(session, g.actor, valid_id(alert_id, "alert"), runtime().clock())
        return {"alert": provider_queue.alert_of(alert)}


@api.post("/referrals/<int:referral_id>/assign")
@operation(body=AssignRequest, answer=Assigned, errors=(409,))
def assign_worker(referral_id: int, body: AssignRequest) -> dict[str, Any]:
    """Assign a worker (or none)."""
    with transaction() as session:
        referral = provider_actions.assign_worker(
            session, g.actor, valid_id(referral_id, "referral"), body.worker_id, runtime().clock()
        )
        return {
            "referral_id": referral.id,
            "assigned_worker": provider_queue.worker_ref(session, referral.assigned_worker_id),
        }


@api.post("/referrals/<int:referral_id>/confirm")
@operation(body=ConfirmRequest, answer=BookingTold, errors=(409,))
def confirm_booking(referral_id: int, body: ConfirmRequest) -> dict[str, Any]:
    """Confirm the booking; the bot tells the young person."""
    with transaction() as session:
        booking, told = provider_actions.confirm_booking(
            session, runtime(), g.actor, valid_id(referral_id, "referral"), runtime().clock(), **dict(body)
        )
        session.flush()
        return told_answer(told, booking=provider_queue.booking_of(booking))


@api.post("/referrals/<int:referral_id>/booking/cancel")
@operation(body=BookingCancelRequest, answer=BookingTold, errors=(409,))
def cancel_booking(referral_id: int, body: BookingCancelRequest) -> dict[str, Any]:
    """Cancel the booking; its time is freed and the bot tells the young person."""
    with transaction() as session:
        booking, told = provider_actions.cancel_booking(
            session, runtime(), g.actor, valid_id(referral_id, "referral"), runtime().clock(), **dict(body)
        )
        session.flush()
        return told_answer(told, booking=provider_queue.booking_of(booking))


@api.post("/referrals/<int:referral_id>/booking/move")
@operation(body=BookingMoveRequest, answer=BookingTold, errors=(409,))
def move_booking(referral_id: int, body: BookingMoveRequest) -> dict[str, Any]:
    """Move the booking to a new time, worker or place; the bot tells the young person.

    The answer is the new, confirmed booking."""
    with transaction() as session:
        booking, told = provider_actions.move_booking(
            session, runtime(), g.actor, valid_id(referral_id, "referral"), runtime().clock(), **dict(body)
        )
        session.flush()
        return told_answer(told, booking=provider_queue.booking_of(booking))


@api.post("/referrals/<int:referral_id>/propose")
@operation(body=ProposeRequest, answer=YoungPersonTold, errors=(409,))
def propose_time(referral_id: int, body: ProposeRequest) -> dict[str, Any]:
    """Suggest another time; the bot asks the young person to accept it or choose another."""
    with transaction() as session:
        return told_answer(
            provider_actions.propose_time(
                session, runtime(), g.actor, valid_id(referral_id, "referral"), runtime().clock(), **dict(body)
            )
        )


@api.post("/referrals/<int:referral_id>/outcome")
@operation(body=OutcomeRequest, answer=OutcomeRecorded, errors=(409,))
def record_outcome(referral_id: int, body: OutcomeRequest) -> dict[str, Any]:
    """Record the outcome and follow-up support; closes the referral."""
    with transaction() as session:
        referral = provider_actions.record_outcome(
            session, g.actor, valid_id(referral_id, "referral"), runtime().clock(), **dict(body)
        )
        return {
            "referral_id": referral.id,
            "status": str(referral.status),
            "outcome": referral.outcome,
            "outcome_at": referral.outcome_at,
        }


@api.post("/referrals/<int:referral_id>/messages")
@operation(body=MessageRequest, answer=YoungPersonTold, errors=(409,))
def send_message(referral_id: int, body: MessageRequest) -> dict[str, Any]:
    """Send the young person a message through the bot (nobody at the provider needs their number).

    It goes to the outbox for their channel."""
    with transaction() as session:
        told = provider_actions.send_message(
            session,
            runtime(),
            g.actor,
            valid_id(referral_id, "referral"),
            body.text,
            runtime().clock(),
            worker_id=body.worker_id,
        )
        return told_answer(told)
