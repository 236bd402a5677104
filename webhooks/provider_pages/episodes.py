"""Telling the bot a young person is back, from the provider's pages (``/provider/episodes``): one return by a form,
or a batch from a spreadsheet (CSV) with a preview of every row's problems before anything is saved.

The same rules and the same write path as ``POST /api/v1/episodes`` (``bot.offers``); this module is HTTP only.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for

from bot.offers.batch import MAX_BYTES, Batch, read_batch, save_batch
from bot.offers.episodes import REPORT_FIELDS, check_report, report_episode
from bot.providers.actions import Invalid
from bot.routing import area_english_names
from models import AgeBand, Language, PoliceInformed, Provider, Setting
from webhooks.provider_pages.common import login_required, provider_pages, runtime


def _areas() -> list[str]:
    with runtime().session() as db:
        return list(db.get_one(Provider, g.actor.provider_id).areas or [])


def _known_areas() -> dict[str, str]:
    with runtime().session() as db:
        return area_english_names(db)


def _page(*, problems: Any = (), batch: Batch | None = None, csv_text: str = "", status: int = 200) -> Any:
    choices = {"setting": Setting, "language": Language, "age_band": AgeBand, "police_informed": PoliceInformed}
    page = render_template(
        "provider/episodes.html",
        areas=_areas(),
        choices={name: [item.value for item in enum] for name, enum in choices.items()},
        fields=REPORT_FIELDS,
        form=request.form,
        problems=problems,
        batch=batch,
        csv_text=csv_text,
    )
    return page, status


@provider_pages.get("/episodes")
@login_required
def episodes() -> Any:
    return _page()


@provider_pages.post("/episodes")
@login_required
def report_one() -> Any:
    """One return from the form; the offer goes as for the API's."""
    now = runtime().clock()
    given = {name: request.form.get(name, "") for name in REPORT_FIELDS}
    report, problems = check_report(given, _areas(), now, runtime().timezone, _known_areas())
    if report is None:
        return _page(problems=problems, status=422)
    with runtime().session() as db, db.begin():
        reported = report_episode(db, runtime(), g.actor.provider_id, report, now)
    if reported.created:
        flash("Return recorded. The bot offers the young person a chat by text (between 08:00 and 21:00).", "done")
    else:
        flash("This reference was reported before: nothing new was made.", "done")
    return redirect(url_for("provider_pages.referral", referral_id=reported.referral_id), code=303)


@provider_pages.post("/episodes/batch")
@login_required
def report_batch() -> Any:
    """A spreadsheet of returns: ``preview`` shows each row's problems and saves nothing; ``save`` records the rows,
    refused while any row has a problem unless those rows are left out on purpose."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        raw = upload.read(MAX_BYTES + 1)
        try:
            csv_text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return _page(problems=[Invalid("file", "is not a CSV file saved as UTF-8 text")], status=422)
    else:
        csv_text = request.form.get("csv_text", "")
    now = runtime().clock()
    batch = read_batch(csv_text, _areas(), now, runtime().timezone, _known_areas())
    if request.form.get("action") != "save":
        return _page(batch=batch, csv_text=csv_text)
    try:
        with runtime().session() as db, db.begin():
            reported = save_batch(db, runtime(), g.actor.provider_id, batch, now,
                                  leave_out_problems=request.form.get("leave_out_problems") == "on")  # fmt: skip
    except Invalid as exc:
        return _page(problems=[exc], batch=batch, csv_text=csv_text, status=422)
    new = sum(item.created for item in reported)
    left_out = len(batch.with_problems)
    flash(
        f"{new} return{'s' if new != 1 else ''} recorded"
        + (f", {len(reported) - new} reported before" if len(reported) > new else "")
        + (f", {left_out} row{'s' if left_out != 1 else ''} with problems left out" if left_out else "")
        + ". The bot offers each young person a chat by text (between 08:00 and 21:00).",
        "done",
    )
    return redirect(url_for("provider_pages.queue"), code=303)
