"""The provider queue pages, /provider/: logging in, the queue (alerts first, live countdowns, at-risk
marked, dead letters in red), a referral's page and its actions; another provider's referral is 404.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from auxil import staff
from auxil.providers import OTHER_AREA, PASSWORD, demo_login, latest_referral_id, other_provider, self_referral
from auxil.staff import form
from conftest import Conversation

from bot.demo import reset_demo_logins
from bot.providers.accounts import FREE_FAILURES
from models import ConversationState, Escalation, OutboxEvent, OutboxKind, Referral, StaffUser, utcnow
from webhooks.app import create_app
from webhooks.staff_login import WRONG_LOGIN


def log_in(client, email: str, password: str = PASSWORD):
    return staff.log_in(client, email, password)


@pytest.fixture
def pages(runtime, dispatcher):
    demo, other = demo_login(runtime), other_provider(runtime)
    sam = Conversation(dispatcher, "sms", "+447700900101")
    sam.says(*self_referral("cardiff"))
    dee = Conversation(dispatcher, "sms", "+447700900102")
    dee.says(*self_referral(OTHER_AREA.replace("_", " ")))
    client = create_app(runtime, {"TESTING": True}).test_client()
    return {
        "client": client,
        "demo": demo,
        "other": other,
        "sam": sam,
        "dee": dee,
        "referral": latest_referral_id(runtime, demo.id),
        "other_referral": latest_referral_id(runtime, other.id),
    }


@pytest.fixture
def logged_in(pages):
    assert log_in(pages["client"], pages["demo"].email).status_code == 302
    return pages


# --- logging in ---------------------------------------------------------------------------------------


def test_every_page_needs_a_login(pages):
    client = pages["client"]
    for url in ("/provider/", f"/provider/referrals/{pages['referral']}"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"] == f"/login?next={url}"


def test_logging_in_leads_to_the_queue(pages):
    response = log_in(pages["client"], pages["demo"].email)
    assert response.status_code == 302 and response.headers["Location"] == "/provider/"


def test_a_wrong_password_fails_and_many_in_a_row_bring_a_wait(pages, runtime):
    client, email = pages["client"], pages["demo"].email
    for _ in range(FREE_FAILURES + 1):
        response = log_in(client, email, "guess")
        assert response.status_code == 401 and WRONG_LOGIN in response.get_data(as_text=True)
    assert log_in(client, email).status_code == 429, "a wait: even the right password waits"
    with runtime.session() as session:
        user = session.scalars(sa.select(StaffUser).where(StaffUser.email == email)).one()
        assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash


def test_an_unknown_email_gets_the_same_answer(pages):
    response = log_in(pages["client"], "nobody@demo.test")
    assert response.status_code == 401 and WRONG_LOGIN in response.get_data(as_text=True)


def test_logins_from_one_address_are_limited(runtime, pages):
    client = create_app(runtime, {"TESTING": True, "RHI_LOGIN_LIMIT": "3 per minute"}).test_client()
    for _ in range(3):
        log_in(client, "nobody@demo.test")
    refused = log_in(client, pages["demo"].email)
    assert refused.status_code == 429 and "Too many tries from here" in refused.get_data(as_text=True)


def test_every_form_needs_its_csrf_token(logged_in):
    client, referral = logged_in["client"], logged_in["referral"]
    assert client.post(f"/provider/referrals/{referral}/assign", data={"worker_id": ""}).status_code == 400
    bad = {"worker_id": "", "csrf_token": "forged"}
    assert client.post(f"/provider/referrals/{referral}/assign", data=bad).status_code == 400
    assert client.post("/logout").status_code == 400
    fresh = create_app(client.application.extensions["rhi.runtime"], {"TESTING": True}).test_client()
    assert fresh.post("/login", data={"email": "a@b.c", "password": "x"}).status_code == 400


def test_the_session_cookie_is_secure_http_only_and_same_site(runtime, pages):
    runtime.settings = dataclasses.replace(
        runtime.settings, secret_key="a real secret key for this deployment", public_base_url="https://rhi.example.org"
    )
    client = create_app(runtime, {"TESTING": True}).test_client()
    response = log_in(client, pages["demo"].email)
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_logging_out_ends_the_session(logged_in):
    client = logged_in["client"]
    assert form(client, "/logout").status_code == 302
    assert client.get("/provider/").status_code == 302


def test_the_demo_prints_a_duty_worker_login_that_works(runtime):
    with runtime.session() as session, session.begin():
        logins = reset_demo_logins(session)
    client = create_app(runtime, {"TESTING": True}).test_client()
    assert log_in(client, logins.email, logins.password).status_code == 302
    assert client.get("/provider/").status_code == 200
    api = client.get("/api/v1/referrals", headers={"Authorization": f"Bearer {logins.api_token}"})
    assert api.status_code == 200


# --- the queue ----------------------------------------------------------------------------------------


def test_alerts_come_first_then_requests_with_a_countdown_and_the_at_risk_marked(logged_in, runtime, dispatcher):
    worried = Conversation(dispatcher, "sms", "+447700900103")
    worried.says(*self_referral("newport"))
    worried("i want to end my life")
    with runtime.session() as session, session.begin():
        session.get(Referral, logged_in["referral"]).deadline_at = utcnow() + timedelta(hours=5)
    page = logged_in["client"].get("/provider/").get_data(as_text=True)
    assert page.index("Alerts") < page.index("end my life") < page.index("Requests")
    requests = page[page.index('id="requests-title"') :]
    assert requests.index("immediate alert</span>") < requests.index('class="badge risk">At risk'), "alerts lead"
    assert re.search(r"<time datetime=\"[^\"]+\" data-deadline>\d+ h \d+ min left</time>", requests)
    assert '<script src="/provider/static/provider.js" defer>' in page


def test_dead_lettered_events_are_a_red_alert_on_the_queue(logged_in, runtime):
    with runtime.session() as session, session.begin():
        # this provider's event: the other provider's is not on this queue (and rows come in no fixed order)
        event = session.scalars(
            sa.select(OutboxEvent)
            .where(
                OutboxEvent.kind == OutboxKind.PROVIDER_WEBHOOK,
                OutboxEvent.provider_id == logged_in["demo"].id,
            )
            .order_by(OutboxEvent.created_at)
        ).first()
        event.dead_at, event.last_error = utcnow(), "could not connect to the provider's webhook"
    page = logged_in["client"].get("/provider/").get_data(as_text=True)
    assert 'class="dead" role="alert"' in page and "1 event could not be delivered" in page
    assert "could not connect to the provider&#39;s webhook" in page


def test_the_pages_load_nothing_from_elsewhere_and_fit_a_phone(logged_in):
    client = logged_in["client"]
    for url in ("/login", "/provider/", f"/provider/referrals/{logged_in['referral']}"):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert not re.search(r"""(src|href)=["'](https?:)?//""", html), url
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert 'href="#main"' in html  # a skip link for keyboard users
        for field in re.findall(r'<(?:input|select|textarea) id="([^"]+)"', html):
            assert f'<label for="{field}">' in html, f"{url}: {field} has no label"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"


