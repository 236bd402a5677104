"""A safeguarding alert raised by triage, waiting for a human."""

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, enum_type, utcnow
from models.crypto import EncryptedJSON, EncryptedText
from models.enums import Severity

if TYPE_CHECKING:
    from models.contact import Contact
    from models.inbound_event import InboundEvent
    from models.referral import Referral


class Escalation(Base):
    """What was said (``excerpt``, ``matches``: encrypted), how serious, and when a person picked it up."""

    __tablename__ = "escalations"
    __table_args__ = (sa.Index(None, "severity", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    referral_id: Mapped[int | None] = mapped_column(sa.ForeignKey("referrals.id", ondelete="SET NULL"))
    inbound_event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inbound_events.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(sa.String(32))
    severity: Mapped[Severity] = mapped_column(enum_type(Severity))
    excerpt: Mapped[str] = mapped_column(EncryptedText)
    matches: Mapped[list[Any]] = mapped_column(EncryptedJSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(sa.String(128))
    # The member of staff who acknowledged it has it until they mark it done ("In progress" until then).
    assigned_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Duty-worker notifications: how many were sent and when the last went out (re-notify if no ack).
    notified_count: Mapped[int] = mapped_column(default=0)
    last_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contact: Mapped["Contact"] = relationship()
    referral: Mapped["Referral | None"] = relationship()
    inbound_event: Mapped["InboundEvent | None"] = relationship()
