"""The database: typed models, engine and session setup, encrypted columns and migrations.

Importing this package registers every table on ``Base.metadata``.
"""

from models.action_record import ActionRecord
from models.area import Area
from models.audit import AuditEntry
from models.availability import AvailabilityException, WeeklyAvailability
from models.base import Base, UTCDateTime, utcnow
from models.booking import Booking
from models.contact import DELETED_ADDRESS_PREFIX, Contact
from models.conversation_state import ConversationState
from models.crypto import EncryptedJSON, EncryptedText, address_hash
from models.db import default_database_url, make_engine, make_session_factory, normalise_url
from models.enums import (
    AgeBand,
    BookingStatus,
    Channel,
    ChildAgrees,
    DeclineReason,
    DelayReason,
    Direction,
    Gender,
    Language,
    OfferMethod,
    OfferStatus,
    OutboxKind,
    PlaceKind,
    PoliceInformed,
    ReferralOutcome,
    ReferralStatus,
    ReferredBy,
    ReportedBy,
    ReturnedEstimate,
    ReviewReason,
    Role,
    Setting,
    Severity,
    SlotStatus,
    StaffRole,
    WorkerPreference,
)
from models.episode import Episode
from models.escalation import Escalation
from models.inbound_event import InboundEvent
from models.message import Message
from models.offer import Offer
from models.outbox import OutboxEvent, WebhookOutage
from models.place import Place
from models.provider import Provider
from models.referral import Referral, referral_episodes
from models.review_item import ReviewItem
from models.script_release import LiveRelease, ReleaseKind, ScriptDraft, ScriptRelease, StudioChange, WelshBasis
from models.slot import Slot
from models.staff_user import LoginFailures, StaffUser
from models.worker import Worker

__all__ = [
    "DELETED_ADDRESS_PREFIX",
    "ActionRecord",
    "AgeBand",
    "Area",
    "AuditEntry",
    "AvailabilityException",
    "Base",
    "Booking",
    "BookingStatus",
    "Channel",
    "ChildAgrees",
    "Contact",
    "ConversationState",
    "DeclineReason",
    "DelayReason",
    "Direction",
    "EncryptedJSON",
    "EncryptedText",
    "Episode",
    "Escalation",
    "Gender",
    "InboundEvent",
    "Language",
    "LiveRelease",
    "LoginFailures",
    "Message",
    "Offer",
    "OfferMethod",
    "OfferStatus",
    "OutboxEvent",
    "OutboxKind",
    "Place",
    "PlaceKind",
    "PoliceInformed",
    "Provider",
    "Referral",
    "ReferralOutcome",
    "ReferralStatus",
    "ReferredBy",
    "ReleaseKind",
    "ReportedBy",
    "ReturnedEstimate",
    "ReviewItem",
    "ReviewReason",
    "Role",
    "ScriptDraft",
    "ScriptRelease",
    "Setting",
    "Severity",
    "Slot",
    "SlotStatus",
    "StaffRole",
    "StaffUser",
    "StudioChange",
    "UTCDateTime",
    "WebhookOutage",
    "WeeklyAvailability",
    "WelshBasis",
    "Worker",
    "WorkerPreference",
    "address_hash",
    "default_database_url",
    "make_engine",
    "make_session_factory",
    "normalise_url",
    "referral_episodes",
    "utcnow",
]
