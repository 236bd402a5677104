"""The safeguarding detector: the readings that are easy to get wrong, the three outcomes, and the
`rhi safeguarding check` line. The figures on the held-out messages are in test_safeguarding_heldout.py.
"""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import UTC, datetime

import pytest

from bot.safeguarding import CATEGORIES, assess, assess_reply, load_lexicon
from bot.safeguarding.cli import check_stream
from bot.safeguarding.detector import decide, read_words, with_defaults
from bot.safeguarding.model import Prediction
from conversations.catalog import Catalog
from conversations.interpreter import EffectDone, UserText, advance, new_state
from conversations.loading import load_catalog

S, U, C, X, A, V, H = CATEGORIES


# How young people type: every one of these must still be read.
TYPED_AS_YOUNG_PEOPLE_TYPE = [
    ("I WANT TO DIEEEE", [S]),
    ("i want to diiieee", [S]),
    ("i wanna d13", [S]),
    ("gonna k1ll myself", [S]),
    ("gonna ki11 myself", [S]),
    ("i'm $uicidal", [S]),
    ("su!c!de", [S]),
    ("s*icide", [S]),
    ("k.i.l.l myself", [S]),
    ("k i l l myself", [S]),
    ("k-i-l-l m-y-s-e-l-f", [S]),
    ("i w a n t t o d i e", [S]),
    ("kill my self", [S]),
    ("killmyself", [S]),
    ("i want to ki\u200bll myself", [S]),
    ("ｉ ｗａｎｔ ｔｏ ｄｉｅ", [S]),
    ("і want to dіe", [S]),  # Cyrillic i
    ("I’m going to kill myself", [S]),
    ("sucide", [S]),
    ("suicdie", [S]),
    ("unalive myself", [S]),
    ("sewer slide", [S]),
    ("kms", [S]),
    ("⚰️", [S]),
    ("🔪", [V]),
    ("🔫🔫", [V]),
    ("he's got a KNIIIFE", [V]),
    ("kn1fe", [V]),
    ("might be pregnent", [H]),
    ("i took an overdoes", [S, H]),
    ("i OD'd", [S, H]),
    ("i got SA'd", [X]),
    ("my bf is 25", [X]),
    ("my bf is 15", []),
    ("went OT last week", [C]),
    ("on tick", [C]),
    # Welsh: circumflexes, mutations, colloquial spellings
    ("mae cariad hŷn gyda fi", [X]),
    ("mae cariad hyn gyda fi", [X]),
    ("dwi isio marw", [S]),
    ("fi moyn marw", [S]),
    ("dw i'n feichiog", [H]),
    ("mae ganddo fe gyllell", [V]),
    ("ces i fy nhrywanu", [V]),
    ("mae e'n fy nharo i", [A]),
    ("dw i ar goll eto", [U]),
]


@pytest.mark.parametrize(("text", "expected"), TYPED_AS_YOUNG_PEOPLE_TYPE)
def test_reads_messages_as_they_are_typed(text, expected):
    assert assess(text, use_model=False).categories == expected  # how the words read; the model reads apart


# Ordinary words and hyperbole that contain or resemble lexicon words: none of these alert.
FALSE_FRIENDS = [
    "I killed it at football",
    "this homework is killing me",
    "dying to see the match",
    "the cat is dead cute",
    "my skills are getting better",
    "he's very skilled at fifa",
    "my therapist is nice",
    "we went to Scunthorpe",
    "I'm going to the country park",
    "my mate OT-ed the test",
    "I have OT on Tuesdays",
    "the game went into OT",
    "we were rapping in the park",
    "that's odd",
    "I'm not amused",
    "shoot me a text",
    "hit me up later",
    "my mum picks me up from school",
    "i'm scared i'll get in trouble",
    "wn i ddim",
    "lladd amser",
    "dw i bron â marw eisiau gweld y gêm",
    "ydw",
    "dw i ddim yn siŵr",
    "I'd rather not say",
]


