"""The provider API, ``/api/v1/``: a provider's queue and the actions a worker takes, for their own systems.

A bearer token per provider (stored hashed) says which provider is calling; everything is then looked up
only among that provider's referrals. Wrong or missing token: 401. Another provider's referral: 404.
A body or query that does not match its model (``webhooks/api_schemas.py``): 422 naming the field. The rules
live in ``bot/provider_actions.py`` and ``bot/provider_queue.py``; this module is HTTP only.

Each view says with ``@operation`` what it takes and answers; the same declaration validates the request
and, in ``webhooks/openapi.py``, documents the operation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any, Literal, get_origin

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from bot.providers import actions as provider_actions
from bot.providers import queue as provider_queue
from bot.providers import reports
from bot.providers.accounts import provider_for_token
from bot.providers.actions import Actor, Conflict, Invalid, NotFound, Told
from bot.providers.setup import MAX_ID
from bot.runtime import Runtime
from models import utcnow
from webhooks.api_schemas import (
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
    NoQuery,
    OutcomeRecorded,
    OutcomeRequest,
    ProposeRequest,
    ReferralDetail,
    Referrals,
    ReferralsQuery,
    Timeliness,
    TimelinessQuery,
    Workers,
    YoungPersonTold,
)

API_PREFIX = "/api/v1"
api = Blueprint("provider_api", __name__, url_prefix=API_PREFIX)


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.field = status, error, detail, field


def _runtime() -> Runtime:
    return current_app.extensions["rhi.runtime"]


def jsonable(value: Any) -> Any:
    """Datetimes as ISO 8601 UTC ("2026-11-24T16:00:00Z"), recursively."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def _error_response(status: int, error: str, detail: str, field: str | None = None) -> Response:
    body: dict[str, Any] = {"error": error, "detail": detail}
    if field:
        body["field"] = field
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="rhi", error="invalid_token"'
    return response


@api.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return _error_response(exc.status, exc.error, exc.detail, exc.field)


def api_http_error(exc: HTTPException) -> Response | HTTPException:
    """Routing errors under /api/v1 (no such path, wrong method) answer in JSON like everything else."""
    if not request.path.startswith(API_PREFIX + "/"):
        return exc
    if exc.code == 405:
        return _error_response(405, "method_not_allowed", "this path does not take that method")
    if exc.code == 404:
        return _error_response(404, "not_found", "no such path")
    return exc


@api.before_request
def _authenticate() -> None:
    if request.endpoint == "provider_api.openapi_json":
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <your provider's API token>")
    with _runtime().session() as session:
        provider = provider_for_token(session, token.strip())
        if provider is None:
            raise ApiError(401, "unauthorized", "this token is not valid")
        g.actor = Actor(provider_id=provider.id, label="api")


@api.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # children's data must not sit in caches
    return response


@contextmanager
def _transaction() -> Iterator[Session]:
    """One transaction per call; the bot's errors become HTTP answers."""
    try:
        with _runtime().session() as session, session.begin():
            yield session
    except NotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except Invalid as exc:
        raise ApiError(422, "invalid", str(exc), exc.field) from None
    except Conflict as exc:
        raise ApiError(409, "conflict", str(exc)) from None


def _id(value: int, what: str) -> int:
    if not 1 <= value <= MAX_ID:
        raise ApiError(404, "not_found", f"no such {what}")
    return value


def _told(told: Told, **extra: Any) -> dict[str, Any]:
    return {**extra, "young_person_told": told.young_person_told, "not_told_because": told.reason}


