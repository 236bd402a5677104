"""Accounts: providers' API tokens and every staff login's password. Only hashes are stored.

An API token is long and random, so a SHA-256 of it is enough and lets the token be found by its hash; a
password is short and chosen by a person, so it gets scrypt (Werkzeug's default) and a lock after repeated
failures. One password check serves every staff login (duty workers, provider admins, coordinators, admins);
what each may then see is decided by role, in ``webhooks/staff_login.py``.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from models import Provider, StaffUser

API_TOKEN_PREFIX = "rhi_"
# Failed logins in a row before an account is locked, and for how long (doubling while it goes on).
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MAX_LOCKOUT_DOUBLINGS = 6  # at most 16 hours
MIN_PASSWORD_LENGTH = 12  # for a password a person chooses (an admin adding someone)
# Compared against when the email is unknown, so a wrong email takes as long as a wrong password.
_UNKNOWN_USER_HASH = generate_password_hash(secrets.token_urlsafe(16))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_api_token(provider: Provider) -> str:
    """A new bearer token for ``provider`` (the old one stops working). Shown once; only its hash is kept."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    provider.api_token_hash = token_hash(token)
    return token


def provider_for_token(session: Session, token: str) -> Provider | None:
    if not token.startswith(API_TOKEN_PREFIX):
        return None
    return session.scalars(sa.select(Provider).where(Provider.api_token_hash == token_hash(token))).one_or_none()


def set_password(user: StaffUser, password: str) -> None:
    user.password_hash = generate_password_hash(password)
    user.failed_logins = 0
    user.locked_until = None


def new_password() -> str:
    """A password a person can type: four groups of letters and digits."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


class LoginLocked(Exception):
    """Too many failed logins for this account; it is locked for a while."""


def check_login(session: Session, email: str, password: str, now: datetime) -> StaffUser | None:
    """The active staff member with this email and password, or None. Failures count towards a lock.

    Raises ``LoginLocked`` while the account is locked, whatever the password: the caller gives the same answer
    as for a wrong password, so that a lock does not tell anyone the email has an account.
    """
    user = session.scalars(
        sa.select(StaffUser).where(sa.func.lower(StaffUser.email) == email.strip().lower())
    ).one_or_none()
    if user is None or not user.active:
        check_password_hash(_UNKNOWN_USER_HASH, password)
        return None
    if user.locked_until is not None and user.locked_until > now:
        check_password_hash(_UNKNOWN_USER_HASH, password)  # as slow as a wrong password, so it tells nothing
        raise LoginLocked()
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT * 2 ** min(user.failed_logins - MAX_FAILED_LOGINS, MAX_LOCKOUT_DOUBLINGS)
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return user