@pytest.mark.parametrize("text", FALSE_FRIENDS)
def test_ordinary_words_and_hyperbole_are_not_alerts_to_the_words(text):
    # how the words read them; the whole check's false alarms are measured on the held-out messages
    result = assess(text, use_model=False)
    assert not result.escalate and result.severity is None


def test_most_severe_category_comes_first_and_decides_the_severity():
    result = assess("my stepdad hits me and i want to die")
    assert result.categories == [S, A]
    assert result.severity == "immediate"
    assert result.escalate is True


def test_urgent_categories_alone_are_urgent():
    assert assess("they want me to go country").severity == "urgent"


def test_matches_name_the_lexicon_phrases():
    assert assess("i want to kms, he's got a shank").matches == ["kms", "shank"]


def test_a_longer_phrase_decides_the_category_of_a_shorter_one_inside_it():
    assert assess("my dad hit me").categories == [A]
    assert assess("a lad hit me").categories == [V]


def test_violence_near_someone_at_home_is_also_abuse_at_home():
    assert assess("my carer grabbed me by the throat").categories == [A, V]


def test_to_json_is_the_safeguarding_check_line():
    text = "i want to die"
    line = assess(text).to_json(text)
    assert list(line)[:5] == ["text", "escalate", "severity", "categories", "matches"]
    assert line["escalate"] is True and line["severity"] == "immediate" and line["categories"] == [S]
    assert line["matches"] == ["want to die"] and line["outcome"] == "alert" and 0.0 <= line["score"] <= 1.0
    assert assess("hello").to_json("hello") | {"score": 0} == {
        "text": "hello",
        "escalate": False,
        "severity": None,
        "categories": [],
        "matches": [],
        "outcome": "none",
        "score": 0,
    }


# Three outcomes: an alert needs a human now; a concern needs a human to read it; the rest need nobody.
@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("i've got the tablets lined up, tonight's the night", "alert"),
        ("I'm not suicidal, don't worry about me", "concern"),
        ("i used to self harm in year 8 but i've been clean for two years", "concern"),
        ("can we do thursday after school?", "none"),
        ("hi, it's Sian, Lily's mum", "none"),
    ],
)
def test_an_alert_a_concern_or_nothing(text, outcome):
    result = assess(text)
    assert result.outcome == outcome
    assert result.escalate is (outcome == "alert")


def test_an_everyday_word_alone_is_a_concern_for_the_words_and_an_alert_only_with_a_second_cue():
    lexicon_only = {"use_model": False}
    assert assess("need a sharp knife for the onions", **lexicon_only).outcome == "concern"
    assert assess("he's got a knife and says he'll shank me", **lexicon_only).outcome == "alert"


@pytest.mark.parametrize(
    ("text", "was_read_as"),
    [
        ("hi its me again", "hits"),
        ("hi it's Jess from yesterday", "hits"),
        ("my nose is bleeding a bit after PE", "noose"),
        ("we did county lines in PSHE", "county lines"),
        ("need a sharp knife for the onions", "knife"),
    ],
)
def test_the_words_no_longer_alert_on_everyday_messages(text, was_read_as):
    assert not assess(text, use_model=False).escalate, was_read_as


@pytest.mark.parametrize("text", ["Plan A, e.g. the cafe", "I got an A. E is my mate", "grades: A, E and C"])
def test_the_letters_a_and_e_are_not_accident_and_emergency(text):
    assert "a&e" not in assess(text).matches
    assert not assess(text, use_model=False).escalate


def test_accident_and_emergency_alone_is_read_by_a_person_and_alerts_with_a_second_cue():
    lexicon_only = {"use_model": False}
    assert assess("we went to A&E last month about my wrist", **lexicon_only).outcome == "concern"
    assert assess("she's collapsed, we're taking her to a&e", **lexicon_only).outcome == "alert"
    assert "a&e" in assess("at A+E now").matches


@pytest.mark.parametrize(
    "text", ["hi its me again", "hi it's Jess from yesterday", "we did county lines in PSHE", "STOP", "2", "Yes please"]
)
def test_everyday_messages_do_not_alert(text):
    assert not assess(text).escalate


