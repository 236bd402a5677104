"""Who may use the studio, and the protections around it: password check, login rate limits, CSRF tokens,
session cookies and response headers.

Passwords are checked with werkzeug.security against the stored hash. Guessing is slowed twice: an account
is locked for a while after a few wrong passwords (in the database, so every web worker sees it), and one
address may only try so often (in this process's memory: per worker, a backstop to the account lock).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, Request, Response, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from models import StaffRole, StaffUser

CHANNEL_WEBHOOKS = "/webhooks/"  # the path every channel's webhook is under (ARCHITECTURE.md)
STUDIO_ROLES = frozenset({StaffRole.COORDINATOR, StaffRole.ADMIN})
MAX_FAILED_LOGINS = 5  # wrong passwords in a row before the account is locked
LOCK_TIME = timedelta(minutes=15)
ADDRESS_ATTEMPTS = 30  # failed logins from one address...
ADDRESS_WINDOW_SECONDS = 15 * 60  # ...in this many seconds
SESSION_LIFETIME = timedelta(hours=8)  # a working day; then log in again
MIN_PASSWORD_LENGTH = 12
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# Checked when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))
_SESSION_USER = "studio_user_id"
_SESSION_SINCE = "studio_login_at"
_SESSION_CSRF = "studio_csrf"

WRONG_LOGIN = "That email and password do not match a studio account. Check them and try again."


@dataclass(frozen=True)
class LoginResult:
    user: StaffUser | None
    problem: str | None = None


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def authenticate(db: Session, email: str, password: str, now: datetime) -> LoginResult:
    """The staff member with this email and password, if they may use the studio; else why not."""
    user = db.scalars(sa.select(StaffUser).where(sa.func.lower(StaffUser.email) == email.strip().lower())).first()
    if user is None or not user.active or user.role not in STUDIO_ROLES:
        check_password_hash(_DUMMY_HASH, password)
        return LoginResult(None, WRONG_LOGIN)
    if user.locked_until is not None and user.locked_until > now:
        return LoginResult(None, _locked_message(user.locked_until))
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.failed_logins = 0
            user.locked_until = now + LOCK_TIME
            return LoginResult(None, _locked_message(user.locked_until))
        return LoginResult(None, WRONG_LOGIN)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return LoginResult(user)


def _locked_message(until: datetime) -> str:
    minutes = max(1, round((until - datetime.now(until.tzinfo)).total_seconds() / 60))
    return (
        f"Too many wrong passwords for this account, so it is locked for {minutes} more minute(s). "
        "Wait, then try again, or ask an admin for help."
    )


class AddressThrottle:
    """At most ``limit`` failed logins per address in a sliding window (in memory, per process)."""

    def __init__(self, limit: int = ADDRESS_ATTEMPTS, window: float = ADDRESS_WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._attempts: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_needed(self, address: str, now: float | None = None) -> float:
        """Seconds until this address may try again; 0 when it may try now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            attempts = self._attempts.get(address)
            while attempts and attempts[0] <= now - self.window:
                attempts.popleft()
            if attempts and len(attempts) >= self.limit:
                return attempts[0] + self.window - now
            return 0.0

    def failed(self, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._attempts) > 10_000:  # forget quiet addresses so memory stays small
                for key in [
                    key for key, value in self._attempts.items() if not value or value[-1] <= now - self.window
                ]:
                    del self._attempts[key]
            self._attempts.setdefault(address, deque()).append(now)


# --- the session ---------------------------------------------------------------------------------------


def log_in(user: StaffUser, now: datetime) -> None:
    session.clear()  # a new session id for a new login: nothing from before carries over
    session[_SESSION_USER] = user.id
    session[_SESSION_SINCE] = now.timestamp()


def log_out() -> None:
    session.clear()


def session_user_id(now: datetime) -> int | None:
    user_id = session.get(_SESSION_USER)
    since = session.get(_SESSION_SINCE, 0)
    if user_id is None or now.timestamp() - since > SESSION_LIFETIME.total_seconds():
        return None
    return int(user_id)


def csrf_token() -> str:
    """This session's CSRF token, made on first use; every form sends it back."""
    token = session.get(_SESSION_CSRF)
    if not token:
        token = session[_SESSION_CSRF] = secrets.token_urlsafe(32)
    return str(token)


def csrf_valid() -> bool:
    expected = session.get(_SESSION_CSRF)
    given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    return bool(expected) and secrets.compare_digest(str(expected), given)


# --- cookies and headers ---------------------------------------------------------------------------------


class StudioSessionInterface(SecureCookieSessionInterface):
    """Session cookies are Secure and SameSite=Lax; only the demo, on plain HTTP on this machine, goes
    without Secure (a browser would not send the cookie back otherwise). SESSION_COOKIE_SECURE, when an
    app sets it, still makes every cookie Secure."""

    def __init__(self, public_base_url: str | None) -> None:
        self.public_base_url = public_base_url or ""

    def get_cookie_secure(self, app: Flask) -> bool:
        if super().get_cookie_secure(app) or self.public_base_url.startswith("https://"):
            return True
        if not has_request_context():
            return True
        host = request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else request.host.split("]")[0] + "]"
        return not (request.scheme == "http" and host in ("127.0.0.1", "localhost", "[::1]"))

    def get_cookie_samesite(self, app: Flask) -> str:
        return app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        # Telegram and Twilio send no cookie and are sent none: a channel's webhook has no session, and
        # making one (a signer set up for each request) is work every inbound message would do for nothing.
        if request.path.startswith(CHANNEL_WEBHOOKS):
            return self.make_null_session(app)
        return super().open_session(app, request)


SECURITY_HEADERS = {
    # Scripts and styles only from the studio's own static files: nothing inline, nothing from elsewhere.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