# --- what each view takes and answers -------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """A view's request models, its answer (status and model) and the errors it may give besides 401 and 422
    (and 404 for a path with an id), for validating and for the document."""

    body: type[BaseModel] | None
    query: type[BaseModel]
    status: int
    answer: type[BaseModel] | None
    errors: tuple[int, ...]


View = Callable[..., Any]


def operation(
    *,
    answer: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] = NoQuery,
    status: int = 200,
    errors: tuple[int, ...] = (),
) -> Callable[[View], View]:
    """The view gets the path's ids, ``query=`` and ``body=`` (validated instances of those models) and
    returns the answer as a dict (None for no content), sent with ``status``."""

    def decorate(view: View) -> View:
        @wraps(view)
        def run(**path: int) -> Response:
            given = _query(query)
            arguments: dict[str, Any] = path if query is NoQuery else {**path, "query": given}
            if body is not None:
                arguments["body"] = _body(body)
            result = view(**arguments)
            response = Response(status=status) if result is None else jsonify(jsonable(result))
            response.status_code = status
            return response

        run.operation = Operation(body, query, status, answer, errors)  # type: ignore[attr-defined]
        return run

    return decorate


def _body(model: type[BaseModel]) -> BaseModel:
    if not isinstance(request.get_json(silent=True), dict):
        raise ApiError(422, "invalid", "send a JSON object (Content-Type: application/json)", "body")
    try:
        return model.model_validate_json(request.get_data())
    except ValidationError as exc:
        raise _invalid(exc, "body") from None


def _query(model: type[BaseModel]) -> BaseModel:
    """The query string, read as the JSON object it stands for, by the same strict rules as a body."""
    kinds = {field.alias or name: field.annotation for name, field in model.model_fields.items()}
    given = {name: _query_value(values, kinds.get(name)) for name, values in request.args.lists()}
    try:
        return model.model_validate_json(json.dumps(given))
    except ValidationError as exc:
        raise _invalid(exc, "query") from None


def _query_value(values: list[str], kind: Any) -> Any:
    """Every value of a list parameter; else the first, as a number or true/false where the model wants one."""
    if get_origin(kind) is list:
        return values
    raw = values[0]
    if kind is int:
        with suppress(ValueError):
            return int(raw)
    if kind is bool and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    return raw


# Pydantic's words where they would not help someone fixing a request.
MESSAGES = {
    "timezone_aware": "give a time zone, e.g. 2026-11-24T16:00:00Z",
    "datetime_type": "an ISO 8601 date and time, e.g. 2026-11-24T16:00:00Z",
    "datetime_parsing": "not an ISO 8601 date and time, e.g. 2026-11-24T16:00:00Z",
    "date_type": "a day like 2026-11-01",
    "date_parsing": "not a day like 2026-11-01",
    "string_pattern_mismatch": "{input} does not match {pattern}",
}


def _invalid(exc: ValidationError, where: Literal["body", "query"]) -> ApiError:
    """The first thing wrong, in words, naming the field (or query parameter) at fault."""
    error = exc.errors()[0]
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
    field = str(error["loc"][0]) if error["loc"] else error.get("ctx", {}).get("field", where)
    if error["type"] == "missing":
        return ApiError(422, "invalid", f"{path} is required", field)
    if error["type"] == "extra_forbidden":
        unknown = "a field of this request" if where == "body" else "a query parameter here"
        return ApiError(422, "invalid", f"{path} is not {unknown}", field)
    template, shown = MESSAGES.get(error["type"]), json.dumps(error["input"], default=str)
    if template:
        words = template.format(input=shown, **error.get("ctx", {}))
    elif isinstance(error["input"], int | float | str | None) and len(shown) <= 40:
        words = f"{error['msg']}, not {shown}"
    else:
        words = error["msg"]
    return ApiError(422, "invalid", f"{path or field}: {words}", field)


# --- reading -------------------------------------------------------------------------------------------


@api.get("/referrals")
@operation(query=ReferralsQuery, answer=Referrals)
def list_referrals(query: ReferralsQuery) -> dict[str, Any]:
    """The queue: requests with an open alert first (immediate, urgent), then by deadline."""
    with _transaction() as session:
        items = provider_queue.list_queue(
            session,
            g.actor.provider_id,
            utcnow(),
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
    with _transaction() as session:
        return provider_queue.referral_detail(session, g.actor.provider_id, _id(referral_id, "referral"), utcnow())


@api.get("/alerts")
@operation(answer=Alerts)
def list_alerts() -> dict[str, Any]:
    """Safeguarding alerts nobody has acknowledged: immediate first, then the oldest."""
    with _transaction() as session:
        return {"alerts": provider_queue.open_alerts(session, g.actor.provider_id)}


@api.get("/workers")
@operation(answer=Workers)
def list_workers() -> dict[str, Any]:
    """The provider's active workers (for assigning and confirming)."""
    with _transaction() as session:
        return {"workers": provider_queue.workers(session, g.actor.provider_id)}


@api.get("/dead-letters")
@operation(answer=DeadLetters)
def list_dead_letters() -> dict[str, Any]:
    """Events for this provider that were given up on after the maximum age: act on them."""
    with _transaction() as session:
        return provider_queue.dead_letters(session, g.actor.provider_id)


@api.get("/reports/timeliness")
@operation(query=TimelinessQuery, answer=Timeliness)
def timeliness_report(query: TimelinessQuery) -> dict[str, Any]:
    """The 72 hours: interviews booked and held in time, later ones by reason, open ones late.

    For the referrals made from the first to the last day given (local days, both included, in either order),
    as things stand now (as_of)."""
    first, last = sorted((query.from_, query.to))
    start, end = reports.period_bounds(first, last, _runtime().timezone)
    now = utcnow()
    with _transaction() as session:
        rows = reports.timeliness(session, start, end, now, provider_id=g.actor.provider_id)
    return {"from": first.isoformat(), "to": last.isoformat(), "as_of": now, "providers": rows}


