"""The provider's setup pages under /provider/: a provider admin adds a worker and her weekly hours and sees
the times offered; closes a bank holiday; changes booking settings. A mistake comes back with what was typed
and a kind message. A duty worker may look but not change. Another provider's worker is 404.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from auxil import staff
from auxil.providers import PASSWORD, demo_login, other_provider, self_referral
from auxil.staff import csrf
from conftest import Conversation

from bot.demo import reset_demo_logins
from bot.providers.accounts import set_password
from models import Place, Provider, Slot, StaffRole, StaffUser, Worker
from webhooks.app import create_app

TUESDAY = 1
ADMIN_EMAIL = "admin@demo.test"
USUAL_SETTINGS = {
    "slot_minutes": "60",
    "buffer_minutes": "15",
    "minimum_notice_minutes": "120",
    "booking_horizon_days": "21",
}
EVENING = {"starts": "18:00", "ends": "20:00"}
USUAL_SETTINGS = {
    "slot_minutes": "60",
    "buffer_minutes": "15",
    "minimum_notice_minutes": "120",
    "booking_horizon_days": "21",
}
EVENING = {"starts": "18:00", "ends": "20:00"}
SETUP_PAGES = ["/provider/workers", "/provider/places", "/provider/exceptions", "/provider/settings", "/provider/slots"]


def log_in(client, email: str) -> None:
    assert staff.log_in(client, email, PASSWORD).status_code == 302


def submit(client, url: str, **fields):
    """Post a form as a browser would: with the CSRF token the page carries."""
    token = csrf(client.get("/provider/workers").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **fields})


def next_tuesday(runtime):
    today = datetime.now(runtime.timezone).date()
    return today + timedelta(days=(TUESDAY - today.weekday()) % 7 or 7)


@pytest.fixture
def demo(runtime):
    """The demo provider with a duty worker (from auxil) and a provider admin."""
    login = demo_login(runtime)
    with runtime.session() as session, session.begin():
        admin = StaffUser(
            provider_id=login.id,
            email=ADMIN_EMAIL,
            display_name="Admin",
            role=StaffRole.PROVIDER_ADMIN,
            password_hash="",
        )
        set_password(admin, PASSWORD)
        session.add(admin)
    return login


@pytest.fixture
def admin(runtime, demo):
    client = create_app(runtime, {"TESTING": True}).test_client()
    log_in(client, ADMIN_EMAIL)
    return client


@pytest.fixture
def duty(runtime, demo):
    client = create_app(runtime, {"TESTING": True}).test_client()
    log_in(client, demo.email)
    return client


def gwen_id(runtime) -> int:
    with runtime.session() as session:
        return session.scalars(sa.select(Worker.id).where(Worker.display_name == "Gwen")).one()


def slot_times(runtime, worker_id: int, day) -> list[str]:
    with runtime.session() as session:
        slots = session.scalars(sa.select(Slot).where(Slot.worker_id == worker_id).order_by(Slot.starts_at))
        local = [slot.starts_at.astimezone(runtime.timezone) for slot in slots]
    return [moment.strftime("%H:%M") for moment in local if moment.date() == day]


def add_gwen_with_tuesday_hours(admin) -> None:
    response = submit(admin, "/provider/workers", name="Gwen", languages=["cy", "en"], gender="woman",
                      areas=["cardiff"], active="on")  # fmt: skip
    assert response.status_code == 303
    worker = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Gwen added" in worker
    runtime = admin.application.extensions["rhi.runtime"]
    response = submit(admin, f"/provider/workers/{gwen_id(runtime)}/hours", weekday="1", starts="16:00", ends="19:00")
    assert response.status_code == 303


# --- looking and changing -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [*SETUP_PAGES, "/provider/workers/1"])
def test_every_setup_page_needs_a_login(runtime, url):
    client = create_app(runtime, {"TESTING": True}).test_client()
    response = client.get(url)
    assert response.status_code == 302 and response.headers["Location"] == f"/login?next={url}"


def test_an_admin_adds_a_worker_and_her_hours_and_the_times_appear(admin, runtime):
    add_gwen_with_tuesday_hours(admin)
    tuesday = next_tuesday(runtime)
    assert slot_times(runtime, gwen_id(runtime), tuesday) == ["16:00", "17:15"]

    page = admin.get(f"/provider/workers/{gwen_id(runtime)}").get_data(as_text=True)
    assert "Tuesdays 16:00 to 19:00" in page and "new times offered" in page
    times = " ".join(admin.get("/provider/slots").get_data(as_text=True).split())
    assert "16:00–17:00 · Gwen" in times and "17:15–18:15 · Gwen" in times
    assert "Gwen" in admin.get("/provider/workers").get_data(as_text=True)


def test_removing_a_line_of_hours_removes_its_times(admin, runtime):
    add_gwen_with_tuesday_hours(admin)
    page = admin.get(f"/provider/workers/{gwen_id(runtime)}").get_data(as_text=True)
    remove = re.search(r'action="(/provider/workers/\d+/hours/\d+/remove)"', page).group(1)
    assert submit(admin, remove).status_code == 303
    assert slot_times(runtime, gwen_id(runtime), next_tuesday(runtime)) == []


def test_deactivating_a_worker_takes_her_open_times_away(admin, runtime):
    add_gwen_with_tuesday_hours(admin)
    response = submit(admin, f"/provider/workers/{gwen_id(runtime)}", name="Gwen", languages="cy", areas="cardiff")
    assert response.status_code == 303
    assert "not active" in admin.get(response.headers["Location"]).get_data(as_text=True)
    assert slot_times(runtime, gwen_id(runtime), next_tuesday(runtime)) == []


def test_a_bank_holiday_closes_the_day_for_every_worker(admin, runtime):
    add_gwen_with_tuesday_hours(admin)
    tuesday = next_tuesday(runtime)
    response = submit(admin, "/provider/exceptions", day=tuesday.isoformat(), worker_id="", available="closed",
                      note="Bank holiday")  # fmt: skip
    assert response.status_code == 303
    listed = admin.get("/provider/exceptions").get_data(as_text=True)
    assert "whole service" in listed and "Bank holiday" in listed and "all day" in listed
    with runtime.session() as session:
        starts = session.scalars(sa.select(Slot.starts_at)).all()
    assert all(moment.astimezone(runtime.timezone).date() != tuesday for moment in starts)


def test_an_admin_changes_the_interview_length_and_the_times_follow(admin, runtime):
    add_gwen_with_tuesday_hours(admin)
    response = submit(admin, "/provider/settings", slot_minutes="90", buffer_minutes="15",
                      minimum_notice_minutes="120", booking_horizon_days="21", auto_confirm="on")  # fmt: skip
    assert response.status_code == 303
    assert "Booking settings saved" in admin.get(response.headers["Location"]).get_data(as_text=True)
    with runtime.session() as session:
        provider = session.scalars(sa.select(Provider).where(Provider.slug == "demo")).one()
        assert (provider.slot_minutes, provider.auto_confirm) == (90, True)
    assert slot_times(runtime, gwen_id(runtime), next_tuesday(runtime)) == ["16:00"]


def test_an_admin_adds_a_place_and_changes_it(admin, runtime):
    response = submit(admin, "/provider/places", place_id="new", kind="cafe", name="Caffi Cymraeg", area="newport",
                      neutral="on", active="on")  # fmt: skip
    assert response.status_code == 303
    page = admin.get("/provider/places").get_data(as_text=True)
    assert "Caffi Cymraeg" in page
    with runtime.session() as session:
        place_id = session.scalars(sa.select(Place.id).where(Place.name == "Caffi Cymraeg")).one()
    assert f'action="/provider/places/{place_id}"' in page
    response = submit(admin, f"/provider/places/{place_id}", kind="cafe", name="Caffi Cymraeg", area="")
    assert response.status_code == 303
    assert "Caffi Cymraeg saved (not in use)" in admin.get("/provider/places").get_data(as_text=True)


# --- mistakes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts", "ends", "message"),
    [
        ("19:00", "16:00", "To: Ends must be after starts"),
        ("4pm", "19:00", "From: give a time on the 24-hour clock, like 16:00"),
        ("", "19:00", "From: give a time on the 24-hour clock"),
    ],
)
def test_hours_that_do_not_make_sense_come_back_with_what_was_typed_and_a_message(
    admin, runtime, starts, ends, message
):
    add_gwen_with_tuesday_hours(admin)
    url = f"/provider/workers/{gwen_id(runtime)}/hours"
    response = submit(admin, url, weekday="3", starts=starts, ends=ends)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert f'value="{ends}"' in page and '<option value="3" selected>Thursday</option>' in page
    assert 'aria-invalid="true"' in page


def test_hours_overlapping_hours_already_there_are_refused(admin, runtime):
    add_gwen_with_tuesday_hours(admin)
    response = submit(admin, f"/provider/workers/{gwen_id(runtime)}/hours", weekday="1", starts="18:00", ends="20:00")
    assert response.status_code == 422
    assert "Tuesday 18:00–20:00 overlaps 16:00–19:00" in response.get_data(as_text=True)


@pytest.mark.one_database  # refused before anything the database does differently
@pytest.mark.parametrize(
    ("url", "fields", "message"),
    [
        ("/provider/workers", {"name": "  ", "languages": "en"}, "Name: this cannot be empty"),
        ("/provider/workers", {"name": "Gwen"}, "Languages: choose at least one language"),
        ("/provider/workers", {"name": "Gwen", "languages": "en", "areas": "wrexham"}, "is not an area your service"),
        ("/provider/places", {"place_id": "new", "kind": "pub", "name": "The Vaults"}, "Kind: choose one of"),
        ("/provider/exceptions", {"day": "next friday"}, "Day: give a date like 25/12/2026"),
        ("/provider/exceptions", {"day": "2026-12-24", "starts": "12:00"}, "give both times, or neither"),
        (
            "/provider/exceptions",
            {"day": "2026-12-24", "available": "extra", **EVENING},
            "Who: extra hours are for one",
        ),
        ("/provider/settings", {**USUAL_SETTINGS, "slot_minutes": "five"}, "Interview length: give a whole number"),
        (
            "/provider/settings",
            {**USUAL_SETTINGS, "booking_horizon_days": "400"},
            "How far ahead: give a number from 1",
        ),
    ],
)
def test_a_form_with_a_mistake_comes_back_with_a_kind_message(admin, runtime, url, fields, message):
    with runtime.session() as session:
        before = session.scalar(sa.select(sa.func.count()).select_from(Worker))
    response = submit(admin, url, **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with runtime.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Worker)) == before


# --- who may -------------------------------------------------------------------------------------------


def test_a_duty_worker_can_look_but_cannot_change_settings(duty, runtime):
    page = duty.get("/provider/settings").get_data(as_text=True)
    assert "a provider admin changes them" in page and "Save settings" not in page
    response = submit(duty, "/provider/settings", slot_minutes="30", buffer_minutes="0",
                      minimum_notice_minutes="0", booking_horizon_days="90")  # fmt: skip
    assert response.status_code == 403
    assert "Only a provider admin can change this" in response.get_data(as_text=True)
    with runtime.session() as session:
        provider = session.scalars(sa.select(Provider).where(Provider.slug == "demo")).one()
        assert (provider.slot_minutes, provider.booking_horizon_days) == (60, 21)
    for url in SETUP_PAGES:
        assert duty.get(url).status_code == 200, url
    assert submit(duty, "/provider/workers", name="Gwen", languages="en").status_code == 403


def test_every_setup_form_needs_its_csrf_token(admin):
    for url in ("/provider/workers", "/provider/places", "/provider/exceptions", "/provider/settings"):
        assert admin.post(url, data={"name": "Gwen", "languages": "en"}).status_code == 400, url
        assert admin.post(url, data={"name": "Gwen", "csrf_token": "forged"}).status_code == 400, url


def test_another_providers_worker_is_not_found(admin, runtime):
    other = other_provider(runtime, staff=False)
    assert admin.get(f"/provider/workers/{other.worker_id}").status_code == 404
    assert admin.get("/provider/workers/99999999999").status_code == 404, "longer than any id: not found, no error"
    assert submit(admin, f"/provider/workers/{other.worker_id}", name="Mine", languages="en").status_code == 404
    hours = {"weekday": "1", "starts": "16:00", "ends": "17:00"}
    assert submit(admin, f"/provider/workers/{other.worker_id}/hours", **hours).status_code == 404
    assert "Dai" not in admin.get("/provider/workers").get_data(as_text=True)


def test_the_pages_show_no_young_persons_number_and_run_no_inline_script(admin, runtime, dispatcher):
    Conversation(dispatcher, "sms", "+447700900101").says(*self_referral("cardiff"))
    add_gwen_with_tuesday_hours(admin)
    for url in [*SETUP_PAGES, f"/provider/workers/{gwen_id(runtime)}"]:
        response = admin.get(url)
        page = response.get_data(as_text=True)
        assert "900101" not in page and "+44" not in page, url
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert re.findall(r"<script(?![^>]*\bsrc=)", page) == [], url


def test_the_demo_login_can_set_up_booking(runtime):
    with runtime.session() as session, session.begin():
        logins = reset_demo_logins(session)
    client = create_app(runtime, {"TESTING": True}).test_client()
    staff.log_in(client, logins.email, logins.password)
    assert "Save settings" in client.get("/provider/settings").get_data(as_text=True)
