"""Helplines and the safety message sent when a message raises a concern."""

from __future__ import annotations

import itertools

import pytest

from bot.safeguarding import CATEGORIES, CATEGORY_SEVERITY, HelplinesError, load_helplines, safety_message
from bot.safeguarding.helplines import HELPLINES_FILE, is_gsm7, script_variables, validate_helplines_file

IMMEDIATE = [category for category in CATEGORIES if CATEGORY_SEVERITY[category] == "immediate"]
URGENT = [category for category in CATEGORIES if CATEGORY_SEVERITY[category] == "urgent"]
LANGUAGES = ("en", "cy")
# Two GSM-7 SMS parts (153 characters each).
TWO_SMS = 306


def helpline_lines(message: str) -> list[str]:
    return message.splitlines()[1:]


def test_packaged_helplines_file_is_valid():
    assert validate_helplines_file(HELPLINES_FILE) == []


def test_every_helpline_in_the_domain_is_in_the_file():
    numbers = {number for helpline in load_helplines().helplines.values() for number in helpline.numbers.values()}
    assert numbers >= {
        "999",
        "101",
        "0800 1111",
        "116 000",
        "116 123",
        "0808 164 0123",
        "85258",
        "080880 23456",
        "84001",
        "0808 800 5000",
        "0800 068 4141",
        "111",
    }


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("category", IMMEDIATE)
def test_999_comes_first_for_an_immediate_category(category, language):
    assert "999" in helpline_lines(safety_message([category], language))[0]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("immediate", "urgent"), list(itertools.product(IMMEDIATE, URGENT)))
def test_999_comes_first_and_once_when_an_immediate_category_is_among_others(immediate, urgent, language):
    message = safety_message([urgent, immediate], language)
    assert "999" in helpline_lines(message)[0]
    assert message.count("999") == 1


def test_suicide_in_english_gives_samaritans_shout_and_childline():
    message = safety_message(["suicide_self_harm"], "en")
    assert [line.split(":")[0] for line in helpline_lines(message)] == [
        "In danger or badly hurt now? Call 999.",
        "Samaritans",
        "Shout",
        "Childline",
    ]
    assert "116 123" in message and "85258" in message and "0800 1111" in message
    assert "0808 164 0123" not in message


def test_suicide_in_welsh_gives_the_samaritans_welsh_line_too():
    message = safety_message(["suicide_self_harm"], "cy")
    assert "116 123" in message
    assert "0808 164 0123" in message
    assert "85258" in message and "0800 1111" in message


@pytest.mark.parametrize(("language", "in_english"), [("en", "answered in English"), ("cy", "yn Saesneg")])
def test_unsafe_now_gives_the_runaway_helpline_and_says_texts_are_answered_in_english(language, in_english):
    message = safety_message(["unsafe_now"], language)
    assert "116 000" in message
    assert in_english in message


@pytest.mark.parametrize("category", ["criminal_exploitation", "sexual_exploitation", "abuse_at_home"])
def test_exploitation_and_abuse_give_childline_then_999(category):
    lines = helpline_lines(safety_message([category], "en"))
    assert "0800 1111" in lines[0]
    assert "999" in lines[1]


def test_violence_gives_999():
    assert helpline_lines(safety_message(["violence_weapons"], "en")) == ["In danger or badly hurt now? Call 999."]


@pytest.mark.parametrize("language", LANGUAGES)
def test_health_gives_111_then_999(language):
    lines = helpline_lines(safety_message(["health"], language))
    assert "111" in lines[0]
    assert "999" in lines[1]


def test_each_helpline_is_given_once():
    message = safety_message(list(CATEGORIES), "en")
    lines = helpline_lines(message)
    assert len(lines) == len(set(lines))
    assert "999" in lines[0]


@pytest.mark.parametrize(
    ("language", "told", "keep_chatting"),
    [
        ("en", "Someone from our team knows now", "You can keep chatting to me"),
        ("cy", "Mae rhywun o'r gwasanaeth yn gwybod nawr", "Gelli di ddal ati i sgwrsio gyda fi"),
    ],
)
def test_the_message_says_a_person_knows_and_they_can_keep_chatting(language, told, keep_chatting):
    first_line = safety_message(["unsafe_now"], language).splitlines()[0]
    assert told in first_line
    assert keep_chatting in first_line


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("category", CATEGORIES)
def test_the_notification_preview_has_no_alarming_words(category, language):
    first_line = safety_message([category], language).splitlines()[0].lower()
    for word in ("missing", "police", "abuse", "danger", "ar goll", "heddlu", "cam-drin", "perygl"):
        assert word not in first_line


@pytest.mark.parametrize("category", CATEGORIES)
def test_english_messages_fit_in_two_plain_sms(category):
    message = safety_message([category], "en")
    assert is_gsm7(message)
    assert len(message) <= TWO_SMS


