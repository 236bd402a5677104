"""A request for (then a confirmed) interview time."""

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, enum_type, utcnow
from models.crypto import EncryptedText
from models.enums import BookingStatus, DelayReason, PlaceKind, WorkerPreference

if TYPE_CHECKING:
    from models.referral import Referral
    from models.slot import Slot
    from models.worker import Worker

_LIVE = sa.text("status != 'cancelled'")


class Booking(Base):
    """A booking for a referral: a slot, or a time the young person described in their own words.

    Two live bookings can never hold one slot: the database refuses the second (a partial unique index
    over bookings that are not cancelled), so a cancelled slot can be booked again.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        sa.Index("uq_bookings_slot_id_live", "slot_id", unique=True, sqlite_where=_LIVE, postgresql_where=_LIVE),
        # The reminder job asks every few seconds which confirmed bookings start soon.
        sa.Index(None, "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    slot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("slots.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    place_kind: Mapped[PlaceKind | None] = mapped_column(enum_type(PlaceKind))
    worker_preference: Mapped[WorkerPreference | None] = mapped_column(enum_type(WorkerPreference))
    worker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("workers.id", ondelete="SET NULL"))
    trusted_adult: Mapped[bool | None] = mapped_column()
    preferred_time_text: Mapped[str | None] = mapped_column(EncryptedText)
    status: Mapped[BookingStatus] = mapped_column(enum_type(BookingStatus), default=BookingStatus.REQUESTED)
    outside_window: Mapped[bool] = mapped_column(default=False)
    delay_reason: Mapped[DelayReason | None] = mapped_column(enum_type(DelayReason))
    # Why and when it was cancelled ("young_person", "provider", "new_time_requested", ...).
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(64))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Reminders already sent, each as "<kind>@<starts_at ISO>": a moved booking has a new start, so its
    # reminders are due again, and a cancelled one is never reminded.
    reminders_sent: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    referral: Mapped["Referral"] = relationship(back_populates="bookings")
    slot: Mapped["Slot | None"] = relationship()
    worker: Mapped["Worker | None"] = relationship()
