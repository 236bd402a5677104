"""A person who logs in to the provider queue pages or the coordinators' studio."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, enum_type, utcnow
from models.crypto import EncryptedText
from models.enums import StaffRole
from models.provider import Provider


class StaffUser(Base):
    """Staff, never young people. ``provider_id`` is set for provider staff, empty for coordinators and admins.

    Only a password hash is stored. ``session_generation`` is part of every login's cookie: adding one to it (at
    a logout or a new password) ends every login this person has, in every browser.
    """

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[StaffRole] = mapped_column(enum_type(StaffRole))
    active: Mapped[bool] = mapped_column(default=True)
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # Set when someone else chose the password (a new account, a reset): the person must choose their own
    # before anything else opens.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Two-factor sign-in (``bot.providers.two_factor``): the TOTP secret, set when enrolment starts and in use
    # once confirmed; the last time step used (a code works once); hashes of the unused recovery codes.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText)
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    recovery_code_hashes: Mapped[list[str] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    provider: Mapped["Provider | None"] = relationship()


class LoginFailures(Base):
    """Recent failed logins for one email, whether or not it has an account (so that the wait they bring tells
    nobody which emails do). Found by a keyed hash of the email; a successful login deletes the row."""

    __tablename__ = "login_failures"

    email_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # old rows are deleted by it
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)  # no try is checked before then
