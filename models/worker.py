"""A provider's independent RHI worker."""

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_type
from models.enums import Gender

if TYPE_CHECKING:
    from models.availability import WeeklyAvailability
    from models.provider import Provider
    from models.slot import Slot


class Worker(Base):
    """A worker, with what a young person may ask for: language, gender, area."""

    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    languages: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    gender: Mapped[Gender | None] = mapped_column(enum_type(Gender))
    areas: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)

    provider: Mapped["Provider"] = relationship(back_populates="workers")
    slots: Mapped[list["Slot"]] = relationship(
        back_populates="worker", cascade="all, delete-orphan", passive_deletes=True
    )
    weekly_availability: Mapped[list["WeeklyAvailability"]] = relationship(
        back_populates="worker", cascade="all, delete-orphan", passive_deletes=True
    )
