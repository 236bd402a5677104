"""The coordinators' studio through Flask's test client: logging in and its protections, editing a draft,
publishing and restoring, and the bot using what was published (conversations under way keep theirs).

The whole story in a real browser is in tests/browser/test_studio_browser.py.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from auxil import staff
from auxil.records import publish_directly
from conftest import Conversation

from bot.demo import reset_demo_coordinator
from bot.providers.accounts import FIRST_WAIT, FREE_FAILURES, set_password
from bot.releases import builtin_files
from bot.safeguarding.corpus import heldout_corpus
from bot.studio import store
from conversations import sms
from models import AuditEntry, LiveRelease, ScriptDraft, StaffRole, StaffUser, StudioChange, utcnow
from webhooks.app import create_app
from webhooks.staff_login import WAIT_FOR_EMAIL, WRONG_LOGIN
from webhooks.studio import views

# The studio's pages and publishing: plain SQLAlchemy writes that take no path of PostgreSQL's own.
pytestmark = pytest.mark.one_database

OLD_WELSH = "Anfonwch STOP i stopio, neu HELP am help."
NEW_WELSH = "Anfonwch STOP unrhyw bryd i stopio, neu HELP am help."
MENU_BEFORE = "Thanks. If you've been away from home or care"
MENU_AFTER = "Thanks for saying. If you've been away from home or care"


class Studio:
    """A browser's side of the studio, for tests that read like the story."""

    def __init__(self, runtime, **config) -> None:
        self.runtime = runtime
        self.email = ""
        self.app = create_app(runtime, {"TESTING": True, **config})
        self.client = self.app.test_client()

    def add_person(
        self, email: str, role: StaffRole = StaffRole.COORDINATOR, password: str = "a long demo password"
    ) -> str:
        with self.runtime.session() as session, session.begin():
            person = StaffUser(email=email, display_name=email.split("@")[0].title(), role=role, password_hash="")
            set_password(person, password)
            session.add(person)
        return password

    def token(self) -> str:
        return staff.csrf(self.client.get("/login").get_data(as_text=True))

    def log_in(self, email: str, password: str):
        return staff.log_in(self.client, email, password)

    def post(self, path: str, **data):
        return self.client.post(path, data={"csrf_token": self.token(), **data})

    def draft(self, kind: str, name: str) -> str | None:
        with self.runtime.session() as session:
            found = store.drafts(session, kind).get(name)
            return found.text if found else None

    def revision(self, kind: str, name: str) -> int:
        with self.runtime.session() as session:
            found = store.drafts(session, kind).get(name)
            return found.revision if found else 0


@pytest.fixture
def studio(runtime) -> Studio:
    return Studio(runtime)


@pytest.fixture
def coordinator(studio: Studio) -> Studio:
    with studio.runtime.session() as session, session.begin():
        email, password = reset_demo_coordinator(session)
    assert studio.log_in(email, password).status_code == 302
    studio.email = email
    return studio


def welcome_with(old: str, new: str) -> dict[str, str]:
    files = builtin_files("scripts")
    assert old in files["welcome.yaml"]
    files["welcome.yaml"] = files["welcome.yaml"].replace(old, new)
    return files


# --- logging in ------------------------------------------------------------------------------------------


def test_every_page_needs_a_login(studio):
    for path in ["/studio/", "/studio/scripts/", "/studio/simulator", "/studio/scripts/edit/welcome.yaml"]:
        response = studio.client.get(path)
        assert response.status_code == 302
        assert response.location == f"/login?next={path}"
    assert studio.client.post("/studio/api/check", json={}, headers={"X-CSRFToken": studio.token()}).status_code == 401


def test_logging_in_leads_back_to_the_page_asked_for(studio):
    password = studio.add_person("eleri@example.org")
    response = staff.log_in(studio.client, "eleri@example.org", password, next="/studio/helplines/")
    assert response.status_code == 302 and response.location == "/studio/helplines/"
    assert studio.log_in("eleri@example.org", password).location == "/studio/", "no next: the studio's first page"


