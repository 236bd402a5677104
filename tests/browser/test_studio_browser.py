"""The coordinators' studio in a real browser (Debian's headless Chromium, driven by Playwright).

One test walks the whole story: log in, change a Welsh text, break the YAML and see the error at its line,
fix it, try the journey in the simulator, save that chat as a test, publish, and see the live bot send the
new text over the SMS webhook; then restore the earlier version and see the old text come back.
Screenshots of the main pages are kept in test-artifacts/studio/ (git-ignored).

These run on SQLite only (a file of their own); the same code is tested on PostgreSQL in test_studio.py.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from auxil.browser import browser, new_page  # noqa: F401  (browser: the fixture)
from auxil.live_app import LiveApp

from bot.demo import reset_demo_coordinator
from bot.releases import builtin_files, check
from conversations import sms
from conversations.validate import PREVIEW_ALARM_WORDS, _alarm_pattern
from webhooks.staff_login import WRONG_LOGIN

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "studio"
OLD_WELSH = "Anfonwch STOP i stopio, neu HELP am help."
NEW_WELSH = "Anfonwch STOP unrhyw bryd i stopio, neu HELP am help."
TEST_NAME = "Welsh welcome says STOP works any time"


class LiveStudio(LiveApp):
    """The whole web app on 127.0.0.1 (studio and SMS webhook), with a coordinator's login."""

    def __init__(self, workdir: Path, data_key: str) -> None:
        super().__init__(workdir, data_key)
        with self.runtime.session() as session, session.begin():
            self.email, self.password = reset_demo_coordinator(session)


@pytest.fixture
def live_studio(tmp_path: Path, data_key: str) -> Iterator[LiveStudio]:
    studio = LiveStudio(tmp_path, data_key)
    yield studio
    studio.close()