@pytest.mark.parametrize(
    "text",
    [
        "i just took all of mum's tablets",
        "my mate's not breathing and won't wake up",
        "he's outside the house now",
        "dwi newydd gymryd y tabledi i gyd",
    ],
)
def test_what_is_happening_now_is_immediate_whatever_its_category(text):
    result = assess(text)
    assert result.escalate and result.severity == "immediate"


class FlushCountingStream(io.StringIO):
    flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_check_stream_writes_one_flushed_json_line_per_input_line():
    out = FlushCountingStream()
    exit_code = check_stream(["i want to kms\n", "see you tomorrow\r\n", "dw i'n cysgu ar y stryd, mae'n oer\n"], out)
    lines = out.getvalue().splitlines()
    assert exit_code == 0
    assert out.flushes == 3
    read = [json.loads(line) for line in lines]
    texts = ["i want to kms", "see you tomorrow", "dw i'n cysgu ar y stryd, mae'n oer"]
    assert [line["text"] for line in read] == texts
    assert [(line["escalate"], line["outcome"], line["severity"]) for line in read] == [
        (True, "alert", "immediate"),
        (False, "none", None),
        (True, "alert", "immediate"),
    ]
    assert [line["categories"] for line in read] == [[S], [], [U]]


def test_check_stream_keeps_welsh_letters_as_they_are():
    out = io.StringIO()
    check_stream(["dw i ddim yn siŵr\n"], out)
    assert '"dw i ddim yn siŵr"' in out.getvalue()


def test_assess_uses_the_lexicon_it_is_given(tmp_path):
    lexicon_file = tmp_path / "extra.yaml"
    lexicon_file.write_text(
        "language: en\nentries:\n  - {phrase: purple elephant, category: health}\n", encoding="utf-8"
    )
    lexicon = load_lexicon([lexicon_file])
    assert assess("i saw a purple elephant", lexicon).categories == [H]
    assert assess("i want to die", lexicon).categories == []


def test_assess_needs_text():
    with pytest.raises(TypeError):
        assess(None)  # type: ignore[arg-type]


def _prediction(score: float, **categories: float) -> Prediction:
    return Prediction(
        score, score, 1.0, 0.0, {category: categories.get(category, 0.0) for category in CATEGORIES}, score
    )


def test_the_model_alone_needs_less_to_alert_on_a_message_it_reads_as_about_an_immediate_category():
    thresholds = {"alert": 0.24, "alert_immediate": 0.12, "with_lexicon": 0.02, "read": 0.46}
    assert decide([], _prediction(0.15, suicide_self_harm=0.8), thresholds).outcome == "alert"
    assert decide([], _prediction(0.15, unsafe_now=0.6), thresholds).outcome == "alert"
    assert decide([], _prediction(0.15, health=0.9), thresholds).outcome == "none"
    assert decide([], _prediction(0.25, health=0.9), thresholds).outcome == "alert"
    # a model file from before the two thresholds: its one `alert` threshold for every message
    old = with_defaults({"alert": 0.16, "with_lexicon": 0.02, "read": 0.46})
    assert decide([], _prediction(0.15, suicide_self_harm=0.8), old).outcome == "none"
    assert decide([], _prediction(0.17, health=0.9), old).outcome == "alert"


def _words(tmp_path) -> list:
    """What the words find in two messages: a phrase of an urgent category, and one of an immediate one."""
    words = tmp_path / "words.yaml"
    words.write_text(
        "language: en\nentries:\n  - {phrase: on tick, category: criminal_exploitation}\n"
        "  - {phrase: end it all, category: suicide_self_harm}\n",
        encoding="utf-8",
    )
    lexicon = load_lexicon([words])
    return [read_words(lexicon, text).found for text in ("got the new fifa on tick", "im going to end it all")]