# --- a referral and its actions -----------------------------------------------------------------------

ACTIONS = [
    ("assign", {"worker_id": ""}),
    ("confirm", {}),
    ("propose", {"starts_at": "2099-01-05T16:00"}),
    ("outcome", {"outcome": "interview_held"}),
    ("message", {"text": "Hello"}),
]


def test_another_providers_referral_is_not_found(logged_in):
    assert logged_in["client"].get(f"/provider/referrals/{logged_in['other_referral']}").status_code == 404


@pytest.mark.parametrize(("action", "fields"), ACTIONS)
def test_no_action_reaches_another_providers_referral(logged_in, runtime, action, fields):
    response = form(logged_in["client"], f"/provider/referrals/{logged_in['other_referral']}/{action}", **fields)
    assert response.status_code == 404
    with runtime.session() as session:
        referral = session.get(Referral, logged_in["other_referral"])
        assert referral.status == "booking_requested" and referral.assigned_worker_id is None


def test_another_providers_alert_cannot_be_acknowledged(logged_in, runtime):
    logged_in["dee"]("i want to end my life")
    with runtime.session() as session:
        alert = session.scalars(sa.select(Escalation)).one()
    assert form(logged_in["client"], f"/provider/alerts/{alert.id}/acknowledge").status_code == 404
    with runtime.session() as session:
        assert session.get(Escalation, alert.id).acknowledged_at is None