@pytest.fixture
def page(browser, live_studio: LiveStudio):
    context, page, problems = new_page(browser)
    page.goto(f"{live_studio.base}/studio/")
    page.get_by_label("Email").fill(live_studio.email)
    page.get_by_label("Password").fill(live_studio.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/studio/scripts/")
    yield page
    context.close()
    assert problems == [], problems  # no script errors, nothing refused by the content security policy


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


class Timer:
    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: list[tuple[str, float]] = []

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps.append((name, now - self.last))
        self.last = now

    def write(self, test: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        lines = [f"{test}: {time.perf_counter() - self.start:.1f} s", *(f"  {n}: {s:.1f} s" for n, s in self.laps)]
        (ARTIFACTS / f"timings-{test}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print("\n".join(lines))


def test_the_whole_story_from_a_welsh_text_to_the_live_bot_and_back(page, live_studio: LiveStudio):
    timer = Timer()
    base = live_studio.base
    shot(page, "02-scripts")

    # Change a Welsh text in the texts table; the SMS counter under it keeps up.
    page.get_by_role("row", name="welcome").get_by_role("link", name="Texts").click()
    welsh = page.locator('[id="cy:steps.hello.say"]')
    assert OLD_WELSH in welsh.input_value()
    welsh.fill(welsh.input_value().replace(OLD_WELSH, NEW_WELSH + " ŵ"))
    counter = page.locator('tr[data-message="steps.hello.say"] output[data-counter="cy"]')
    assert "UCS-2 (because of ŵ)" in counter.inner_text()
    welsh.fill(welsh.input_value().replace(" ŵ", ""))
    assert "GSM-7" in counter.inner_text()
    shot(page, "03-texts")
    page.get_by_role("button", name="Save draft").click()
    assert "Saved the draft of welcome.yaml" in page.locator(".flash").inner_text()
    timer.lap("change a Welsh text")

    # Break the YAML: the error shows at its line as it is typed; then fix it and save with the keyboard.
    page.goto(f"{base}/studio/scripts/edit/welcome.yaml")
    editor = page.locator("#yaml-text")
    good = editor.input_value()
    assert NEW_WELSH in good
    broken = good.replace("\n  role:\n", "\n  role\n", 1)
    expected = check("scripts", {**builtin_files("scripts"), "welcome.yaml": broken}).errors[0]
    assert expected.file == "welcome.yaml" and expected.line > 0
    editor.fill(broken)
    error = page.locator(f'#problems li.error a.goto-line[data-line="{expected.line}"]')
    error.wait_for()
    assert f"Line {expected.line}" in error.inner_text()
    assert page.locator("#gutter span.error").inner_text() == str(expected.line)
    shot(page, "04-editor-error")
    error.click()
    selected = page.evaluate(
        "() => { const t = document.getElementById('yaml-text'); "
        "return t.value.slice(0, t.selectionStart).split('\\n').length }"
    )
    assert selected == expected.line
    editor.fill(good)
    page.locator("#problems li.error").first.wait_for(state="detached")
    page.keyboard.press("Control+s")
    page.wait_for_selector(".flash")
    assert "Saved the draft of welcome.yaml" in page.locator(".flash").inner_text()
    timer.lap("break and fix the YAML")

    # Try the journey in Welsh by SMS, then save the chat as a test.
    page.get_by_role("link", name="Try a chat").click()
    page.get_by_label("Phone language").select_option("cy")
    page.wait_for_load_state()
    page.get_by_label("Your message").fill("shwmae")
    page.get_by_label("Your message").press("Enter")
    page.locator(".bubble.bot").first.wait_for()
    assert NEW_WELSH in page.locator("#chat").inner_text()
    page.get_by_label("Your message").fill("1")
    page.get_by_label("Your message").press("Enter")
    page.wait_for_selector("text=welcome.young_person_menu (waiting for an answer)")
    shot(page, "05-simulator")
    page.get_by_label("Save this chat as a test, named").fill(TEST_NAME)
    page.get_by_role("button", name="Save as a test").click()
    page.wait_for_url("**/studio/scripts/edit/transcripts/**")
    assert "- bot: Anfonwch STOP unrhyw bryd i stopio" in page.locator("#yaml-text").input_value()
    timer.lap("simulate and save as a test")

    # Publish: checks, every test (the new one too), the diff, a message.
    page.get_by_role("link", name="Scripts", exact=True).click()
    page.get_by_role("link", name="Check and publish the draft").click()
    results = page.locator("ul.tests li")
    assert results.filter(has_text=TEST_NAME).inner_text().startswith("✓")
    assert results.filter(has_text="✗").count() == 0
    assert NEW_WELSH in page.locator(".diff span.added").all_inner_texts()[0] or any(
        NEW_WELSH in line for line in page.locator(".diff span.added").all_inner_texts()
    )
    shot(page, "06-publish")
    timer.lap("run the checks and tests")
    page.get_by_label("What changed and why").fill("Welsh welcome: STOP works any time")
    page.get_by_role("button", name="Publish: make this version live").click()
    page.wait_for_url("**/studio/scripts/history")
    assert "version 2 of the conversation scripts is live now" in page.locator(".flash").inner_text()
    shot(page, "07-history")

    # The live bot, over the SMS webhook, now sends the new text.
    assert NEW_WELSH in "\n".join(live_studio.text_the_bot("+447700900411", "shwmae"))
    timer.lap("publish, and the bot sends it")

    # Restore the version before: one click, and the old text is back.
    page.get_by_role("button", name="Restore version 1").click()
    assert "Version 1 is live again, as version 3" in page.locator(".flash").inner_text()
    replies = "\n".join(live_studio.text_the_bot("+447700900412", "shwmae"))
    assert OLD_WELSH in replies and NEW_WELSH not in replies
    timer.lap("restore, and the bot is back")

    page.get_by_role("link", name="Who changed what").click()
    assert page.locator("td", has_text="Welsh welcome: STOP works any time").count() == 1
    page.goto(f"{base}/studio/scripts/diagram/welcome.yaml")
    shot(page, "08-diagram")
    page.goto(f"{base}/studio/helplines/")
    shot(page, "09-helplines")
    timer.write("story")


def test_the_login_page_refuses_a_wrong_password(browser, live_studio: LiveStudio):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_studio.base}/studio/")
    assert page.url == f"{live_studio.base}/login?next=/studio/"
    shot(page, "01-login")
    page.get_by_label("Email").fill(live_studio.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert page.locator(".flash.error").inner_text() == WRONG_LOGIN
    context.close()


def texts_for_the_counter() -> list[str]:
    """Edge cases of SMS lengths and encodings, and random mixtures of every kind of character."""
    welsh, emoji, curly = "ŵŷâêîôûŴŶ", "😀👍❤️🙂", "‘’“”–…"
    fixed = [
        "", "a", "a" * 160, "a" * 161, "a" * 306, "a" * 307, "a" * 459, "a" * 460,
        "€" * 80, "€" * 81, "a" * 152 + "€" + "a" * 10, "{}[]~|^\\€" * 20,
        "ŵ" * 70, "ŵ" * 71, "ŵ" * 134, "ŵ" * 135, "😀" * 35, "😀" * 36, "a" * 66 + "😀" + "a" * 10,
        "Helo {service_name}, ŵ", "line one\r\nline two\n", "Ä Ö Ñ Ü § ¿ à ç É", curly * 12,
    ]  # fmt: skip
    alphabet = [*sorted(sms.GSM7_BASIC), *sorted(sms.GSM7_EXTENSION), *welsh, *emoji, *curly]
    chance = random.Random(8)
    mixed = ["".join(chance.choice(alphabet) for _ in range(chance.randrange(0, 420))) for _ in range(300)]
    gsm7 = sorted(sms.GSM7_BASIC | sms.GSM7_EXTENSION)
    gsm_only = ["".join(chance.choice(gsm7) for _ in range(n)) for n in range(140, 480, 7)]
    return fixed + mixed + gsm_only


def first_lines_for_the_warning() -> list[tuple[str, str]]:
    english = [
        "Were you missing?", "MISSING", "Not missing: dismissing", "The police.\nNo police here", "police-led",
        "ran  away", "Ran\taway from home", "kill-joy", "die hard", "diet", "I'm in danger", "endangered", "",
        "\n\nabuse on line three", "crime's", "Police’s", "missing_", "Café police",
    ]  # fmt: skip
    welsh = ["Wedi mynd ar goll?", "ar\ngoll", "yr Heddlu", "heddluoedd", "cam-drin", "cam drin", "marw", "Perygl!"]
    return [("en", text) for text in english] + [("cy", text) for text in welsh]


def test_the_browser_counts_sms_parts_and_warns_exactly_as_the_server_does(page, live_studio: LiveStudio):
    page.goto(f"{live_studio.base}/studio/scripts/texts/welcome.yaml")
    texts = texts_for_the_counter()
    in_browser = page.evaluate(
        "texts => texts.map(t => [RhiSms.segments(t), RhiSms.encoding(t), RhiSms.length(t), RhiSms.nonGsm7(t)])", texts
    )
    in_python = [[sms.segments(t), sms.encoding(t), sms.length(t), sms.non_gsm7_characters(t)] for t in texts]
    assert in_browser == in_python
    cases = first_lines_for_the_warning()
    warned = page.evaluate("cases => cases.map(([language, text]) => RhiSms.alarmingWords(text, language))", cases)
    expected = []
    for language, text in cases:
        first = next((line for line in text.splitlines() if line.strip()), "")
        expected.append([word for word in PREVIEW_ALARM_WORDS[language] if _alarm_pattern(word).search(first)])
    assert warned == expected
    assert any(expected) and not all(expected)
