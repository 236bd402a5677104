"""The return-interview report, told by a month of journeys.

January 2027 (London is on UTC then) is played over the SMS and Telegram webhooks at fixed times on the
simulated clock, with the provider's system confirming and closing referrals over the API: self-referrals from
each setting, a parent's hidden episode, declines with several reasons (one later accepted), alerts before and
after a referral, interviews held within and after the 72 hours with the reasons, follow-up, a second episode
for one child, one episode told twice, and referrals outside the month or for another provider. Then every
figure of the API, the CSV and the Reports pages is checked against what was played (``EXPECTED``).
"""

from __future__ import annotations

import csv
import html as html_module
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import requests
import sqlalchemy as sa
from auxil import staff
from auxil.channels import PUBLIC_BASE_URL, WEBHOOK_SECRET, channels, quick_person, telegram_api, twilio_api  # noqa: F401
from auxil.fake_telegram import TelegramUser
from auxil.fake_twilio import SmsUser
from auxil.local_server import serving
from auxil.providers import OTHER_AREA, PASSWORD, demo_login, other_provider

from bot.booking.availability import refresh_slots
from bot.providers.accounts import set_password
from bot.providers.return_interviews import SETTINGS, empty_figures, hide_small, suppressed
from models import Provider, Referral, StaffRole, StaffUser
from webhooks.app import create_app

JANUARY = {"from": "2027-01-01", "to": "2027-01-31"}


