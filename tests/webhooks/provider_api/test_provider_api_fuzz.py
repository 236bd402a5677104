"""No body gets a server error from the provider API's write endpoints, and a refused one changes nothing.

Arbitrary JSON (and some that is not JSON) to every operation that writes, with the provider's token, on
the real app and database: the answer is 2xx or a 4xx in JSON, never a 5xx, and after any 4xx every table
reads exactly as before.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from auxil.providers import demo_login, self_referral
from auxil.records import everything_stored
from conftest import Conversation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webhooks.app import create_app

EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Each write operation with a body that it takes, for the fuzzing to bend out of shape.
WRITES: list[tuple[str, str, dict[str, Any]]] = [
    ("post", "/api/v1/workers", {"name": "Gwen", "languages": ["cy"], "gender": "woman", "areas": ["cardiff"]}),
    ("patch", "/api/v1/workers/{worker}", {"name": "Gwen", "active": True}),
    ("put", "/api/v1/workers/{worker}/availability", {"weekly": [{"weekday": 1, "starts": "16:00", "ends": "19:00"}]}),
    ("post", "/api/v1/places", {"kind": "cafe", "name": "Cafe", "area": "cardiff", "neutral": True}),
    ("patch", "/api/v1/places/{place}", {"name": "Cafe", "active": True}),
    ("post", "/api/v1/exceptions", {"day": "2030-12-25", "starts": "10:00", "ends": "12:00", "note": "Dentist"}),
    ("patch", "/api/v1/settings/booking", {"slot_minutes": 45, "buffer_minutes": 10, "auto_confirm": False}),
    ("post", "/api/v1/referrals/{referral}/assign", {"worker_id": 1}),
    ("post", "/api/v1/referrals/{referral}/propose", {"starts_at": "2030-01-01T10:00:00Z", "place_kind": "cafe"}),
    ("post", "/api/v1/referrals/{referral}/messages", {"text": "Hello"}),
    ("post", "/api/v1/referrals/{referral}/outcome", {"outcome": "interview_held", "follow_up_needed": "none"}),
    (
        "post",
        "/api/v1/episodes",
        {"reference": "R-1", "phone": "07700 900321", "returned_at": "2026-01-02", "area": "cardiff"},
    ),
]

any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | any_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(any_text, children, max_size=3),
    max_leaves=8,
)


@st.composite
def bent(draw: st.DrawFn, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with fields dropped, replaced by anything JSON holds, or added."""
    result: dict[str, Any] = {}
    for key, value in body.items():
        choice = draw(st.integers(0, 5))
        if choice == 0:
            continue
        result[key] = draw(json_values) if choice == 1 else value
    return {**result, **draw(st.dictionaries(any_text, json_values, max_size=2))}


bodies = st.sampled_from(WRITES).flatmap(
    lambda write: st.tuples(
        st.just(write),
        st.one_of(
            bent(write[2]).map(json.dumps),
            json_values.map(json.dumps),
            st.binary(max_size=40).map(lambda raw: raw.decode("latin-1")),
        ),
    )
)


@pytest.fixture
def api(runtime, dispatcher):
    """The app, the demo provider's token, and a referral, a worker and a place of its own to write to."""
    Conversation(dispatcher, "sms", "+447700900101").says(*self_referral("cardiff"))
    demo = demo_login(runtime, staff=False)
    client = create_app(runtime, {"TESTING": True}).test_client()
    ids = {
        "worker": demo.worker_id,
        "place": client.get("/api/v1/places", headers=demo.auth).get_json()["places"][0]["id"],
        "referral": client.get("/api/v1/referrals", headers=demo.auth).get_json()["referrals"][0]["id"],
    }
    return client, demo.auth, ids


@EXAMPLES
@given(request=bodies)
def test_no_body_gets_a_server_error_and_a_refused_one_changes_nothing(runtime, api, request):
    client, auth, ids = api
    (method, path, _), body = request
    before = everything_stored(runtime)

    response = getattr(client, method)(path.format(**ids), data=body, content_type="application/json", headers=auth)

    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    assert response.is_json or response.status_code == 204
    if response.status_code >= 400:
        assert everything_stored(runtime) == before


def test_writes_at_once_to_every_setup_endpoint_all_answer_and_none_is_a_server_error(runtime, api):
    """Places, days off, hours and settings changed together, as several of a provider's systems might."""
    client, auth, ids = api
    app = client.application
    writes = [write for write in WRITES if "referral" not in write[1]] * 3
    answers: list[int] = []
    start = threading.Barrier(len(writes))

    def send(method: str, path: str, body: dict[str, Any]) -> None:
        own = app.test_client()  # a client per thread, as each request is its own connection
        start.wait()
        answers.append(getattr(own, method)(path.format(**ids), json=body, headers=auth).status_code)

    threads = [threading.Thread(target=send, args=write) for write in writes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == len(writes)
    assert all(200 <= status < 300 or status == 409 for status in answers), sorted(answers)
