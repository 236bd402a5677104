"""Provider pages for setting up booking, on the ``/provider/`` blueprint: workers, places, a worker's weekly
hours, closed days and other exceptions, booking settings, and the times all that offers.

Login, session and CSRF are ``webhooks/staff_login.py``'s; the Content-Security-Policy is
``webhooks/provider.py``'s (these routes join its blueprint). Anyone at the provider may look; only a
provider admin (or an admin linked to the provider) may change anything. A form with a
mistake comes back with what was typed and a message saying what to fix; the rules themselves live in
``bot/provider_setup.py``. Times are the service's local time (Europe/London).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from bot.providers.actions import Invalid, NotFound
from bot.providers.closures import bookings_on_closure
from bot.providers.setup import (
    BOOKING_SETTINGS,
    WEEKDAYS,
    WORKER_LANGUAGES,
    ProviderSetup,
    line_view,
    time_words,
)
from models import Gender, PlaceKind
from webhooks.provider_pages.common import login_required, provider_pages, runtime
from webhooks.staff_login import PROVIDER_ADMINS

# How far ahead the times page looks.
SLOTS_PAGE_DAYS = 14
FIELD_LABELS = {
    "name": "Name",
    "languages": "Languages",
    "gender": "Gender",
    "areas": "Areas",
    "kind": "Kind",
    "area": "Area",
    "weekday": "Day",
    "starts": "From",
    "ends": "To",
    "place_id": "Place",
    "day": "Day",
    "worker_id": "Who",
    "note": "Note",
    "slot_minutes": "Interview length",
    "buffer_minutes": "Gap between interviews",
    "minimum_notice_minutes": "Minimum notice",
    "booking_horizon_days": "How far ahead",
    "review_within_minutes": "Unread messages",
    "opens_at": "Opens at",
    "closes_at": "Closes at",
}


def _may_change() -> bool:
    return current_user.role in PROVIDER_ADMINS


def _setup(db: Any, *, change: bool = False) -> ProviderSetup:
    return ProviderSetup(db, g.actor.provider_id, runtime().clock(), runtime().timezone, change=change)


def _slot_words(setup: ProviderSetup) -> str:
    changes = setup.slot_changes
    parts = []
    if changes.added:
        parts.append(f"{changes.added} new time{'s' if changes.added != 1 else ''} offered")
    if changes.removed:
        parts.append(f"{changes.removed} open time{'s' if changes.removed != 1 else ''} no longer offered")
    if changes.updated:
        parts.append(f"{changes.updated} changed")
    return f" {', '.join(parts).capitalize()}." if parts else ""


def _change(action: Callable[[ProviderSetup], str | tuple[str, str]], page: Callable[..., Any], done_url: str) -> Any:
    """Run a change in one transaction: on success say what happened (and go to ``done_url``, or the page the
    action names); on a mistake show the form again."""
    if not _may_change():
        return render_template("provider/forbidden.html"), 403
    try:
        with runtime().session() as db, db.begin():
            setup = _setup(db, change=True)
            done = action(setup)
            message, done_url = done if isinstance(done, tuple) else (done, done_url)
            message += _slot_words(setup)
    except NotFound:
        abort(404)
    except Invalid as exc:
        field = exc.field.rsplit(".", 1)[-1]
        return page(error={"field": field, "label": FIELD_LABELS.get(field, field), "message": str(exc)}), 422
    flash(message, "done")
    return redirect(done_url, code=303)


def _checked(name: str) -> bool:
    return request.form.get(name) in ("on", "yes", "true", "1")


def _optional_id(name: str) -> int | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise Invalid(name, "choose from the list")
    return int(raw)


def _common() -> dict[str, Any]:
    return {
        "may_change": _may_change(),
        "weekdays": WEEKDAYS,
        "place_kinds": [kind.value for kind in PlaceKind],
        "genders": [gender.value for gender in Gender],
        "languages": WORKER_LANGUAGES,
        "time_words": time_words,
        "form": request.form,  # what was typed, to show again beside a mistake (empty on a GET)
    }


# --- workers -------------------------------------------------------------------------------------------


def _workers_page(error: dict[str, str] | None = None) -> str:
    with runtime().session() as db:
        setup = _setup(db)
        return render_template(
            "provider/workers.html",
            workers=setup.workers(),
            provider_areas=list(setup.provider.areas or []),
            error=error,
            **_common(),
        )


@provider_pages.get("/workers")
@login_required
def workers() -> Any:
    return _workers_page()


def _worker_fields() -> dict[str, Any]:
    return {
        "name": request.form.get("name", ""),
        "languages": request.form.getlist("languages"),
        "gender": request.form.get("gender") or None,
        "areas": request.form.getlist("areas"),
        "active": _checked("active"),
    }


@provider_pages.post("/workers")
@login_required
def add_worker() -> Any:
    def action(setup: ProviderSetup) -> tuple[str, str]:
        worker = setup.add_worker(**_worker_fields())
        return f"{worker.display_name} added: now give them weekly hours.", url_for(
            "provider_pages.worker", worker_id=worker.id
        )

    return _change(action, _workers_page, url_for("provider_pages.workers"))


def _worker_page(worker_id: int, error: dict[str, str] | None = None) -> str:
    with runtime().session() as db:
        setup = _setup(db)
        try:
            worker = setup.worker(worker_id)
        except NotFound:
            abort(404)
        now = setup.now
        today = now.astimezone(setup.timezone).date()
        slots = [
            slot
            for slot in setup.slots(today, today + timedelta(days=SLOTS_PAGE_DAYS))
            if slot.worker_id == worker.id and slot.starts_at > now
        ]
        return render_template(
            "provider/worker.html",
            worker=worker,
            lines=[line_view(line) for line in setup.weekly(worker.id)],
            places={place.id: place for place in setup.places()},
            provider_areas=list(setup.provider.areas or []),
            slots=slots,
            slots_days=SLOTS_PAGE_DAYS,
            error=error,
            **_common(),
        )


@provider_pages.get("/workers/<int:worker_id>")
@login_required
def worker(worker_id: int) -> Any:
    return _worker_page(worker_id)


@provider_pages.post("/workers/<int:worker_id>")
@login_required
def change_worker(worker_id: int) -> Any:
    def action(setup: ProviderSetup) -> str:
        worker = setup.change_worker(worker_id, _worker_fields())
        return f"{worker.display_name} saved{'' if worker.active else ' (not active: no new times)'}."

    return _change(action, partial(_worker_page, worker_id), url_for("provider_pages.worker", worker_id=worker_id))


@provider_pages.post("/workers/<int:worker_id>/hours")
@login_required
def add_hours(worker_id: int) -> Any:
    def action(setup: ProviderSetup) -> str:
        line = setup.add_weekly_line(
            worker_id,
            {
                "weekday": request.form.get("weekday", ""),
                "starts": request.form.get("starts", ""),
                "ends": request.form.get("ends", ""),
                "place_id": _optional_id("place_id"),
            },
        )
        return f"Added {WEEKDAYS[line.weekday]}s {time_words(line.starts)} to {time_words(line.ends)}."

    return _change(action, partial(_worker_page, worker_id), url_for("provider_pages.worker", worker_id=worker_id))


@provider_pages.post("/workers/<int:worker_id>/hours/<int:line_id>/remove")
@login_required
def remove_hours(worker_id: int, line_id: int) -> Any:
    def action(setup: ProviderSetup) -> str:
        setup.remove_weekly_line(worker_id, line_id)
        return "Weekly hours removed."

    return _change(action, partial(_worker_page, worker_id), url_for("provider_pages.worker", worker_id=worker_id))


# --- places --------------------------------------------------------------------------------------------


def _places_page(error: dict[str, str] | None = None) -> str:
    with runtime().session() as db:
        setup = _setup(db)
        return render_template(
            "provider/places.html",
            places=setup.places(),
            provider_areas=list(setup.provider.areas or []),
            error=error,
            **_common(),
        )


def _place_fields() -> dict[str, Any]:
    return {
        "kind": request.form.get("kind", ""),
        "name": request.form.get("name", ""),
        "area": request.form.get("area") or None,
        "neutral": _checked("neutral"),
        "accessible": _checked("accessible"),
        "active": _checked("active"),
    }


@provider_pages.get("/places")
@login_required
def places() -> Any:
    return _places_page()


@provider_pages.post("/places")
@login_required
def add_place() -> Any:
    def action(setup: ProviderSetup) -> str:
        return f"{setup.add_place(**_place_fields()).name} added."

    return _change(action, _places_page, url_for("provider_pages.places"))


@provider_pages.post("/places/<int:place_id>")
@login_required
def change_place(place_id: int) -> Any:
    def action(setup: ProviderSetup) -> str:
        place = setup.change_place(place_id, _place_fields())
        return f"{place.name} saved{'' if place.active else ' (not in use)'}."

    return _change(action, _places_page, url_for("provider_pages.places"))


# --- exceptions and closed days --------------------------------------------------------------------------


def _exceptions_page(error: dict[str, str] | None = None) -> str:
    with runtime().session() as db:
        setup = _setup(db)
        today = setup.now.astimezone(setup.timezone).date()
        return render_template(
            "provider/exceptions.html",
            exceptions=setup.exceptions(today, today + timedelta(days=365)),
            workers={worker.id: worker for worker in setup.workers()},
            error=error,
            **_common(),
        )


@provider_pages.get("/exceptions")
@login_required
def exceptions() -> Any:
    return _exceptions_page()


@provider_pages.post("/exceptions")
@login_required
def add_exception() -> Any:
    def action(setup: ProviderSetup) -> str:
        available = request.form.get("available") == "extra"
        exception = setup.add_exception(
            day=request.form.get("day", ""),
            worker_id=_optional_id("worker_id"),
            starts=request.form.get("starts") or None,  # no times: the whole day
            ends=request.form.get("ends") or None,
            available=available,
            note=request.form.get("note"),
        )
        kind = "Extra hours" if exception.available else "Closed"
        said = f"{kind} on {exception.day.strftime('%a %d %b %Y')} saved."
        if not exception.available and bookings_on_closure(setup.session, setup.provider.id, exception, setup.timezone):
            # The bookings already made that day are each moved or cancelled, with the young person told.
            return f"{said} It falls on booked chats: choose what to do with each.", url_for(
                "provider_pages.closed_day", exception_id=exception.id
            )
        return said

    return _change(action, _exceptions_page, url_for("provider_pages.exceptions"))


@provider_pages.post("/exceptions/<int:exception_id>/remove")
@login_required
def remove_exception(exception_id: int) -> Any:
    def action(setup: ProviderSetup) -> str:
        setup.remove_exception(exception_id)
        return "Removed: the usual weekly hours apply that day."

    return _change(action, _exceptions_page, url_for("provider_pages.exceptions"))


# --- booking settings and the times offered ----------------------------------------------------------------


def _settings_page(error: dict[str, str] | None = None) -> str:
    with runtime().session() as db:
        setup = _setup(db)
        return render_template(
            "provider/settings.html", provider=setup.provider, limits=BOOKING_SETTINGS, error=error, **_common()
        )


@provider_pages.get("/settings")
@login_required
def booking_settings() -> Any:
    return _settings_page()


@provider_pages.post("/settings")
@login_required
def change_booking_settings() -> Any:
    def action(setup: ProviderSetup) -> str:
        # a setting the form does not carry (a page from before it existed) stays as it is
        changes: dict[str, Any] = {name: request.form[name] for name in BOOKING_SETTINGS if name in request.form}
        changes["auto_confirm"] = _checked("auto_confirm")
        changes.update({name: request.form[name] for name in ("opens_at", "closes_at") if name in request.form})
        setup.change_booking_settings(changes)
        return "Booking settings saved."

    return _change(action, _settings_page, url_for("provider_pages.booking_settings"))


@provider_pages.get("/slots")
@login_required
def slots() -> Any:
    with runtime().session() as db:
        setup = _setup(db)
        today = setup.now.astimezone(setup.timezone).date()
        days: dict[str, list[Any]] = {}
        for slot in setup.slots(today, today + timedelta(days=SLOTS_PAGE_DAYS)):
            if slot.starts_at <= setup.now:
                continue
            days.setdefault(slot.starts_at.astimezone(setup.timezone).strftime("%A %d %B %Y"), []).append(slot)
        return render_template(
            "provider/slots.html",
            days=days,
            workers={worker.id: worker for worker in setup.workers()},
            places={place.id: place for place in setup.places()},
            timezone=setup.timezone,
            slots_days=SLOTS_PAGE_DAYS,
            **_common(),
        )
