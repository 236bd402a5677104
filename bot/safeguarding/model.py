"""The learned half of the safeguarding check: a linear model over word and character n-grams.

The lexicon finds what its phrases foresaw; this model generalises from labelled messages to wordings nobody
listed ("thinking about the tracks", "saving my tablets"). Both read the same normalised tokens (``normalise``:
leetspeak decoded, repeated letters squeezed, text-speak expanded, accents dropped), so "sittin on da trax"
and "sitting on the tracks" look alike to it.

Features: each token, each pair of neighbouring tokens, the 3- to 5-letter pieces of each token (which
carry misspellings, Welsh mutations and word forms) and the message's length in words, weighted tf-idf
(scikit-learn's ``TfidfVectorizer``).
Heads, each a logistic regression over those features:

- ``alert``: a human must read this now (the writers' ``alert``), calibrated so that its output is a
  probability (Platt's sigmoid, fitted on the scores that heads trained without a message gave it);
- ``read``: a human should read this at all (``alert`` or ``concern``), calibrated the same way;
- ``current``: of the messages a human should read, is it a risk now (``alert``) rather than negated, past,
  hypothetical or about someone else (``concern``), calibrated the same way. The ``alert`` head learns this
  and the topic at once from every message; this one sees only messages that share the topic, so it learns
  the difference between "I want to die" and "I wanted to die in year 8";
- ``immediate``: among alerts, is it happening now (the writers' severity);
- one per category: the message is about it and a person should read it (an alert or a concern about it),
  learned from every message: taught on alerts and concerns alone, these heads said what an everyday message
  was "about" from its words ("a massive spider in the bath, help" read as being unsafe now), and the lower bar
  for the immediate categories then let it alert.

A message's score (``Prediction.score``, ``agreement``) is how far the heads agree that a person must read it now:
the geometric mean of ``alert``, ``read`` and ``current``, times the square root of the strongest category head.
The thresholds that turn it into an outcome are chosen when training, on cross-validated predictions over the
training corpus (never on the held-out set), and saved with the weights.

Stored as JSON (``bot/data/safeguarding/model.json``, beside the lexicon), never as a pickle: the studio keeps
it with the lexicon's files, and a pickle would run code when loaded. The weights are float32 arrays in base64.
Training is deterministic: the same corpus and lexicon give the same file, byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from bot.safeguarding.categories import CATEGORIES
from bot.safeguarding.corpus import Labelled
from bot.safeguarding.normalise import tokenise

MODEL_FILE_NAME: Final = "model.json"
MODEL_FORMAT: Final = 1
# Features seen in fewer training messages than this are dropped: they are one writer's quirks.
MIN_MESSAGES_PER_FEATURE: Final = 2
CHARACTER_NGRAMS: Final = (3, 4, 5)
# Inverse regularisation strength of every head (larger fits the training messages more closely); 16 did
# a little better than 4 and 1 on cross-validation over the training corpus (ROC AUC, README).
REGULARISATION_C: Final = 16.0
CROSS_VALIDATION_FOLDS: Final = 5
# Words whose features are kept looked up (a bounded memo: it changes speed, never results).
_WORDS_KEPT: Final = 50_000
HEADS: Final = ("alert", "read", "current", "immediate", *CATEGORIES)
# Heads whose score is a calibrated probability (the others give their logistic output as it is).
CALIBRATED_HEADS: Final = ("alert", "read", "current")
# Heads a model file may lack (one trained before they existed): a missing one gives 1, which changes no score.
OPTIONAL_HEADS: Final = frozenset({"current"})
_MISSING_HEAD: Final = {"bias": 50.0}


class ModelError(ValueError):
    """The model file cannot be used; the message says why, starting with ``FILE:LINE:``."""


def message_keys(text: str, lookalikes: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The normalised tokens the model reads: the lexicon's reading of the message (``lookalikes``: its
    ordinary words that are never squeezed)."""
    return tuple(tokenise(text, lookalikes).main.keys)


