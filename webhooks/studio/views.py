"""The studio's pages (``/studio/``): the list of files, the YAML editor, the texts table, the diagram, the
simulator, checking and publishing, history and restore, the change log, and (for admins) people.

Every page needs a coordinator's or admin's login, the one every staff page shares, and every form and
fetch() carries a CSRF token: both are ``webhooks/staff_login.py``'s. Drafts are shared by everyone:
there is one draft of each file, and saving over someone else's newer save is refused.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.providers.accounts import MIN_PASSWORD_LENGTH, set_password
from bot.releases import (
    KINDS,
    TRANSCRIPTS_FOLDER,
    Checked,
    check,
    file_problem,
    is_model,
    name_problem,
    shipped_model,
)
from bot.runtime import Runtime
from bot.safeguarding import CATEGORIES, MODEL_FILE_NAME, assess, safety_message
from bot.safeguarding.helplines import script_variables
from bot.studio import simulator, store, welsh
from bot.studio.diagram import edges as diagram_edges
from bot.studio.diagram import graph as diagram_graph
from bot.studio.diagram import headline, what_it_does
from bot.studio.publishing import diff_files, run_checks, text_diff
from bot.studio.texts import TextsUnavailable, apply_text_edits, script_stats, text_changes, text_fields
from conversations import sms
from conversations.validate import PREVIEW_ALARM_WORDS, _alarm_pattern, _as_sent
from models import ReleaseKind, ScriptRelease, StaffRole, StaffUser
from models.db import take_write_lock
from webhooks import staff_login

studio = Blueprint("studio", __name__, url_prefix="/studio", template_folder="templates", static_folder="static")

# Any one request: the largest file (a lexicon file) plus the form around it.
MAX_REQUEST_BYTES = 1024 * 1024
MAX_MESSAGE_CHARS = 500
CHECKS_KEPT = 16
MAX_COUNTED_MESSAGES = 400  # the texts table's live counter sends the messages being typed in
MAX_COUNTED_CHARS = 10_000
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
_checks: OrderedDict[tuple[str, str], Checked] = OrderedDict()

NEW_SCRIPT = """script: {name}
description: What this conversation is for, in one line.
start: hello
steps:
  hello:
    end:
      en: Hello.
      cy: Helo.
"""
NEW_LEXICON_FILE = """# Safeguarding words: see en.yaml for how entries are written.
language: any
entries:
  - {phrase: write the phrase here, category: unsafe_now, reviewed: false}
"""


def _runtime() -> Runtime:
    return current_app.extensions["rhi.runtime"]


@contextmanager
def _reading() -> Iterator[Session]:
    with _runtime().session() as session:
        yield session


@contextmanager
def _writing() -> Iterator[Session]:
    with _runtime().session() as session, session.begin():
        take_write_lock(session)
        yield session


@studio.url_value_preprocessor
def _sizes(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # Set here, before any before_request function: the app's CSRF check reads the form, and a studio form
    # may carry a whole lexicon file, more than the app's limit.
    request.max_content_length = MAX_REQUEST_BYTES
    request.max_form_memory_size = MAX_REQUEST_BYTES


@studio.before_request
def _guard() -> Any:
    """Every page but the static files needs a coordinator's or admin's login (webhooks/staff_login.py)."""
    if request.endpoint == "studio.static":
        return None
    refused = staff_login.refusal(staff_login.STUDIO)
    if refused is not None:
        return refused
    g.user = current_user._get_current_object()
    return None


@studio.after_request
def _headers(response: Any) -> Any:
    if request.endpoint != "studio.static":
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
    return response


@studio.app_template_filter("when")
def _when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(_runtime().timezone).strftime("%a %d %b %Y, %H:%M")


def _author() -> store.Author:
    return store.Author(g.user.id, g.user.display_name, _runtime().clock(), g.user.email)


def _kind(kind: str) -> str:
    if kind not in KINDS:
        abort(404)
    return kind


def _form_text(name: str) -> str:
    """A text from a form, with the browser's CRLF line ends made plain again."""
    return (request.form.get(name) or "").replace("\r\n", "\n").replace("\r", "\n")


