"""Turn a message (or a lexicon phrase) into the tokens the detector matches on.

Lexicon phrases and messages go through the same steps, so that "I wanna kill myself", "i WANNA
k1lllll my self" and "Dw i isio lladd fy hun" meet the lexicon half way:

- Unicode: NFKC (fullwidth and "fancy font" letters become plain ones), casefold, combining marks
  stripped (Welsh w-circumflex matches w), zero-width characters, variation selectors and skin tones
  removed, a few Cyrillic and Greek look-alike letters mapped to Latin.
- Apostrophes are dropped ("don't" -> "dont"), then common contractions and text speak are expanded
  ("dont" -> "do not", "wanna" -> "want to", "u" -> "you", "isio" -> "eisiau").
- Repeated letters are squeezed to one ("killl", "kill" and "kil" all read "kil"; "diiieee" reads
  "die"). The unsqueezed spelling is kept for ordinary words listed as look-alikes ("rapped").
- Leetspeak inside words ("k1ll", "d13", "$hoot", "su!c!de"); "*" inside a word may stand for a vowel.
- Emoji are tokens of their own; other punctuation separates words.
- Letters spelt out one by one ("k i l l", "k.i.l.l") are also read joined up.

Everything here is lexicon-independent apart from the look-alike words, which the caller passes in.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Characters that change nothing a person reads: zero-width space/joiners, word joiner, BOM, soft
# hyphen, Mongolian vowel separator, variation selectors, emoji skin tones and flag tag characters.
_INVISIBLE_RE = re.compile(
    "[\u200b-\u200d\u2060\ufeff\u00ad\u180e\ufe0e\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]+"
)
_HOMOGLYPHS = "аеорсухіјѕԁӏοαικνρτυε"
_HOMOGLYPHS_RE = re.compile(f"[{_HOMOGLYPHS}]")
_HOMOGLYPHS_TABLE = str.maketrans(_HOMOGLYPHS, "aeopcyxijsdloaikvptue")
_TYPOGRAPHIC_APOSTROPHES = "\u2018\u2019\u00b4\u02bc\u2032"
_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")

# Words whose meaning lives in their apostrophe, read before apostrophes are dropped ("sa'd" is not "sad").
_APOSTROPHE_WORDS = {"sa": "sexually assaulted", "od": "overdosed"}
_APOSTROPHE_WORDS_RE = re.compile(r"(sa|od)['`]d\b")

# Accident and emergency as one word: "&" and "+" are not letters, so "a&e" would otherwise be the letters "a" and
# "e", which "Plan A, e.g." and "I got an A. E is my mate" also are.
_A_AND_E_RE = re.compile(r"(?<![\w.])a ?[&+] ?e(?![\w&+])")
A_AND_E = "aande"

# Welsh clitics read as the words they stand for: "mae'n" is "mae yn", "i'r" is "i yr".
_WELSH_CLITICS = {"n": " yn", "r": " yr"}
_WELSH_CLITIC_RE = re.compile(r"['`]([nr])\b")

# Letters only (digits are kept: "33" is an age); accents are gone by then, so a-z is every letter
# that matters.
_SQUEEZE_RE = re.compile(r"([a-z])\1+")
# A word (letters, digits and the symbols leetspeak uses inside words), or one non-ASCII symbol (an
# emoji). ASCII punctuation separates words; "_" is made a space first.
_TOKEN_RE = re.compile(r"[\w@$!|*€]+|[^\w\s\x00-\x7f]")
# Three one-character tokens in a row, in the tokens joined by NUL: a cheap first look for spelt-out words.
_SPACED_RUN_HINT_RE = re.compile("\x00[^\x00]\x00[^\x00]\x00[^\x00]\x00")
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i", "|": "l", "€": "e"}
)
_LEET_ONE_AS_L = str.maketrans({"1": "l"})
_LEET_CHARS = frozenset("0134579@$!|€")
_EDGE_SYMBOLS = "!|*"
_WILDCARD_VOWELS = "aeiouy"
_MAX_WILDCARDS = 2
_NUMBER_WITH_UNIT_RE = re.compile(r"(\d+)(st|nd|rd|th|am|pm|yo|yrs?|ish|s)")

# A run of at least this many single letters ("k i l l") is also read joined up.
SPACED_RUN_MIN = 3
# The joined-up reading covers this many words either side of the run (longer than any phrase with its
# gaps), so the rest of the message is not matched twice.
SPACED_RUN_CONTEXT = 12

# Contractions, text speak and spelling variants read as their full form, on both sides. Keys are
# given as typed; they are squeezed like every token. Text speak written with digits ("some1") is
# looked up before leetspeak is decoded.
_EXPANSION_SOURCE = {
    # English
    "wanna": "want to",
    "wana": "want to",
    "wanta": "want to",
    "wnt": "want",
    "gonna": "going to",
    "gunna": "going to",
    "gona": "going to",
    "finna": "going to",
    "gotta": "got to",
    "tryna": "trying to",
    "hafta": "have to",
    "dont": "do not",
    "dnt": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "cant": "can not",
    "cannot": "can not",
    "cnt": "can not",
    "wont": "will not",
    "isnt": "is not",
    "arent": "are not",
    "wasnt": "was not",
    "werent": "were not",
    "havent": "have not",
    "hasnt": "has not",
    "wouldnt": "would not",
    "couldnt": "could not",
    "shouldnt": "should not",
    "aint": "am not",
    "im": "i am",
    "ive": "i have",
    "imma": "i am going to",
    "ima": "i am going to",
    "hes": "he is",
    "shes": "she is",
    "theyre": "they are",
    "youre": "you are",
    "theyll": "they will",
    "youll": "you will",
    "itll": "it will",
    "theyve": "they have",
    "youve": "you have",
    "weve": "we have",
    "u": "you",
    "ya": "you",
    "yu": "you",
    "ur": "your",
    "ure": "you are",
    "r": "are",
    "urself": "yourself",
    "yaself": "yourself",
    "meself": "myself",
    "mysef": "myself",
    "2": "to",
    "4": "for",
    "bf": "boyfriend",
    "gf": "girlfriend",
    "mom": "mum",
    "mommy": "mum",
    "mummy": "mum",
    "pls": "please",
    "plz": "please",
    "ppl": "people",
    "sum1": "someone",
    "some1": "someone",
    "sumone": "someone",
    "any1": "anyone",
    "no1": "no one",
    "every1": "everyone",
    "lifes": "life is",
    "thats": "that is",
    "whats": "what is",
    "2day": "today",
    "2nite": "tonight",
    "2night": "tonight",
    "tonite": "tonight",
    "2moro": "tomorrow",
    "2mrw": "tomorrow",
    "b4": "before",
    "h8": "hate",
    "m8": "mate",
    "coz": "because",
    "cuz": "because",
    "cos": "because",
    "bc": "because",
    "bcos": "because",
    "years": "year",
    "yrs": "year",
    "yo": "year old",
    # Welsh: colloquial forms read as one spelling ("isio", "isie", "moyn" all mean "eisiau")
    "dwi": "dw i",
    "eisie": "eisiau",
    "isio": "eisiau",
    "isie": "eisiau",
    "ishe": "eisiau",
    "isho": "eisiau",
    "eisio": "eisiau",
    "moyn": "eisiau",
    "adre": "adref",
    "adra": "adref",
    "efo": "gyda",
    "gydag": "gyda",
    "mas": "allan",
    "bant": "i ffwrdd",
    "rwan": "nawr",
}


def squeeze(word: str) -> str:
    """Repeated letters squeezed to one: "killl" -> "kil", "diiieee" -> "die". Digits are kept."""
    return _SQUEEZE_RE.sub(r"\1", word)


# Welsh initial mutations, undone: a (squeezed) mutated beginning and the radical beginnings it may
# come from. Soft: c>g p>b t>d g>- b>f m>f rh>r; nasal: c>ngh p>mh t>nh g>ng b>m d>n; aspirate:
# c>ch p>ph t>th, h- before a vowel. ("ll">"l" and "d">"dd" need nothing: squeezing already merges them.)
_WELSH_RADICALS: dict[str, tuple[str, ...]] = {
    "ngh": ("c",),
    "mh": ("p",),
    "nh": ("t",),
    "ng": ("g",),
    "ch": ("c",),
    "ph": ("p",),
    "th": ("t",),
    "g": ("c",),
    "b": ("p",),
    "d": ("t",),
    "f": ("b", "m"),
    "m": ("b",),
    "n": ("d",),
    "r": ("rh",),
}
_VOWELS = frozenset("aeiouwy")


def welsh_radicals(word: str) -> tuple[str, ...]:
    """The words a Welsh word may be a mutation of: "nghyllell" -> "cyllell", "waed" -> "gwaed"."""
    radicals: list[str] = []
    for length in (3, 2, 1):
        beginnings = _WELSH_RADICALS.get(word[:length])
        if beginnings:
            radicals.extend(beginning + word[length:] for beginning in beginnings)
            break
    first = word[:1]
    if first in _VOWELS or first == "l" or first == "r":
        radicals.append("g" + word)  # soft mutation drops a g: "gwaed" -> "waed", "gorddos" -> "orddos"
    elif first == "h" and word[1:2] in _VOWELS:
        radicals.append(word[1:])
    return tuple(radicals)


def _apostrophe_word(match: re.Match[str]) -> str:
    at = match.start()
    if at and match.string[at - 1].isalnum():  # "visa'd" is not "sa'd"
        return match.group(0)
    return _APOSTROPHE_WORDS[match.group(1)]


def _welsh_clitic(match: re.Match[str]) -> str:
    at = match.start()
    if at and match.string[at - 1].isalnum():  # "mae'n", not "rock 'n' roll"
        return _WELSH_CLITICS[match.group(1)]
    return match.group(0)


def normalise_text(text: str) -> str:
    """Case, Unicode form, accents, invisible characters, look-alike letters, apostrophes, "_"."""
    if text.isascii():
        text = text.lower()
    else:
        text = unicodedata.normalize("NFKC", text).casefold()
        text = _INVISIBLE_RE.sub("", _COMBINING_RE.sub("", unicodedata.normalize("NFD", text)))
        if _HOMOGLYPHS_RE.search(text):
            text = text.translate(_HOMOGLYPHS_TABLE)
        for apostrophe in _TYPOGRAPHIC_APOSTROPHES:
            if apostrophe in text:
                text = text.replace(apostrophe, "'")
    if "&" in text or "+" in text:
        text = _A_AND_E_RE.sub(A_AND_E, text)
    if "'" in text or "`" in text:
        text = _APOSTROPHE_WORDS_RE.sub(_apostrophe_word, text)
        text = _WELSH_CLITIC_RE.sub(_welsh_clitic, text)
        text = text.replace("'", "").replace("`", "")
    return text.replace("_", " ") if "_" in text else text


def _expansion_table() -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for typed, full in _EXPANSION_SOURCE.items():
        table[squeeze(normalise_text(typed))] = tuple(squeeze(w) for w in full.split())
    return table


_EXPANSIONS = _expansion_table()


@dataclass(slots=True)
class TokenStream:
    """One reading of a message: its tokens, and other readings of some of them."""

    keys: list[str] = field(default_factory=list)
    # position -> other readings of that token ("k1ll" may be "kill" or "kiil"; "k*ll" may be "kill")
    variants: dict[int, tuple[str, ...]] = field(default_factory=dict)


@dataclass(slots=True)
class Tokens:
    main: TokenStream
    # Where letters are spelt out one by one, the words around them read with the letters joined up
    # ("k i l l myself" -> "kill myself"), and the joined strings themselves.
    joined: list[TokenStream] = field(default_factory=list)
    joined_words: list[str] = field(default_factory=list)


def _is_symbol(char: str) -> bool:
    return unicodedata.category(char) == "So"


def _decode_mixed(token: str) -> tuple[list[str], tuple[str, ...]]:
    """A token with digits or symbols in it: the keys it reads as, and other readings of the last key."""
    token = token.strip(_EDGE_SYMBOLS)
    if not token:
        return [], ()
    expanded = _EXPANSIONS.get(token)
    if expanded:
        return list(expanded), ()
    if token.isdigit():
        return [token], ()
    number_with_unit = _NUMBER_WITH_UNIT_RE.fullmatch(token)
    if number_with_unit:
        number, unit = number_with_unit.groups()
        return [number, *_EXPANSIONS.get(squeeze(unit), (squeeze(unit),))], ()
    if not any(char.isalpha() for char in token):
        digits = "".join(char for char in token if char.isdigit())
        return ([digits] if digits else []), ()
    primary = squeeze(token.translate(_LEET))
    variants = []
    if "1" in token:
        variants.append(squeeze(token.translate(_LEET_ONE_AS_L).translate(_LEET)))
    if "*" in primary and primary.count("*") <= _MAX_WILDCARDS:
        readings = [primary]
        while any("*" in reading for reading in readings):
            readings = [r.replace("*", vowel, 1) for r in readings for vowel in _WILDCARD_VOWELS]
        variants.extend(squeeze(reading) for reading in readings)
    return [primary], tuple(variants)


def _read(raw: list[tuple[str, str]], lookalikes: frozenset[str]) -> TokenStream:
    """Raw (squeezed, as typed) word pairs to a token stream, expanding text speak and leetspeak."""
    stream = TokenStream()
    keys = stream.keys
    for squeezed, typed in raw:
        if squeezed.isalpha():
            if squeezed != typed and typed in lookalikes:
                keys.append(typed)
                continue
            expanded = _EXPANSIONS.get(squeezed)
            if expanded:
                keys.extend(expanded)
            else:
                keys.append(squeezed)
        elif len(squeezed) == 1 and not squeezed.isalnum() and squeezed not in _LEET_CHARS:
            if _is_symbol(squeezed):
                keys.append(squeezed)  # an emoji
        elif squeezed.isdigit():
            keys.extend(_EXPANSIONS.get(squeezed) or (squeezed,))
        else:
            decoded, variants = _decode_mixed(squeezed)
            keys.extend(decoded)
            if variants:
                stream.variants[len(keys) - 1] = variants
    return stream


def _spaced_runs(raw: list[tuple[str, str]]) -> list[tuple[int, int]]:
    runs = []
    start = None
    for index, (_, typed) in enumerate([*raw, ("", "")]):
        single = len(typed) == 1 and (typed.isalpha() or typed in _LEET_CHARS)
        if single and start is None:
            start = index
        elif not single and start is not None:
            if index - start >= SPACED_RUN_MIN:
                runs.append((start, index))
            start = None
    return runs


def tokenise(text: str, lookalikes: frozenset[str] = frozenset()) -> Tokens:
    """Read a message. `lookalikes` are ordinary words whose own spelling must be kept (never squeezed)."""
    normal = normalise_text(text)
    squeezed_text = squeeze(normal)
    squeezed_tokens = _TOKEN_RE.findall(squeezed_text)
    typed_tokens = squeezed_tokens if squeezed_text == normal else _TOKEN_RE.findall(normal)
    raw = list(zip(squeezed_tokens, typed_tokens, strict=True))
    tokens = Tokens(main=_read(raw, lookalikes))
    maybe_spelt_out = _SPACED_RUN_HINT_RE.search("\x00" + "\x00".join(typed_tokens) + "\x00")
    for start, end in _spaced_runs(raw) if maybe_spelt_out else ():
        typed = "".join(typed for _, typed in raw[start:end])
        word = squeeze(typed.translate(_LEET))
        tokens.joined_words.append(word)
        around = [
            *raw[max(0, start - SPACED_RUN_CONTEXT) : start],
            (word, typed if typed.isalpha() else word),
            *raw[end : end + SPACED_RUN_CONTEXT],
        ]
        tokens.joined.append(_read(around, lookalikes))
    return tokens
