"""Helplines and the safety message the bot sends when a message raises a safeguarding concern.

The numbers and texts live in one bilingual data file, `bot/data/helplines.yaml`, so that a coordinator
corrects a number in one place. `safety_message(categories, language)` builds the reply: a short, calm
line saying a person at the service has been told and the young person can keep chatting, then the
helplines for those categories, with 999 first whenever a category is immediate.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from bot.safeguarding.categories import CATEGORIES, CATEGORY_SEVERITY, order_categories
from bot.safeguarding.sourcefile import SourceFile

HELPLINES_FILE = Path(__file__).resolve().parents[1] / "data" / "helplines.yaml"

Language = Literal["en", "cy"]
LANGUAGES: tuple[Language, ...] = ("en", "cy")
# The helpline given first whenever a category is immediate.
EMERGENCY = "emergency"

# The GSM 03.38 default alphabet and its extension table: an SMS in these characters carries 160
# characters (153 per part); one character outside them makes it UCS-2 at 70 (67 per part).
GSM7_CHARACTERS = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)
_CURLY_QUOTES = "\u2018\u2019\u201c\u201d"
_NUMBER_RE = re.compile(r"[0-9][0-9 ]*[0-9]|[0-9]")
_FILE_FIELDS = ("intro", "helplines", "general", "categories")
_HELPLINE_FIELDS = ("numbers", "languages", "en", "cy")


class HelplinesError(ValueError):
    """The helplines file has problems; `problems` holds one `FILE:LINE: message` line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Helpline:
    id: str
    numbers: Mapping[str, str]
    text: Mapping[str, str]  # language -> the line, numbers filled in
    languages: tuple[str, ...] = LANGUAGES


@dataclass(frozen=True)
class Helplines:
    intro: Mapping[str, str]
    helplines: Mapping[str, Helpline]
    categories: Mapping[str, tuple[str, ...]]  # category -> helpline ids, in order
    general: tuple[str, ...] = ()  # helpline ids given when no category applies


def is_gsm7(text: str) -> bool:
    return all(character in GSM7_CHARACTERS for character in text)


def _check_text(source: SourceFile, node: yaml.Node, value: str, language: str, what: str) -> None:
    if any(quote in value for quote in _CURLY_QUOTES):
        source.problem(node, f"{what}: use straight quotes and apostrophes, not curly ones (SMS)")
    if language == "en" and not is_gsm7(value):
        outside = "".join(sorted({character for character in value if character not in GSM7_CHARACTERS}))
        source.problem(node, f"{what}: English text must be GSM-7 for SMS; remove {outside!r}")


def _read_helpline(source: SourceFile, helpline_id: str, node: yaml.Node) -> Helpline | None:
    fields = source.mapping(node, f'helpline "{helpline_id}"')
    if fields is None:
        return None
    source.unknown_fields(fields, _HELPLINE_FIELDS, f'helpline "{helpline_id}"')
    ok = True
    numbers: dict[str, str] = {}
    if "numbers" not in fields:
        source.problem(node, f'helpline "{helpline_id}": missing field "numbers"')
        ok = False
    else:
        number_fields = source.mapping(fields["numbers"][1], f'the numbers of "{helpline_id}"') or {}
        for name, (key_node, value_node) in number_fields.items():
            value = value_node.value if isinstance(value_node, yaml.ScalarNode) else None
            if not isinstance(value, str) or not _NUMBER_RE.fullmatch(value):
                source.problem(value_node, f'helpline "{helpline_id}": number "{name}" must be digits (spaces allowed)')
                ok = False
            elif not name.isidentifier():
                source.problem(key_node, f'helpline "{helpline_id}": number name "{name}" must be a word')
                ok = False
            else:
                numbers[name] = value
    languages: tuple[str, ...] = LANGUAGES
    if "languages" in fields:
        listed = source.text_list(fields["languages"][1], f'the languages of "{helpline_id}"') or []
        bad = [name for _, name in listed if name not in LANGUAGES]
        if bad or not listed:
            source.problem(
                fields["languages"][1], f'helpline "{helpline_id}": languages must be some of: {", ".join(LANGUAGES)}'
            )
            ok = False
        else:
            languages = tuple(name for _, name in listed)
    text: dict[str, str] = {}
    for language in LANGUAGES:
        if language not in fields:
            source.problem(node, f'helpline "{helpline_id}": missing "{language}" text')
            ok = False
            continue
        value_node = fields[language][1]
        template = source.text(value_node, f'helpline "{helpline_id}" {language} text')
        if template is None:
            ok = False
            continue
        used = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
        unknown = sorted(used - numbers.keys())
        unused = sorted(numbers.keys() - used)
        if unknown:
            source.problem(
                value_node,
                f'helpline "{helpline_id}" {language} text uses {{{unknown[0]}}}, which is not one of its numbers',
            )
            ok = False
            continue
        if unused and "numbers" in fields:
            source.problem(
                value_node, f'helpline "{helpline_id}" {language} text does not give the number {{{unused[0]}}}'
            )
            ok = False
        text[language] = template.format(**numbers)
        _check_text(source, value_node, text[language], language, f'helpline "{helpline_id}" {language} text')
    if not ok:
        return None
    return Helpline(id=helpline_id, numbers=numbers, text=text, languages=languages)


