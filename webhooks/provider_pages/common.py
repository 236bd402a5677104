"""The provider queue pages, ``/provider/``: a duty worker's view of alerts and requests, and their actions.

Staff log in once for every staff page, at ``/login`` (``webhooks/staff_login.py``: the password check and
lock, the per-address limit, CSRF on every form, the session cookie); these pages need a provider's duty
worker or admin. A staff member only ever sees their own provider's referrals: another's is 404, exactly
like one that does not exist. The rules live in ``bot/``; this module is HTTP only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
)
from flask_login import current_user

from bot.booking.guards import NIGHT_ENDS, NIGHT_STARTS
from bot.providers.actions import Actor, Conflict, Invalid, NotFound
from bot.providers.record import DELAY_WORDS, EVENT_WORDS, category_words, when_words
from bot.routing import area_names
from bot.runtime import Runtime
from models import Provider
from webhooks import staff_login

provider_pages = Blueprint(
    "provider_pages",
    __name__,
    url_prefix="/provider",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def runtime() -> Runtime:
    return current_app.extensions["rhi.runtime"]


# --- who is logged in ------------------------------------------------------------------------------------

# Every page needs a provider's login (webhooks/staff_login.py has the login, CSRF and session cookie).
login_required = staff_login.required(staff_login.PROVIDER_PAGES)


@provider_pages.before_request
def _load_staff() -> None:
    g.staff = None
    if current_user.is_authenticated and current_user.provider_id is not None:
        with runtime().session() as db:
            provider = db.get(Provider, current_user.provider_id)
        if provider is not None:
            g.staff = {"id": current_user.id, "email": current_user.email, "name": current_user.display_name,
                       "provider": provider.name}  # fmt: skip
            g.actor = Actor(provider_id=provider.id, label=current_user.email,
                            display_name=current_user.display_name, staff_id=current_user.id)  # fmt: skip


LIVE_HEADER = "X-RHI-Live"  # provider.js refreshing the page it is on: it must not take the page's flashes


@provider_pages.before_request
def _keep_flashes_from_live_refresh() -> None:
    if request.headers.get(LIVE_HEADER):
        g.kept_flashes = session.get("_flashes")


@provider_pages.after_request
def security_headers(response: Response) -> Response:
    if g.get("kept_flashes"):
        session["_flashes"] = g.kept_flashes
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if not request.path.startswith(f"{provider_pages.url_prefix}/static/"):
        response.headers["Cache-Control"] = "no-store"  # children's data must not sit in a browser cache
    return response


def back_or(default: str) -> str:
    """The page a form came from (its ``back`` field), if it is one of these pages; else ``default``."""
    back = request.form.get("back", "")
    parts = urlsplit(back)
    safe = not parts.scheme and not parts.netloc and back.startswith(f"{provider_pages.url_prefix}/")
    return back if safe else default


def act_then_back(action: Callable[[Any], str], page: str) -> Any:
    """Run an action in one transaction and say what happened, back on the page the form came from (else
    ``page``); another provider's (or no such) referral, person or alert is 404."""
    try:
        with runtime().session() as db, db.begin():
            flash(action(db), "done")
    except NotFound:
        abort(404)
    except Invalid as exc:
        flash(f"{exc.field.replace('_', ' ')}: {exc}", "error")
    except Conflict as exc:
        flash(str(exc), "error")
    return redirect(back_or(page), code=303)


# --- pages ---------------------------------------------------------------------------------------------


@provider_pages.context_processor
def _helpers() -> dict[str, Any]:
    """For these pages' templates only (other blueprints keep their own names)."""
    return {
        "local": _local,
        "category_words": category_words,
        "event_words": lambda kind: EVENT_WORDS.get(kind, kind),
        "delay_words": lambda reason: DELAY_WORDS.get(reason, "no reason recorded") if reason else "no reason recorded",
        "days": _days,
        "times_of_day": TIMES_OF_DAY,
        "countdown": _countdown,
        "words": _words,
        "area": area_name,
        "age": _age,
        "staff": g.get("staff"),
    }


AGE_BANDS = {"under_13": "12 or under", "age_13_15": "13 to 15", "age_16_17": "16 or 17", "age_18_plus": "18 or over"}


def _age(band: str | None) -> str:
    return AGE_BANDS.get(band or "", "not given")


def area_name(key: str | None) -> str:
    if not key:
        return "not given"
    with runtime().session() as db:
        return area_names(db, key)["en"]


def _local(moment: datetime | None) -> str:
    return when_words(moment, runtime().timezone)


# Date and time fields are lists to choose from, not the browser's own pickers, which show the browser's locale
# (mm/dd/yyyy and a 12-hour clock in many) and not the service's one format.
DAYS_AHEAD = 28
TIMES_OF_DAY = [
    f"{hour:02d}:{minute:02d}" for hour in range(NIGHT_ENDS.hour, NIGHT_STARTS.hour) for minute in (0, 15, 30, 45)
]


def _days() -> list[tuple[str, str]]:
    today = runtime().clock().astimezone(runtime().timezone).date()
    days = [today + timedelta(days=n) for n in range(DAYS_AHEAD)]
    return [(day.isoformat(), day.strftime("%a %d %b %Y")) for day in days]


def _countdown(seconds: int | None) -> str:
    if seconds is None:
        return "no deadline"
    late = seconds < 0
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = f"{days} d {hours} h" if days else f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return f"overdue by {parts}" if late else f"{parts} left"


def _words(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("_", " ")