def test_the_demo_coordinator_logs_in_and_sees_the_scripts(coordinator):
    page = coordinator.client.get("/studio/scripts/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Demo coordinator" in text and "welcome" in text and "Welsh checked" in text


def test_a_wrong_password_is_refused_and_many_bring_a_short_wait(studio):
    password = studio.add_person("eleri@example.org")
    start = utcnow()
    studio.runtime.clock = lambda: start
    for _ in range(FREE_FAILURES + 1):
        wrong = studio.log_in("eleri@example.org", "not the password")
        assert wrong.status_code == 401
        assert WRONG_LOGIN in wrong.get_data(as_text=True)
    waiting = studio.log_in("eleri@example.org", password)  # even the right one, for now
    assert waiting.status_code == 429 and WAIT_FOR_EMAIL in waiting.get_data(as_text=True)
    studio.runtime.clock = lambda: start + FIRST_WAIT + timedelta(seconds=1)
    assert studio.log_in("eleri@example.org", password).status_code == 302


def test_provider_staff_are_refused_the_studio_and_unknown_people_cannot_log_in(studio):
    password = studio.add_person("duty@example.org", StaffRole.DUTY_WORKER)
    assert studio.log_in("duty@example.org", password).status_code == 302
    refused = studio.client.get("/studio/scripts/")
    assert refused.status_code == 403 and "coordinators and admins" in refused.get_data(as_text=True)
    assert studio.log_in("nobody@example.org", password).status_code == 401


def test_too_many_failed_logins_from_one_address_are_slowed_down(runtime):
    studio = Studio(runtime, RHI_LOGIN_LIMIT="3 per 15 minutes")
    password = studio.add_person("rhys@example.org")
    for n in range(3):
        assert studio.log_in(f"guess{n}@example.org", "guess").status_code == 401
    refused = studio.log_in("rhys@example.org", password)
    assert refused.status_code == 429
    assert "Too many tries" in refused.get_data(as_text=True)


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(coordinator):
    text = builtin_files("scripts")["welcome.yaml"] + "\n# a change\n"
    for token in (None, "", "forged"):
        data = {"text": text, "revision": "0"}
        if token is not None:
            data["csrf_token"] = token
        response = coordinator.client.post("/studio/scripts/edit/welcome.yaml", data=data)
        assert response.status_code == 400
        assert "expired" in response.get_data(as_text=True)
    assert coordinator.draft("scripts", "welcome.yaml") is None
    api = coordinator.client.post("/studio/api/check", json={"kind": "scripts", "name": "welcome.yaml", "text": text})
    assert api.status_code == 400
    assert coordinator.client.post("/logout").status_code == 400  # logging out is a form too


def test_session_cookies_are_secure_httponly_and_samesite(studio, runtime):
    runtime.settings = dataclasses.replace(runtime.settings, public_base_url="https://rhi.example.org")
    secure = Studio(runtime)
    cookie = secure.client.get("/login").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_forbid_framing_inline_scripts_and_caching(coordinator):
    response = coordinator.client.get("/studio/scripts/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_an_admin_adds_a_coordinator_who_can_then_log_in(studio):
    password = studio.add_person("admin@example.org", StaffRole.ADMIN)
    studio.log_in("admin@example.org", password)
    added = studio.post(
        "/studio/people",
        email="new@example.org",
        display_name="Newydd",
        password="twelve chars long",
        role="coordinator",
    )
    assert added.status_code == 302
    other = Studio(studio.runtime)
    assert other.log_in("new@example.org", "twelve chars long").status_code == 302
    assert other.client.get("/studio/people").status_code == 403  # coordinators do not manage people


# --- editing a draft ---------------------------------------------------------------------------------------


def test_saving_yaml_with_a_mistake_keeps_the_draft_and_shows_the_error_at_its_line(coordinator):
    text = builtin_files("scripts")["welcome.yaml"]
    lines = text.splitlines()
    line = next(n for n, content in enumerate(lines, 1) if content.strip() == "role:")
    lines[line - 1] = "  role"  # the colon is missing
    saved = coordinator.post("/studio/scripts/edit/welcome.yaml", text="\n".join(lines), revision="0")
    assert saved.status_code == 302
    page = coordinator.client.get("/studio/scripts/edit/welcome.yaml").get_data(as_text=True)
    assert f'data-line="{line + 1}">Line {line + 1}</a>' in page or f'data-line="{line}">Line {line}</a>' in page
    assert "a key needs a colon" in page
    assert coordinator.draft("scripts", "welcome.yaml") == "\n".join(lines)


def test_the_editor_checks_as_you_type(coordinator):
    text = builtin_files("scripts")["welcome.yaml"].replace("next: role", "next: rol", 1)
    answer = coordinator.client.post(
        "/studio/api/check",
        json={"kind": "scripts", "name": "welcome.yaml", "text": text},
        headers={"X-CSRFToken": coordinator.token()},
    ).get_json()
    line = text.splitlines().index("    next: rol") + 1
    assert {"line": line, "level": "error"}.items() <= answer["problems"][0].items()
    assert '"rol"' in answer["problems"][0]["message"]
    assert coordinator.draft("scripts", "welcome.yaml") is None  # checking saves nothing


@pytest.mark.parametrize(
    ("kind", "name", "text", "expected"),
    [
        ("scripts", "welcome.yaml", "script: !!python/object/apply:os.system [touch /tmp/rhi-pwned]\n", "tags"),
        ("lexicon", "en.yaml", "language: !!python/name:os.system en\nentries: []\n", "tags"),
        ("helplines", "helplines.yaml", "intro: &a {en: x, cy: y}\nhelplines: *a\n", "anchors and aliases"),
        ("scripts", "welcome.yaml", "a: " + "x" * (300 * 1024) + "\n", "larger than 256 KiB"),
    ],
    ids=["python tag in a script", "python tag in the lexicon", "yaml aliases", "too big"],
)
def test_unsafe_or_oversized_yaml_is_not_saved(coordinator, kind, name, text, expected, tmp_path):
    response = coordinator.post(f"/studio/{kind}/edit/{name}", text=text, revision="0")
    assert response.status_code == 409
    assert expected in response.get_data(as_text=True)
    assert coordinator.draft(kind, name) is None


def test_a_request_larger_than_the_limit_is_refused(coordinator):
    response = coordinator.post("/studio/scripts/edit/welcome.yaml", text="x" * (views.MAX_REQUEST_BYTES + 1))
    assert response.status_code == 413


def test_saving_over_someone_elses_newer_draft_is_refused(coordinator):
    text = builtin_files("scripts")["welcome.yaml"]
    assert coordinator.post("/studio/scripts/edit/welcome.yaml", text=text + "# one\n", revision="0").status_code == 302
    late = coordinator.post("/studio/scripts/edit/welcome.yaml", text=text + "# two\n", revision="0")
    assert late.status_code == 409
    assert "saved a newer version" in late.get_data(as_text=True)
    assert coordinator.draft("scripts", "welcome.yaml").endswith("# one\n")


def test_the_texts_table_changes_welsh_marks_it_checked_and_keeps_the_rest_of_the_file(coordinator):
    page = coordinator.client.get("/studio/scripts/texts/decline.yaml").get_data(as_text=True)
    assert "Iawn, ti sy&#39;n dewis. Alli di ddweud pam?" in page
    assert "SMS part" in page
    key = "steps.reason.choose"
    saved = coordinator.post(
        "/studio/scripts/texts/decline.yaml",
        revision="0",
        **{f"en:{key}": "OK, it's your choice. Can you tell us why?", f"cy:{key}": "Iawn, ti sy'n dewis.\r\nPam?"},
        **{f"reviewed:{key}": "yes"},
    )
    assert saved.status_code == 302
    draft = coordinator.draft("scripts", "decline.yaml")
    before = builtin_files("scripts")["decline.yaml"]
    assert "      cy: |-\n        Iawn, ti sy'n dewis.\n        Pam?\n      cy_reviewed: true\n" in draft
    assert draft.splitlines()[:3] == before.splitlines()[:3]  # the comments at the top are still there
    with coordinator.runtime.session() as session:
        change = session.scalars(sa.select(StudioChange)).one()
    assert change.staff_name == "Demo coordinator"
    assert change.message == "texts table: 1 text changed (1 in Welsh); 1 Welsh text marked as checked"


def test_saving_the_texts_table_counts_the_texts_that_really_changed(coordinator):
    question, first, second = "steps.reason.choose", "steps.reason.options.0.label", "steps.reason.options.1.label"
    page = coordinator.client.get("/studio/scripts/texts/decline.yaml").get_data(as_text=True)
    assert 'id="en:steps.reason.options.1.label"' in page
    saved = coordinator.post(
        "/studio/scripts/texts/decline.yaml",
        revision="0",
        **{
            f"en:{question}": "OK, it's up to you. Can you tell us why?",
            f"cy:{question}": "Iawn, ti sy'n dewis. Alli di ddweud pam?",
        },
        **{f"en:{first}": "No need to talk", f"cy:{first}": "Does dim angen siarad"},
        **{f"en:{second}": "Sounds very formal", f"cy:{second}": "Swnio'n ffurfiol iawn"},
    )
    page = coordinator.client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Saved the draft of decline.yaml: 3 texts changed (2 in English, 2 in Welsh)." in page
    saved = coordinator.post(
        "/studio/scripts/texts/decline.yaml",
        revision="1",
        **{f"en:{first}": "No need to talk", f"cy:{first}": "Dim angen siarad"},
    )
    page = coordinator.client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Saved the draft of decline.yaml: 1 text changed (1 in Welsh)." in page


def test_a_welsh_text_whose_english_changed_needs_checking_until_someone_confirms_it(coordinator):
    question, label = "steps.reason.choose", "steps.reason.options.0.label"
    coordinator.post(
        "/studio/scripts/texts/decline.yaml",
        revision="0",
        **{
            f"en:{question}": "OK, it's up to you. Can you say why?",
            f"cy:{question}": "Iawn, ti sy'n dewis. Alli di ddweud pam?",
        },
        **{f"en:{label}": "I don't need to talk", f"cy:{label}": "Does dim angen i mi siarad"},  # both: rewritten
    )
    page = coordinator.client.get("/studio/scripts/texts/decline.yaml").get_data(as_text=True)
    assert "1 Welsh text needs checking" in page
    assert page.count("Needs checking:") == 1
    assert 'name="confirm" value="steps.reason.choose"' in page
    # Confirming (with nothing else changed) clears the mark, and says so.
    confirmed = coordinator.post("/studio/scripts/texts/decline.yaml", revision="1", confirm=question)
    page = coordinator.client.get(confirmed.headers["Location"]).get_data(as_text=True)
    assert "The Welsh of Step &#34;reason&#34;: the question is confirmed to fit its English." in page
    assert "Needs checking:" not in page
    # The English changes again in the YAML editor: the Welsh needs checking again.
    draft = coordinator.draft("scripts", "decline.yaml")
    changed = draft.replace("Can you say why?", "Can you tell us a bit about why?")
    coordinator.post("/studio/scripts/edit/decline.yaml", text=changed, revision="1")
    page = coordinator.client.get("/studio/scripts/texts/decline.yaml").get_data(as_text=True)
    assert page.count("Needs checking:") == 1
    # Writing new Welsh clears it too: it was written against the English it has now.
    coordinator.post(
        "/studio/scripts/texts/decline.yaml",
        revision="2",
        **{
            f"en:{question}": "OK, it's up to you. Can you tell us a bit about why?",
            f"cy:{question}": "Iawn. Alli di ddweud ychydig am pam?",
        },
    )
    page = coordinator.client.get("/studio/scripts/texts/decline.yaml").get_data(as_text=True)
    assert "Needs checking:" not in page


def test_the_texts_table_counts_sms_parts_as_sent_with_the_one_counter(coordinator):
    curly = "We’ll " * 30  # 180 characters: curly quotes go as plain ones, so 2 GSM-7 parts, not 3 UCS-2 ones
    welsh = "Diolch ŵyr ŷd 😀 " * 9
    answer = coordinator.client.post(
        "/studio/api/sms",
        json={
            "messages": [{"key": "a", "language": "en", "body": curly}, {"key": "b", "language": "cy", "body": welsh}]
        },
        headers={"X-CSRFToken": coordinator.token()},
    ).get_json()
    assert [count["words"] for count in answer["counts"]] == [
        "2 SMS parts · GSM-7",
        f"{sms.count(welsh).parts} SMS parts · UCS-2 (because of ŵ ŷ 😀)",
    ]
    refused = coordinator.client.post(
        "/studio/api/sms", json={"messages": [{"body": 5}]}, headers={"X-CSRFToken": coordinator.token()}
    )
    assert refused.status_code == 400


def test_the_texts_table_warns_about_a_worrying_first_line(coordinator):
    key = "steps.reason.choose"
    coordinator.post(
        "/studio/scripts/texts/decline.yaml",
        revision="0",
        **{f"en:{key}": "Were the police involved? Tell us why.", f"cy:{key}": "Iawn."},
    )
    page = coordinator.client.get("/studio/scripts/texts/decline.yaml").get_data(as_text=True)
    assert "first line shows “police” on a locked phone" in page


def test_the_diagram_gives_each_step_in_plain_words_linked_to_its_line(coordinator):
    page = coordinator.client.get("/studio/scripts/diagram/decline.yaml").get_data(as_text=True)
    drawn = json.loads(re.search(r'<script type="application/json" id="diagram-data">(.*?)</script>', page, re.S)[1])
    start = next(node for node in drawn["nodes"] if node["start"])
    assert start["id"] == "reason" and " ".join(start["lines"]).startswith("Asks: “OK, it's your choice.")
    assert all(node["link"].startswith("/studio/scripts/edit/decline.yaml?line=") for node in drawn["nodes"])
    assert {edge["source"] for edge in drawn["edges"]} <= {node["id"] for node in drawn["nodes"]}
    assert "vendor/elk.bundled.js" in page  # laid out in the browser by ELK


# --- the simulator -------------------------------------------------------------------------------------------


def simulate(studio: Studio, chat: str, **data):
    page = studio.post("/studio/simulator", chat=chat, **data).get_data(as_text=True)
    return page, re.search(r'name="chat" value="([^"]+)"', page).group(1) if 'name="chat"' in page else ""


def test_the_simulator_chats_in_welsh_pretends_a_day_passes_and_saves_a_test(coordinator):
    page, chat = simulate(coordinator, "", channel="sms", language="cy", text="shwmae")
    assert "Pwy ydych chi?" in page and "1. Person ifanc" in page
    page, chat = simulate(coordinator, chat, channel="sms", language="cy", text="1")
    assert "welcome.young_person_menu (waiting for an answer)" in page
    assert "young_person" in page  # what the bot remembers
    page, chat = simulate(coordinator, chat, channel="sms", language="cy", action="day")
    assert "A day passes with no reply" in page
    page, _ = simulate(coordinator, chat, channel="sms", language="cy", action="save", test_name="Helo yn Gymraeg")
    # Still in the simulator, with the same chat, told where the test went.
    assert "Saved this chat as the test “Helo yn Gymraeg” (transcripts/helo_yn_gymraeg.yaml)" in page
    assert "Pwy ydych chi?" in page and 'id="sim-text"' in page
    test = coordinator.draft("scripts", "transcripts/helo_yn_gymraeg.yaml")
    assert "language: cy" in test and "- user: shwmae" in test and "- bot: Pwy ydych chi?" in test


def test_a_tampered_simulator_chat_starts_again(coordinator):
    page, _ = simulate(coordinator, "not signed", channel="sms", language="en", text="hi")
    assert "could not be read" in page and "Who are you?" in page


# --- publishing, restoring, and the bot using it ---------------------------------------------------------


def test_publishing_checks_runs_the_tests_shows_the_diff_and_the_bot_uses_it(coordinator, runtime):
    files = welcome_with(OLD_WELSH, NEW_WELSH)
    coordinator.post("/studio/scripts/edit/welcome.yaml", text=files["welcome.yaml"], revision="0")
    page = coordinator.client.get("/studio/scripts/publish").get_data(as_text=True)
    assert "No errors." in page
    assert re.search(r"(\d+) of \1 passed", page)
    assert f"-        {OLD_WELSH}" in page and f"+        {NEW_WELSH}" in page
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', page).group(1)
    assert "Write a short message" in coordinator.post("/studio/scripts/publish", fingerprint=fingerprint).get_data(
        as_text=True
    )
    published = coordinator.post("/studio/scripts/publish", fingerprint=fingerprint, message="Clearer STOP in Welsh")
    assert published.status_code == 302
    with runtime.session() as session:
        releases = store.releases(session, "scripts")
        assert [(r.number, r.published_by) for r in releases] == [(2, "Demo coordinator"), (1, store.BUILTIN_AUTHOR)]
        assert store.live_release(session, "scripts").message == "Clearer STOP in Welsh"
        assert session.scalar(sa.select(sa.func.count()).select_from(ScriptDraft)) == 0
    welsh_speaker = Conversation(coordinator_dispatcher(runtime), "sms", "+447700900201")
    assert NEW_WELSH in "\n".join(welsh_speaker("shwmae"))


def test_the_publish_page_shows_the_warnings_and_each_changed_text_in_both_languages(coordinator):
    files = welcome_with(OLD_WELSH, NEW_WELSH)
    files = {**files, "welcome.yaml": files["welcome.yaml"].replace(MENU_BEFORE, "Were you missing? " + MENU_BEFORE)}
    coordinator.post("/studio/scripts/edit/welcome.yaml", text=files["welcome.yaml"], revision="0")
    page = coordinator.client.get("/studio/scripts/publish").get_data(as_text=True)
    warnings = re.search(r'<ul class="findings warnings">(.*?)</ul>', page, re.S)[1]
    assert "has &#34;missing&#34;; it shows on a locked phone" in warnings  # shown, not folded away
    table = re.search(r'<table class="list text-changes">(.*?)</table>', page, re.S)[1]
    assert "<ins>Were you missing? </ins>Thanks." in table
    assert "<ins>unrhyw bryd </ins>" in table
    assert 'lang="cy"' in table and 'lang="en"' in table


def coordinator_dispatcher(runtime):
    from bot.conversation.dispatcher import Dispatcher

    return Dispatcher(runtime)


def test_publishing_is_refused_while_a_test_conversation_fails(coordinator):
    files = welcome_with("cy: Pwy ydych chi?", "cy: Pwy sy'n ysgrifennu?")
    coordinator.post("/studio/scripts/edit/welcome.yaml", text=files["welcome.yaml"], revision="0")
    page = coordinator.client.get("/studio/scripts/publish").get_data(as_text=True)
    assert "no longer pass" in page and "self_referral_booking_cy.yaml" in page
    assert 'name="fingerprint"' not in page  # no publish button
    with coordinator.runtime.session() as session:
        fingerprint = store.fingerprint(store.draft_files(session, "scripts"))
    refused = coordinator.post("/studio/scripts/publish", fingerprint=fingerprint, message="try anyway")
    assert refused.status_code == 200 and "Not ready to publish" in refused.get_data(as_text=True)
    with coordinator.runtime.session() as session:
        assert store.live_release(session, "scripts") is None


def test_restoring_an_earlier_version_makes_it_live_again_as_a_new_version(coordinator, runtime):
    publish_directly(runtime, "scripts", welcome_with(OLD_WELSH, NEW_WELSH), "new STOP line")
    with runtime.session() as session:
        first = next(r for r in store.releases(session, "scripts") if r.number == 1)
    shown = coordinator.client.get(f"/studio/scripts/release/{first.id}").get_data(as_text=True)
    assert "<del>unrhyw bryd </del>" in shown  # the version's page marks the words too
    asked = coordinator.client.get(f"/studio/scripts/release/{first.id}/restore").get_data(as_text=True)
    assert "Why restore it?" in asked and "Yes, make version 1 live now" in asked
    assert "<del>unrhyw bryd " in asked  # what would change, word by word: the live words it takes out
    no_reason = coordinator.post(f"/studio/scripts/release/{first.id}/restore", reason=" ", confirm="yes")
    assert no_reason.status_code == 400 and "Say why you are restoring" in no_reason.get_data(as_text=True)
    unconfirmed = coordinator.post(f"/studio/scripts/release/{first.id}/restore", reason="Back to the shipped words")
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.get_data(as_text=True)
    with runtime.session() as session:
        assert store.live_release(session, "scripts").number == 2  # nothing restored yet
    restored = coordinator.post(
        f"/studio/scripts/release/{first.id}/restore", reason="Back to the shipped words", confirm="yes"
    )
    assert restored.status_code == 302
    with runtime.session() as session:
        live = store.live_release(session, "scripts")
        assert (live.number, live.restored_from_id, live.message) == (3, first.id, "Back to the shipped words")
        assert live.files == first.files
    history = coordinator.client.get("/studio/scripts/history").get_data(as_text=True)
    assert "Restored version 1</strong>, because: Back to the shipped words" in history
    with runtime.session() as session:
        entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "studio_restore")).one()
        assert entry.who == coordinator.email
        assert entry.what == "scripts: version 1 made live again as version 3: Back to the shipped words"
    assert OLD_WELSH in "\n".join(Conversation(coordinator_dispatcher(runtime), "sms", "+447700900202")("shwmae"))


