"""What to do now: the short checklist a duty worker follows for each safeguarding category.

The built-in lists are in ``bot/data/alert_checklists.yaml``; a provider may replace any category's list with
its own (``Provider.alert_checklists``), for its own numbers and its own procedure.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from bot.safeguarding.categories import CATEGORIES
from models import Provider

CHECKLISTS_FILE = Path(__file__).resolve().parents[1] / "data" / "alert_checklists.yaml"
MAX_ITEMS = 12
MAX_ITEM_LENGTH = 200


@cache
def builtin_checklists() -> dict[str, tuple[str, ...]]:
    data = yaml.safe_load(CHECKLISTS_FILE.read_text(encoding="utf-8"))
    return {category: tuple(data.get(category) or ()) for category in CATEGORIES}


def checklist_for(provider: Provider | None, category: str) -> tuple[str, ...]:
    """The provider's own list for the category, else the built-in one."""
    own = (provider.alert_checklists or {}) if provider is not None else {}
    if category in own:
        return tuple(own[category])
    return builtin_checklists().get(category, ())


def checklist_lines(text: str) -> list[str]:
    """A list as a provider types it: one thing to do a line; blank lines dropped. ValueError says what is wrong."""
    lines = [line.strip().lstrip("-•* ").strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > MAX_ITEMS:
        raise ValueError(f"at most {MAX_ITEMS} lines: a short list is one a person follows at 2 a.m.")
    too_long = next((line for line in lines if len(line) > MAX_ITEM_LENGTH), None)
    if too_long:
        raise ValueError(f"a line is at most {MAX_ITEM_LENGTH} characters: “{too_long[:40]}…”")
    return lines
