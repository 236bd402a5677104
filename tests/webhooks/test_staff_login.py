"""The one login for every staff page (/login, /logout): roles decide what a person sees, one login reaches
all of it, CSRF on every form, the per-address limit, the account lock, the working-day session and where
a login leads (never to another site).

The provider pages' and the studio's own tests log in through it too (tests/auxil/staff.py).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import sqlalchemy as sa
from auxil.providers import PASSWORD, demo_login, latest_referral_id, self_referral
from auxil.staff import csrf, log_in
from conftest import Conversation

from bot.demo import DEMO_PROVIDER_SLUG
from bot.providers.accounts import LOCKOUT, MAX_FAILED_LOGINS, set_password
from models import OutboxEvent, Provider, StaffRole, StaffUser, utcnow
from webhooks import staff_login
from webhooks.app import create_app
from webhooks.staff_login import TOO_MANY_TRIES, WRONG_LOGIN


def add_person(runtime, email: str, role: StaffRole, *, provider: bool = False, active: bool = True) -> None:
    with runtime.session() as session, session.begin():
        provider_id = session.scalars(sa.select(Provider.id).where(Provider.slug == DEMO_PROVIDER_SLUG)).one()
        person = StaffUser(email=email, display_name=email.split("@")[0].title(), role=role, password_hash="",
                           provider_id=provider_id if provider else None, active=active)  # fmt: skip
        set_password(person, PASSWORD)
        session.add(person)


def locked_until(runtime, email: str):
    with runtime.session() as session:
        return session.scalars(sa.select(StaffUser.locked_until).where(StaffUser.email == email)).one()


@pytest.fixture
def client(runtime):
    return create_app(runtime, {"TESTING": True}).test_client()


# --- one login, roles decide ------------------------------------------------------------------------------


def test_an_admin_logs_in_once_and_reaches_the_studio_and_the_provider_pages_without_logging_out(runtime, client):
    add_person(runtime, "admin@demo.test", StaffRole.ADMIN, provider=True)
    assert log_in(client, "admin@demo.test", PASSWORD).location == "/studio/"
    for path in ("/studio/scripts/", "/provider/", "/studio/helplines/", "/provider/workers", "/studio/scripts/"):
        assert client.get(path).status_code == 200, path
    assert "Save settings" in client.get("/provider/settings").get_data(as_text=True), "an admin may change set-up"


def test_a_coordinator_and_a_duty_worker_in_one_browser_share_one_login_not_two(runtime, client):
    add_person(runtime, "coordinator@demo.test", StaffRole.COORDINATOR)
    demo = demo_login(runtime)
    log_in(client, "coordinator@demo.test", PASSWORD)
    assert client.get("/studio/scripts/").status_code == 200
    assert log_in(client, demo.email, PASSWORD).location == "/provider/"
    assert client.get("/provider/").status_code == 200
    assert client.get("/studio/scripts/").status_code == 403, "the duty worker's login, not the coordinator's"


def test_a_duty_worker_gets_a_clear_403_on_the_studio_not_a_way_round_to_the_login(runtime, client):
    demo = demo_login(runtime)
    log_in(client, demo.email, PASSWORD)
    for path in ("/studio/", "/studio/scripts/", "/studio/people"):
        refused = client.get(path)
        page = refused.get_data(as_text=True)
        assert refused.status_code == 403, path
        assert "The coordinators&#39; studio is for coordinators and admins" in page and "duty worker" in page
        assert "Log out" in page
    api = client.post("/studio/api/check", json={}, headers={"X-CSRFToken": csrf(client.get("/provider/").text)})
    assert api.status_code == 403 and "coordinators and admins" in api.get_json()["error"]


def test_a_coordinator_gets_403_on_the_provider_pages_and_a_way_to_the_studio(runtime, client):
    add_person(runtime, "coordinator@demo.test", StaffRole.COORDINATOR)
    log_in(client, "coordinator@demo.test", PASSWORD)
    refused = client.get("/provider/")
    assert refused.status_code == 403 and 'href="/studio/">Go to the coordinators' in refused.get_data(as_text=True)


def test_an_admin_with_no_provider_is_told_why_the_provider_pages_are_empty(runtime, client):
    add_person(runtime, "admin@demo.test", StaffRole.ADMIN)
    log_in(client, "admin@demo.test", PASSWORD)
    refused = client.get("/provider/")
    assert refused.status_code == 403 and "not linked to a provider" in refused.get_data(as_text=True)


def test_logging_out_ends_the_login_everywhere(runtime, client):
    add_person(runtime, "admin@demo.test", StaffRole.ADMIN, provider=True)
    log_in(client, "admin@demo.test", PASSWORD)
    token = csrf(client.get("/provider/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).location == "/login"
    assert client.get("/provider/").status_code == 302 and client.get("/studio/scripts/").status_code == 302


def test_a_deactivated_account_is_logged_out_at_its_next_page(runtime, client):
    demo = demo_login(runtime)
    log_in(client, demo.email, PASSWORD)
    with runtime.session() as session, session.begin():
        session.scalars(sa.select(StaffUser).where(StaffUser.email == demo.email)).one().active = False
    assert client.get("/provider/").location == "/login?next=/provider/"


def test_the_login_ends_after_a_working_day(runtime, client):
    demo = demo_login(runtime)
    log_in(client, demo.email, PASSWORD)
    with client.session_transaction() as session:
        session["staff_logged_in_at"] -= staff_login.SESSION_LIFETIME.total_seconds() - 60
    assert client.get("/provider/").status_code == 200, "still within the day"
    with client.session_transaction() as session:
        session["staff_logged_in_at"] -= 120
    assert client.get("/provider/").location == "/login?next=/provider/"


def test_the_session_cookie_is_not_kept_after_the_browser_closes(runtime, client):
    demo = demo_login(runtime)
    cookie = log_in(client, demo.email, PASSWORD).headers["Set-Cookie"]
    assert "Expires" not in cookie and "Max-Age" not in cookie


def test_a_session_cookie_taken_to_another_browser_is_not_logged_in(runtime, client):
    demo = demo_login(runtime)
    log_in(client, demo.email, PASSWORD)
    assert client.get("/provider/").status_code == 200
    assert client.get("/provider/", headers={"User-Agent": "another browser"}).status_code == 302


# --- where a login leads -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/provider/",
        "/\\evil.example/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/provider/\r\nLocation: https://evil.example/",
        "provider/",
    ],
)
def test_a_login_never_leads_to_another_site(runtime, client, target):
    demo = demo_login(runtime)
    response = log_in(client, demo.email, PASSWORD, next=target)
    assert response.status_code == 302 and response.location == "/provider/"


def test_a_login_leads_back_to_the_page_asked_for(runtime, client):
    demo = demo_login(runtime)
    asked = client.get("/provider/settings?tab=hours")
    assert asked.location == "/login?next=/provider/settings?tab%3Dhours"
    page = client.get(asked.location).get_data(as_text=True)
    assert 'name="next" value="/provider/settings?tab=hours"' in page
    response = log_in(client, demo.email, PASSWORD, next="/provider/settings?tab=hours")
    assert response.location == "/provider/settings?tab=hours"


# --- CSRF -----------------------------------------------------------------------------------------------------


def test_a_post_without_its_csrf_token_is_refused_and_stores_nothing(runtime, dispatcher, client):
    demo = demo_login(runtime)
    Conversation(dispatcher, "sms", "+447700900101").says(*self_referral("cardiff"))
    referral = latest_referral_id(runtime, demo.id)
    log_in(client, demo.email, PASSWORD)
    for fields in ({}, {"csrf_token": ""}, {"csrf_token": "forged"}):
        refused = client.post(f"/provider/referrals/{referral}/message", data={"text": "Can we meet at 4?", **fields})
        assert refused.status_code == 400 and "This page has expired" in refused.get_data(as_text=True)
    with runtime.session() as session:
        assert session.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == "message.provider")).all() == []


def test_a_token_from_another_session_is_refused(runtime, client):
    demo = demo_login(runtime)
    other = create_app(runtime, {"TESTING": True}).test_client()
    stolen = csrf(other.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": demo.email, "password": PASSWORD, "csrf_token": stolen})
    assert response.status_code == 400 and client.get("/provider/").status_code == 302


def test_the_api_needs_its_bearer_token_not_a_csrf_token(runtime, client):
    # (The channel webhooks are exempt too: tests/test_sms_webhook.py posts Twilio's own forms, with no token.)
    demo = demo_login(runtime, staff=False)
    assert client.post("/api/v1/alerts/1/acknowledge").status_code == 401
    answer = client.post("/api/v1/alerts/1/acknowledge", headers=demo.auth)
    assert answer.status_code == 404, "reached the API (no such alert), not refused for a CSRF token"


# --- guessing passwords -------------------------------------------------------------------------------------


def test_failed_logins_from_one_address_are_answered_429_with_a_kind_message(runtime):
    client = create_app(runtime, {"TESTING": True, "RHI_LOGIN_LIMIT": "3 per 10 minutes"}).test_client()
    demo = demo_login(runtime)
    assert log_in(client, demo.email, PASSWORD).status_code == 302, "a good login does not count"
    for n in range(3):
        assert log_in(client, f"guess{n}@demo.test", "guess").status_code == 401
    refused = log_in(client, demo.email, PASSWORD)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429 and TOO_MANY_TRIES in page and '<input id="email"' in page


def test_the_limit_is_kept_in_redis_when_there_is_one(runtime):
    runtime.settings = dataclasses.replace(runtime.settings, redis_url="redis://127.0.0.1:6399/0")
    assert create_app(runtime).config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6399/0"


def test_five_wrong_passwords_lock_the_account_and_the_lock_doubles(runtime, client):
    demo = demo_login(runtime)
    for _ in range(MAX_FAILED_LOGINS):
        assert log_in(client, demo.email, "guess").status_code == 401
    assert locked_until(runtime, demo.email) > utcnow() + LOCKOUT - timedelta(minutes=1)
    locked = log_in(client, demo.email, PASSWORD)
    assert locked.status_code == 401 and WRONG_LOGIN in locked.get_data(as_text=True), "the same words as a wrong one"
    with runtime.session() as session, session.begin():
        session.scalars(sa.select(StaffUser).where(StaffUser.email == demo.email)).one().locked_until = utcnow()
    assert log_in(client, demo.email, "guess again").status_code == 401
    assert locked_until(runtime, demo.email) > utcnow() + 2 * LOCKOUT - timedelta(minutes=1)


@pytest.mark.parametrize("email", ["nobody@demo.test", "gone@demo.test"])
def test_an_unknown_or_deactivated_email_gets_the_same_answer_as_a_wrong_password(runtime, client, email):
    add_person(runtime, "gone@demo.test", StaffRole.DUTY_WORKER, provider=True, active=False)
    response = log_in(client, email, PASSWORD)
    assert response.status_code == 401 and WRONG_LOGIN in response.get_data(as_text=True)