def test_a_conversation_under_way_finishes_on_the_version_it_started_with(runtime, dispatcher):
    started_before = Conversation(dispatcher, "sms", "+447700900301")
    started_before("hi")  # waiting at "Who are you?" on the shipped scripts
    publish_directly(runtime, "scripts", welcome_with(MENU_BEFORE, MENU_AFTER))
    assert MENU_BEFORE in "\n".join(started_before("1"))
    started_after = Conversation(dispatcher, "sms", "+447700900302")
    started_after("hi")
    assert MENU_AFTER in "\n".join(started_after("1"))
    started_before.says("3", "1")  # says no...
    assert "change your mind" in "\n".join(started_before("no thanks"))  # ...and that conversation is over,
    assert MENU_AFTER in "\n".join(started_before("hi"))  # so the next one starts on the live version


def test_the_bot_uses_the_live_lexicon_and_helplines(runtime, young_person):
    lexicon = builtin_files("lexicon")
    lexicon["local.yaml"] = "language: en\nentries:\n  - {phrase: zorblax, category: unsafe_now}\n"
    publish_directly(runtime, "lexicon", lexicon)
    helplines = builtin_files("helplines")
    intro = "Thank you for telling me. Someone from our team knows now"
    helplines["helplines.yaml"] = helplines["helplines.yaml"].replace(
        intro, "Thanks for telling us. A worker knows now"
    )
    publish_directly(runtime, "helplines", helplines)
    replies = young_person("hi, they took me to the zorblax")
    assert young_person.last.escalated == ("unsafe_now",)
    assert "Thanks for telling us. A worker knows now" in replies[0]