def test_the_referral_page_has_the_timeline_and_the_actions(logged_in):
    page = logged_in["client"].get(f"/provider/referrals/{logged_in['referral']}").get_data(as_text=True)
    for words in ("Timeline", "request sent to your case system", "booking sent to your case system",
                  "Assign a worker", "Confirm the booking", "Suggest another time", "Send a message through the bot",
                  "Record the outcome"):  # fmt: skip
        assert words in page
    assert "+4477" not in page
    assert "referral.created" not in page and "booking_requested" not in page, "plain words, not codes"


def test_a_worker_confirms_from_the_page_and_the_young_person_is_told(logged_in, runtime):
    client, referral = logged_in["client"], logged_in["referral"]
    response = form(client, f"/provider/referrals/{referral}/confirm")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Booking confirmed. The young person is being told." in page
    with runtime.session() as session:
        [event] = session.scalars(
            sa.select(OutboxEvent).where(
                OutboxEvent.kind == OutboxKind.CHANNEL_MESSAGE, OutboxEvent.type == "message.provider"
            )
        ).all()
        assert event.payload["replies"][0]["text"].startswith("Your chat is booked.")


def test_a_worker_writes_from_the_page_under_their_own_name_and_an_empty_message_is_refused(logged_in, runtime):
    client, referral = logged_in["client"], logged_in["referral"]
    response = form(client, f"/provider/referrals/{referral}/message", text="   ")
    assert "text: write a message" in client.get(response.headers["Location"]).get_data(as_text=True)
    form(client, f"/provider/referrals/{referral}/message", text="Can we meet at 4?")
    assert "Duty will see your reply" in logged_in["sam"]("yes")[-1]
    with runtime.session() as session:
        texts = [
            event.payload["replies"][0]["text"]
            for event in session.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == "message.provider"))
        ]
    assert texts == [
        "A message from Duty at the Return Home service:\nCan we meet at 4?\n(Reply here and Duty will see it.)"
    ]


def test_acknowledging_an_alert_from_the_queue(logged_in, runtime):
    logged_in["sam"]("i want to end my life")
    client = logged_in["client"]
    page = client.get("/provider/").get_data(as_text=True)
    alert_id = re.search(r'action="/provider/alerts/(\d+)/acknowledge"', page).group(1)
    response = form(client, f"/provider/alerts/{alert_id}/acknowledge", back="https://evil.example/")
    assert response.headers["Location"].endswith("/provider/")  # never sent elsewhere
    with runtime.session() as session:
        escalation = session.get(Escalation, int(alert_id))
        assert escalation.acknowledged_at is not None and escalation.acknowledged_by == logged_in["demo"].email


def test_an_alert_of_someone_who_deleted_their_data_stays_on_the_queue_without_their_words(logged_in):
    sam, client = logged_in["sam"], logged_in["client"]
    sam("i want to end my life")
    sam.says("delete my data", "yes")
    page = client.get("/provider/").get_data(as_text=True)
    alerts = page[page.index("Alerts") : page.index("Requests")]
    assert "end my life" not in page and "immediate alert" in alerts.lower()
    assert "deleted their data" in alerts and "<blockquote></blockquote>" not in alerts


def test_a_workers_message_names_the_helplines_as_published_in_the_studio(runtime, dispatcher):
    from auxil.records import publish_directly

    from bot.releases import builtin_files

    scripts = builtin_files("scripts")
    scripts["provider.yaml"] = scripts["provider.yaml"].replace(
        "(Reply here and {worker_name} will see it.)",
        "(Reply here and {worker_name} will see it. {helpline_childline})",
    )
    helplines = builtin_files("helplines")
    helplines["helplines.yaml"] = helplines["helplines.yaml"].replace('{call: "0800 1111"}', '{call: "0800 2222"}')
    publish_directly(runtime, "scripts", scripts)
    publish_directly(runtime, "helplines", helplines)
    demo = demo_login(runtime)
    Conversation(dispatcher, "sms", "+447700900103").says(*self_referral("cardiff"))
    client = create_app(runtime, {"TESTING": True}).test_client()
    assert log_in(client, demo.email).status_code == 302
    form(client, f"/provider/referrals/{latest_referral_id(runtime, demo.id)}/message", text="Can we meet at 4?")
    with runtime.session() as session:
        [event] = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == "message.provider")).all()
        saved = session.scalars(sa.select(ConversationState)).one().variables["vars"]
    assert "0800 2222" in event.payload["replies"][0]["text"]
    assert not any(name.startswith("helpline") for name in saved)  # given on every message, never saved
