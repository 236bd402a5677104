"""Reading the facts a script asks about out of a whole sentence, in English or Welsh.

"he went friday night, came back this morning, we didnt call the police" gives when he left, when he came
back and that the police were not told. The words of each language live in ``en.py`` and ``cy.py``; this
module splits a message into clauses, ties each day to what happened on it, and turns the facts into
answers to the questions of the scripts (by the name each question saves its answer under). Days, ages and
times are read by the modules that already read them (``answers``, ``timephrases``). Pure: the caller
passes today's date.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from conversations import answers, timephrases
from conversations.dates import both_languages, format_day
from conversations.understanding import cy, en
from conversations.understanding.rules import NO_EMOJI, YES_EMOJI, Rules, clean
from conversations.vocabulary import ANSWERS_FROM_SENTENCES

LANGUAGES = {"en": en, "cy": cy}
# The words around a word for the police that say whether they were told: "we didnt call the police",
# "police dont know". Further away, a "not" is about something else ("called the police when she didnt
# come home").
POLICE_WORDS_BEFORE, POLICE_WORDS_AFTER = 5, 2
_UNTIL_MARK = "@until"


@dataclass(frozen=True)
class Facts:
    """What a message says, each None when it does not say it."""

    role: str | None = None  # young_person or parent_carer: who is writing
    left: date | None = None  # the day they went
    returned: date | None = None  # the day they came back
    still_missing: bool = False  # not back yet
    police: str | None = None  # yes, no or not_sure: whether the police knew
    setting: str | None = None  # home, care or care_out_of_area: where the young person lives
    age: int | None = None
    yes: bool | None = None  # the whole reply is a yes (True) or a no (False)
    person: str = "they"  # he, she or they: how to speak of the child (English)


def read(text: str, today: date, language: str = "en") -> Facts:
    """The facts in a message, read with the rules of its language first, then the other's (Wenglish)."""
    first = _read_with(LANGUAGES[language].RULES, text, today)
    other = _read_with(LANGUAGES["en" if language == "cy" else "cy"].RULES, text, today)
    merged = {
        name: getattr(first, name) if getattr(first, name) not in (None, False) else getattr(other, name)
        for name in ("role", "left", "returned", "still_missing", "police", "setting", "age")
    }
    # A Welsh speaker says "yeah"; an English speaker's "do" is not the Welsh yes.
    yes = first.yes if first.yes is not None or language == "en" else other.yes
    return Facts(**merged, yes=yes, person=first.person)


def wanted_time(text: str, now: datetime) -> timephrases.Understood:
    """A day and time they would like ("tuesday evening", "ar ôl ysgol dydd Iau"), relative to ``now``."""
    return timephrases.understand(text, now)


def _read_with(rules: Rules, text: str, today: date) -> Facts:
    cleaned = clean(text)
    found: dict[str, Any] = {"yes": _yes_no(rules, text, cleaned)}
    _read_days(rules, cleaned, today, found)
    found["police"] = _police(rules, cleaned)
    found["setting"] = _setting(rules, cleaned)
    if rules.parent.search(cleaned):
        found["role"] = "parent_carer"
    elif rules.young_person.search(cleaned):
        found["role"] = "young_person"
    found["age"] = _age(rules, cleaned)
    found["person"] = "he" if rules.he.search(cleaned) else "she" if rules.she.search(cleaned) else "they"
    return Facts(**found)


def _yes_no(rules: Rules, text: str, cleaned: str) -> bool | None:
    if any(mark in text for mark in YES_EMOJI) and not cleaned:
        return True
    if any(mark in text for mark in NO_EMOJI) and not cleaned:
        return False
    yes, no = rules.yes.match(cleaned), rules.no.match(cleaned)
    if yes and no:  # "no problem" is a yes; "no" alone is not
        if len(yes.group(0)) == len(no.group(0)):
            return None
        return len(yes.group(0)) > len(no.group(0))
    return True if yes else False if no else None


def _clauses(rules: Rules, cleaned: str) -> list[tuple[str, bool]]:
    """(clause, came after "till") pieces of a message: split at commas, "and", "but", "then", "till"."""
    marked = rules.until.sub(f" , {_UNTIL_MARK} ", cleaned)
    marked = rules.clause_breaks.sub(" , ", marked)
    pieces = []
    for clause in marked.split(","):
        words = clause.split()
        until = bool(words) and words[0] == _UNTIL_MARK
        text = " ".join(word for word in words if word != _UNTIL_MARK)
        if text:
            pieces.extend((segment, until and n == 0) for n, segment in enumerate(_segments(rules, text)))
    return pieces


def _segments(rules: Rules, clause: str) -> list[str]:
    """A clause cut before each thing that happened after the first ("went friday came back sunday")."""
    starts = sorted(
        {
            match.start()
            for pattern in (rules.still_missing, rules.returned, rules.left)
            for match in pattern.finditer(clause)
        }
    )
    # A match inside an earlier one ("went" in "went home"), or right after it ("left home"), is the same event.
    patterns = (rules.still_missing, rules.returned, rules.left)
    cuts: list[int] = []
    end = -1
    for start in starts:
        if start < end:
            continue
        if not cuts or clause[end:start].strip():
            cuts.append(start)
        end = max((m.end() for p in patterns for m in p.finditer(clause, start) if m.start() == start), default=start)
    bounds = [0, *cuts[1:], len(clause)]
    return [clause[a:b].strip() for a, b in itertools.pairwise(bounds) if clause[a:b].strip()]


