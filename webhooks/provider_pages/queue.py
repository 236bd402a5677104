"""The provider queue pages, ``/provider/``: a duty worker's view of alerts and requests, and their actions.

Staff log in once for every staff page, at ``/login`` (``webhooks/staff_login.py``: the password check and
lock, the per-address limit, CSRF on every form, the session cookie); these pages need a provider's duty
worker or admin. A staff member only ever sees their own provider's referrals: another's is 404, exactly
like one that does not exist. The rules live in ``bot/``; this module is HTTP only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import (
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from bot.admin import audit
from bot.providers import actions as provider_actions
from bot.providers import queue as provider_queue
from bot.providers.actions import Invalid, NotFound
from bot.providers.record import DELAY_WORDS, OUTCOME_WORDS
from bot.routing import deployment_areas
from models import PlaceKind
from webhooks.provider_pages.common import act_then_back, back_or, login_required, provider_pages, runtime

LANGUAGES = {"en": "English", "cy": "Cymraeg"}
PAGE_SIZE = 50  # requests a page shows; the next ones are a link away


def _areas() -> list[Any]:
    with runtime().session() as db:
        return deployment_areas(db)


def _queue_filters() -> dict[str, Any]:
    """What the worker asked to see: which requests, searched and filtered (unknown values are ignored)."""
    show = request.args.get("show", "active")
    filters: dict[str, Any] = {"at_risk": True} if show == "at_risk" else {}
    if show == "all":
        filters["statuses"] = ["open", "booking_requested", "booked", "declined", "closed"]
    if request.args.get("q", "").strip():
        filters["search"] = request.args["q"].strip()[:100]
    if request.args.get("area") in {area.key for area in _areas()}:
        filters["area"] = request.args["area"]
    if request.args.get("language") in LANGUAGES:
        filters["language"] = request.args["language"]
    if request.args.get("mine") and g.actor.staff_id:
        filters["assigned_staff_id"] = g.actor.staff_id
    if request.args.get("today"):
        filters["booked_today_unconfirmed"] = runtime().timezone
    return filters


@provider_pages.get("/")
@login_required
def queue() -> Any:
    show = request.args.get("show", "active")
    now = runtime().clock()
    raw_offset = request.args.get("from", "0")
    offset = min(int(raw_offset), 1_000_000) if raw_offset.isdigit() else 0
    with runtime().session() as db:
        provider_id = g.actor.provider_id
        areas = deployment_areas(db)
        alerts = provider_queue.open_alerts(db, provider_id)
        in_progress = provider_queue.in_progress(db, provider_id)
        unread = provider_queue.to_read(db, provider_id)
        dead = provider_queue.dead_letters(db, provider_id)
        referrals = provider_queue.list_queue(
            db, provider_id, now, limit=PAGE_SIZE + 1, offset=offset, **_queue_filters()
        )
    return render_template(
        "provider/queue.html",
        alerts=alerts,
        in_progress=in_progress,
        unread=unread,
        dead=dead,
        referrals=referrals[:PAGE_SIZE],
        more=len(referrals) > PAGE_SIZE,
        next_from=offset + PAGE_SIZE,
        show=show,
        now=now,
        areas=areas,
        languages=LANGUAGES,
        asked=request.args,
    )


@provider_pages.get("/referrals/<int:referral_id>")
@login_required
def referral(referral_id: int) -> Any:
    now = runtime().clock()
    with runtime().session() as db:
        try:
            detail = provider_queue.referral_detail(db, g.actor.provider_id, referral_id, now, runtime().timezone)
        except NotFound:
            abort(404)
        workers = provider_queue.workers(db, g.actor.provider_id)
    with runtime().session() as db, db.begin():  # after the reading: a writer's transaction starts with its lock
        audit.record(db, now, g.actor.label, audit.Action.VIEWED, f"referral {referral_id}",
                     contact_id=detail["person_id"], provider_id=g.actor.provider_id)  # fmt: skip
    return render_template(
        "provider/referral.html",
        referral=detail,
        workers=workers,
        place_kinds=[kind.value for kind in PlaceKind],
        outcomes=OUTCOME_WORDS,
        delay_reasons=DELAY_WORDS,
        now=now,
    )


# --- actions -------------------------------------------------------------------------------------------


def _act(referral_id: int, action: Callable[[Any], str]) -> Any:
    return act_then_back(action, url_for("provider_pages.referral", referral_id=referral_id))


def _form_int(name: str) -> int | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise Invalid(name, "choose from the list")
    return int(raw)


def _form_time(name: str) -> datetime | None:
    """A day and a time chosen from the lists (``<name>_day``, ``<name>_time``), or one ISO 8601 field, read in
    the service's time zone."""
    raw = request.form.get(name, "").strip()
    day, clock = request.form.get(f"{name}_day", "").strip(), request.form.get(f"{name}_time", "").strip()
    if day or clock:
        if not (day and clock):
            raise Invalid(name, "choose both a day and a time")
        raw = f"{day}T{clock}"
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise Invalid(name, "give a date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=runtime().timezone)


def _why() -> str | None:
    """Why a booking is moved or cancelled, for the record (a closed day), from the page that asked."""
    return request.form.get("why", "").strip()[:100] or None


def _told_words(told: provider_actions.Told, done: str) -> str:
    if told.young_person_told:
        return f"{done} The young person is being told."
    return f"{done} The young person was NOT told: {told.reason}."


@provider_pages.post("/referrals/<int:referral_id>/assign")
@login_required
def assign(referral_id: int) -> Any:
    def action(db: Any) -> str:
        referral = provider_actions.assign_worker(db, g.actor, referral_id, _form_int("worker_id"), runtime().clock())
        return "Worker assigned." if referral.assigned_worker_id else "Nobody is assigned now."

    return _act(referral_id, action)


@provider_pages.post("/referrals/<int:referral_id>/confirm")
@login_required
def confirm(referral_id: int) -> Any:
    def action(db: Any) -> str:
        _, told = provider_actions.confirm_booking(
            db,
            runtime(),
            g.actor,
            referral_id,
            runtime().clock(),
            booking_id=_form_int("booking_id"),
            starts_at=_form_time("starts_at"),
            worker_id=_form_int("worker_id"),
            place_kind=request.form.get("place_kind") or None,
            delay_reason=request.form.get("delay_reason") or None,
        )
        return _told_words(told, "Booking confirmed.")

    return _act(referral_id, action)


@provider_pages.post("/referrals/<int:referral_id>/booking/cancel")
@login_required
def cancel_booking(referral_id: int) -> Any:
    def action(db: Any) -> str:
        _, told = provider_actions.cancel_booking(
            db, runtime(), g.actor, referral_id, runtime().clock(), booking_id=_form_int("booking_id"), why=_why()
        )
        return _told_words(told, "Booking cancelled; the time is free again.")

    return _act(referral_id, action)


@provider_pages.post("/referrals/<int:referral_id>/booking/move")
@login_required
def move_booking(referral_id: int) -> Any:
    def action(db: Any) -> str:
        _, told = provider_actions.move_booking(
            db,
            runtime(),
            g.actor,
            referral_id,
            runtime().clock(),
            booking_id=_form_int("booking_id"),
            starts_at=_form_time("starts_at"),
            worker_id=_form_int("worker_id"),
            place_kind=request.form.get("place_kind") or None,
            why=_why(),
        )
        return _told_words(told, "Booking moved.")

    return _act(referral_id, action)


@provider_pages.post("/referrals/<int:referral_id>/offered-by-phone")
@login_required
def offered_by_phone(referral_id: int) -> Any:
    def action(db: Any) -> str:
        provider_actions.record_phone_offer(
            db, g.actor, referral_id, runtime().clock(), offered_at=_form_time("offered_at")
        )
        return "Phone offer recorded."

    return _act(referral_id, action)


@provider_pages.post("/referrals/<int:referral_id>/propose")
@login_required
def propose(referral_id: int) -> Any:
    def action(db: Any) -> str:
        starts_at = _form_time("starts_at")
        if starts_at is None:
            raise Invalid("starts_at", "give the date and time you suggest")
        told = provider_actions.propose_time(
            db,
            runtime(),
            g.actor,
            referral_id,
            runtime().clock(),
            starts_at=starts_at,
            worker_id=_form_int("worker_id"),
            place_kind=request.form.get("place_kind") or None,
            delay_reason=request.form.get("delay_reason") or None,
        )
        return _told_words(told, "New time suggested.")

    return _act(referral_id, action)


@provider_pages.post("/referrals/<int:referral_id>/outcome")
@login_required
def outcome(referral_id: int) -> Any:
    def action(db: Any) -> str:
        provider_actions.record_outcome(
            db,
            g.actor,
            referral_id,
            runtime().clock(),
            outcome=request.form.get("outcome", ""),
            follow_up_needed=request.form.get("follow_up_needed"),
            follow_up_provided=request.form.get("follow_up_provided"),
        )
        return "Outcome recorded; the referral is closed."

    return _act(referral_id, action)


@provider_pages.post("/referrals/<int:referral_id>/message")
@login_required
def message(referral_id: int) -> Any:
    def action(db: Any) -> str:
        told = provider_actions.send_message(
            db, runtime(), g.actor, referral_id, request.form.get("text", ""), runtime().clock()
        )
        return _told_words(told, "Message sent.")

    return _act(referral_id, action)


@provider_pages.post("/alerts/<int:alert_id>/acknowledge")
@login_required
def acknowledge(alert_id: int) -> Any:
    try:
        with runtime().session() as db, db.begin():
            provider_actions.acknowledge_alert(db, g.actor, alert_id, runtime().clock())
    except NotFound:
        abort(404)
    flash("Alert acknowledged: you have it, and its referral is assigned to you.", "done")
    return redirect(back_or(url_for("provider_pages.queue")), code=303)


@provider_pages.post("/to-read/<int:item_id>/read")
@login_required
def mark_read(item_id: int) -> Any:
    try:
        with runtime().session() as db, db.begin():
            provider_actions.mark_read(db, g.actor, item_id, runtime().clock())
    except NotFound:
        abort(404)
    flash("Marked as read.", "done")
    return redirect(url_for("provider_pages.queue"), code=303)


# --- templates -----------------------------------------------------------------------------------------
