"""The labelled messages the safeguarding detector learns from and is measured on.

Two folders, each of YAML files holding one list of messages:

- ``bot/data/safeguarding_corpus/``: what the model is trained on (``rhi safeguarding train``) and what its
  thresholds are chosen on;
- ``bot/data/safeguarding_heldout/``: the frozen held-out set, written by people who never saw the lexicon,
  the model or the training messages. It is never trained on and never used to choose a phrase or a
  threshold; the tests, the README's figures and publishing in the studio are measured on it.

A message:

    - {text: "...", language: en, categories: [suicide_self_harm], outcome: alert, severity: immediate, kind: yp}

``outcome`` is what a careful youth worker would want (``alert``, ``concern`` or ``none``); ``severity`` is
given for alerts only; ``categories`` name the topic, for a concern too. The oldest file (written beside the
lexicon) has only ``text``, ``categories`` and ``language``: a message with categories is then an alert of
its categories' severity, one without is ``none``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import yaml
from yaml.constructor import SafeConstructor

from bot.safeguarding.categories import CATEGORIES, Severity, most_severe
from bot.safeguarding.sourcefile import SourceFile

Outcome = Literal["alert", "concern", "none"]
OUTCOMES: Final[tuple[Outcome, ...]] = ("alert", "concern", "none")

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
TRAINING_DIR = DATA_DIR / "safeguarding_corpus"
HELDOUT_DIR = DATA_DIR / "safeguarding_heldout"
DEVELOPMENT_DIR = DATA_DIR / "safeguarding_dev"

# Kinds of harmless message that must not alert: everyday chat, booking talk, hyperbole, school and the rest.
EVERYDAY_KINDS: Final[frozenset[str]] = frozenset(
    {"everyday", "booking", "hyperbole", "gaming", "school", "cooking", "sport", "music", "film"}
)
_FIELDS = ("text", "language", "categories", "outcome", "severity", "kind")


class CorpusError(ValueError):
    """A corpus file is not as described above; ``problems`` are ``FILE:LINE: message`` lines."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Labelled:
    text: str
    language: str
    categories: tuple[str, ...]
    outcome: Outcome
    severity: Severity | None
    kind: str
    source: str  # FILE:LINE

    @property
    def everyday(self) -> bool:
        return self.outcome == "none" and (self.kind in EVERYDAY_KINDS or self.kind == "")


def corpus_paths(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml"))


def training_corpus() -> list[Labelled]:
    return load_corpus(corpus_paths(TRAINING_DIR))


def heldout_corpus() -> list[Labelled]:
    return load_corpus(corpus_paths(HELDOUT_DIR))


def development_corpus() -> list[Labelled]:
    """Messages written apart that are neither trained on nor held out: where a change is tried first."""
    return load_corpus(corpus_paths(DEVELOPMENT_DIR))


def load_corpus(paths: Iterable[Path | str]) -> list[Labelled]:
    """Every message of the files, in order; raises CorpusError listing every problem."""
    messages: list[Labelled] = []
    problems: list[str] = []
    for path in paths:
        source = SourceFile(path)
        node = source.compose()
        if node is not None and not isinstance(node, yaml.SequenceNode):
            source.problem(node, "a corpus file is a list of messages")
        elif node is not None:
            constructor = SafeConstructor()
            for item in node.value:
                try:
                    values = constructor.construct_document(item)
                    messages.append(_labelled(values, f"{path}:{item.start_mark.line + 1}"))
                except (ValueError, yaml.YAMLError) as exc:
                    source.problem(item, str(exc))
        problems += source.problems
    if problems:
        raise CorpusError(problems)
    return messages


def _labelled(values: object, source: str) -> Labelled:
    if not isinstance(values, dict) or not isinstance(values.get("text"), str):
        raise ValueError("each message needs a text")
    unknown = set(values) - set(_FIELDS)
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
    categories = values.get("categories") or []
    if not isinstance(categories, list) or not set(categories) <= set(CATEGORIES):
        raise ValueError(f"categories must be a list of: {', '.join(CATEGORIES)}")
    language = values.get("language")
    if language not in ("en", "cy"):
        raise ValueError("language must be en or cy")
    outcome = values.get("outcome", "alert" if categories else "none")
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of: {', '.join(OUTCOMES)}")
    severity = values.get("severity", most_severe(categories) if outcome == "alert" else None)
    if outcome == "alert":
        if severity not in ("immediate", "urgent") or not categories:
            raise ValueError("an alert needs its categories and a severity (immediate or urgent)")
    elif severity is not None:
        raise ValueError("only an alert has a severity")
    if outcome == "none" and categories:
        raise ValueError('an outcome of "none" has no categories')
    return Labelled(
        values["text"], language, tuple(categories), outcome, severity, str(values.get("kind") or ""), source
    )
