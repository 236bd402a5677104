"""`rhi safeguarding check | train | evaluate`.

`check`: one message per input line, one JSON line per message (the contract):

    {"text": "...", "escalate": true, "severity": "immediate", "categories": [...], "matches": [...],
     "outcome": "alert", "score": 0.93}

`train`: rebuilds the model beside the lexicon from the training corpus (deterministic: the same corpus
and lexicon give the same file). `evaluate`: the figures on the held-out set (or the training corpus, or the
development set), for the lexicon and model together and for each alone.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Final, TextIO

from bot.safeguarding.corpus import CorpusError, development_corpus, heldout_corpus, training_corpus
from bot.safeguarding.detector import assess
from bot.safeguarding.evaluate import measure, report, train_with
from bot.safeguarding.lexicon import LEXICON_DIR, LexiconError, load_lexicon
from bot.safeguarding.model import CROSS_VALIDATION_FOLDS, MODEL_FILE_NAME


def check_stream(lines: Iterable[str], out: TextIO) -> int:
    """Assess each line (its line ending removed) and write its JSON line, flushed. Returns the exit code."""
    lexicon = load_lexicon()
    for line in lines:
        text = line.rstrip("\r\n")
        out.write(json.dumps(assess(text, lexicon).to_json(text), ensure_ascii=False) + "\n")
        out.flush()
    return 0


def train_command(out: TextIO, err: TextIO, model_file: Path | None = None) -> int:
    """Train on the packaged corpus with the packaged lexicon's words and write the model file."""
    model_file = model_file or LEXICON_DIR / MODEL_FILE_NAME
    try:
        corpus = training_corpus()
        lexicon = load_lexicon(sorted(LEXICON_DIR.glob("*.yaml")))  # the words only: the old model plays no part
    except (CorpusError, LexiconError) as exc:
        err.write(f"{exc}\n")
        return 1
    text, unseen = train_with(lexicon, corpus)
    model_file.write_text(text, encoding="utf-8")
    thresholds = json.loads(text)["thresholds"]
    out.write(f"trained on {len(corpus)} messages; thresholds {thresholds}; wrote {model_file}\n\n")
    out.write(report(unseen, f"lexicon and model, training corpus, {CROSS_VALIDATION_FOLDS}-fold cross-validated"))
    return 0


# The labelled messages `rhi safeguarding evaluate` can be run on, and how its tables name them.
EVALUATED_ON: Final = {
    "heldout": (heldout_corpus, "held-out set"),
    "training": (training_corpus, "training corpus (the model saw these)"),
    "development": (development_corpus, "development set"),
}


def evaluate_command(out: TextIO, err: TextIO, *, on: str = "heldout") -> int:
    """The figures of the lexicon and model together, and of each alone, as Markdown tables, on the held-out set
    (or the training corpus, or the development set: ``EVALUATED_ON``)."""
    load, name = EVALUATED_ON[on]
    try:
        messages = load()
        lexicon = load_lexicon()
    except (CorpusError, LexiconError) as exc:
        err.write(f"{exc}\n")
        return 1
    readers = [
        ("lexicon and model", lambda text: assess(text, lexicon)),
        ("lexicon only", lambda text: assess(text, lexicon, use_model=False)),
        ("model only", lambda text: assess(text, lexicon, use_lexicon=False)),
    ]
    for title, check in readers:
        out.write(report(measure(messages, check), f"{title}, {name}") + "\n")
    return 0


def main() -> int:
    return check_stream(sys.stdin, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
