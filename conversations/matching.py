"""How a typed reply is matched to an option: by number, by the option's words, or by a synonym.

Young people type fast on cheap phones: case, accents, punctuation and extra words must not matter,
and "I'm not sure" must choose "Not sure", not "Yes" because it contains "sure".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "un": 1, "dau": 2, "dwy": 2, "tri": 3, "tair": 3, "pedwar": 4, "pedair": 4, "pump": 5,
    "chwech": 6, "saith": 7, "wyth": 8, "naw": 9, "deg": 10,
}  # fmt: skip
_NUMBER_REPLY = re.compile(r"^(?:option |number |rhif |opsiwn )?(\d{1,3}|[a-z]+)$")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
MIN_PARTIAL = 3  # shorter fragments ("a", "no") only count when they are a whole option word list entry


def fold(text: str) -> str:
    """Lower-case, accent-free, punctuation-free, single-spaced text, for comparing words."""
    text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text)).casefold()
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    text = "".join(" " if unicodedata.category(c)[0] in "PZC" or c in "+=<>^`|~" else c for c in text)
    return " ".join(text.split())


def number_in_reply(folded: str) -> int | None:
    """The option number a reply names ("2", "2.", "option 2", "two", "dau"), if it names one."""
    match = _NUMBER_REPLY.match(folded)
    if not match:
        return None
    word = match.group(1)
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word)


@dataclass(frozen=True)
class Choice:
    """Everything that can choose one option: its labels and other words, in both languages."""

    phrases: tuple[str, ...]  # folded


def _contains_phrase(haystack: str, phrase: str) -> bool:
    return f" {phrase} " in f" {haystack} "


def choose(folded: str, choices: Sequence[Choice]) -> int | None:
    """The index of the option a reply means, or None when it is unclear or means none of them.

    An exact phrase wins; otherwise the option whose phrase found in the reply is the longest wins,
    so "not sure" beats "sure". A reply that is part of one option's label ("cafe" in "A cafe") also
    counts. A tie is unclear: better to ask again than to guess.
    """
    if not folded:
        return None
    number = number_in_reply(folded)
    if number is not None and folded.split()[-1].isdigit():
        return number - 1 if 1 <= number <= len(choices) else None
    exact = [i for i, choice in enumerate(choices) if folded in choice.phrases]
    if len(exact) == 1:
        return exact[0]
    if number is not None:
        return number - 1 if 1 <= number <= len(choices) else None
    best: dict[int, int] = {}
    for i, choice in enumerate(choices):
        for phrase in choice.phrases:
            if phrase and _contains_phrase(folded, phrase):
                best[i] = max(best.get(i, 0), len(phrase))
            elif len(folded) >= MIN_PARTIAL and _contains_phrase(phrase, folded):
                best[i] = max(best.get(i, 0), len(folded))
    if not best:
        return None
    longest = max(best.values())
    winners = [i for i, length in best.items() if length == longest]
    return winners[0] if len(winners) == 1 else None


def phrases(*groups: Iterable[str]) -> tuple[str, ...]:
    """Fold and de-duplicate phrases from several word lists, keeping order."""
    seen: dict[str, None] = {}
    for group in groups:
        for phrase in group:
            folded = fold(phrase)
            if folded:
                seen.setdefault(folded, None)
    return tuple(seen)
