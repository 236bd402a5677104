"""A person talking to the bot on one channel."""

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, WriteOnlyMapped, mapped_column, relationship

from models.base import Base, UTCDateTime, enum_type, utcnow
from models.crypto import EncryptedText, address_hash, normalise_address
from models.enums import Channel, Language, Role

if TYPE_CHECKING:
    from models.conversation_state import ConversationState
    from models.episode import Episode
    from models.message import Message
    from models.referral import Referral


# What "delete my data" leaves instead of an address: the row stays (a referral points at it), the number goes.
DELETED_ADDRESS_PREFIX = "deleted-"


class Contact(Base):
    """One address on one channel. The address is encrypted; ``address_hash`` finds it."""

    __tablename__ = "contacts"
    __table_args__ = (sa.UniqueConstraint("channel", "address_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    address_hash: Mapped[str] = mapped_column(sa.String(64))
    address: Mapped[str] = mapped_column(EncryptedText)
    language: Mapped[Language] = mapped_column(enum_type(Language), default=Language.EN)
    language_chosen: Mapped[bool] = mapped_column(default=False)
    role: Mapped[Role | None] = mapped_column(enum_type(Role))
    display_name: Mapped[str | None] = mapped_column(EncryptedText)
    opted_out: Mapped[bool] = mapped_column(default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    found_via: Mapped[str | None] = mapped_column(sa.String(64))
    area: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # When their words were last removed because the time to keep them ran out (``bot.admin.retention``); a
    # message after it starts the clock again.
    words_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    state: Mapped["ConversationState | None"] = relationship(
        back_populates="contact", cascade="all, delete-orphan", passive_deletes=True
    )
    episodes: Mapped[list["Episode"]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", passive_deletes=True
    )
    referrals: Mapped[list["Referral"]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", passive_deletes=True
    )
    # Write-only: a long conversation is never loaded whole by accident.
    messages: WriteOnlyMapped["Message"] = relationship(
        back_populates="contact", cascade="all, delete-orphan", passive_deletes=True
    )

    @staticmethod
    def address_columns(channel: Channel, address: str) -> dict[str, str]:
        """The columns that find a contact again: the channel, the address normalised, and its hash."""
        address = normalise_address(channel, address)
        return {"channel": channel, "address": address, "address_hash": address_hash(channel, address)}

    @classmethod
    def for_address(cls, channel: Channel, address: str, **fields: object) -> "Contact":
        """A new contact with its address normalised and hashed."""
        return cls(**cls.address_columns(channel, address), **fields)

    @classmethod
    def find(cls, session: Session, channel: Channel, address: str) -> "Contact | None":
        """The contact with this address on this channel, if there is one."""
        return session.scalar(
            sa.select(cls).where(cls.channel == channel, cls.address_hash == address_hash(channel, address))
        )

    def why_not_reachable(self) -> str | None:
        """Why the bot may not message this person now, or None when it may."""
        if self.opted_out:
            return "they sent STOP: the bot sends them nothing until they send START"
        if self.address.startswith(DELETED_ADDRESS_PREFIX):
            return "they deleted their data: the bot has no way to reach them"
        return None
