"""The admin pages. Each view asks ``bot.admin`` and shows what it answers; a refusal (``Refused``) is shown on
the page with 400 and nothing is changed. Everything a provider admin sees is scoped to their provider: another
provider's person or account is 404, as one that does not exist."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from bot.admin import Refused
from bot.admin.areas import all_areas, cover_areas, name_area, uncover_area
from bot.admin.audit import as_csv, entries
from bot.admin.providers import add_provider, all_providers, find_provider, make_default, rotate_credentials
from bot.admin.retention import RetentionPolicy
from bot.admin.staff import add_staff, all_staff, disable_staff, reset_staff, staff_role
from bot.admin.subject_access import Staff as Asker
from bot.admin.subject_access import erase_on_request, find_person, person_by_id, subject_access
from bot.runtime import Runtime
from models import StaffRole
from webhooks.staff_login import ADMIN_PAGES, required

admin = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


def runtime() -> Runtime:
    return current_app.extensions["rhi.runtime"]


def scope() -> int | None:
    """The provider a provider admin is limited to; None for an admin, who sees every provider."""
    return None if current_user.role == StaffRole.ADMIN else current_user.provider_id


def admins_only(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user.role != StaffRole.ADMIN:
            return render_template("staff/forbidden.html", area=ADMIN_PAGES, person=current_user, elsewhere=[]), 403
        return view(*args, **kwargs)

    return wrapped


@admin.before_request
@required(ADMIN_PAGES)
def _admins_and_provider_admins() -> None:
    return None


@admin.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # a child's data or a new secret must not sit in a cache
    return response


@admin.get("/")
def index() -> str:
    policy = RetentionPolicy.of(runtime().settings).describe()
    return render_template("admin/index.html", is_admin=scope() is None, retention=policy)


# --- providers, areas and tokens (admins) ----------------------------------------------------------------


@admin.route("/providers", methods=["GET", "POST"])
@admins_only
def providers() -> Any:
    problem, made = None, None
    if request.method == "POST":
        try:
            with runtime().session() as session, session.begin():
                form = request.form
                areas = [key for key in form.get("areas", "").replace(",", " ").split() if key]
                added = add_provider(session, form.get("slug", ""), form.get("name", ""), areas,
                                     form.get("webhook_url"), default=bool(form.get("default")),
                                     name_cy=form.get("name_cy"))  # fmt: skip
                made = added.slug
        except Refused as exc:
            problem = str(exc)
    with runtime().session() as session:
        rows = all_providers(session)
        page = render_template("admin/providers.html", providers=rows, problem=problem, made=made)
    return page, 400 if problem else 200


@admin.post("/providers/<slug>/token")
@admins_only
def provider_token(slug: str) -> Any:
    try:
        with runtime().session() as session, session.begin():
            provider = find_provider(session, slug)
            made = rotate_credentials(session, provider, runtime().clock())
            name = provider.name
    except Refused:
        abort(404)
    return render_template("admin/token.html", name=name, credentials=made)


@admin.post("/providers/<slug>/default")
@admins_only
def provider_default(slug: str) -> Any:
    try:
        with runtime().session() as session, session.begin():
            make_default(session, find_provider(session, slug))
    except Refused:
        abort(404)
    flash(f"Messages from areas nobody covers now go to {slug}.", "done")
    return redirect(url_for("admin.providers"))


@admin.route("/areas", methods=["GET", "POST"])
@admins_only
def areas() -> Any:
    problem = None
    if request.method == "POST":
        form = request.form
        try:
            with runtime().session() as session, session.begin():
                area = name_area(session, form.get("key", ""), form.get("name_en") or None, form.get("name_cy") or None)
                if form.get("provider"):
                    cover_areas(session, find_provider(session, form["provider"]), [area.key])
                elif form.get("uncover"):
                    uncover_area(session, area.key)
        except Refused as exc:
            problem = str(exc)
    with runtime().session() as session:
        page = render_template("admin/areas.html", areas=all_areas(session), providers=all_providers(session),
                               problem=problem)  # fmt: skip
    return page, 400 if problem else 200


# --- staff (admins: everyone; provider admins: their own provider's) ----------------------------------------


@admin.route("/staff", methods=["GET", "POST"])
def staff() -> Any:
    problem, made = None, None
    if request.method == "POST":
        form = request.form
        try:
            with runtime().session() as session, session.begin():
                action = form.get("action", "add")
                if action == "add":
                    slug = form.get("provider") or None
                    if scope() is not None:
                        slug = _own_slug(session)
                    made = add_staff(session, form.get("email", ""), staff_role(form.get("role", "")), slug,
                                     form.get("name") or None, scope=scope())  # fmt: skip
                elif action == "reset":
                    made = reset_staff(session, form.get("email", ""), scope=scope())
                elif action == "disable":
                    disable_staff(session, form.get("email", ""), scope=scope())
                made = (made.user.email, made.password) if made else None
        except Refused as exc:
            problem = str(exc)
    with runtime().session() as session:
        rows = all_staff(session, scope=scope())
        providers_list = all_providers(session) if scope() is None else []
        page = render_template("admin/staff.html", staff=rows, providers=providers_list, problem=problem, made=made,
                               roles=[role.value for role in StaffRole], is_admin=scope() is None)  # fmt: skip
    return page, 400 if problem else 200


def _own_slug(session: Any) -> str:
    return next(row.slug for row in all_providers(session) if row.id == current_user.provider_id)


# --- a young person's data: subject access and erasure -----------------------------------------------------


def _asker() -> Asker:
    return Asker(current_user.email, scope())


@admin.route("/people", methods=["GET", "POST"])
def people() -> Any:
    """Find a person by a referral's number or their phone number (posted, so it is never in a URL or a log)."""
    if request.method == "GET":
        return render_template("admin/people.html")
    referral = request.form.get("referral", "").strip()
    try:
        with runtime().session() as session:
            if referral:
                found = find_person(session, _asker(), referral_id=int(referral) if referral.isdigit() else -1)
            else:
                found = find_person(session, _asker(), phone=request.form.get("phone", ""))
            contact_id = found.id
    except Refused as exc:
        return render_template("admin/people.html", problem=str(exc)), 404
    return redirect(url_for("admin.person", contact_id=contact_id))