def test_a_phrase_of_an_urgent_category_the_model_reads_as_clearly_harmless_is_read_by_a_person(tmp_path):
    urgent_phrase, immediate_phrase = _words(tmp_path)
    thresholds = {
        "alert": 0.24,
        "alert_immediate": 0.12,
        "with_lexicon": 0.005,
        "with_lexicon_urgent": 0.1,
        "read": 0.46,
    }
    assert decide(urgent_phrase, _prediction(0.05), thresholds).outcome == "concern"
    assert decide(urgent_phrase, _prediction(0.1), thresholds).outcome == "alert"
    # a phrase of an immediate category alerts unless the model is all but certain
    assert decide(immediate_phrase, _prediction(0.05), thresholds).outcome == "alert"
    assert decide(immediate_phrase, _prediction(0.001), thresholds).outcome == "concern"
    # a model file from before the two bars: `with_lexicon` for every phrase
    old = with_defaults({"alert": 0.24, "with_lexicon": 0.02, "read": 0.46})
    assert decide(urgent_phrase, _prediction(0.05), old).outcome == "alert"


# --- a message sent to a conversation: an answer the question offered is that answer -----------------------


def _waiting_at_the_setting_question() -> tuple[Catalog, dict]:
    """A young person's conversation at "Where do you live?" (At home / In care near here / ...)."""
    catalog = load_catalog()
    state = new_state("en", {"service_name": "S", "helplines": "", "helpline_runaway": ""})
    for text in ("hi", "1", "2", "2", "today", "yes"):
        turn = advance(catalog, state, UserText(text, datetime(2026, 11, 23, 10, 0, tzinfo=UTC)))
        while turn.effect:
            turn = advance(catalog, turn.state, EffectDone({}))
        state = turn.state
    assert state["step"] == "setting"
    return catalog, state


class _Reads:
    """A model that reads every message as an immediate alert about being unsafe now, whatever it says."""

    def __init__(self) -> None:
        self.thresholds = {"alert": 0.5, "alert_immediate": 0.5, "with_lexicon": 0.2, "read": 0.5}

    def predict(self, keys):
        return Prediction(0.9, 0.9, 0.9, 0.9, {category: 0.9 if category == U else 0.0 for category in CATEGORIES}, 0.9)


@pytest.fixture
def alarmed_lexicon():
    lexicon = load_lexicon()
    model, lexicon.model = lexicon.model, _Reads()
    yield lexicon
    lexicon.model = model


@pytest.mark.parametrize("pressed", ["In care near here", "in care near here", "Rather not say", "At home"])
def test_a_button_pressed_at_its_question_is_that_answer_even_when_the_model_alone_reads_it_as_an_alert(
    alarmed_lexicon, pressed
):
    catalog, state = _waiting_at_the_setting_question()
    assert assess(pressed, alarmed_lexicon).escalate  # the model alone would alert
    assert assess_reply(pressed, alarmed_lexicon, catalog, state).outcome == "none"


def test_the_same_words_that_are_not_one_of_the_answers_offered_are_still_assessed(alarmed_lexicon):
    catalog, state = _waiting_at_the_setting_question()
    for typed in ("im in care near here but i dont feel safe", "Yes"):  # more than the answer; another question's
        assert assess_reply(typed, alarmed_lexicon, catalog, state).escalate


def test_an_answer_offered_with_a_phrase_of_the_lexicon_in_it_is_assessed_as_ever():
    catalog, state = _waiting_at_the_setting_question()
    state = {**state, "step": "police"}  # Yes / No / Not sure
    assert assess_reply("not sure", load_lexicon(), catalog, state).outcome == "none"
    # a phrase of the lexicon typed at a question never becomes "just an answer"
    assert assess_reply("i want to die", load_lexicon(), catalog, state).escalate


def test_no_button_the_scripts_offer_raises_an_alert_when_pressed_at_its_own_question():
    """What the bot itself offers ("In care near here", "I don't know") must never wake a duty worker: with the
    model alone, some did. (An option that says a child may be at risk alerts through its script's effect.)"""
    catalog, lexicon = load_catalog(), load_lexicon()
    pressed = []
    for script in catalog.scripts.values():
        for step in script.steps.values():
            state = {**new_state("en"), "script": script.name, "step": step.id, "waiting": "answer"}
            for option in step.options:
                for label in (option.label.en, option.label.cy):
                    if assess_reply(label, lexicon, catalog, state).escalate:
                        pressed.append(f"{script.name}.{step.id}: {label}")
    assert pressed == []