def _read(path: Path | str) -> tuple[Helplines | None, list[str]]:
    source = SourceFile(path)
    root = source.compose()
    fields = source.mapping(root, "the helplines file") if root is not None else None
    if fields is None:
        return None, source.problems
    source.unknown_fields(fields, _FILE_FIELDS, "the helplines file")
    for name in _FILE_FIELDS:
        if name not in fields:
            source.problem(root, f'missing field "{name}"')
    intro: dict[str, str] = {}
    if "intro" in fields:
        intro_fields = source.mapping(fields["intro"][1], "intro") or {}
        for language in LANGUAGES:
            if language not in intro_fields:
                source.problem(fields["intro"][1], f'intro: missing "{language}" text')
                continue
            value_node = intro_fields[language][1]
            value = source.text(value_node, f"intro {language} text")
            if value is not None:
                intro[language] = value
                _check_text(source, value_node, value, language, f"intro {language} text")
    helplines: dict[str, Helpline] = {}
    helpline_fields = (source.mapping(fields["helplines"][1], "helplines") or {}) if "helplines" in fields else {}
    for helpline_id, (_, node) in helpline_fields.items():
        helpline = _read_helpline(source, helpline_id, node)
        if helpline is not None:
            helplines[helpline_id] = helpline
    if "helplines" in fields and EMERGENCY not in helpline_fields:
        source.problem(fields["helplines"][1], f'missing the "{EMERGENCY}" helpline (999)')
    general: tuple[str, ...] = ()
    if "general" in fields:
        listed = source.text_list(fields["general"][1], '"general"') or []
        for item_node, helpline_id in listed:
            if helpline_id not in helpline_fields:
                source.problem(item_node, f'"general" gives helpline "{helpline_id}", which is not in "helplines"')
        general = tuple(dict.fromkeys(helpline_id for _, helpline_id in listed))
    categories: dict[str, tuple[str, ...]] = {}
    if "categories" in fields:
        category_node = fields["categories"][1]
        category_fields = source.mapping(category_node, "categories") or {}
        for name, (key_node, list_node) in category_fields.items():
            if name not in CATEGORIES:
                source.problem(key_node, f'unknown category "{name}" (expected one of: {", ".join(CATEGORIES)})')
                continue
            listed = source.text_list(list_node, f'the helplines for "{name}"') or []
            for item_node, helpline_id in listed:
                if helpline_id not in helpline_fields:
                    source.problem(
                        item_node, f'category "{name}" gives helpline "{helpline_id}", which is not in "helplines"'
                    )
            ids = [helpline_id for _, helpline_id in listed]
            if len(set(ids)) != len(ids):
                source.problem(list_node, f'category "{name}" lists a helpline twice')
            if not ids:
                source.problem(list_node, f'category "{name}" gives no helpline')
            categories[name] = tuple(ids)
        for name in CATEGORIES:
            if category_fields and name not in category_fields:
                source.problem(category_node, f'categories: missing "{name}"')
    if source.problems:
        return None, source.problems
    return Helplines(intro=intro, helplines=helplines, categories=categories, general=general), []


def validate_helplines_file(path: Path | str) -> list[str]:
    """Every problem in a helplines file, one `FILE:LINE: message` line each (empty: valid)."""
    return _read(path)[1]


def load_helplines(path: Path | str | None = None) -> Helplines:
    """Load a helplines file (default: the packaged one, loaded once). Raises HelplinesError."""
    if path is None:
        return _default_helplines()
    helplines, problems = _read(path)
    if helplines is None:
        raise HelplinesError(problems)
    return helplines


@functools.cache
def _default_helplines() -> Helplines:
    return load_helplines(HELPLINES_FILE)


def helplines_for(categories: Iterable[str], language: Language, helplines: Helplines | None = None) -> list[Helpline]:
    """The helplines to give for these categories, in order, each once; 999 first if any is immediate."""
    if language not in LANGUAGES:
        raise ValueError(f'language must be one of {", ".join(LANGUAGES)}, not "{language}"')
    data = helplines if helplines is not None else load_helplines()
    ordered = order_categories(categories)
    ids: list[str] = []
    if any(CATEGORY_SEVERITY[category] == "immediate" for category in ordered):
        ids.append(EMERGENCY)
    for category in ordered:
        ids.extend(data.categories.get(category, (EMERGENCY,)))
    chosen = [data.helplines[helpline_id] for helpline_id in dict.fromkeys(ids)]
    return [helpline for helpline in chosen if language in helpline.languages]


def safety_message(categories: list[str], language: Language, helplines: Helplines | None = None) -> str:
    """The reply sent at once when a message raises a concern: calm, short, and with the right numbers.

    Raises ValueError for an unknown category or language, or for no categories at all (nothing to say).
    """
    if not categories:
        raise ValueError("safety_message needs at least one category")
    data = helplines if helplines is not None else load_helplines()
    chosen = helplines_for(categories, language, data)
    return "\n".join([data.intro[language], *(helpline.text[language] for helpline in chosen)])


def script_variables(helplines: Helplines | None = None) -> dict[str, dict[str, str]]:
    """Helpline texts for conversation scripts, by language: {helpline_<id>} for each helpline, and
    {helplines} for the general list (one per line)."""
    data = helplines if helplines is not None else load_helplines()
    variables = {
        f"helpline_{helpline.id}": {language: helpline.text[language] for language in helpline.languages}
        for helpline in data.helplines.values()
    }
    variables["helplines"] = {
        language: "\n".join(
            data.helplines[helpline_id].text[language]
            for helpline_id in data.general
            if language in data.helplines[helpline_id].languages
        )
        for language in LANGUAGES
    }
    return variables
