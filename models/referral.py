"""An offer of a Return Home Interview, and what the young person (or parent) said to it."""

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, enum_type, utcnow
from models.crypto import EncryptedText
from models.enums import (
    Channel,
    DeclineReason,
    Language,
    OfferMethod,
    PlaceKind,
    ReferralStatus,
    ReferredBy,
    WorkerPreference,
)

if TYPE_CHECKING:
    from models.booking import Booking
    from models.contact import Contact
    from models.episode import Episode
    from models.offer import Offer
    from models.provider import Provider

# One interview may cover several episodes.
referral_episodes = sa.Table(
    "referral_episodes",
    Base.metadata,
    sa.Column("referral_id", sa.ForeignKey("referrals.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("episode_id", sa.ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True),
)


class Referral(Base):
    """A referral to a provider, accepted or declined.

    ``deadline_at`` is the 72-hour mark after return; ``child_agrees`` (a ``ChildAgrees`` value) is asked
    only when a parent or carer refers.
    """

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id", ondelete="SET NULL"), index=True)
    referred_by: Mapped[ReferredBy] = mapped_column(enum_type(ReferredBy))
    status: Mapped[ReferralStatus] = mapped_column(enum_type(ReferralStatus), default=ReferralStatus.OPEN)
    child_agrees: Mapped[str | None] = mapped_column(sa.String(16))
    consent_given: Mapped[bool | None] = mapped_column()
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    time_preference: Mapped[str | None] = mapped_column(sa.String(32))
    place_kind: Mapped[PlaceKind | None] = mapped_column(enum_type(PlaceKind))
    worker_preference: Mapped[WorkerPreference | None] = mapped_column(enum_type(WorkerPreference))
    trusted_adult: Mapped[bool | None] = mapped_column()
    decline_reason: Mapped[DeclineReason | None] = mapped_column(enum_type(DeclineReason))
    decline_text: Mapped[str | None] = mapped_column(EncryptedText)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[Language] = mapped_column(enum_type(Language), default=Language.EN)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    area: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # What the provider did: who is on it, how it ended, and the support it led to.
    assigned_worker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("workers.id", ondelete="SET NULL"))
    # The member of staff holding the case (a duty worker who acknowledged its alert), apart from the worker
    # who will meet the young person; and when staff last read the young person's messages (the unread marker).
    assigned_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    staff_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(sa.String(32))  # see enums.ReferralOutcome
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    follow_up_needed: Mapped[str | None] = mapped_column(EncryptedText)
    follow_up_provided: Mapped[str | None] = mapped_column(EncryptedText)
    # When the young person was first offered an interview, and how (see ``record_offer``).
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_method: Mapped[OfferMethod | None] = mapped_column(enum_type(OfferMethod))

    contact: Mapped["Contact"] = relationship(back_populates="referrals")
    provider: Mapped["Provider | None"] = relationship()
    episodes: Mapped[list["Episode"]] = relationship(
        secondary=referral_episodes, back_populates="referrals", passive_deletes=True
    )
    bookings: Mapped[list["Booking"]] = relationship(
        back_populates="referral", cascade="all, delete-orphan", passive_deletes=True
    )
    offers: Mapped[list["Offer"]] = relationship(
        back_populates="referral", cascade="all, delete-orphan", passive_deletes=True
    )

    def record_offer(self, at: datetime, method: OfferMethod) -> None:
        """The young person was offered an interview at ``at`` by ``method``: the one place ``offered_at`` and
        ``offer_method`` are set. The first offer is the one kept, since the reports count offers made within 24
        hours of the return; a later one (a worker's call after the bot's text) changes nothing."""
        if self.offered_at is None or at < self.offered_at:
            self.offered_at = at
            self.offer_method = method
