"""Setting up booking through the provider API: a provider adds a worker, gives her weekly hours, closes a
day, changes the interview length, and reads the times that gives, in UTC and local time. Mistakes are 422
(a value that is wrong) or 409 (values that do not fit together), naming the field; another provider's
things are 404.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from auxil.providers import demo_login, other_provider

from webhooks.app import create_app

TUESDAY = 1


@pytest.fixture
def client(runtime):
    return create_app(runtime, {"TESTING": True}).test_client()


@pytest.fixture
def demo(runtime):
    return demo_login(runtime, staff=False)


def next_tuesday(runtime) -> date:
    today = datetime.now(runtime.timezone).date()
    return today + timedelta(days=(TUESDAY - today.weekday()) % 7 or 7)


def add_gwen(client, demo, **fields) -> dict:
    body = {"name": "Gwen", "languages": ["cy", "en"], "gender": "woman", "areas": ["cardiff"], **fields}
    response = client.post("/api/v1/workers", json=body, headers=demo.auth)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def slots_of(client, demo, worker_id: int, **query) -> list[dict]:
    response = client.get("/api/v1/slots", query_string={"worker_id": worker_id, **query}, headers=demo.auth)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["slots"]


TUESDAYS_4_TO_7 = {"weekly": [{"weekday": TUESDAY, "starts": "16:00", "ends": "19:00"}]}

ENDPOINTS = [
    ("post", "/api/v1/workers", {"name": "Gwen"}),
    ("patch", "/api/v1/workers/1", {"name": "Gwen"}),
    ("get", "/api/v1/workers/1/availability", None),
    ("put", "/api/v1/workers/1/availability", TUESDAYS_4_TO_7),
    ("get", "/api/v1/places", None),
    ("post", "/api/v1/places", {"kind": "cafe", "name": "Cafe"}),
    ("patch", "/api/v1/places/1", {"active": False}),
    ("get", "/api/v1/exceptions", None),
    ("post", "/api/v1/exceptions", {"day": "2026-12-25"}),
    ("delete", "/api/v1/exceptions/1", None),
    ("get", "/api/v1/settings/booking", None),
    ("patch", "/api/v1/settings/booking", {"slot_minutes": 45}),
    ("get", "/api/v1/slots", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_every_setup_endpoint_needs_the_providers_token(client, method, path, body):
    response = getattr(client, method)(path, json=body, headers={"Authorization": "Bearer rhi_not-a-real-token"})
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"


# --- workers -------------------------------------------------------------------------------------------


def test_a_provider_adds_a_welsh_speaking_woman_and_she_is_offered_for_assigning(client, demo):
    gwen = add_gwen(client, demo)
    assert gwen == {
        "id": gwen["id"],
        "name": "Gwen",
        "languages": ["cy", "en"],
        "gender": "woman",
        "areas": ["cardiff"],
        "active": True,
    }
    listed = client.get("/api/v1/workers", headers=demo.auth).get_json()["workers"]
    assert {"id": gwen["id"], "name": "Gwen", "languages": ["cy", "en"], "gender": "woman"} in listed


def test_a_provider_renames_a_worker_and_only_what_it_sends_changes(client, demo):
    gwen = add_gwen(client, demo)
    response = client.patch(f"/api/v1/workers/{gwen['id']}", json={"name": "  Gwen   Jones "}, headers=demo.auth)
    assert response.status_code == 200
    assert response.get_json() == {**gwen, "name": "Gwen Jones"}


def test_control_characters_in_a_name_become_spaces_rather_than_an_error(client, demo):
    gwen = add_gwen(client, demo, name="Gwen\x00\tJones\n")
    assert gwen["name"] == "Gwen Jones"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 422, "name"),
        ({"name": ""}, 422, "name"),
        ({"name": "Gwen", "languages": ["fr"]}, 422, "languages"),
        ({"name": "Gwen", "languages": []}, 422, "languages"),
        ({"name": "Gwen", "gender": "female"}, 422, "gender"),
        ({"name": "Gwen", "phone": "07700900123"}, 422, "phone"),
        ({"name": "Gwen", "areas": ["wrexham"]}, 409, "areas"),
    ],
)
def test_a_worker_with_a_mistake_is_refused_naming_the_field(client, demo, body, status, field):
    response = client.post("/api/v1/workers", json=body, headers=demo.auth)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["field"] == field


# --- weekly hours and the slots they give ----------------------------------------------------------------


def test_weekly_hours_put_in_give_tuesday_slots_at_16_00_and_17_15_local(client, demo, runtime):
    gwen = add_gwen(client, demo)
    response = client.put(f"/api/v1/workers/{gwen['id']}/availability", json=TUESDAYS_4_TO_7, headers=demo.auth)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [(line["weekday"], line["starts"], line["ends"]) for line in body["weekly"]] == [(1, "16:00", "19:00")]
    assert body["slot_changes"]["added"] >= 4, "three weeks ahead: at least three Tuesdays, two times each"
    tuesday = next_tuesday(runtime).isoformat()
    slots = slots_of(client, demo, gwen["id"], **{"from": tuesday, "to": tuesday})
    assert [slot["starts_local"][11:16] for slot in slots] == ["16:00", "17:15"]
    assert all(slot["status"] == "open" for slot in slots)
    for slot in slots:  # the UTC time is the same instant as the local one
        local = datetime.fromisoformat(slot["starts_local"])
        assert datetime.fromisoformat(slot["starts_at"].replace("Z", "+00:00")) == local
    assert (
        client.get(f"/api/v1/workers/{gwen['id']}/availability", headers=demo.auth).get_json()["weekly"]
        == (body["weekly"])
    )


def test_putting_an_empty_week_takes_her_open_slots_away(client, demo):
    gwen = add_gwen(client, demo)
    client.put(f"/api/v1/workers/{gwen['id']}/availability", json=TUESDAYS_4_TO_7, headers=demo.auth)
    response = client.put(f"/api/v1/workers/{gwen['id']}/availability", json={"weekly": []}, headers=demo.auth)
    assert response.get_json()["weekly"] == [] and response.get_json()["slot_changes"]["removed"] >= 4
    assert slots_of(client, demo, gwen["id"]) == []


@pytest.mark.parametrize(
    ("weekly", "status", "field", "words"),
    [
        ([{"weekday": 1, "starts": "19:00", "ends": "16:00"}], 409, "weekly[0].ends", "Ends must be after starts"),
        (
            [{"weekday": 1, "starts": "16:00", "ends": "19:00"}, {"weekday": 1, "starts": "18:00", "ends": "20:00"}],
            409,
            "weekly.starts",
            "overlaps",
        ),
        ([{"weekday": 1, "starts": "4pm", "ends": "19:00"}], 422, "weekly", "does not match"),
        ([{"weekday": 7, "starts": "16:00", "ends": "19:00"}], 422, "weekly", "7"),
    ],
)
def test_hours_that_do_not_make_sense_are_refused_and_nothing_changes(client, demo, weekly, status, field, words):
    gwen = add_gwen(client, demo)
    response = client.put(f"/api/v1/workers/{gwen['id']}/availability", json={"weekly": weekly}, headers=demo.auth)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["field"] == field and words in response.get_json()["detail"]
    assert client.get(f"/api/v1/workers/{gwen['id']}/availability", headers=demo.auth).get_json()["weekly"] == []


def test_deactivating_a_worker_takes_her_open_slots_away(client, demo):
    gwen = add_gwen(client, demo)
    client.put(f"/api/v1/workers/{gwen['id']}/availability", json=TUESDAYS_4_TO_7, headers=demo.auth)
    response = client.patch(f"/api/v1/workers/{gwen['id']}", json={"active": False}, headers=demo.auth)
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert slots_of(client, demo, gwen["id"]) == []


# --- places, exceptions and settings --------------------------------------------------------------------


def test_a_place_is_added_changed_and_given_to_weekly_hours(client, demo):
    response = client.post(
        "/api/v1/places",
        json={"kind": "youth_centre", "name": "Canolfan / Youth Centre", "area": "newport", "neutral": True},
        headers=demo.auth,
    )
    assert response.status_code == 201, response.get_json()
    place = response.get_json()
    assert place["kind"] == "youth_centre" and place["active"] and place["neutral"] and not place["accessible"]
    changed = client.patch(f"/api/v1/places/{place['id']}", json={"accessible": True}, headers=demo.auth)
    assert changed.get_json() == {**place, "accessible": True}
    assert place["id"] in [p["id"] for p in client.get("/api/v1/places", headers=demo.auth).get_json()["places"]]

    gwen = add_gwen(client, demo)
    weekly = {"weekly": [{"weekday": TUESDAY, "starts": "16:00", "ends": "17:00", "place_id": place["id"]}]}
    client.put(f"/api/v1/workers/{gwen['id']}/availability", json=weekly, headers=demo.auth)
    assert {slot["place_id"] for slot in slots_of(client, demo, gwen["id"])} == {place["id"]}


def test_a_closed_day_removes_that_days_slots_and_removing_it_brings_them_back(client, demo, runtime):
    gwen = add_gwen(client, demo)
    client.put(f"/api/v1/workers/{gwen['id']}/availability", json=TUESDAYS_4_TO_7, headers=demo.auth)
    tuesday = next_tuesday(runtime).isoformat()
    day = {"from": tuesday, "to": tuesday}
    assert len(slots_of(client, demo, gwen["id"], **day)) == 2

    response = client.post("/api/v1/exceptions", json={"day": tuesday, "note": "Bank holiday"}, headers=demo.auth)
    assert response.status_code == 201, response.get_json()
    closed = response.get_json()
    assert closed == {
        "id": closed["id"],
        "day": tuesday,
        "worker_id": None,
        "starts": None,
        "ends": None,
        "available": False,
        "note": "Bank holiday",
    }
    assert slots_of(client, demo, gwen["id"], **day) == []
    listed = client.get("/api/v1/exceptions", query_string=day, headers=demo.auth).get_json()["exceptions"]
    assert listed == [closed]

    assert client.delete(f"/api/v1/exceptions/{closed['id']}", headers=demo.auth).status_code == 204
    assert len(slots_of(client, demo, gwen["id"], **day)) == 2


def test_a_workers_afternoon_off_and_extra_hours(client, demo, runtime):
    gwen = add_gwen(client, demo)
    client.put(f"/api/v1/workers/{gwen['id']}/availability", json=TUESDAYS_4_TO_7, headers=demo.auth)
    tuesday = next_tuesday(runtime)
    off = {"day": tuesday.isoformat(), "worker_id": gwen["id"], "starts": "17:00", "ends": "19:00"}
    assert client.post("/api/v1/exceptions", json=off, headers=demo.auth).status_code == 201
    saturday = (tuesday + timedelta(days=4)).isoformat()
    extra = {"day": saturday, "worker_id": gwen["id"], "starts": "10:00", "ends": "11:00", "available": True}
    assert client.post("/api/v1/exceptions", json=extra, headers=demo.auth).status_code == 201
    week = slots_of(client, demo, gwen["id"], **{"from": tuesday.isoformat(), "to": saturday})
    assert [slot["starts_local"][:16] for slot in week] == [f"{tuesday}T16:00", f"{saturday}T10:00"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"day": "25/12/2026"}, 422, "day"),
        ({"day": "2026-02-30"}, 422, "day"),
        ({"day": "2026-12-25", "starts": "10:00"}, 409, "ends"),
        ({"day": "2026-12-25", "starts": "12:00", "ends": "10:00"}, 409, "ends"),
        ({"day": "2026-12-25", "available": True}, 409, "starts"),
        ({"day": "2026-12-25", "worker_id": 999999}, 404, None),
    ],
)
def test_an_exception_with_a_mistake_is_refused(client, demo, body, status, field):
    response = client.post("/api/v1/exceptions", json=body, headers=demo.auth)
    assert response.status_code == status, response.get_json()
    assert response.get_json().get("field") == field


def test_a_longer_interview_length_remakes_the_open_slots(client, demo, runtime):
    settings = client.get("/api/v1/settings/booking", headers=demo.auth).get_json()
    assert settings == {
        "slot_minutes": 60,
        "buffer_minutes": 15,
        "minimum_notice_minutes": 120,
        "booking_horizon_days": 21,
        "review_within_minutes": 60,
        "auto_confirm": False,
        "opens_at": "09:00",
        "closes_at": "20:00",
    }
    gwen = add_gwen(client, demo)
    client.put(f"/api/v1/workers/{gwen['id']}/availability", json=TUESDAYS_4_TO_7, headers=demo.auth)
    response = client.patch("/api/v1/settings/booking", json={"slot_minutes": 90}, headers=demo.auth)
    assert response.status_code == 200 and response.get_json()["slot_minutes"] == 90
    tuesday = next_tuesday(runtime).isoformat()
    slots = slots_of(client, demo, gwen["id"], **{"from": tuesday, "to": tuesday})
    assert [(slot["starts_local"][11:16], slot["ends_local"][11:16]) for slot in slots] == [("16:00", "17:30")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slot_minutes": 5}, "slot_minutes"),
        ({"booking_horizon_days": 365}, "booking_horizon_days"),
        ({"review_within_minutes": 0}, "review_within_minutes"),
        ({"x": 1}, "x"),
    ],
)
def test_booking_settings_out_of_range_are_refused(client, demo, body, field):
    response = client.patch("/api/v1/settings/booking", json=body, headers=demo.auth)
    assert response.status_code == 422 and response.get_json()["field"] == field


def test_a_whole_number_written_with_a_decimal_point_is_taken_but_one_in_quotes_is_not(client, demo):
    response = client.patch("/api/v1/settings/booking", json={"buffer_minutes": 30.0}, headers=demo.auth)
    assert response.status_code == 200 and response.get_json()["buffer_minutes"] == 30
    response = client.patch("/api/v1/settings/booking", json={"buffer_minutes": "30"}, headers=demo.auth)
    assert response.status_code == 422 and response.get_json()["field"] == "buffer_minutes"


def test_slots_query_mistakes_are_refused(client, demo):
    for query, field in (({"from": "tomorrow"}, "from"), ({"status": "free"}, "status"), ({"colour": "red"}, "colour")):
        response = client.get("/api/v1/slots", query_string=query, headers=demo.auth)
        assert response.status_code == 422 and response.get_json()["field"] == field


def test_a_listing_from_the_end_of_the_calendar_is_refused_not_a_server_error(client, demo):
    for path in ("/api/v1/slots", "/api/v1/exceptions"):
        response = client.get(path, query_string={"from": "9999-12-31"}, headers=demo.auth)
        assert response.status_code == 422 and response.get_json()["field"] == "from"


# --- one provider never touches another's -------------------------------------------------------------------


def test_another_providers_workers_places_and_exceptions_are_not_found(client, demo, runtime):
    other = other_provider(runtime, staff=False)
    theirs = client.post(
        "/api/v1/exceptions", json={"day": next_tuesday(runtime).isoformat(), "note": "Training"}, headers=other.auth
    ).get_json()
    their_place = client.post("/api/v1/places", json={"kind": "cafe", "name": "Caffi"}, headers=other.auth).get_json()
    calls = [
        ("patch", f"/api/v1/workers/{other.worker_id}", {"name": "Mine now"}),
        ("get", f"/api/v1/workers/{other.worker_id}/availability", None),
        ("put", f"/api/v1/workers/{other.worker_id}/availability", TUESDAYS_4_TO_7),
        ("patch", f"/api/v1/places/{their_place['id']}", {"active": False}),
        ("delete", f"/api/v1/exceptions/{theirs['id']}", None),
        ("post", "/api/v1/exceptions", {"day": "2026-12-25", "worker_id": other.worker_id}),
    ]
    for method, path, body in calls:
        response = getattr(client, method)(path, json=body, headers=demo.auth)
        assert response.status_code == 404, (method, path, response.get_json())
        assert response.get_json()["error"] == "not_found"
    gwen = add_gwen(client, demo)
    weekly = {"weekly": [{"weekday": 1, "starts": "16:00", "ends": "17:00", "place_id": their_place["id"]}]}
    assert client.put(f"/api/v1/workers/{gwen['id']}/availability", json=weekly, headers=demo.auth).status_code == 404
    assert client.get("/api/v1/exceptions", headers=demo.auth).get_json()["exceptions"] == []
    assert their_place["id"] not in [
        p["id"] for p in client.get("/api/v1/places", headers=demo.auth).get_json()["places"]
    ]
    # ...and the right provider can
    response = client.patch(f"/api/v1/workers/{other.worker_id}", json={"name": "Dai Evans"}, headers=other.auth)
    assert response.status_code == 200 and response.get_json()["name"] == "Dai Evans"
