"""A message a person at the provider should read, though it raised no alert: the human net under the
script and the safeguarding check."""

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, enum_type, utcnow
from models.crypto import EncryptedText
from models.enums import Channel, Language, ReviewReason

if TYPE_CHECKING:
    from models.contact import Contact
    from models.referral import Referral


class ReviewItem(Base):
    """What was said (``text``: encrypted), why a person should read it, and when one did."""

    __tablename__ = "review_items"
    __table_args__ = (sa.Index(None, "provider_id", "read_at", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id", ondelete="SET NULL"))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    referral_id: Mapped[int | None] = mapped_column(sa.ForeignKey("referrals.id", ondelete="SET NULL"))
    inbound_event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inbound_events.id", ondelete="SET NULL"))
    reason: Mapped[ReviewReason] = mapped_column(enum_type(ReviewReason))
    text: Mapped[str] = mapped_column(EncryptedText)
    categories: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # what a concern is about
    language: Mapped[Language] = mapped_column(enum_type(Language))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_by: Mapped[str | None] = mapped_column(sa.String(128))
    # Duty-worker notifications while nobody has read it (as for an unacknowledged alert).
    notified_count: Mapped[int] = mapped_column(default=0)
    last_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contact: Mapped["Contact"] = relationship()
    referral: Mapped["Referral | None"] = relationship()
