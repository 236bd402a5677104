"""How well the safeguarding check does on labelled messages, and the thresholds chosen when training.

The figures (``measure``), as the tests, the README and the studio's publishing check use them:
- recall of immediate alerts and of urgent alerts: of the messages the writers labelled an alert of that
  severity, the share the check alerts on (whatever severity it gives; that is reported apart);
- precision: of the messages the check alerts on, the share the writers labelled an alert;
- everyday alerting: of the harmless messages (everyday chat, booking talk, hyperbole, school, gaming...),
  the share the check alerts on;
- concerns read: of the messages labelled a concern, the share a human is shown (alert or concern);
- per category and per language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.safeguarding.categories import CATEGORIES
from bot.safeguarding.corpus import Labelled
from bot.safeguarding.detector import (
    WITH_LEXICON_MOST,
    Assessment,
    alerts,
    assess,
    decide,
    lexicon_alerts,
    lexicon_alerts_immediate,
    read_words,
    reads_as_immediate,
)
from bot.safeguarding.lexicon import Lexicon
from bot.safeguarding.model import Prediction, train

# What the thresholds are chosen for, on the training messages' cross-validated predictions: the recall the
# service must reach on new messages (immediate 0.95, urgent 0.90, and 0.90 in each language and category, which
# the tests gate on). Lower targets, chosen because a development set's alerts were caught about five points
# more often than the training corpus's, were refuted by the held-out set's third batch, whose immediate alerts
# were caught less often than the corpus's (README): fresh writers' messages are not all easier.
TRAINING_RECALL_IMMEDIATE = 0.95
TRAINING_RECALL_URGENT = 0.90
TRAINING_RECALL_PER_GROUP = 0.90
# `with_lexicon` values tried below the grid's 0.02. Never 0: the model may overrule a phrase when all but certain.
WITH_LEXICON_BELOW_GRID = (0.005, 0.01)
TRAINING_READ_RECALL = 0.95  # of concerns: shown to a human at all (as an alert or a concern)


@dataclass(frozen=True)
class Ratio:
    hits: int
    total: int

    @property
    def value(self) -> float:
        return self.hits / self.total if self.total else 1.0

    def __str__(self) -> str:
        return f"{self.value:.3f} ({self.hits}/{self.total})" if self.total else "-"


@dataclass
class Figures:
    messages: int = 0
    recall_immediate: Ratio = Ratio(0, 0)
    recall_urgent: Ratio = Ratio(0, 0)
    precision: Ratio = Ratio(0, 0)
    everyday_alerting: Ratio = Ratio(0, 0)
    concerns_read: Ratio = Ratio(0, 0)
    severity_immediate: Ratio = Ratio(0, 0)  # labelled immediate and alerted: given immediate
    categories: dict[str, Ratio] = field(default_factory=dict)  # recall of each category's alerts
    languages: dict[str, Figures] = field(default_factory=dict)
    missed: list[Labelled] = field(default_factory=list)
    false_alerts: list[Labelled] = field(default_factory=list)


def measure(
    messages: Sequence[Labelled], check: Callable[[str], Assessment] | None = None, *, by_language: bool = True
) -> Figures:
    """The figures of ``check`` (default: the packaged lexicon and model) on ``messages``."""
    check = check or assess
    return _figures(messages, [check(message.text) for message in messages], by_language)


def _figures(messages: Sequence[Labelled], results: Sequence[Assessment], by_language: bool) -> Figures:
    pairs = list(zip(messages, results, strict=True))
    alerted = [(message, result) for message, result in pairs if result.escalate]
    figures = Figures(
        messages=len(pairs),
        recall_immediate=_share(
            pairs, lambda m, r: m.outcome == "alert" and m.severity == "immediate", lambda m, r: r.escalate
        ),
        recall_urgent=_share(
            pairs, lambda m, r: m.outcome == "alert" and m.severity == "urgent", lambda m, r: r.escalate
        ),
        precision=_share(alerted, lambda m, r: True, lambda m, r: m.outcome == "alert"),
        everyday_alerting=_share(pairs, lambda m, r: m.everyday, lambda m, r: r.escalate),
        concerns_read=_share(pairs, lambda m, r: m.outcome == "concern", lambda m, r: r.outcome != "none"),
        severity_immediate=_share(
            pairs, lambda m, r: m.severity == "immediate" and r.escalate, lambda m, r: r.severity == "immediate"
        ),
        categories={
            category: _share(
                pairs, lambda m, r, c=category: m.outcome == "alert" and c in m.categories, lambda m, r: r.escalate
            )
            for category in CATEGORIES
        },
        missed=[message for message, result in pairs if message.outcome == "alert" and not result.escalate],
        false_alerts=[message for message, result in alerted if message.outcome != "alert"],
    )
    if by_language:
        for language in sorted({message.language for message in messages}):
            chosen = [(m, r) for m, r in pairs if m.language == language]
            figures.languages[language] = _figures([m for m, _ in chosen], [r for _, r in chosen], False)
    return figures


def _share(
    pairs: Iterable[tuple[Labelled, Assessment]],
    counted: Callable[[Labelled, Assessment], bool],
    hit: Callable[[Labelled, Assessment], bool],
) -> Ratio:
    chosen = [(message, result) for message, result in pairs if counted(message, result)]
    return Ratio(sum(1 for message, result in chosen if hit(message, result)), len(chosen))


def report(figures: Figures, title: str) -> str:
    """The figures as a Markdown table, one column for all messages and one per language."""
    columns = [("all", figures), *figures.languages.items()]
    rows = [
        ("messages", lambda f: str(f.messages)),
        ("recall, immediate", lambda f: str(f.recall_immediate)),
        ("recall, urgent", lambda f: str(f.recall_urgent)),
        ("precision", lambda f: str(f.precision)),
        ("everyday messages alerting", lambda f: str(f.everyday_alerting)),
        ("concerns shown to a person", lambda f: str(f.concerns_read)),
        ("immediate given as immediate", lambda f: str(f.severity_immediate)),
        *((f"recall, {category}", lambda f, c=category: str(f.categories[c])) for category in CATEGORIES),
    ]
    lines = [
        f"### {title}",
        "",
        "| | " + " | ".join(name for name, _ in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    lines += [f"| {label} | " + " | ".join(value(f) for _, f in columns) + " |" for label, value in rows]
    return "\n".join(lines) + "\n"


# --- choosing the thresholds when training ---------------------------------------------------------------


def train_with(lexicon: Lexicon, corpus: Sequence[Labelled]) -> tuple[str, Figures]:
    """The model file for ``corpus``, its thresholds chosen for this lexicon (``rhi safeguarding train``), and
    the figures of lexicon and model together on the corpus, each message scored by a model that never saw it."""
    unseen: list[Figures] = []

    def choose(messages: list[Labelled], predictions: list[Prediction]) -> dict[str, float]:
        found = [(reading.found, reading.now) for reading in (read_words(lexicon, m.text) for m in messages)]
        thresholds = choose_thresholds(messages, predictions, found)
        results = [
            decide(entries, prediction, thresholds, now)
            for (entries, now), prediction in zip(found, predictions, strict=True)
        ]
        unseen.append(_figures(messages, results, True))
        return thresholds

    text = train(corpus, choose, lexicon.lookalikes)
    return text, unseen[0]


def choose_thresholds(
    messages: Sequence[Labelled], predictions: Sequence[Prediction], found: Sequence[tuple[list[Any], bool]]
) -> dict[str, float]:
    """The thresholds with the fewest false alarms that still reach the training recall targets on predictions
    the model made for messages it had not seen, for immediate and urgent alerts, in each language and (0.90)
    in each category (ties: the higher thresholds); when none do, the lowest tried.

    Two thresholds for the model alone: `alert_immediate` for a message it reads as about an immediate
    category, `alert` for the rest. With one threshold for both, the immediate alerts' higher recall target
    set it, and urgent alerts were caught well beyond theirs at the cost of false alarms (README). Two for the
    words: `with_lexicon` for a phrase of an immediate category, `with_lexicon_urgent` for the others (both at
    most `WITH_LEXICON_MOST`)."""
    score = np.array([prediction.score for prediction in predictions])
    read = np.array([prediction.read for prediction in predictions])
    looks_immediate = np.array([reads_as_immediate(prediction) for prediction in predictions], dtype=bool)
    by_lexicon = np.array([lexicon_alerts(entries) for entries, _ in found], dtype=bool)
    by_immediate_phrase = np.array([lexicon_alerts_immediate(entries) for entries, _ in found], dtype=bool)
    matched = np.array([bool(entries) for entries, _ in found], dtype=bool)
    knew_a_word = np.array([prediction.knew_a_word for prediction in predictions], dtype=bool)
    words_unread = by_lexicon & ~knew_a_word  # the words alert whatever the score (``alerts``)
    immediate = np.array([m.outcome == "alert" and m.severity == "immediate" for m in messages], dtype=bool)
    urgent = np.array([m.outcome == "alert" and m.severity == "urgent" for m in messages], dtype=bool)
    harmless = np.array([m.outcome != "alert" for m in messages], dtype=bool)
    concerns = np.array([m.outcome == "concern" for m in messages], dtype=bool)
    groups = [(immediate, TRAINING_RECALL_IMMEDIATE), (urgent, TRAINING_RECALL_URGENT)]
    for language in sorted({m.language for m in messages}):
        in_language = np.array([m.language == language for m in messages], dtype=bool)
        groups += [
            (immediate & in_language, TRAINING_RECALL_PER_GROUP),
            (urgent & in_language, TRAINING_RECALL_PER_GROUP),
        ]
    for category in CATEGORIES:
        groups.append(
            (
                np.array([m.outcome == "alert" and category in m.categories for m in messages], dtype=bool),
                TRAINING_RECALL_PER_GROUP,
            )
        )
    groups = [(group, target) for group, target in groups if group.any()]

    def reached(alerted: np.ndarray) -> bool:
        return all(alerted[group].mean() >= target for group, target in groups)

    grid = [round(0.02 * step, 2) for step in range(1, 50)]
    names = ("alert", "alert_immediate", "with_lexicon", "with_lexicon_urgent")
    # `alerts` unrolled for speed (about 150,000 candidates): each part of the rule is computed once per threshold
    # it depends on. `with_lexicon` may also be lower than the grid: a phrase of an immediate category then alerts
    # unless the model is all but certain ("I used to self harm in year 8 but I've been clean for two years").
    words_grid = [*WITH_LEXICON_BELOW_GRID, *grid]
    reaches = {at: score >= at for at in words_grid}
    phrase_immediate, phrase_urgent = by_lexicon & by_immediate_phrase, by_lexicon & ~by_immediate_phrase
    best: tuple[int, tuple[float, ...]] | None = None
    for immediate_at in grid:
        looks_immediate_alerted = (looks_immediate & reaches[immediate_at]) | words_unread  # and unread words
        for alert_at in (at for at in grid if at >= immediate_at):
            model_alerted = looks_immediate_alerted | (~looks_immediate & reaches[alert_at])
            for with_lexicon in (at for at in words_grid if at <= min(WITH_LEXICON_MOST, immediate_at)):
                words_immediate = model_alerted | (phrase_immediate & reaches[with_lexicon])
                for urgent_words_at in (at for at in grid if at <= min(WITH_LEXICON_MOST, alert_at)):
                    alerted = words_immediate | (phrase_urgent & reaches[urgent_words_at])
                    values = (alert_at, immediate_at, with_lexicon, urgent_words_at)
                    candidate = (int(alerted[harmless].sum()), tuple(-value for value in values))
                    if (best is None or candidate < best) and reached(alerted):
                        best = candidate
    chosen = dict(zip(names, (grid[0],) * len(names) if best is None else (-value for value in best[1]), strict=True))
    alerted = alerts(score, by_lexicon, chosen, looks_immediate, by_immediate_phrase, knew_a_word)
    read_at = grid[0]
    for candidate_at in grid:
        if (alerted | matched | (read >= candidate_at))[concerns].mean() >= TRAINING_READ_RECALL:
            read_at = candidate_at
    return {**chosen, "read": read_at}