def _checked(kind: str, files: dict[str, str]) -> Checked:
    """Check results for a set of files, kept for a while (the same draft is looked at many times)."""
    key = (kind, store.fingerprint(files))
    found = _checks.get(key)
    if found is None:
        found = _checks[key] = check(kind, files)
        while len(_checks) > CHECKS_KEPT:
            _checks.popitem(last=False)
    else:
        _checks.move_to_end(key)
    return found


# --- the lists ---------------------------------------------------------------------------------------


@studio.get("/")
def index() -> Any:
    return redirect(url_for("studio.files", kind=ReleaseKind.SCRIPTS))


@studio.get("/<kind>/")
def files(kind: str) -> Any:
    kind = _kind(kind)
    with _reading() as session:
        drafts = store.drafts(session, kind)
        live = store.live_release(session, kind)
        current = store.draft_files(session, kind)
        live_files = store.live_files(session, kind)
    checked = _checked(kind, current)
    context: dict[str, Any] = {
        "kind": kind,
        "info": KINDS[kind],
        "drafts": drafts,
        "live": live,
        "files": current,
        "live_files": live_files,
        "checked": checked,
        "problems": _problem_counts(checked),
    }
    if kind == ReleaseKind.SCRIPTS:
        context["scripts"] = [
            (name, checked.scripts.get(name.removesuffix(".yaml")))
            for name in current
            if not name.startswith(TRANSCRIPTS_FOLDER)
        ]
        context["stats"] = {name: script_stats(script) for name, script in checked.scripts.items()}
        context["tests"] = [name for name in current if name.startswith(TRANSCRIPTS_FOLDER)]
        context["removed"] = [name for name, draft in drafts.items() if draft.text is None]
    elif kind == ReleaseKind.LEXICON:
        context["entries"] = _lexicon_counts(checked, current)
        context["model"] = checked.built.model if checked.ok else None
        context["model_shipped"] = shipped_model() == current.get(MODEL_FILE_NAME)
        message = request.args.get("try", "").strip()[:500]
        if message:
            live_checked = _checked(kind, live_files)
            context["tried"] = {
                "text": message,
                "draft": assess(message, lexicon=checked.built) if checked.ok else None,
                "live": assess(message, lexicon=live_checked.built) if live_checked.ok else None,
            }
    else:
        context["previews"] = _safety_previews(checked) if checked.ok else []
    return render_template(f"studio/{kind}.html", **context)


def _problem_counts(checked: Checked) -> dict[str, tuple[int, int]]:
    counts: dict[str, tuple[int, int]] = {}
    for finding in checked.findings:
        errors, warnings = counts.get(finding.file, (0, 0))
        counts[finding.file] = (errors + (finding.level == "error"), warnings + (finding.level == "warning"))
    return counts


def _lexicon_counts(checked: Checked, current: dict[str, str]) -> dict[str, tuple[int, int]]:
    counts = {name: (0, 0) for name in current}
    if checked.built is not None:
        for entry in checked.built.entries:
            name = entry.source.rsplit("/", 1)[-1].rsplit(":", 1)[0]
            total, unreviewed = counts.get(name, (0, 0))
            counts[name] = (total + 1, unreviewed + (not entry.reviewed))
    return counts


def _safety_previews(checked: Checked) -> list[tuple[str, str, str]]:
    return [
        (category, safety_message([category], "en", helplines=checked.built),
         safety_message([category], "cy", helplines=checked.built))
        for category in CATEGORIES
    ]  # fmt: skip


# --- new files, drafts ---------------------------------------------------------------------------------


@studio.post("/<kind>/new")
def new_file(kind: str) -> Any:
    kind = _kind(kind)
    if kind == ReleaseKind.HELPLINES:
        abort(404)
    stem = request.form.get("name", "").strip().lower().replace(" ", "_").removesuffix(".yaml")
    name = f"{stem}.yaml"
    problem = name_problem(kind, name)
    with _writing() as session:
        current = store.draft_files(session, kind)
        if problem is None and name in current:
            problem = f'there is already a file called "{name}"'
        if problem is None:
            text = NEW_SCRIPT.format(name=stem) if kind == ReleaseKind.SCRIPTS else NEW_LEXICON_FILE
            revision = store.drafts(session, kind).get(name)
            store.save_draft(session, kind, name, text, _author(), revision.revision if revision else 0, "new file")
    if problem:
        flash(f"Could not add the file: {problem}.", "error")
        return redirect(url_for("studio.files", kind=kind))
    flash(f"Added {name} to the draft.")
    return redirect(url_for("studio.edit", kind=kind, name=name))


