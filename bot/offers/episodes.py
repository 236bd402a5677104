"""An episode a service heard about (from the police or the council) and tells the bot: checked, recorded once per
reference, and offered.

The API, the provider pages' form and a CSV batch all read a report through ``check_report`` (every value as
text, as a spreadsheet or a form sends it) and record it with ``report_episode``: one set of rules, one write path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.booking.offer import RETURN_INTERVIEW_WINDOW
from bot.offers.offering import in_hours, make_offer
from bot.outbox import events
from bot.providers.actions import Invalid, NotFound
from models import (
    AgeBand,
    Channel,
    Contact,
    Episode,
    Language,
    Offer,
    PoliceInformed,
    Provider,
    Referral,
    ReferralStatus,
    ReferredBy,
    ReportedBy,
    Role,
    Setting,
)

if TYPE_CHECKING:
    from bot.runtime import Runtime

REPORT_FIELDS = (
    "reference",
    "phone",
    "parent_phone",
    "returned_at",
    "left_at",
    "setting",
    "area",
    "language",
    "age_band",
    "police_informed",
)
MAX_REFERENCE = 64
MAX_VALUE = 200  # longer than any value a field takes: refused before it is read
# A clock a little ahead at the service is not a return in the future.
CLOCK_SKEW = timedelta(minutes=5)
# The day a return is known only by its day (no time) is taken at midday: an honest middle.
DAY_ONLY_AT = time(12, 0)
RETURN_DAY_ONLY = "day_only"  # ``Episode.returned_estimate`` when the provider gave the day alone
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UK_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2}))?$")
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:#-]*$")
WHEN_EXAMPLE = "2026-12-06T14:30:00Z or 06/12/2026 14:30"
PHONE_EXAMPLE = "a mobile number that can get texts, like 07700 900123 or +447700900123"
# UK mobiles are 07 numbers; 070 (personal numbers) and 076 (pagers) are not phones one can text.
_UK_NOT_MOBILE = ("70", "76")


@dataclass(frozen=True)
class Problem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class EpisodeReport:
    """A checked report: numbers in E.164, times aware (UTC), codes as the enums."""

    reference: str
    phone: str
    parent_phone: str | None
    returned_at: datetime
    returned_estimate: str | None
    left_at: datetime | None
    setting: Setting
    area: str
    language: Language
    age_band: AgeBand | None
    police_informed: PoliceInformed


@dataclass(frozen=True)
class Reported:
    episode_id: int
    referral_id: int
    created: bool  # False: this reference was reported before, and nothing new was made


def check_report(
    given: Mapping[str, Any],
    areas: Sequence[str],
    now: datetime,
    timezone: ZoneInfo,
    known: Mapping[str, str] | None = None,
) -> tuple[EpisodeReport | None, list[Problem]]:
    """A report from ``given`` (field -> text; empty or missing is not given), or every problem with it, each
    naming its field. ``areas`` are the areas the reporting service covers; ``known`` names every area of the
    deployment (key -> English name), to tell "another service's area" from "no area at all"."""
    problems: list[Problem] = []

    def text(field: str) -> str:
        value = given.get(field)
        value = "" if value is None else str(value).strip()
        if len(value) > MAX_VALUE:
            problems.append(Problem(field, f"at most {MAX_VALUE} characters"))
            return ""
        return value

    def code(field: str, enum: Any, default: Any) -> Any:
        value = text(field).lower().replace(" ", "_").replace("-", "_")
        if not value:
            return default
        try:
            return enum(value)
        except ValueError:
            problems.append(Problem(field, f"{value!r} is not one of {', '.join(item.value for item in enum)}"))
            return default

    reference = text("reference")
    if not reference:
        problems.append(Problem("reference", "give your own reference for this episode, so it is recorded once"))
    elif len(reference) > MAX_REFERENCE or not _REFERENCE.match(reference):
        problems.append(
            Problem("reference", f"letters, digits and . _ / : # - only, at most {MAX_REFERENCE} characters")
        )
    phone = _mobile(text("phone"), "phone", problems, required=True)
    parent_phone = _mobile(text("parent_phone"), "parent_phone", problems, required=False)
    if phone and parent_phone == phone:
        problems.append(Problem("parent_phone", "is the young person's own number: leave it out, or give the parent's"))
    returned_at, estimate = _moment(text("returned_at"), "returned_at", problems, now, timezone, required=True)
    left_at, _ = _moment(text("left_at"), "left_at", problems, now, timezone, required=False)
    if returned_at and returned_at > now + CLOCK_SKEW:
        problems.append(Problem("returned_at", "is in the future: give when they came back"))
    if left_at and left_at > now + CLOCK_SKEW:
        problems.append(Problem("left_at", "is in the future: give when they went missing"))
    if left_at and returned_at and left_at > returned_at and estimate is None:
        problems.append(Problem("left_at", "is after returned_at: they must have left before they came back"))
    area = text("area").lower()
    if not area:
        problems.append(Problem("area", f"give the area they live in: {_listed(areas)}"))
    elif area not in areas:
        name = (known or {}).get(area)
        problems.append(
            Problem(
                "area",
                f"{name} is not an area your service covers: use one of {_listed(areas)}"
                if name
                else f"{area!r} is not an area we know: use one of {_listed(areas)}",
            )
        )
    setting = code("setting", Setting, Setting.NOT_SURE)
    language = code("language", Language, Language.EN)
    age_band = code("age_band", AgeBand, None)
    police = code("police_informed", PoliceInformed, PoliceInformed.NOT_SURE)
    unknown = sorted(set(given) - set(REPORT_FIELDS))
    problems += [Problem(name, "is not a field of a report") for name in unknown]
    if problems:
        return None, problems
    assert phone is not None and returned_at is not None
    report = EpisodeReport(reference, phone, parent_phone, returned_at, estimate, left_at, setting, area, language,
                           age_band, police)  # fmt: skip
    return report, []


def _listed(areas: Sequence[str]) -> str:
    return ", ".join(sorted(areas)) or "(your service covers no areas yet)"


def _mobile(value: str, field: str, problems: list[Problem], *, required: bool) -> str | None:
    """The number in E.164 (+447700900123), read the ways people write it (07700 900123, +44 (0)7700...)."""
    if not value:
        if required:
            problems.append(Problem(field, f"give {PHONE_EXAMPLE}"))
        return None
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        national = str(number.national_number)
        if number.country_code == 44:
            # Ofcom's numbers for drama (07700 900xxx) are mobiles that libphonenumber calls invalid: the UK is
            # checked by its mobile range instead.
            mobile = national.startswith("7") and not national.startswith(_UK_NOT_MOBILE)
        else:
            mobile = phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
                phonenumbers.PhoneNumberType.MOBILE,
                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
            )
        if mobile:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    problems.append(Problem(field, f"{value!r} is not {PHONE_EXAMPLE}"))
    return None


def _moment(
    value: str, field: str, problems: list[Problem], now: datetime, timezone: ZoneInfo, *, required: bool
) -> tuple[datetime | None, str | None]:
    """A time as ISO 8601 (2026-12-06T14:30:00Z, or local time without a zone) or en-GB (06/12/2026 14:30), or a
    day alone (2026-12-06, 06/12/2026), taken at midday; and ``RETURN_DAY_ONLY`` when it was a day alone."""
    if not value:
        if required:
            problems.append(Problem(field, f"give when, e.g. {WHEN_EXAMPLE}"))
        return None, None
    try:
        if _DAY.match(value):
            return _midday(date.fromisoformat(value), now, timezone), RETURN_DAY_ONLY
        uk = _UK_DAY.match(value)
        if uk:
            day = date(int(uk.group(3)), int(uk.group(2)), int(uk.group(1)))
            if uk.group(4) is None:
                return _midday(day, now, timezone), RETURN_DAY_ONLY
            moment = datetime.combine(day, time(int(uk.group(4)), int(uk.group(5))))
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        problems.append(Problem(field, f"{value!r} is not a date and time, e.g. {WHEN_EXAMPLE}"))
        return None, None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone)
    return moment.astimezone(now.tzinfo), None


def _midday(day: date, now: datetime, timezone: ZoneInfo) -> datetime:
    """Midday of that day, or now when that is still to come today."""
    return min(datetime.combine(day, DAY_ONLY_AT, tzinfo=timezone).astimezone(now.tzinfo), now)


# --- recording ---------------------------------------------------------------------------------------------


def report_episode(
    session: Session, runtime: Runtime, provider_id: int, report: EpisodeReport, now: datetime
) -> Reported:
    """Record the episode, a referral to the reporting service and its offers, in the caller's transaction; the
    offers due now (in texting hours) are made in it too. The same reference again makes nothing new, however
    many arrive at once: the service's row is locked first, so reports of one service take turns."""
    provider = Provider.for_change(session, provider_id)
    if provider is None:
        raise NotFound("no such provider")
    earlier = session.execute(
        sa.select(Episode.id, Referral.id)
        .join(Episode.referrals)
        .where(Episode.provider_id == provider_id, Episode.provider_reference == report.reference)
        .order_by(Referral.id)
        .limit(1)
    ).first()
    if earlier is not None:
        return Reported(earlier[0], earlier[1], created=False)
    child = _contact(session, report.phone, Role.YOUNG_PERSON, report, now)
    parent = _contact(session, report.parent_phone, Role.PARENT_CARER, report, now) if report.parent_phone else None
    episode = Episode(
        contact=child,
        reported_by=ReportedBy.PROVIDER,
        left_at=report.left_at,
        returned_at=report.returned_at,
        returned_estimate=report.returned_estimate,
        still_missing=False,
        police_informed=report.police_informed,
        setting=report.setting,
        age_band=report.age_band,
        provider_id=provider_id,
        provider_reference=report.reference,
        created_at=now,
    )
    referral = Referral(
        contact=child,
        provider=provider,
        referred_by=ReferredBy.PROVIDER,
        status=ReferralStatus.OPEN,
        deadline_at=report.returned_at + RETURN_INTERVIEW_WINDOW,
        language=report.language,
        channel=Channel.SMS,
        area=report.area,
        episodes=[episode],
        created_at=now,
        updated_at=now,
    )
    offers = [Offer(referral=referral, contact=child, to_parent=False)]
    if parent is not None:
        offers.append(Offer(referral=referral, contact=parent, to_parent=True))
    first_due = in_hours(now, runtime.timezone)
    for offer in offers:
        offer.due_at, offer.created_at = first_due, now
    session.add_all([episode, referral, *offers])
    session.flush()
    events.referral_created(session, referral, [episode])
    for offer in offers:
        if first_due <= now:
            make_offer(session, runtime, offer, now)
    return Reported(episode.id, referral.id, created=True)


def _contact(session: Session, number: str, role: Role, report: EpisodeReport, now: datetime) -> Contact:
    """The contact for this number, made when the bot has not met it: in the report's language unless they chose
    one themselves, with the role and area the service gave when the bot knows none."""
    contact = Contact.find(session, Channel.SMS, number)
    if contact is None:
        contact = Contact.for_address(Channel.SMS, number, created_at=now, last_seen_at=now)
        session.add(contact)
    if not contact.language_chosen:
        contact.language = report.language
    contact.role = contact.role or role
    contact.area = contact.area or report.area
    return contact


def refuse(problems: Sequence[Problem]) -> Invalid:
    """The first problem as the error the API and the pages answer with."""
    return Invalid(problems[0].field, problems[0].message)
