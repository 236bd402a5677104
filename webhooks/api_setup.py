"""The provider API for setting up booking, on the ``/api/v1/`` blueprint: workers, places, a worker's
weekly hours, exceptions and closed days, booking settings, and the slots all that gives.

Same token, transactions, body validation and error format as ``webhooks/api.py``; the rules are in
``bot/provider_setup.py``. Another provider's worker, place or exception is 404. Values that are each valid
but do not fit together (ends before starts, overlapping lines) are 409 with the field at fault.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from flask import Response, g, jsonify, request
from jsonschema import Draft202012Validator

from bot.providers.setup import (
    MAX_LISTING_DAYS,
    Clash,
    ProviderSetup,
    exception_view,
    line_view,
    parse_day,
    place_view,
    settings_view,
    slot_view,
    worker_view,
)
from models import SlotStatus, utcnow
from webhooks.api import (
    _VALIDATORS,
    QUERY_PARAMETERS,
    ApiError,
    _body,
    _id,
    _query_int,
    _runtime,
    _transaction,
    api,
    jsonable,
)
from webhooks.openapi import MAX_ID
from webhooks.openapi_setup import (
    AVAILABILITY_REQUEST,
    BOOKING_SETTINGS_REQUEST,
    EXCEPTION_REQUEST,
    PLACE_CREATE_REQUEST,
    PLACE_UPDATE_REQUEST,
    REQUESTS,
    WORKER_CREATE_REQUEST,
    WORKER_UPDATE_REQUEST,
)

_VALIDATORS.update({id(schema): Draft202012Validator(schema) for schema in REQUESTS})
QUERY_PARAMETERS.update(
    {
        "provider_api.list_exceptions": {"from", "to"},
        "provider_api.list_slots": {"from", "to", "status", "worker_id"},
    }
)


@contextmanager
def _setup() -> Iterator[ProviderSetup]:
    """The calling provider's setup, in one transaction; values that do not fit together are 409."""
    with _transaction() as session:
        try:
            yield ProviderSetup(session, g.actor.provider_id, utcnow(), _runtime().timezone)
        except Clash as exc:
            raise ApiError(409, "conflict", str(exc), exc.field) from None


def _created(body: dict[str, Any]) -> Response:
    response = jsonify(jsonable(body))
    response.status_code = 201
    return response


def _changes(setup: ProviderSetup) -> dict[str, int]:
    changes = setup.slot_changes
    return {"added": changes.added, "updated": changes.updated, "removed": changes.removed}


def _day_range(setup: ProviderSetup) -> tuple[date, date]:
    today = setup.now.astimezone(setup.timezone).date()
    first = parse_day(request.args["from"], "from") if "from" in request.args else today
    last = parse_day(request.args["to"], "to") if "to" in request.args else first + timedelta(days=MAX_LISTING_DAYS)
    return first, min(last, first + timedelta(days=MAX_LISTING_DAYS))


# --- workers -------------------------------------------------------------------------------------------


@api.post("/workers")
def create_worker() -> Response:
    body = _body(WORKER_CREATE_REQUEST)
    with _setup() as setup:
        worker = setup.add_worker(
            name=body["name"],
            languages=body.get("languages", ["en"]),
            gender=body.get("gender"),
            areas=body.get("areas"),
            active=body.get("active", True),
        )
        return _created(worker_view(worker))


@api.patch("/workers/<int:worker_id>")
def update_worker(worker_id: int) -> Response:
    body = _body(WORKER_UPDATE_REQUEST)
    with _setup() as setup:
        return jsonify(worker_view(setup.change_worker(_id(worker_id, "worker"), body)))


@api.get("/workers/<int:worker_id>/availability")
def get_availability(worker_id: int) -> Response:
    with _setup() as setup:
        lines = setup.weekly(_id(worker_id, "worker"))
        return jsonify(worker_id=worker_id, weekly=[line_view(line) for line in lines])


@api.put("/workers/<int:worker_id>/availability")
def put_availability(worker_id: int) -> Response:
    body = _body(AVAILABILITY_REQUEST)
    with _setup() as setup:
        lines = setup.set_weekly_pattern(_id(worker_id, "worker"), body["weekly"])
        return jsonify(worker_id=worker_id, weekly=[line_view(line) for line in lines], slot_changes=_changes(setup))


# --- places --------------------------------------------------------------------------------------------


@api.get("/places")
def list_places() -> Response:
    with _setup() as setup:
        return jsonify(places=[place_view(place) for place in setup.places()])


@api.post("/places")
def create_place() -> Response:
    body = _body(PLACE_CREATE_REQUEST)
    with _setup() as setup:
        place = setup.add_place(
            kind=body["kind"],
            name=body["name"],
            area=body.get("area"),
            neutral=body.get("neutral", False),
            accessible=body.get("accessible", False),
            active=body.get("active", True),
        )
        return _created(place_view(place))


@api.patch("/places/<int:place_id>")
def update_place(place_id: int) -> Response:
    body = _body(PLACE_UPDATE_REQUEST)
    with _setup() as setup:
        return jsonify(place_view(setup.change_place(_id(place_id, "place"), body)))


# --- exceptions ------------------------------------------------------------------------------------------


@api.get("/exceptions")
def list_exceptions() -> Response:
    with _setup() as setup:
        first, last = _day_range(setup)
        return jsonify(exceptions=[exception_view(exception) for exception in setup.exceptions(first, last)])


@api.post("/exceptions")
def create_exception() -> Response:
    body = _body(EXCEPTION_REQUEST)
    with _setup() as setup:
        exception = setup.add_exception(
            day=body["day"],
            worker_id=body.get("worker_id"),
            starts=body.get("starts"),
            ends=body.get("ends"),
            available=body.get("available", False),
            note=body.get("note"),
        )
        return _created(exception_view(exception))


@api.delete("/exceptions/<int:exception_id>")
def delete_exception(exception_id: int) -> Response:
    with _setup() as setup:
        setup.remove_exception(_id(exception_id, "exception"))
    return Response(status=204)


# --- booking settings and slots ------------------------------------------------------------------------


@api.get("/settings/booking")
def get_booking_settings() -> Response:
    with _setup() as setup:
        return jsonify(settings_view(setup.provider))


@api.patch("/settings/booking")
def change_booking_settings() -> Response:
    body = _body(BOOKING_SETTINGS_REQUEST)
    with _setup() as setup:
        provider = setup.change_booking_settings(body)
        return jsonify({**settings_view(provider), "slot_changes": _changes(setup)})


@api.get("/slots")
def list_slots() -> Response:
    statuses = request.args.getlist("status")
    known = {status.value for status in SlotStatus}
    for status in statuses:
        if status not in known:
            raise ApiError(422, "invalid", f"status: one of {', '.join(sorted(known))}", "status")
    worker_id = _query_int("worker_id", None, 1, MAX_ID)
    with _setup() as setup:
        first, last = _day_range(setup)
        slots = setup.slots(first, last, statuses or None)
        if worker_id is not None:
            slots = [slot for slot in slots if slot.worker_id == worker_id]
        timezone = setup.timezone
        return jsonify(slots=jsonable([slot_view(slot, timezone) for slot in slots]), timezone=str(timezone))
