"""The shape of one language's rules for reading facts out of a sentence (see ``en.py`` and ``cy.py``).

Every pattern runs on text cleaned by ``clean``: lower case, no accents, no apostrophes ("didn't" is
"didnt", "dw i'n" is "dw in"), other punctuation a space, except the commas and full stops that end a
clause, which ``clauses`` splits on.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Thumbs and the like, read before cleaning throws them away.
YES_EMOJI = ("👍", "👌", "✅", "🙂", "😊")
NO_EMOJI = ("👎", "❌", "🙅")


@dataclass(frozen=True)
class Rules:
    """Patterns (compiled regular expressions) of one language. Each names a fact it shows."""

    clause_breaks: re.Pattern[str]  # words that start a new clause: "and", "but", "then", "till"
    until: re.Pattern[str]  # "till", "until", "tan": the clause after it is when they came back
    still_missing: re.Pattern[str]  # "not back yet", "still away"
    returned: re.Pattern[str]  # "came back", "got home", "turned up"
    left: re.Pattern[str]  # "went", "ran off", "didn't come home"
    since: re.Pattern[str]  # "missing since", "away since": the day is when they left
    police: re.Pattern[str]  # a word for the police
    police_unsure: re.Pattern[str]  # "not sure if", "dunno"
    negation: re.Pattern[str]  # "didn't", "never", "no one"
    setting_out_of_area: re.Pattern[str]
    setting_care: re.Pattern[str]
    setting_home: re.Pattern[str]
    parent: re.Pattern[str]  # "my son", "I'm her mum"
    young_person: re.Pattern[str]  # "my mum", "I ran off", "I'm 15"
    age: re.Pattern[str]  # group 1 is the age in figures or words
    yes: re.Pattern[str]  # matched at the start of the reply
    no: re.Pattern[str]
    not_now_words: re.Pattern[str]  # "now", "nawr": not a day ("she's home now")
    he: re.Pattern[str]  # the child is a he or a she (for "he came back")
    she: re.Pattern[str]


def words(*alternatives: str) -> re.Pattern[str]:
    """A pattern matching any of the phrases as whole words (phrases may hold regular expressions)."""
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


def at_start(*alternatives: str) -> re.Pattern[str]:
    """A pattern matching a reply that begins with one of the phrases (the rest may say more)."""
    return re.compile(r"^(?:" + "|".join(alternatives) + r")\b")


def clean(text: str) -> str:
    """Lower case, accent-free, apostrophe-free text with single spaces; , . ; ! ? kept as clause ends."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    text = re.sub(r"['\u2019`]", "", text)
    text = re.sub(r"(\d)[.:](\d)", r"\1:\2", text)  # 4.30 is a time, not the end of a clause
    text = re.sub(r"[!?;\n]+", ",", text)
    text = re.sub(r"(?<!\d)/(?!\d)", " ", text)  # "y/o" but not "20/11"
    text = re.sub(r"[^\w\s,./:-]", " ", text)
    text = re.sub(r"\.(?!\d)", ",", text)
    text = re.sub(r"([a-z])\1{2,}", r"\1", text)  # "yesss", "nooo", "sooo"
    return " ".join(text.replace(",", " , ").split())
