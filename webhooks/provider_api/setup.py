"""The provider API for setting up booking, on the ``/api/v1/`` blueprint: workers, places, a worker's
weekly hours, exceptions and closed days, booking settings, and the slots all that gives.

Same token, transactions, validation and error format as ``webhooks/api.py``; the rules are in
``bot/provider_setup.py``. Another provider's worker, place or exception is 404. Values that are each valid
but do not fit together (ends before starts, overlapping lines) are 409 with the field at fault.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from flask import g

from bot.admin.retention import RetentionPolicy
from bot.providers.setup import (
    MAX_LISTING_DAYS,
    Clash,
    ProviderSetup,
    exception_view,
    line_view,
    place_view,
    settings_view,
    slot_view,
    worker_view,
)
from webhooks.provider_api.common import ApiError, api, operation, runtime, transaction, valid_id
from webhooks.provider_api.schemas import (
    Availability,
    AvailabilityException,
    AvailabilityExceptions,
    AvailabilityRequest,
    BookingSettings,
    BookingSettingsRequest,
    DaysQuery,
    ExceptionRequest,
    Place,
    PlaceCreateRequest,
    Places,
    PlaceUpdateRequest,
    RetentionSettings,
    Slots,
    SlotsQuery,
    WorkerCreateRequest,
    WorkerDetail,
    WorkerUpdateRequest,
)


@contextmanager
def _setup(*, change: bool = True) -> Iterator[ProviderSetup]:
    """The calling provider's setup, in one transaction (locked for a change, see ``ProviderSetup``); values
    that do not fit together are 409."""
    with transaction() as session:
        try:
            yield ProviderSetup(session, g.actor.provider_id, runtime().clock(), runtime().timezone, change=change)
        except Clash as exc:
            raise ApiError(409, "conflict", str(exc), exc.field) from None


def _changes(setup: ProviderSetup) -> dict[str, int]:
    changes = setup.slot_changes
    return {"added": changes.added, "updated": changes.updated, "removed": changes.removed}


def _day_range(setup: ProviderSetup, query: DaysQuery) -> tuple[date, date]:
    first = query.from_ or setup.now.astimezone(setup.timezone).date()
    if first > date.max - timedelta(days=MAX_LISTING_DAYS):
        raise ApiError(422, "invalid", f"from: must be before {date.max - timedelta(days=MAX_LISTING_DAYS)}", "from")
    last = query.to or first + timedelta(days=MAX_LISTING_DAYS)
    return first, min(last, first + timedelta(days=MAX_LISTING_DAYS))


# --- workers -------------------------------------------------------------------------------------------


@api.post("/workers")
@operation(body=WorkerCreateRequest, status=201, answer=WorkerDetail, errors=(409,))
def create_worker(body: WorkerCreateRequest) -> dict[str, Any]:
    """Add a worker."""
    with _setup() as setup:
        return worker_view(setup.add_worker(**dict(body)))


@api.patch("/workers/<int:worker_id>")
@operation(body=WorkerUpdateRequest, answer=WorkerDetail, errors=(409,))
def update_worker(worker_id: int, body: WorkerUpdateRequest) -> dict[str, Any]:
    """Change a worker (name, languages, gender, areas, active)."""
    with _setup() as setup:
        return worker_view(setup.change_worker(valid_id(worker_id, "worker"), body.model_dump(exclude_unset=True)))


@api.get("/workers/<int:worker_id>/availability")
@operation(answer=Availability)
def get_availability(worker_id: int) -> dict[str, Any]:
    """A worker's weekly pattern, in local time."""
    with _setup(change=False) as setup:
        lines = setup.weekly(valid_id(worker_id, "worker"))
        return {"worker_id": worker_id, "weekly": [line_view(line) for line in lines]}


