"""Accounts: providers' API tokens and every staff login's password. Only hashes are stored.

An API token is long and random, so a SHA-256 of it is enough and lets the token be found by its hash; a
password is short and chosen by a person, so it gets scrypt (Werkzeug's default) and a short, growing wait
after repeated failures. One password check serves every staff login (duty workers, provider admins,
coordinators, admins); what each may then see is decided by role, in ``webhooks/staff_login.py``.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from models import LoginFailures, Provider, StaffUser, address_hash
from models.db import take_write_lock

API_TOKEN_PREFIX = "rhi_"
MIN_PASSWORD_LENGTH = 12  # for a password a person chooses (an admin adding someone, a new password)
# Failed logins for one email: the first few cost nothing (typos); then every try waits a while after a failure,
# doubling with each, never longer than LONGEST_WAIT, so whoever guesses slows the account but cannot keep its
# owner out for long. Failures are forgotten after a quiet spell; a successful login or an admin clears them.
FREE_FAILURES = 5
FIRST_WAIT = timedelta(seconds=15)
LONGEST_WAIT = timedelta(minutes=5)
FAILURES_FORGOTTEN_AFTER = timedelta(hours=1)
# Werkzeug's scrypt at its own cost (about 0.1 s a hash here); the tests lower it, or they would spend minutes
# hashing the passwords of the accounts they make.
PASSWORD_HASH_METHOD = "scrypt"


@functools.cache
def _unknown_user_hash(method: str) -> str:
    """Compared against when the email is unknown, so a wrong email takes as long as a wrong password."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


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
    """A new password; every login the person had ends (their cookies carry the old generation)."""
    user.password_hash = generate_password_hash(password, method=PASSWORD_HASH_METHOD)
    user.must_change_password = False
    end_sessions(user)


def end_sessions(user: StaffUser) -> None:
    """End every login ``user`` has, in every browser: each cookie names the generation it was made in."""
    user.session_generation = (user.session_generation or 0) + 1


def new_password() -> str:
    """A password a person can type: four groups of letters and digits."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def change_password(session: Session, user: StaffUser, current: str, new: str, again: str, now: datetime) -> str | None:
    """Give ``user`` the password ``new``: None when done, else what stops it, in words for the person.

    A wrong current password counts as a failed login for the email, and the wait after many applies here too:
    whoever holds a copied cookie cannot guess the password on this page instead of the login page."""
    key = _email_key(user.email)
    failures = session.get(LoginFailures, key)
    if failures is not None and failures.not_before is not None and failures.not_before > now:
        return "Too many wrong passwords lately. Wait a few minutes, then try again."
    if not check_password_hash(user.password_hash, current):
        _count_failure(session, key, now)
        return "That is not your current password."
    if len(new) < MIN_PASSWORD_LENGTH:
        return f"The new password needs at least {MIN_PASSWORD_LENGTH} characters."
    if new != again:
        return "The two new passwords are not the same."
    if new == current:
        return "Choose a password different from the one you have now."
    set_password(user, new)
    return None


class LoginWait(Exception):
    """Too many recent failed logins for this email: no try is checked until ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until)
        self.until = until


def _email_key(email: str) -> str:
    # Keyed, like a contact's address: the table should not list the emails people tried.
    return address_hash("staff-login", email.strip().lower())


def find_staff(session: Session, email: str) -> StaffUser | None:
    """The member of staff with this email, whatever its case, active or not."""
    query = sa.select(StaffUser).where(sa.func.lower(StaffUser.email) == email.strip().lower())
    return session.scalars(query).one_or_none()


def check_login(sessions: Callable[[], Session], email: str, password: str, now: datetime) -> StaffUser | None:
    """The active staff member with this email and password, or None. Raises ``LoginWait`` while the email must
    wait after failures, without checking the password.

    Failures are counted per email whether it has an account or not, and an unknown email is checked against
    a hash as slowly as a known one, so nothing here tells anyone which emails have accounts. The password is
    checked (slowly, on purpose) in a read-only session; only then is the outcome written, briefly.
    """
    key = _email_key(email)
    with sessions() as session:
        failures = session.get(LoginFailures, key)
        if failures is not None and failures.not_before is not None and failures.not_before > now:
            raise LoginWait(failures.not_before)
        user = find_staff(session, email)
        known = user is not None and user.active
        stored = user.password_hash if known else _unknown_user_hash(PASSWORD_HASH_METHOD)
        right = check_password_hash(stored, password) and known
    with sessions() as session, session.begin():
        take_write_lock(session)
        if right:
            session.execute(sa.delete(LoginFailures).where(LoginFailures.email_hash == key))
            user = session.get(StaffUser, user.id)
            user.last_login_at = now
            return user
        _count_failure(session, key, now)
        return None


def _count_failure(session: Session, key: str, now: datetime) -> None:
    # Failures forgotten are deleted as they go, so the table holds only the last hour's emails; rows another
    # login is counting just now are left for the next one (SKIP LOCKED), so two failures never deadlock.
    stale = sa.select(LoginFailures.email_hash).where(LoginFailures.last_failure_at < now - FAILURES_FORGOTTEN_AFTER)
    stale = stale.with_for_update(skip_locked=True)
    session.execute(sa.delete(LoginFailures).where(LoginFailures.email_hash.in_(stale)))
    # The row is made if missing without a unique-key error when two processes count a first failure at once;
    # then locked, so that two failures at once both count.
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    new = insert(LoginFailures).values(email_hash=key, failures=0, last_failure_at=now)
    session.execute(new.on_conflict_do_nothing(index_elements=[LoginFailures.email_hash]))
    failures = session.get(LoginFailures, key, with_for_update=True, populate_existing=True)
    failures.failures += 1
    failures.last_failure_at = now
    beyond = failures.failures - FREE_FAILURES
    failures.not_before = now + min(FIRST_WAIT * 2 ** min(beyond - 1, 16), LONGEST_WAIT) if beyond > 0 else None


def login_wait(session: Session, email: str, now: datetime) -> datetime | None:
    """Until when ``email`` must wait after its failures (a password or a second factor), or None."""
    failures = session.get(LoginFailures, _email_key(email))
    if failures is not None and failures.not_before is not None and failures.not_before > now:
        return failures.not_before
    return None


def count_failed_login(session: Session, email: str, now: datetime) -> None:
    """A wrong second factor counts like a wrong password: guessing codes meets the same growing wait."""
    _count_failure(session, _email_key(email), now)


def clear_login_failures(session: Session, email: str) -> bool:
    """For an admin: forget the failed logins for ``email``, so its next try is checked at once."""
    return session.execute(sa.delete(LoginFailures).where(LoginFailures.email_hash == _email_key(email))).rowcount > 0
