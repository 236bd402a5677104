"""Safeguarding triage: every inbound message is checked here before anything else.

Pure functions over packaged data (no database, no network):

- `assess(text) -> Assessment`: does this message need a human now, how urgently, and why;
- `safety_message(categories, language) -> str`: the reply to send at once, with the right helplines;
- `load_lexicon()`, `validate_lexicon_files(paths)`, `load_helplines()`, `validate_helplines_file(path)`;
- `bot.safeguarding.cli.check_stream(lines, out)`: the `rhi safeguarding check` command.
"""

from bot.safeguarding.categories import CATEGORIES, CATEGORY_SEVERITY, Severity
from bot.safeguarding.detector import Assessment, assess
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

__all__ = [
    "CATEGORIES",
    "CATEGORY_SEVERITY",
    "Assessment",
    "Helplines",
    "HelplinesError",
    "Lexicon",
    "LexiconEntry",
    "LexiconError",
    "Severity",
    "assess",
    "default_lexicon_paths",
    "load_helplines",
    "load_lexicon",
    "safety_message",
    "validate_helplines_file",
    "validate_lexicon_files",
]
