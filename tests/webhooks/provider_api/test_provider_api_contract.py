"""The provider API against its own OpenAPI document, with schemathesis: every operation, generated inputs,
responses checked for status codes, content types, headers and bodies the document allows.

Driven through schemathesis' Python API (one hypothesis run per operation) rather than its pytest plugin,
whose fixture support does not work with pytest 9.
"""

from __future__ import annotations

import pytest
import schemathesis
from auxil.providers import demo_login, self_referral
from conftest import Conversation
from hypothesis import HealthCheck, assume, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from webhooks.app import create_app
from webhooks.provider_api.openapi import openapi_document

# The HTTP contract; the API's queries run on PostgreSQL in test_provider_api.py.
pytestmark = pytest.mark.one_database

# A request can fit the document and still name a worker or booking the provider does not have (ids are
# generated at random): the API answers 422 naming the field, as the document says, and that is right.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2XX", "3XX", "401", "403", "404", "409", "422", "429", "5XX"]
            }
        }
    }
)

OPERATIONS = [(method.upper(), path) for path, item in openapi_document()["paths"].items() for method in item]


@pytest.fixture
def token(runtime) -> str:
    return demo_login(runtime, staff=False).token


@pytest.fixture
def api(runtime, dispatcher, token):
    """The app with one provider, a young person's referral and an alert, so requests find real data too."""
    Conversation(dispatcher, "sms", "+447700900101").says(*self_referral("cardiff"))
    Conversation(dispatcher, "sms", "+447700900102").says("hi", "i want to end my life")
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", create_app(runtime, {"TESTING": True}), config=CONFIG)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_the_api_does_what_its_openapi_document_says(api, token, method, path, mode):
    operation = api[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=12,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    def conforms(case) -> None:
        # A query parameter given an empty list of values is not sent at all: the request the API gets is
        # then valid, and the check that it was refused would fail on a request it never saw.
        assume(all(value != [] for value in (case.query or {}).values()))
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"})

    conforms()
