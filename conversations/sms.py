"""How a text travels by SMS: its encoding, how many parts it needs, and how to keep it short.

An SMS part carries 160 GSM-7 characters, or 153 when a message is sent in several parts (the rest of the
part holds the joining header). One character outside GSM-7 (a curly quote, an emoji, a Welsh letter with
a circumflex such as ŵ) sends the whole message as UCS-2: 70 UTF-16 code units, or 67 per part.
Pure functions only: the validator and the SMS renderer both use them. ``count`` is THE counter every
person sees (the studio's texts table, its simulator and the validator's report): it measures a text as the
SMS channel sends it, so two pages never disagree about the same message.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 default alphabet, in table order (0x1B, the escape to the extension table, left out).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each of these is sent as the escape plus one septet, so it counts as two.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
_GSM7 = GSM7_BASIC | GSM7_EXTENSION
# The extension characters found in one pass (every reply is measured, several times while it is joined and split).
_EXTENSION_CHARACTER = re.compile(f"[{re.escape(''.join(sorted(GSM7_EXTENSION)))}]")

GSM7_SINGLE = 160
GSM7_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67

# Typographic characters with a plain GSM-7 twin; nothing else is ever replaced.
_GSM7_TWINS = str.maketrans(
    {
        "‘": "'", "’": "'", "‚": "'", "‛": "'",
        "“": '"', "”": '"', "„": '"', "‟": '"',
        "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
        "…": "...",
        "\t": " ", "\u00a0": " ", "\u2000": " ", "\u2001": " ", "\u2002": " ", "\u2003": " ",
        "\u2004": " ", "\u2005": " ", "\u2006": " ", "\u2007": " ", "\u2008": " ", "\u2009": " ",
        "\u200a": " ", "\u202f": " ", "\u205f": " ", "\u3000": " ",
    }
)  # fmt: skip

# Where a sentence ends: after . ! ? or … (and any closing quote or bracket), before a space; or a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]’”]*[ \t]+|\n")
_SPACE = re.compile(r"\s+")


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` is in the GSM-7 alphabet or its extension table."""
    return _GSM7.issuperset(text)


def encoding(text: str) -> Encoding:
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def non_gsm7_characters(text: str) -> list[str]:
    """The distinct characters that force ``text`` into UCS-2, in the order they first appear."""
    return list(dict.fromkeys(char for char in text if char not in _GSM7))


def length(text: str) -> int:
    """The length that counts against a part: septets for GSM-7, UTF-16 code units for UCS-2."""
    return _length(text, encoding(text))


def segments(text: str) -> int:
    """How many SMS parts ``text`` is sent as.

    An empty text counts as one part: sending it still costs a message. A two-septet extension character or
    a two-unit emoji is never split across parts, as phones and carriers don't, so a part may hold one less.
    """
    kind = encoding(text)
    single, part = (GSM7_SINGLE, GSM7_PART) if kind == "GSM-7" else (UCS2_SINGLE, UCS2_PART)
    total = _length(text, kind)  # counted without a list of every character's units: every reply is measured
    if total <= single:
        return 1
    if total == len(text):  # one unit each: no character to keep whole, so the parts are simply full
        return -(-total // part)
    parts, used = 1, 0
    for unit in _units(text, kind):
        if used + unit > part:
            parts, used = parts + 1, 0
        used += unit
    return parts


@dataclass(frozen=True)
class SmsCount:
    """What one message costs as an SMS."""

    parts: int
    encoding: Encoding
    length: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    forcing: tuple[str, ...]  # the characters that make it UCS-2, in the order they first appear

    def describe(self) -> str:
        """In words, as the studio shows it: "2 SMS parts · UCS-2 (because of ŵ 😀)"."""
        words = f"{self.parts} SMS part{'' if self.parts == 1 else 's'} · {self.encoding}"
        if self.forcing:
            words += f" (because of {' '.join(self.forcing[:3])})"
        return words


def as_sent(text: str) -> str:
    """``text`` as the SMS channel sends it: typography swapped for its GSM-7 twin, outer spaces trimmed."""
    return to_gsm7_friendly(text).strip()


def count(text: str) -> SmsCount:
    """How ``text`` travels by SMS, measured as it is sent (see ``as_sent``)."""
    sent = as_sent(text)
    return SmsCount(segments(sent), encoding(sent), length(sent), tuple(non_gsm7_characters(sent)))


def to_gsm7_friendly(text: str) -> str:
    """Replace curly quotes, long dashes, the ellipsis character and odd spaces with their plain twins.

    So a message stays GSM-7 when only typography pushed it out. Letters are never touched: a Welsh ŵ or ô
    keeps the message in UCS-2, and that is the price of spelling it right.
    """
    return text.translate(_GSM7_TWINS)


def split_for_sms(text: str, max_segments_each: int = 1) -> list[str]:
    """Split ``text`` into parts that each fit ``max_segments_each`` SMS parts of their own encoding.

    Splits at the last sentence end (or line break) that fits, else at the last space, and cuts a word only
    when one word alone is longer than a whole part. Parts are trimmed; a blank text gives no parts.
    """
    if max_segments_each < 1:
        raise ValueError("max_segments_each must be at least 1")
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if segments(rest) <= max_segments_each:
            parts.append(rest)
            break
        cut = _last_fitting_cut(rest, _SENTENCE_END, max_segments_each)
        if cut is None:
            cut = _last_fitting_cut(rest, _SPACE, max_segments_each)
        if cut is None:
            cut = _longest_fitting_prefix(rest, max_segments_each)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return parts


def _length(text: str, kind: Encoding) -> int:
    """``sum(_units(text, kind))``, counted by str's own methods."""
    if kind == "GSM-7":
        return len(text) + len(_EXTENSION_CHARACTER.findall(text))
    return len(text.encode("utf-16-le")) // 2


def _units(text: str, kind: Encoding) -> list[int]:
    if kind == "GSM-7":
        return [2 if char in GSM7_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _last_fitting_cut(text: str, boundary: re.Pattern[str], max_segments: int) -> int | None:
    for match in reversed(list(boundary.finditer(text))):
        head = text[: match.end()].rstrip()  # exactly the part that will be sent, punctuation included
        if head and segments(head) <= max_segments:
            return match.end()
    return None


def _longest_fitting_prefix(text: str, max_segments: int) -> int:
    # No part holds more than 160 characters per segment, so there is no need to try longer prefixes.
    cut = min(len(text), GSM7_SINGLE * max_segments)
    while cut > 1 and segments(text[:cut]) > max_segments:
        cut -= 1
    while 1 < cut < len(text) and unicodedata.combining(text[cut]):  # keep an accent with its letter
        cut -= 1
    return cut