def features(keys: Sequence[str]) -> list[str]:
    """Every feature of a message's tokens: each word's (``word_features``), each pair of neighbouring words,
    and how long the message is (a word or two says little: "STOP" must not read like "make it stop")."""
    found: list[str] = [length_feature(len(keys))]
    previous = ""
    for key in keys:
        found.extend(word_features(key))
        if previous:
            found.append(f"b {previous} {key}")
        previous = key
    return found


def word_features(key: str) -> list[str]:
    """A word, and its letter n-grams with the word's edges marked ("c  cut", "c cut ")."""
    return ["w " + key, *("c " + piece for piece in letter_pieces(key))]


def letter_pieces(key: str) -> list[str]:
    """A word's letter n-grams, the word's edges marked by a space (" cu", "cut", "ut ")."""
    padded = f" {key} "
    return [padded[start : start + size] for size in CHARACTER_NGRAMS for start in range(len(padded) - size + 1)]


def length_feature(tokens: int) -> str:
    return "n " + next(name for most, name in _LENGTHS if tokens <= most)


_LENGTHS: Final = ((1, "1"), (2, "2"), (4, "3-4"), (8, "5-8"), (16, "9-16"), (math.inf, "17+"))


@dataclass(frozen=True)
class Prediction:
    alert: float  # probability that a human must read this now
    read: float  # probability that a human should read it at all
    current: float  # if a human should read it: probability that it is a risk now, not negated, past or another's
    immediate: float  # if it is an alert: probability that it is happening now
    categories: dict[str, float]
    score: float  # how far the heads agree that a person must read it now, 0-1 (``agreement``)
    # Whether any of the message's words was among those trained on: a message of words the model never saw
    # ("🆘") is scored from its length alone, which says nothing about it.
    knew_a_word: bool = True


def agreement(alert: float, read: float, current: float, categories: dict[str, float]) -> float:
    """A message's score: the geometric mean of the alert, read and current heads, times the square root of the
    strongest category head. Each head can pull it down: the read head (trained on more examples of each kind)
    when nobody need read it at all, the current head when it is negated, past, hypothetical or someone else's,
    and the category heads when it is about none of the categories ("hi its me again" reads like "he hit me
    again" to the alert head alone; "the tracks are flooded, rail replacement bus" like the railway to it).
    Chosen on cross-validation over the training corpus and checked on the development set: at the same recall
    it alerted on fewer everyday messages than the lowest of the three heads, which it replaced (README)."""
    return (alert * read * current) ** (1 / 3) * max(categories.values(), default=0.0) ** 0.5