@pytest.mark.parametrize("category", CATEGORIES)
def test_welsh_messages_use_straight_quotes(category):
    message = safety_message([category], "cy")
    assert not any(quote in message for quote in "\u2018\u2019\u201c\u201d")


@pytest.mark.parametrize(
    ("categories", "language"),
    [
        (["suicide"], "en"),
        (["health"], "fr"),
        ([], "en"),
    ],
)
def test_unknown_categories_and_languages_are_refused(categories, language):
    with pytest.raises(ValueError):
        safety_message(categories, language)


VALID_HELPLINE = """\
  emergency:
    numbers: {call: "999"}
    en: "Call {call}."
    cy: "Ffonia {call}."
"""
CATEGORY_MAP = "".join(f"  {category}: [emergency]\n" for category in CATEGORIES)
INTRO = 'intro:\n  en: "Thank you."\n  cy: "Diolch."\n'


def helplines_file(
    helplines: str = VALID_HELPLINE, categories: str = CATEGORY_MAP, intro: str = INTRO, general: str = "[emergency]"
) -> str:
    return f"{intro}helplines:\n{helplines}general: {general}\ncategories:\n{categories}"


# (file content, the problem reported for it)
BROKEN_FILES = [
    (
        helplines_file(VALID_HELPLINE.replace('    cy: "Ffonia {call}."\n', "")),
        'helpline "emergency": missing "cy" text',
    ),
    (
        helplines_file(VALID_HELPLINE.replace('"999"', "[999]")),
        'helpline "emergency": number "call" must be digits (spaces allowed)',
    ),
    (helplines_file(VALID_HELPLINE.replace('"999"', '"nine"')), 'number "call" must be digits'),
    (
        helplines_file(VALID_HELPLINE.replace("Call {call}.", "Call {phone}.")),
        'helpline "emergency" en text uses {phone}, which is not one of its numbers',
    ),
    (
        helplines_file(VALID_HELPLINE.replace("Call {call}.", "Call us.")),
        'helpline "emergency" en text does not give the number {call}',
    ),
    (
        helplines_file(VALID_HELPLINE.replace("Call {call}.", "Call {call} \u2019now\u2019.")),
        "use straight quotes and apostrophes, not curly ones (SMS)",
    ),
    (
        helplines_file(VALID_HELPLINE.replace("Call {call}.", "Call {call} \U0001f4de")),
        "English text must be GSM-7 for SMS",
    ),
    (
        helplines_file(categories=CATEGORY_MAP.replace("health: [emergency]", "health: [doctor]")),
        'category "health" gives helpline "doctor", which is not in "helplines"',
    ),
    (helplines_file(categories=CATEGORY_MAP.replace("  health: [emergency]\n", "")), 'categories: missing "health"'),
    (helplines_file(categories=CATEGORY_MAP + "  loneliness: [emergency]\n"), 'unknown category "loneliness"'),
    (helplines_file(VALID_HELPLINE.replace("emergency:", "police:")), 'missing the "emergency" helpline (999)'),
    (helplines_file(intro='intro:\n  en: "Thank you."\n'), 'intro: missing "cy" text'),
    (helplines_file(VALID_HELPLINE + "    languages: [fr]\n"), "languages must be some of: en, cy"),
    (helplines_file(general="[emergency, samaritans]"), '"general" gives helpline "samaritans", which is not in'),
]


@pytest.mark.parametrize(("content", "problem"), BROKEN_FILES)
def test_a_broken_helplines_file_says_what_is_wrong_and_where(tmp_path, content, problem):
    path = tmp_path / "helplines.yaml"
    path.write_text(content, encoding="utf-8")
    problems = validate_helplines_file(path)
    assert problems, "expected a problem"
    assert all(
        line.split(": ")[0].startswith(f"{path}:") and line.split(": ")[0][len(str(path)) + 1 :].isdigit()
        for line in problems
    ), problems
    assert any(problem in line for line in problems), problems
    with pytest.raises(HelplinesError):
        load_helplines(path)


def test_a_valid_helplines_file_gives_its_own_text(tmp_path):
    path = tmp_path / "helplines.yaml"
    path.write_text(helplines_file(), encoding="utf-8")
    assert validate_helplines_file(path) == []
    assert safety_message(["violence_weapons"], "cy", helplines=load_helplines(path)) == "Diolch.\nFfonia 999."


def test_scripts_get_each_helpline_and_the_general_list_in_both_languages():
    variables = script_variables()
    assert variables["helpline_childline"]["en"] == "Childline: call 0800 1111 (free, not on the phone bill)."
    assert "116 000" in variables["helpline_runaway"]["cy"]
    assert "0808 800 5000" in variables["helpline_nspcc"]["en"]
    assert variables["helpline_samaritans_welsh"] == {"cy": "Y Samariaid yn Gymraeg: ffonia 0808 164 0123."}
    assert variables["helplines"]["en"].splitlines()[0].startswith("Childline")
    assert "080880 23456" in variables["helplines"]["cy"]
