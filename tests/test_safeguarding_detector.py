"""The safeguarding detector: the labelled corpus, then the readings that are easy to get wrong.

Run with `-s` to see the precision and recall table:
    /work/venv/bin/pytest tests/test_safeguarding_detector.py -s
"""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.safeguarding import CATEGORIES, Assessment, assess, load_lexicon
from bot.safeguarding.cli import check_stream

CORPUS_FILE = Path(__file__).resolve().parents[1] / "bot" / "data" / "safeguarding_corpus.yaml"
MIN_CORPUS_SIZE = 320
# A miss can cost a life: immediate categories need the highest recall.
MIN_RECALL = {category: 0.90 for category in CATEGORIES} | {"suicide_self_harm": 0.95, "unsafe_now": 0.95}
MIN_PRECISION = 0.80

S, U, C, X, A, V, H = CATEGORIES


def load_corpus() -> list[dict]:
    return yaml.safe_load(CORPUS_FILE.read_text(encoding="utf-8"))


def score(corpus: list[dict]) -> tuple[dict[str, Counter], list[str]]:
    """Per category: true positives, false positives, false negatives; and a line per wrong message."""
    counts = {category: Counter() for category in CATEGORIES}
    wrong = []
    for message in corpus:
        expected, found = set(message["categories"]), set(assess(message["text"]).categories)
        for category in CATEGORIES:
            if category in expected and category in found:
                counts[category]["tp"] += 1
            elif category in found:
                counts[category]["fp"] += 1
            elif category in expected:
                counts[category]["fn"] += 1
        if expected != found:
            wrong.append(f"  {message['language']} {message['text']!r}: expected {sorted(expected)}, "
                         f"got {sorted(found)}")
    return counts, wrong


def ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 1.0


def report(counts: dict[str, Counter]) -> str:
    lines = [f"{'category':24} {'precision':>9} {'recall':>7} {'tp':>4} {'fp':>4} {'fn':>4}"]
    for category, c in counts.items():
        lines.append(f"{category:24} {ratio(c['tp'], c['tp'] + c['fp']):9.2f} "
                     f"{ratio(c['tp'], c['tp'] + c['fn']):7.2f} {c['tp']:4} {c['fp']:4} {c['fn']:4}")
    total = sum(counts.values(), Counter())
    lines.append(f"{'overall (micro)':24} {ratio(total['tp'], total['tp'] + total['fp']):9.2f} "
                 f"{ratio(total['tp'], total['tp'] + total['fn']):7.2f} {total['tp']:4} {total['fp']:4} "
                 f"{total['fn']:4}")
    return "\n".join(lines)


def test_corpus_has_enough_messages_in_every_category_and_both_languages():
    corpus = load_corpus()
    assert len(corpus) >= MIN_CORPUS_SIZE
    for message in corpus:
        assert set(message) == {"text", "categories", "language"}, message
        assert message["language"] in ("en", "cy"), message
        assert set(message["categories"]) <= set(CATEGORIES), message
    for category in CATEGORIES:
        for language in ("en", "cy"):
            assert any(category in m["categories"] and m["language"] == language for m in corpus), (category, language)
    for language in ("en", "cy"):
        assert any(not m["categories"] and m["language"] == language for m in corpus), language


def test_detector_meets_recall_and_precision_on_the_corpus():
    counts, wrong = score(load_corpus())
    table = report(counts)
    print("\n" + table)
    print("Messages read differently from their label:\n" + "\n".join(wrong))
    message = f"\n{table}\nMessages read differently from their label:\n" + "\n".join(wrong)
    for category, minimum in MIN_RECALL.items():
        c = counts[category]
        assert ratio(c["tp"], c["tp"] + c["fn"]) >= minimum, f"{category} recall below {minimum}{message}"
    total = sum(counts.values(), Counter())
    assert ratio(total["tp"], total["tp"] + total["fp"]) >= MIN_PRECISION, f"precision below {MIN_PRECISION}{message}"


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
    assert assess(text).categories == expected


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
def test_ordinary_words_and_hyperbole_do_not_alert(text):
    assert assess(text) == Assessment(escalate=False, severity=None, categories=[], matches=[])


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
    assert list(assess(text).to_json(text).items()) == [
        ("text", text), ("escalate", True), ("severity", "immediate"),
        ("categories", [S]), ("matches", ["want to die"]),
    ]
    assert assess("hello").to_json("hello") == {
        "text": "hello", "escalate": False, "severity": None, "categories": [], "matches": [],
    }


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
    assert [json.loads(line) for line in lines] == [
        {"text": "i want to kms", "escalate": True, "severity": "immediate", "categories": [S], "matches": ["kms"]},
        {"text": "see you tomorrow", "escalate": False, "severity": None, "categories": [], "matches": []},
        {"text": "dw i'n cysgu ar y stryd, mae'n oer", "escalate": True, "severity": "immediate",
         "categories": [U], "matches": ["cysgu ar y stryd"]},
    ]


def test_check_stream_keeps_welsh_letters_as_they_are():
    out = io.StringIO()
    check_stream(["dw i ddim yn siŵr\n"], out)
    assert '"dw i ddim yn siŵr"' in out.getvalue()


def test_assess_uses_the_lexicon_it_is_given(tmp_path):
    lexicon_file = tmp_path / "extra.yaml"
    lexicon_file.write_text("language: en\nentries:\n  - {phrase: purple elephant, category: health}\n",
                            encoding="utf-8")
    lexicon = load_lexicon([lexicon_file])
    assert assess("i saw a purple elephant", lexicon).categories == [H]
    assert assess("i want to die", lexicon).categories == []


def test_assess_needs_text():
    with pytest.raises(TypeError):
        assess(None)  # type: ignore[arg-type]
