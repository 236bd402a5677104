"""A raw delivery from a channel, recorded once under the channel's own id."""

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, enum_type, utcnow
from models.crypto import EncryptedJSON
from models.enums import Channel

if TYPE_CHECKING:
    from models.contact import Contact


class InboundEvent(Base):
    """One Telegram update or Twilio message, unique per (channel, external_id).

    A channel redelivers when it is not answered in time; the unique constraint stops the second copy,
    and ``response`` is what the first one was answered with, to be sent again.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (sa.UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    external_id: Mapped[str] = mapped_column(sa.String(128))
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response: Mapped[Any | None] = mapped_column(EncryptedJSON)

    contact: Mapped["Contact | None"] = relationship()
