"""A coordinator edits a conversation script and runs the validator: each mistake comes back as one line,
``FILE:LINE: what is wrong``, pointing at the line to fix."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from conversations.validate import (
    Problem,
    check_paths,
    check_sources,
    report_lines,
    unreviewed_welsh,
    validate_command,
)

# A small complete set of scripts (welcome, decline, system) that is valid. The tests use it in place of the
# built-in scripts, and break copies of it the way a person editing by hand might.
VALID = Path(__file__).resolve().parents[1] / "data" / "scripts" / "valid"


def edited(script: str, old: str, new: str) -> str:
    text = (VALID / f"{script}.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{script}.yaml should contain {old!r} exactly once"
    return text.replace(old, new)


def problems_with(script: str, text: str) -> list[str]:
    """Check one edited script the way the studio checks a draft: against the other scripts of the set."""
    return [str(problem) for problem in check_sources({Path(f"{script}.yaml"): text}, builtin_dir=VALID).problems]


def test_the_valid_scripts_pass_with_nothing_to_say():
    result = check_paths([VALID], builtin_dir=VALID)

    assert [str(problem) for problem in result.problems] == []
    assert result.ok
    assert sorted(result.scripts) == ["decline", "system", "welcome"]


def test_one_edited_file_is_checked_against_the_scripts_it_goes_to(tmp_path):
    # welcome.yaml says "goto: decline"; decline.yaml is not given, so it is found among the built-in scripts
    shutil.copy(VALID / "welcome.yaml", tmp_path / "welcome.yaml")

    result = check_paths([tmp_path / "welcome.yaml"], builtin_dir=VALID)

    assert result.problems == []
    assert list(result.scripts) == ["welcome"]


BROKEN_DECLINE = [
    pytest.param(
        "next: other_words",
        "next: other_wrds",
        'decline.yaml:19: step "reason": option 3 ("Something else") leads to step "other_wrds", '
        'which does not exist (did you mean "other_words"?)',
        id="an option leads to a step that does not exist",
    ),
    pytest.param(
        "      cy: Dwed wrthon ni yn dy eiriau dy hun.\n",
        "",
        'decline.yaml:21: step "other_words": the Welsh (cy) text is missing',
        id="the Welsh is missing",
    ),
    pytest.param(
        "cy: Dwed wrthon ni yn dy eiriau dy hun.",
        'cy: ""',
        'decline.yaml:23: step "other_words": the Welsh (cy) text is empty',
        id="the Welsh is empty",
    ),
    pytest.param(
        "    ask:\n      en: Tell us in your own words.\n      cy: Dwed wrthon ni yn dy eiriau dy hun.\n",
        "    ask: Tell us in your own words.\n",
        'decline.yaml:21: step "other_words": "ask" needs the text in both languages, like {en: ..., cy: ...}',
        id="a text in one language only",
    ),
    pytest.param(
        "en: Tell us in your own words.",
        "en: Tell us: in your own words.",
        "decline.yaml:22: this is not valid YAML: mapping values are not allowed here; "
        'if a text has a colon (:) in it, put the whole text in "quotes"',
        id="a colon in a text without quotes is not valid YAML",
    ),
    pytest.param(
        "{en: Not right now, cy: Dim ar hyn o bryd}",
        "{en: Not now?, cy: Dim nawr?}",
        "decline.yaml:13: this is not valid YAML: expected ',' or '}', but got '?'; inside { }, a text with a "
        'question mark needs quotes: {en: "Ready?", ...}',
        id="a question mark in a text inside braces without quotes",
    ),
    pytest.param(
        "    next: bye\n",
        "    next: bye\n    next: other_words\n",
        'decline.yaml:30: "next" appears twice here; keep one',
        id="a key written twice",
    ),
    pytest.param(
        "{en: Not right now,",
        "{en: I DON'T NEED IT ,",
        'decline.yaml:13: step "reason": options 1 and 2 have the same English (en) label "I DON\'T NEED IT"',
        id="two options with the same label",
    ),
    pytest.param(
        "{en: Not right now, cy: Dim ar hyn o bryd}",
        "{en: No, not now, cy: Dim ar hyn o bryd}",
        'decline.yaml:13: step "reason": option 2: the comma after "No" ends the label, so "not now" is read '
        'as a key; put the text in quotes: en: "No, not now"',
        id="a comma in a label without quotes",
    ),
    pytest.param(
        "[later, not now]",
        "[later, something else]",
        'decline.yaml:14: step "reason": option 2 also answers to "something else", which is the English (en) '
        "label of option 3",
        id="an extra word that is another option's label",
    ),
    pytest.param(
        "      - label: {en: Not right now, cy: Dim ar hyn o bryd}\n        also",
        "      - also",
        'decline.yaml:13: step "reason": option 2 has no "label"',
        id="an option with no label",
    ),
    pytest.param(
        "        value: other\n",
        "",
        'decline.yaml:17: step "reason": option 3 ("Something else") needs a "value", because the step saves '
        'the answer as "decline_reason"',
        id="an option with no value when the answer is saved",
    ),
    pytest.param(
        "      cy_reviewed: true\n",
        "      cy_reviewed: true\n  old_bye:\n    end: {en: Bye for now., cy: Hwyl am y tro.}\n",
        'decline.yaml:35: step "old_bye" is never reached: no step leads to it from the start ("reason")',
        id="a step nothing leads to",
    ),
    pytest.param(
        "    next: bye\n  bye:",
        "    next: saved\n  saved:\n    branch: referral_id\n    cases: {none: save}\n    else: bye\n  bye:",
        'decline.yaml:27: steps "save" → "saved" → "save" go round in a loop without asking anything, so the bot '
        "would send them again and again; add a question or a way out",
        id="a loop with no question in it",
    ),
    pytest.param(
        "    save: decline_text\n    next: save\n",
        "    save: decline_text\n    next: wait\n  wait:\n"
        "    choose: {en: OK. Tell us when you're ready., cy: Iawn. Dwed pan fyddi di'n barod.}\n"
        "    options:\n      - label: {en: Ready, cy: Barod}\n        next: wait\n",
        'decline.yaml:20: step "other_words": from here the conversation can never reach an end, a goto or a return',
        id="a way in with no way out",
    ),
    pytest.param(
        "message {service_name} any",
        "message {service_nme} any",
        [
            'decline.yaml:32: step "bye": the English (en) text uses {service_nme}, which nothing sets: no step, '
            "answer or effect gives it a value (did you mean {service_name}?)",
            'decline.yaml:32: warning: step "bye": the English (en) text leaves out {service_name}, which the '
            "Welsh (cy) one has",
        ],
        id="a placeholder nothing sets",
    ),
    pytest.param(
        "do: record_decline",
        "do: record_declined",
        'decline.yaml:28: step "save": "do: record_declined" is not something the bot can do '
        '(did you mean "record_decline"?)',
        id="an effect the bot does not have",
    ),
    pytest.param(
        "script: decline\n",
        "",
        'decline.yaml:1: the file needs a "script:" line with the script\'s name (script: decline)',
        id="no script name",
    ),
    pytest.param(
        "script: decline",
        "script: declines",
        'decline.yaml:1: the script is called "declines" but the file is "decline.yaml": the names must match '
        "(script: decline)",
        id="a script name that does not match its file",
    ),
    pytest.param(
        "    type: text",
        "    tpye: text",
        'decline.yaml:24: step "other_words": "tpye" is not a key a step can have (did you mean "type"?)',
        id="a misspelt key",
    ),
    pytest.param(
        "    do: record_decline\n",
        "    do: record_decline\n    say: {en: Saved., cy: Wedi cadw.}\n",
        'decline.yaml:27: step "save": a step needs exactly one of say, choose, ask, do, goto, branch, end, '
        'return; it has both "say" and "do"',
        id="a step of two kinds at once",
    ),
    pytest.param(
        "    type: text\n",
        "",
        'decline.yaml:20: step "other_words": an ask step needs "type": one of age, age_band, day, day_band, '
        "time, yes_no, text",
        id="a question with no answer type",
    ),
    pytest.param(
        "      cy_reviewed: true\n",
        "      cy_reviewed: true\n    next: reason\n",
        'decline.yaml:35: step "bye": an end step does not use "next", so the bot would ignore it; remove it',
        id="a next after the end",
    ),
    pytest.param(
        "start: reason\n",
        "start: reason\ncommands:\n  help: {en: [help]}\n",
        'decline.yaml:3: "commands" belongs in system.yaml only; here the bot would ignore it',
        id="commands outside the system script",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), BROKEN_DECLINE)
def test_each_mistake_is_one_line_pointing_at_where_to_fix_it(old, new, expected):
    expected_lines = [expected] if isinstance(expected, str) else expected

    assert problems_with("decline", edited("decline", old, new)) == expected_lines


def test_a_goto_to_a_script_that_does_not_exist():
    text = edited("welcome", "goto: decline", "goto: declin")

    assert problems_with("welcome", text) == [
        'welcome.yaml:53: step "declined": goes to script "declin", which does not exist (did you mean "decline"?)'
    ]


def test_the_system_script_must_have_every_text_and_command_word_the_bot_uses():
    text = edited("system", "  start: {en: [start], cy: [dechrau]}", "  start: {en: [start]}")

    assert problems_with("system", text) == ['system.yaml:7: "commands" needs Welsh (cy) words for "start"']


def test_a_set_of_scripts_without_a_system_script_is_incomplete(tmp_path):
    for name in ("welcome", "decline"):
        shutil.copy(VALID / f"{name}.yaml", tmp_path / f"{name}.yaml")

    result = check_paths([tmp_path], builtin_dir=tmp_path)

    assert [str(problem) for problem in result.problems] == [
        f'{tmp_path}: there is no "system.yaml" script, and the bot needs one: it holds the commands and texts '
        "that work everywhere"
    ]


# --- warnings: the script works, but a young person's phone would show something unkind or costly ---

LONG_WELSH = (
    "Diolch. Byddwn ni'n gadael i'r oedolyn sy'n gofalu amdanat ti wybod ein bod ni'n siarad, "
    "ond dim ond os wyt ti'n hapus gyda hynny. Cofia yfed dŵr heddiw."
)


def test_one_welsh_letter_turns_a_long_message_into_three_sms_parts():
    text = edited(
        "welcome",
        "cy: Diolch. Byddwn ni'n gadael i'r oedolyn sy'n gofalu amdanat ti wybod ein bod ni'n siarad.",
        f"cy: {LONG_WELSH}",
    )

    assert len(LONG_WELSH) > 140
    assert problems_with("welcome", text) == [
        f'welcome.yaml:38: warning: step "younger": the Welsh (cy) message needs 3 SMS parts (UCS-2, '
        f'{len(LONG_WELSH)} characters, because of "ŵ"); try to keep it to 2'
    ]


def test_the_same_message_without_the_circumflex_fits_in_two_parts():
    text = edited(
        "welcome",
        "cy: Diolch. Byddwn ni'n gadael i'r oedolyn sy'n gofalu amdanat ti wybod ein bod ni'n siarad.",
        f"cy: {LONG_WELSH.replace('ŵ', 'w')}",
    )

    assert problems_with("welcome", text) == []


def test_curly_quotes_are_counted_as_sent_so_they_cost_no_extra_sms_part():
    # The SMS channel sends a curly quote as its plain twin: the message goes as GSM-7, in one part, and the
    # validator counts it the way it is sent (conversations/sms.py's one counter), not the way it is typed.
    long_english = (
        "Thanks. We’ll let the adult who looks after you know we’re talking. "
        "That’s all they’ll hear from us, unless you tell us you’d like them to know more."
    )
    text = edited(
        "welcome", "en: Thanks. We'll let the adult who looks after you know we're talking.", f"en: {long_english}"
    )

    assert problems_with("welcome", text) == []


def test_an_alarming_word_in_the_first_line_warns_because_it_shows_on_a_locked_phone():
    text = edited("welcome", "en: Hi, this is {service_name}.", "en: Hi, the police asked {service_name} to text you.")

    assert problems_with("welcome", text) == [
        'welcome.yaml:7: warning: step "hello": the first line of the English (en) message has "police"; '
        "it shows on a locked phone that others may see, so move it further down"
    ]


def test_an_alarming_word_further_down_the_message_is_fine():
    text = edited(
        "welcome",
        "      en: Hi, this is {service_name}. We're here to listen. Text STOP any time to stop our messages.\n",
        "      en: |-\n        Hi, this is {service_name}. We're here to listen.\n"
        "        We are not the police. Text STOP any time to stop our messages.\n",
    )

    assert problems_with("welcome", text) == []


def test_alarming_words_count_only_as_whole_words():
    # "died" and "dieting" are not "die"; "Ar goll" in Welsh is, in any case
    text = edited("welcome", "en: Hi, this is {service_name}.", "en: Hi, this is {service_name}, the diet died.")
    text = text.replace("cy: Helo, dyma {service_name}.", "cy: Ar goll? Dyma {service_name}.")

    assert problems_with("welcome", text) == [
        'welcome.yaml:8: warning: step "hello": the first line of the Welsh (cy) message has "ar goll"; '
        "it shows on a locked phone that others may see, so move it further down"
    ]


def test_an_option_with_a_carrier_opt_out_word_warns_because_typing_it_on_sms_unsubscribes():
    text = edited("welcome", "label: {en: No thanks, cy: Dim diolch}", 'label: {en: "No, cancel", cy: Dim diolch}')

    assert problems_with("welcome", text) == [
        'welcome.yaml:20: warning: step "menu": option 2\'s English (en) label "No, cancel" has "cancel", which on '
        'SMS the phone network takes as "unsubscribe me" when typed on its own; say it another way (like "Call it off")'
    ]


@pytest.mark.parametrize(
    "label, word",
    [("The END", "end"), ("quit", "quit"), ("Stop now", "stop"), ("UNSUBSCRIBE me", "unsubscribe")],
)
def test_every_carrier_opt_out_word_warns_in_any_case(label, word):
    text = edited("welcome", "label: {en: No thanks, cy: Dim diolch}", f'label: {{en: "{label}", cy: Dim diolch}}')

    [problem] = problems_with("welcome", text)
    assert f'has "{word}"' in problem and "warning" in problem


def test_welsh_opt_out_words_warn_in_their_changed_forms_too():
    # "Ei chanslo" is "canslo" after "ei": a service that adds Welsh opt-out words would add it too
    text = edited("welcome", "label: {en: No thanks, cy: Dim diolch}", 'label: {en: No thanks, cy: "Ei chanslo"}')

    [problem] = problems_with("welcome", text)
    assert 'option 2\'s Welsh (cy) label "Ei chanslo" has "chanslo"' in problem


def test_opt_out_words_count_only_as_whole_words():
    # "Endless", "cancelled" and "stopped" are not opt-out words
    text = edited("welcome", "label: {en: No thanks, cy: Dim diolch}", 'label: {en: "Endless, cancelled", cy: Dim}')

    assert problems_with("welcome", text) == []


def test_a_text_that_suggests_replying_an_opt_out_word_warns():
    text = edited("welcome", "en: Would you like", "en: Reply CANCEL if not. Would you like")

    assert problems_with("welcome", text) == [
        'welcome.yaml:12: warning: step "menu": the English (en) text suggests replying "CANCEL", which has '
        '"cancel": on SMS the phone network takes it as "unsubscribe me"; suggest another word'
    ]


def test_suggesting_stop_to_stop_is_what_carriers_expect():
    # the valid welcome says "Text STOP any time to stop our messages", and "stop" in small letters suggests nothing
    text = edited("welcome", "en: Would you like", "en: If you want to stop, that's fine. Would you like")

    assert problems_with("welcome", text) == []


def test_the_services_english_name_inside_a_welsh_text_warns():
    text = edited("welcome", "cy: Helo, dyma {service_name}.", "cy: Helo, the Return Home service sydd yma.")

    assert problems_with("welcome", text) == [
        'welcome.yaml:8: warning: step "hello": the Welsh (cy) text has "return home", the service\'s English name: '
        "write {service_name}, which is its Welsh name in Welsh messages",
        'welcome.yaml:8: warning: step "hello": the Welsh (cy) text leaves out {service_name}, which the English (en) '
        "one has",
    ]


@pytest.mark.parametrize("english", ["Thanks", "Diolch, and take care", "Fyddet ti'n hoffi chat?"])
def test_a_plainly_english_word_inside_a_welsh_text_warns(english):
    text = edited("welcome", "cy: Hoffet ti siarad", f"cy: {english} Hoffet ti siarad")

    [problem] = problems_with("welcome", text)
    assert problem.startswith('welcome.yaml:13: warning: step "menu": the Welsh (cy) text has "')
    assert problem.endswith('", which is English: say it in Welsh')


def test_the_offer_of_english_and_replies_in_capitals_stay_english_in_a_welsh_text():
    # the active offer of the other language must be in that language; HELP and ENGLISH are words to send
    welsh = (
        "cy: |-\n        Helo, dyma {service_name}.\n        This chat is also in English: reply ENGLISH.\n"
        "        Anfona HELP am help. Rydyn ni yma i wrando. Anfona STOP unrhyw bryd i stopio ein negeseuon.\n"
    )
    text = edited(
        "welcome",
        "cy: Helo, dyma {service_name}. Rydyn ni yma i wrando. Anfona STOP unrhyw bryd i stopio ein negeseuon.\n",
        welsh,
    )

    assert problems_with("welcome", text) == []


# --- the command a coordinator runs: rhi scripts validate [--report] [PATH...] ---


@pytest.fixture
def scripts_folder(tmp_path, monkeypatch):
    """A copy of the valid scripts in ./scripts, as a coordinator would have them."""
    shutil.copytree(VALID, tmp_path / "scripts")
    monkeypatch.chdir(tmp_path)
    return Path("scripts")


def test_validate_command_says_so_when_everything_is_valid(scripts_folder):
    out = io.StringIO()

    assert validate_command([str(scripts_folder)], out) == 0
    assert out.getvalue() == "3 scripts checked: no errors, 0 warnings\n"


def test_validate_command_prints_each_problem_and_fails(scripts_folder):
    (scripts_folder / "decline.yaml").write_text(edited("decline", "next: other_words", "next: other_wrds"))
    (scripts_folder / "welcome.yaml").write_text(
        edited("welcome", "en: Hi, this is {service_name}.", "en: Hi, the police asked {service_name} to text you.")
    )
    out = io.StringIO()

    assert validate_command([str(scripts_folder)], out) == 1
    assert out.getvalue().splitlines() == [
        'scripts/decline.yaml:19: step "reason": option 3 ("Something else") leads to step "other_wrds", '
        'which does not exist (did you mean "other_words"?)',
        'scripts/welcome.yaml:7: warning: step "hello": the first line of the English (en) message has "police"; '
        "it shows on a locked phone that others may see, so move it further down",
    ]


def test_warnings_alone_do_not_fail_the_command(scripts_folder):
    (scripts_folder / "welcome.yaml").write_text(
        edited("welcome", "en: Hi, this is {service_name}.", "en: Hi, the police asked {service_name} to text you.")
    )
    out = io.StringIO()

    assert validate_command([str(scripts_folder / "welcome.yaml")], out) == 0
    assert out.getvalue().splitlines()[-1] == "1 script checked: no errors, 1 warning"


def test_a_path_that_does_not_exist_is_an_error(scripts_folder):
    out = io.StringIO()

    assert validate_command(["scripts/welcom.yaml"], out) == 1
    assert out.getvalue() == "scripts/welcom.yaml: there is no such file or folder\n"


def test_the_report_counts_texts_and_lists_welsh_waiting_for_review(scripts_folder):
    out = io.StringIO()

    assert validate_command([str(scripts_folder / "decline.yaml")], out, report=True) == 0
    assert out.getvalue().splitlines()[1:3] == [
        'scripts/decline.yaml: 6 texts, 5 Welsh waiting for review, longest SMS 1 part (step "reason", en)',
        '  scripts/decline.yaml:5: Welsh waiting for review: "Mae hynny\'n iawn. Alli di ddweud pam? M…"',
    ]


def test_welsh_marked_reviewed_is_not_listed_as_waiting():
    script = check_paths([VALID / "decline.yaml"], builtin_dir=VALID).scripts["decline"]

    waiting = unreviewed_welsh(script)

    assert [line for line, _ in waiting] == [5, 10, 13, 17, 21]  # the goodbye on line 31 is reviewed
    assert waiting[1] == (10, "Does dim angen")


def test_the_report_has_one_summary_line_per_script():
    lines = report_lines(check_paths([VALID], builtin_dir=VALID))

    summaries = [line.split(":")[0] for line in lines if not line.startswith(" ")]
    assert [Path(summary).name for summary in summaries] == ["decline.yaml", "system.yaml", "welcome.yaml"]


def test_a_problem_reads_file_line_message():
    assert str(Problem(Path("decline.yaml"), 12, 'step "bye": something')) == 'decline.yaml:12: step "bye": something'
    assert str(Problem(Path("decline.yaml"), 3, "too long", "warning")) == "decline.yaml:3: warning: too long"
