"""One login for every staff page: the provider pages (``/provider/``), the coordinators' studio (``/studio/``)
and the administration pages (``/admin/``), at ``/login`` and ``/logout``; with a second step (``/login/code``)
for whoever has two-factor sign-in, and, before anything else opens, a password of their own (``/password``)
and two-factor sign-in set up (``/two-factor``) where those are required.

Built on three Flask extensions rather than by hand:

- Flask-Login holds who is logged in: the session cookie carries the staff member's id and their login
  generation, read back from the database on each request, so a deactivated account stops at once, and a
  logout or a new password (which add one to the generation) ends every copy of every login that person has.
  The login ends after a working day (``SESSION_LIFETIME``) or when the browser closes, and "strong" session
  protection ends it when the cookie turns up from another address or browser. The cookie is encrypted
  (Fernet, under a key derived from ``RHI_SECRET_KEY``), so nobody can read what it holds.
- Flask-WTF's CSRFProtect checks a token on every form and every ``fetch()`` POST (header ``X-CSRFToken``),
  except under ``/webhooks/`` and ``/api/``, which prove who they are with signatures and bearer tokens.
- Flask-Limiter limits failed logins per address (successful ones never count), in Redis (``RHI_REDIS_URL``)
  when there is one, so the count holds across processes, and in memory otherwise. Behind a reverse proxy the
  address is the one the trusted proxies (``RHI_TRUSTED_PROXIES``) forwarded. Failures per email bring a short
  wait, in the database (``bot.providers.accounts.check_login``), the same for an email with no account.

The password check, the wait and a new password are ``bot.providers.accounts``'s; what a role may see is
``StaffArea``. This module imports neither the provider pages nor the studio: they import it.
"""

from __future__ import annotations

