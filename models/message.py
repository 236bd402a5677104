"""The text of the conversation, both ways."""

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, enum_type, utcnow
from models.crypto import EncryptedText
from models.enums import Channel, Direction

if TYPE_CHECKING:
    from models.contact import Contact
    from models.inbound_event import InboundEvent


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (sa.Index(None, "contact_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"))
    direction: Mapped[Direction] = mapped_column(enum_type(Direction))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    text: Mapped[str] = mapped_column(EncryptedText)
    # A bot message sent in Welsh, as the script's own English says it: what a worker who reads no Welsh sees.
    english_text: Mapped[str | None] = mapped_column(EncryptedText)
    inbound_event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("inbound_events.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The channel's own id for this message (Telegram message_id, Twilio MessageSid), so the bot can
    # delete a chat on /clear and match delivery reports; and the last status the channel reported.
    external_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    delivery_status: Mapped[str | None] = mapped_column(sa.String(32))

    contact: Mapped["Contact"] = relationship(back_populates="messages")
    inbound_event: Mapped["InboundEvent | None"] = relationship()
