"""The duty worker's night in a real browser (Debian's headless Chromium, driven by Playwright).

One story: an alert from someone new arrives while the queue is open (no reload), the worker opens their page,
reads the conversation, ticks the checklist, messages them and sees the reply arrive; a move to 03:00 and an
outcome before the interview are refused; a sick day moves two bookings and both young people are told.
axe-core (vendored from npm in tests/browser/vendor/) checks every provider page on the way: no serious or
critical violation. Screenshots are kept in test-artifacts/duty/ (git-ignored).

These run on SQLite only (a file of their own); the same code is tested on PostgreSQL in
tests/webhooks/provider_pages/.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from auxil.browser import browser  # noqa: F401  (the fixture)
from auxil.live_app import LiveApp
from auxil.providers import messages_to, self_referral

from bot.demo import reset_demo_logins
from bot.providers import actions as provider_actions
from bot.providers.record import Actor
from models import Referral, Slot, SlotStatus

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "duty"
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
LIVE_WAIT_MS = 20_000  # the pages look again every 5 seconds


class LiveService(LiveApp):
    def __init__(self, workdir: Path, data_key: str) -> None:
        super().__init__(workdir, data_key)
        with self.runtime.session() as session, session.begin():
            logins = reset_demo_logins(session)
        self.email, self.password = logins.email, logins.password

    def referral_of(self, phone: str) -> Referral:
        self.text_the_bot(phone, "hi")
        for answer in self_referral("cardiff")[1:]:
            self.text_the_bot(phone, answer)
        with self.runtime.session() as session:
            return session.scalars(sa.select(Referral).order_by(Referral.id.desc()).limit(1)).one()


@pytest.fixture
def service(tmp_path: Path, data_key: str) -> Iterator[LiveService]:
    live = LiveService(tmp_path, data_key)
    yield live
    live.close()


def _open(browser, service: LiveService, viewport: dict[str, int]):
    context = browser.new_context(viewport=viewport, locale="en-US")  # a US browser: the pages stay en-GB
    context.set_default_timeout(30_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("dialog", lambda dialog: dialog.accept())  # "Move this booking?": yes
    page.goto(f"{service.base}/provider/")
    page.get_by_label("Email").fill(service.email)
    page.get_by_label("Password").fill(service.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/provider/")
    return context, page, problems


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def no_serious_violations(page) -> None:
    """axe-core on the page as it is: nothing serious or critical."""
    page.evaluate(AXE)  # evaluated by the browser's debugger, so the page's content security policy allows it
    found = page.evaluate("async () => { const r = await axe.run(document); return [r.violations, r.passes.length] }")
    violations, passed = found
    assert passed > 0, "axe checked the page"
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[node['target'] for node in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], f"{page.url}: {serious}"


def test_a_duty_workers_night(browser, service: LiveService):
    context, page, problems = _open(browser, service, {"width": 1280, "height": 900})
    shot(page, "01-queue-empty")
    no_serious_violations(page)

    # An alert from someone new arrives while the queue is open: no reload, and the title counts it.
    service.text_the_bot("+447700900501", "i want to end my life")
    page.wait_for_selector("[data-alert]", timeout=LIVE_WAIT_MS)
    assert page.title().startswith("(1) Queue")
    assert "suicide or self-harm" in page.locator("#alerts").text_content()
    shot(page, "02-queue-alert-arrived")

    # Their page: the conversation, what the bot told them, what to do now.
    page.locator("#alerts").get_by_role("link", name="Open their page").click()
    conversation = page.locator("#conversation")
    assert "i want to end my life" in conversation.inner_text()
    assert "Call 999" in page.locator("#person-alerts").inner_text()
    no_serious_violations(page)
    page.get_by_role("button", name="I've got this (acknowledge)").click()
    first_line = page.locator(".tick-box").first
    first_line.click()
    assert page.locator(".tick-box").first.get_attribute("aria-pressed") == "true"
    assert "ticked by" in page.locator(".checklist").inner_text()

    # A message to them, and their reply arrives on the page by itself.
    page.get_by_label("Message (sent through the bot").fill("Are you safe right now? I'm here tonight.")
    page.get_by_role("button", name="Send").click()
    assert "Message sent." in page.locator(".flash").inner_text()
    service.text_the_bot("+447700900501", "yes im at my nans now")
    page.locator("#conversation", has_text="yes im at my nans now").wait_for(timeout=LIVE_WAIT_MS)
    assert "sent them a message through the bot" in page.locator("#record").inner_text()
    shot(page, "03-person-page")

    # A booked young person: a move to 03:00 is refused, and so is an outcome before the chat starts.
    referral = service.referral_of("+447700900502")
    page.goto(f"{service.base}/provider/referrals/{referral.id}")
    no_serious_violations(page)
    page.get_by_role("button", name="Confirm and tell them").click()
    assert "Booking confirmed." in page.locator(".flash").inner_text()
    page.locator("summary", has_text="Move the booking").click()
    tomorrow = page.locator("#move-time-day option").nth(2).get_attribute("value")
    page.locator("#move-time-day").select_option(tomorrow)
    # 03:00 is not on the list; a crafted form sends it anyway, and the server refuses it.
    page.evaluate("document.getElementById('move-time-time').add(new Option('03:00', '03:00'))")
    page.locator("#move-time-time").select_option("03:00")
    page.get_by_role("button", name="Move it and tell them").click()
    assert "is at night" in page.locator(".flash.error").inner_text()
    page.locator("summary", has_text="Record the outcome").click()
    page.get_by_label("Outcome").select_option("interview_held")
    page.get_by_role("button", name="Record and close").click()
    assert "has not started yet" in page.locator(".flash.error").inner_text()
    shot(page, "04-referral-refusals")

    # A sick day: two chats with the same worker that day are moved, and both young people told.
    moved = _two_bookings_on_one_day(service)
    page.goto(f"{service.base}/provider/exceptions")
    no_serious_violations(page)
    adding = page.locator("section[aria-labelledby=add-title]")
    adding.get_by_role("textbox", name="Day (like 25/12/2026)").fill(
        moved["day"].strftime("%d/%m/%Y")
    )  # as people in the UK write it
    adding.locator("select[name=worker_id]").select_option(str(moved["worker_id"]))
    adding.get_by_role("button", name="Save").click()
    page.wait_for_url("**/provider/closed-days/**")
    assert page.locator(".closed-bookings > li").count() == 2
    no_serious_violations(page)
    shot(page, "05-closed-day")
    for new_time in moved["new_times"]:
        item = page.locator(".closed-bookings > li").first
        item.locator("select[name=starts_at_day]").select_option(new_time.date().isoformat())
        item.locator("select[name=starts_at_time]").select_option(new_time.strftime("%H:%M"))
        item.get_by_role("button", name="Move it and tell them").click()
        assert "Booking moved." in page.locator(".flash").first.inner_text()
    assert "No booked chat falls on it now." in page.locator("main").inner_text()
    for contact_id in moved["contacts"]:
        assert "Your chat has moved." in messages_to(service.runtime, contact_id)[-1]

    for path in ("/provider/checklists", "/provider/workers", "/provider/places", "/provider/settings",
                 "/provider/slots", f"/provider/workers/{moved['worker_id']}", "/provider/"):  # fmt: skip
        page.goto(f"{service.base}{path}")
        no_serious_violations(page)
    context.close()
    assert problems == [], problems  # no script errors, nothing refused by the content security policy


def test_on_a_phone_the_first_alert_is_on_the_first_screen(browser, service: LiveService):
    for n in range(3):
        service.text_the_bot(f"+44770090060{n}", "im going to kill myself")
    context, page, problems = _open(browser, service, {"width": 360, "height": 640})
    box = page.locator("[data-alert]").first.bounding_box()
    assert box is not None and box["y"] + 80 < 640, box
    shot(page, "06-phone-queue")
    context.close()
    assert problems == [], problems


def _two_bookings_on_one_day(service: LiveService) -> dict:
    """Two young people booked with one worker on one day, and two free times of hers another day."""
    referrals = [service.referral_of(phone) for phone in ("+447700900503", "+447700900504")]
    runtime = service.runtime
    with runtime.session() as session, session.begin():
        start = runtime.clock() + timedelta(days=1)
        slots_ahead = session.scalars(sa.select(Slot).where(Slot.starts_at > start).order_by(Slot.starts_at)).all()
        by_day: dict = {}
        taken: set = set()  # a worker's days with a chat already booked or held (another young person's)
        for slot in slots_ahead:
            key = (slot.worker_id, slot.starts_at.astimezone(runtime.timezone).date())
            if slot.status == SlotStatus.OPEN:
                by_day.setdefault(key, []).append(slot)
            else:
                taken.add(key)
        (worker_id, day), slots = next(
            (key, found) for key, found in by_day.items() if len(found) >= 2 and key not in taken
        )
        later = next(found for (w, d), found in by_day.items() if w == worker_id and d > day and len(found) >= 2)
        actor = Actor(referrals[0].provider_id, "api")
        for referral, slot in zip(referrals, slots, strict=False):
            provider_actions.confirm_booking(session, runtime, actor, referral.id, runtime.clock(),
                                             starts_at=slot.starts_at, worker_id=worker_id)  # fmt: skip
        new_times = [slot.starts_at.astimezone(runtime.timezone) for slot in later[:2]]
    return {
        "worker_id": worker_id,
        "day": day,
        "new_times": new_times,
        "contacts": [referral.contact_id for referral in referrals],
    }
