"""An organisation that holds Return Home Interviews for some areas."""

from datetime import datetime, time
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.area import Area
from models.base import Base, UTCDateTime, utcnow
from models.crypto import EncryptedJSON, EncryptedText
from models.db import take_write_lock

if TYPE_CHECKING:
    from models.place import Place
    from models.worker import Worker


def _new_area(key: str) -> Area:
    return Area(key=key, name_en=key.replace("_", " ").title(), name_cy=key.replace("_", " ").title())


class Provider(Base):
    """A provider: the areas it covers, where its webhooks go, and how its API calls are checked.

    ``api_token_hash`` is unique because the bearer token is how the API tells providers apart.
    """

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # Its name in Welsh messages; None: its one name is used in both languages (a name is a name).
    name_cy: Mapped[str | None] = mapped_column(sa.String(200))
    is_default: Mapped[bool] = mapped_column(default=False)
    webhook_url: Mapped[str | None] = mapped_column(sa.String(500))
    webhook_secret: Mapped[str | None] = mapped_column(EncryptedText)
    # The secret before the last rotation: events are signed with both until this time, so the provider's
    # system can change its secret in the meantime without refusing a single event.
    previous_webhook_secret: Mapped[str | None] = mapped_column(EncryptedText)
    previous_webhook_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    api_token_hash: Mapped[str | None] = mapped_column(sa.String(128), unique=True)
    auto_confirm: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Where duty workers are told of a safeguarding alert, in rota order: [{"channel": "sms", "address": ...}].
    duty_contacts: Mapped[list[dict[str, str]] | None] = mapped_column(EncryptedJSON)
    # Whether provider events may carry the young person's phone number (off: they reply through the bot).
    share_contact_address: Mapped[bool] = mapped_column(default=False)
    # How the provider books interviews: the length of one, the gap a worker needs between two, how soon
    # one can start from now, and how far ahead times are offered.
    slot_minutes: Mapped[int] = mapped_column(default=60, server_default="60")
    buffer_minutes: Mapped[int] = mapped_column(default=15, server_default="15")
    minimum_notice_minutes: Mapped[int] = mapped_column(default=120, server_default="120")
    booking_horizon_days: Mapped[int] = mapped_column(default=21, server_default="21")
    # A message on the "To read" list that nobody has read after this long is told to the duty rota.
    review_within_minutes: Mapped[int] = mapped_column(default=60, server_default="60")
    # When the service meets young people at all (local time): a worker's move or new time must fall inside.
    opens_at: Mapped[time] = mapped_column(sa.Time, default=time(9), server_default="09:00:00")
    closes_at: Mapped[time] = mapped_column(sa.Time, default=time(20), server_default="20:00:00")
    # What to do now, per alert category: the provider's own short checklist (None: the built-in one).
    alert_checklists: Mapped[dict[str, list[str]] | None] = mapped_column(sa.JSON)

    workers: Mapped[list["Worker"]] = relationship(
        back_populates="provider", cascade="all, delete-orphan", passive_deletes=True
    )
    places: Mapped[list["Place"]] = relationship(
        back_populates="provider", cascade="all, delete-orphan", passive_deletes=True
    )
    # The areas it covers (an area has one row, so one provider). ``areas`` reads and sets them by key; a key
    # set here that has no row yet gets one named from the shipped list (``bot.routing`` names them).
    covered_areas: Mapped[list[Area]] = relationship(back_populates="provider", order_by="Area.key")
    areas: AssociationProxy[list[str]] = association_proxy("covered_areas", "key", creator=_new_area)

    @classmethod
    def for_change(cls, session: Session, provider_id: int) -> "Provider | None":
        """The provider's row, locked until the transaction ends: changes to its setup (places, hours, days
        off, booking settings) and the slots remade from them then take turns, one provider at a time.

        Two such changes at once would otherwise both remake the same slots and deadlock on PostgreSQL, or
        find SQLite's database locked. On SQLite the transaction begins as the writer (``BEGIN IMMEDIATE``),
        so it must be the session's first statement; on PostgreSQL the row is ``SELECT ... FOR UPDATE``.
        """
        take_write_lock(session)
        return session.get(cls, provider_id, with_for_update=True)
