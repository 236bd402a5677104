"""The return-interview report: the self-assessment toolkit's data items a-g, the 72 hours, why children say no
and the episodes police never heard of, overall and per setting (home, in care locally, in care from another
area, not known), for one provider or across them.

The one home of what each figure counts (the README says it in words). Everything is counted by the database
(GROUP BY over the period's referrals, a handful of queries whatever the number of rows), never by loading rows:
the report over 100,000 referrals must take well under two seconds. The page, the API and the CSV all read
``return_interviews``; ``suppressed`` hides small numbers in whatever leaves the service.

Every figure counts referrals made in the period (local days), except the episodes, counted by when they were
told. Each referral belongs to exactly one setting (that of the latest episode it covers) and each episode to
one, so every figure overall is the sum of the settings'.
"""

from __future__ import annotations

import copy
import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from bot.providers.reports import period_bounds
from bot.safeguarding.categories import CATEGORIES
from models import (
    AgeBand,
    Booking,
    BookingStatus,
    Channel,
    DeclineReason,
    DelayReason,
    Episode,
    Escalation,
    Language,
    OfferMethod,
    PoliceInformed,
    Referral,
    ReferralOutcome,
    ReferralStatus,
    ReferredBy,
    Setting,
)
from models.referral import referral_episodes

NOT_KNOWN = "not_known"
NOT_RECORDED = "not_recorded"  # a decline or a delay with no reason given
SETTINGS = ("home", "care_local", "care_out_of_area", NOT_KNOWN)
SETTING_OF = {Setting.HOME: "home", Setting.CARE: "care_local", Setting.CARE_OUT_OF_AREA: "care_out_of_area"}
AGE_BANDS = (AgeBand.UNDER_13, AgeBand.AGE_13_15, AgeBand.AGE_16_17, AgeBand.AGE_18_PLUS)
# Counts of 1 to 4 are hidden in anything that leaves the service, as official statistics do: with so few, a
# reader who knows the area could tell which child a number is about.
SMALL_NUMBER = 5
SUPPRESSED_IN_CSV = "<5"

COUNTS = (
    "episodes",
    "hidden_episodes",
    "repeat",
    "offered",
    "accepted",
    "declined",
    "held",
    "held_within_72_hours",
    "held_after_72_hours",
    "follow_up_needed",
    "follow_up_provided",
    "self_referrals",
    "parent_reports",
)
# Breakdowns with a fixed set of keys (every key shown, zeros too), then those keyed by what was recorded.
FIXED_KEYS: dict[str, tuple[str, ...]] = {
    "decline_reasons": (*(reason.value for reason in DeclineReason), NOT_RECORDED),
    "delay_reasons": (*(reason.value for reason in DelayReason), NOT_RECORDED),
    "risks": CATEGORIES,
    "by_age_band": (*(band.value for band in AGE_BANDS), NOT_KNOWN),
    "by_language": tuple(language.value for language in Language),
    "by_channel": tuple(channel.value for channel in Channel),
}
BREAKDOWNS = (*FIXED_KEYS, "by_area")


def offered() -> sa.ColumnElement[bool]:
    """Which referrals count as an RHI offered (data item b): those with ``Referral.offered_at``, set when the
    bot's text offer went after the service reported a return, when a worker recorded an offer by phone, or when
    a young person came to the bot themselves and the conversation offered one. A parent's report is not an
    offer to the young person."""
    return Referral.offered_at.is_not(None)


def declined() -> sa.ColumnElement[bool]:
    """Said no, to the bot or to a worker in person. A referral declined and later booked is not declined."""
    # The outcome is NULL until one is recorded: compared as "" so that "not declined" is true, not NULL.
    outcome = sa.func.coalesce(Referral.outcome, "")
    return sa.or_(Referral.status == ReferralStatus.DECLINED, outcome == ReferralOutcome.DECLINED_IN_PERSON)


def accepted() -> sa.ColumnElement[bool]:
    """Offered and not (or no longer) declined: asking for an interview, booking one, or having had one. An offer
    the bot texted counts once the young person said yes to it (gave consent or has a booking), not while it is
    still unanswered."""
    said_yes = sa.or_(
        Referral.consent_given.is_(True),
        sa.exists().where(Booking.referral_id == Referral.id),
    )
    texted = sa.func.coalesce(Referral.offer_method, "") == OfferMethod.BOT_SMS
    return sa.and_(offered(), sa.not_(declined()), sa.or_(sa.not_(texted), said_yes))


