"""One time a child went missing, as told to the bot."""

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, enum_type, utcnow
from models.enums import AgeBand, PoliceInformed, ReportedBy, Setting

if TYPE_CHECKING:
    from models.contact import Contact
    from models.referral import Referral


class Episode(Base):
    """A missing episode: every one gets its own offer of an interview.

    ``returned_estimate`` holds a ``ReturnedEstimate`` value when the exact time is not known.
    """

    __tablename__ = "episodes"
    # A provider's own reference names one episode: the same report sent again makes no second one.
    __table_args__ = (sa.UniqueConstraint("provider_id", "provider_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    reported_by: Mapped[ReportedBy] = mapped_column(enum_type(ReportedBy))
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_estimate: Mapped[str | None] = mapped_column(sa.String(32))
    still_missing: Mapped[bool] = mapped_column(default=False)
    police_informed: Mapped[PoliceInformed] = mapped_column(enum_type(PoliceInformed))
    setting: Mapped[Setting] = mapped_column(enum_type(Setting))
    age_band: Mapped[AgeBand | None] = mapped_column(enum_type(AgeBand))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the provider reported the episode (``ReportedBy.PROVIDER``): whose it is and their reference.
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id", ondelete="SET NULL"))
    provider_reference: Mapped[str | None] = mapped_column(sa.String(64))

    contact: Mapped["Contact"] = relationship(back_populates="episodes")
    referrals: Mapped[list["Referral"]] = relationship(
        secondary="referral_episodes", back_populates="episodes", passive_deletes=True
    )

    @property
    def hidden(self) -> bool:
        """A "hidden missing" episode: the police were never told. Derived, so it cannot drift."""
        return self.police_informed == PoliceInformed.NO
