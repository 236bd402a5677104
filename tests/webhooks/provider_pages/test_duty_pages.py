"""The duty worker's night on the provider pages: an alert from someone new leads to their page (the
conversation, with the English under the bot's Welsh; what to do now; the message form; notes); acknowledging
gives the alert and its referral to the worker and puts it In progress; every action is on the record in plain
words; the queue is searched and filtered; a closed day lists the bookings it falls on.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from auxil import staff
from auxil.providers import (
    OTHER_AREA,
    PASSWORD,
    demo_login,
    latest_referral_id,
    messages_to,
    other_provider,
    self_referral,
    working_time,
)
from auxil.staff import form
from conftest import Conversation
from markupsafe import escape

from bot.alerts.checklists import builtin_checklists
from models import (
    ActionRecord,
    AvailabilityException,
    Booking,
    BookingStatus,
    Escalation,
    Referral,
    StaffUser,
    utcnow,
)
from webhooks.app import create_app


@pytest.fixture
def night(runtime, dispatcher):
    demo, other = demo_login(runtime), other_provider(runtime)
    client = create_app(runtime, {"TESTING": True}).test_client()
    assert staff.log_in(client, demo.email, PASSWORD).status_code == 302
    with runtime.session() as session:
        staff_id = session.scalars(sa.select(StaffUser.id).where(StaffUser.email == demo.email)).one()
    return {"client": client, "demo": demo, "other": other, "staff_id": staff_id, "dispatcher": dispatcher}


def _alert_id(runtime, contact_id: int) -> int:
    with runtime.session() as session:
        return session.scalars(sa.select(Escalation.id).where(Escalation.contact_id == contact_id)).first()


def test_an_alert_from_someone_new_leads_to_their_page_and_the_worker_can_act_on_it(night, runtime):
    client = night["client"]
    ana = Conversation(night["dispatcher"], "sms", "+447700900301")
    ana("i want to end my life tonight")
    contact_id = ana.last.contact_id
    queue = client.get("/provider/").get_data(as_text=True)
    assert "<title>(1) Queue" in queue, "the tab's title counts the alerts nobody has acknowledged"
    assert f'href="/provider/people/{contact_id}"' in queue and "no referral yet" in queue
    assert "suicide or self-harm" in queue and "suicide_self_harm" not in queue

    page = client.get(f"/provider/people/{contact_id}").get_data(as_text=True)
    assert "i want to end my life tonight" in page, "the conversation, as they saw it"
    assert "In danger or badly hurt now? Call 999." in page, "what the bot already told them"
    for line in builtin_checklists()["suicide_self_harm"]:
        assert str(escape(line)) in page
    assert "Message them" in page and "+4477" not in page

    alert_id = _alert_id(runtime, contact_id)
    first_line = builtin_checklists()["suicide_self_harm"][0]
    form(client, f"/provider/alerts/{alert_id}/tick", item=first_line, ticked="yes")
    page = client.get(f"/provider/people/{contact_id}").get_data(as_text=True)
    assert re.search(r'aria-pressed="true">✓.*?' + re.escape(first_line), page)
    assert f"ticked “{first_line}”" in page and "ticked by Duty" in page

    response = form(client, f"/provider/people/{contact_id}/message", text="Are you safe right now? I'm here.")
    assert response.status_code == 303
    assert any("Are you safe right now?" in text for text in messages_to(runtime, contact_id))
    ana("yes im at my nans")
    page = client.get(f"/provider/people/{contact_id}").get_data(as_text=True)
    assert page.index("Are you safe right now?") < page.index("yes im at my nans"), "in order"
    assert "sent them a message through the bot" in page


def test_an_alert_raised_before_the_referral_shows_the_referral_once_it_is_made(night, runtime):
    client = night["client"]
    bea = Conversation(night["dispatcher"], "sms", "+447700900302")
    bea("someone is hurting me at home")
    bea.says(*self_referral("cardiff"))
    referral_id = latest_referral_id(runtime, night["demo"].id)
    queue = client.get("/provider/").get_data(as_text=True)
    alert = queue[queue.index('data-alert="') : queue.index("</li>", queue.index('data-alert="'))]
    assert f"/provider/referrals/{referral_id}" in alert and "no referral yet" not in alert
    page = client.get(f"/provider/referrals/{referral_id}").get_data(as_text=True)
    assert "abuse at home" in page and f"/provider/people/{bea.last.contact_id}" in page


def test_acknowledging_gives_the_alert_and_its_referral_to_the_worker_until_done(night, runtime):
    client = night["client"]
    cai = Conversation(night["dispatcher"], "sms", "+447700900303")
    cai.says(*self_referral("cardiff"))
    cai("i want to die")
    referral_id = latest_referral_id(runtime, night["demo"].id)
    alert_id = _alert_id(runtime, cai.last.contact_id)
    form(client, f"/provider/alerts/{alert_id}/acknowledge")
    with runtime.session() as session:
        assert session.get(Referral, referral_id).assigned_staff_id == night["staff_id"]
        assert session.get(Escalation, alert_id).assigned_staff_id == night["staff_id"]
    queue = client.get("/provider/").get_data(as_text=True)
    progress = queue[queue.index('id="in-progress"') : queue.index('id="to-read"')]
    assert f"/provider/people/{cai.last.contact_id}" in progress and "by Duty" in progress
    mine = client.get("/provider/?mine=1").get_data(as_text=True)
    assert f"Referral {referral_id}</a>" in mine and "yours" in mine

    form(client, f"/provider/alerts/{alert_id}/done")
    queue = client.get("/provider/").get_data(as_text=True)
    assert "No acknowledged alert is waiting" in queue
    with runtime.session() as session:
        kinds = session.scalars(sa.select(ActionRecord.kind).where(ActionRecord.escalation_id == alert_id)).all()
    assert kinds == ["acknowledged", "alert_done"]


def test_every_action_is_on_the_record_with_who_and_when_in_plain_words(night, runtime):
    client, demo = night["client"], night["demo"]
    dai = Conversation(night["dispatcher"], "sms", "+447700900304")
    dai.says(*self_referral("cardiff"))
    referral_id = latest_referral_id(runtime, demo.id)
    form(client, f"/provider/referrals/{referral_id}/assign", worker_id=str(demo.worker_id))
    form(client, f"/provider/referrals/{referral_id}/confirm")
    form(client, f"/provider/people/{dai.last.contact_id}/notes", text="Spoke to the social worker: aware.")
    form(client, f"/provider/referrals/{referral_id}/booking/cancel")
    page = client.get(f"/provider/people/{dai.last.contact_id}").get_data(as_text=True)
    record = page[page.index('id="record"') :]
    for words in ("asked", "to meet them", "confirmed the chat", "added a note", "Spoke to the social worker",
                  "cancelled the chat on", "<strong>Duty</strong>"):  # fmt: skip
        assert words in record
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", re.sub(r"<[^>]+>", "", record)), "no codes"
    assert not re.search(r"\d{2}/\d{2}/\d{4}|[AP]M\b", record), "one format: en-GB, 24-hour"
    assert "Your chat is booked." in messages_to(runtime, dai.last.contact_id)[0]
    assert "Sorry, the service had to cancel your chat" in messages_to(runtime, dai.last.contact_id)[1]


def test_welsh_bot_messages_show_the_scripts_own_english_under_them(night, runtime):
    eli = Conversation(night["dispatcher"], "sms", "+447700900305")
    eli("shwmae")
    eli("dw i eisiau marw")
    page = night["client"].get(f"/provider/people/{eli.last.contact_id}").get_data(as_text=True)
    assert "Anfonwch STOP i stopio" in page
    assert '<p class="english" lang="en"><span class="visually-hidden">In English: </span>' in page
    assert "In danger or badly hurt now? Call 999." in page, "the safety message's English too"


def test_a_move_at_night_or_outside_hours_is_refused_and_nothing_changes(night, runtime):
    client, demo = night["client"], night["demo"]
    fay = Conversation(night["dispatcher"], "sms", "+447700900306")
    fay.says(*self_referral("cardiff"))
    referral_id = latest_referral_id(runtime, demo.id)
    form(client, f"/provider/referrals/{referral_id}/confirm")
    tomorrow = (utcnow() + timedelta(days=1)).astimezone(runtime.timezone).date().isoformat()
    response = form(client, f"/provider/referrals/{referral_id}/booking/move", starts_at_day=tomorrow,
                    starts_at_time="03:00")  # fmt: skip
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is at night: a young person is never met between 21:00 and 08:00" in page
    answer = client.post(
        f"/api/v1/referrals/{referral_id}/booking/move",
        json={"starts_at": f"{tomorrow}T03:00:00+00:00"},
        headers=demo.auth,
    )
    assert answer.status_code == 422 and "at night" in answer.get_json()["detail"]
    with runtime.session() as session:
        live = [b for b in session.get(Referral, referral_id).bookings if b.status != BookingStatus.CANCELLED]
        assert len(live) == 1 and live[0].status == BookingStatus.CONFIRMED


def test_search_and_filters_find_referrals_by_number_area_worker_and_language(night, runtime):
    client, demo = night["client"], night["demo"]
    gus = Conversation(night["dispatcher"], "sms", "+447700900307")
    gus.says(*self_referral("cardiff"))
    referral_id = latest_referral_id(runtime, demo.id)
    assert f"Referral {referral_id}</a>" in client.get(f"/provider/?q=%23{referral_id}").get_data(as_text=True)
    assert f"Referral {referral_id}</a>" in client.get("/provider/?q=Caerdydd").get_data(as_text=True)
    assert f"Referral {referral_id}</a>" not in client.get("/provider/?q=nobody-like-this").get_data(as_text=True)
    assert f"Referral {referral_id}</a>" not in client.get("/provider/?language=cy").get_data(as_text=True)
    today = client.get("/provider/?today=1").get_data(as_text=True)
    with runtime.session() as session:
        booking = session.get(Referral, referral_id).bookings[-1]
        booked_today = (
            booking.starts_at.astimezone(runtime.timezone).date() == utcnow().astimezone(runtime.timezone).date()
        )
    assert (f"Referral {referral_id}</a>" in today) == booked_today
    assert "New message" in client.get("/provider/").get_data(as_text=True), "they wrote; nobody read it yet"
    client.get(f"/provider/people/{gus.last.contact_id}")
    assert "New message" not in client.get("/provider/").get_data(as_text=True)


def test_a_closed_day_lists_the_bookings_it_falls_on_and_each_is_moved_with_the_young_person_told(night, runtime):
    client, demo = night["client"], night["demo"]
    with runtime.session() as session, session.begin():
        session.get(StaffUser, night["staff_id"]).role = "provider_admin"
    hal = Conversation(night["dispatcher"], "sms", "+447700900308")
    hal.says(*self_referral("cardiff"))
    referral_id = latest_referral_id(runtime, demo.id)
    form(client, f"/provider/referrals/{referral_id}/confirm")
    with runtime.session() as session:
        booking = session.get(Referral, referral_id).bookings[-1]
        day, worker_id = booking.starts_at.astimezone(runtime.timezone).date(), booking.worker_id
    response = form(client, "/provider/exceptions", day=day.isoformat(), worker_id=str(worker_id), note="Sick")
    assert "/provider/closed-days/" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Referral {referral_id}" in page and "Move it and tell them" in page
    new_time = working_time(runtime, utcnow() + timedelta(days=(day - utcnow().date()).days + 1), worker_id)
    local = new_time.astimezone(runtime.timezone)
    moved = form(client, f"/provider/referrals/{referral_id}/booking/move", booking_id=str(booking.id),
                 starts_at_day=local.date().isoformat(), starts_at_time=local.strftime("%H:%M"), why="closed day",
                 back=response.headers["Location"])  # fmt: skip
    assert moved.headers["Location"] == response.headers["Location"]
    assert "No booked chat falls on it now." in client.get(moved.headers["Location"]).get_data(as_text=True)
    assert "Your chat has moved." in messages_to(runtime, hal.last.contact_id)[-1]
    with runtime.session() as session:
        assert session.scalars(sa.select(AvailabilityException)).first().note == "Sick"
        assert (
            session.scalars(sa.select(Booking).where(Booking.referral_id == referral_id)).all()[-1].starts_at
            == new_time
        )


def test_another_providers_person_is_not_found(night, runtime):
    dee = Conversation(night["dispatcher"], "sms", "+447700900309")
    dee.says(*self_referral(OTHER_AREA.replace("_", " ")))
    assert night["client"].get(f"/provider/people/{dee.last.contact_id}").status_code == 404
    response = form(night["client"], f"/provider/people/{dee.last.contact_id}/notes", text="hello")
    assert response.status_code == 404
    assert night["client"].get("/provider/people/99999999").status_code == 404


def test_after_a_confirmation_or_cancellation_the_young_person_is_not_sent_the_menu_again(night, runtime):
    client, demo = night["client"], night["demo"]
    ivy = Conversation(night["dispatcher"], "sms", "+447700900310")
    ivy.says(*self_referral("cardiff"))
    menu = ivy("menu")[-1]
    referral_id = latest_referral_id(runtime, demo.id)
    form(client, f"/provider/referrals/{referral_id}/confirm")
    form(client, f"/provider/referrals/{referral_id}/booking/cancel")
    sent = messages_to(runtime, ivy.last.contact_id)
    assert len(sent) == 2 and "Your chat is booked." in sent[0] and "had to cancel your chat" in sent[1]
    assert not any(menu.splitlines()[0] in text for text in sent), "the menu is not sent again"
    answer = ivy("1")
    assert answer and not answer[0].startswith("Sorry"), "the open menu still takes an answer"
