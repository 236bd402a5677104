"""The studio's pieces that need no web page: checking file sets, writing texts back into YAML, the recall
check of the safeguarding words, and chats from the simulator saved as transcript tests."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.releases import KINDS, builtin_files, check, script_files, unsafe_yaml
from bot.safeguarding import load_helplines
from bot.safeguarding.corpus import Labelled
from bot.safeguarding.helplines import script_variables
from bot.studio import simulator
from bot.studio.publishing import compare_recall, diff_files
from bot.studio.testrun import run_tests
from bot.studio.texts import apply_text_edits, text_fields
from conversations.yamlsource import load_located

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_files_shipped_with_the_application_pass_their_checks(kind):
    checked = check(kind, builtin_files(kind))
    assert checked.ok, checked.errors
    assert checked.built is not None


@pytest.mark.parametrize("kind", list(KINDS))
def test_yaml_that_could_run_code_is_refused_and_never_run(kind, tmp_path: Path):
    target = tmp_path / "pwned"
    name = {"scripts": "welcome.yaml", "lexicon": "en.yaml", "helplines": "helplines.yaml"}[kind]
    files = {**builtin_files(kind), name: f'x: !!python/object/apply:os.system ["touch {target}"]\n'}
    checked = check(kind, files)
    assert [(error.file, error.line) for error in checked.errors] == [(name, 1)]
    assert "not allowed" in checked.errors[0].message
    assert not target.exists()


def test_a_billion_laughs_is_refused_before_it_is_expanded():
    laughs = "a: &a [lol, lol]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b]\n"
    assert unsafe_yaml(laughs) == (
        1,
        "anchors and aliases (& and *) are not allowed in these files; write the text out in full",
    )


def test_a_script_set_without_the_welcome_script_is_refused():
    files = builtin_files("scripts")
    del files["welcome.yaml"]
    messages = [str(error) for error in check("scripts", files).errors]
    assert any('there is no "welcome.yaml" script' in message for message in messages)


def test_a_broken_transcript_test_is_reported_at_its_line():
    files = {**builtin_files("scripts"), "transcripts/new.yaml": "name: x\nchannel: fax\nsteps:\n  - user: hi\n"}
    [error] = check("scripts", files).errors
    assert (error.file, error.line) == ("transcripts/new.yaml", 2)


def test_every_text_of_every_script_can_be_changed_from_the_table_and_nothing_else_moves():
    samples = [
        *("plain words", "Has: a colon", "yes", "Multi\nline\n\nwith a gap", "  leading space", 'a " and \\'),
        *("Ŵ emoji 👍 {service_name}", "# not a comment", "- not a list", "ends with a line break\n", "{en: x}"),
    ]
    chance = random.Random(8)
    for name, source in script_files(builtin_files("scripts")).items():
        assert apply_text_edits(source, {}) == source
        edits = {field.key: (chance.choice(samples), chance.choice(samples), chance.random() < 0.5)
                 for field in text_fields(source)}  # fmt: skip
        changed = apply_text_edits(source, edits)
        assert {field.key: (field.en, field.cy, field.reviewed) for field in text_fields(changed)} == edits, name
        load_located(changed)  # still YAML our loader reads
        kept = [line for line in source.splitlines() if line.lstrip().startswith("#")]
        assert all(line in changed.splitlines() for line in kept), name  # the comments are all still there


def test_marking_welsh_checked_adds_one_line_and_keeps_the_style():
    source = builtin_files("scripts")["decline.yaml"]
    label = next(field for field in text_fields(source) if field.role == "option")
    changed = apply_text_edits(source, {label.key: (label.en, label.cy, True)})
    diff = diff_files({"decline.yaml": source}, {"decline.yaml": changed})[0]
    assert diff.added == diff.removed == 1
    assert '{en: "No need to talk", cy: "Dim angen siarad", cy_reviewed: true}' in changed


def heldout() -> list[Labelled]:
    def alert(text: str, category: str, severity: str) -> Labelled:
        return Labelled(text, "en", (category,), "alert", severity, "yp", "test")

    return [
        alert("i want to kms", "suicide_self_harm", "immediate"),
        alert("they made me go country", "criminal_exploitation", "urgent"),
        Labelled("see you at the park", "en", (), "none", None, "everyday", "test"),
    ]


def lexicon_without(phrase: str, model: bool = True):
    files = builtin_files("lexicon")
    files["en.yaml"] = "\n".join(line for line in files["en.yaml"].splitlines() if f'phrase: "{phrase}"' not in line)
    if not model:
        del files["model.json"]
    return check("lexicon", files).built


def test_recall_is_compared_per_category_and_a_drop_is_named():
    live = lexicon_without("nothing at all", model=False)
    report = compare_recall(lexicon_without("kms", model=False), live, heldout())
    assert [row.category for row in report.dropped] == ["immediate alerts", "suicide_self_harm"]
    assert report.missed == 1
    assert report.overall_draft < report.overall_live and not report.ok
    same = compare_recall(live, live, heldout())
    assert same.ok and same.overall_live == same.overall_draft == 1.0


def test_without_the_heldout_messages_the_words_are_not_published(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from bot.studio import publishing

    monkeypatch.setattr(publishing, "HELDOUT_DIR", tmp_path / "missing")
    live = check("lexicon", builtin_files("lexicon")).built
    report = compare_recall(live, live)
    assert not report.ok and "not installed here" in report.error


def made_up_chat(language: str, messages: list[str]) -> dict:
    catalog = check("scripts", builtin_files("scripts")).built
    lexicon = check("lexicon", builtin_files("lexicon")).built
    helplines = load_helplines()
    variables = {"service_name": "the Studio Test Service", **script_variables(helplines)}
    chat = simulator.start("sms", language, datetime(2026, 11, 23, 10, tzinfo=LONDON), variables)
    for message in messages:
        chat = simulator.send(chat, message, catalog, variables, lexicon, helplines, LONDON)
    return chat


def test_a_chat_saved_from_the_simulator_passes_as_a_test_on_another_day_and_service():
    booking = ["hi", "1", "2", "2", "yesterday", "no", "home", "cardiff", "yes", "cafe", "a woman", "1", "no", "yes"]
    chat = made_up_chat("en", booking)
    assert any(event["kind"] == "sms" and "Mon 23 Nov" in event["text"] for event in chat["events"])  # made-up times
    test = simulator.as_transcript(chat, "booking from the simulator", "Eleri", datetime(2026, 11, 23, tzinfo=LONDON))
    document = yaml.safe_load(test)
    assert document["expect"] == {"language": "en", "role": "young_person", "finished": True}
    checks = [step["bot"] for step in document["steps"] if "bot" in step]
    assert not any("Studio Test Service" in text or "Nov" in text for text in checks)  # nothing that changes
    run = run_tests({**builtin_files("scripts"), "transcripts/from_simulator.yaml": test})
    assert run.ok, [result.failures for result in run.failed]


def test_a_safeguarding_hit_in_the_simulator_gets_the_safety_message_once_an_hour():
    chat = made_up_chat("en", ["hi", "i want to kms", "kms"])
    safety = [event for event in chat["events"] if event["kind"] == "bot" and event["safety"]]
    assert len(safety) == 1 and "Samaritans" in safety[0]["text"]
    assert chat["escalations"] == ["suicide_self_harm", "suicide_self_harm"]


def test_the_simulator_answers_an_alert_the_question_cannot_place_as_the_bot_does():
    def last_replies(chat: dict) -> list[dict]:
        last_user = max(n for n, event in enumerate(chat["events"]) if event["kind"] == "user")
        return [event for event in chat["events"][last_user:] if event["kind"] == "bot"]

    [said] = last_replies(made_up_chat("en", ["hi", "1", "2", "2", "i want to kill myself"]))
    assert said["safety"] and said["text"].count("999") == 1  # once, not "someone will read your message" too
    assert "Yesterday" in said["options"]  # the question stays open
    [again] = last_replies(made_up_chat("en", ["hi", "1", "2", "2", "i want to kill myself", "kms"]))
    assert "will read your message soon" in again["text"]  # no safety message within the hour: a person reads it


def test_a_conversation_left_for_two_weeks_starts_again_in_the_simulator():
    chat = made_up_chat("en", ["hi", "1"])
    for _ in range(15):
        chat = simulator.a_day_passes(chat, LONDON)
    assert "has expired" in chat["events"][-1]["text"]
    catalog = check("scripts", builtin_files("scripts")).built
    helplines = load_helplines()
    variables = script_variables(helplines)
    lexicon = check("lexicon", builtin_files("lexicon")).built
    chat = simulator.send(chat, "2", catalog, variables, lexicon, helplines, LONDON)
    assert any(event["kind"] == "note" and "expired" in event["text"] for event in chat["events"][-6:])


def test_the_simulator_reads_back_a_time_in_words_and_offers_times_near_it():
    # Monday 23 November 2026, 10:00: "tomorrow after school" is Tuesday 24 November.
    start = ["hi", "1", "2", "2", "yesterday", "no", "home", "cardiff", "yes", "cafe", "a woman"]
    chat = made_up_chat("en", [*start, "none of these", "none of these", "tomorrow after school"])
    said = [event["text"] for event in chat["events"] if event["kind"] == "sms"]
    assert any(text.startswith("Tuesday 24 November, after school. Is that right?") for text in said)
    chat = made_up_chat("en", [*start, "none of these", "none of these", "tomorrow after school", "yes"])
    said = [event["text"] for event in chat["events"] if event["kind"] == "sms"]
    assert any("Tue 24 Nov" in text for text in said[-2:])  # the made-up times nearest to it


def test_a_time_in_words_at_the_list_picks_the_made_up_time_that_fits_it_as_the_bot_would():
    # Monday 23 November 2026, 10:00: "tomorrow after school" is Tuesday 24 November, and a made-up time fits.
    start = ["hi", "1", "2", "2", "yesterday", "no", "home", "cardiff", "yes", "cafe", "a woman"]
    chat = made_up_chat("en", [*start, "tomorrow after school", "no"])
    said = [event["text"] for event in chat["events"] if event["kind"] == "bot"]
    assert "When: Tue 24 Nov, 4pm" in said[-1]