class Model:
    """A trained model, ready to score messages. Build it with ``load_model`` or ``Model.from_json``."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        vocabulary = document["vocabulary"]
        self.index = {term: position for position, term in enumerate(vocabulary)}
        # The letter pieces by their letters alone ("cut" for "c cut"), so that a new word's pieces are looked up
        # as slices of it, without building each feature's name.
        self.pieces = {term[2:]: position for term, position in self.index.items() if term.startswith("c ")}
        self.idf = _array(document["idf"], len(vocabulary))
        heads = {name: document["heads"].get(name, _MISSING_HEAD) for name in HEADS}
        self.weights = np.stack(
            [
                _array(heads[name]["weights"], len(vocabulary))
                if "weights" in heads[name]
                else np.zeros(len(vocabulary))
                for name in HEADS
            ],
            axis=1,
        )
        self.biases = np.array([heads[name]["bias"] for name in HEADS])
        self.calibration = {name: heads[name].get("calibration") for name in HEADS}
        self.thresholds: dict[str, float] = dict(document["thresholds"])
        self.trained_on: dict[str, Any] = dict(document["trained_on"])
        # each word's own features, looked up once (bounded: it changes speed, never results)
        self.known_words: dict[str, tuple[int, ...]] = {}

    @classmethod
    def from_json(cls, text: str, name: str = MODEL_FILE_NAME) -> Model:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelError(f"{name}:{exc.lineno}: not valid JSON: {exc.msg}") from None
        problem = _shape_problem(document)
        if problem:
            raise ModelError(f"{name}:1: {problem}; rebuild it with `rhi safeguarding train`")
        try:
            return cls(document)
        except (ValueError, TypeError, KeyError) as exc:
            raise ModelError(
                f"{name}:1: the weights cannot be read ({exc}); rebuild it with `rhi safeguarding train`"
            ) from None

    def predict(self, keys: Sequence[str]) -> Prediction:
        """Score one message from its normalised tokens (``message_keys``)."""
        scores = self.biases.copy()
        found = self._feature_positions(keys)
        if found:
            positions, counts = np.unique(np.array(found, dtype=np.intp), return_counts=True)
            # tf-idf as TfidfVectorizer(sublinear_tf=True) computes it: (1 + log tf) * idf, scaled to length 1
            values = np.log(counts) + 1.0
            values *= self.idf[positions]
            values /= np.sqrt(values @ values)
            scores += values @ self.weights[positions]
        probability = dict(zip(HEADS, map(self._probability, HEADS, scores.tolist()), strict=True))
        categories = {category: probability[category] for category in CATEGORIES}
        return Prediction(
            probability["alert"],
            probability["read"],
            probability["current"],
            probability["immediate"],
            categories,
            agreement(probability["alert"], probability["read"], probability["current"], categories),
            any(f"w {key}" in self.index for key in keys),
        )

    def _feature_positions(self, keys: Sequence[str]) -> list[int]:
        """The vocabulary positions of ``features(keys)``, once per occurrence (features not in the vocabulary
        are dropped).

        This, not TfidfVectorizer.transform, scores a message: building every n-gram as a string and the
        vectorizer's checks cost more than the 5 ms a message may take; a word's own features are looked up
        once and kept (tests/test_safeguarding_model.py checks the two agree)."""
        index, known = self.index, self.known_words
        found: list[int] = []
        position = index.get(length_feature(len(keys)))
        if position is not None:
            found.append(position)
        previous = ""
        for key in keys:
            positions = known.get(key)
            if positions is None:
                if len(known) >= _WORDS_KEPT:
                    known.clear()
                positions = known[key] = self.word_positions(key)
            found.extend(positions)
            if previous:
                position = index.get(f"b {previous} {key}")
                if position is not None:
                    found.append(position)
            previous = key
        return found

    def word_positions(self, key: str) -> tuple[int, ...]:
        """The vocabulary positions of ``word_features(key)``, in its order."""
        word = self.index.get("w " + key)
        pieces = [position for position in map(self.pieces.get, letter_pieces(key)) if position is not None]
        return tuple(pieces if word is None else [word, *pieces])

    def _probability(self, head: str, score: float) -> float:
        calibration = self.calibration[head]
        if calibration:  # Platt's sigmoid
            slope, intercept = calibration
            return _sigmoid(-(slope * score + intercept))
        return _sigmoid(score)


def load_model(path: Path | str) -> Model:
    path = Path(path)
    return Model.from_json(path.read_text(encoding="utf-8"), str(path))


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


def _array(encoded: str, length: int) -> np.ndarray:
    values = np.frombuffer(base64.b64decode(encoded, validate=True), dtype="<f4").astype(np.float64)
    if len(values) != length:
        raise ValueError(f"{len(values)} weights for {length} features")
    return values


def _encoded(values: np.ndarray) -> str:
    return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode("ascii")


def _shape_problem(document: Any) -> str | None:
    if not isinstance(document, dict) or document.get("format") != MODEL_FORMAT:
        return f"this is not a safeguarding model of format {MODEL_FORMAT}"
    for key in ("vocabulary", "idf", "heads", "thresholds", "trained_on"):
        if key not in document:
            return f'the model has no "{key}"'
    missing = [name for name in HEADS if name not in document["heads"] and name not in OPTIONAL_HEADS]
    if missing:
        return f"the model has no head for {', '.join(missing)}"
    return None


# --- training ------------------------------------------------------------------------------------------


def corpus_fingerprint(corpus: Sequence[Labelled]) -> str:
    """What the model was trained on, as a hash of every message and its labels, in order."""
    digest = hashlib.sha256()
    for message in corpus:
        digest.update(
            json.dumps(
                [message.text, message.language, list(message.categories), message.outcome, message.severity],
                ensure_ascii=False,
            ).encode("utf-8")
        )
    return digest.hexdigest()


def train(
    corpus: Sequence[Labelled],
    choose_thresholds: Callable[[list[Labelled], list[Prediction]], dict[str, float]],
    lookalikes: frozenset[str] = frozenset(),
) -> str:
    """The model file for ``corpus``, as JSON text. ``choose_thresholds`` is given the messages and their
    cross-validated predictions (each message scored by heads that never saw it).

    One set of fold fits serves twice: each calibrated head's sigmoid is fitted on the scores its fold heads
    gave the messages they had not seen (Platt's method, as ``CalibratedClassifierCV`` does with its own
    folds), and the same fold heads, with that sigmoid, make the predictions the thresholds are chosen on.
    Fitting the calibration inside every fold as well took two and a half times as long for no gain.

    The linear algebra runs on one thread: with several, the sums are added in another order and the weights
    differ in their last digits with the number of cores; and on two cores one thread trained as quickly (48 to
    53 s against 53 s) with less processor time (46 to 52 s against 75 s)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _train(corpus, choose_thresholds, lookalikes)


