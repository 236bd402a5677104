"""The provider API's OpenAPI 3.1 document, served at ``/api/v1/openapi.json``.

The request schemas here are the ones ``webhooks/api.py`` validates bodies with, and the tests run
schemathesis against the document, so the document and the implementation cannot drift apart. The
outbound webhooks are documented under ``webhooks`` with the event schemas from ``bot/schemas``.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from bot.outbox.events import data_schema, envelope_schema
from bot.outbox.writing import EVENT_TYPES
from bot.providers.actions import MAX_FOLLOW_UP_TEXT, MAX_WORKER_MESSAGE
from bot.providers.queue import MAX_QUEUE_PAGE
from bot.providers.reports import DELAY_REASON_KEYS
from models import (
    AgeBand,
    BookingStatus,
    DeclineReason,
    DelayReason,
    PlaceKind,
    ReferralOutcome,
    ReferralStatus,
    Setting,
    Severity,
    WorkerPreference,
)

MAX_ID = 2_147_483_647  # ids are 32-bit integers in the database
API_VERSION = "1.0.0"


def _enum(enum_class: Any, *, nullable: bool = False) -> dict[str, Any]:
    values: list[Any] = [member.value for member in enum_class]
    return {"enum": [*values, None] if nullable else values}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    schema = dict(schema)
    kind = schema.get("type")
    if kind is not None:
        schema["type"] = [kind, "null"] if isinstance(kind, str) else [*kind, "null"]
    return schema


ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
DATE_TIME = {"type": "string", "format": "date-time"}
ANY_TEXT = {"type": "string"}

# --- request bodies (validated by the API with exactly these) --------------------------------------

DELAY_REASON_DESCRIPTION = (
    "only for a time after the 72-hour deadline: why it is later. Default: the young person's choice when that "
    "is what they said and the time is no later than they asked for, else no_availability"
)

ASSIGN_REQUEST = {
    "type": "object",
    "description": "Assign a worker to the referral, or unassign with null.",
    "properties": {"worker_id": _nullable(ID)},
    "required": ["worker_id"],
    "additionalProperties": False,
}
CONFIRM_REQUEST = {
    "type": "object",
    "description": (
        "Confirm the young person's booking (the latest one, or booking_id). Give starts_at when they described "
        "a time in their own words, worker_id when the booking has no worker, place_kind when it has no place. "
        "The bot then tells the young person, in their language, on their channel."
    ),
    "properties": {
        "booking_id": ID,
        "starts_at": {**DATE_TIME, "description": "with a time zone, e.g. 2026-11-24T16:00:00Z"},
        "worker_id": ID,
        "place_kind": _enum(PlaceKind),
        "delay_reason": {**_enum(DelayReason), "description": DELAY_REASON_DESCRIPTION},
    },
    "additionalProperties": False,
}
PROPOSE_REQUEST = {
    "type": "object",
    "description": "Suggest another time; the bot asks the young person to accept it or choose another.",
    "properties": {
        "starts_at": {**DATE_TIME, "description": "with a time zone, in the future"},
        "worker_id": ID,
        "place_kind": _enum(PlaceKind),
        "delay_reason": {**_enum(DelayReason), "description": DELAY_REASON_DESCRIPTION},
    },
    "required": ["starts_at"],
    "additionalProperties": False,
}
BOOKING_CANCEL_REQUEST = {
    "type": "object",
    "description": (
        "Cancel the young person's booking (the latest one, or booking_id). Its time is freed, the referral stays "
        "open for a new time, and the bot tells the young person, in their language, how to choose one."
    ),
    "properties": {"booking_id": ID},
    "additionalProperties": False,
}
BOOKING_MOVE_REQUEST = {
    "type": "object",
    "description": (
        "Move the young person's booking (the latest one, or booking_id) to a new time, worker or place: at least "
        "one of them. The old booking is cancelled and a confirmed one made (booking.cancelled, then "
        "booking.requested); the worker's free time then is booked. The bot tells the young person."
    ),
    "properties": {
        "booking_id": ID,
        "starts_at": {**DATE_TIME, "description": "with a time zone, in the future"},
        "worker_id": ID,
        "place_kind": _enum(PlaceKind),
    },
    "anyOf": [{"required": ["starts_at"]}, {"required": ["worker_id"]}, {"required": ["place_kind"]}],
    "additionalProperties": False,
}
OUTCOME_REQUEST = {
    "type": "object",
    "description": "How the referral ended, and the follow-up support needed and given. Closes the referral.",
    "properties": {
        "outcome": _enum(ReferralOutcome),
        "follow_up_needed": {"type": "string", "maxLength": MAX_FOLLOW_UP_TEXT},
        "follow_up_provided": {"type": "string", "maxLength": MAX_FOLLOW_UP_TEXT},
    },
    "required": ["outcome"],
    "additionalProperties": False,
}
MESSAGE_REQUEST = {
    "type": "object",
    "description": (
        "A message to the young person through the bot, signed with the worker's name (worker_id, else the "
        "assigned worker). Their reply appears in the referral's timeline."
    ),
    "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": MAX_WORKER_MESSAGE, "pattern": r"\S"},
        "worker_id": ID,
    },
    "required": ["text"],
    "additionalProperties": False,
}

# --- responses ----------------------------------------------------------------------------------------

ERROR = {
    "type": "object",
    "properties": {
        "error": {"enum": ["unauthorized", "not_found", "invalid", "conflict", "method_not_allowed"]},
        "detail": {"type": "string"},
        "field": {"type": "string", "description": "for invalid: the field (or query parameter) at fault"},
    },
    "required": ["error", "detail"],
}
WORKER_REF = _nullable({"type": "object", "properties": {"id": ID, "name": ANY_TEXT}, "required": ["id", "name"]})
WORKER = {
    "type": "object",
    "properties": {
        "id": ID,
        "name": ANY_TEXT,
        "languages": {"type": "array", "items": ANY_TEXT},
        "gender": {"enum": ["woman", "man", "other", None]},
    },
    "required": ["id", "name", "languages", "gender"],
}
BOOKING_REF = _nullable(
    {
        "type": "object",
        "properties": {
            "id": ID,
            "status": _enum(BookingStatus),
            "starts_at": _nullable(DATE_TIME),
            "place_kind": _enum(PlaceKind, nullable=True),
            "outside_window": {"type": "boolean"},
            "delay_reason": {
                **_enum(DelayReason, nullable=True),
                "description": "why a booking after the 72-hour deadline is later",
            },
        },
        "required": ["id", "status", "starts_at", "place_kind", "outside_window"],
    }
)
QUEUE_ITEM_PROPERTIES: dict[str, Any] = {
    "id": ID,
    "status": _enum(ReferralStatus),
    "referred_by": {"enum": ["self", "parent_carer"]},
    "area": _nullable(ANY_TEXT),
    "area_name": _nullable(ANY_TEXT),
    "language": {"enum": ["en", "cy"]},
    "channel": {"enum": ["sms", "telegram", "terminal"]},
    "created_at": DATE_TIME,
    "deadline_at": {**_nullable(DATE_TIME), "description": "72 hours after the (estimated) return"},
    "seconds_to_deadline": {"type": ["integer", "null"], "description": "negative once the deadline has passed"},
    "at_risk": {
        "type": "boolean",
        "description": (
            "no confirmed time inside the 72 hours and the deadline is less than a day away (or gone), or a "
            "booking after the deadline with no reason recorded for the delay"
        ),
    },
    "severity": {**_enum(Severity, nullable=True), "description": "of the most serious unacknowledged alert"},
    "open_alerts": {"type": "integer", "minimum": 0},
    "assigned_worker": WORKER_REF,
    "age_band": _enum(AgeBand, nullable=True),
    "setting": _enum(Setting, nullable=True),
    "hidden": {"type": ["boolean", "null"], "description": "the police were never told"},
    "booking": BOOKING_REF,
    "outcome": _enum(ReferralOutcome, nullable=True),
}
QUEUE_ITEM = {"type": "object", "properties": QUEUE_ITEM_PROPERTIES, "required": list(QUEUE_ITEM_PROPERTIES)}
ALERT = {
    "type": "object",
    "description": "One message that tripped the safeguarding check (it may raise several categories).",
    "properties": {
        "id": ID,
        "escalation_ids": {"type": "array", "items": ID},
        "categories": {"type": "array", "items": ANY_TEXT},
        "severity": _enum(Severity),
        "excerpt": ANY_TEXT,
        "created_at": DATE_TIME,
        "referral_id": _nullable(ID),
        "area": _nullable(ANY_TEXT),
        "channel": {"enum": ["sms", "telegram", "terminal", None]},
        "language": {"enum": ["en", "cy", None]},
        "acknowledged_at": _nullable(DATE_TIME),
        "acknowledged_by": _nullable(ANY_TEXT),
        "notified_count": {"type": "integer", "minimum": 0},
    },
    "required": ["id", "escalation_ids", "categories", "severity", "excerpt", "created_at", "acknowledged_at"],
}
BOOKING = {
    "type": "object",
    "properties": {
        "id": ID,
        "status": _enum(BookingStatus),
        "starts_at": _nullable(DATE_TIME),
        "slot_id": _nullable(ID),
        "worker": WORKER_REF,
        "place_kind": _enum(PlaceKind, nullable=True),
        "worker_preference": _enum(WorkerPreference, nullable=True),
        "trusted_adult": {"type": ["boolean", "null"]},
        "preferred_time_text": {**_nullable(ANY_TEXT), "description": "a time in the young person's own words"},
        "outside_window": {"type": "boolean"},
        "delay_reason": _enum(DelayReason, nullable=True),
        "created_at": DATE_TIME,
    },
    "required": ["id", "status", "starts_at", "worker", "place_kind", "outside_window"],
}
TIMELINE_ENTRY = {
    "type": "object",
    "properties": {
        "at": DATE_TIME,
        "kind": {"enum": ["referral", "event", "alert", "acknowledged", "message", "declined", "outcome"]},
        "what": ANY_TEXT,
        "delivery": {"enum": ["delivered", "waiting", "dead-lettered"]},
        "direction": {"enum": ["inbound", "outbound"]},
        "text": ANY_TEXT,
    },
    "required": ["at", "kind", "what"],
}
TOLD = {
    "young_person_told": {"type": "boolean"},
    "not_told_because": {**_nullable(ANY_TEXT), "description": "e.g. they sent STOP"},
}


# A day of this century: the reports are about referrals this service holds.
REPORT_DATE_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
COUNT = {"type": "integer", "minimum": 0}
TIMELINESS_ROW: dict[str, Any] = {
    "type": "object",
    "description": (
        "One provider's referrals made in the period. Each falls in exactly one of declined, "
        "booked_within_72_hours, booked_after_72_hours, open_past_deadline, open_in_time and "
        "closed_without_booking, so those add up to referrals."
    ),
    "properties": {
        "provider": {
            "type": "object",
            "properties": {"id": ID, "slug": ANY_TEXT, "name": ANY_TEXT},
            "required": ["id", "slug", "name"],
        },
        "referrals": {**COUNT, "description": "referrals made in the period"},
        "declined": COUNT,
        "booked_within_72_hours": {**COUNT, "description": "a confirmed time at or before the 72-hour deadline"},
        "held_within_72_hours": {**COUNT, "description": "of those, the interview was recorded as held"},
        "booked_after_72_hours": {**COUNT, "description": "a confirmed time after the deadline"},
        "held_after_72_hours": COUNT,
        "delay_reasons": {
            "type": "object",
            "description": "booked_after_72_hours by the reason recorded for the delay",
            "properties": {key: COUNT for key in DELAY_REASON_KEYS},
            "required": list(DELAY_REASON_KEYS),
        },
        "open_past_deadline": {**COUNT, "description": "still open with no confirmed time, the deadline gone"},
        "open_in_time": {**COUNT, "description": "still open with no confirmed time, the deadline still ahead"},
        "closed_without_booking": {**COUNT, "description": "an outcome recorded with no confirmed time"},
    },
}
TIMELINESS_ROW["required"] = list(TIMELINESS_ROW["properties"])
REPORT_DAY = {"type": "string", "format": "date", "pattern": REPORT_DATE_PATTERN}


def _timeliness_report_path() -> dict[str, Any]:
    report = {
        "type": "object",
        "properties": {
            "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"},
            "as_of": DATE_TIME,
            "providers": {"type": "array", "items": _ref("TimelinessRow")},
        },
        "required": ["from", "to", "as_of", "providers"],
    }
    return {
        "get": {
            "operationId": "timelinessReport",
            "summary": "The 72 hours: interviews booked and held in time, later ones by reason, open ones late.",
            "description": (
                "For the referrals made from the first to the last day given (local days, both included, in "
                "either order), as things stand now (as_of)."
            ),
            "parameters": [
                {"name": "from", "in": "query", "required": True, "schema": REPORT_DAY},
                {"name": "to", "in": "query", "required": True, "schema": REPORT_DAY},
            ],
            "responses": {"200": _json(report, "the report, for the calling provider"), **_errors(401, 422)},
        }
    }


def _detail_schema() -> dict[str, Any]:
    episode = copy.deepcopy(data_schema("referral.created")["properties"]["episodes"]["items"])
    properties = {
        **QUEUE_ITEM_PROPERTIES,
        "answers": {
            "type": "object",
            "properties": {
                "consent_given": {"type": ["boolean", "null"]},
                "child_agrees": {"enum": ["yes", "no", "not_sure", None]},
                "time_preference": _nullable(ANY_TEXT),
                "place_kind": _enum(PlaceKind, nullable=True),
                "worker_preference": _enum(WorkerPreference, nullable=True),
                "trusted_adult": {"type": ["boolean", "null"]},
                "decline_reason": _enum(DeclineReason, nullable=True),
                "decline_text": _nullable(ANY_TEXT),
                "declined_at": _nullable(DATE_TIME),
            },
        },
        "episodes": {"type": "array", "items": episode},
        "bookings": {"type": "array", "items": {"$ref": "#/components/schemas/Booking"}},
        "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}},
        "outcome": {
            "type": "object",
            "properties": {
                "outcome": _enum(ReferralOutcome, nullable=True),
                "outcome_at": _nullable(DATE_TIME),
                "follow_up_needed": _nullable(ANY_TEXT),
                "follow_up_provided": _nullable(ANY_TEXT),
            },
        },
        "can_message": {"type": "boolean"},
        "cannot_message_reason": _nullable(ANY_TEXT),
        "timeline": {"type": "array", "items": {"$ref": "#/components/schemas/TimelineEntry"}},
    }
    return {"type": "object", "properties": properties, "required": list(properties)}


def _json(schema: dict[str, Any] | str, description: str) -> dict[str, Any]:
    if isinstance(schema, str):
        schema = {"$ref": f"#/components/schemas/{schema}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    descriptions = {
        401: "missing or wrong bearer token",
        404: "no such referral or alert for this provider (another provider's is never shown)",
        409: "not possible now (for example the referral is closed, or the young person sent STOP)",
        422: "invalid body or query; `field` names what is wrong",
    }
    responses = {str(code): _json("Error", descriptions[code]) for code in codes}
    if 401 in codes:
        responses["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return responses


def _referral_action(operation_id: str, summary: str, request: str, ok: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [{"$ref": "#/components/parameters/ReferralId"}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(request)}}},
            "responses": {"200": ok, **_errors(401, 404, 409, 422)},
        }
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _told(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    properties = {**(extra or {}), **TOLD}
    return {"type": "object", "properties": properties, "required": list(properties)}


def _webhooks() -> dict[str, Any]:
    documented = {}
    for event_type in EVENT_TYPES:
        data = {key: value for key, value in data_schema(event_type).items() if key not in ("$schema", "$id")}
        envelope = copy.deepcopy({k: v for k, v in envelope_schema().items() if k not in ("$schema", "$id")})
        envelope["properties"]["type"] = {"const": event_type}
        envelope["properties"]["data"] = data
        documented[event_type] = {
            "post": {
                "summary": data.get("description", event_type),
                "description": envelope_schema()["description"],
                "parameters": [
                    {"name": "Idempotency-Key", "in": "header", "required": True, "schema": {"type": "string"}},
                    {"name": "X-RHI-Signature", "in": "header", "required": True, "schema": {"type": "string"}},
                ],
                "requestBody": {"required": True, "content": {"application/json": {"schema": envelope}}},
                "responses": {"200": {"description": "any 2xx: delivered; anything else is retried"}},
            }
        }
    return documented


@cache
def openapi_document() -> dict[str, Any]:
    """The document (built once; it depends only on the code)."""
    from webhooks.openapi_setup import WORKERS_OPERATIONS, setup_paths, setup_schemas  # it builds on this module

    referral_path = "/referrals/{referral_id}"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Return Home Interview provider API",
            "version": API_VERSION,
            "description": (
                "A provider's queue of Return Home Interview requests and safeguarding alerts, and the actions "
                "a worker takes on them. Every call needs `Authorization: Bearer <token>` (one token per "
                "provider); a provider only ever sees its own referrals: another's is 404. Times are ISO 8601; "
                "the API answers in UTC."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/referrals": {
                "get": {
                    "operationId": "listReferrals",
                    "summary": "The queue: requests with an open alert first (immediate, urgent), then by deadline.",
                    "parameters": [
                        {
                            "name": "status",
                            "in": "query",
                            "description": "default: open, booking_requested and booked",
                            "schema": {"type": "array", "items": _enum(ReferralStatus)},
                            "style": "form",
                            "explode": True,
                        },
                        {"name": "area", "in": "query", "schema": {"type": "string", "maxLength": 64}},
                        {"name": "at_risk", "in": "query", "schema": {"type": "boolean"}},
                        {"name": "assigned_worker_id", "in": "query", "schema": ID},
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_QUEUE_PAGE, "default": 100},
                        },
                        {
                            "name": "offset",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0, "maximum": 1_000_000, "default": 0},
                        },
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"referrals": {"type": "array", "items": _ref("QueueItem")}},
                                "required": ["referrals"],
                            },
                            "the queue, in order",
                        ),
                        **_errors(401, 422),
                    },
                }
            },
            referral_path: {
                "get": {
                    "operationId": "getReferral",
                    "summary": "One referral with its episodes, answers, bookings, alerts and timeline.",
                    "parameters": [{"$ref": "#/components/parameters/ReferralId"}],
                    "responses": {"200": _json("ReferralDetail", "the referral"), **_errors(401, 404)},
                }
            },
            f"{referral_path}/assign": _referral_action(
                "assignWorker",
                "Assign a worker (or none).",
                "AssignRequest",
                _json(
                    {
                        "type": "object",
                        "properties": {"referral_id": ID, "assigned_worker": WORKER_REF},
                        "required": ["referral_id", "assigned_worker"],
                    },
                    "assigned",
                ),
            ),
            f"{referral_path}/confirm": _referral_action(
                "confirmBooking",
                "Confirm the booking; the bot tells the young person.",
                "ConfirmRequest",
                _json(_told({"booking": _ref("Booking")}), "confirmed"),
            ),
            f"{referral_path}/booking/cancel": _referral_action(
                "cancelBooking",
                "Cancel the booking; its time is freed and the bot tells the young person.",
                "BookingCancelRequest",
                _json(_told({"booking": _ref("Booking")}), "cancelled"),
            ),
            f"{referral_path}/booking/move": _referral_action(
                "moveBooking",
                "Move the booking to a new time, worker or place; the bot tells the young person.",
                "BookingMoveRequest",
                _json(_told({"booking": _ref("Booking")}), "moved: the new, confirmed booking"),
            ),
            f"{referral_path}/propose": _referral_action(
                "proposeTime",
                "Suggest another time; the bot asks the young person to accept it or choose another.",
                "ProposeRequest",
                _json(_told(), "the young person was asked"),
            ),
            f"{referral_path}/outcome": _referral_action(
                "recordOutcome",
                "Record the outcome and follow-up support; closes the referral.",
                "OutcomeRequest",
                _json(
                    {
                        "type": "object",
                        "properties": {
                            "referral_id": ID,
                            "status": _enum(ReferralStatus),
                            "outcome": _enum(ReferralOutcome),
                            "outcome_at": DATE_TIME,
                        },
                        "required": ["referral_id", "status", "outcome", "outcome_at"],
                    },
                    "recorded",
                ),
            ),
            f"{referral_path}/messages": _referral_action(
                "sendMessage",
                "Send the young person a message through the bot (nobody at the provider needs their number).",
                "MessageRequest",
                _json(_told(), "sent to the outbox for their channel"),
            ),
            "/alerts": {
                "get": {
                    "operationId": "listAlerts",
                    "summary": "Safeguarding alerts nobody has acknowledged: immediate first, then the oldest.",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"alerts": {"type": "array", "items": _ref("Alert")}},
                                "required": ["alerts"],
                            },
                            "open alerts",
                        ),
                        **_errors(401),
                    },
                }
            },
            "/alerts/{alert_id}/acknowledge": {
                "post": {
                    "operationId": "acknowledgeAlert",
                    "summary": "A person has picked the alert up (every category raised by that message).",
                    "parameters": [{"name": "alert_id", "in": "path", "required": True, "schema": ID}],
                    "responses": {
                        "200": _json(
                            {"type": "object", "properties": {"alert": _ref("Alert")}, "required": ["alert"]},
                            "acknowledged (acknowledging again changes nothing)",
                        ),
                        **_errors(401, 404),
                    },
                }
            },
            "/workers": {
                **WORKERS_OPERATIONS,
                "get": {
                    "operationId": "listWorkers",
                    "summary": "The provider's active workers (for assigning and confirming).",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"workers": {"type": "array", "items": _ref("Worker")}},
                                "required": ["workers"],
                            },
                            "workers",
                        ),
                        **_errors(401),
                    },
                },
            },
            "/dead-letters": {
                "get": {
                    "operationId": "listDeadLetters",
                    "summary": "Events for this provider that were given up on after the maximum age: act on them.",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "count": {"type": "integer", "minimum": 0},
                                    "events": {"type": "array", "items": _ref("DeadLetter")},
                                },
                                "required": ["count", "events"],
                            },
                            "dead-lettered events, newest first",
                        ),
                        **_errors(401),
                    },
                }
            },
            "/reports/timeliness": _timeliness_report_path(),
            **setup_paths(),
        },
        "webhooks": _webhooks(),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "parameters": {
                "ReferralId": {"name": "referral_id", "in": "path", "required": True, "schema": ID},
            },
            "schemas": {
                "Error": ERROR,
                "Worker": WORKER,
                "QueueItem": QUEUE_ITEM,
                "Alert": ALERT,
                "Booking": BOOKING,
                "TimelineEntry": TIMELINE_ENTRY,
                "ReferralDetail": _detail_schema(),
                "TimelinessRow": TIMELINESS_ROW,
                "DeadLetter": {
                    "type": "object",
                    "properties": {
                        "id": ANY_TEXT,
                        "kind": {"enum": ["provider_webhook", "channel_message"]},
                        "type": ANY_TEXT,
                        "referral_id": _nullable(ID),
                        "created_at": DATE_TIME,
                        "dead_at": DATE_TIME,
                        "attempts": {"type": "integer"},
                        "last_error": _nullable(ANY_TEXT),
                    },
                    "required": ["id", "kind", "type", "created_at", "dead_at", "attempts"],
                },
                "AssignRequest": ASSIGN_REQUEST,
                "ConfirmRequest": CONFIRM_REQUEST,
                "ProposeRequest": PROPOSE_REQUEST,
                "BookingCancelRequest": BOOKING_CANCEL_REQUEST,
                "BookingMoveRequest": BOOKING_MOVE_REQUEST,
                "OutcomeRequest": OUTCOME_REQUEST,
                "MessageRequest": MESSAGE_REQUEST,
                **setup_schemas(),
            },
        },
    }