@api.put("/workers/<int:worker_id>/availability")
@operation(body=AvailabilityRequest, answer=Availability, errors=(409,))
def set_availability(worker_id: int, body: AvailabilityRequest) -> dict[str, Any]:
    """Replace a worker's whole weekly pattern; the slots offered follow at once."""
    with _setup() as setup:
        lines = setup.set_weekly_pattern(valid_id(worker_id, "worker"), body.model_dump()["weekly"])
        return {"worker_id": worker_id, "weekly": [line_view(line) for line in lines], "slot_changes": _changes(setup)}


# --- places --------------------------------------------------------------------------------------------


@api.get("/places")
@operation(answer=Places)
def list_places() -> dict[str, Any]:
    """Every place of your service, in use first."""
    with _setup(change=False) as setup:
        return {"places": [place_view(place) for place in setup.places()]}


@api.post("/places")
@operation(body=PlaceCreateRequest, status=201, answer=Place, errors=(409,))
def create_place(body: PlaceCreateRequest) -> dict[str, Any]:
    """Add a place."""
    with _setup() as setup:
        return place_view(setup.add_place(**dict(body)))


@api.patch("/places/<int:place_id>")
@operation(body=PlaceUpdateRequest, answer=Place, errors=(409,))
def update_place(place_id: int, body: PlaceUpdateRequest) -> dict[str, Any]:
    """Change a place; a place no longer in use is no longer offered."""
    with _setup() as setup:
        return place_view(setup.change_place(valid_id(place_id, "place"), body.model_dump(exclude_unset=True)))


# --- exceptions ------------------------------------------------------------------------------------------


@api.get("/exceptions")
@operation(query=DaysQuery, answer=AvailabilityExceptions)
def list_exceptions(query: DaysQuery) -> dict[str, Any]:
    """Closed days, hours off and extra hours between two days."""
    with _setup(change=False) as setup:
        return {"exceptions": [exception_view(exception) for exception in setup.exceptions(*_day_range(setup, query))]}


@api.post("/exceptions")
@operation(body=ExceptionRequest, status=201, answer=AvailabilityException, errors=(404, 409))
def create_exception(body: ExceptionRequest) -> dict[str, Any]:
    """Close a day or some hours (the whole service or one worker), or add extra hours.

    The slots offered follow at once."""
    with _setup() as setup:
        return exception_view(setup.add_exception(**dict(body)))


@api.delete("/exceptions/<int:exception_id>")
@operation(status=204)
def delete_exception(exception_id: int) -> None:
    """Remove an exception; the weekly pattern applies to that day again."""
    with _setup() as setup:
        setup.remove_exception(valid_id(exception_id, "exception"))


# --- booking settings and slots ------------------------------------------------------------------------


@api.get("/settings/booking")
@operation(answer=BookingSettings)
def get_booking_settings() -> dict[str, Any]:
    """Interview length, buffer between interviews, minimum notice, horizon, auto-confirm."""
    with _setup(change=False) as setup:
        return settings_view(setup.provider)


@api.patch("/settings/booking")
@operation(body=BookingSettingsRequest, answer=BookingSettings, errors=(409,))
def change_booking_settings(body: BookingSettingsRequest) -> dict[str, Any]:
    """Change booking settings; the slots offered are remade (held and booked ones stay)."""
    with _setup() as setup:
        provider = setup.change_booking_settings(body.model_dump(exclude_unset=True))
        return {**settings_view(provider), "slot_changes": _changes(setup)}


@api.get("/settings/retention")
@operation(answer=RetentionSettings)
def get_retention_settings() -> dict[str, Any]:
    """How long young people's words are kept before the worker removes them (the deployment's settings)."""
    return RetentionPolicy.of(runtime().settings).describe()


@api.get("/slots")
@operation(query=SlotsQuery, answer=Slots)
def list_slots(query: SlotsQuery) -> dict[str, Any]:
    """Slots (open, held, booked) starting on local days from..to, with UTC and local times."""
    with _setup(change=False) as setup:
        slots = setup.slots(*_day_range(setup, query), query.status or None)
        if query.worker_id is not None:
            slots = [slot for slot in slots if slot.worker_id == query.worker_id]
        return {"slots": [slot_view(slot, setup.timezone) for slot in slots], "timezone": str(setup.timezone)}