def test_publishing_safeguarding_words_is_refused_when_recall_drops(coordinator):
    coordinator.post("/studio/lexicon/remove/model.json")  # the words alone miss most of the held-out alerts
    page = coordinator.client.get("/studio/lexicon/publish").get_data(as_text=True)
    assert "would catch fewer of the held-out alerts than the live version (immediate alerts, urgent alerts" in page
    assert "Their words are not shown" in page
    assert heldout_corpus()[0].text not in page
    with coordinator.runtime.session() as session:
        fingerprint = store.fingerprint(store.draft_files(session, "lexicon"))
    coordinator.post("/studio/lexicon/publish", fingerprint=fingerprint, message="tidy")
    with coordinator.runtime.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(LiveRelease)) == 0


def test_the_model_is_summarised_not_shown_and_not_edited_by_hand(coordinator):
    page = coordinator.client.get("/studio/lexicon/").get_data(as_text=True)
    assert "The learned model" in page and "labelled messages" in page
    response = coordinator.client.get("/studio/lexicon/edit/model.json")
    assert response.status_code == 302
    coordinator.post("/studio/lexicon/remove/model.json")
    page = coordinator.client.get("/studio/lexicon/publish").get_data(as_text=True)
    assert "a model trained on" in page and "no model" in page
    assert '"vocabulary"' not in page