@studio.post("/<kind>/remove/<path:name>")
def remove_file(kind: str, name: str) -> Any:
    kind = _kind(kind)
    with _writing() as session:
        draft = store.drafts(session, kind).get(name)
        if name not in store.draft_files(session, kind):
            abort(404)
        if kind == ReleaseKind.SCRIPTS and name in ("welcome.yaml", "system.yaml"):
            flash(f"{name} cannot be removed: the bot needs it.", "error")
            return redirect(url_for("studio.files", kind=kind))
        store.save_draft(session, kind, name, None, _author(), draft.revision if draft else 0, "removed")
    flash(f"{name} is removed in the draft; it goes when the draft is published.")
    return redirect(url_for("studio.files", kind=kind))


@studio.post("/lexicon/model/shipped")
def use_shipped_model() -> Any:
    """Put the model shipped with this version of the application into the draft (it is published, and
    checked against the held-out messages, like any change to the words)."""
    shipped = shipped_model()
    if shipped is None:
        flash("This version of the application ships no model.", "error")
        return redirect(url_for("studio.files", kind=ReleaseKind.LEXICON))
    with _writing() as session:
        draft = store.drafts(session, ReleaseKind.LEXICON).get(MODEL_FILE_NAME)
        store.save_draft(
            session,
            ReleaseKind.LEXICON,
            MODEL_FILE_NAME,
            shipped,
            _author(),
            draft.revision if draft else 0,
            "took the model shipped with the application",
        )
    flash("The shipped model is in the draft. Publish it to use it.")
    return redirect(url_for("studio.files", kind=ReleaseKind.LEXICON))


@studio.post("/<kind>/discard/<path:name>")
def discard(kind: str, name: str) -> Any:
    kind = _kind(kind)
    with _writing() as session:
        store.discard_draft(session, kind, name, _author())
    flash(f"The draft of {name} is thrown away; the live version is back in the editor.")
    return redirect(url_for("studio.files", kind=kind))


# --- the YAML editor -------------------------------------------------------------------------------------


@studio.route("/<kind>/edit/<path:name>", methods=["GET", "POST"])
def edit(kind: str, name: str) -> Any:
    kind = _kind(kind)
    problem = None
    with _reading() as session:
        drafts = store.drafts(session, kind)
        current = store.draft_files(session, kind)
        live_files = store.live_files(session, kind)
    draft = drafts.get(name)
    if name not in current:
        abort(404)
    if is_model(kind, name):
        flash("The learned model is built from the labelled messages by `rhi safeguarding train`, not edited here.")
        return redirect(url_for("studio.files", kind=kind))
    text = current[name]
    revision = draft.revision if draft else 0
    if request.method == "POST":
        text = _form_text("text")
        revision = request.form.get("revision", type=int) or 0
        note = request.form.get("note", "").strip()[:MAX_MESSAGE_CHARS]
        refused = file_problem(kind, name, text)
        if refused and (refused.line == 0 or "not allowed" in refused.message):
            problem = f"Not saved: {refused}"
        else:
            try:
                with _writing() as session:
                    store.save_draft(session, kind, name, text, _author(), revision, note or "edited the YAML")
                    if kind == ReleaseKind.SCRIPTS:
                        welsh.note_saved(session, name, current[name], text, _author())
            except store.DraftConflict as exc:
                problem = _conflict_message(exc)
            else:
                flash(f"Saved the draft of {name}.")
                return redirect(url_for("studio.edit", kind=kind, name=name))
        current = {**current, name: text}
    checked = _checked(kind, current)
    findings = [finding for finding in checked.findings if finding.file == name]
    elsewhere = [finding for finding in checked.errors if finding.file != name]
    return render_template(
        "studio/editor.html",
        kind=kind,
        info=KINDS[kind],
        name=name,
        text=text,
        revision=revision,
        draft=draft,
        findings=findings,
        elsewhere=elsewhere,
        problem=problem,
        changed=live_files.get(name) != text,
        max_bytes=KINDS[kind].max_bytes(name),
    ), (409 if problem else 200)


