"""The provider's Reports page in a real browser (Debian's headless Chromium, driven by Playwright): a provider
admin logs in, picks the period, and reads the figures as charts and a table on a wide screen, on a phone and
printed. Screenshots are kept in test-artifacts/reports/ (git-ignored).

SQLite only (a file of its own); every figure is checked on both databases in
tests/bot/providers/test_return_interviews.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from auxil.browser import browser, new_page  # noqa: F401  (browser: the fixture)
from auxil.local_server import serving
from auxil.providers import PASSWORD
from conftest import Conversation

from bot.conversation.dispatcher import Dispatcher
from bot.demo import load_demo_data
from bot.providers.accounts import set_password
from bot.runtime import Runtime
from bot.settings import load_settings
from models import StaffRole, StaffUser
from models.migrate import upgrade
from webhooks.app import create_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"
NOW = datetime(2027, 1, 12, 10, tzinfo=UTC)
EMAIL = "manager@demo.test"
DECLINES = ["1", "2", "2", "3", "9"]  # no need, too formal twice, worried about trouble, told the police


@pytest.fixture
def site(tmp_path: Path, data_key: str) -> Iterator[str]:
    """The web app on its own SQLite file, with a week of referrals and a provider admin."""
    url = f"sqlite:///{tmp_path / 'reports.sqlite3'}"
    upgrade(url)
    # Two-factor sign-in is off: its own tests (tests/webhooks/test_two_factor.py) turn it on.
    runtime = Runtime(load_settings({"RHI_DATABASE_URL": url, "RHI_DATA_KEY": data_key,
                                     "RHI_INSTANCE_PATH": str(tmp_path), "RHI_REQUIRE_TWO_FACTOR": "off"}))  # fmt: skip
    runtime.clock = lambda: NOW
    with runtime.session() as session, session.begin():
        provider = load_demo_data(session, NOW, runtime.timezone)
        manager = StaffUser(provider_id=provider.id, email=EMAIL, display_name="Mari", password_hash="",
                            role=StaffRole.PROVIDER_ADMIN)  # fmt: skip
        set_password(manager, PASSWORD)
        session.add(manager)
    dispatcher = Dispatcher(runtime)
    for number, setting in enumerate(["home", "care", "out of area", "home"]):
        Conversation(dispatcher, "sms", f"+4477009001{number:02d}").says(
            "hi", "1", "2", "2", "yesterday", "no" if number % 2 else "yes", setting, "cardiff", "yes"
        )
    for number, reason in enumerate(DECLINES):
        Conversation(dispatcher, "sms", f"+4477009002{number:02d}").says("hi", "1", "3", reason, "no thanks")
    with serving(create_app(runtime)) as base_url:
        yield base_url
    runtime.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_manager_reads_the_months_figures_on_a_screen_a_phone_and_paper(browser, site: str):
    context, page, problems = new_page(browser)
    # The staff pages' empty favicon (data:,) is refused by the provider pages' img-src 'self': every provider
    # page has it, and it shows nothing either way.
    favicon = "Loading the image 'data:,' violates"
    page.goto(f"{site}/provider/reports")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/provider/reports")

    page.get_by_label("From", exact=True).fill("2027-01-01")
    page.get_by_label("To", exact=True).fill("2027-01-31")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**from=2027-01-01**")
    figures = page.get_by_role("table", name="The figures, by the setting the child went missing from")
    offered = figures.get_by_role("row", name="Interviews offered (b)")
    assert offered.get_by_role("cell").all_inner_texts() == ["9", "2", "1", "1", "5"]
    # Each chart is an image whose name and description give its numbers to a screen reader.
    declines = page.get_by_role("img", name="Why they declined")
    assert "Sounds too formal or scary: declined 2;" in declines.locator("desc").text_content()
    assert page.get_by_role("img").count() == 5
    shot(page, "01-reports-wide")

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing wider than the screen but tables
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.get_by_role("img", name="Hidden episodes, by setting").bounding_box()["width"] <= 390
    shot(page, "02-reports-phone")

    page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_role("link", name="Printable page for a partnership meeting").click()
    page.wait_for_url("**/provider/reports/print**")  # the cells read below are the printable page's
    page.emulate_media(media="print")
    assert not page.get_by_role("button", name="Show").is_visible()  # the form is not printed
    assert offered.get_by_role("cell").all_inner_texts() == ["9", "<5", "<5", "<5", "5"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(ARTIFACTS / "03-reports-a4.pdf"), format="A4")
    shot(page, "03-reports-print")
    context.close()
    problems = [problem for problem in problems if not problem.startswith(favicon)]
    assert problems == [], problems  # no script errors, nothing else refused by the content security policy
