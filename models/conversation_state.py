"""Where a contact is in a conversation script, saved between messages."""

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, utcnow
from models.crypto import EncryptedJSON

if TYPE_CHECKING:
    from models.contact import Contact


class ConversationState(Base):
    """The interpreter's state for one contact.

    ``version`` is checked on every UPDATE, so when two messages from one person are handled at once
    only the first write wins; the other raises ``sqlalchemy.orm.exc.StaleDataError``.
    """

    __tablename__ = "conversation_states"
    # PostgreSQL keeps a row up to a page's size whole (migration 0005): the encrypted variables never
    # compress, and writing them out to the TOAST table again on every message was a good part of its cost.
    __table_args__ = {"postgresql_with": {"toast_tuple_target": 8160}}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"), unique=True)
    script: Mapped[str] = mapped_column(sa.String(64))
    script_version: Mapped[str] = mapped_column(sa.String(64))
    step: Mapped[str] = mapped_column(sa.String(64))
    variables: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column()

    contact: Mapped["Contact"] = relationship(back_populates="state")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