@dataclass(frozen=True)
class Scope:
    """The referrals a report is about: made in [start, end), of these providers (None: every provider), for
    this area (None: every area)."""

    first_day: date
    last_day: date
    timezone: ZoneInfo
    provider_ids: tuple[int, ...] | None = None
    area: str | None = None

    @classmethod
    def of(
        cls, first_day: date, last_day: date, timezone: ZoneInfo, provider_ids: Sequence[int] | None, area: str | None
    ) -> Scope:
        """The scope for a period given in either order."""
        first, last = sorted((first_day, last_day))
        return cls(first, last, timezone, tuple(provider_ids) if provider_ids is not None else None, area)

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return period_bounds(self.first_day, self.last_day, self.timezone)

    def where(self, made_at: Any = Referral.created_at) -> list[sa.ColumnElement[bool]]:
        """Made in the period (the referral, or ``made_at``), of these providers' referrals, from this area."""
        start, end = self.bounds
        conditions = [made_at >= start, made_at < end]
        if self.provider_ids is not None:
            conditions.append(Referral.provider_id.in_(self.provider_ids))
        if self.area is not None:
            conditions.append(Referral.area == self.area)
        return conditions


def empty_figures() -> dict[str, Any]:
    figures: dict[str, Any] = dict.fromkeys(COUNTS, 0)
    figures.update({name: dict.fromkeys(keys, 0) for name, keys in FIXED_KEYS.items()})
    figures["by_area"] = {}
    return figures


def return_interviews(session: Session, scope: Scope) -> dict[str, Any]:
    """The report for ``scope``: ``overall`` and ``settings`` (each setting's figures, see ``COUNTS`` and
    ``BREAKDOWNS``), and ``weeks`` (interviews held, and held within 72 hours, by the week the referral was made).
    Exact numbers: pass it through ``suppressed`` before it leaves the service."""
    if session.get_bind().dialect.name == "postgresql":
        # PostgreSQL would compile these plans to machine code (their estimated cost is high), which took longer
        # than running them: 2.6 s of a year's report over 100,000 referrals. For this transaction only.
        session.execute(sa.text("SET LOCAL jit = off"))
    settings = {setting: empty_figures() for setting in SETTINGS}
    _count_referrals(session, scope, settings)
    _count_risks(session, scope, settings)
    _count_episodes(session, scope, settings)
    overall = empty_figures()
    for figures in settings.values():
        _add(overall, figures)
    return {
        "from": scope.first_day.isoformat(),
        "to": scope.last_day.isoformat(),
        "area": scope.area,
        "overall": overall,
        "settings": settings,
        "weeks": _weeks(session, scope),
    }


# --- the referrals ------------------------------------------------------------------------------------------

_LATEST_EPISODE = aliased(Episode, name="latest_episode")
_STANDING = aliased(Booking, name="standing_booking")
HELD = Referral.outcome == ReferralOutcome.INTERVIEW_HELD


def _referrals(scope: Scope, *columns: Any, settings: bool = True) -> sa.Select[Any]:
    """The period's referrals, joined to the latest episode each covers and to the confirmed booking that stands
    (the latest); without ``settings``, to the booking only. Each is found by one GROUP BY over the rows of the
    period's referrals, joined by hash: measured on 100,000 referrals, a year's report cost a third less so than
    with a look-up per referral by index, and a month's about the same."""
    period = sa.select(Referral.id).where(*scope.where())
    standing = (
        sa.select(Booking.referral_id, sa.func.max(Booking.id).label("booking_id"))
        .where(Booking.status == BookingStatus.CONFIRMED, Booking.referral_id.in_(period))
        .group_by(Booking.referral_id)
        .subquery("standing")
    )
    query = sa.select(*columns).select_from(Referral)
    if settings:
        covered = (
            sa.select(referral_episodes.c.referral_id, sa.func.max(referral_episodes.c.episode_id).label("episode_id"))
            .where(referral_episodes.c.referral_id.in_(period))
            .group_by(referral_episodes.c.referral_id)
            .subquery("covered")
        )
        query = query.outerjoin(covered, covered.c.referral_id == Referral.id).outerjoin(
            _LATEST_EPISODE, _LATEST_EPISODE.id == covered.c.episode_id
        )
    return (
        query.outerjoin(standing, standing.c.referral_id == Referral.id)
        .outerjoin(_STANDING, _STANDING.id == standing.c.booking_id)
        .where(*scope.where())
    )


