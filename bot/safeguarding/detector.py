"""Safeguarding triage of one inbound message: does a human need to read it, now or soon, and why?

`assess(text)` is pure (no I/O beyond loading the packaged lexicon and model once) and is called on every
inbound message before anything else. It errs towards alerting: a false alarm costs a worker a minute, a miss
can cost a life. A human at the provider decides what happens next.

Two readers, combined:
- the lexicon (`lexicon`): phrases a safeguarding lead wrote and can read, matched per token (below);
- the model (`model`): a linear model over word and letter n-grams, learned from labelled messages, which
  finds wordings nobody listed and tells "I want to die" from "I'm not suicidal, don't worry".

The outcome (thresholds chosen when the model was trained, on messages it had not seen; the score is how far
the model's heads agree that a person must read the message now, ``model.agreement``):
- `alert`: the score reaches the `alert` threshold, or the lower `alert_immediate` one when the model reads
  the message as about suicide and self-harm or being unsafe now (the immediate categories, whose recall
  target is the higher one), or, when a phrase that alerts on its own matched (or two phrases did), the still
  lower `with_lexicon` one for a phrase of an immediate category and `with_lexicon_urgent` for the others (both
  never above `WITH_LEXICON_MOST`): the model overrules the words only when it is sure a message is harmless,
  and then the message is a concern a person reads (and never when it knew none of the message's words: "🆘");
- `concern`: not an alert, but a phrase matched (a negation, an everyday word alone: "knife") or the model's
  "read" head reaches `read` (a past or third-person mention, a worry);
- `none`.
The severity of an alert is immediate when a category is (suicide and self-harm, unsafe now), when the model
says it is happening now, or when a `now` phrase of the lexicon is in it ("tonight", "just took"); else urgent.

Lexicon matching, per reading of the message (see `normalise`):
1. every token's readings (itself, its classes, a Welsh radical, lexicon words it plausibly misspells)
   and two adjacent tokens read as one word ("my self", "step dad") are looked up in the lexicon's
   word trie, allowing a few filler words between a phrase's words where the entry says so;
2. a match is dropped when one of its entry's `exclude` contexts is within a few words ("going
   country" next to "country park"), or when a longer match covers it and is at least as severe
   ("my dad hit me" is abuse at home, not also violence);
3. the lexicon's context rules adjust categories (violence near "mum", "stepdad"... is also abuse at home);
4. words spelt out letter by letter ("i w a n t t o d i e") are also searched for lexicon words.
Every step is a dictionary look-up per token, so the cost does not grow with the lexicon. The lexicon
memoises each word's readings (bounded), which changes speed, never results.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from bot.safeguarding.categories import (
    CATEGORIES,
    CATEGORY_SEVERITY,
    SEVERITY_RANK,
    Severity,
    most_severe,
    order_categories,
)
from bot.safeguarding.corpus import Outcome
from bot.safeguarding.lexicon import RULE_WINDOW, SPACED_WORD_MIN, Lexicon, LexiconEntry, PhraseNode, load_lexicon
from bot.safeguarding.model import Prediction
from bot.safeguarding.normalise import Tokens, TokenStream, tokenise
from conversations.catalog import Catalog
from conversations.interpreter import offered_answer

# How many tokens either side of a match an `exclude` context is looked for in.
EXCLUDE_WINDOW = 4
# How many tokens before a match a negation makes it a concern rather than an alert on its own.
NEGATION_WINDOW = 2
# A category the model gives at least this probability is named in an alert or a concern.
CATEGORY_AT: Final = 0.5
# An alert is immediate when the model gives "happening now" at least this probability. The head is trained
# on alerts alone, so it only ever grades an alert: a lower threshold for what it reads as "now" made ordinary
# answers ("I don't want one", "scared I'll get in trouble") alerts.
IMMEDIATE_AT: Final = 0.5
# The categories whose alerts are immediate: a message the model reads as one of them alerts from the lower
# `alert_immediate` threshold, because their recall target (0.95) is higher than the others' (0.90).
IMMEDIATE_CATEGORIES: Final = tuple(
    category for category, severity in CATEGORY_SEVERITY.items() if severity == "immediate"
)
# The thresholds used when a model file carries none (a model trained for a test, say); a file without
# `alert_immediate` (one trained before it existed) uses its `alert` for every message.
DEFAULT_THRESHOLDS: Final = {"alert": 0.5, "with_lexicon": 0.2, "read": 0.5}
# The most `with_lexicon` and `with_lexicon_urgent` may be: a phrase that alerts alone alerts unless the model reads
# the message as clearly harmless (less than one in ten). Left to the training messages alone, the threshold for
# the immediate phrases rose to 0.3, where a short cry the model reads poorly ("save me", "someone help",
# "ffonia'r heddlu plis") was only a concern.
WITH_LEXICON_MOST: Final = 0.1


@dataclass(frozen=True)
class Assessment:
    escalate: bool  # exactly when outcome is "alert"
    severity: Severity | None
    categories: list[str]  # most severe first, in a stable order; for a concern, what it is about
    matches: list[str]  # the lexicon phrases that matched, in the order they occur
    outcome: Outcome = "none"
    score: float = 0.0  # how likely a human must read it now, 0-1 (the model's calibrated score)

    @property
    def flagged(self) -> bool:
        """Whether a person should read the message (an alert or a concern): what the conversation's script is
        told, so that a message it cannot place is answered as one a person will read."""
        return self.outcome != "none"

    def to_json(self, text: str | None = None) -> dict[str, Any]:
        """The `rhi safeguarding check` line for this assessment (with "text" first when given)."""
        result: dict[str, Any] = {} if text is None else {"text": text}
        result.update(
            escalate=self.escalate,
            severity=self.severity,
            categories=list(self.categories),
            matches=list(self.matches),
            outcome=self.outcome,
            score=round(self.score, 4),
        )
        return result


def assess(
    text: str, lexicon: Lexicon | None = None, *, use_model: bool = True, use_lexicon: bool = True
) -> Assessment:
    """Assess one message against the lexicon and its model (default: the packaged ones).

    ``use_model`` / ``use_lexicon`` switch one reader off, to measure what each adds on its own."""
    if not isinstance(text, str):
        raise TypeError(f"assess() needs the message text, not {type(text).__name__}")
    lexicon = lexicon if lexicon is not None else load_lexicon()
    reading = read_words(lexicon, text, match=use_lexicon)
    model = lexicon.model if use_model else None
    prediction = model.predict(reading.keys) if model is not None else None
    thresholds = with_defaults(model.thresholds if model is not None else {})
    return decide(reading.found, prediction, thresholds, reading.now)


@dataclass(frozen=True)
class WordsReading:
    """What the lexicon makes of a message: its tokens (which the model reads too), the phrases found with the
    categories each signals there, and whether a `now` phrase is in it."""

    keys: tuple[str, ...]
    found: list[tuple[LexiconEntry, tuple[str, ...]]]
    now: bool


def assess_reply(text: str, lexicon: Lexicon, catalog: Catalog, state: dict[str, Any]) -> Assessment:
    """``assess(text)`` for a message sent to a conversation waiting at ``state``. A message that is, word for
    word, an answer the question asked offers ("In care near here", "dont know", "n": a button pressed) is that
    answer, not a cry for help, unless a phrase of the lexicon is in it: the model alone, which reads a word or
    two poorly, does not make it an alert or a concern. An answer that itself says a child may be at risk ("I'm
    not back yet") raises its alert through the script that offered it."""
    assessment = assess(text, lexicon)
    if assessment.outcome == "none" or assessment.matches or not offered_answer(catalog, state, text):
        return assessment
    return Assessment(False, None, [], [], "none", assessment.score)


def read_words(lexicon: Lexicon, text: str, *, match: bool = True) -> WordsReading:
    """Read ``text`` with the lexicon (``match`` False: tokens only, no phrases)."""
    tokens = tokenise(text, lexicon.lookalikes)
    keys = tuple(tokens.main.keys)
    return WordsReading(keys, _lexicon_matches(lexicon, tokens) if match else [], lexicon.happening_now(keys))


def _lexicon_matches(lexicon: Lexicon, tokens: Tokens) -> list[tuple[LexiconEntry, tuple[str, ...]]]:
    found = _Reading(lexicon, tokens.main).matches()
    for joined in tokens.joined:
        found += _Reading(lexicon, joined).matches()
    for word in tokens.joined_words:
        found += [(entry, entry.categories) for entry in _spelt_out(lexicon, word)]
    return found


def lexicon_alerts(found: list[tuple[LexiconEntry, tuple[str, ...]]]) -> bool:
    """Whether what the lexicon found alerts on its own: a phrase that may, or two different phrases."""
    return any(entry.alone for entry, _ in found) or len({entry.phrase for entry, _ in found}) >= 2


def lexicon_alerts_immediate(found: list[tuple[LexiconEntry, tuple[str, ...]]]) -> bool:
    """Whether what the lexicon found alerts on its own with a phrase of an immediate category (suicide and
    self-harm, unsafe now): the phrases that alert alone, or, with two phrases and none alone, any of them."""
    if not lexicon_alerts(found):
        return False
    alone = [entry for entry, _ in found if entry.alone]
    return any(entry.severity_rank == 0 for entry in (alone or [entry for entry, _ in found]))


def with_defaults(thresholds: dict[str, float]) -> dict[str, float]:
    """A model's thresholds with the missing ones filled in (``DEFAULT_THRESHOLDS``)."""
    full = {**DEFAULT_THRESHOLDS, **thresholds}
    full.setdefault("alert_immediate", full["alert"])
    full.setdefault("with_lexicon_urgent", full["with_lexicon"])
    return full


def reads_as_immediate(prediction: Prediction) -> bool:
    """Whether the model reads the message as about one of the immediate categories (suicide and self-harm,
    being unsafe now), as something a person should read: each category head learns from every message, with
    the alerts and concerns about its category on one side and everything else, everyday talk included, on the
    other."""
    return any(prediction.categories[category] >= CATEGORY_AT for category in IMMEDIATE_CATEGORIES)


def alerts(
    score: Any,
    lexicon_alert: Any,
    thresholds: dict[str, float],
    immediate: Any = False,
    lexicon_immediate: Any = False,
    knew_a_word: Any = True,
) -> Any:
    """The alert rule on the model's score: sure enough on its own (less sure for a message it reads as about
    an immediate category, ``immediate``), or not saying harmless when the lexicon alerts (``lexicon_immediate``:
    with a phrase of an immediate category). The model overrules the words only when it read the message: one of
    words it never saw (``knew_a_word`` false) is scored from its length alone ("🆘" read as a one-word answer,
    so harmless). Works on one message (floats and bools) or many at once (numpy arrays)."""
    full = with_defaults(thresholds)
    alert_at, immediate_at = full["alert"], full["alert_immediate"]
    if isinstance(immediate, bool):
        sure = score >= (immediate_at if immediate else alert_at)
    else:
        sure = np.where(immediate, score >= immediate_at, score >= alert_at)
    if isinstance(lexicon_immediate, bool):
        words_at = full["with_lexicon"] if lexicon_immediate else full["with_lexicon_urgent"]
    else:
        words_at = np.where(lexicon_immediate, full["with_lexicon"], full["with_lexicon_urgent"])
    unread = (not knew_a_word) if isinstance(knew_a_word, bool) else ~knew_a_word
    return sure | (lexicon_alert & ((score >= words_at) | unread))


def decide(
    found: list[tuple[LexiconEntry, tuple[str, ...]]],
    prediction: Prediction | None,
    thresholds: dict[str, float],
    now: bool = False,
) -> Assessment:
    """The outcome from what the lexicon found (entries with the categories each signals here) and what the
    model predicted (None: lexicon only), as the module's docstring says."""
    matches = list(dict.fromkeys(entry.phrase for entry, _ in found))
    if prediction is None:
        outcome: Outcome = "alert" if lexicon_alerts(found) else "concern" if found else "none"
        score = {"alert": 1.0, "concern": 0.5, "none": 0.0}[outcome]
    else:
        score = prediction.score
        if alerts(
            score,
            lexicon_alerts(found),
            thresholds,
            reads_as_immediate(prediction),
            lexicon_alerts_immediate(found),
            prediction.knew_a_word,
        ):
            outcome = "alert"
        elif found or prediction.read >= thresholds["read"]:
            outcome = "concern"
        else:
            outcome = "none"
    if outcome == "none":
        return Assessment(False, None, [], [], "none", score)
    # The phrases' categories when they name any (a person can see why); else the model's.
    named = [
        category
        for entry, categories in found
        for category in categories
        if outcome == "concern" or entry.alone or len(matches) >= 2
    ]
    if not named and prediction is not None:
        named = [category for category in CATEGORIES if prediction.categories[category] >= CATEGORY_AT]
        named = named or [max(CATEGORIES, key=prediction.categories.__getitem__)]
    categories = order_categories(named)
    if outcome == "concern":
        return Assessment(False, None, categories, matches, "concern", score)
    severity = most_severe(categories)
    if now or (prediction is not None and prediction.immediate >= IMMEDIATE_AT):
        severity = "immediate"
    return Assessment(True, severity, categories, matches, "alert", score)


class _Reading:
    """One reading of a message being matched: its tokens and every way each token may be read."""

    __slots__ = ("class_positions", "joins", "keys", "lexicon", "readings")

    def __init__(self, lexicon: Lexicon, stream: TokenStream) -> None:
        self.lexicon = lexicon
        self.keys = stream.keys
        cached, read = lexicon.cached_readings, lexicon.readings
        self.readings = [cached.get(key) or read(key) for key in self.keys]
        for position, variants in stream.variants.items():
            self.readings[position] += tuple(reading for variant in variants for reading in lexicon.readings(variant))
        # two neighbouring tokens read as one word: "my self", "step dad", "ki ll"; never two whose letters
        # would run together ("hi its" is not "hits": repeated letters are read as one)
        self.joins: dict[int, str] = {}
        self.class_positions: dict[str, list[int]] | None = None  # built when a context check needs it
        vocabulary, beginnings = lexicon.vocabulary, lexicon.word_beginnings
        keys = self.keys
        for position in range(len(keys) - 1):
            first = keys[position]
            if first in beginnings:
                second = keys[position + 1]
                joined = first + second
                if first[-1] != second[0] and joined in vocabulary:
                    self.joins[position] = joined

    def matches(self) -> list[tuple[LexiconEntry, tuple[str, ...]]]:
        """The entries matched, in order, with the categories each signals here."""
        hits = self._hits()
        if not hits:
            return []
        hits = {
            hit
            for hit in hits
            if not any(
                self.occurs(context, hit[1] - EXCLUDE_WINDOW, hit[2] + EXCLUDE_WINDOW) for context in hit[0].exclude
            )
        }
        kept = sorted(_without_covered(hits), key=lambda hit: (hit[1], hit[2], hit[0].phrase))
        return [(self._unless_negated(entry, start), self._categories(entry, start, end)) for entry, start, end in kept]

    def _unless_negated(self, entry: LexiconEntry, start: int) -> LexiconEntry:
        """A phrase just after a negation ("I'm not suicidal", "dw i ddim yn...") no longer alerts on its own:
        with the model sure on its own it still alerts, else it is a concern a person reads."""
        before = self.keys[max(0, start - NEGATION_WINDOW) : start]
        if entry.alone and any(key in self.lexicon.negations for key in before):
            return dataclasses.replace(entry, alone=False)
        return entry

    def _hits(self) -> set[tuple[LexiconEntry, int, int]]:
        """Every (entry, first token, token after the last) whose phrase the tokens spell, walking the
        phrase trie from each token; a phrase may skip up to its `gap` tokens between its words."""
        readings, joins, count = self.readings, self.joins, len(self.keys)
        hits: set[tuple[LexiconEntry, int, int]] = set()
        # (trie node reached, next token, most tokens skipped so far, read a misspelling on the way)
        pending: list[tuple[PhraseNode, int, int, bool]] = []
        root = self.lexicon.root
        for start, start_readings in enumerate(readings):
            for key, misspelt in start_readings:
                node = root.get(key)
                if node is not None:
                    pending.append((node, start + 1, 0, misspelt))
            if start in joins:
                node = root.get(joins[start])
                if node is not None:
                    pending.append((node, start + 2, 0, False))
            while pending:
                node, position, gap_used, misspelt = pending.pop()
                for entry in node.entries:
                    if entry.gap >= gap_used and (entry.fuzzy or not misspelt):
                        hits.add((entry, start, position))
                children = node.children
                if not children:
                    continue
                for at in range(position, min(position + node.max_gap + 1, count)):
                    gap = at - position if at - position > gap_used else gap_used
                    for key, key_misspelt in readings[at]:
                        child = children.get(key)
                        if child is not None:
                            pending.append((child, at + 1, gap, misspelt or key_misspelt))
                    if at in joins:
                        child = children.get(joins[at])
                        if child is not None:
                            pending.append((child, at + 2, gap, misspelt))
        return hits

    def _categories(self, entry: LexiconEntry, start: int, end: int) -> tuple[str, ...]:
        """The entry's categories, changed by the context rules that apply around this match."""
        rules = self.lexicon.rules
        if not rules:
            return entry.categories
        categories: list[str] = []
        for category in entry.categories:
            outcome = [category]
            for rule in rules.get(category, ()):
                if self.occurs(rule.near, start - RULE_WINDOW, end + RULE_WINDOW):
                    if rule.becomes:
                        outcome = [rule.becomes]
                        break
                    if rule.also:
                        outcome.append(rule.also)
            categories.extend(outcome)
        return tuple(categories)

    def occurs(self, context: tuple[str, ...], low: int, high: int) -> bool:
        """Whether `context` (keys or {classes}) occurs wholly within tokens [low, high)."""
        keys = self.keys
        low, last = max(0, low), min(len(keys), high) - len(context)
        if last < low:
            return False
        first = context[0]
        if first.startswith("{"):
            starts = [at for at in self._class_positions().get(first, ()) if low <= at <= last]
        else:
            starts = []
            at = low
            while True:
                try:
                    at = keys.index(first, at, last + 1)
                except ValueError:
                    break
                starts.append(at)
                at += 1
        if len(context) == 1:
            return bool(starts)
        class_of = self.lexicon.class_of
        return any(
            all(
                keys[at + offset] == key or (key.startswith("{") and key in class_of.get(keys[at + offset], ()))
                for offset, key in enumerate(context)
                if offset
            )
            for at in starts
        )

    def _class_positions(self) -> dict[str, list[int]]:
        if self.class_positions is None:
            self.class_positions = {}
            class_of = self.lexicon.class_of
            for position, key in enumerate(self.keys):
                for name in class_of.get(key, ()):
                    self.class_positions.setdefault(name, []).append(position)
        return self.class_positions


def _generality(entry: LexiconEntry) -> tuple[int, str]:
    return sum(key.startswith("{") for key in entry.keys), entry.phrase


def _without_covered(hits: set[tuple[LexiconEntry, int, int]]) -> list[tuple[LexiconEntry, int, int]]:
    """Drop a match when a longer match covers it and is at least as severe ("my dad hit me" is abuse at
    home, not also violence); a more severe match is never dropped."""
    by_span: dict[tuple[int, int], list[LexiconEntry]] = {}
    for entry, start, end in hits:
        by_span.setdefault((start, end), []).append(entry)
    for span, entries in by_span.items():
        if len(entries) > 1:  # the same words matched twice: keep the most specific phrase per category
            most_specific: dict[tuple[str, ...], LexiconEntry] = {}
            for entry in sorted(entries, key=_generality):
                most_specific.setdefault(entry.categories, entry)
            by_span[span] = list(most_specific.values())
    kept = []
    furthest_end = [-1] * len(SEVERITY_RANK)  # per severity rank, over the spans seen so far
    for (start, end), entries in sorted(by_span.items(), key=lambda item: (item[0][0], -item[0][1])):
        for entry in entries:
            rank = entry.severity_rank
            if not any(furthest_end[more_or_as_severe] >= end for more_or_as_severe in range(rank + 1)):
                kept.append((entry, start, end))
        for entry in entries:
            furthest_end[entry.severity_rank] = max(furthest_end[entry.severity_rank], end)
    return kept


def _spelt_out(lexicon: Lexicon, word: str) -> list[LexiconEntry]:
    """Lexicon words inside a word that was spelt out letter by letter ("iwanttodie")."""
    found: list[LexiconEntry] = []
    for start in range(len(word)):
        for end in range(start + SPACED_WORD_MIN, min(len(word), start + lexicon.longest_single_word) + 1):
            entries = lexicon.single_words.get(word[start:end])
            if entries:
                found.extend(entries)
    return found
