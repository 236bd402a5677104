"""``POST /api/v1/episodes``, over real HTTP at every edge: a service tells the bot a young person is back; the
offer reaches the local Twilio at once (or at 08:00 when it is reported at night); the young person answers in
words and books a time without being asked again when they came back; the service hears ``booking.requested``.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import auxil.channels as channel_fixtures
import pytest
import requests
import sqlalchemy as sa
from auxil.fake_twilio import SmsUser
from auxil.offers import CHILD, clock_at, report
from auxil.provider_endpoint import ProviderEndpoint, relay_everything, use_as_demo_webhook
from auxil.providers import demo_login, other_provider

from bot.worker import run_periodic_jobs
from conversations.validate import PREVIEW_ALARM_WORDS
from models import Episode, Offer, OfferMethod, OfferStatus, OutboxEvent, Referral

channels = channel_fixtures.channels
server = channel_fixtures.server
telegram_api = channel_fixtures.telegram_api
twilio_api = channel_fixtures.twilio_api
PUBLIC_BASE_URL = channel_fixtures.PUBLIC_BASE_URL


@pytest.fixture
def case_system(channels):
    with ProviderEndpoint() as endpoint:
        yield use_as_demo_webhook(channels, endpoint)


def post(server: str, auth: dict[str, str], body: dict) -> requests.Response:
    return requests.post(f"{server}/api/v1/episodes", json=body, headers=auth, timeout=30)


def the_referral(runtime) -> Referral:
    with runtime.session() as session:
        return session.scalars(sa.select(Referral)).one()


def test_a_reported_return_is_offered_at_once_and_the_young_person_books_without_being_asked_again(
    channels, server, twilio_api, case_system
):
    channels.clock = clock = clock_at(10)
    demo = demo_login(channels, staff=False)

    response = post(server, demo.auth, report(clock.now))

    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["created"] is True and answer["episode_id"] and answer["referral_id"]
    relay_everything(channels)
    [offer] = twilio_api.sent_to(CHILD)
    first_line = offer.splitlines()[0]
    assert first_line.startswith("Hi, this is")
    assert not any(word in first_line.lower() for word in PREVIEW_ALARM_WORDS["en"])
    assert "your choice" in offer and "Gymraeg" in offer and "STOP" in offer
    referral = the_referral(channels)
    assert (referral.offered_at, referral.offer_method) == (clock.now, OfferMethod.BOT_SMS)

    young_person = SmsUser(f"{server}/webhooks/sms", f"{PUBLIC_BASE_URL}/webhooks/sms", CHILD)
    said = []
    for words in ["yes please, I'd like to talk", "a cafe", "anyone is fine", "1", "no", "yes send it"]:
        said.append("\n".join(young_person.texts(words)))
    assert "Where would you like to meet?" in said[0]
    assert "Sent!" in said[-1] or "Your chat is booked" in said[-1]
    everything = "\n".join(said)
    for asked_already in ("When did you get back?", "Where do you live?", "How old are you?", "Which area"):
        assert asked_already not in everything

    relay_everything(channels)
    types = [event["type"] for event in case_system.applied_events()]
    assert types == ["referral.created", "episode.reported", "booking.requested"]
    assert case_system.applied_events()[0]["data"]["referred_by"] == "provider"
    assert case_system.applied_events()[2]["data"]["referral_id"] == answer["referral_id"]


def test_a_return_reported_at_night_is_offered_at_eight_in_the_morning(channels, server, twilio_api):
    channels.clock = clock = clock_at(23, 10)
    demo = demo_login(channels, staff=False)

    assert post(server, demo.auth, report(clock.now)).status_code == 201
    relay_everything(channels)
    assert twilio_api.sent_to(CHILD) == []

    clock.now = clock_at(7, 59, days_ahead=2).now
    run_periodic_jobs(channels)
    relay_everything(channels)
    assert twilio_api.sent_to(CHILD) == []

    clock.advance(60)
    assert run_periodic_jobs(channels)["send_offers"] == 1
    relay_everything(channels)
    [offer] = twilio_api.sent_to(CHILD)
    assert offer.startswith("Hi, this is")
    assert the_referral(channels).offered_at == clock.now


def test_a_welsh_speaking_young_person_gets_the_offer_in_welsh(channels, server, twilio_api):
    channels.clock = clock = clock_at(16)
    demo = demo_login(channels, staff=False)

    assert post(server, demo.auth, report(clock.now, language="cy")).status_code == 201
    relay_everything(channels)

    [offer] = twilio_api.sent_to(CHILD)
    assert offer.startswith("Helo, ")
    assert "Ti sy'n dewis" in offer and "Hoffet ti gael un?" in offer
    assert "This message is also in English: reply ENGLISH." in offer  # the active offer, the other way round
    young_person = SmsUser(f"{server}/webhooks/sms", f"{PUBLIC_BASE_URL}/webhooks/sms", CHILD)
    assert "Ble hoffet ti gyfarfod?" in "\n".join(young_person.texts("hoffwn"))


def test_ten_reports_of_one_reference_at_once_make_one_episode_and_one_offer(channels, server, twilio_api):
    channels.clock = clock = clock_at(11)
    demo = demo_login(channels, staff=False)
    body = report(clock.now)
    start, answers = threading.Barrier(10), []

    def send() -> None:
        start.wait()
        answers.append(post(server, demo.auth, body))

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answer.status_code for answer in answers) == [201] * 10
    assert len({(a.json()["episode_id"], a.json()["referral_id"]) for a in answers}) == 1
    assert sorted(a.json()["created"] for a in answers) == [False] * 9 + [True]
    with channels.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Episode)) == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(Offer)) == 1
        offers_sent = sa.select(sa.func.count()).where(OutboxEvent.type == "message.offer")
        assert session.scalar(offers_sent) == 1
    relay_everything(channels)
    assert len(twilio_api.sent_to(CHILD)) == 1


@pytest.mark.one_database  # refused before anything the database does differently
@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"phone": "12345"}, "phone", "is not a mobile number"),
        ({"phone": "029 2012 3456"}, "phone", "is not a mobile number"),
        ({"returned_at": "FUTURE"}, "returned_at", "is in the future"),
        ({"returned_at": "yesterday-ish"}, "returned_at", "is not a date and time"),
        ({"area": "atlantis"}, "area", "'atlantis' is not an area we know: use one of cardiff, newport"),
        ({"area": "rhondda_cynon_taf"}, "area", "Rhondda Cynon Taf is not an area your service covers"),
        ({"parent_phone": "07700 900321"}, "parent_phone", "is the young person's own number"),
        ({"setting": "prison"}, "setting", "Input should be"),
        ({"reference": None}, "reference", "reference is required"),
    ],
)
def test_a_report_that_cannot_be_offered_is_refused_with_a_clear_reason_and_nothing_is_kept(
    channels, server, change, field, words
):
    channels.clock = clock = clock_at(12)
    demo = demo_login(channels, staff=False)
    if change.get("returned_at") == "FUTURE":
        change = {"returned_at": (clock.now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    body = report(clock.now, **change)
    if change.get("reference", "") is None:
        body.pop("reference", None)

    response = post(server, demo.auth, body)

    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert words in response.json()["detail"]
    with channels.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Episode)) == 0


def test_the_same_reference_from_another_service_is_its_own_episode(channels, server):
    channels.clock = clock = clock_at(12)
    demo, valleys = demo_login(channels, staff=False), other_provider(channels, staff=False)

    first = post(server, demo.auth, report(clock.now)).json()
    second = post(server, valleys.auth, report(clock.now, area="rhondda_cynon_taf", phone="07700 900777")).json()

    assert first["episode_id"] != second["episode_id"]
    with channels.session() as session:
        assert session.get(Referral, second["referral_id"]).provider_id == valleys.id
        assert session.get(Offer, 2).status == OfferStatus.SENT


def test_an_area_the_deployment_named_itself_is_another_services_not_an_unknown_one(channels, server):
    from bot.admin.areas import name_area

    channels.clock = clock = clock_at(12)
    demo = demo_login(channels, staff=False)
    with channels.session() as session, session.begin():
        name_area(session, "cwm_taf_north", en="Cwm Taf North", cy="Gogledd Cwm Taf")  # on no shipped list

    response = post(server, demo.auth, report(clock.now, area="cwm_taf_north"))

    assert response.status_code == 422, response.text
    assert response.json()["field"] == "area"
    assert "Cwm Taf North is not an area your service covers" in response.json()["detail"]
