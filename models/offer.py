"""The bot's offer of an interview by text, after an episode a provider reported."""

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, enum_type, utcnow
from models.enums import OfferStatus

if TYPE_CHECKING:
    from models.contact import Contact
    from models.referral import Referral


class Offer(Base):
    """The offer to one number: the young person's, or a parent's or carer's (``to_parent``, who get the parent's
    version). ``due_at`` is when the bot next does something about it (the offer, the re-offer, marking it "no
    response"); None once nothing more is to be done."""

    __tablename__ = "offers"
    __table_args__ = (
        sa.UniqueConstraint("referral_id", "contact_id"),
        sa.Index(None, "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    to_parent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[OfferStatus] = mapped_column(enum_type(OfferStatus), default=OfferStatus.SCHEDULED)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reoffered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    referral: Mapped["Referral"] = relationship(back_populates="offers")
    contact: Mapped["Contact"] = relationship()
