"""The one login for every staff page (/login, /logout): roles decide what a person sees, one login reaches
all of it, CSRF on every form, the per-address limit, the wait after wrong passwords (the same for any email),
the working-day session, a logout or a new password ending every copy of a login, the encrypted cookie, and
where a login leads (never to another site).

The provider pages' and the studio's own tests log in through it too (tests/auxil/staff.py).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import re
import zlib

import pytest
import sqlalchemy as sa
from auxil.clock import SimulatedClock
from auxil.providers import PASSWORD, demo_login, latest_referral_id, self_referral
from auxil.staff import csrf, log_in
from conftest import Conversation

from bot.demo import DEMO_PROVIDER_SLUG
from bot.providers.accounts import FIRST_WAIT, FREE_FAILURES, LONGEST_WAIT, set_password
from models import LoginFailures, OutboxEvent, Provider, StaffRole, StaffUser
from webhooks import staff_login
from webhooks.app import create_app
from webhooks.staff_login import TOO_MANY_TRIES, WAIT_FOR_EMAIL, WRONG_LOGIN


def add_person(runtime, email: str, role: StaffRole, *, provider: bool = False, active: bool = True) -> None:
    with runtime.session() as session, session.begin():
        provider_id = session.scalars(sa.select(Provider.id).where(Provider.slug == DEMO_PROVIDER_SLUG)).one()
        person = StaffUser(email=email, display_name=email.split("@")[0].title(), role=role, password_hash="",
                           provider_id=provider_id if provider else None, active=active)  # fmt: skip
        set_password(person, PASSWORD)
        session.add(person)


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


@pytest.mark.parametrize("email", ["nobody@demo.test", "gone@demo.test"])
def test_an_unknown_or_deactivated_email_gets_the_same_answer_as_a_wrong_password(runtime, client, email):
    add_person(runtime, "gone@demo.test", StaffRole.DUTY_WORKER, provider=True, active=False)
    response = log_in(client, email, PASSWORD)
    assert response.status_code == 401 and WRONG_LOGIN in response.get_data(as_text=True)


# --- a login ends for good: logout and a new password end every copy of it -----------------------------------


def copy_of_the_cookie(client):
    """Another browser holding the same session cookie, as someone who copied it would."""
    thief = client.application.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_a_copied_cookie_stops_working_when_its_owner_logs_out(runtime, client):
    demo = demo_login(runtime)
    log_in(client, demo.email, PASSWORD)
    thief = copy_of_the_cookie(client)
    assert thief.get("/provider/").status_code == 200, "a copy works while the login lasts"
    client.post("/logout", data={"csrf_token": csrf(client.get("/provider/").text)})
    assert thief.get("/provider/").location == "/login?next=/provider/"


def test_logging_out_in_one_browser_ends_the_login_in_every_browser(runtime, client):
    demo = demo_login(runtime)
    other_browser = client.application.test_client()
    log_in(client, demo.email, PASSWORD)
    log_in(other_browser, demo.email, PASSWORD)
    client.post("/logout", data={"csrf_token": csrf(client.get("/provider/").text)})
    assert other_browser.get("/provider/").status_code == 302


def test_changing_the_password_ends_every_other_login_and_keeps_this_one(runtime, client):
    demo = demo_login(runtime)
    log_in(client, demo.email, PASSWORD)
    thief = copy_of_the_cookie(client)
    page = client.get("/password")
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    new = "a-new-long-password-2"
    changed = client.post("/password", data={"csrf_token": csrf(page.text), "current_password": PASSWORD,
                                             "new_password": new, "new_password_again": new})  # fmt: skip
    assert changed.status_code == 302
    assert thief.get("/provider/").status_code == 302, "the copied cookie is logged out"
    assert client.get("/provider/").status_code == 200, "the person who changed it stays logged in"
    fresh = client.application.test_client()
    assert log_in(fresh, demo.email, PASSWORD).status_code != 302, "the old password no longer works"
    assert log_in(fresh, demo.email, new).status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "again", "problem"),
    [
        ("wrong password", "a-new-long-password-2", "a-new-long-password-2", "current password"),
        (PASSWORD, "short", "short", "at least 12 characters"),
        (PASSWORD, "a-new-long-password-2", "a-new-long-password-3", "not the same"),
    ],
)
def test_a_password_change_that_cannot_be_made_says_why_and_changes_nothing(runtime, client, current, new, again,
                                                                            problem):  # fmt: skip
    demo = demo_login(runtime)
    log_in(client, demo.email, PASSWORD)
    page = client.get("/password").text
    refused = client.post("/password", data={"csrf_token": csrf(page), "current_password": current,
                                             "new_password": new, "new_password_again": again})  # fmt: skip
    assert refused.status_code == 400 and problem in refused.text
    assert client.get("/provider/").status_code == 200
    assert log_in(client.application.test_client(), demo.email, PASSWORD).status_code == 302


def test_a_password_change_needs_its_csrf_token(runtime, client):
    demo = demo_login(runtime)
    log_in(client, demo.email, PASSWORD)
    new = "a-new-long-password-2"
    refused = client.post("/password", data={"current_password": PASSWORD, "new_password": new,
                                             "new_password_again": new})  # fmt: skip
    assert refused.status_code == 400
    assert log_in(client.application.test_client(), demo.email, PASSWORD).status_code == 302


def readable(cookie: str) -> str:
    """Whatever anyone can read in a cookie without the key: each part base64-decoded, and unzipped if it was."""
    found = [cookie]
    for part in cookie.lstrip(".").split("."):
        try:
            raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except ValueError:
            continue
        with contextlib.suppress(zlib.error):
            raw = zlib.decompress(raw)
        found.append(raw.decode("latin-1"))
    return "\n".join(found)


def test_the_session_cookie_does_not_show_who_is_logged_in(runtime, client):
    demo = demo_login(runtime)
    log_in(client, demo.email, PASSWORD)
    contents = readable(client.get_cookie("session").value)
    # Flask's own cookie is base64 JSON: {"_user_id": "7", "csrf_token": ..., ...} for anyone to read.
    assert "_user_id" not in contents and "csrf_token" not in contents and "_fresh" not in contents
    assert client.get("/provider/").status_code == 200, "and the server still reads it"


def test_a_cookie_changed_by_hand_is_not_logged_in(runtime, client):
    demo = demo_login(runtime)
    log_in(client, demo.email, PASSWORD)
    cookie = client.get_cookie("session").value
    client.set_cookie("session", cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB"))
    assert client.get("/provider/").status_code == 302


# --- guessing passwords without locking out staff ----------------------------------------------------------


def behind_a_proxy(runtime, hops: int, limit: str = "3 per 10 minutes"):
    runtime.settings = dataclasses.replace(runtime.settings, trusted_proxies=hops)
    return create_app(runtime, {"TESTING": True, "RHI_LOGIN_LIMIT": limit}).test_client()


def from_address(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def test_successful_logins_from_one_address_never_lock_anyone(runtime):
    client = create_app(runtime, {"TESTING": True, "RHI_LOGIN_LIMIT": "3 per 10 minutes"}).test_client()
    demo = demo_login(runtime)
    add_person(runtime, "coordinator@demo.test", StaffRole.COORDINATOR)
    for _ in range(5):  # a shift logging in, one after another, through the office's one address
        assert log_in(client, demo.email, PASSWORD).status_code == 302
        assert log_in(client, "coordinator@demo.test", PASSWORD).status_code == 302
    assert log_in(client, "coordinator@demo.test", "a typo").status_code == 401
    assert log_in(client, demo.email, PASSWORD).status_code == 302


def test_behind_one_trusted_proxy_two_addresses_are_counted_apart(runtime):
    client = behind_a_proxy(runtime, 1)
    demo = demo_login(runtime)
    for n in range(3):
        assert log_in(client, f"guess{n}@demo.test", "guess", headers=from_address("203.0.113.7")).status_code == 401
    refused = log_in(client, demo.email, PASSWORD, headers=from_address("203.0.113.7"))
    assert refused.status_code == 429 and TOO_MANY_TRIES in refused.text
    assert log_in(client, demo.email, PASSWORD, headers=from_address("198.51.100.20")).status_code == 302


def test_with_no_trusted_proxy_the_forwarded_address_is_ignored(runtime):
    client = behind_a_proxy(runtime, 0)
    demo = demo_login(runtime)
    for n in range(3):
        assert log_in(client, f"guess{n}@demo.test", "guess", headers=from_address(f"203.0.113.{n}")).status_code == 401
    assert log_in(client, demo.email, PASSWORD, headers=from_address("198.51.100.20")).status_code == 429


def test_the_number_of_trusted_proxies_is_a_setting():
    from bot.settings import ConfigError, load_settings

    assert load_settings({}).trusted_proxies == 0
    assert load_settings({"RHI_TRUSTED_PROXIES": "2"}).trusted_proxies == 2
    with pytest.raises(ConfigError, match="RHI_TRUSTED_PROXIES"):
        load_settings({"RHI_TRUSTED_PROXIES": "yes"})


def test_guessing_one_account_from_many_addresses_slows_it_by_a_few_minutes_at_most(runtime):
    client = behind_a_proxy(runtime, 1, limit="1000 per 10 minutes")
    runtime.clock = clock = SimulatedClock()
    demo = demo_login(runtime)
    add_person(runtime, "coordinator@demo.test", StaffRole.COORDINATOR)
    answers = set()
    for n in range(60):  # an attacker who knows the duty worker's email, a new address for every guess
        answers.add(log_in(client, demo.email, f"guess {n}", headers=from_address(f"203.0.113.{n}")).status_code)
        clock.advance(5)
    assert answers == {401, 429}, "guesses are refused for a while once there are many"
    assert log_in(client, "coordinator@demo.test", PASSWORD).status_code == 302, "only that account slows"
    clock.advance(LONGEST_WAIT.total_seconds() + 1)
    assert log_in(client, demo.email, PASSWORD, headers=from_address("198.51.100.20")).status_code == 302


def test_the_wait_grows_with_the_failures(runtime):
    client = behind_a_proxy(runtime, 1, limit="1000 per 10 minutes")
    runtime.clock = clock = SimulatedClock()
    demo = demo_login(runtime)
    for n in range(FREE_FAILURES):  # a few typos cost nothing
        assert log_in(client, demo.email, f"typo {n}").status_code == 401
    assert log_in(client, demo.email, "one more").status_code == 401
    waiting = log_in(client, demo.email, PASSWORD)
    assert waiting.status_code == 429 and WAIT_FOR_EMAIL in waiting.text, "now a wait"
    clock.advance(FIRST_WAIT.total_seconds() + 1)
    assert log_in(client, demo.email, "and another").status_code == 401
    clock.advance(FIRST_WAIT.total_seconds() + 1)
    assert log_in(client, demo.email, PASSWORD).status_code == 429, "a longer wait"
    clock.advance(FIRST_WAIT.total_seconds() + 1)
    assert log_in(client, demo.email, PASSWORD).status_code == 302


def test_an_admin_can_clear_the_wait(runtime, client):
    from bot.providers.accounts import clear_login_failures

    runtime.clock = SimulatedClock()
    demo = demo_login(runtime)
    for n in range(8):
        log_in(client, demo.email, f"guess {n}")
    assert log_in(client, demo.email, PASSWORD).status_code == 429
    with runtime.session() as session, session.begin():
        clear_login_failures(session, demo.email.upper())
    assert log_in(client, demo.email, PASSWORD).status_code == 302


# --- an unknown email is answered as a known one is ----------------------------------------------------------


def answer(response, email: str) -> tuple:
    """A response as whoever sent it sees it, less what differs in every answer: the CSRF token, the cookie, and
    the email they typed themselves (shown back in the form, so the length differs by as much)."""
    body = re.sub(r'name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True)).replace(email, "EMAIL")
    mine = ("Set-Cookie", "Content-Length")
    headers = sorted((name, value) for name, value in response.headers.items() if name not in mine)
    return response.status_code, headers, body


def test_an_unknown_and_a_known_email_get_the_same_answers_at_every_step(runtime):
    known_email = demo_login(runtime).email
    unknown_email = "nobody@demo.test"
    runs = {}
    for email in (known_email, unknown_email):
        client = create_app(runtime, {"TESTING": True, "RHI_LOGIN_LIMIT": "8 per 10 minutes"}).test_client()
        runtime.clock = clock = SimulatedClock()
        steps = []
        for n in range(16):  # wrong passwords, through the account's waits, until the address is stopped too
            steps.append(answer(log_in(client, email, f"guess {n}"), email))
            clock.advance(20)
        clock.advance(6 * 60)
        steps.append(answer(log_in(client, email, "guess again"), email))
        steps.append(answer(client.get("/login"), email))
        runs[email] = steps
    seen = "\n".join(body for _, _, body in runs[known_email])
    assert WRONG_LOGIN in seen and WAIT_FOR_EMAIL in seen and TOO_MANY_TRIES in seen, "every answer was compared"
    for step, (known, unknown) in enumerate(zip(runs[known_email], runs[unknown_email], strict=True)):
        assert known == unknown, f"step {step}"


def test_failures_are_forgotten_after_a_quiet_hour_and_leave_no_row_behind(runtime, client):
    from bot.providers.accounts import FAILURES_FORGOTTEN_AFTER

    runtime.clock = clock = SimulatedClock()
    demo = demo_login(runtime)
    for n in range(FREE_FAILURES):
        log_in(client, f"someone{n}@demo.test", "guess")
        log_in(client, demo.email, f"guess {n}")
    clock.advance(FAILURES_FORGOTTEN_AFTER.total_seconds() + 1)
    assert log_in(client, demo.email, "one more typo").status_code == 401, "counted from one again: no wait"
    assert log_in(client, demo.email, PASSWORD).status_code == 302
    with runtime.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(LoginFailures)) == 0


def test_whoever_holds_a_copied_cookie_cannot_guess_the_password_on_the_password_page_instead(runtime, client):
    runtime.clock = SimulatedClock()
    demo = demo_login(runtime)
    log_in(client, demo.email, PASSWORD)
    thief = copy_of_the_cookie(client)
    token = csrf(thief.get("/password").text)

    def change(current: str):
        new = "taken-over-account"
        fields = {"csrf_token": token, "current_password": current, "new_password": new, "new_password_again": new}
        return thief.post("/password", data=fields)

    for n in range(FREE_FAILURES + 1):
        guess = change(f"guess {n}")
        assert guess.status_code == 400 and "not your current password" in guess.text
    right = change(PASSWORD)
    assert right.status_code == 400 and "Wait a few minutes" in right.text
    assert log_in(client.application.test_client(), demo.email, PASSWORD).status_code == 429, "the same wait"
