"""Offering interview times: inside the 72-hour window first, then later ones."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Referral, Slot, SlotStatus, Worker

# England's statutory guidance and Wales' practice guide: the interview within 72 hours of return.
RETURN_INTERVIEW_WINDOW = timedelta(hours=72)
# A young person needs time to get there; a worker needs time to prepare.
MINIMUM_NOTICE = timedelta(hours=2)
# A handful per message: more is hard to read on a small screen and costs SMS segments.
SLOTS_PER_MESSAGE = 4


def find_slots(session: Session, referral: Referral, now: datetime, *, later: bool) -> list[Slot]:
    """Open slots of the referral's provider, one per start time, earliest first.

    ``later=False`` gives times before the referral's deadline; ``later=True`` gives times after it
    (a young person may prefer a later time; the booking then records why it is late).
    """
    deadline = referral.deadline_at or now + RETURN_INTERVIEW_WINDOW
    query = (
        sa.select(Slot)
        .join(Worker, Slot.worker_id == Worker.id)
        .where(Slot.status == SlotStatus.OPEN, Worker.active.is_(True), Slot.starts_at >= now + MINIMUM_NOTICE)
        .order_by(Slot.starts_at, Slot.id)
        .limit(SLOTS_PER_MESSAGE * 8)
    )
    if referral.provider_id is not None:
        query = query.where(Worker.provider_id == referral.provider_id)
    query = query.where(Slot.starts_at > deadline) if later else query.where(Slot.starts_at <= deadline)
    offered: list[Slot] = []
    seen_times: set[datetime] = set()
    for slot in session.scalars(query):
        if slot.starts_at not in seen_times:  # two workers free at 4pm is one choice for the young person
            seen_times.add(slot.starts_at)
            offered.append(slot)
        if len(offered) == SLOTS_PER_MESSAGE:
            break
    return offered
