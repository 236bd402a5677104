"""The duty worker's pages beside the queue: a person's page (the conversation, alerts with what to do now,
referrals, bookings, notes, the message form), the alerts' checklists, and a closed day's bookings.

HTTP only: the rules, and the record of who did what, are in ``bot/providers/``. A person another provider
serves is 404, exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from bot.admin import audit
from bot.alerts.checklists import builtin_checklists, checklist_for, checklist_lines
from bot.providers import actions as provider_actions
from bot.providers import closures, people
from bot.providers import queue as provider_queue
from bot.providers.actions import NotFound
from bot.safeguarding.categories import CATEGORIES, CATEGORY_WORDS
from models import PlaceKind, Provider
from models.db import take_write_lock
from webhooks.provider_pages.common import act_then_back, login_required, provider_pages, runtime
from webhooks.staff_login import PROVIDER_ADMINS


@provider_pages.get("/people/<int:person_id>")
@login_required
def person(person_id: int) -> Any:
    now = runtime().clock()
    try:
        with runtime().session() as db:
            detail = people.person_detail(db, g.actor.provider_id, person_id, now, runtime().timezone)
            unread = people.has_unread(db, g.actor.provider_id, person_id)
    except NotFound:
        abort(404)
    # Written after the reading, in one short transaction: a writer's transaction starts with its lock.
    with runtime().session() as db, db.begin():
        audit.record(db, now, g.actor.label, audit.Action.VIEWED, "a person's page", contact_id=person_id,
                     provider_id=g.actor.provider_id)  # fmt: skip
        if unread:
            people.mark_conversation_read(db, g.actor.provider_id, person_id, now)
    return render_template("provider/person.html", person=detail, now=now, place_kinds=[k.value for k in PlaceKind])


def _on_person_page(person_id: int, action: Callable[[Any], str]) -> Any:
    return act_then_back(action, url_for("provider_pages.person", person_id=person_id))


@provider_pages.post("/people/<int:person_id>/message")
@login_required
def message_person(person_id: int) -> Any:
    def action(db: Any) -> str:
        told = provider_actions.message_person(
            db, runtime(), g.actor, person_id, request.form.get("text", ""), runtime().clock()
        )
        if told.young_person_told:
            return "Message sent. Their reply will show here."
        return f"Message NOT sent: {told.reason}."

    return _on_person_page(person_id, action)


@provider_pages.post("/people/<int:person_id>/notes")
@login_required
def add_note(person_id: int) -> Any:
    def action(db: Any) -> str:
        provider_actions.add_note(db, g.actor, person_id, request.form.get("text", ""), runtime().clock())
        return "Note added."

    return _on_person_page(person_id, action)


def _person_of_alert(alert_id: int) -> int:
    """Whose alert this is (404 for another provider's): its actions say what happened on their page."""
    with runtime().session() as db:
        try:
            return provider_actions.find_escalation(db, g.actor.provider_id, alert_id).contact_id
        except NotFound:
            abort(404)


@provider_pages.post("/alerts/<int:alert_id>/tick")
@login_required
def tick(alert_id: int) -> Any:
    def action(db: Any) -> str:
        ticked = request.form.get("ticked") == "yes"
        item = request.form.get("item", "")
        provider_actions.tick_checklist(db, g.actor, alert_id, item, ticked, runtime().clock())
        return f"Ticked: {item}" if ticked else f"Unticked: {item}"

    return _on_person_page(_person_of_alert(alert_id), action)


@provider_pages.post("/alerts/<int:alert_id>/done")
@login_required
def alert_done(alert_id: int) -> Any:
    def action(db: Any) -> str:
        provider_actions.finish_alert(db, g.actor, alert_id, runtime().clock())
        return "Alert marked done: it has left the In progress list."

    return _on_person_page(_person_of_alert(alert_id), action)


# --- what to do now: the checklists a provider admin edits --------------------------------------------------


@provider_pages.get("/checklists")
@login_required
def checklists() -> Any:
    with runtime().session() as db:
        provider = db.get(Provider, g.actor.provider_id)
        lists = {category: checklist_for(provider, category) for category in CATEGORIES}
        own = set((provider.alert_checklists or {}) if provider else {})
    return render_template(
        "provider/checklists.html",
        lists=lists,
        own=own,
        words=CATEGORY_WORDS,
        may_change=current_user.role in PROVIDER_ADMINS,
        error=None,
    )


@provider_pages.post("/checklists")
@login_required
def change_checklists() -> Any:
    if current_user.role not in PROVIDER_ADMINS:
        return render_template("provider/forbidden.html"), 403
    builtin = builtin_checklists()
    own: dict[str, list[str]] = {}
    for category in CATEGORIES:
        try:
            lines = checklist_lines(request.form.get(category, ""))
        except ValueError as exc:
            flash(f"{CATEGORY_WORDS[category]}: {exc}", "error")
            return redirect(url_for("provider_pages.checklists"), code=303)
        if lines and tuple(lines) != builtin[category]:
            own[category] = lines  # an empty or unchanged list is the built-in one
    with runtime().session() as db, db.begin():
        take_write_lock(db)
        db.get(Provider, g.actor.provider_id).alert_checklists = own or None
    flash("Checklists saved.", "done")
    return redirect(url_for("provider_pages.checklists"), code=303)


# --- a closed day's bookings ----------------------------------------------------------------------------------


@provider_pages.get("/closed-days/<int:exception_id>")
@login_required
def closed_day(exception_id: int) -> Any:
    with runtime().session() as db:
        try:
            closure = closures.find_closure(db, g.actor.provider_id, exception_id)
        except NotFound:
            abort(404)
        bookings = closures.bookings_on_closure(db, g.actor.provider_id, closure, runtime().timezone)
        day = closure.day
        worker = closure.worker.display_name if closure.worker else None
        hours = (closure.starts, closure.ends)
        workers = provider_queue.workers(db, g.actor.provider_id)
    return render_template("provider/closed_day.html", exception_id=exception_id, bookings=bookings, day=day,
                           worker=worker, hours=hours, workers=workers)  # fmt: skip