import base64
import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import (
    Blueprint,
    Flask,
    Request,
    Response,
    current_app,
    flash,
    has_request_context,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from itsdangerous import BadSignature
from markupsafe import Markup

from bot.providers import two_factor
from bot.providers.accounts import (
    MIN_PASSWORD_LENGTH,
    LoginWait,
    change_password,
    check_login,
    count_failed_login,
    end_sessions,
    login_wait,
)
from bot.settings import Settings
from models import StaffRole, StaffUser
from models.db import take_write_lock

SESSION_LIFETIME = timedelta(hours=8)  # a working day; then log in again
# Failed logins one address may make, whatever the accounts (password spraying); tests may set RHI_LOGIN_LIMIT.
# Successful logins never count, so a shift logging in through one office address never meets it.
LOGIN_LIMIT = "20 per 10 minutes"
# Paths whose callers prove who they are otherwise: channel signatures, provider bearer tokens.
CSRF_EXEMPT_PATHS = ("/webhooks/", "/api/")
CHANNEL_WEBHOOKS = "/webhooks/"  # the path every channel's webhook is under (ARCHITECTURE.md)
_LOGGED_IN_AT = "staff_logged_in_at"
_PENDING = "staff_second_factor_for"  # whose code the login asks for, between the password and the code
PENDING_LIFETIME = timedelta(minutes=5)
WRONG_CODE = "That code is not right. Type the 6 digits your app shows now, or one of your recovery codes."

WRONG_LOGIN = "That email and password do not match. Check them and try again, or ask an admin."
# Said for any email after its wrong passwords, whether or not it has an account.
WAIT_FOR_EMAIL = "Too many wrong passwords for this email lately. Wait a few minutes, then try again, or ask an admin."
TOO_MANY_TRIES = "Too many tries from here. Wait ten minutes, then try again."
PASSWORD_CHANGED = "Your password is changed. Any other browser you were logged in on is logged out."
EXPIRED = "This page has expired. Reload it and try again."

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

staff = Blueprint("staff", __name__, template_folder="templates")
login_manager = LoginManager()
login_manager.session_protection = "strong"
csrf = CSRFProtect()
limiter = Limiter(get_remote_address, strategy="moving-window", swallow_errors=True)


# --- who is logged in, and what they may see -------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Staff(UserMixin):
    """The person logged in, as Flask-Login's ``current_user`` (a plain copy of their ``StaffUser`` row)."""

    id: int
    email: str
    display_name: str
    role: StaffRole
    provider_id: int | None
    generation: int  # the account's session generation this login was made in
    must_change_password: bool = False  # a one-time password: nothing opens until they choose their own
    must_enrol: bool = False  # two-factor sign-in is required of them and not set up yet

    @classmethod
    def of(cls, user: StaffUser) -> Staff:
        required = current_app.extensions["rhi.runtime"].settings.require_two_factor
        return cls(
            user.id,
            user.email,
            user.display_name,
            user.role,
            user.provider_id,
            user.session_generation,
            user.must_change_password,
            two_factor.must_enrol(user, required),
        )

    def get_id(self) -> str:
        # What the cookie holds: a login made before the account's last logout or new password no longer loads.
        return f"{self.id}.{self.generation}"


@dataclass(frozen=True)
class StaffArea:
    """A part of the site and who may use it."""

    name: str  # in words: "the provider queue"
    who: str  # who it is for, in words, for the page that says no
    roles: frozenset[StaffRole]
    home: str  # the endpoint of its first page
    needs_provider: bool = False  # its pages show one provider's data: the login must belong to a provider

    def admits(self, person: Staff) -> bool:
        return person.role in self.roles and (person.provider_id is not None or not self.needs_provider)


PROVIDER_PAGES = StaffArea(
    "the provider queue",
    "a provider's duty workers and admins",
    frozenset({StaffRole.DUTY_WORKER, StaffRole.PROVIDER_ADMIN, StaffRole.ADMIN}),
    "provider_pages.queue",
    needs_provider=True,
)
STUDIO = StaffArea(
    "the coordinators' studio",
    "coordinators and admins",
    frozenset({StaffRole.COORDINATOR, StaffRole.ADMIN}),
    "studio.index",
)
PARTNERSHIP = StaffArea(
    "the partnership's report",
    "commissioners and admins",
    frozenset({StaffRole.COMMISSIONER, StaffRole.ADMIN}),
    "partnership.partnership",
)
ADMIN_PAGES = StaffArea(
    "administration",
    "admins, and provider admins for their own provider's people",
    frozenset({StaffRole.PROVIDER_ADMIN, StaffRole.ADMIN}),
    "admin.index",
)
AREAS = (STUDIO, PROVIDER_PAGES, PARTNERSHIP, ADMIN_PAGES)  # in this order, the page a person lands on after logging in
PROVIDER_ADMINS = frozenset({StaffRole.PROVIDER_ADMIN, StaffRole.ADMIN})  # may change a provider's set-up
# A provider's reports: for its admins and managers, not every duty worker.
PROVIDER_REPORTS = StaffArea(
    "the provider's reports", "a provider's admins", PROVIDER_ADMINS, "provider_pages.reports", needs_provider=True
)


def home(person: Staff) -> str:
    """The first page of the first part of the site this person may use."""
    area = next((area for area in AREAS if area.admits(person)), PROVIDER_PAGES)
    return url_for(area.home)


def _now() -> float:
    return current_app.extensions["rhi.runtime"].clock().timestamp()


@login_manager.user_loader
def _load(login_id: str) -> Staff | None:
    if _now() - session.get(_LOGGED_IN_AT, 0) > SESSION_LIFETIME.total_seconds():
        return None
    user_id, _, generation = login_id.partition(".")
    if not (user_id.isdigit() and generation.isdigit()):
        return None  # a cookie from before logins had generations: log in again
    with current_app.extensions["rhi.runtime"].session() as db:
        user = db.get(StaffUser, int(user_id))
        if user is None or not user.active or user.session_generation != int(generation):
            return None
        return Staff.of(user)


@login_manager.unauthorized_handler
def _log_in_first() -> Any:
    if request.is_json:
        return jsonify(error="You are not logged in. Log in again in another tab, then try again."), 401
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("staff.login", next=target))


def refusal(area: StaffArea) -> Any | None:
    """None when the person logged in may use ``area``; else the way to the login page, or a 403 page."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.must_change_password:
        if request.is_json:
            return jsonify(error="Choose your own password first, at /password."), 403
        return redirect(url_for("staff.password"))
    if current_user.must_enrol:
        if request.is_json:
            return jsonify(error="Set up two-factor sign-in first, at /two-factor."), 403
        return redirect(url_for("staff.two_factor_setup"))
    if area.admits(current_user):
        return None
    if request.is_json:
        return jsonify(error=f"{area.name.capitalize()} is for {area.who}."), 403
    elsewhere = [(other.name, url_for(other.home)) for other in AREAS if other != area and other.admits(current_user)]
    page = render_template("staff/forbidden.html", area=area, person=current_user, elsewhere=elsewhere)
    return page, 403


def required(area: StaffArea) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view only a person who may use ``area`` reaches."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            refused = refusal(area)
            return refused if refused is not None else view(*args, **kwargs)

        return wrapped

    return decorator


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site (``/studio/texts/``), else None: a login never leads elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or len(target) > 2000:
        return None
    if "\\" in target or any(ord(character) < 32 for character in target):  # browsers read "/\\" as "//"
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


# --- the pages -----------------------------------------------------------------------------------------


@limiter.request_filter
def _not_the_login() -> bool:
    """Only the login is limited: every other request (a text arriving, a page) skips the limiter's checks."""
    return request.endpoint != "staff.login"


