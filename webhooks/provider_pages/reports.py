"""The Reports pages: a provider's figures for its admins (``/provider/reports``) and the partnership's across
providers for commissioners and admins (``/partnership/``), as tables and server-drawn SVG charts, a CSV, and a
page to print for a partnership meeting.

What each figure counts is ``bot/providers/return_interviews.py``'s; this module only shows it. The provider's
own page, on screen, shows exact numbers: they are its own referrals, which its staff already see one by one.
Whatever leaves the service (the CSV, the printed page, everything on the partnership's pages) has counts from
1 to 4 hidden. A commissioner's login belongs to no provider and reaches no page with a child's data.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, g, render_template, request
from markupsafe import Markup

from bot.providers import return_interviews as report
from bot.routing import area_names, deployment_areas
from models import Provider
from webhooks import staff_login
from webhooks.provider_pages.charts import Row, bars, compliance
from webhooks.provider_pages.common import AGE_BANDS, area_name, provider_pages, runtime, security_headers

partnership_pages = Blueprint("partnership", __name__, url_prefix="/partnership", template_folder="templates")
partnership_pages.after_request(security_headers)

provider_admin_required = staff_login.required(staff_login.PROVIDER_REPORTS)
partnership_required = staff_login.required(staff_login.PARTNERSHIP)

LABELS = {
    "episodes": "Missing episodes (a)",
    "hidden_episodes": "Hidden episodes (police not told)",
    "repeat": "Went missing more than once",
    "offered": "Interviews offered (b)",
    "accepted": "Accepted (c)",
    "declined": "Declined (e)",
    "held": "Interviews held (d)",
    "held_within_72_hours": "Held within 72 hours",
    "held_after_72_hours": "Held after 72 hours",
    "follow_up_needed": "Follow-up needed (g)",
    "follow_up_provided": "Follow-up provided (g)",
    "self_referrals": "Young people referring themselves",
    "parent_reports": "Parents' and carers' reports",
}
BREAKDOWN_TITLES = {
    "decline_reasons": "Why they declined (e)",
    "delay_reasons": "Why an interview was after 72 hours",
    "risks": "Risks: referrals with an alert, by category (f)",
    "by_age_band": "By age",
    "by_area": "By area",
    "by_language": "By language",
    "by_channel": "By channel",
}
SETTING_LABELS = {
    "overall": "All settings",
    "home": "From home",
    "care_local": "In care locally",
    "care_out_of_area": "In care from another area",
    "not_known": "Not known",
}
# A manager's words for the codes (DOMAIN's tables); a code not here is shown with spaces for underscores.
KEY_LABELS = {
    **AGE_BANDS,
    "no_need": "Doesn't want to talk, no need",
    "too_formal": "Sounds too formal or scary",
    "fear_trouble": "Worried about getting into trouble",
    "fear_sharing": "Worried what will be shared",
    "distrust_professionals": "Doesn't trust professionals",
    "fear_retaliation": "Afraid of people finding out",
    "no_privacy": "No private place",
    "doesnt_suit": "Time, place or worker didn't suit",
    "already_spoke_police": "Thinks it repeats the police check",
    "parent_declined": "A parent declined for them",
    "other": "Something else",
    "young_person_choice": "The young person's choice",
    "no_availability": "No worker or time available",
    "no_contact_yet": "Not yet in contact",
    "suicide_self_harm": "Suicide or self-harm",
    "unsafe_now": "Unsafe now",
    "criminal_exploitation": "Criminal exploitation",
    "sexual_exploitation": "Sexual exploitation",
    "abuse_at_home": "Abuse at home",
    "violence_weapons": "Violence or weapons",
    "health": "Health",
    "en": "English",
    "cy": "Cymraeg",
    "sms": "SMS",
    "telegram": "Telegram",
    "terminal": "Terminal (demo)",
    "not_known": "not known",
    "not_recorded": "no reason recorded",
}


def key_label(breakdown: str, key: str) -> str:
    if breakdown == "by_area" and key != report.NOT_KNOWN:
        # Once per area and request: the table, the charts and the form each name every area.
        named: dict[str, str] = g.setdefault("area_names", {})
        if key not in named:
            named[key] = area_name(key)
        return named[key]
    return KEY_LABELS.get(key, key.replace("_", " "))


def shown(number: int | None) -> str:
    return report.SUPPRESSED_IN_CSV if number is None else str(number)


# --- the period and area asked for ---------------------------------------------------------------------------


def _asked_scope(provider_ids: tuple[int, ...] | None, areas: list[str]) -> tuple[report.Scope, list[str]]:
    """The period and area from the query string; a day that is not a day, or an area not offered, is
    ignored with a line saying so, and the page shows this month so far."""
    today = runtime().clock().astimezone(runtime().timezone).date()
    problems = []
    days = []
    for name, default in (("from", today.replace(day=1)), ("to", today)):
        given = request.args.get(name, "")
        try:
            days.append(date.fromisoformat(given) if given else default)
        except ValueError:
            problems.append(f"“{given}” is not a day like {default.isoformat()}: showing {default.isoformat()}.")
            days.append(default)
    if abs(days[1] - days[0]) > timedelta(days=366 * 5):
        problems.append("A report covers at most five years: showing this month so far.")
        days = [today.replace(day=1), today]
    area = request.args.get("area") or None
    if area is not None and area not in areas:
        problems.append("That area is not one of those listed: showing every area.")
        area = None
    return report.Scope.of(days[0], days[1], runtime().timezone, provider_ids, area), problems


def _page(template: str, figures: dict[str, Any], **context: Any) -> str:
    return render_template(
        template,
        report=figures,
        labels=LABELS,
        breakdown_titles=BREAKDOWN_TITLES,
        setting_labels=SETTING_LABELS,
        key_label=key_label,
        shown=shown,
        measures=report.COUNTS,
        breakdowns=report.BREAKDOWNS,
        settings=("overall", *report.SETTINGS),
        chart_list=_charts(figures),
        **context,
    )


def _charts(figures: dict[str, Any]) -> list[tuple[str, Markup]]:
    """Each chart with its title, shown above it (the chart names itself to a screen reader too)."""
    overall, settings = figures["overall"], figures["settings"]
    weeks = [(_day_month(week["week"]), week["held"], week["held_within_72_hours"]) for week in figures["weeks"]]

    def by_setting(*names: str) -> list[Row]:
        return [
            Row(SETTING_LABELS[setting], tuple(settings[setting][name] for name in names))
            for setting in report.SETTINGS
        ]

    def breakdown(name: str) -> list[Row]:
        return [Row(key_label(name, key), (number,)) for key, number in overall[name].items()]

    drawn = [
        ("Interviews held within 72 hours, by the week of the referral", compliance, (weeks,)),
        ("Why they declined", bars, (("declined",), breakdown("decline_reasons"))),
        ("Risks: referrals with an alert, by category", bars, (("referrals",), breakdown("risks"))),
        ("Hidden episodes, by setting", bars,
         (("episodes", "hidden (police not told)"), by_setting("episodes", "hidden_episodes"))),
        ("Offered, accepted and held, by setting", bars,
         (("offered", "accepted", "held"), by_setting("offered", "accepted", "held"))),
    ]  # fmt: skip
    return [(title, draw(title, *arguments)) for title, draw, arguments in drawn]


def _day_month(iso_day: str) -> str:
    return date.fromisoformat(iso_day).strftime("%d %b")


def _csv(figures: dict[str, Any]) -> Response:
    attachment = f'attachment; filename="{report.csv_filename(figures)}"'
    return Response(report.as_csv(figures), mimetype="text/csv", headers={"Content-Disposition": attachment})


# --- a provider's own -------------------------------------------------------------------------------------------


def _provider_report() -> tuple[dict[str, Any], list[str], list[str]]:
    with runtime().session() as db:
        provider = db.get(Provider, g.actor.provider_id)
        areas = sorted(provider.areas or [], key=lambda key: area_names(db, key)["en"])
        scope, problems = _asked_scope((provider.id,), areas)
        figures = report.return_interviews(db, scope)
    return figures, problems, areas


@provider_pages.get("/reports")
@provider_admin_required
def reports() -> Any:
    figures, problems, areas = _provider_report()
    return _page("provider/reports.html", figures, problems=problems, areas=areas, printable=False)


@provider_pages.get("/reports/print")
@provider_admin_required
def reports_print() -> Any:
    """For a partnership meeting: what leaves the service, so small numbers are hidden."""
    figures, problems, areas = _provider_report()
    return _page("provider/reports.html", report.suppressed(figures), problems=problems, areas=areas, printable=True)


@provider_pages.get("/reports.csv")
@provider_admin_required
def reports_csv() -> Response:
    figures, _, _ = _provider_report()
    return _csv(report.suppressed(figures))


# --- the partnership's, across providers ---------------------------------------------------------------------


def _partnership_report() -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    with runtime().session() as db:
        providers = db.execute(sa.select(Provider.id, Provider.name).order_by(Provider.name)).all()
        areas = [area.key for area in deployment_areas(db)]
        chosen = request.args.get("provider", type=int)
        provider_ids = (chosen,) if chosen in {row.id for row in providers} else None
        scope, problems = _asked_scope(provider_ids, areas)
        figures = report.suppressed(report.return_interviews(db, scope))
    choices = {"areas": areas, "providers": providers, "provider": provider_ids[0] if provider_ids else None}
    return figures, problems, choices


@partnership_pages.get("/")
@partnership_required
def partnership() -> Any:
    figures, problems, choices = _partnership_report()
    printable = request.args.get("print") == "1"
    return _page("provider/partnership.html", figures, problems=problems, printable=printable, **choices)


@partnership_pages.get("/report.csv")
@partnership_required
def partnership_csv() -> Response:
    figures, _, _ = _partnership_report()
    return _csv(figures)
