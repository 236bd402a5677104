"""Safeguarding triage: every inbound message is checked here before anything else.

Pure functions over packaged data (no database, no network):

- `assess(text) -> Assessment`: does this message need a human now, how urgently, and why;
- `assess_reply(text, lexicon, catalog, state)`: the same for a message sent to a conversation, where an answer
  the question offered, word for word, is that answer unless a phrase of the lexicon is in it;
- `safety_message(categories, language) -> str`: the reply to send at once, with the right helplines;
- `load_lexicon()`, `validate_lexicon_files(paths)`, `load_helplines()`, `validate_helplines_file(path)`;
- `training_corpus()`, `heldout_corpus()`, `measure(messages, check)`: the labelled messages and the figures;
- `Model`, `MODEL_FILE_NAME`: the learned model beside the lexicon;
- `bot.safeguarding.cli`: the `rhi safeguarding check | train | evaluate` commands.
"""

from bot.safeguarding.categories import CATEGORIES, CATEGORY_SEVERITY, Severity
from bot.safeguarding.corpus import HELDOUT_DIR, Labelled, corpus_paths, heldout_corpus, training_corpus
from bot.safeguarding.detector import Assessment, assess, assess_reply
from bot.safeguarding.evaluate import Figures, Ratio, measure
from bot.safeguarding.helplines import (
    Helplines,
    HelplinesError,
    load_helplines,
    safety_message,
    validate_helplines_file,
)
from bot.safeguarding.lexicon import (
    Lexicon,
    LexiconEntry,
    LexiconError,
    default_lexicon_paths,
    load_lexicon,
    validate_lexicon_files,
)
from bot.safeguarding.model import MODEL_FILE_NAME, Model, ModelError

__all__ = [
    "CATEGORIES",
    "CATEGORY_SEVERITY",
    "HELDOUT_DIR",
    "MODEL_FILE_NAME",
    "Assessment",
    "Figures",
    "Helplines",
    "HelplinesError",
    "Labelled",
    "Lexicon",
    "LexiconEntry",
    "LexiconError",
    "Model",
    "ModelError",
    "Ratio",
    "Severity",
    "assess",
    "assess_reply",
    "corpus_paths",
    "default_lexicon_paths",
    "heldout_corpus",
    "load_helplines",
    "load_lexicon",
    "measure",
    "safety_message",
    "training_corpus",
    "validate_helplines_file",
    "validate_lexicon_files",
]
