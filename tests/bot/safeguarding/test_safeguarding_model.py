"""The learned model beside the lexicon: what `rhi safeguarding train` builds, how it is stored and read."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.safeguarding import assess, load_lexicon, validate_lexicon_files
from bot.safeguarding.cli import train_command
from bot.safeguarding.corpus import heldout_corpus, training_corpus
from bot.safeguarding.lexicon import LEXICON_DIR
from bot.safeguarding.model import (
    HEADS,
    MODEL_FILE_NAME,
    Model,
    agreement,
    corpus_fingerprint,
    features,
    message_keys,
    word_features,
)

PACKAGED_MODEL = LEXICON_DIR / MODEL_FILE_NAME


def packaged() -> Model:
    return Model.from_json(PACKAGED_MODEL.read_text(encoding="utf-8"))


def test_the_packaged_model_was_trained_on_the_packaged_corpus():
    model = packaged()
    corpus = training_corpus()
    assert model.trained_on["messages"] == len(corpus)
    assert model.trained_on["fingerprint"] == corpus_fingerprint(corpus), "run `rhi safeguarding train`"
    assert set(model.thresholds) == {"alert", "alert_immediate", "with_lexicon", "with_lexicon_urgent", "read"}


def test_rebuilding_the_model_from_the_corpus_gives_the_same_model(tmp_path, capsys):
    """The same corpus and lexicon give the same file byte for byte on one machine. On another processor the
    linear algebra rounds differently and the solver ends a step apart: weights built on two machines differed by
    up to 1.1e-4, so the numbers are compared to 1e-3 (a score moves by less than the thresholds' steps) and
    everything else, the vocabulary and the thresholds chosen, exactly."""
    rebuilt_file = tmp_path / MODEL_FILE_NAME
    assert train_command(sys.stdout, sys.stderr, rebuilt_file) == 0
    assert "cross-validated" in capsys.readouterr().out
    rebuilt, shipped = Model.from_json(rebuilt_file.read_text(encoding="utf-8")), packaged()
    assert rebuilt.document["vocabulary"] == shipped.document["vocabulary"]
    assert (rebuilt.thresholds, rebuilt.trained_on) == (shipped.thresholds, shipped.trained_on)
    for rebuilt_numbers, shipped_numbers in [
        (rebuilt.idf, shipped.idf),
        (rebuilt.weights, shipped.weights),
        (rebuilt.biases, shipped.biases),
        *[(np.array(rebuilt.calibration[head] or []), np.array(shipped.calibration[head] or [])) for head in HEADS],
    ]:
        np.testing.assert_allclose(rebuilt_numbers, shipped_numbers, rtol=0, atol=1e-3)


@pytest.mark.parametrize("text", ["i want to die", "hi its me", "dwi isio marw heno", "sat on the tracks 🚆", ""])
def test_scores_are_the_ones_scikit_learn_gives(text):
    model = packaged()
    document = model.document
    vectorizer = TfidfVectorizer(
        analyzer=features, vocabulary={term: i for i, term in enumerate(document["vocabulary"])}, sublinear_tf=True
    )
    vectorizer.idf_ = model.idf
    keys = message_keys(text, load_lexicon().lookalikes)
    row = vectorizer.transform([keys])
    expected_alert_score = (row @ model.weights[:, HEADS.index("alert")])[0] + model.biases[HEADS.index("alert")]
    slope, intercept = model.calibration["alert"]
    expected = 1.0 / (1.0 + np.exp(slope * expected_alert_score + intercept))
    assert model.predict(keys).alert == pytest.approx(expected, abs=1e-9)


def test_a_words_letter_pieces_are_found_as_the_vectorizer_names_them():
    """A new word's pieces are looked up as slices of it (``Model.word_positions``), not by their feature names."""
    model = packaged()
    lookalikes = load_lexicon().lookalikes
    words = {key for message in heldout_corpus() for key in message_keys(message.text, lookalikes)}
    words |= {"a", "zzqxv", "ffonia", "🆘"}
    for word in words:
        named = tuple(position for position in map(model.index.get, word_features(word)) if position is not None)
        assert model.word_positions(word) == named, word


def test_a_broken_model_file_says_what_is_wrong_and_where(tmp_path):
    words = tmp_path / "words.yaml"
    words.write_text("language: en\nentries:\n  - {phrase: purple elephant, category: health}\n", encoding="utf-8")
    model = tmp_path / MODEL_FILE_NAME
    model.write_text('{"format": 1,\n "vocabulary": [', encoding="utf-8")
    assert validate_lexicon_files([words, model]) == [f"{model}:2: not valid JSON: Expecting value"]
    model.write_text(json.dumps({"format": 99}), encoding="utf-8")
    [problem] = validate_lexicon_files([words, model])
    assert problem.startswith(f"{model}:1: this is not a safeguarding model of format 1")
    assert "rhi safeguarding train" in problem


def test_without_a_model_the_words_alone_decide(tmp_path):
    words = tmp_path / "words.yaml"
    words.write_text(
        "language: en\nentries:\n  - {phrase: purple elephant, category: health}\n"
        "  - {phrase: kitchen knife, category: violence_weapons, alone: false}\n",
        encoding="utf-8",
    )
    lexicon = load_lexicon([words])
    assert lexicon.model is None
    assert assess("i saw a purple elephant", lexicon).outcome == "alert"
    assert assess("pass the kitchen knife", lexicon).outcome == "concern"
    assert assess("i want to die", lexicon).outcome == "none"


def test_a_model_file_from_before_the_current_head_still_scores_as_it_did():
    document = json.loads(PACKAGED_MODEL.read_text(encoding="utf-8"))
    del document["heads"]["current"]
    older = Model.from_json(json.dumps(document))
    keys = message_keys("i used to cut in year 8", load_lexicon().lookalikes)
    prediction = older.predict(keys)
    assert prediction.current == 1.0
    assert prediction.score == agreement(prediction.alert, prediction.read, 1.0, prediction.categories)
    assert prediction.alert == packaged().predict(keys).alert
