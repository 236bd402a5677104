"""The safeguarding categories and their severity.

This module is the one home of the severity rule (DOMAIN.md, "Safeguarding escalation"): the lexicon,
the detector, the helplines and the provider queue all read it from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

Severity = Literal["immediate", "urgent"]

# Most severe first, then in the order of DOMAIN.md's table. Categories are always reported in this
# order, so it must stay stable.
CATEGORY_SEVERITY: Final[dict[str, Severity]] = {
    "suicide_self_harm": "immediate",
    "unsafe_now": "immediate",
    "criminal_exploitation": "urgent",
    "sexual_exploitation": "urgent",
    "abuse_at_home": "urgent",
    "violence_weapons": "urgent",
    "health": "urgent",
}

CATEGORIES: Final[tuple[str, ...]] = tuple(CATEGORY_SEVERITY)
# Each category in plain words, for the staff who read an alert.
CATEGORY_WORDS: Final[dict[str, str]] = {
    "suicide_self_harm": "suicide or self-harm",
    "unsafe_now": "not safe right now",
    "criminal_exploitation": "criminal exploitation",
    "sexual_exploitation": "sexual exploitation",
    "abuse_at_home": "abuse at home",
    "violence_weapons": "violence or weapons",
    "health": "health",
}
SEVERITY_RANK: Final[dict[Severity, int]] = {"immediate": 0, "urgent": 1}
_CATEGORY_RANK: Final[dict[str, int]] = {name: rank for rank, name in enumerate(CATEGORIES)}


def order_categories(categories: Iterable[str]) -> list[str]:
    """The distinct categories, most severe first, in a stable order. Unknown names raise ValueError."""
    distinct = set(categories)
    unknown = distinct - _CATEGORY_RANK.keys()
    if unknown:
        raise ValueError(f"unknown safeguarding categories: {', '.join(sorted(unknown))}")
    return sorted(distinct, key=_CATEGORY_RANK.__getitem__)


def most_severe(categories: Iterable[str]) -> Severity | None:
    """The highest severity among the categories, or None when there are none."""
    ordered = order_categories(categories)
    return CATEGORY_SEVERITY[ordered[0]] if ordered else None