def _episode_column(column: Any) -> sa.ColumnElement[Any]:
    """A column of the latest episode the referral covers; for a referral that covers none (one declined before
    anything was told, then told in the same conversation), of the person's latest episode. That look-up is
    made only for such referrals: both databases evaluate a CASE's branches lazily."""
    persons = (
        sa.select(getattr(Episode, column.key))
        .where(Episode.contact_id == Referral.contact_id)
        .order_by(Episode.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return sa.case((_LATEST_EPISODE.id.is_(None), persons), else_=column)


def held_in_time() -> sa.ColumnElement[bool]:
    """For an interview held: when, against the 72-hour deadline. The confirmed time, else (a time in their own
    words) whether the booking was after the deadline, else (held with no booking here) when the worker recorded
    it. No deadline (no return known) is in time, as on the queue."""
    return sa.case(
        (Referral.deadline_at.is_(None), True),
        (_STANDING.starts_at.is_not(None), _STANDING.starts_at <= Referral.deadline_at),
        (_STANDING.id.is_not(None), sa.not_(_STANDING.outside_window)),
        else_=Referral.outcome_at <= Referral.deadline_at,
    )


def _setting(value: str | None) -> str:
    return SETTING_OF.get(Setting(value), NOT_KNOWN) if value else NOT_KNOWN


def _flag(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.case((condition, 1), else_=0)


def _count_referrals(session: Session, scope: Scope, settings: dict[str, dict[str, Any]]) -> None:
    """One GROUP BY over the period's referrals, by every column a figure splits on, with the yes-or-no figures
    summed in each group rather than grouped by (a narrower key to hash); the groups (a few hundred for a year of
    100,000 referrals) are then added up here."""
    in_time = held_in_time()
    is_declined = declined()
    # "" for a reason not recorded; NULL for a referral not declined, or not held late
    decline_reason = sa.case((is_declined, sa.func.coalesce(sa.type_coerce(Referral.decline_reason, sa.String), "")))
    delay_reason = sa.func.coalesce(sa.type_coerce(_STANDING.delay_reason, sa.String), "")
    keys = {
        "setting": _episode_column(_LATEST_EPISODE.setting),
        "age_band": _episode_column(_LATEST_EPISODE.age_band),
        "area": Referral.area,
        "language": Referral.language,
        "channel": Referral.channel,
        "referred_by": Referral.referred_by,
        "decline_reason": decline_reason,
        "delay_reason": sa.case((sa.and_(HELD, sa.not_(in_time)), delay_reason)),
    }
    summed = {
        "offered": offered(),
        "accepted": accepted(),
        "declined": is_declined,
        "held": HELD,
        "held_within_72_hours": sa.and_(HELD, in_time),
        "follow_up_needed": Referral.follow_up_needed.is_not(None),
        "follow_up_provided": Referral.follow_up_provided.is_not(None),
    }
    labelled = [column.label(name) for name, column in keys.items()]
    sums = [sa.func.sum(_flag(condition)).label(name) for name, condition in summed.items()]
    query = _referrals(scope, *labelled, *sums, sa.func.count().label("referrals")).group_by(*labelled)
    for group in session.execute(query).mappings():
        figures, number = settings[_setting(group["setting"])], group["referrals"]
        for name in summed:
            figures[name] += int(group[name])
        if group["decline_reason"] is not None:
            figures["decline_reasons"][group["decline_reason"] or NOT_RECORDED] += number
        if group["delay_reason"] is not None:
            figures["held_after_72_hours"] += number
            figures["delay_reasons"][group["delay_reason"] or NOT_RECORDED] += number
        by_who = "self_referrals" if group["referred_by"] == ReferredBy.SELF else "parent_reports"
        figures[by_who] += number
        band = group["age_band"] if group["age_band"] in FIXED_KEYS["by_age_band"] else NOT_KNOWN
        figures["by_age_band"][band] += number
        figures["by_language"][group["language"]] += number
        figures["by_channel"][group["channel"]] += number
        area = group["area"] or NOT_KNOWN
        figures["by_area"][area] = figures["by_area"].get(area, 0) + number


def _count_risks(session: Session, scope: Scope, settings: dict[str, dict[str, Any]]) -> None:
    """Referrals with at least one alert in each category, raised by that referral's person: on the referral,
    or before they had one (an alert raised mid-journey belongs to no referral yet). Read from the alerts, far
    fewer than the referrals; the setting is looked up for each referral with one."""
    raised = sa.and_(
        Escalation.contact_id == Referral.contact_id,
        sa.or_(Escalation.referral_id == Referral.id, Escalation.referral_id.is_(None)),
    )
    alerted = (
        sa.select(Referral.id, Referral.contact_id, Escalation.category)
        .join(Escalation, raised)
        .where(*scope.where())
        .distinct()
        .subquery("alerted")
    )
    latest = (
        sa.select(sa.func.max(referral_episodes.c.episode_id))
        .where(referral_episodes.c.referral_id == alerted.c.id)
        .correlate(alerted)  # two levels down: SQLAlchemy correlates only with the select just around it
        .scalar_subquery()
    )
    persons = Episode.contact_id == alerted.c.contact_id
    setting = sa.func.coalesce(
        sa.select(Episode.setting).where(Episode.id == latest).scalar_subquery(),
        sa.select(Episode.setting).where(persons).order_by(Episode.id.desc()).limit(1).scalar_subquery(),
    )
    located = sa.select(setting.label("setting"), alerted.c.category).subquery("located")
    query = sa.select(located.c.setting, located.c.category, sa.func.count()).group_by(
        located.c.setting, located.c.category
    )
    for setting_value, category, number in session.execute(query):
        risks = settings[_setting(setting_value)]["risks"]
        risks[category] = risks.get(category, 0) + number


# --- the episodes ---------------------------------------------------------------------------------------------


def _count_episodes(session: Session, scope: Scope, settings: dict[str, dict[str, Any]]) -> None:
    """Episodes told in the period, each counted once: an episode told twice by the same person (the same
    contact, the same day of return, or of leaving when the return is not known) is one, counted in the setting
    it was first told with. An episode is the provider's (and the area's) of the referral that covers it, else of
    the person's latest referral (a second episode told in a conversation whose referral is still open); one
    with no referral at all is nobody's and not counted. ``hidden_episodes`` are those the police were not told
    of; ``repeat``, people with more than one episode, counted in the setting of their latest."""
    start, end = scope.bounds
    told = sa.select(Episode.id).where(Episode.created_at >= start, Episode.created_at < end)
    covering = (
        sa.select(referral_episodes.c.episode_id, sa.func.max(referral_episodes.c.referral_id).label("referral_id"))
        .where(referral_episodes.c.episode_id.in_(told))
        .group_by(referral_episodes.c.episode_id)
        .subquery("covering")
    )
    persons = (  # looked up only for an episode no referral covers (COALESCE is lazy)
        sa.select(sa.func.max(Referral.id)).where(Referral.contact_id == Episode.contact_id).scalar_subquery()
    )
    day = sa.func.coalesce(sa.func.date(Episode.returned_at), sa.func.date(Episode.left_at))
    theirs = (  # materialised, so that the look-up is not made once per pair of rows in the join below
        sa.select(
            Episode.id,
            Episode.contact_id,
            Episode.created_at,
            # With no day known, an episode is one of its own.
            sa.case((day.is_(None), sa.cast(Episode.id, sa.String)), else_=sa.cast(day, sa.String)).label("day"),
            sa.func.coalesce(covering.c.referral_id, persons).label("referral_id"),
        )
        .outerjoin(covering, covering.c.episode_id == Episode.id)
        .where(Episode.created_at >= start, Episode.created_at < end)
        .cte("theirs")
        .prefix_with("MATERIALIZED")
    )
    first_told = (
        sa.select(sa.func.min(theirs.c.id).label("id"))
        .join(Referral, Referral.id == theirs.c.referral_id)
        .where(*scope.where(made_at=theirs.c.created_at))
        .group_by(theirs.c.contact_id, theirs.c.day)
        .subquery("first_told")
    )
    person = Episode.contact_id
    ranked = (
        sa.select(
            Episode.setting,
            _flag(Episode.police_informed == PoliceInformed.NO).label("hidden"),
            sa.func.count().over(partition_by=person).label("episodes_of_person"),
            sa.func.row_number().over(partition_by=person, order_by=Episode.id.desc()).label("newest_first"),
        )
        .join(first_told, first_told.c.id == Episode.id)
        .subquery("ranked")
    )
    went_again = sa.and_(ranked.c.episodes_of_person > 1, ranked.c.newest_first == 1)
    query = sa.select(
        ranked.c.setting, sa.func.count(), sa.func.sum(ranked.c.hidden), sa.func.sum(_flag(went_again))
    ).group_by(ranked.c.setting)
    for setting, number, hidden, repeat in session.execute(query):
        figures = settings[_setting(setting)]
        figures["episodes"] += number
        figures["hidden_episodes"] += int(hidden or 0)
        figures["repeat"] += int(repeat or 0)


# --- over time ------------------------------------------------------------------------------------------------


def _hour(column: sa.ColumnElement[datetime], dialect: str) -> sa.ColumnElement[str]:
    """The UTC hour of a time as text ("2026-11-02 14"), on either database: local weeks are made from it."""
    if dialect == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return sa.func.strftime("%Y-%m-%d %H", column)


def _weeks(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Interviews held, and held within 72 hours, by the local week (Monday first) the referral was made in."""
    weeks = {monday: {"week": monday.isoformat(), "held": 0, "held_within_72_hours": 0} for monday in _mondays(scope)}
    hour = _hour(Referral.created_at, session.get_bind().dialect.name).label("hour")
    query = _referrals(scope, hour, sa.func.count(), sa.func.sum(_flag(held_in_time())), settings=False)
    query = query.where(HELD).group_by(hour)
    for text, held, within in session.execute(query):
        made = datetime.strptime(text, "%Y-%m-%d %H").replace(tzinfo=UTC).astimezone(scope.timezone).date()
        week = weeks[made - timedelta(days=made.weekday())]
        week["held"] += held
        week["held_within_72_hours"] += int(within or 0)
    return list(weeks.values())


def _mondays(scope: Scope) -> Iterator[date]:
    monday = scope.first_day - timedelta(days=scope.first_day.weekday())
    while monday <= scope.last_day:
        yield monday
        monday += timedelta(days=7)


# --- what leaves the service ------------------------------------------------------------------------------------


def _add(total: dict[str, Any], figures: dict[str, Any]) -> None:
    for name in COUNTS:
        total[name] += figures[name]
    for name in BREAKDOWNS:
        for key, number in figures[name].items():
            total[name][key] = total[name].get(key, 0) + number


def hide_small(number: int | None) -> int | None:
    """A count of 1 to 4 becomes None (shown as "<5"); none at all, and 5 or more, are shown as they are."""
    return None if number is not None and 0 < number < SMALL_NUMBER else number


def suppressed(report: dict[str, Any]) -> dict[str, Any]:
    """The report with every count from 1 to 4 hidden (None), for the API, the CSV and the partnership's view.
    Each number is hidden on its own: a total can still be read, never a small group in it."""
    shown = copy.deepcopy(report)
    for figures in (shown["overall"], *shown["settings"].values()):
        for name in COUNTS:
            figures[name] = hide_small(figures[name])
        for name in BREAKDOWNS:
            figures[name] = {key: hide_small(number) for key, number in figures[name].items()}
    for week in shown["weeks"]:
        week["held"] = hide_small(week["held"])
        week["held_within_72_hours"] = hide_small(week["held_within_72_hours"])
    return shown


CSV_COLUMNS = ("from", "to", "area", "setting", "measure", "value")


def csv_rows(report: dict[str, Any]) -> Iterator[tuple[str, ...]]:
    """One row per setting (``overall`` first) and measure; a breakdown's measures are ``decline_reasons.no_need``
    and the like. A hidden count reads ``<5``."""
    yield CSV_COLUMNS
    period = (report["from"], report["to"], report["area"] or "all")
    for setting, figures in (("overall", report["overall"]), *report["settings"].items()):
        for measure, number in measures(figures):
            yield (*period, setting, measure, SUPPRESSED_IN_CSV if number is None else str(number))


def as_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(csv_rows(report))
    return out.getvalue()


def measures(figures: dict[str, Any]) -> Iterator[tuple[str, int | None]]:
    """Every figure of one setting as (measure, count), in the README's order."""
    for name in COUNTS:
        yield name, figures[name]
    for name in BREAKDOWNS:
        for key in sorted(figures[name]) if name == "by_area" else figures[name]:
            yield f"{name}.{key}", figures[name][key]


def csv_filename(report: dict[str, Any]) -> str:
    """A name for the download: the period and the area, in letters, digits and dashes only."""
    area = "-" + re.sub(r"[^a-z0-9]+", "-", report["area"].lower()) if report["area"] else ""
    return f"return-interviews-{report['from']}-to-{report['to']}{area}.csv"
