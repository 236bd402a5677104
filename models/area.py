"""An area (a local authority) the service may hear from, and the one provider that covers it."""

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base

if TYPE_CHECKING:
    from models.provider import Provider


class Area(Base):
    """An area's key (what referrals and contacts record), its names as the bot shows them, and who covers it.

    One row per area, so two providers can never cover the same one; an area nobody covers (``provider_id``
    empty) is still named, and its messages go to the default provider.
    """

    __tablename__ = "areas"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name_en: Mapped[str] = mapped_column(sa.String(100))
    name_cy: Mapped[str] = mapped_column(sa.String(100))
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id", ondelete="SET NULL"), index=True)

    provider: Mapped["Provider | None"] = relationship(back_populates="covered_areas")

    @property
    def names(self) -> dict[str, str]:
        return {"en": self.name_en, "cy": self.name_cy}
