"""Which Welsh texts need checking: those whose English changed after the Welsh was written, until someone
writes new Welsh or confirms it still fits."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.releases import builtin_files
from bot.studio import welsh
from bot.studio.store import Author

COORDINATOR = Author(None, "Coordinator", datetime(2026, 12, 7, 10, 0, tzinfo=UTC), "coordinator@demo.example")
LIVE = builtin_files("scripts")["welcome.yaml"]
QUESTION = "steps.role.choose"


def edited(source: str, old: str, new: str) -> str:
    assert old in source
    return source.replace(old, new, 1)


def stale(session, source: str) -> set[str]:
    return welsh.needing_check(session, "welcome.yaml", welsh.fields_of(source).values(), LIVE)


def test_english_changed_against_the_live_welsh_needs_checking_until_confirmed(runtime):
    draft = edited(LIVE, "en: Who are you?", "en: Who is writing?")
    with runtime.session() as session, session.begin():
        assert stale(session, LIVE) == set()
        assert stale(session, draft) == {QUESTION}
        welsh.confirm(session, "welcome.yaml", [QUESTION], draft, COORDINATOR)
        assert stale(session, draft) == set()
        # The English changes again after the confirmation: the Welsh needs checking again.
        assert stale(session, edited(draft, "en: Who is writing?", "en: Who is this?")) == {QUESTION}


def test_new_welsh_is_written_against_the_english_it_has_then(runtime):
    english = edited(LIVE, "en: Who are you?", "en: Who is writing?")
    both = edited(english, "cy: Pwy ydych chi?", "cy: Pwy sy'n ysgrifennu?")
    with runtime.session() as session, session.begin():
        welsh.note_saved(session, "welcome.yaml", english, both, COORDINATOR)
        assert stale(session, both) == set()
        # A record of Welsh the text no longer has (a draft thrown away) does not hide a later English change.
        assert stale(session, english) == {QUESTION}
