"""Somewhere (or some way) an interview can happen."""

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_type
from models.enums import PlaceKind

if TYPE_CHECKING:
    from models.provider import Provider


class Place(Base):
    """A place offered by a provider; ``neutral`` marks somewhere that is not school, home or police."""

    __tablename__ = "places"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[PlaceKind] = mapped_column(enum_type(PlaceKind))
    name: Mapped[str] = mapped_column(sa.String(200))
    area: Mapped[str | None] = mapped_column(sa.String(64))
    neutral: Mapped[bool] = mapped_column(default=False)
    accessible: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    provider: Mapped["Provider"] = relationship(back_populates="places")