def _login_limit() -> str:
    return current_app.config.get("RHI_LOGIN_LIMIT", LOGIN_LIMIT)


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _too_many_tries(limit: RequestLimit) -> Response:
    return make_response(_login_page(error=TOO_MANY_TRIES), 429)


def _login_page(**context: Any) -> str:
    context.setdefault("next", safe_next(request.values.get("next")))
    return render_template("staff/login.html", **context)


@staff.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed, on_breach=_too_many_tries)
def login() -> Any:
    if request.method == "GET":
        return _login_page()
    email = request.form.get("email", "")[:254]
    password = request.form.get("password", "")[:200]
    runtime = current_app.extensions["rhi.runtime"]
    try:
        user = check_login(runtime.session, email, password, runtime.clock())
    except LoginWait:
        # Not counted against the address (only a 401 is): the password was not even checked.
        return _login_page(error=WAIT_FOR_EMAIL, email=email), 429
    if user is None:
        # The same words whether the email is unknown or the password wrong.
        return _login_page(error=WRONG_LOGIN, email=email), 401
    if two_factor.is_enrolled(user):
        # Not logged in yet: the cookie only says whose code to ask for, for a few minutes.
        session.clear()
        session[_PENDING] = {"id": user.id, "generation": user.session_generation, "at": _now(),
                             "next": safe_next(request.form.get("next"))}  # fmt: skip
        return redirect(url_for("staff.second_factor"))
    return _logged_in(Staff.of(user), safe_next(request.form.get("next")))


def _logged_in(person: Staff, target: str | None) -> Any:
    _start(person)
    if person.must_change_password:
        return redirect(url_for("staff.password"))
    if person.must_enrol:
        return redirect(url_for("staff.two_factor_setup"))
    return redirect(target or home(person))


@staff.route("/login/code", methods=["GET", "POST"])
def second_factor() -> Any:
    """The second step of a login: a code from their authenticator app, or a recovery code."""
    pending = session.get(_PENDING)
    if not pending or _now() - pending["at"] > PENDING_LIFETIME.total_seconds():
        session.pop(_PENDING, None)
        return redirect(url_for("staff.login"))
    if request.method == "GET":
        return render_template("staff/code.html")
    runtime = current_app.extensions["rhi.runtime"]
    now = runtime.clock()
    with runtime.session() as db, db.begin():
        take_write_lock(db)
        user = db.get(StaffUser, pending["id"])
        if user is None or not user.active or user.session_generation != pending["generation"]:
            session.pop(_PENDING, None)
            return redirect(url_for("staff.login"))
        if login_wait(db, user.email, now) is not None:
            return render_template("staff/code.html", error=WAIT_FOR_EMAIL), 429
        right = two_factor.check_second_factor(user, request.form.get("code", "")[:64], now)
        if not right:
            count_failed_login(db, user.email, now)
        person = Staff.of(user)
    if not right:
        return render_template("staff/code.html", error=WRONG_CODE), 401
    return _logged_in(person, pending.get("next"))


@staff.route("/two-factor", methods=["GET", "POST"])
def two_factor_setup() -> Any:
    """Set up two-factor sign-in: the key for an authenticator app, then a code from it; recovery codes once."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    runtime = current_app.extensions["rhi.runtime"]
    with runtime.session() as db, db.begin():
        take_write_lock(db)
        user = db.get(StaffUser, current_user.id)
        if two_factor.is_enrolled(user):
            left = len(user.recovery_code_hashes or [])
            return render_template("staff/two_factor.html", enrolled=True, recovery_left=left)
        uri = two_factor.start_enrolment(user)
        key = user.totp_secret
        codes = None
        if request.method == "POST":
            codes = two_factor.confirm_enrolment(user, request.form.get("code", "")[:64], runtime.clock())
    qr_code = _qr_code(uri)
    if request.method == "POST" and codes is None:
        return render_template("staff/two_factor.html", uri=uri, key=key, qr_code=qr_code, error=WRONG_CODE), 400
    return render_template(
        "staff/two_factor.html", uri=uri, key=key, qr_code=qr_code, recovery_codes=codes, enrolled=codes is not None
    )


def _qr_code(uri: str) -> Markup:
    """The key as a QR code for the phone's camera: segno's SVG, inline in the page (no image file to serve and
    nothing for the content security policy to allow); the key stays written out beside it."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, svgid="totp-qr", title="The key as a QR code")
    return Markup(svg)


