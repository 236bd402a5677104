"""Which Welsh texts need checking because their English changed after the Welsh was written.

For each text of a script the studio keeps what English its Welsh was written against (``WelshBasis``:
hashes of both). A Welsh text needs checking when its English no longer matches that basis while the Welsh
still does: someone changed the English and nobody touched the Welsh since. Without a record that matches
its Welsh, a text takes the live version as its basis (the published Welsh was written against the live
English).
Writing the Welsh, or confirming it still fits, records the current English as its new basis.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.studio.store import Author
from bot.studio.texts import TextField, TextsUnavailable, text_fields
from models import WelshBasis


def text_hash(text: str) -> str:
    """A short hash of a text, with spaces at its ends ignored (a trailing newline is not a rewrite)."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:16]


def fields_of(source: str | None) -> dict[str, TextField]:
    """The texts of a script file by key; none when the file is missing or cannot be read yet."""
    if source is None:
        return {}
    try:
        return {field.key: field for field in text_fields(source)}
    except TextsUnavailable:
        return {}


def needing_check(session: Session, name: str, fields: Iterable[TextField], live_source: str | None) -> set[str]:
    """The keys of the texts of ``name`` whose Welsh was written against English that has changed since.

    A text's basis is the record of what its Welsh was written against, or else the live version, whichever
    holds the Welsh it has now: Welsh found in neither was rewritten somewhere unrecorded, and is not marked.
    """
    bases = _bases(session, name)
    live = fields_of(live_source)
    found = set()
    for field in fields:
        if not field.cy.strip():
            continue  # no Welsh yet: the validator already says it is missing
        welsh = text_hash(field.cy)
        candidates = []
        if field.key in bases:
            candidates.append((bases[field.key].english_hash, bases[field.key].welsh_hash))
        if field.key in live:
            candidates.append((text_hash(live[field.key].en), text_hash(live[field.key].cy)))
        written_against = next((english for english, of in candidates if of == welsh), None)
        if written_against is not None and written_against != text_hash(field.en):
            found.add(field.key)
    return found


def note_saved(session: Session, name: str, before: str | None, after: str | None, author: Author) -> None:
    """After a save of ``name``: every Welsh text that changed was written against the English it has now."""
    old = fields_of(before)
    for key, field in fields_of(after).items():
        if key in old and text_hash(old[key].cy) != text_hash(field.cy):
            _record(session, name, field, author, confirmed=False)


def confirm(session: Session, name: str, keys: Iterable[str], source: str, author: Author) -> list[TextField]:
    """Someone read the Welsh of ``keys`` against the current English and says it still fits."""
    fields = fields_of(source)
    confirmed = [fields[key] for key in keys if key in fields]
    for field in confirmed:
        _record(session, name, field, author, confirmed=True)
    return confirmed


def _bases(session: Session, name: str) -> Mapping[str, WelshBasis]:
    rows = session.scalars(sa.select(WelshBasis).where(WelshBasis.name == name))
    return {row.text_key: row for row in rows}


def _record(session: Session, name: str, field: TextField, author: Author, *, confirmed: bool) -> None:
    basis = session.scalars(
        sa.select(WelshBasis).where(WelshBasis.name == name, WelshBasis.text_key == field.key)
    ).one_or_none()
    if basis is None:
        basis = WelshBasis(name=name, text_key=field.key)
        session.add(basis)
    basis.english_hash = text_hash(field.en)
    basis.welsh_hash = text_hash(field.cy)
    basis.confirmed = confirmed
    basis.by_id = author.id
    basis.by = author.name
    basis.at = author.at
    session.flush()