def _train(
    corpus: Sequence[Labelled],
    choose_thresholds: Callable[[list[Labelled], list[Prediction]], dict[str, float]],
    lookalikes: frozenset[str],
) -> str:
    from sklearn.model_selection import StratifiedKFold

    messages = list(corpus)
    keys = [message_keys(message.text, lookalikes) for message in messages]
    training = _training_rows(messages)
    folds = StratifiedKFold(CROSS_VALIDATION_FOLDS, shuffle=True, random_state=0)
    unseen_scores = {name: np.zeros(len(messages)) for name in CALIBRATED_HEADS}
    fold_models: list[tuple[np.ndarray, dict[str, dict[str, Any]], Any]] = []
    for train_index, test_index in folds.split(keys, [message.outcome for message in messages]):
        fold_heads, fold_vectorizer = _fit([keys[i] for i in train_index], _restricted(training, train_index))
        test_matrix = fold_vectorizer.transform([keys[i] for i in test_index])
        for name in CALIBRATED_HEADS:
            unseen_scores[name][test_index] = test_matrix @ fold_heads[name]["weights"] + fold_heads[name]["bias"]
        fold_models.append((test_index, fold_heads, fold_vectorizer))
    calibration = {name: _platt(unseen_scores[name][training[name][0]], training[name][1]) for name in CALIBRATED_HEADS}
    unseen: list[Prediction | None] = [None] * len(messages)
    for test_index, fold_heads, fold_vectorizer in fold_models:
        fold_model = Model(_document(_calibrated(fold_heads, calibration), fold_vectorizer, {}, {}))
        for index in test_index:
            unseen[index] = fold_model.predict(keys[index])
    predictions = [prediction for prediction in unseen if prediction is not None]
    thresholds = choose_thresholds(messages, predictions)
    heads, vectorizer = _fit(keys, training)
    trained_on = {
        "messages": len(messages),
        "fingerprint": corpus_fingerprint(messages),
        "features": len(vectorizer.vocabulary_),
    }
    document = _document(_calibrated(heads, calibration), vectorizer, thresholds, trained_on)
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


# Each head's training messages (positions in the corpus) and what it learns of each.
Training = dict[str, tuple[np.ndarray, np.ndarray]]


def _training_rows(messages: Sequence[Labelled]) -> Training:
    every = np.arange(len(messages))
    raised = np.array([index for index, message in enumerate(messages) if message.outcome != "none"], dtype=int)
    alerts = np.array([index for index, message in enumerate(messages) if message.outcome == "alert"], dtype=int)

    def labels(rows: np.ndarray, learned: Callable[[Labelled], bool]) -> tuple[np.ndarray, np.ndarray]:
        return rows, np.array([learned(messages[index]) for index in rows], dtype=bool)

    training = {
        "alert": labels(every, lambda message: message.outcome == "alert"),
        "read": labels(every, lambda message: message.outcome != "none"),
        "current": labels(raised, lambda message: message.outcome == "alert"),
        "immediate": labels(alerts, lambda message: message.severity == "immediate"),
    }
    for category in CATEGORIES:
        training[category] = labels(
            every, lambda message, category=category: message.outcome != "none" and category in message.categories
        )
    return training


