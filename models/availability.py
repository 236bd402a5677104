"""When a worker can hold interviews: a weekly pattern, and the days that differ from it.

Weekly hours are wall-clock times in the deployment's time zone ("Tuesdays 16:00 to 19:00" stays
16:00 across the clock changes), so they are stored as local times. The slots made from them are
instants, stored in UTC (``models.slot``).
"""

from datetime import date, datetime, time
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from models.place import Place
    from models.provider import Provider
    from models.worker import Worker


class WeeklyAvailability(Base):
    """A worker's regular hours on one day of the week (0 is Monday), optionally at one place."""

    __tablename__ = "weekly_availability"
    __table_args__ = (
        sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        sa.CheckConstraint("starts < ends", name="starts_before_ends"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("workers.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column()
    starts: Mapped[time] = mapped_column(sa.Time)
    ends: Mapped[time] = mapped_column(sa.Time)
    place_id: Mapped[int | None] = mapped_column(sa.ForeignKey("places.id", ondelete="SET NULL"))

    worker: Mapped["Worker"] = relationship(back_populates="weekly_availability")
    place: Mapped["Place | None"] = relationship()


class AvailabilityException(Base):
    """A day that differs from the weekly pattern.

    ``worker_id`` empty: the whole provider (a bank holiday, a closed day). ``available`` false: closed
    (all day when ``starts``/``ends`` are empty, else for those hours); true: extra hours that day.
    """

    __tablename__ = "availability_exceptions"
    __table_args__ = (sa.Index(None, "provider_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id", ondelete="CASCADE"))
    worker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("workers.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(sa.Date)
    starts: Mapped[time | None] = mapped_column(sa.Time)
    ends: Mapped[time | None] = mapped_column(sa.Time)
    available: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(sa.String(200))  # "Bank holiday", "Training": staff-facing only
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    provider: Mapped["Provider"] = relationship()
    worker: Mapped["Worker | None"] = relationship()
