"""What coordinators publish from the studio: every version of the scripts, the safeguarding lexicon and the
helplines, which one is live, the drafts being worked on, and who changed what.

A release holds the full text of every file of its kind, so any version can be run, compared or restored
on its own. Releases are never changed or deleted; restoring one publishes a copy as a new release.
"""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, enum_type, utcnow

FILE_NAME_LENGTH = 200
HASH_LENGTH = 16
NAME_LENGTH = 100  # a staff member's display name, kept beside the id so history survives a deleted account


class ReleaseKind(StrEnum):
    SCRIPTS = "scripts"  # the conversation scripts and their transcript tests
    LEXICON = "lexicon"  # the safeguarding phrase files
    HELPLINES = "helplines"  # the helplines file


class ScriptRelease(Base):
    """One published version of one kind of file set. ``number`` counts up per kind: version 1, 2, 3..."""

    __tablename__ = "script_releases"
    __table_args__ = (sa.UniqueConstraint("kind", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReleaseKind] = mapped_column(enum_type(ReleaseKind))
    number: Mapped[int] = mapped_column()
    files: Mapped[dict[str, str]] = mapped_column(sa.JSON)  # file name -> full text
    message: Mapped[str] = mapped_column(sa.Text)
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    published_by: Mapped[str] = mapped_column(sa.String(NAME_LENGTH))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when this release is a restored copy of an earlier one.
    restored_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("script_releases.id", ondelete="SET NULL"))

    restored_from: Mapped["ScriptRelease | None"] = relationship(remote_side=[id])


class LiveRelease(Base):
    """Which release of each kind the bot uses now: one row per kind, so exactly one is live.

    No row for a kind means the bot uses the files shipped with the application.
    """

    __tablename__ = "live_releases"

    kind: Mapped[ReleaseKind] = mapped_column(enum_type(ReleaseKind), primary_key=True)
    release_id: Mapped[int] = mapped_column(sa.ForeignKey("script_releases.id", ondelete="RESTRICT"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    release: Mapped[ScriptRelease] = relationship()


class ScriptDraft(Base):
    """A file being changed, shared by every coordinator: one draft per file, not per person.

    ``text`` None means the draft removes the file. ``revision`` goes up at every save, so a save made on
    top of someone else's newer one is refused instead of silently overwriting it.
    """

    __tablename__ = "script_drafts"
    __table_args__ = (sa.UniqueConstraint("kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReleaseKind] = mapped_column(enum_type(ReleaseKind))
    name: Mapped[str] = mapped_column(sa.String(FILE_NAME_LENGTH))
    text: Mapped[str | None] = mapped_column(sa.Text)
    revision: Mapped[int] = mapped_column(default=1)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    updated_by: Mapped[str] = mapped_column(sa.String(NAME_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StudioChange(Base):
    """Every change made in the studio: who, when, what, and the message they gave."""

    __tablename__ = "studio_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    staff_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    staff_name: Mapped[str] = mapped_column(sa.String(NAME_LENGTH))
    kind: Mapped[ReleaseKind] = mapped_column(enum_type(ReleaseKind))
    action: Mapped[str] = mapped_column(sa.String(32))  # saved_draft, discarded_draft, published, restored
    file: Mapped[str | None] = mapped_column(sa.String(FILE_NAME_LENGTH))
    message: Mapped[str] = mapped_column(sa.Text, default="")
    release_id: Mapped[int | None] = mapped_column(sa.ForeignKey("script_releases.id", ondelete="SET NULL"))


class WelshBasis(Base):
    """What English a script's Welsh text was written (or last confirmed) against, as hashes of both.

    When a text's English no longer matches the hash but its Welsh still does, the English changed after the
    Welsh was written, and the studio marks the Welsh "needs checking" until someone confirms it still fits.
    """

    __tablename__ = "welsh_bases"
    __table_args__ = (sa.UniqueConstraint("name", "text_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(FILE_NAME_LENGTH))  # the script file, "booking.yaml"
    text_key: Mapped[str] = mapped_column(sa.String(FILE_NAME_LENGTH))  # "steps.age.choose"
    english_hash: Mapped[str] = mapped_column(sa.String(HASH_LENGTH))
    welsh_hash: Mapped[str] = mapped_column(sa.String(HASH_LENGTH))
    confirmed: Mapped[bool] = mapped_column(default=False)  # someone said the Welsh still fits new English
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    by: Mapped[str] = mapped_column(sa.String(NAME_LENGTH))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
