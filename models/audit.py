"""The audit log: who saw or changed what about a child, and when."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class AuditEntry(Base):
    """One thing someone did with a young person's record. Never holds the person's words or number: ``contact_id``
    finds the person (whose row outlives their data), ``what`` says what was done in the service's words."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    who: Mapped[str] = mapped_column(sa.String(254))  # a staff email, "api:<provider>" or "system"
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(sa.String(32))  # see bot.admin.audit.Action
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    what: Mapped[str] = mapped_column(sa.String(200))