def _conflict_message(exc: store.DraftConflict) -> str:
    if exc.by is not None:
        return (
            f"Not saved: {exc.by} saved a newer version of this file at {_when(exc.at)}. "
            "Your text is still below: copy what you need, reload the page, and add your change again."
        )
    return (
        "Not saved: the draft of this file was published or thrown away after you opened it. "
        "Your text is still below: copy what you need, reload the page, and add your change again."
    )


@studio.post("/api/check")
def api_check() -> Any:
    """Check the text in the editor as it is typed: the problems in this file, by line."""
    payload = request.get_json(silent=True) or {}
    kind, name, text = payload.get("kind"), payload.get("name"), payload.get("text")
    if kind not in KINDS or not isinstance(name, str) or not isinstance(text, str):
        return jsonify(error="kind, name and text are needed"), 400
    with _reading() as session:
        current = store.draft_files(session, kind)
    current[name] = text.replace("\r\n", "\n")
    checked = _checked(kind, current)
    return jsonify(
        problems=[
            {"line": finding.line, "level": finding.level, "message": finding.message}
            for finding in checked.findings
            if finding.file == name
        ],
        elsewhere=len([finding for finding in checked.errors if finding.file != name]),
    )


# --- the texts table ---------------------------------------------------------------------------------------


@studio.route("/scripts/texts/<name>", methods=["GET", "POST"])
def texts(name: str) -> Any:
    kind = ReleaseKind.SCRIPTS
    with _reading() as session:
        draft = store.drafts(session, kind).get(name)
        current = store.draft_files(session, kind)
    if name not in current or name.startswith(TRANSCRIPTS_FOLDER):
        abort(404)
    source = current[name]
    revision = draft.revision if draft else 0
    problem = None
    try:
        fields = text_fields(source)
    except TextsUnavailable:
        return render_template("studio/texts.html", name=name, broken=True, fields=[], groups={}), 200
    if request.method == "POST":
        revision = request.form.get("revision", type=int) or 0
        edits = {
            field.key: (
                _form_text(f"en:{field.key}"),
                _form_text(f"cy:{field.key}"),
                request.form.get(f"reviewed:{field.key}") == "yes",
            )
            for field in fields
            if f"en:{field.key}" in request.form
        }
        updated = apply_text_edits(source, edits)
        confirming = [key for key in request.form.getlist("confirm") if key in {field.key for field in fields}]
        if updated == source and not confirming:
            flash("Nothing changed.")
            return redirect(url_for("studio.texts", name=name))
        said = []
        try:
            with _writing() as session:
                if updated != source:
                    summary = f"texts table: {text_changes(source, updated).describe()}"
                    note = request.form.get("note", "").strip()[:MAX_MESSAGE_CHARS]
                    store.save_draft(
                        session, kind, name, updated, _author(), revision, f"{note} ({summary})" if note else summary
                    )
                    welsh.note_saved(session, name, source, updated, _author())
                    said.append(f"Saved the draft of {name}: {summary.removeprefix('texts table: ')}.")
                for field in welsh.confirm(session, name, confirming, updated, _author()):
                    said.append(f"The Welsh of {field.where} is confirmed to fit its English.")
        except store.DraftConflict as exc:
            problem = _conflict_message(exc)
        else:
            for line in said:
                flash(line)
            return redirect(url_for("studio.texts", name=name))
    checked = _checked(kind, current)
    groups = _message_groups(fields)
    with _reading() as session:
        stale = welsh.needing_check(session, name, fields, store.live_files(session, kind).get(name))
    return render_template(
        "studio/texts.html",
        name=name,
        broken=False,
        fields=fields,
        groups=groups,
        stale=stale,
        revision=revision,
        findings=[finding for finding in checked.findings if finding.file == name],
        problem=problem,
    )


def _message_groups(fields: list[Any]) -> dict[str, dict[str, Any]]:
    """For each message: the line under it in each language (SMS parts as sent, a worrying first line)."""
    groups: dict[str, dict[str, Any]] = {}
    for field in fields:
        groups.setdefault(field.message, {"fields": []})["fields"].append(field)
    for group in groups.values():
        for language in ("en", "cy"):
            group[language] = _counter(_message_body(group["fields"], language), language)
    return groups


def _message_body(fields: list[Any], language: str) -> str:
    lines = [getattr(field, language) for field in fields if not field.numbered]
    lines.extend(f"{n}. {getattr(field, language)}" for n, field in enumerate((f for f in fields if f.numbered), 1))
    return "\n".join(lines)