@pytest.mark.parametrize(
    "cry",
    [
        "save me",
        "please help",
        "someone help",
        "help pls",
        "plz help",
        "🆘",
        "🆘🆘",
        "sos",
        "call 999 for me",
        "999 pls",
        "ring the police pls",
        "send someone",
        "anfonwch rywun",
        # Scored as a harmless short answer until the model learnt from short cries (README)
        "ffonia 999",
        "ffonia'r heddlu plis",
        "achub fi",
        "can u call someone",
    ],
)
def test_a_cry_of_a_few_words_alerts(cry):
    assessment = assess(cry)
    assert assessment.escalate and assessment.severity == "immediate" and assessment.categories == [U]


@pytest.mark.parametrize(
    "everyday",
    [
        "save me a seat at lunch",
        "can u save me some chips",
        "I'll call someone tomorrow about the chat",
        "can you send someone to my school for the chat",
        "we didn't call the police",
        "should i call 999 or 101 if she goes missing",
        *(
            pytest.param(
                text,
                marks=pytest.mark.xfail(
                    strict=True,
                    reason="a known false alarm: the model, taught short cries, reads 'please help' and '999' in a "
                    "short message as one (README, 'Read these with care')",
                ),
            )
            for text in ("please help me change my time", "ddylwn i ffonio 999 neu 101?")
        ),
    ],
)
def test_the_same_words_about_a_seat_a_booking_or_what_to_do_do_not_alert(everyday):
    assert not assess(everyday).escalate


def test_the_model_never_overrules_the_words_in_a_message_of_words_it_never_saw():
    """A lone 🆘 was read by the model as a one-word answer, so harmless, which overruled the lexicon."""
    found = read_words(load_lexicon(), "🆘").found
    unread = Prediction(0.0, 0.0, 1.0, 0.0, dict.fromkeys(CATEGORIES, 0.0), 0.0, knew_a_word=False)
    read = dataclasses.replace(unread, knew_a_word=True)
    thresholds = with_defaults({"with_lexicon": 0.005})
    assert decide(found, unread, thresholds).outcome == "alert"
    assert decide(found, read, thresholds).outcome == "concern"  # a model that read it may still say harmless


@pytest.mark.parametrize(
    "beating",
    [
        "cal stid gan hogia blwyddyn 11 eto heddiw. bob dydd ma hyn yn digwydd",
        "dwi di cal y stido gwaetha erioed gan dad neithiwr. methu agor llygad chwith",
        "ges i stid gan dad neithiwr",
        "cal fy nyrnu yn fy stumog gan hogia o'r bws bob bore",
    ],
)
def test_a_beating_in_the_welsh_of_the_north_is_read_by_a_person(beating):
    """'Stid', 'stido' and 'dyrnu' (a beating, to beat, to punch) were missing; the model alone read them as
    harmless. Those the model does not agree with are concerns: on the To read list, not waking anyone."""
    assessment = assess(beating)
    assert assessment.outcome != "none" and {"violence_weapons", "abuse_at_home"} & set(assessment.categories)


@pytest.mark.parametrize("everyday", ["mae'n stido bwrw yn dre heddiw", "gaethon ni stid yn y gem rygbi ddoe"])
def test_pouring_with_rain_or_a_thrashing_at_rugby_is_not_a_beating(everyday):
    assert assess(everyday).outcome == "none"


def test_evaluate_prints_the_figures_on_the_development_set_and_refuses_two_sets_at_once(capsys):
    from bot.cli import main

    assert main(["safeguarding", "evaluate", "--development"]) == 0
    printed = capsys.readouterr().out
    for reader in ("lexicon and model", "lexicon only", "model only"):
        assert f"### {reader}, development set" in printed
    assert "| everyday messages alerting |" in printed
    with pytest.raises(SystemExit) as refused:
        main(["safeguarding", "evaluate", "--training", "--development"])
    assert refused.value.code == 2
    assert "not allowed with argument --training" in capsys.readouterr().err
