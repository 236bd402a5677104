"""Fixed value sets shared by the models, the interpreter and the bot.

Each is a ``StrEnum`` whose value is the lowercase string stored in the database and used in scripts,
payloads and reports, so ``Channel.SMS == "sms"``.
"""

from enum import StrEnum


class Channel(StrEnum):
    SMS = "sms"
    TELEGRAM = "telegram"
    TERMINAL = "terminal"


class Language(StrEnum):
    EN = "en"
    CY = "cy"


class Role(StrEnum):
    YOUNG_PERSON = "young_person"
    PARENT_CARER = "parent_carer"
    OTHER = "other"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Gender(StrEnum):
    WOMAN = "woman"
    MAN = "man"
    OTHER = "other"


class PlaceKind(StrEnum):
    SCHOOL = "school"
    YOUTH_CENTRE = "youth_centre"
    CAFE = "cafe"
    WALK = "walk"
    HOME = "home"
    PHONE = "phone"
    VIDEO = "video"


class SlotStatus(StrEnum):
    OPEN = "open"
    HELD = "held"
    BOOKED = "booked"


class ReportedBy(StrEnum):
    YOUNG_PERSON = "young_person"
    PARENT_CARER = "parent_carer"
    PROVIDER = "provider"  # the provider heard of it (from the police or the council) and told the bot


class ReturnedEstimate(StrEnum):
    """When the child came back, as the person could say it (``Episode.returned_estimate``)."""

    TODAY = "today"
    YESTERDAY = "yesterday"
    DAYS_2_3 = "days_2_3"
    LONGER = "longer"
    NOT_BACK = "not_back"


class PoliceInformed(StrEnum):
    YES = "yes"
    NO = "no"
    NOT_SURE = "not_sure"


class Setting(StrEnum):
    """Where the child went missing from: the split councils must report by."""

    HOME = "home"
    CARE = "care"
    CARE_OUT_OF_AREA = "care_out_of_area"
    NOT_SURE = "not_sure"


class AgeBand(StrEnum):
    """An age band, never a birth date: the least that serves the interview."""

    UNDER_13 = "under_13"
    AGE_13_15 = "age_13_15"
    AGE_16_17 = "age_16_17"
    AGE_18_PLUS = "age_18_plus"
    NOT_SURE = "not_sure"


class ReferredBy(StrEnum):
    SELF = "self"
    PARENT_CARER = "parent_carer"
    PROVIDER = "provider"  # an episode the provider reported: the bot makes the offer


class ChildAgrees(StrEnum):
    """A parent's answer to "does your child agree?" (``Referral.child_agrees``)."""

    YES = "yes"
    NO = "no"
    NOT_SURE = "not_sure"


class ReferralStatus(StrEnum):
    OPEN = "open"
    BOOKING_REQUESTED = "booking_requested"
    BOOKED = "booked"
    DECLINED = "declined"
    CLOSED = "closed"


class WorkerPreference(StrEnum):
    ANY = "any"
    MET_BEFORE = "met_before"
    WOMAN = "woman"
    MAN = "man"
    WELSH_SPEAKER = "welsh_speaker"


class DeclineReason(StrEnum):
    NO_NEED = "no_need"
    TOO_FORMAL = "too_formal"
    FEAR_TROUBLE = "fear_trouble"
    FEAR_SHARING = "fear_sharing"
    DISTRUST_PROFESSIONALS = "distrust_professionals"
    FEAR_RETALIATION = "fear_retaliation"
    NO_PRIVACY = "no_privacy"
    DOESNT_SUIT = "doesnt_suit"
    ALREADY_SPOKE_POLICE = "already_spoke_police"
    PARENT_DECLINED = "parent_declined"
    OTHER = "other"


class BookingStatus(StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class DelayReason(StrEnum):
    """Why an interview falls outside the 72-hour window (reported to councils)."""

    YOUNG_PERSON_CHOICE = "young_person_choice"
    NO_AVAILABILITY = "no_availability"
    NO_CONTACT_YET = "no_contact_yet"


class Severity(StrEnum):
    IMMEDIATE = "immediate"
    URGENT = "urgent"


class ReviewReason(StrEnum):
    """Why a message that raised no alert is on the provider's "To read" list."""

    NOT_UNDERSTOOD = "not_understood"  # the script could not place it
    FREE_TEXT = "free_text"  # an answer in the person's own words
    CONCERN = "concern"  # the safeguarding check was not sure, or read a negation or a past mention


class OfferMethod(StrEnum):
    """How the young person was first offered an interview (``Referral.offer_method``)."""

    BOT_SMS = "bot_sms"  # the bot's offer text, after the provider reported the episode
    WORKER_PHONE = "worker_phone"  # a worker phoned them and recorded it on the referral's page
    IN_CONVERSATION = "in_conversation"  # they came to the bot themselves and were told about it there


class OfferStatus(StrEnum):
    """Where the bot's offer to one number has got to (``Offer.status``)."""

    SCHEDULED = "scheduled"  # waiting for the hours the bot texts in
    SENT = "sent"
    REOFFERED = "reoffered"  # no reply to the first: the one gentle re-offer went
    ANSWERED = "answered"  # they replied: the conversation carries on
    NO_RESPONSE = "no_response"  # no reply to either: the worker follows up by other means
    WRONG_NUMBER = "wrong_number"  # whoever has the number said it is not theirs
    STOPPED = "stopped"  # STOP, or their data deleted: nothing more is sent


OPEN_OFFER_STATUSES = (OfferStatus.SCHEDULED, OfferStatus.SENT, OfferStatus.REOFFERED)


class ReferralOutcome(StrEnum):
    """How a referral ended, as the provider records it."""

    INTERVIEW_HELD = "interview_held"
    DECLINED_IN_PERSON = "declined_in_person"
    COULD_NOT_CONTACT = "could_not_contact"
    MISSING_AGAIN = "missing_again"


class StaffRole(StrEnum):
    """Who a staff login is: a provider's duty worker or manager, a coordinator or admin of the scripts, or a
    commissioner (a council or regional board) who reads the partnership's counts and never a child's data."""

    DUTY_WORKER = "duty_worker"
    PROVIDER_ADMIN = "provider_admin"
    COORDINATOR = "coordinator"
    ADMIN = "admin"
    COMMISSIONER = "commissioner"


class OutboxKind(StrEnum):
    PROVIDER_WEBHOOK = "provider_webhook"
    CHANNEL_MESSAGE = "channel_message"
