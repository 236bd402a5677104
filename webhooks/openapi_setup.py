"""The OpenAPI description of how a provider sets up booking through the API: workers, places, weekly
hours, exceptions and closed days, booking settings, and the slots they give.

``webhooks/api_setup.py`` validates request bodies with exactly these schemas, and ``webhooks/openapi.py``
puts the paths and schemas into the one document the contract test runs schemathesis against.

Values that are each valid but do not fit together (ends before starts, two weekly lines that overlap, an
area the provider does not cover) are answered 409 with the ``field`` at fault: the schema cannot say them.
"""

from __future__ import annotations

from typing import Any

from bot.providers.setup import (
    BOOKING_SETTINGS,
    MAX_NOTE,
    MAX_PLACE_NAME,
    MAX_WEEKLY_LINES,
    MAX_WORKER_NAME,
    WORKER_LANGUAGES,
    known_areas,
)
from models import Gender, PlaceKind, SlotStatus
from webhooks.openapi import ANY_TEXT, DATE_TIME, ID, _enum, _json, _nullable, _ref

# At least one character that is neither a space nor a control character (those are dropped).
VISIBLE = r"[^\s\x00-\x1f\x7f-\x9f]"
TIME = {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "description": "local time, 24-hour clock"}
DAY = {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}


def _name(longest: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": longest, "pattern": VISIBLE}


AREA = {"enum": list(known_areas()), "description": "an area key (bot/data/areas.yaml) your service covers"}
WORKER_FIELDS: dict[str, Any] = {
    "name": {**_name(MAX_WORKER_NAME), "description": "the name young people see, e.g. Eleri"},
    "languages": {
        "type": "array",
        "items": {"enum": list(WORKER_LANGUAGES)},
        "minItems": 1,
        "uniqueItems": True,
        "description": "languages the worker holds interviews in: en, cy",
    },
    "gender": _enum(Gender, nullable=True),
    "areas": {"type": "array", "items": AREA, "uniqueItems": True},
    "active": {"type": "boolean", "description": "false: no new times are offered with this worker"},
}
WORKER_CREATE_REQUEST = {
    "type": "object",
    "description": "A new worker (areas default to all your service covers).",
    "properties": WORKER_FIELDS,
    "required": ["name"],
    "additionalProperties": False,
}
WORKER_UPDATE_REQUEST = {
    "type": "object",
    "description": "Change a worker: only the fields given change. Deactivating removes their open times.",
    "properties": WORKER_FIELDS,
    "additionalProperties": False,
}
PLACE_FIELDS: dict[str, Any] = {
    "kind": _enum(PlaceKind),
    "name": _name(MAX_PLACE_NAME),
    "area": {**AREA, "enum": [*AREA["enum"], None]},
    "neutral": {"type": "boolean", "description": "not school, home or police: somewhere a young person may feel safe"},
    "accessible": {"type": "boolean"},
    "active": {"type": "boolean"},
}
PLACE_CREATE_REQUEST = {
    "type": "object",
    "description": "A new place (or way) interviews can happen.",
    "properties": PLACE_FIELDS,
    "required": ["kind", "name"],
    "additionalProperties": False,
}
PLACE_UPDATE_REQUEST = {
    "type": "object",
    "description": "Change a place: only the fields given change.",
    "properties": PLACE_FIELDS,
    "additionalProperties": False,
}
WEEKLY_LINE = {
    "type": "object",
    "properties": {
        "weekday": {"type": "integer", "minimum": 0, "maximum": 6, "description": "0 is Monday"},
        "starts": TIME,
        "ends": TIME,
        "place_id": _nullable(ID),
    },
    "required": ["weekday", "starts", "ends"],
    "additionalProperties": False,
}
AVAILABILITY_REQUEST = {
    "type": "object",
    "description": "The worker's whole weekly pattern (it replaces the one there). Times are local (Europe/London).",
    "properties": {"weekly": {"type": "array", "items": WEEKLY_LINE, "maxItems": MAX_WEEKLY_LINES}},
    "required": ["weekly"],
    "additionalProperties": False,
}
EXCEPTION_REQUEST = {
    "type": "object",
    "description": (
        "A day that differs from the weekly pattern. No worker_id: the whole service (a bank holiday). "
        "available false (the default): closed, all day or between starts and ends; true: extra hours for "
        "one worker. Closed always wins over open."
    ),
    "properties": {
        "day": DAY,
        "worker_id": _nullable(ID),
        "starts": _nullable(TIME),
        "ends": _nullable(TIME),
        "available": {"type": "boolean"},
        "note": {"type": ["string", "null"], "maxLength": MAX_NOTE, "description": "for staff, e.g. Bank holiday"},
    },
    "required": ["day"],
    "additionalProperties": False,
}
SETTING_NUMBERS = {
    name: {"type": "integer", "minimum": low, "maximum": high} for name, (low, high) in BOOKING_SETTINGS.items()
}
BOOKING_SETTINGS_REQUEST = {
    "type": "object",
    "description": "How interviews are booked; only the fields given change. Slots are remade at once.",
    "properties": {
        **SETTING_NUMBERS,
        "auto_confirm": {"type": "boolean", "description": "confirm a young person's chosen time without a worker"},
    },
    "additionalProperties": False,
}
REQUESTS = (
    WORKER_CREATE_REQUEST,
    WORKER_UPDATE_REQUEST,
    PLACE_CREATE_REQUEST,
    PLACE_UPDATE_REQUEST,
    AVAILABILITY_REQUEST,
    EXCEPTION_REQUEST,
    BOOKING_SETTINGS_REQUEST,
)

# --- responses --------------------------------------------------------------------------------------------

WORKER_DETAIL = {
    "type": "object",
    "properties": {
        "id": ID,
        "name": ANY_TEXT,
        "languages": {"type": "array", "items": ANY_TEXT},
        "gender": _enum(Gender, nullable=True),
        "areas": {"type": "array", "items": ANY_TEXT},
        "active": {"type": "boolean"},
    },
    "required": ["id", "name", "languages", "gender", "areas", "active"],
}
PLACE = {
    "type": "object",
    "properties": {
        "id": ID,
        "kind": _enum(PlaceKind),
        "name": ANY_TEXT,
        "area": _nullable(ANY_TEXT),
        "neutral": {"type": "boolean"},
        "accessible": {"type": "boolean"},
        "active": {"type": "boolean"},
    },
    "required": ["id", "kind", "name", "area", "neutral", "accessible", "active"],
}
SLOT_CHANGES = {
    "type": "object",
    "description": "what the change did to the slots offered",
    "properties": {name: {"type": "integer", "minimum": 0} for name in ("added", "updated", "removed")},
    "required": ["added", "updated", "removed"],
}
AVAILABILITY = {
    "type": "object",
    "properties": {
        "worker_id": ID,
        "weekly": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": ID,
                    "weekday": {"type": "integer", "minimum": 0, "maximum": 6},
                    "weekday_name": ANY_TEXT,
                    "starts": TIME,
                    "ends": TIME,
                    "place_id": _nullable(ID),
                },
                "required": ["id", "weekday", "starts", "ends", "place_id"],
            },
        },
        "slot_changes": SLOT_CHANGES,
    },
    "required": ["worker_id", "weekly"],
}
EXCEPTION = {
    "type": "object",
    "properties": {
        "id": ID,
        "day": DAY,
        "worker_id": _nullable(ID),
        "starts": _nullable(TIME),
        "ends": _nullable(TIME),
        "available": {"type": "boolean"},
        "note": _nullable(ANY_TEXT),
    },
    "required": ["id", "day", "worker_id", "starts", "ends", "available", "note"],
}
BOOKING_SETTINGS_SCHEMA = {
    "type": "object",
    "properties": {
        **SETTING_NUMBERS,
        "auto_confirm": {"type": "boolean"},
        "slot_changes": SLOT_CHANGES,
    },
    "required": [*BOOKING_SETTINGS, "auto_confirm"],
}
SLOT = {
    "type": "object",
    "properties": {
        "id": ID,
        "worker_id": ID,
        "place_id": _nullable(ID),
        "status": _enum(SlotStatus),
        "starts_at": {**DATE_TIME, "description": "UTC"},
        "ends_at": DATE_TIME,
        "starts_local": {**DATE_TIME, "description": "the same instant in local time, with its offset"},
        "ends_local": DATE_TIME,
    },
    "required": ["id", "worker_id", "place_id", "status", "starts_at", "ends_at", "starts_local", "ends_local"],
}