def _counter(body: str, language: str) -> dict[str, Any]:
    """The counter under a message: its SMS parts as the channel sends it (conversations/sms.py's one counter,
    each {name} counted at its nominal length), and the worrying words its first line shows on a locked phone."""
    counted = sms.count(_as_sent(body))
    first_line = next((line for line in body.splitlines() if line.strip()), "")
    alarming = [word for word in PREVIEW_ALARM_WORDS[language] if _alarm_pattern(word).search(first_line)]
    words = counted.describe()
    if alarming:
        words += f" · ⚠ first line shows “{'”, “'.join(alarming)}” on a locked phone"
    return {"words": words, "parts": counted.parts, "alarming": bool(alarming)}


@studio.post("/api/sms")
def api_sms() -> Any:
    """The texts table's counters as a coordinator types: the server counts, so the page, the simulator and
    the validator can never disagree (there is no second counter in the browser)."""
    payload = request.get_json(silent=True) or {}
    messages = payload.get("messages")
    if not isinstance(messages, list) or len(messages) > MAX_COUNTED_MESSAGES:
        return jsonify(error=f"messages: a list of at most {MAX_COUNTED_MESSAGES} is needed"), 400
    counted = []
    for message in messages:
        body = message.get("body") if isinstance(message, dict) else None
        language = message.get("language") if isinstance(message, dict) else None
        if not isinstance(body, str) or language not in ("en", "cy") or len(body) > MAX_COUNTED_CHARS:
            return jsonify(error="each message needs a body (text) and a language (en or cy)"), 400
        counted.append({"key": message.get("key"), "language": language, **_counter(body, language)})
    return jsonify(counts=counted)


# --- the diagram ---------------------------------------------------------------------------------------------


@studio.get("/scripts/diagram/<name>")
def diagram(name: str) -> Any:
    with _reading() as session:
        current = store.draft_files(session, ReleaseKind.SCRIPTS)
    if name not in current or name.startswith(TRANSCRIPTS_FOLDER):
        abort(404)
    script = _checked(ReleaseKind.SCRIPTS, current).scripts.get(name.removesuffix(".yaml"))
    drawn = None
    outline = []
    if script is not None:
        drawn = diagram_graph(
            script, lambda step: url_for("studio.edit", kind="scripts", name=name, line=step.line) + "#editor"
        )
        following: dict[str, list[Any]] = {}
        for edge in diagram_edges(script):
            following.setdefault(edge.source, []).append(edge)
        outline = [(step, what_it_does(step), following.get(step.id, [])) for step in script.steps.values()]
    return render_template(
        "studio/diagram.html", name=name, script=script, graph=drawn, outline=outline, headline=headline
    )


# --- the simulator ------------------------------------------------------------------------------------------


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="rhi-studio-simulator")


@studio.route("/simulator", methods=["GET", "POST"])
def simulate() -> Any:
    runtime = _runtime()
    form = request.form
    source = form.get("source") or request.args.get("source") or "draft"
    with _reading() as session:
        files = {kind: (store.draft_files if source == "draft" else store.live_files)(session, kind) for kind in KINDS}
    checks = {kind: _checked(kind, kind_files) for kind, kind_files in files.items()}
    broken = [finding for kind in KINDS for finding in checks[kind].errors]
    if broken:
        return render_template("studio/simulator.html", broken=broken, source=source, chat=None)
    helplines = checks[ReleaseKind.HELPLINES].built
    variables = runtime.conversation_variables(helplines)
    chat = None
    if request.method == "POST" and form.get("chat"):
        try:
            chat = _signer().loads(form["chat"])
        except BadSignature:
            flash("The simulated chat could not be read, so it starts again.", "error")
    action = form.get("action", "send")
    now = _runtime().clock()
    channel = form.get("channel") or request.args.get("channel") or "sms"
    language = form.get("language") or request.args.get("language") or "en"
    if chat is None or action == "restart" or (chat["channel"], chat["language"]) != (channel, language):
        chat = simulator.start(channel, language, now, variables)
    saved: tuple[str, str | None] | None = None
    if request.method == "POST":
        if action == "day":
            chat = simulator.a_day_passes(chat, runtime.timezone)
        elif action == "save":
            saved = _save_simulation(chat, form.get("test_name", ""))
        elif action == "send":
            text = (form.get("option") or form.get("text") or "").strip()[:1000]
            if text:
                chat = simulator.send(
                    chat,
                    text,
                    checks[ReleaseKind.SCRIPTS].built,
                    variables,
                    checks[ReleaseKind.LEXICON].built,
                    helplines,
                    runtime.timezone,
                )
    return render_template(
        "studio/simulator.html",
        broken=[],
        source=source,
        chat=chat,
        signed=_signer().dumps(chat),
        variables=simulator.visible_variables(chat, set(script_variables(helplines)) | {"service_name"}),
        last_options=_last_options(chat),
        saved=saved,
    )


