"""Reporting returns from the provider's pages: one by the form, or a spreadsheet of them, whose every problem is
shown before anything is saved; and a worker's phone offer recorded on the referral's page."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from auxil import staff
from auxil.offers import clock_at
from auxil.providers import OTHER_AREA, PASSWORD, demo_login, latest_referral_id, other_provider, self_referral
from auxil.staff import csrf, form
from conftest import Conversation

from models import Episode, Offer, OfferMethod, Referral
from webhooks.app import create_app

COLUMNS = "reference,phone,parent_phone,returned_at,left_at,setting,area,language,age_band"


@pytest.fixture
def pages(runtime):
    runtime.clock = clock = clock_at(10)
    demo = demo_login(runtime)
    client = create_app(runtime, {"TESTING": True}).test_client()
    assert staff.log_in(client, demo.email, PASSWORD).status_code == 302
    return client, clock


def count(runtime, model) -> int:
    with runtime.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def spreadsheet(clock, rows: int, bad: dict[int, str]) -> str:
    """``rows`` returns, as a council's export; the rows in ``bad`` (by their number from 1) with that change."""
    back = (clock.now - timedelta(hours=5)).strftime("%d/%m/%Y %H:%M")
    lines = [COLUMNS]
    for n in range(1, rows + 1):
        line = f"REF-{n:04d},07700 9{n:05d},,{back},,care,cardiff,en,age_16_17"
        lines.append(bad.get(n, line).format(n=n, back=back))
    return "\n".join(lines) + "\n"


def upload(client, text: str):
    page = client.get("/provider/episodes").get_data(as_text=True)
    data = {"csrf_token": csrf(page), "action": "preview", "file": (io.BytesIO(text.encode()), "returns.csv")}
    return client.post("/provider/episodes/batch", data=data, content_type="multipart/form-data")


def test_a_spreadsheet_of_200_returns_with_3_bad_rows_shows_the_3_problems_and_saves_nothing(runtime, pages):
    client, clock = pages
    text = spreadsheet(
        clock,
        200,
        {
            17: "REF-0017,12345,,{back},,care,cardiff,en,age_16_17",
            88: "REF-0088,07700 900088,,01/01/2099 10:00,,care,cardiff,en,age_16_17",
            150: "REF-0150,07700 900150,,{back},,care,atlantis,en,age_16_17",
        },
    )

    preview = upload(client, text)

    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "197 rows ready, <strong>3 with problems</strong>. Nothing is saved yet." in html
    assert "<td>18</td><td>REF-0017</td><td>phone: &#39;12345&#39; is not a mobile number" in html
    assert "<td>89</td><td>REF-0088</td><td>returned_at: is in the future" in html
    assert "<td>151</td><td>REF-0150</td><td>area: &#39;atlantis&#39; is not an area we know" in html
    assert count(runtime, Episode) == 0

    # Saving without leaving the bad rows out on purpose is refused, and still saves nothing.
    refused = client.post(
        "/provider/episodes/batch", data={"csrf_token": csrf(html), "action": "save", "csv_text": text}
    )
    assert refused.status_code == 422
    assert "3 rows with problems: fix them, or leave them out" in refused.get_data(as_text=True)
    assert count(runtime, Episode) == 0

    saved = client.post(
        "/provider/episodes/batch",
        data={"csrf_token": csrf(html), "action": "save", "csv_text": text, "leave_out_problems": "on"},
    )
    assert saved.status_code == 303
    assert count(runtime, Episode) == 197 and count(runtime, Offer) == 197
    assert "197 returns recorded, 3 rows with problems left out" in client.get("/provider/").get_data(as_text=True)


def test_a_spreadsheet_with_a_column_we_do_not_know_is_refused_whole(runtime, pages):
    client, _ = pages
    html = upload(client, "reference,phone,returned,area\nR1,07700 900001,yesterday,cardiff\n").get_data(as_text=True)
    assert "line 1: &#39;returned&#39; is not a column we know" in html
    assert "Save" not in html.split("A spreadsheet of returns")[0]


def test_a_return_reported_by_the_form_is_offered_and_shown_on_its_referral(runtime, pages):
    client, clock = pages
    back = (clock.now - timedelta(hours=2)).astimezone(runtime.timezone).strftime("%Y-%m-%dT%H:%M")
    response = form(client, "/provider/episodes", reference="F-1", phone="07700 900501", returned_at=back,
                    area="newport", language="cy", setting="home")  # fmt: skip
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Return recorded." in page and "by the bot, by text" in page
    with runtime.session() as session:
        referral = session.scalars(sa.select(Referral)).one()
        assert (referral.area, referral.language, referral.offer_method) == ("newport", "cy", OfferMethod.BOT_SMS)


def test_a_form_with_problems_says_them_all_and_keeps_what_was_typed(runtime, pages):
    client, _ = pages
    response = form(client, "/provider/episodes", reference="F-2", phone="not a phone", returned_at="", area="cardiff")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "phone: &#39;not a phone&#39; is not a mobile number" in html and "returned at: give when" in html
    assert 'value="F-2"' in html
    assert count(runtime, Episode) == 0


def test_a_worker_records_a_phone_offer_and_the_first_offer_is_the_one_kept(runtime, pages, dispatcher):
    client, clock = pages
    other_provider(runtime, staff=False)
    back = (clock.now - timedelta(hours=30)).astimezone(runtime.timezone).strftime("%d/%m/%Y %H:%M")
    form(client, "/provider/episodes", reference="P-1", phone="07700 900502", returned_at=back, area="cardiff")
    with runtime.session() as session:
        referral_id = session.scalars(sa.select(Referral.id)).one()
        session.execute(sa.update(Referral).values(offered_at=None, offer_method=None))
        session.commit()

    phoned = (clock.now - timedelta(hours=1)).astimezone(runtime.timezone).strftime("%Y-%m-%dT%H:%M")
    response = form(client, f"/provider/referrals/{referral_id}/offered-by-phone", offered_at=phoned)
    assert response.status_code == 303
    later = form(client, f"/provider/referrals/{referral_id}/offered-by-phone")
    assert later.status_code == 303
    with runtime.session() as session:
        referral = session.get(Referral, referral_id)
        assert (referral.offered_at, referral.offer_method) == (clock.now - timedelta(hours=1), "worker_phone")


def test_another_services_referral_cannot_be_marked_offered(runtime, pages, dispatcher):
    client, _ = pages
    valleys = other_provider(runtime, staff=False)
    Conversation(dispatcher, "sms", "+447700900102").says(*self_referral(OTHER_AREA.replace("_", " ")))
    theirs = latest_referral_id(runtime, valleys.id)
    assert form(client, f"/provider/referrals/{theirs}/offered-by-phone").status_code == 404
    with runtime.session() as session:
        assert session.get(Referral, theirs).offer_method == OfferMethod.IN_CONVERSATION  # unchanged