def _restricted(training: Training, kept: np.ndarray) -> Training:
    """``training`` for the messages at ``kept`` only, renumbered as positions in ``kept``."""
    every, _ = training["alert"]  # the alert head learns from every message
    position = np.full(len(every), -1)
    position[kept] = np.arange(len(kept))
    restricted = {}
    for name, (rows, labels) in training.items():
        inside = position[rows] >= 0 if len(rows) else np.zeros(0, dtype=bool)
        restricted[name] = (position[rows[inside]], labels[inside])
    return restricted


def _fit(keys: Sequence[tuple[str, ...]], training: Training) -> tuple[dict[str, dict[str, Any]], Any]:
    """A linear head per entry of ``training`` over tf-idf features of ``keys`` (not yet calibrated)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(
        analyzer=features, min_df=MIN_MESSAGES_PER_FEATURE, sublinear_tf=True, dtype=np.float64
    )
    matrix = vectorizer.fit_transform(keys)
    heads = {}
    for name, (rows, labels) in training.items():
        if len(set(labels.tolist())) < 2:  # nothing to tell apart (a tiny corpus): a head that says "no"
            heads[name] = {"weights": np.zeros(matrix.shape[1]), "bias": -10.0}
            continue
        # newton-cg: converged in a few steps where lbfgs stopped short, and 2.5 times faster here. Run to a
        # tight tolerance: at the default one, where it stops depends on the last digits of the processor's
        # arithmetic, and the same corpus gave weights 0.5 apart on two machines. The calibrated heads learn
        # the messages as they come (their sigmoid gives the probability); the others weigh both sides alike.
        linear = LogisticRegression(
            C=REGULARISATION_C,
            solver="newton-cg",
            tol=1e-8,
            max_iter=2000,
            class_weight=None if name in CALIBRATED_HEADS else "balanced",
        ).fit(matrix[rows], labels)
        heads[name] = {"weights": linear.coef_[0], "bias": _single(linear.intercept_[0])}
    return heads, vectorizer


def _platt(scores: np.ndarray, labels: np.ndarray) -> list[float]:
    """Platt's sigmoid for a head: ``p = 1 / (1 + exp(slope * score + intercept))``, fitted by maximum
    likelihood on scores the head gave messages it had not seen (without Platt's correction of the targets,
    which matters only for a few hundred messages)."""
    from sklearn.linear_model import LogisticRegression

    if len(set(labels.tolist())) < 2:
        return [-1.0, 0.0]
    sigmoid = LogisticRegression(C=np.inf, solver="lbfgs", tol=1e-10, max_iter=1000)
    sigmoid.fit(scores.reshape(-1, 1), labels)
    return [_single(-sigmoid.coef_[0][0]), _single(-sigmoid.intercept_[0])]


def _calibrated(heads: dict[str, dict[str, Any]], calibration: dict[str, list[float]]) -> dict[str, dict[str, Any]]:
    return {
        name: {**head, "calibration": calibration[name]} if name in calibration else head
        for name, head in heads.items()
    }


def _single(value: Any) -> float:
    """A number as the weights are kept (float32): the last digits of a float64 differ between builds of numpy
    and scipy, and the rebuilt model must be the same file."""
    return float(np.float32(value))


def _document(
    heads: dict[str, dict[str, Any]], vectorizer: Any, thresholds: dict[str, float], trained_on: dict[str, Any]
) -> dict[str, Any]:
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    return {
        "format": MODEL_FORMAT,
        "trained_on": trained_on,
        "thresholds": thresholds,
        "vocabulary": vocabulary,
        "idf": _encoded(vectorizer.idf_),
        "heads": {name: {**head, "weights": _encoded(head["weights"])} for name, head in heads.items()},
    }