def _last_options(chat: dict[str, Any]) -> list[str]:
    for event in reversed(chat["events"]):
        if event["kind"] == "bot":
            return list(event["options"])
        if event["kind"] == "user":
            return []
    return []


def _save_simulation(chat: dict[str, Any], test_name: str) -> tuple[str, str | None]:
    """Save the chat as a transcript test in the draft: (what to tell the coordinator, the file's name or None).

    The coordinator stays in the simulator, with the chat as it was, and is told there."""
    test_name = " ".join(test_name.split())[:120]
    if not any(event["kind"] == "user" for event in chat["events"]):
        return "Send at least one message before saving the chat as a test.", None
    if not test_name:
        test_name = "chat saved from the simulator"
    stem = re.sub(r"[^a-z0-9]+", "_", test_name.lower()).strip("_")[:60] or "simulated_chat"
    text = simulator.as_transcript(
        chat, test_name, g.user.display_name, _runtime().clock().astimezone(_runtime().timezone)
    )
    with _writing() as session:
        taken = set(store.draft_files(session, ReleaseKind.SCRIPTS)) | set(store.drafts(session, ReleaseKind.SCRIPTS))
        name = f"{TRANSCRIPTS_FOLDER}{stem}.yaml"
        number = 2
        while name in taken:
            name = f"{TRANSCRIPTS_FOLDER}{stem}_{number}.yaml"
            number += 1
        store.save_draft(
            session, ReleaseKind.SCRIPTS, name, text, _author(), 0, f"saved from the simulator: {test_name}"
        )
    return (
        f"Saved this chat as the test “{test_name}” ({name}). It is part of the draft and runs every time you publish.",
        name,
    )


# --- publishing ------------------------------------------------------------------------------------------


@studio.route("/<kind>/publish", methods=["GET", "POST"])
def publish(kind: str) -> Any:
    kind = _kind(kind)
    message = request.form.get("message", "").strip()[:MAX_MESSAGE_CHARS]
    with _reading() as session:
        current = store.draft_files(session, kind)
        live = {other: store.live_files(session, other) for other in KINDS}
    fingerprint = store.fingerprint(current)
    problem = None
    if request.method == "POST" and request.form.get("fingerprint") != fingerprint:
        problem = "The draft changed since these checks were run (someone saved a change). Look at it again below."
    checks = run_checks(kind, current, live[kind], live, fingerprint, _checked(kind, current))
    if request.method == "POST" and problem is None:
        if not message:
            problem = "Write a short message saying what changed and why; it is kept with the version."
        elif not checks.blockers:
            try:
                with _writing() as session:
                    release = store.publish(
                        session, kind, current, _author(), message, expected_fingerprint=fingerprint
                    )
            except (store.DraftChanged, IntegrityError):
                problem = "Someone changed or published the draft at the same moment. Look at it again below."
            else:
                _runtime().forget_live_releases()
                flash(f"Published: version {release.number} of the {KINDS[kind].title.lower()} is live now.")
                return redirect(url_for("studio.history", kind=kind))
    return render_template(
        "studio/publish.html", kind=kind, info=KINDS[kind], checks=checks, message=message, problem=problem
    ), (409 if problem else 200)


@studio.get("/<kind>/history")
def history(kind: str) -> Any:
    kind = _kind(kind)
    with _reading() as session:
        releases = store.releases(session, kind)
        live = store.live_release(session, kind)
        numbers = {release.id: release.number for release in releases}
    return render_template(
        "studio/history.html", kind=kind, info=KINDS[kind], releases=releases, live=live, numbers=numbers
    )


