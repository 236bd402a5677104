"""Two-factor sign-in: everyone who can read children's messages sets it up before any page opens, then logs in
with a code from their app (or a recovery code, once each); a wrong code counts like a wrong password."""

from __future__ import annotations

import dataclasses
import re

import pyotp
import pytest
import segno
from auxil.clock import SimulatedClock
from auxil.providers import PASSWORD
from auxil.staff import csrf, log_in

from bot.admin.staff import add_staff, reset_staff
from bot.providers.accounts import FREE_FAILURES, set_password
from models import StaffRole
from webhooks.app import create_app


@pytest.fixture
def required(runtime):
    runtime.settings = dataclasses.replace(runtime.settings, require_two_factor=True)
    runtime.clock = SimulatedClock()
    return runtime


def member(runtime, email: str, role: StaffRole):
    with runtime.session() as session, session.begin():
        set_password(add_staff(session, email, role, "demo" if role != StaffRole.COORDINATOR else None).user, PASSWORD)
    return create_app(runtime, {"TESTING": True}).test_client()


def code_form(client, url: str, code: str):
    return client.post(url, data={"csrf_token": csrf(client.get(url).get_data(as_text=True)), "code": code})


def enrol(runtime, client) -> tuple[pyotp.TOTP, list[str]]:
    page = client.get("/two-factor").get_data(as_text=True)
    totp = pyotp.TOTP(re.search(r'id="totp-key">([A-Z2-7]+)<', page).group(1))
    done = code_form(client, "/two-factor", totp.at(runtime.clock()))
    assert done.status_code == 200
    return totp, re.findall(r"<li><code>([0-9a-f]+)</code></li>", done.get_data(as_text=True))


def test_the_set_up_page_shows_the_key_as_a_qr_code_for_the_phone_camera_and_written_out(required):
    client = member(required, "duty@demo.example", StaffRole.DUTY_WORKER)
    log_in(client, "duty@demo.example", PASSWORD)
    page = client.get("/two-factor").get_data(as_text=True)
    key = re.search(r'id="totp-key">([A-Z2-7]+)<', page).group(1)
    uri = re.search(r'<a href="([^"]+)" id="totp-link">', page).group(1).replace("&amp;", "&")
    assert f"secret={key}" in uri and uri.startswith("otpauth://totp/")
    drawn = re.search(r'<svg [^>]*id="totp-qr".*?</svg>', page, re.S).group(0)
    # the code drawn is the one for the link the phone would open (segno draws the same matrix the same way)
    assert drawn == segno.make(uri, error="m").svg_inline(scale=4, svgid="totp-qr", title="The key as a QR code")


def test_a_duty_worker_sets_it_up_at_first_then_logs_in_with_a_code_once(required):
    runtime = required
    client = member(runtime, "duty@demo.example", StaffRole.DUTY_WORKER)
    assert log_in(client, "duty@demo.example", PASSWORD).headers["Location"] == "/two-factor"
    assert client.get("/provider/").headers["Location"] == "/two-factor"  # nothing opens first
    assert code_form(client, "/two-factor", "000000").status_code == 400
    totp, recovery = enrol(runtime, client)
    assert len(recovery) == 10
    assert client.get("/provider/").status_code == 200

    browser = create_app(runtime, {"TESTING": True}).test_client()
    assert log_in(browser, "duty@demo.example", PASSWORD).headers["Location"] == "/login/code"
    assert browser.get("/provider/").status_code == 302  # the password alone opens nothing
    runtime.clock.advance(60)
    code = totp.at(runtime.clock())
    assert code_form(browser, "/login/code", code).headers["Location"] == "/provider/"
    assert browser.get("/provider/").status_code == 200

    again = create_app(runtime, {"TESTING": True}).test_client()
    log_in(again, "duty@demo.example", PASSWORD)
    assert code_form(again, "/login/code", code).status_code == 401  # the same code twice: refused
    assert code_form(again, "/login/code", recovery[0]).headers["Location"] == "/provider/"
    lost = create_app(runtime, {"TESTING": True}).test_client()
    log_in(lost, "duty@demo.example", PASSWORD)
    assert code_form(lost, "/login/code", recovery[0]).status_code == 401  # a recovery code works once


def test_guessing_codes_meets_the_same_wait_as_guessing_passwords(required):
    runtime = required
    client = member(runtime, "boss@demo.example", StaffRole.PROVIDER_ADMIN)
    log_in(client, "boss@demo.example", PASSWORD)
    enrol(runtime, client)
    guesser = create_app(runtime, {"TESTING": True}).test_client()
    log_in(guesser, "boss@demo.example", PASSWORD)
    answers = [code_form(guesser, "/login/code", f"{n:06d}").status_code for n in range(FREE_FAILURES + 2)]
    assert answers[:FREE_FAILURES] == [401] * FREE_FAILURES and answers[-1] == 429


def test_a_coordinator_need_not_and_a_setting_turns_the_requirement_off(required):
    runtime = required
    coordinator = member(runtime, "cy@rhi.example", StaffRole.COORDINATOR)
    assert log_in(coordinator, "cy@rhi.example", PASSWORD).headers["Location"] != "/two-factor"
    runtime.settings = dataclasses.replace(runtime.settings, require_two_factor=False)
    duty = member(runtime, "duty@demo.example", StaffRole.DUTY_WORKER)
    assert log_in(duty, "duty@demo.example", PASSWORD).headers["Location"] == "/provider/"


def test_a_reset_clears_it_for_someone_who_lost_their_phone(required):
    runtime = required
    client = member(runtime, "duty@demo.example", StaffRole.DUTY_WORKER)
    log_in(client, "duty@demo.example", PASSWORD)
    enrol(runtime, client)
    with runtime.session() as session, session.begin():
        one_time = reset_staff(session, "duty@demo.example").password
    fresh = create_app(runtime, {"TESTING": True}).test_client()
    assert log_in(fresh, "duty@demo.example", one_time).headers["Location"] == "/password"
