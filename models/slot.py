"""A time a worker is available for an interview."""

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, enum_type
from models.enums import SlotStatus

if TYPE_CHECKING:
    from models.place import Place
    from models.worker import Worker


class Slot(Base):
    __tablename__ = "slots"
    __table_args__ = (
        sa.UniqueConstraint("worker_id", "starts_at"),
        # Finding open slots soon is the booking query.
        sa.Index(None, "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("workers.id", ondelete="CASCADE"))
    place_id: Mapped[int | None] = mapped_column(sa.ForeignKey("places.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[SlotStatus] = mapped_column(enum_type(SlotStatus), default=SlotStatus.OPEN)

    worker: Mapped["Worker"] = relationship(back_populates="slots")
    place: Mapped["Place | None"] = relationship()
