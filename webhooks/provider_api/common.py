"""The provider API, ``/api/v1/``, for a provider's own systems: its blueprint, token check, errors and the
``@operation`` declaration every view makes.

A bearer token per provider (stored hashed) says which provider is calling; everything is then looked up
only among that provider's referrals. Wrong or missing token: 401. Another provider's referral: 404.
A body or query that does not match its model (``schemas.py``): 422 naming the field. Every answer is JSON,
errors too: a database that is busy or away is 503 with ``Retry-After``, anything else ours a JSON 500. The rules
live in ``bot/provider_actions.py`` and ``bot/provider_queue.py``; this module is HTTP only.

Each view says with ``@operation`` what it takes and answers; the same declaration validates the request
and, in ``openapi.py``, documents the operation.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any, Literal, get_origin

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from bot.providers.accounts import provider_for_token
from bot.providers.actions import Actor, Conflict, Invalid, NotFound, Told
from bot.providers.setup import MAX_ID
from bot.runtime import Runtime
from webhooks.provider_api.schemas import (
    NoQuery,
)

API_PREFIX = "/api/v1"
api = Blueprint("provider_api", __name__, url_prefix=API_PREFIX)


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.field = status, error, detail, field


def runtime() -> Runtime:
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


RETRY_AFTER_SECONDS = "2"


@api.errorhandler(sa.exc.OperationalError)
@api.errorhandler(sa.exc.InterfaceError)
def _database_busy(exc: sa.exc.DBAPIError) -> Response:
    """A lock not had in time, a deadlock, a database that does not answer: nothing was changed, and the same
    request a moment later will most likely go through. Logged by kind only (the statement's values may be
    a child's)."""
    current_app.logger.warning("the database was busy for an API request (%s)", type(exc.orig).__name__)
    response = _error_response(503, "busy", "the service is busy: nothing was changed, send the same request again")
    response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response


@api.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    """Werkzeug's own refusals (a body too large, a malformed one) in JSON like everything else."""
    error = (exc.name or "error").lower().replace(" ", "_")
    return _error_response(exc.code or 500, error, exc.description or exc.name or "refused")


@api.errorhandler(Exception)
def _server_error(exc: Exception) -> Response:
    """Whatever else went wrong is ours, and still answered in JSON: a provider's system parses every answer.
    Logged with where it happened but not its message, which may hold a statement's values."""
    where = "".join(traceback.format_tb(exc.__traceback__))
    current_app.logger.error("an API request failed (%s) at\n%s", type(exc).__name__, where)
    return _error_response(500, "server_error", "something went wrong on our side; nothing was changed")


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
    with runtime().session() as session:
        provider = provider_for_token(session, token.strip())
        if provider is None:
            raise ApiError(401, "unauthorized", "this token is not valid")
        g.actor = Actor(provider_id=provider.id, label="api")


@api.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # children's data must not sit in caches
    response.headers["X-Content-Type-Options"] = "nosniff"  # JSON is never to be read as anything else
    return response


@contextmanager
def transaction() -> Iterator[Session]:
    """One transaction per call; the bot's errors become HTTP answers."""
    try:
        with runtime().session() as session, session.begin():
            yield session
    except NotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except Invalid as exc:
        raise ApiError(422, "invalid", str(exc), exc.field) from None
    except Conflict as exc:
        raise ApiError(409, "conflict", str(exc)) from None


def valid_id(value: int, what: str) -> int:
    if not 1 <= value <= MAX_ID:
        raise ApiError(404, "not_found", f"no such {what}")
    return value


def told_answer(told: Told, **extra: Any) -> dict[str, Any]:
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
            if isinstance(result, Response):  # another format the query asked for (a report's CSV)
                return result
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