def _held(contact_id: int) -> dict[str, Any]:
    try:
        with runtime().session() as session, session.begin():
            return subject_access(session, _asker(), person_by_id(session, _asker(), contact_id), runtime().clock())
    except Refused:
        abort(404)


@admin.get("/people/<int:contact_id>")
def person(contact_id: int) -> str:
    return render_template("admin/person.html", contact_id=contact_id, held=_held(contact_id))


@admin.get("/people/<int:contact_id>.json")
def person_json(contact_id: int) -> Response:
    body = json.dumps(_held(contact_id), ensure_ascii=False, indent=2)
    disposition = f'attachment; filename="subject-access-{contact_id}.json"'
    return Response(body, mimetype="application/json", headers={"Content-Disposition": disposition})


@admin.post("/people/<int:contact_id>/erase")
def erase(contact_id: int) -> Any:
    if request.form.get("confirm") != "erase":
        flash("Type erase to confirm.", "error")
        return redirect(url_for("admin.person", contact_id=contact_id))
    try:
        with runtime().session() as session, session.begin():
            erase_on_request(session, _asker(), person_by_id(session, _asker(), contact_id), runtime().clock())
    except Refused:
        abort(404)
    flash("Their words and number are erased; your records of the referral and any alerts stay.", "done")
    return redirect(url_for("admin.people"))


# --- the audit log ---------------------------------------------------------------------------------------


@admin.get("/audit")
def audit() -> str:
    with runtime().session() as session:
        return render_template("admin/audit.html", entries=entries(session, scope=scope()), zone=runtime().timezone)


@admin.get("/audit.csv")
def audit_csv() -> Response:
    with runtime().session() as session:
        body = as_csv(session, runtime().timezone, scope=scope())
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="audit.csv"'})