def _errors(what: str, *codes: int) -> dict[str, Any]:
    descriptions = {
        401: "missing or wrong bearer token",
        404: f"no such {what} at your service (another provider's is never shown)",
        409: "the values do not fit together (e.g. ends before starts, lines that overlap); `field` names which",
        422: "invalid body or query; `field` names what is wrong",
    }
    responses = {str(code): _json("Error", descriptions[code]) for code in codes}
    if "401" in responses:
        responses["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return responses


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _list(key: str, item: str, description: str, **extra: Any) -> dict[str, Any]:
    properties = {key: {"type": "array", "items": _ref(item)}, **extra}
    return _json({"type": "object", "properties": properties, "required": list(properties)}, description)


DAY_RANGE = [
    {"name": "from", "in": "query", "schema": DAY, "description": "first local day (default today)"},
    {"name": "to", "in": "query", "schema": DAY, "description": "last local day (at most 92 days after from)"},
]
WORKER_ID = {"name": "worker_id", "in": "path", "required": True, "schema": ID}

# The POST that joins the GET already documented on /workers.
WORKERS_OPERATIONS: dict[str, Any] = {
    "post": {
        "operationId": "createWorker",
        "summary": "Add a worker.",
        "requestBody": _body("WorkerCreateRequest"),
        "responses": {"201": _json("WorkerDetail", "added"), **_errors("worker", 401, 409, 422)},
    }
}


def setup_paths() -> dict[str, Any]:
    return {
        "/workers/{worker_id}": {
            "patch": {
                "operationId": "updateWorker",
                "summary": "Change a worker (name, languages, gender, areas, active).",
                "parameters": [WORKER_ID],
                "requestBody": _body("WorkerUpdateRequest"),
                "responses": {"200": _json("WorkerDetail", "changed"), **_errors("worker", 401, 404, 409, 422)},
            }
        },
        "/workers/{worker_id}/availability": {
            "get": {
                "operationId": "getAvailability",
                "summary": "A worker's weekly pattern, in local time.",
                "parameters": [WORKER_ID],
                "responses": {"200": _json("Availability", "the weekly pattern"), **_errors("worker", 401, 404)},
            },
            "put": {
                "operationId": "setAvailability",
                "summary": "Replace a worker's whole weekly pattern; the slots offered follow at once.",
                "parameters": [WORKER_ID],
                "requestBody": _body("AvailabilityRequest"),
                "responses": {
                    "200": _json("Availability", "the new pattern"),
                    **_errors("worker or place", 401, 404, 409, 422),
                },
            },
        },
        "/places": {
            "get": {
                "operationId": "listPlaces",
                "summary": "Every place of your service, in use first.",
                "responses": {"200": _list("places", "Place", "places"), **_errors("place", 401)},
            },
            "post": {
                "operationId": "createPlace",
                "summary": "Add a place.",
                "requestBody": _body("PlaceCreateRequest"),
                "responses": {"201": _json("Place", "added"), **_errors("place", 401, 409, 422)},
            },
        },
        "/places/{place_id}": {
            "patch": {
                "operationId": "updatePlace",
                "summary": "Change a place; a place no longer in use is no longer offered.",
                "parameters": [{"name": "place_id", "in": "path", "required": True, "schema": ID}],
                "requestBody": _body("PlaceUpdateRequest"),
                "responses": {"200": _json("Place", "changed"), **_errors("place", 401, 404, 409, 422)},
            }
        },
        "/exceptions": {
            "get": {
                "operationId": "listExceptions",
                "summary": "Closed days, hours off and extra hours between two days.",
                "parameters": DAY_RANGE,
                "responses": {
                    "200": _list("exceptions", "AvailabilityException", "exceptions, by day"),
                    **_errors("exception", 401, 422),
                },
            },
            "post": {
                "operationId": "createException",
                "summary": "Close a day or some hours (the whole service or one worker), or add extra hours.",
                "requestBody": _body("ExceptionRequest"),
                "responses": {
                    "201": _json("AvailabilityException", "added; the slots offered follow at once"),
                    **_errors("worker", 401, 404, 409, 422),
                },
            },
        },
        "/exceptions/{exception_id}": {
            "delete": {
                "operationId": "deleteException",
                "summary": "Remove an exception; the weekly pattern applies to that day again.",
                "parameters": [{"name": "exception_id", "in": "path", "required": True, "schema": ID}],
                "responses": {"204": {"description": "removed"}, **_errors("exception", 401, 404)},
            }
        },
        "/settings/booking": {
            "get": {
                "operationId": "getBookingSettings",
                "summary": "Interview length, buffer between interviews, minimum notice, horizon, auto-confirm.",
                "responses": {"200": _json("BookingSettings", "the settings"), **_errors("provider", 401)},
            },
            "patch": {
                "operationId": "changeBookingSettings",
                "summary": "Change booking settings; the slots offered are remade (held and booked ones stay).",
                "requestBody": _body("BookingSettingsRequest"),
                "responses": {"200": _json("BookingSettings", "changed"), **_errors("provider", 401, 422)},
            },
        },
        "/slots": {
            "get": {
                "operationId": "listSlots",
                "summary": "Slots (open, held, booked) starting on local days from..to, with UTC and local times.",
                "parameters": [
                    *DAY_RANGE,
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "array", "items": _enum(SlotStatus)},
                        "style": "form",
                        "explode": True,
                    },
                    {"name": "worker_id", "in": "query", "schema": ID},
                ],
                "responses": {
                    "200": _list("slots", "Slot", "slots, earliest first", timezone=ANY_TEXT),
                    **_errors("slot", 401, 422),
                },
            }
        },
    }


def setup_schemas() -> dict[str, Any]:
    return {
        "WorkerDetail": WORKER_DETAIL,
        "WorkerCreateRequest": WORKER_CREATE_REQUEST,
        "WorkerUpdateRequest": WORKER_UPDATE_REQUEST,
        "Place": PLACE,
        "PlaceCreateRequest": PLACE_CREATE_REQUEST,
        "PlaceUpdateRequest": PLACE_UPDATE_REQUEST,
        "Availability": AVAILABILITY,
        "AvailabilityRequest": AVAILABILITY_REQUEST,
        "AvailabilityException": EXCEPTION,
        "ExceptionRequest": EXCEPTION_REQUEST,
        "BookingSettings": BOOKING_SETTINGS_SCHEMA,
        "BookingSettingsRequest": BOOKING_SETTINGS_REQUEST,
        "Slot": SLOT,
    }
