"""Drafts, releases and the change log in the database. Every function works inside the caller's transaction.

What the bot runs for a kind is its live release, or the files shipped with the application when nothing
has been published yet. The first time a kind is published, those shipped files are recorded as version 1,
so they can be restored like any other version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.admin import audit
from bot.releases import builtin_files
from models import LiveRelease, ReleaseKind, ScriptDraft, ScriptRelease, StudioChange

BUILTIN_AUTHOR = "shipped with the application"
BUILTIN_MESSAGE = "The files that came with the application, before anything was published in the studio."


@dataclass(frozen=True)
class Author:
    """Who changes the studio's files, and when (the caller's clock)."""

    id: int | None
    name: str
    at: datetime
    email: str = ""  # the login, for the audit log


class DraftConflict(Exception):
    """The draft changed after the person saving now opened it: someone saved, published or discarded it."""

    def __init__(self, name: str, draft: ScriptDraft | None) -> None:
        self.name = name
        # Plain values: the transaction that found the draft is rolled back, and its objects with it.
        self.by = draft.updated_by if draft else None
        self.at = draft.updated_at if draft else None
        what = f"{self.by} saved a newer draft" if draft else "the draft was published or thrown away"
        super().__init__(f"{name}: {what} after you opened it")


class DraftChanged(Exception):
    """The files changed between the checks a person looked at and their click on Publish."""


def live_release(session: Session, kind: str) -> ScriptRelease | None:
    live = session.get(LiveRelease, ReleaseKind(kind))
    return live.release if live else None


def live_files(session: Session, kind: str) -> dict[str, str]:
    release = live_release(session, kind)
    return dict(release.files) if release else builtin_files(kind)


def drafts(session: Session, kind: str) -> dict[str, ScriptDraft]:
    rows = session.scalars(sa.select(ScriptDraft).where(ScriptDraft.kind == kind).order_by(ScriptDraft.name))
    return {row.name: row for row in rows}


def draft_files(session: Session, kind: str) -> dict[str, str]:
    """The live files with every draft applied: what publishing now would put live."""
    files = live_files(session, kind)
    for name, draft in drafts(session, kind).items():
        if draft.text is None:
            files.pop(name, None)
        else:
            files[name] = draft.text
    return dict(sorted(files.items()))


def fingerprint(files: Mapping[str, str]) -> str:
    """A short hash of a whole set of files: equal sets, equal fingerprints."""
    encoded = json.dumps(dict(sorted(files.items())), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()[:16]


def save_draft(
    session: Session, kind: str, name: str, text: str | None, author: Author, revision: int, message: str = ""
) -> ScriptDraft | None:
    """Save a draft of one file (``text`` None removes the file); None when it now equals the live file.

    ``revision`` is the draft revision the person started from (0: there was no draft). A newer save by
    someone else raises DraftConflict rather than being overwritten.
    """
    draft = session.scalars(
        sa.select(ScriptDraft).where(ScriptDraft.kind == kind, ScriptDraft.name == name).with_for_update()
    ).one_or_none()
    if (draft.revision if draft else 0) != revision:
        raise DraftConflict(name, draft)
    _log(session, author, kind, "saved_draft" if text is not None else "removed_file", message, file=name)
    if text == live_files(session, kind).get(name):
        if draft is not None:
            session.delete(draft)
        return None
    if draft is None:
        draft = ScriptDraft(kind=ReleaseKind(kind), name=name, revision=0)
        session.add(draft)
    draft.text = text
    draft.revision += 1
    draft.updated_by_id = author.id
    draft.updated_by = author.name
    draft.updated_at = author.at
    session.flush()
    return draft


def discard_draft(session: Session, kind: str, name: str, author: Author) -> None:
    draft = session.scalars(sa.select(ScriptDraft).where(ScriptDraft.kind == kind, ScriptDraft.name == name)).first()
    if draft is not None:
        session.delete(draft)
        _log(session, author, kind, "discarded_draft", "", file=name)


def publish(
    session: Session,
    kind: str,
    files: Mapping[str, str],
    author: Author,
    message: str,
    *,
    expected_fingerprint: str | None = None,
    restored_from: ScriptRelease | None = None,
) -> ScriptRelease:
    """Make ``files`` the live version of ``kind``, recorded as a new release.

    The caller has checked the files. With ``expected_fingerprint`` the current drafts must still be what
    was checked (else DraftChanged); publishing clears the drafts. A restore keeps them.
    """
    live = session.scalars(sa.select(LiveRelease).where(LiveRelease.kind == kind).with_for_update()).one_or_none()
    if expected_fingerprint is not None and fingerprint(draft_files(session, kind)) != expected_fingerprint:
        raise DraftChanged()
    latest = session.scalar(sa.select(sa.func.max(ScriptRelease.number)).where(ScriptRelease.kind == kind)) or 0
    if latest == 0:
        session.add(
            ScriptRelease(
                kind=ReleaseKind(kind),
                number=1,
                files=builtin_files(kind),
                message=BUILTIN_MESSAGE,
                published_by=BUILTIN_AUTHOR,
            )
        )
        latest = 1
    release = ScriptRelease(
        kind=ReleaseKind(kind),
        number=latest + 1,
        files=dict(sorted(files.items())),
        message=message,
        published_by_id=author.id,
        published_by=author.name,
        published_at=author.at,
        restored_from=restored_from,
    )
    session.add(release)
    session.flush()
    if live is None:
        live = LiveRelease(kind=ReleaseKind(kind), release_id=release.id)
        session.add(live)
    live.release_id = release.id
    live.changed_at = author.at
    if restored_from is None:
        session.execute(sa.delete(ScriptDraft).where(ScriptDraft.kind == kind))
    _log(session, author, kind, "restored" if restored_from else "published", message, release=release)
    session.flush()
    return release


def restore(session: Session, kind: str, release: ScriptRelease, author: Author, reason: str) -> ScriptRelease:
    """Put an earlier version back live, as a new release that says where it came from and why.

    The reason is the new release's message (shown in the history), and goes in the change log and the
    audit log: what every young person is told changed at once, without the usual checks of a draft.
    """
    restored = publish(session, kind, release.files, author, reason, restored_from=release)
    what = f"{kind}: version {release.number} made live again as version {restored.number}: {reason}"
    audit.record(session, author.at, author.email or author.name, audit.Action.STUDIO_RESTORE, what)
    return restored


def releases(session: Session, kind: str) -> list[ScriptRelease]:
    return list(
        session.scalars(
            sa.select(ScriptRelease).where(ScriptRelease.kind == kind).order_by(ScriptRelease.number.desc())
        )
    )


def changes(session: Session, limit: int = 200) -> list[StudioChange]:
    return list(session.scalars(sa.select(StudioChange).order_by(StudioChange.id.desc()).limit(limit)))


def _log(
    session: Session,
    author: Author,
    kind: str,
    action: str,
    message: str,
    *,
    file: str | None = None,
    release: ScriptRelease | None = None,
) -> None:
    session.add(
        StudioChange(
            at=author.at,
            staff_user_id=author.id,
            staff_name=author.name,
            kind=ReleaseKind(kind),
            action=action,
            file=file,
            message=message,
            release_id=release.id if release else None,
        )
    )
