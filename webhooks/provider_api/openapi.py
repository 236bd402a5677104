"""The provider API's OpenAPI 3.1 document, served at ``/api/v1/openapi.json``, built from the routes.

Each operation comes from a route's ``@operation`` (``webhooks/api.py``): the pydantic models the API
validates requests with, and the models of its answers, so the document and the implementation cannot drift
apart; the tests also run schemathesis against it. The outbound webhooks are documented under ``webhooks``
with the event schemas from ``bot/schemas``, which are their contract.
"""

from __future__ import annotations

import copy
import inspect
import re
from functools import cache
from typing import Any

from flask import Flask, Response, jsonify
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from werkzeug.routing import Rule

import webhooks.provider_api.episodes
import webhooks.provider_api.setup  # noqa: F401  (its routes are part of the document)
from bot.outbox.events import data_schema, envelope_schema
from bot.outbox.writing import EVENT_TYPES
from webhooks.provider_api.common import API_PREFIX, Operation, api
from webhooks.provider_api.schemas import Error, Id

API_VERSION = "1.0.0"
SCHEMAS = "#/components/schemas/{model}"
ID = TypeAdapter(Id).json_schema()  # every path parameter is an id
ANSWERS = {200: "done", 201: "created", 204: "done; nothing to answer"}
DESCRIPTION = (
    "A provider's queue of Return Home Interview requests and safeguarding alerts, and the actions a worker "
    "takes on them. Every call needs `Authorization: Bearer <token>` (one token per provider); a provider only "
    "ever sees its own referrals: another's is 404. Times are ISO 8601; the API answers in UTC."
)
ERRORS = {
    401: "missing or wrong bearer token",
    404: "no such referral, alert, worker, place or exception at your service (another provider's is never shown)",
    409: (
        "not possible now (the referral is closed, the young person sent STOP) or values that do not fit together "
        "(ends before starts, lines that overlap); `field` names which when it can"
    ),
    422: "invalid body or query (or a query parameter this path does not take); `field` names what is wrong",
}


class _Schemas(GenerateJsonSchema):
    """Without field titles (the names say it) or ``"default": null``, which only means "may be left out"."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: Any) -> dict[str, Any]:
        json_schema = super().default_schema(schema)
        if "default" in json_schema and json_schema["default"] is None:
            del json_schema["default"]
        return json_schema


@api.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(openapi_document())


@cache
def openapi_document() -> dict[str, Any]:
    """The document (built once; it depends only on the code)."""
    app = Flask(__name__)  # the API's routes as any app that registers it has them
    app.register_blueprint(api)
    routes = [
        (rule, method.lower(), app.view_functions[rule.endpoint])
        for rule in app.url_map.iter_rules()
        if hasattr(app.view_functions[rule.endpoint], "operation")  # not the document itself, nor static files
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    specs = {view.operation for *_, view in routes}
    models = {Error} | {model for spec in specs for model in (spec.body, spec.query, spec.answer) if model}
    _, definitions = models_json_schema(
        [(model, "validation") for model in sorted(models, key=lambda m: m.__name__)],
        ref_template=SCHEMAS,
        schema_generator=_Schemas,
    )
    schemas = definitions["$defs"]
    paths: dict[str, Any] = {}
    for rule, method, view in routes:
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix(API_PREFIX))
        paths.setdefault(path, {})[method] = _operation(rule, view, schemas)
    for spec in specs:  # a query's fields are parameters, not a schema of their own
        schemas.pop(spec.query.__name__, None)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Return Home Interview provider API", "version": API_VERSION, "description": DESCRIPTION},
        "servers": [{"url": API_PREFIX}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "webhooks": _webhooks(),
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}, "schemas": schemas},
    }


def _operation(rule: Rule, view: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    spec: Operation = view.operation
    summary, _, description = inspect.cleandoc(view.__doc__).partition("\n\n")
    query = schemas[spec.query.__name__]
    parameters = [{"name": name, "in": "path", "required": True, "schema": ID} for name in sorted(rule.arguments)]
    for name, schema in query.get("properties", {}).items():
        about = {"description": schema["description"]} if "description" in schema else {}
        schema = {key: value for key, value in schema.items() if key != "description"}
        parameters.append(
            {"name": name, "in": "query", "required": name in query.get("required", ()), **about, "schema": schema}
        )
    operation: dict[str, Any] = {
        "operationId": re.sub(r"_(\w)", lambda match: match[1].upper(), view.__name__),
        "summary": summary,
        **({"description": description} if description else {}),
        "parameters": parameters,
    }
    if spec.body:
        operation["requestBody"] = {"required": True, "content": _json(spec.body)}
    answer = {"description": ANSWERS[spec.status], **({"content": _json(spec.answer)} if spec.answer else {})}
    if "csv" in query.get("properties", {}).get("format", {}).get("enum", ()):
        answer["content"]["text/csv"] = {"schema": {"type": "string"}}  # with format=csv
    codes = sorted({401, 422, *spec.errors, *([404] if rule.arguments else [])})
    operation["responses"] = {str(spec.status): answer, **{str(code): _error(code) for code in codes}}
    return operation


def _json(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": SCHEMAS.format(model=model.__name__)}}}


def _error(code: int) -> dict[str, Any]:
    response = {"description": ERRORS[code], "content": _json(Error)}
    if code == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return response


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