def test_publishing_a_draft_someone_changed_after_the_checks_is_refused(coordinator):
    files = welcome_with(OLD_WELSH, NEW_WELSH)
    coordinator.post("/studio/scripts/edit/welcome.yaml", text=files["welcome.yaml"], revision="0")
    response = coordinator.post("/studio/scripts/publish", fingerprint="not-what-is-there", message="go")
    assert response.status_code == 409
    assert "changed since these checks" in response.get_data(as_text=True)


def test_every_change_is_recorded_with_who_when_and_a_message(coordinator, runtime):
    coordinator.post(
        "/studio/scripts/edit/welcome.yaml", text=builtin_files("scripts")["welcome.yaml"] + "#\n", revision="0",
        note="a comment",
    )  # fmt: skip
    coordinator.post("/studio/scripts/discard/welcome.yaml")
    page = coordinator.client.get("/studio/changes").get_data(as_text=True)
    assert "saved a draft of" in page and "threw away the draft of" in page and "a comment" in page


def test_a_release_that_fails_the_checks_of_a_newer_bot_is_not_run(runtime, young_person, caplog):
    broken = {**builtin_files("scripts"), "welcome.yaml": "script: welcome\nstart: hello\nsteps: {}\n"}
    publish_directly(runtime, "scripts", broken)  # as if an older version of the bot had accepted it
    assert "Who are you?" in "\n".join(young_person("hi"))  # the shipped scripts answer instead
    assert "fails the checks now" in caplog.text


def test_a_coordinator_takes_the_model_shipped_with_the_application_into_the_draft(coordinator):
    def drafted_model() -> str | None:
        with coordinator.runtime.session() as session:
            return store.draft_files(session, "lexicon").get("model.json")

    coordinator.post("/studio/lexicon/remove/model.json")
    assert drafted_model() is None
    page = coordinator.client.get("/studio/lexicon/").get_data(as_text=True)
    assert "No model is in use" in page and "Use the model shipped with the application" in page
    coordinator.post("/studio/lexicon/model/shipped")
    assert drafted_model() == builtin_files("lexicon")["model.json"]