def _start(person: Staff) -> None:
    session.clear()  # nothing from before the login carries over (nor the CSRF token)
    login_user(person)
    session[_LOGGED_IN_AT] = _now()


@staff.post("/logout")
def logout() -> Any:
    if current_user.is_authenticated:
        # Every copy of this person's login ends, not just this browser's: a copied cookie is useless after.
        with current_app.extensions["rhi.runtime"].session() as db, db.begin():
            user = db.get(StaffUser, current_user.id)
            if user is not None:
                end_sessions(user)
    logout_user()
    session.clear()
    flash("You are logged out.", "done")
    return redirect(url_for("staff.login"))


@staff.route("/password", methods=["GET", "POST"])
def password() -> Any:
    """A new password for the person logged in. It ends their other logins; this one goes on."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if request.method == "GET":
        return render_template("staff/password.html", min_length=MIN_PASSWORD_LENGTH)
    runtime = current_app.extensions["rhi.runtime"]
    with runtime.session() as db, db.begin():
        take_write_lock(db)
        user = db.get(StaffUser, current_user.id)
        problem = change_password(
            db,
            user,
            request.form.get("current_password", "")[:200],
            request.form.get("new_password", "")[:200],
            request.form.get("new_password_again", "")[:200],
            runtime.clock(),
        )
        person = Staff.of(user)
    if problem is not None:
        return render_template("staff/password.html", min_length=MIN_PASSWORD_LENGTH, problem=problem), 400
    _start(person)  # this browser, in the new generation
    flash(PASSWORD_CHANGED, "done")
    return redirect(home(person))


@staff.after_request
def _headers(response: Response) -> Response:
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _expired(error: CSRFError) -> Any:
    if request.is_json:
        return jsonify(error=EXPIRED), 400
    return render_template("staff/expired.html"), 400


def _check_csrf() -> None:
    if not request.path.startswith(CSRF_EXEMPT_PATHS):
        csrf.protect()


# --- the session cookie ---------------------------------------------------------------------------------


class SealedCookie:
    """The session as a Fernet token: encrypted and authenticated (Flask's own cookie is only signed, and shows
    whom it is for to anyone who base64-decodes it). Keyed by HKDF from the app's secret key."""

    def __init__(self, secret_key: str | bytes, serializer: TaggedJSONSerializer) -> None:
        secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"rhi staff session cookie").derive(secret)
        self.fernet = Fernet(base64.urlsafe_b64encode(key))
        self.serializer = serializer

    def dumps(self, data: dict[str, Any]) -> str:
        return self.fernet.encrypt(self.serializer.dumps(data).encode()).decode("ascii")

    def loads(self, value: str, max_age: int | None = None) -> Any:
        try:
            return self.serializer.loads(self.fernet.decrypt(value, ttl=max_age))
        except InvalidToken as exc:
            raise BadSignature("not a session cookie of this site") from exc  # Flask then starts a new session


@functools.lru_cache(maxsize=4)
def _sealed_cookie(secret_key: str | bytes, serializer: TaggedJSONSerializer) -> SealedCookie:
    return SealedCookie(secret_key, serializer)


class StaffSessionInterface(SecureCookieSessionInterface):
    """Session cookies are encrypted (``SealedCookie``), Secure and SameSite=Lax; only the demo, on plain HTTP
    on this machine, goes without Secure (a browser would not send the cookie back otherwise).
    SESSION_COOKIE_SECURE, when an app sets it, still makes every cookie Secure."""

    def __init__(self, public_base_url: str | None) -> None:
        self.public_base_url = public_base_url or ""

    def get_signing_serializer(self, app: Flask) -> SealedCookie | None:  # type: ignore[override]
        if not app.secret_key:
            return None
        return _sealed_cookie(app.secret_key, self.serializer)

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


def init_app(app: Flask, settings: Settings) -> None:
    """The login, CSRF protection, login limit and session cookie, for every page of ``app``."""
    if not app.config.get("SECRET_KEY"):
        # The demo has no RHI_SECRET_KEY: a key for this process only (logins end when it stops).
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.session_interface = StaffSessionInterface(settings.public_base_url)
    app.config.update(
        WTF_CSRF_CHECK_DEFAULT=False,  # checked by _check_csrf, which knows the exempt paths
        WTF_CSRF_HEADERS=["X-CSRFToken"],
        WTF_CSRF_TIME_LIMIT=int(SESSION_LIFETIME.total_seconds()),  # a page open all day still works
    )
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.redis_url or "memory://")
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    app.before_request(_check_csrf)
    app.register_error_handler(CSRFError, _expired)
    app.register_blueprint(staff)