def _read_days(rules: Rules, cleaned: str, today: date, found: dict[str, Any]) -> None:
    """When they left and came back: each day goes with the thing that happened in its clause (or, for a
    day on its own, with the last thing said without one: "came back, it was sunday")."""
    waiting_for_day: str | None = None
    loose_day: date | None = None  # "from friday" before "till sunday"
    for clause, after_until in _clauses(rules, cleaned):
        day = answers.parse_past_day(rules.not_now_words.sub(" ", clause), today)
        event: str | None = None
        came_back = rules.returned.search(clause)
        if rules.still_missing.search(clause):
            found["still_missing"] = True
            event = "left" if rules.since.search(clause) else None
        elif after_until:
            event = "returned"
            if loose_day is not None:
                found.setdefault("left", loose_day)
        elif came_back and not _undone(rules, clause[: came_back.start()], came_back.group(0)):
            event = "returned"
        elif came_back or rules.since.search(clause) or rules.left.search(clause):
            event = "left"  # "didnt come home friday", "left home friday": when they went
        loose_day = day if event is None else None
        if event and day is not None:
            found.setdefault(event, day)
            waiting_for_day = None
        elif event:
            waiting_for_day = event
        elif day is not None and waiting_for_day:
            found.setdefault(waiting_for_day, day)
            waiting_for_day = None
    if found.get("still_missing"):
        found.pop("returned", None)
    if found.get("left") and found.get("returned") and found["returned"] < found["left"]:
        found.pop("returned")  # "came back" before they went: a misreading, better asked


def _undone(rules: Rules, before: str, words: str) -> bool:
    """ "home" after "didnt come" or "left" (or "ddaeth hi ddim adre") is not coming back."""
    last = " ".join(before.split()[-1:])
    if rules.negation.search(words):
        return True
    return bool(last) and bool(rules.negation.fullmatch(last) or rules.left.fullmatch(last))


def _police(rules: Rules, cleaned: str) -> str | None:
    for clause, _ in _clauses(rules, cleaned):
        match = rules.police.search(clause)
        if not match:
            continue
        before = clause[: match.start()].split()[-POLICE_WORDS_BEFORE:]
        after = clause[match.end() :].split()[:POLICE_WORDS_AFTER]
        around = " ".join([*before, match.group(0), *after])
        if rules.police_unsure.search(clause):
            return "not_sure"
        return "no" if rules.negation.search(around) else "yes"
    return None


def _setting(rules: Rules, cleaned: str) -> str | None:
    if rules.setting_out_of_area.search(cleaned):
        return "care_out_of_area"
    if rules.setting_care.search(cleaned):
        return "care"
    if rules.setting_home.search(cleaned):
        return "home"
    return None


def _age(rules: Rules, cleaned: str) -> int | None:
    for match in rules.age.finditer(cleaned):
        age = answers.parse_age(next((group for group in match.groups() if group), ""))
        if age is not None:
            return age
    return None


# --- answers to the scripts' questions ---------------------------------------------------------------


def answers_from(facts: Facts, today: date) -> dict[str, tuple[Any, Any, str | None]]:
    """The answers ``facts`` give, keyed by the ``save`` name of the question each answers (the names in
    ``vocabulary.ANSWERS_FROM_SENTENCES``); each is (value, label or None for the option's, exact day or None)."""
    found: dict[str, tuple[Any, Any, str | None]] = {}
    if facts.role:
        found["role"] = (facts.role, None, None)
    if facts.still_missing:
        found["child_safe"] = ("away", None, None)
        found["returned_band"] = ("not_back", None, None)
    elif facts.returned:
        found["child_safe"] = ("yes", None, None)
    for save, day in (("left_band", facts.left), ("returned_band", facts.returned)):
        if day is not None and save not in found:
            found[save] = (answers.day_band(day, today), both_languages(format_day, day), day.isoformat())
    if facts.police:
        found["police_informed"] = (facts.police, None, None)
    if facts.age is not None:
        found["age_band"] = (answers.age_band(facts.age), str(facts.age), None)
    if facts.setting:
        found["setting"] = (facts.setting, None, None)
    return {save: found[save] for save in ANSWERS_FROM_SENTENCES if save in found}


def say_understood(facts: Facts, saves: set[str], person: str, language: str, today: date) -> str:
    """One line in their language saying back the answers taken from their message, ending "Is that right?"."""
    said: dict[str, object] = {}
    if "role" in saves:
        said["role"] = facts.role
    if "child_safe" in saves and not (facts.returned or facts.still_missing):
        said["child_safe"] = "yes"
    if "left_band" in saves and facts.left:
        said["left"] = facts.left.isoformat()
    if facts.still_missing and saves & {"child_safe", "returned_band"}:
        said["still_missing"] = True
    elif saves & {"returned_band", "child_safe"} and facts.returned:
        said["returned"] = facts.returned.isoformat()
    if "police_informed" in saves:
        said["police"] = facts.police
    if "age_band" in saves:
        said["age"] = facts.age
    if "setting" in saves:
        said["setting"] = facts.setting
    return LANGUAGES[language].say_understood(said, person, today)


def check_options(language: str) -> tuple[str, str]:
    """The two answers to "Is that right?": yes, and no (then the questions are asked one by one)."""
    return LANGUAGES[language].CHECK_OPTIONS


def read_yes_no(text: str, language: str) -> bool | None:
    """Yes (True), no (False) or neither, in the many ways people write them."""
    cleaned = clean(text)
    answer = _yes_no(LANGUAGES[language].RULES, text, cleaned)
    if answer is None and language == "cy":
        answer = _yes_no(en.RULES, text, cleaned)
    return answer
