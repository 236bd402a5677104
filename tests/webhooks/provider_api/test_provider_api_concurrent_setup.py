"""Several of a provider's systems (or one in a hurry) setting up at once: every write is taken, in turn.

Twenty requests at once over real HTTP, each a transaction that changes the provider's places or days and
remakes its slots. Without the provider's lock they deadlocked on PostgreSQL and found SQLite's database
locked, answering an HTML 500 from a JSON API.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa
from auxil.local_server import serving
from auxil.providers import demo_login

from models import AvailabilityException, Place
from webhooks.app import create_app

AT_ONCE = 20


@pytest.fixture
def server(runtime) -> Iterator[str]:
    """The web app over real HTTP on 127.0.0.1 (werkzeug, a thread per request); its base URL."""
    with serving(create_app(runtime)) as base_url:
        yield base_url


def all_at_once(url: str, bodies: list[dict], headers: dict[str, str]) -> list[requests.Response]:
    answers: list[requests.Response] = []
    start = threading.Barrier(len(bodies))

    def send(body: dict) -> None:
        start.wait()
        answers.append(requests.post(url, json=body, headers=headers, timeout=60))

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def rows(runtime, model, provider_id: int) -> int:
    with runtime.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model).where(model.provider_id == provider_id))


def test_twenty_places_added_at_once_are_all_added(runtime, server):
    demo = demo_login(runtime, staff=False)
    before = rows(runtime, Place, demo.id)
    bodies = [{"kind": "cafe", "name": f"Cafe {n}", "area": "cardiff"} for n in range(AT_ONCE)]

    answers = all_at_once(f"{server}/api/v1/places", bodies, demo.auth)

    assert sorted(answer.status_code for answer in answers) == [201] * AT_ONCE, [a.text[:200] for a in answers]
    assert rows(runtime, Place, demo.id) == before + AT_ONCE


def test_twenty_days_closed_at_once_are_all_closed(runtime, server):
    demo = demo_login(runtime, staff=False)
    today = runtime.clock().astimezone(runtime.timezone).date()
    bodies = [{"day": (today + timedelta(days=n)).isoformat(), "note": "Training"} for n in range(1, AT_ONCE + 1)]

    answers = all_at_once(f"{server}/api/v1/exceptions", bodies, demo.auth)

    assert sorted(answer.status_code for answer in answers) == [201] * AT_ONCE, [a.text[:200] for a in answers]
    assert rows(runtime, AvailabilityException, demo.id) == AT_ONCE


def test_a_write_that_cannot_have_the_database_in_time_is_a_json_503_to_try_again(runtime):
    """Another program holds SQLite's write lock past the wait: the API says so in JSON, never an HTML 500."""
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("a lock held outside the app is SQLite's case; PostgreSQL's lock waits end the same way")
    demo = demo_login(runtime, staff=False)
    client = create_app(runtime, {"TESTING": True}).test_client()
    before = rows(runtime, Place, demo.id)
    other = sqlite3.connect(runtime.engine.url.database, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # held for longer than SQLite's busy wait (5 s)
        response = client.post("/api/v1/places", json={"kind": "cafe", "name": "Cafe"}, headers=demo.auth)
    finally:
        other.rollback()
        other.close()
    assert response.status_code == 503
    assert response.is_json and response.get_json()["error"] == "busy"
    assert int(response.headers["Retry-After"]) > 0
    assert rows(runtime, Place, demo.id) == before
