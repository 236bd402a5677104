"""The coordinators' studio in a real browser (Debian's headless Chromium, driven by Playwright).

One test walks the whole story: log in, change a Welsh text, break the YAML and see the error at its line,
fix it, try the journey in the simulator, save that chat as a test (staying there), publish (seeing the
changed words), and see the live bot send the new text over the SMS webhook; then restore the earlier version,
giving a reason, and see the old text come back. Others: the texts table and the simulator count SMS parts
alike, a Welsh text left behind by its English is marked, and the longest scripts' diagrams are readable.
Screenshots of the main pages are kept in test-artifacts/studio/ (git-ignored).

These run on SQLite only (a file of their own); the same code is tested on PostgreSQL in test_studio.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from auxil.browser import browser, new_page  # noqa: F401  (browser: the fixture)
from auxil.live_app import LiveApp
from playwright.sync_api import expect

from bot.demo import reset_demo_coordinator
from bot.releases import builtin_files, check
from conversations import sms
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


def say_shwmae_in_the_simulator(page) -> None:
    """Open Try a chat on a Welsh phone and greet the bot, as a Welsh-speaking young person would."""
    page.get_by_role("link", name="Try a chat").click()
    page.get_by_label("Phone language").select_option("cy")
    page.wait_for_load_state()
    page.get_by_label("Your message").fill("shwmae")
    page.get_by_label("Your message").press("Enter")
    page.locator(".bubble.bot").first.wait_for()


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
    expect(counter).to_contain_text("UCS-2 (because of ŵ)")
    welsh.fill(welsh.input_value().replace(" ŵ", ""))
    expect(counter).to_contain_text("GSM-7")
    shot(page, "03-texts")
    page.get_by_role("button", name="Save draft").click()
    assert "Saved the draft of welcome.yaml: 1 text changed (1 in Welsh)." in page.locator(".flash").inner_text()
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
    say_shwmae_in_the_simulator(page)
    assert NEW_WELSH in page.locator("#chat").inner_text()
    page.get_by_label("Your message").fill("1")
    page.get_by_label("Your message").press("Enter")
    page.wait_for_selector("text=welcome.young_person_menu (waiting for an answer)")
    shot(page, "05-simulator")
    page.get_by_label("Save this chat as a test, named").fill(TEST_NAME)
    page.get_by_role("button", name="Save as a test").click()
    # Still in the simulator, the chat as it was, and told there where the test went.
    expect(page.locator("#saved-test")).to_contain_text(f"Saved this chat as the test “{TEST_NAME}”")
    assert "/studio/simulator" in page.url and NEW_WELSH in page.locator("#chat").inner_text()
    shot(page, "05b-simulator-saved-a-test")
    page.locator("#saved-test").get_by_role("link", name="See the test").click()
    assert "- bot: Anfonwch STOP unrhyw bryd i stopio" in page.locator("#yaml-text").input_value()
    timer.lap("simulate and save as a test")

    # Publish: checks, every test (the new one too), the diff, a message.
    page.get_by_role("link", name="Scripts", exact=True).click()
    page.get_by_role("link", name="Check and publish the draft").click()
    results = page.locator("ul.tests li")
    assert results.filter(has_text=TEST_NAME).inner_text().startswith("✓")
    assert results.filter(has_text="✗").count() == 0
    welsh_change = page.locator("table.text-changes td[lang=cy]").filter(has_text=NEW_WELSH)
    assert welsh_change.locator("ins").all_inner_texts() == ["unrhyw bryd "]
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

    # Restore the version before: it asks why and for a confirmation, then the old text is back.
    page.get_by_role("link", name="Restore version 1").click()
    page.get_by_role("button", name="Restore version 1").click()  # the browser asks for the reason first
    assert "/restore" in page.url
    page.get_by_label("Why restore it?").fill("The shorter Welsh read better")
    page.get_by_label("Yes, make version 1 live now").check()
    shot(page, "07b-restore-asks-why")
    page.get_by_role("button", name="Restore version 1").click()
    assert "Version 1 is live again, as version 3" in page.locator(".flash").inner_text()
    assert "because: The shorter Welsh read better" in page.locator("tr", has_text="Version 3").inner_text()
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


# Welsh with ŵ and ŷ, an emoji and a curly quote: UCS-2, and long enough that the SMS channel sends the
# greeting (3 parts) and the question (2 parts) as separate messages, so each is counted on its own.
GREETING_CY = "Helo! Dyma sgwrs breifat am ddim i bobl ifanc a’u teuluoedd 😀. " * 2 + "Mae’r ŵyn yn yr ŷd."
QUESTION_CY = "Pwy ydych chi? Dewiswch un rhif, os gwelwch yn dda 🙂 (ŵ ŷ)"


def test_the_texts_table_and_the_simulator_count_the_same_welsh_message_alike(page, live_studio: LiveStudio):
    page.goto(f"{live_studio.base}/studio/scripts/texts/welcome.yaml")
    page.locator('[id="cy:steps.hello.say"]').fill(GREETING_CY)
    page.locator('[id="cy:steps.role.choose"]').fill(QUESTION_CY)
    greeting = page.locator('tr[data-message="steps.hello.say"] output[data-counter="cy"]')
    question = page.locator('tr[data-message="steps.role.choose"] output[data-counter="cy"]').first
    expect(greeting).to_contain_text("3 SMS parts · UCS-2 (because of 😀 ŵ ŷ)")  # the ’ goes as a plain '
    expect(question).to_contain_text("2 SMS parts · UCS-2 (because of 🙂 ŵ ŷ)")
    in_table = [greeting.inner_text(), question.inner_text()]
    shot(page, "10-texts-welsh-and-emoji")
    page.get_by_role("button", name="Save draft").click()
    assert "Saved the draft of welcome.yaml: 2 texts changed (2 in Welsh)." in page.locator(".flash").inner_text()

    say_shwmae_in_the_simulator(page)
    in_simulator = page.locator(".bubble.bot .meta").all_inner_texts()[:2]
    shot(page, "11-simulator-welsh-and-emoji")
    assert in_simulator == in_table
    # The one counter, conversations/sms.py: the same words as the page and the simulator.
    assert in_table[0] == sms.count(GREETING_CY).describe()


def test_a_welsh_text_left_behind_by_its_english_is_marked_until_confirmed(page, live_studio: LiveStudio):
    page.goto(f"{live_studio.base}/studio/scripts/texts/welcome.yaml")
    page.locator('[id="en:steps.role.choose"]').fill("Who is writing to us?")
    page.get_by_role("button", name="Save draft").click()
    row = page.locator('tr[data-message="steps.role.choose"]').first
    expect(row.locator("p.stale")).to_contain_text("Needs checking: the English changed after this Welsh was written.")
    assert "1 Welsh text needs checking" in page.locator(".flash.warning").inner_text()
    shot(page, "12-texts-welsh-needs-checking")
    row.get_by_role("button", name="Confirm the Welsh still fits").click()
    assert "is confirmed to fit its English" in page.locator(".flash").first.inner_text()
    assert page.locator("p.stale").count() == 0


def test_the_publish_page_wraps_every_line_and_marks_changed_words(page, live_studio: LiveStudio):
    page.goto(f"{live_studio.base}/studio/scripts/texts/welcome.yaml")
    welsh = page.locator('[id="cy:steps.hello.say"]')
    welsh.fill(welsh.input_value().replace(OLD_WELSH, NEW_WELSH))
    english = page.locator('[id="en:steps.role.choose"]')
    english.fill("Who are you? " + "This is a very long question that goes on and on. " * 6)
    page.get_by_role("button", name="Save draft").click()
    page.goto(f"{live_studio.base}/studio/scripts/publish")
    page.locator("details.line-diffs summary").click()
    expect(page.locator("ul.findings.warnings")).to_be_visible()  # the warnings are shown, not folded away
    changed = page.locator("table.text-changes tbody tr")
    assert changed.count() == 2
    assert page.locator("table.text-changes td[lang=cy] ins").all_inner_texts() == ["unrhyw bryd "]
    cut = page.evaluate(
        "() => Array.from(document.querySelectorAll('.diff pre, table.text-changes td'))"
        ".filter(box => box.scrollWidth > box.clientWidth + 1).length"
    )
    assert cut == 0  # nothing runs past the edge of its box
    shot(page, "13-publish-warnings-and-text-diff")


@pytest.mark.parametrize("script", ["booking", "self_referral"])
def test_the_longest_scripts_diagrams_are_laid_out_readably(page, live_studio: LiveStudio, script: str):
    page.goto(f"{live_studio.base}/studio/scripts/diagram/{script}.yaml")
    page.locator("#diagram[data-laid-out=yes]").wait_for()
    shot(page, f"14-diagram-{script}")
    unscrolled = "wrap => { wrap.style.maxHeight = 'none'; wrap.style.overflow = 'visible'; }"
    page.locator("#diagram").evaluate(unscrolled)  # the whole diagram in the screenshot
    page.locator("#diagram svg").screenshot(path=str(ARTIFACTS / f"15-diagram-{script}-whole.png"))
    drawn = page.evaluate(
        """() => {
        const svg = document.querySelector('#diagram svg');
        const box = (element) => { const b = element.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; };
        return {
          width: svg.width.baseVal.value,
          height: svg.height.baseVal.value,
          steps: Array.from(svg.querySelectorAll('a.step > rect')).map(box),
          labels: Array.from(svg.querySelectorAll('g.edge-label > rect')).map(box),
          words: Array.from(svg.querySelectorAll('a.step text')).map((text) => text.textContent),
        };
      }"""
    )
    steps, labels = drawn["steps"], drawn["labels"]

    def overlap(a: list[float], b: list[float]) -> bool:
        return a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1

    assert len(steps) > 15
    assert drawn["height"] > drawn["width"] / 2  # top to bottom, not one long row
    assert drawn["width"] < 2400, drawn["width"]
    assert not any(overlap(a, b) for n, a in enumerate(steps) for b in steps[n + 1 :])
    assert not any(overlap(label, step) for label in labels for step in steps)
    assert not any(overlap(a, b) for n, a in enumerate(labels) for b in labels[n + 1 :])
    ids = page.evaluate("() => Array.from(document.querySelectorAll('#diagram a.step')).map(a => a.dataset.step)")
    assert not set(ids) & set(drawn["words"])  # plain words in the boxes, not step ids
