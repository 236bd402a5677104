"""The provider API, ``/api/v1/``: a provider's queue and the actions a worker takes, for their own systems.

A bearer token per provider (stored hashed) says which provider is calling; everything is then looked up
only among that provider's referrals. Wrong or missing token: 401. Another provider's referral: 404.
A body that does not match the documented schema: 422 naming the field. The rules live in
``bot/provider_actions.py`` and ``bot/provider_queue.py``; this module is HTTP only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from bot.providers import actions as provider_actions
from bot.providers import queue as provider_queue
from bot.providers import reports
from bot.providers.accounts import provider_for_token
from bot.providers.actions import Actor, Conflict, Invalid, NotFound, Told
from bot.runtime import Runtime
from models import ReferralStatus, utcnow
from webhooks.openapi import (
    ASSIGN_REQUEST,
    BOOKING_CANCEL_REQUEST,
    BOOKING_MOVE_REQUEST,
    CONFIRM_REQUEST,
    MAX_ID,
    MESSAGE_REQUEST,
    OUTCOME_REQUEST,
    PROPOSE_REQUEST,
    REPORT_DATE_PATTERN,
    openapi_document,
)

API_PREFIX = "/api/v1"
api = Blueprint("provider_api", __name__, url_prefix=API_PREFIX)

_VALIDATORS = {
    id(schema): Draft202012Validator(schema)
    for schema in (
        ASSIGN_REQUEST,
        CONFIRM_REQUEST,
        PROPOSE_REQUEST,
        OUTCOME_REQUEST,
        MESSAGE_REQUEST,
        BOOKING_CANCEL_REQUEST,
        BOOKING_MOVE_REQUEST,
    )
}


QUERY_PARAMETERS = {
    "provider_api.list_referrals": {"status", "area", "at_risk", "assigned_worker_id", "limit", "offset"},
    "provider_api.timeliness_report": {"from", "to"},
}


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
    unknown = sorted(set(request.args) - QUERY_PARAMETERS.get(request.endpoint or "", set()))
    if unknown:
        raise ApiError(422, "invalid", f"{unknown[0]} is not a query parameter here", unknown[0])


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


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(422, "invalid", "send a JSON object (Content-Type: application/json)", "body")
    error = next(iter(sorted(_VALIDATORS[id(schema)].iter_errors(body), key=lambda e: list(e.path))), None)
    if error is not None:
        field, detail = _explain(error, schema, body)
        raise ApiError(422, "invalid", detail, field)
    return body


def _explain(error: ValidationError, schema: dict[str, Any], body: dict[str, Any]) -> tuple[str, str]:
    if error.path:
        field = str(error.path[0])
        return field, f"{field}: {error.message}"
    if error.validator == "required":
        missing = next(name for name in error.validator_value if name not in body)
        return missing, f"{missing} is required"
    if error.validator == "anyOf" and all("required" in option for option in error.validator_value):
        names = [name for option in error.validator_value for name in option["required"]]
        return names[0], f"give at least one of {', '.join(names)}"
    if error.validator == "additionalProperties":
        unknown = sorted(set(body) - set(schema.get("properties", {})))
        return unknown[0], f"{unknown[0]} is not a field of this request"
    return "body", error.message


def _datetime(body: dict[str, Any], field: str) -> datetime | None:
    value = body.get(field)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(422, "invalid", f"{field}: not an ISO 8601 date and time", field) from None
    if moment.tzinfo is None:
        raise ApiError(422, "invalid", f"{field}: give a time zone, e.g. 2026-11-24T16:00:00Z", field)
    return moment


def _told(told: Told, **extra: Any) -> dict[str, Any]:
    return {**extra, "young_person_told": told.young_person_told, "not_told_because": told.reason}


# --- the document --------------------------------------------------------------------------------------


@api.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(openapi_document())


# --- reading -------------------------------------------------------------------------------------------


def _query_int(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, "invalid", f"{name}: a whole number", name) from None
    if not low <= value <= high:
        raise ApiError(422, "invalid", f"{name}: between {low} and {high}", name)
    return value


def _query_bool(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise ApiError(422, "invalid", f"{name}: true or false", name)
    return raw.lower() == "true"


@api.get("/referrals")
def list_referrals() -> Response:
    statuses = request.args.getlist("status")
    known = {status.value for status in ReferralStatus}
    for status in statuses:
        if status not in known:
            raise ApiError(422, "invalid", f"status: one of {', '.join(sorted(known))}", "status")
    area = request.args.get("area")
    if area is not None and len(area) > 64:
        raise ApiError(422, "invalid", "area: at most 64 characters", "area")
    filters = {
        "statuses": statuses or None,
        "area": area,
        "at_risk": _query_bool("at_risk"),
        "assigned_worker_id": _query_int("assigned_worker_id", None, 1, MAX_ID),
        "limit": _query_int("limit", 100, 1, provider_queue.MAX_QUEUE_PAGE),
        "offset": _query_int("offset", 0, 0, 1_000_000),
    }
    with _transaction() as session:
        items = provider_queue.list_queue(session, g.actor.provider_id, utcnow(), **filters)
    return jsonify(referrals=jsonable(items))


@api.get("/referrals/<int:referral_id>")
def get_referral(referral_id: int) -> Response:
    with _transaction() as session:
        detail = provider_queue.referral_detail(session, g.actor.provider_id, _id(referral_id, "referral"), utcnow())
    return jsonify(jsonable(detail))


@api.get("/alerts")
def list_alerts() -> Response:
    with _transaction() as session:
        return jsonify(alerts=jsonable(provider_queue.open_alerts(session, g.actor.provider_id)))


@api.get("/workers")
def list_workers() -> Response:
    with _transaction() as session:
        return jsonify(workers=provider_queue.workers(session, g.actor.provider_id))


@api.get("/dead-letters")
def list_dead_letters() -> Response:
    with _transaction() as session:
        return jsonify(jsonable(provider_queue.dead_letters(session, g.actor.provider_id)))


def _query_date(name: str) -> date:
    raw = request.args.get(name)
    if raw is None:
        raise ApiError(422, "invalid", f"{name}: required, a day from 2000 to 2099 like 2026-11-01", name)
    try:
        if not re.fullmatch(REPORT_DATE_PATTERN, raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(422, "invalid", f"{name}: a day from 2000 to 2099 like 2026-11-01", name) from None


@api.get("/reports/timeliness")
def timeliness_report() -> Response:
    first, last = sorted((_query_date("from"), _query_date("to")))  # the same days, whichever way round
    start, end = reports.period_bounds(first, last, _runtime().timezone)
    now = utcnow()
    with _transaction() as session:
        rows = reports.timeliness(session, start, end, now, provider_id=g.actor.provider_id)
    return jsonify(jsonable({"from": first.isoformat(), "to": last.isoformat(), "as_of": now, "providers": rows}))


# --- acting --------------------------------------------------------------------------------------------


@api.post("/alerts/<int:alert_id>/acknowledge")
def acknowledge_alert(alert_id: int) -> Response:
    with _transaction() as session:
        alert = provider_actions.acknowledge_alert(session, g.actor, _id(alert_id, "alert"), utcnow())
        return jsonify(alert=jsonable(provider_queue.alert_of(alert)))


def _referral_action(view: Callable[[Session, int, dict[str, Any]], dict[str, Any]], schema: dict[str, Any]):  # type: ignore[no-untyped-def]
    def run(referral_id: int) -> Response:
        body = _body(schema)
        with _transaction() as session:
            return jsonify(jsonable(view(session, _id(referral_id, "referral"), body)))

    run.__name__ = view.__name__
    return run


def _assign(session: Session, referral_id: int, body: dict[str, Any]) -> dict[str, Any]:
    referral = provider_actions.assign_worker(session, g.actor, referral_id, body["worker_id"])
    worker = provider_queue.worker_ref(session, referral.assigned_worker_id)
    return {"referral_id": referral.id, "assigned_worker": worker}


def _confirm(session: Session, referral_id: int, body: dict[str, Any]) -> dict[str, Any]:
    booking, told = provider_actions.confirm_booking(
        session,
        _runtime(),
        g.actor,
        referral_id,
        utcnow(),
        booking_id=body.get("booking_id"),
        starts_at=_datetime(body, "starts_at"),
        worker_id=body.get("worker_id"),
        place_kind=body.get("place_kind"),
        delay_reason=body.get("delay_reason"),
    )
    session.flush()
    return _told(told, booking=provider_queue.booking_of(booking))


def _propose(session: Session, referral_id: int, body: dict[str, Any]) -> dict[str, Any]:
    starts_at = _datetime(body, "starts_at")
    assert starts_at is not None  # required by the schema
    told = provider_actions.propose_time(
        session,
        _runtime(),
        g.actor,
        referral_id,
        utcnow(),
        starts_at=starts_at,
        worker_id=body.get("worker_id"),
        place_kind=body.get("place_kind"),
        delay_reason=body.get("delay_reason"),
    )
    return _told(told)


def _cancel_booking(session: Session, referral_id: int, body: dict[str, Any]) -> dict[str, Any]:
    booking, told = provider_actions.cancel_booking(
        session, _runtime(), g.actor, referral_id, utcnow(), booking_id=body.get("booking_id")
    )
    session.flush()
    return _told(told, booking=provider_queue.booking_of(booking))


def _move_booking(session: Session, referral_id: int, body: dict[str, Any]) -> dict[str, Any]:
    booking, told = provider_actions.move_booking(
        session,
        _runtime(),
        g.actor,
        referral_id,
        utcnow(),
        booking_id=body.get("booking_id"),
        starts_at=_datetime(body, "starts_at"),
        worker_id=body.get("worker_id"),
        place_kind=body.get("place_kind"),
    )
    session.flush()
    return _told(told, booking=provider_queue.booking_of(booking))


def _outcome(session: Session, referral_id: int, body: dict[str, Any]) -> dict[str, Any]:
    referral = provider_actions.record_outcome(
        session,
        g.actor,
        referral_id,
        utcnow(),
        outcome=body["outcome"],
        follow_up_needed=body.get("follow_up_needed"),
        follow_up_provided=body.get("follow_up_provided"),
    )
    return {
        "referral_id": referral.id,
        "status": str(referral.status),
        "outcome": referral.outcome,
        "outcome_at": referral.outcome_at,
    }


def _message(session: Session, referral_id: int, body: dict[str, Any]) -> dict[str, Any]:
    told = provider_actions.send_message(
        session, _runtime(), g.actor, referral_id, body["text"], utcnow(), worker_id=body.get("worker_id")
    )
    return _told(told)


for _path, _view, _schema in (
    ("assign", _assign, ASSIGN_REQUEST),
    ("confirm", _confirm, CONFIRM_REQUEST),
    ("booking/cancel", _cancel_booking, BOOKING_CANCEL_REQUEST),
    ("booking/move", _move_booking, BOOKING_MOVE_REQUEST),
    ("propose", _propose, PROPOSE_REQUEST),
    ("outcome", _outcome, OUTCOME_REQUEST),
    ("messages", _message, MESSAGE_REQUEST),
):
    api.add_url_rule(
        f"/referrals/<int:referral_id>/{_path}", view_func=_referral_action(_view, _schema), methods=["POST"]
    )


def register_api(app: Flask) -> None:
    import webhooks.api_setup  # noqa: F401  (its routes join this blueprint: workers, places, hours, slots)

    app.register_blueprint(api)
    for code in (404, 405):
        app.register_error_handler(code, api_http_error)
