"""The web app's health check and the headers every answer carries."""

import dataclasses

import pytest
import sqlalchemy as sa
from auxil.providers import PASSWORD, demo_login
from auxil.staff import log_in

from bot.outbox.writing import enqueue_provider_event
from models import OutboxEvent
from webhooks.app import create_app


def test_healthz_says_ok_when_the_database_answers(runtime):
    client = create_app(runtime, {"TESTING": True}).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.fixture
def demo(runtime):
    return demo_login(runtime)


@pytest.fixture
def dead_lettered(runtime, demo) -> None:
    """One event the provider's system never took, given up on."""
    with runtime.session() as session, session.begin():
        enqueue_provider_event(session, "episode.reported", {"referral_id": 1}, provider_id=demo.id,
                               ordering_key="referral:1")  # fmt: skip
        session.execute(sa.update(OutboxEvent).values(dead_at=runtime.clock()))


def test_healthz_says_events_were_given_up_on_to_anyone_but_not_how_many(runtime, dead_lettered):
    client = create_app(runtime, {"TESTING": True}).test_client()
    for query in ("", "?detail=1"):
        assert client.get(f"/healthz{query}").get_json() == {"status": "ok", "dead_lettered": True}


def test_healthz_detail_is_for_a_providers_api_token(runtime, demo, dead_lettered):
    client = create_app(runtime, {"TESTING": True}).test_client()
    health = client.get("/healthz?detail=1", headers=demo.auth).get_json()
    assert health["detail"]["outbox"]["dead_lettered"] == 1
    assert client.get("/healthz?detail=1", headers={"Authorization": "Bearer not-a-token"}).get_json() == {
        "status": "ok",
        "dead_lettered": True,
    }


def test_healthz_detail_is_for_a_logged_in_staff_member(runtime, demo, dead_lettered):
    client = create_app(runtime, {"TESTING": True}).test_client()
    assert "detail" not in client.get("/healthz?detail=1").get_json()
    log_in(client, demo.email, PASSWORD)
    assert client.get("/healthz?detail=1").get_json()["detail"]["outbox"]["waiting"] == 0


def test_an_https_deployment_tells_browsers_to_use_https_only(runtime):
    runtime.settings = dataclasses.replace(runtime.settings, public_base_url="https://rhi.example.org")
    client = create_app(runtime, {"TESTING": True}).test_client()
    for path in ("/healthz", "/login", "/api/v1/places"):
        assert client.get(path).headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_plain_http_demo_sends_no_hsts(runtime):
    runtime.settings = dataclasses.replace(runtime.settings, public_base_url="http://127.0.0.1:8000")
    client = create_app(runtime, {"TESTING": True}).test_client()
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        pytest.param("get", "/api/v1/places", "token", id="an API answer"),
        pytest.param("get", "/api/v1/places", None, id="an API refusal"),
        pytest.param("post", "/api/v1/places", "token", id="an API validation error"),
        pytest.param("get", "/api/v1/no-such-thing", "token", id="an API 404"),
        pytest.param("get", "/api/v1/openapi.json", None, id="the OpenAPI document"),
        pytest.param("get", "/healthz", None, id="the health check"),
    ],
)
def test_every_answer_says_not_to_sniff_its_type(runtime, demo, method, path, headers):
    client = create_app(runtime, {"TESTING": True}).test_client()
    response = getattr(client, method)(path, headers=demo.auth if headers else {})
    assert response.headers["X-Content-Type-Options"] == "nosniff"