class Clock:
    """The simulated clock, set to each journey's time."""

    def __init__(self) -> None:
        self.now = datetime(2027, 1, 4, 10, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Played:
    """What one referral of the month should count as, in its setting."""

    setting: str
    age_band: str = "not_known"
    area: str = "not_known"
    channel: str = "sms"
    parent: bool = False
    declined: str | None = None  # the reason
    held: str | None = None  # "in_time", or the delay reason
    follow_up: tuple[bool, bool] = (False, False)  # needed, provided
    risks: tuple[str, ...] = ()


@dataclass
class Month:
    """What was played: the referrals of the demo provider in January, their episodes, and who went again."""

    referrals: list[Played] = field(default_factory=list)
    episodes: list[tuple[str, bool]] = field(default_factory=list)  # (setting, hidden), each counted once
    repeat: dict[str, int] = field(default_factory=dict)

    def figures(self) -> dict[str, dict]:
        settings = {name: empty_figures() for name in SETTINGS}
        for played in self.referrals:
            figures = settings[played.setting]
            figures["offered"] += not played.parent  # a parent's report is not an offer to the young person
            figures["parent_reports" if played.parent else "self_referrals"] += 1
            figures["by_age_band"][played.age_band] += 1
            figures["by_area"][played.area] = figures["by_area"].get(played.area, 0) + 1
            figures["by_channel"][played.channel] += 1
            figures["by_language"]["en"] += 1
            if played.declined:
                figures["declined"] += 1
                figures["decline_reasons"][played.declined] += 1
            elif not played.parent:
                figures["accepted"] += 1
            if played.held:
                figures["held"] += 1
                if played.held == "in_time":
                    figures["held_within_72_hours"] += 1
                else:
                    figures["held_after_72_hours"] += 1
                    figures["delay_reasons"][played.held] += 1
            figures["follow_up_needed"] += played.follow_up[0]
            figures["follow_up_provided"] += played.follow_up[1]
            for category in played.risks:
                figures["risks"][category] += 1
        for setting, hidden in self.episodes:
            settings[setting]["episodes"] += 1
            settings[setting]["hidden_episodes"] += hidden
        for setting, number in self.repeat.items():
            settings[setting]["repeat"] += number
        overall = empty_figures()
        for figures in settings.values():
            for name, value in figures.items():
                if isinstance(value, dict):
                    for key, number in value.items():
                        overall[name][key] = overall[name].get(key, 0) + number
                else:
                    overall[name] += value
        return {"overall": overall, "settings": settings}


# --- playing the month -------------------------------------------------------------------------------------

AMY = ["hi", "1", "2", "2", "yesterday", "no", "home", "cardiff", "yes", "cafe", "a woman", "1", "no", "yes"]


class Journeys:
    """The people of the month, on the web app over real HTTP, and the provider's system on its API."""

    def __init__(self, runtime, base_url: str, telegram) -> None:
        self.runtime, self.base_url, self.telegram = runtime, base_url, telegram
        self.clock = runtime.clock = Clock()
        self.demo = demo_login(runtime, staff=False)
        self.numbers = iter(range(1, 100))

    def at(self, day: int, hour: int = 10, month: int = 1) -> None:
        """Move the clock; the provider's open times are made afresh from then, as the worker does hourly."""
        self.clock.now = datetime(2027, month, day, hour, tzinfo=UTC)
        with self.runtime.session() as session, session.begin():
            for provider in session.scalars(sa.select(Provider)):
                refresh_slots(session, provider, self.clock.now, self.runtime.timezone)

    def sms(self, *messages: str, number: str | None = None) -> SmsUser:
        person = SmsUser(f"{self.base_url}/webhooks/sms", f"{PUBLIC_BASE_URL}/webhooks/sms",
                         number or f"+4477009000{next(self.numbers):02d}")  # fmt: skip
        self.again(person, *messages)
        return person

    def again(self, person: SmsUser, *messages: str) -> None:
        for message in messages:
            person.texts(message)

    def on_telegram(self, *messages: str) -> None:
        person = TelegramUser(self.telegram, f"{self.base_url}/webhooks/telegram", WEBHOOK_SECRET, 2222222)
        for message in messages:
            person.sends(message)

    def latest_referral(self) -> int:
        with self.runtime.session() as session:
            return session.scalar(sa.select(sa.func.max(Referral.id)))

    def provider(self, path: str, body: dict) -> None:
        response = requests.post(f"{self.base_url}/api/v1{path}", json=body, headers=self.demo.auth, timeout=30)
        assert response.status_code == 200, response.text

    def held(self, referral_id: int, *, weeks_late: int | None = None, reason: str | None = None, **follow_up) -> None:
        """The provider confirms the time (or the same time weeks later, past the deadline, with its reason: the
        worker's hours that weekday) and records the interview held."""
        confirm: dict = {}
        if weeks_late is not None:
            with self.runtime.session() as session:
                asked = min(booking.starts_at for booking in session.get(Referral, referral_id).bookings)
            confirm["starts_at"] = (asked + timedelta(weeks=weeks_late)).strftime("%Y-%m-%dT%H:%M:%SZ")
            if reason:
                confirm["delay_reason"] = reason
        self.provider(f"/referrals/{referral_id}/confirm", confirm)
        # The outcome is recorded once the interview has started (the service refuses it before), then the month
        # goes on from where it was.
        with self.runtime.session() as session:
            starts = min(booking.starts_at for booking in session.get(Referral, referral_id).bookings)
        now, self.clock.now = self.clock.now, max(self.clock.now, starts + timedelta(hours=1))
        self.provider(f"/referrals/{referral_id}/outcome", {"outcome": "interview_held", **follow_up})
        self.clock.now = now


def play_january(runtime, base_url: str, telegram) -> Month:
    month = Month()
    play = Journeys(runtime, base_url, telegram)
    other_provider(runtime, staff=False)

    # Mon 4: Amy, 13-15, home, police not told; booked inside the 72 hours, held, follow-up needed and given.
    play.at(4)
    amy = play.sms(*AMY)
    play.held(play.latest_referral(), follow_up_needed="school counsellor", follow_up_provided="referred")
    month.referrals.append(Played("home", "age_13_15", "cardiff", held="in_time", follow_up=(True, True)))
    month.episodes.append(("home", True))

    # Tue 5, on Telegram: Ben, 16-17, in care locally; held two days after the deadline, his choice.
    play.at(5)
    play.on_telegram("/start", "I'm a young person", "Ask for a chat with a worker", "16 or 17", "2 or 3 days ago",
                     "Yes", "In care near here", "Newport", "Yes, that's OK", "Youth centre", "Anyone is fine",
                     "1", "No", "Yes, send it")  # fmt: skip
    play.held(play.latest_referral(), weeks_late=2, reason="young_person_choice", follow_up_needed="mentoring")
    month.referrals.append(
        Played("care_local", "age_16_17", "newport", "telegram", held="young_person_choice", follow_up=(True, False))
    )
    month.episodes.append(("care_local", False))

    # Wed 6: Cai, 16-17, in care from another area, police maybe; the provider could only see him later.
    play.at(6)
    play.sms("hi", "1", "2", "3", "today", "not sure", "out of area", "vale of glamorgan", "yes", "cafe", "anyone",
             "1", "no", "yes")  # fmt: skip
    play.held(play.latest_referral(), weeks_late=1)
    month.referrals.append(Played("care_out_of_area", "age_16_17", "vale_of_glamorgan", held="no_availability"))
    month.episodes.append(("care_out_of_area", False))

    # Thu 7: Dee is in danger before she has a referral, then asks for one, telling nothing she need not.
    play.at(7)
    play.sms("hi", "i am going to kill myself tonight", "1", "2", "5", "longer ago", "no", "rather not say",
             "cardiff", "yes")  # fmt: skip
    month.referrals.append(Played("not_known", "not_known", "cardiff", risks=("suicide_self_harm",)))
    month.episodes.append(("not_known", True))

    # Fri 8 to Wed 13: four say no, for four reasons; Fin changes his mind the same day and books.
    play.at(8)
    play.sms("hey", "young person", "I don't want one", "Sounds too formal", "No thanks")
    month.referrals.append(Played("not_known", declined="too_formal"))
    play.at(11)
    fin = play.sms("hey", "young person", "I don't want one", "Worried about trouble", "No thanks")
    play.at(11, 15)
    play.again(fin, "hi", "2", "2", "today", "no", "home", "newport", "yes", "cafe", "anyone", "1", "no", "yes")
    month.referrals.append(Played("home", "age_13_15"))  # the referral he declined; made before he named his area
    month.episodes.append(("home", True))
    play.at(12)
    play.sms("hey", "young person", "I don't want one", "Something else", "my mum would find out", "no thanks")
    month.referrals.append(Played("not_known", declined="other"))
    play.at(13)
    play.sms("hey", "young person", "I don't want one", "6", "No thanks")  # scared people find out
    month.referrals.append(Played("not_known", declined="fear_retaliation"))

    # Thu 14: a mum tells of an episode the police never heard of.
    play.at(14)
    play.sms("Hi I'm a mum", "2", "1", "3", "2", "2", "2", "1", "2", "3", "1")
    month.referrals.append(Played("home", "age_13_15", "newport", parent=True))
    month.episodes.append(("home", True))

    # Fri 15: Lou refers herself to the other provider: never in this provider's report.
    play.at(15)
    play.sms("hi", "1", "2", "2", "yesterday", "yes", "home", OTHER_AREA.replace("_", " "), "yes")

    # Wed 20: Amy goes missing again (her first conversation has ended): a second referral.
    play.at(20)
    play.again(amy, "hi", "2", "2", "today", "yes", "home", "cardiff", "yes")
    month.referrals.append(Played("home", "age_13_15", "cardiff"))
    month.episodes.append(("home", False))
    month.repeat["home"] = 1

    # Thu 21: Ivy tells the same episode twice in one day: one episode, one referral.
    play.at(21)
    ivy = play.sms("hi", "1", "2", "2", "yesterday", "yes", "home", "cardiff", "yes")
    play.at(21, 16)
    play.again(ivy, "hi", "2", "2", "yesterday", "yes", "home", "cardiff", "yes")
    month.referrals.append(Played("home", "age_13_15", "cardiff"))
    month.episodes.append(("home", False))

    # Fri 22: Jon, in care locally, tells of being made to sell drugs once his request is in.
    play.at(22)
    play.sms("hi", "1", "2", "1", "today", "yes", "care", "newport", "yes", "they make me sell drugs and go country")
    month.episodes.append(("care_local", False))
    # Wed 27: a worker saw him without a booking here, after his deadline, and recorded no reason.
    play.at(27)
    play.provider(f"/referrals/{play.latest_referral()}/outcome", {"outcome": "interview_held"})
    month.referrals.append(
        Played("care_local", "under_13", "newport", held="not_recorded", risks=("criminal_exploitation",))
    )

    # Tue 2 February: outside the month.
    play.at(2, month=2)
    play.sms(*AMY[:9])
    return month


# --- checking it ---------------------------------------------------------------------------------------


@pytest.fixture
def server(channels):
    with serving(create_app(channels)) as base_url:
        yield base_url


def log_in_as(runtime, client, role: StaffRole, *, provider: bool = True) -> str:
    """Log in a new member of staff with ``role``; the page they land on."""
    email = f"{role.value}@reports.test"
    with runtime.session() as session, session.begin():
        provider_id = session.scalar(sa.select(Provider.id).where(Provider.slug == "demo")) if provider else None
        user = StaffUser(provider_id=provider_id, email=email, display_name="Rhian", role=role, password_hash="")
        set_password(user, PASSWORD)
        session.add(user)
    landing = staff.log_in(client, email, PASSWORD)
    assert landing.status_code == 302
    return landing.headers["Location"]


def page_figures(html: str) -> dict[tuple[str, str], str]:
    """Every number of the Reports page's tables, by (setting, measure)."""
    figures = {}
    for measure, cells in re.findall(r'<tr data-measure="([^"]+)">(.*?)</tr>', html, re.S):
        for setting, value in re.findall(r'<td data-setting="([^"]+)">([^<]*)</td>', cells):
            figures[setting, measure] = html_module.unescape(value)
    return figures


def flat(expected: dict, *, hide: bool, page: bool = False) -> dict[tuple[str, str], str]:
    """The expected figures as the CSV shows them, by (setting, measure), "<5" when hidden; on the page, every
    area of the period has a row, with a 0 under the settings it had none in."""
    shown = {}
    for setting, figures in (("overall", expected["overall"]), *expected["settings"].items()):
        if page:
            figures = {
                **figures,
                "by_area": {key: figures["by_area"].get(key, 0) for key in expected["overall"]["by_area"]},
            }
        for name, value in figures.items():
            for measure, number in value.items() if isinstance(value, dict) else [(None, value)]:
                number = hide_small(number) if hide else number
                key = name if measure is None else f"{name}.{measure}"
                shown[setting, key] = "<5" if number is None else str(number)
    return shown


def test_a_month_of_journeys_is_counted_in_the_api_the_csv_and_the_pages(channels, server, telegram_api):
    month = play_january(channels, server, telegram_api)
    expected = month.figures()
    demo = demo_login(channels, staff=False)

    # The API: every figure, with 1 to 4 hidden.
    answer = requests.get(f"{server}/api/v1/reports/return-interviews", params=JANUARY, headers=demo.auth, timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    hidden = suppressed({**expected, "weeks": []})
    assert body["overall"] == hidden["overall"]
    assert body["settings"] == hidden["settings"]
    assert body["overall"]["offered"] == 11 and body["overall"]["episodes"] == 9  # enough to be shown
    assert (body["from"], body["to"], body["area"]) == ("2027-01-01", "2027-01-31", None)
    # Held by the week the referral was made: Amy, Ben and Cai in the week of Monday 4 January, Jon in the week
    # of the 18th (hidden: fewer than 5).
    assert [week["week"] for week in body["weeks"]] == ["2026-12-28", "2027-01-04", "2027-01-11", "2027-01-18",
                                                         "2027-01-25"]  # fmt: skip
    assert [week["held"] for week in body["weeks"]] == [0, None, 0, None, 0]

    # One area only: Cardiff's referrals are Amy's two, Dee's and Ivy's.
    cardiff = requests.get(f"{server}/api/v1/reports/return-interviews", params={**JANUARY, "area": "cardiff"},
                           headers=demo.auth, timeout=30).json()  # fmt: skip
    assert cardiff["overall"]["by_area"] == {"cardiff": None} and cardiff["settings"]["home"]["offered"] is None

    # The CSV: one row per setting and measure, the same figures.
    download = requests.get(f"{server}/api/v1/reports/return-interviews", params={**JANUARY, "format": "csv"},
                            headers=demo.auth, timeout=30)  # fmt: skip
    assert download.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0] == ["from", "to", "area", "setting", "measure", "value"]
    assert {row[:3] for row in map(tuple, rows[1:])} == {("2027-01-01", "2027-01-31", "all")}
    assert {(row[3], row[4]): row[5] for row in rows[1:]} == flat(expected, hide=True)

    # The provider's Reports page: the exact numbers; its printable page and CSV hide 1 to 4.
    client = create_app(channels, {"TESTING": True}).test_client()
    log_in_as(channels, client, StaffRole.PROVIDER_ADMIN)
    page = client.get("/provider/reports", query_string=JANUARY)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert page_figures(html) == flat(expected, hide=False, page=True)
    assert html.count('<svg class="chart" role="img"') == 5 and "<desc" in html
    assert '<th scope="row">Sounds too formal or scary</th>' in html  # codes are read as words
    printable = client.get("/provider/reports/print", query_string=JANUARY).get_data(as_text=True)
    assert page_figures(printable) == flat(expected, hide=True, page=True)
    assert client.get("/provider/reports.csv", query_string=JANUARY).get_data(as_text=True) == download.text

    # The partnership's page, for a commissioner: every provider (Lou's referral too), small numbers hidden.
    partnership = create_app(channels, {"TESTING": True}).test_client()
    log_in_as(channels, partnership, StaffRole.COMMISSIONER, provider=False)
    seen = page_figures(partnership.get("/partnership/", query_string=JANUARY).get_data(as_text=True))
    assert seen["overall", "offered"] == "12" and seen["overall", "by_area.rhondda_cynon_taf"] == "<5"
    assert seen["home", "offered"] == "5" and seen["home", "episodes"] == "6"
    assert partnership.get("/provider/").status_code == 403  # never a child's referral


def test_the_report_asks_for_a_valid_period_and_is_for_the_callers_referrals_only(channels, server):
    demo, other = demo_login(channels, staff=False), other_provider(channels, staff=False)
    url = f"{server}/api/v1/reports/return-interviews"
    wrong = [
        ({"to": "2027-01-31"}, "from"),
        ({**JANUARY, "from": "31/01/2027"}, "from"),
        ({**JANUARY, "format": "xlsx"}, "format"),
        ({**JANUARY, "provider": "2"}, "provider"),
        ({**JANUARY, "area": "cardiff\nX-Injected: 1"}, "area"),
    ]
    for query, field_name in wrong:
        refused = requests.get(url, params=query, headers=demo.auth, timeout=30)
        assert refused.status_code == 422 and refused.json()["field"] == field_name, refused.text
    assert requests.get(url, params=JANUARY, timeout=30).status_code == 401
    backwards = requests.get(url, params={"from": "2027-01-31", "to": "2027-01-01"}, headers=other.auth, timeout=30)
    assert backwards.json()["from"] == "2027-01-01" and backwards.json()["overall"]["offered"] == 0


def test_a_duty_worker_has_no_reports_and_a_commissioner_no_queue(channels):
    client = create_app(channels, {"TESTING": True}).test_client()
    log_in_as(channels, client, StaffRole.DUTY_WORKER)
    assert client.get("/provider/reports").status_code == 403
    assert client.get("/provider/reports.csv").status_code == 403
    assert client.get("/partnership/").status_code == 403
    commissioner = create_app(channels, {"TESTING": True}).test_client()
    assert log_in_as(channels, commissioner, StaffRole.COMMISSIONER, provider=False).endswith("/partnership/")
    assert commissioner.get("/provider/reports").status_code == 403
    landing = commissioner.get("/partnership/", query_string={"from": "not a day", "area": "atlantis"})
    assert landing.status_code == 200
    text = landing.get_data(as_text=True)
    assert "is not a day like" in text and "That area is not one of those listed" in text