# --- acting --------------------------------------------------------------------------------------------


@api.post("/alerts/<int:alert_id>/acknowledge")
@operation(answer=AlertAcknowledged)
def acknowledge_alert(alert_id: int) -> dict[str, Any]:
    """A person has picked the alert up (every category raised by that message); again changes nothing."""
    with _transaction() as session:
        alert = provider_actions.acknowledge_alert(session, g.actor, _id(alert_id, "alert"), utcnow())
        return {"alert": provider_queue.alert_of(alert)}


@api.post("/referrals/<int:referral_id>/assign")
@operation(body=AssignRequest, answer=Assigned, errors=(409,))
def assign_worker(referral_id: int, body: AssignRequest) -> dict[str, Any]:
    """Assign a worker (or none)."""
    with _transaction() as session:
        referral = provider_actions.assign_worker(session, g.actor, _id(referral_id, "referral"), body.worker_id)
        return {
            "referral_id": referral.id,
            "assigned_worker": provider_queue.worker_ref(session, referral.assigned_worker_id),
        }


@api.post("/referrals/<int:referral_id>/confirm")
@operation(body=ConfirmRequest, answer=BookingTold, errors=(409,))
def confirm_booking(referral_id: int, body: ConfirmRequest) -> dict[str, Any]:
    """Confirm the booking; the bot tells the young person."""
    with _transaction() as session:
        booking, told = provider_actions.confirm_booking(
            session, _runtime(), g.actor, _id(referral_id, "referral"), utcnow(), **dict(body)
        )
        session.flush()
        return _told(told, booking=provider_queue.booking_of(booking))


@api.post("/referrals/<int:referral_id>/booking/cancel")
@operation(body=BookingCancelRequest, answer=BookingTold, errors=(409,))
def cancel_booking(referral_id: int, body: BookingCancelRequest) -> dict[str, Any]:
    """Cancel the booking; its time is freed and the bot tells the young person."""
    with _transaction() as session:
        booking, told = provider_actions.cancel_booking(
            session, _runtime(), g.actor, _id(referral_id, "referral"), utcnow(), **dict(body)
        )
        session.flush()
        return _told(told, booking=provider_queue.booking_of(booking))


@api.post("/referrals/<int:referral_id>/booking/move")
@operation(body=BookingMoveRequest, answer=BookingTold, errors=(409,))
def move_booking(referral_id: int, body: BookingMoveRequest) -> dict[str, Any]:
    """Move the booking to a new time, worker or place; the bot tells the young person.

    The answer is the new, confirmed booking."""
    with _transaction() as session:
        booking, told = provider_actions.move_booking(
            session, _runtime(), g.actor, _id(referral_id, "referral"), utcnow(), **dict(body)
        )
        session.flush()
        return _told(told, booking=provider_queue.booking_of(booking))


@api.post("/referrals/<int:referral_id>/propose")
@operation(body=ProposeRequest, answer=YoungPersonTold, errors=(409,))
def propose_time(referral_id: int, body: ProposeRequest) -> dict[str, Any]:
    """Suggest another time; the bot asks the young person to accept it or choose another."""
    with _transaction() as session:
        return _told(
            provider_actions.propose_time(
                session, _runtime(), g.actor, _id(referral_id, "referral"), utcnow(), **dict(body)
            )
        )


@api.post("/referrals/<int:referral_id>/outcome")
@operation(body=OutcomeRequest, answer=OutcomeRecorded, errors=(409,))
def record_outcome(referral_id: int, body: OutcomeRequest) -> dict[str, Any]:
    """Record the outcome and follow-up support; closes the referral."""
    with _transaction() as session:
        referral = provider_actions.record_outcome(
            session, g.actor, _id(referral_id, "referral"), utcnow(), **dict(body)
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
    with _transaction() as session:
        told = provider_actions.send_message(
            session, _runtime(), g.actor, _id(referral_id, "referral"), body.text, utcnow(), worker_id=body.worker_id
        )
        return _told(told)


def register_api(app: Flask) -> None:
    # Their routes join this blueprint: workers, places, hours and slots; the document.
    import webhooks.api_setup
    import webhooks.openapi  # noqa: F401

    app.register_blueprint(api)
    for code in (404, 405):
        app.register_error_handler(code, api_http_error)
