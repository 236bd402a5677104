"""The detector measured on the held-out messages: written apart from the training corpus by people who
never saw the lexicon, the model or the training messages, never trained on and never used to choose a phrase
or a threshold (bot/data/safeguarding_heldout/). Run with `-s` to see the tables, or `rhi safeguarding evaluate`.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

import pytest

from bot.safeguarding import CATEGORIES, assess, load_lexicon
from bot.safeguarding.corpus import Labelled, heldout_corpus, training_corpus
from bot.safeguarding.evaluate import Figures, measure, report

# The gate. Recall is the target; a miss can cost a life, so it may never go below it.
MIN_RECALL_IMMEDIATE = 0.95
MIN_RECALL_URGENT = 0.90
# Precision reaches its target (0.90); everyday alerting does NOT (2%). These floors, set just past the figures on
# the whole held-out set when its third batch came (0.932 and 2.9%: 35 of 1,225), stop them getting worse while the
# corpus grows (README, "Read these with care").
MIN_PRECISION = 0.93
MAX_EVERYDAY_ALERTING = 0.03
MIN_CONCERNS_SHOWN = 0.85  # concerns shown to a person, as an alert or on the To read list
MIN_RECALL_PER_LANGUAGE = 0.90
MIN_RECALL_PER_CATEGORY = 0.90


@cache
def heldout() -> tuple[Labelled, ...]:
    return tuple(heldout_corpus())


@cache
def figures(reader: str = "both") -> Figures:
    lexicon = load_lexicon()
    options = {"both": {}, "lexicon": {"use_model": False}, "model": {"use_lexicon": False}}[reader]
    return measure(heldout(), lambda text: assess(text, lexicon, **options))


def test_the_heldout_set_has_both_languages_every_category_and_everyday_messages():
    messages = heldout()
    assert len(messages) >= 600
    for language in ("en", "cy"):
        in_language = [m for m in messages if m.language == language]
        assert sum(m.everyday for m in in_language) >= 50, language
        for category in CATEGORIES:
            alerts = sum(m.outcome == "alert" and category in m.categories for m in in_language)
            assert alerts >= 10, (language, category)


def test_no_heldout_message_is_in_the_training_corpus():
    """Beyond the few words everyone writes ("ok", "STOP", "thanks"), which two writers wrote alike."""

    def plain(text: str) -> str:
        return re.sub(r"\W+", " ", text.casefold()).strip()

    trained_on = {plain(message.text) for message in training_corpus()}
    both = [m.text for m in heldout() if plain(m.text) in trained_on and len(plain(m.text).split()) >= 4]
    assert both == []


def test_the_training_corpus_is_big_enough_and_a_third_of_it_harmless_or_hard():
    corpus = training_corpus()
    assert len(corpus) >= 3000
    assert sum(message.outcome != "alert" for message in corpus) >= len(corpus) / 3
    for language in ("en", "cy"):
        for category in CATEGORIES:
            count = sum(m.language == language and m.outcome == "alert" and category in m.categories for m in corpus)
            assert count >= 30, (language, category)
    kinds = Counter(message.kind for message in corpus if message.outcome != "alert")
    for kind in (
        "hyperbole",
        "gaming",
        "school",
        "cooking",
        "sport",
        "booking",
        "negated",
        "past",
        "hypothetical",
        "third_person",
    ):
        assert kinds[kind] >= 30, kind


def test_the_heldout_gate():
    result = figures()
    print("\n" + report(result, "lexicon and model, held-out set"))
    assert result.recall_immediate.value >= MIN_RECALL_IMMEDIATE, result.recall_immediate
    assert result.recall_urgent.value >= MIN_RECALL_URGENT, result.recall_urgent
    assert result.precision.value >= MIN_PRECISION, result.precision
    assert result.everyday_alerting.value <= MAX_EVERYDAY_ALERTING, result.everyday_alerting
    assert result.concerns_read.value >= MIN_CONCERNS_SHOWN, result.concerns_read


@pytest.mark.parametrize("language", ["en", "cy"])
def test_each_language_is_caught(language):
    result = figures().languages[language]
    assert result.recall_immediate.value >= MIN_RECALL_PER_LANGUAGE, result.recall_immediate
    assert result.recall_urgent.value >= MIN_RECALL_PER_LANGUAGE, result.recall_urgent


@pytest.mark.parametrize("category", CATEGORIES)
def test_each_category_is_caught(category):
    assert figures().categories[category].value >= MIN_RECALL_PER_CATEGORY, figures().categories[category]


def test_lexicon_and_model_together_catch_more_than_either_alone_and_lose_nothing_the_words_found():
    together, lexicon, model = figures("both"), figures("lexicon"), figures("model")
    print("\n" + report(lexicon, "lexicon only, held-out set") + "\n" + report(model, "model only, held-out set"))
    for alone in (lexicon, model):
        assert together.recall_immediate.value >= alone.recall_immediate.value
        assert together.recall_urgent.value >= alone.recall_urgent.value
    # the words alone, as the bot had them, miss most of what nobody foresaw: the reason for the model
    assert lexicon.recall_immediate.value < together.recall_immediate.value
    # The model may overrule a phrase when it reads the message as harmless; the message is then a concern that a
    # person reads on the To read list, never dropped.
    missed_by_the_words = {m.text for m in lexicon.missed}
    found_by_the_words = [m for m in heldout() if m.outcome == "alert" and m.text not in missed_by_the_words]
    assert found_by_the_words
    # the ones the two together alerted on are not dropped; the rest are assessed once more for their outcome
    not_alerted = {m.text for m in together.missed}
    dropped = [m.text for m in found_by_the_words if m.text in not_alerted and assess(m.text).outcome == "none"]
    assert dropped == []