@studio.get("/<kind>/release/<int:release_id>")
def release(kind: str, release_id: int) -> Any:
    kind = _kind(kind)
    with _reading() as session:
        found = session.get(ScriptRelease, release_id)
        if found is None or found.kind != kind:
            abort(404)
        live_files = store.live_files(session, kind)
    return render_template(
        "studio/release.html",
        kind=kind,
        info=KINDS[kind],
        release=found,
        changes=text_diff(live_files, found.files) if kind == ReleaseKind.SCRIPTS else [],
        diffs=diff_files(live_files, found.files),
    )


@studio.route("/<kind>/release/<int:release_id>/restore", methods=["GET", "POST"])
def restore(kind: str, release_id: int) -> Any:
    """Restoring asks why and for a confirmation: it changes what every new conversation says, at once."""
    kind = _kind(kind)
    with _reading() as session:
        found = session.get(ScriptRelease, release_id)
        if found is None or found.kind != kind:
            abort(404)
        live = store.live_release(session, kind)
        number, files_to_restore = found.number, dict(found.files)
        live_files = store.live_files(session, kind)
    if live is not None and live.id == release_id:
        flash(f"Version {number} is already live.")
        return redirect(url_for("studio.history", kind=kind))
    reason = " ".join(request.form.get("reason", "").split())[:MAX_MESSAGE_CHARS]
    problem = None
    checked = _checked(kind, files_to_restore)
    if not checked.ok:
        problem = (
            f"Version {number} cannot be restored: it no longer passes the checks of this version of the bot "
            f"({checked.errors[0]})."
        )
    elif request.method == "POST":
        if not reason:
            problem = "Say why you are restoring this version; the reason is kept in the history."
        elif request.form.get("confirm") != "yes":
            problem = f"Tick the box to confirm that version {number} should be live now."
        else:
            with _writing() as session:
                restored = store.restore(session, kind, session.get(ScriptRelease, release_id), _author(), reason)
            _runtime().forget_live_releases()
            flash(f"Version {number} is live again, as version {restored.number}.")
            return redirect(url_for("studio.history", kind=kind))
    return render_template(
        "studio/restore.html",
        kind=kind,
        info=KINDS[kind],
        release=found,
        reason=reason,
        problem=problem,
        can_restore=checked.ok,
        changes=text_diff(live_files, files_to_restore) if kind == ReleaseKind.SCRIPTS else [],
        diffs=diff_files(live_files, files_to_restore),
    ), (400 if problem else 200)


@studio.get("/changes")
def changes() -> Any:
    with _reading() as session:
        found = store.changes(session)
        ids = {change.release_id for change in found if change.release_id}
        query = sa.select(ScriptRelease.id, ScriptRelease.number).where(ScriptRelease.id.in_(ids))
        numbers = {release_id: number for release_id, number in session.execute(query)}
    return render_template("studio/changes.html", changes=found, numbers=numbers, kinds=KINDS)


# --- people (admins) -------------------------------------------------------------------------------------


@studio.route("/people", methods=["GET", "POST"])
def people() -> Any:
    if g.user.role != StaffRole.ADMIN:
        abort(403)
    problem = None
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()
        display_name = request.form.get("display_name", "").strip()[:100]
        password = request.form.get("password", "")
        role = request.form.get("role", StaffRole.COORDINATOR)
        if "@" not in email or not display_name:
            problem = "Give the person's email and name."
        elif len(password) < MIN_PASSWORD_LENGTH:
            problem = f"The first password needs at least {MIN_PASSWORD_LENGTH} characters."
        elif role not in staff_login.STUDIO.roles:
            problem = "Choose coordinator or admin."
        else:
            try:
                with _writing() as session:
                    person = StaffUser(email=email, display_name=display_name, password_hash="", role=StaffRole(role))
                    set_password(person, password)
                    session.add(person)
            except IntegrityError:
                problem = f"There is already an account for {email}."
            else:
                flash(f"{display_name} can now log in to the studio as {role}.")
                return redirect(url_for("studio.people"))
    with _reading() as session:
        query = sa.select(StaffUser).where(StaffUser.role.in_(staff_login.STUDIO.roles)).order_by(StaffUser.email)
        found = list(session.scalars(query))
    return render_template("studio/people.html", people=found, problem=problem), (400 if problem else 200)
