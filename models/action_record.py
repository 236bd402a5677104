"""Who did what, and when, on a young person's case at a provider: the record behind the timeline."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow
from models.crypto import EncryptedJSON


class ActionRecord(Base):
    """One action by a member of staff (or a provider's system through the API) about one young person.

    ``kind`` is one of ``bot.providers.record.ACTION_WORDS``; ``details`` (encrypted: a note is a worker's words
    about a child) holds what the action needs to be read back, such as a booking's new time or the checklist
    line ticked. ``by`` is a staff email or "api", as an alert's ``acknowledged_by`` is. A worker's notes are
    the provider's record, not the young person's words, so deleting the young person's data keeps them.
    """

    __tablename__ = "action_records"
    __table_args__ = (sa.Index(None, "contact_id", "at"), sa.Index(None, "provider_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"))
    referral_id: Mapped[int | None] = mapped_column(sa.ForeignKey("referrals.id", ondelete="SET NULL"))
    escalation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("escalations.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    by: Mapped[str] = mapped_column(sa.String(128))
    by_name: Mapped[str | None] = mapped_column(sa.String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
