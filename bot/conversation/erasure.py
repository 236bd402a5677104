"""What "delete my data" removes: the one place that knows every copy the bot keeps of a person's words and
identifiers.

What goes: their messages (both ways) and their words on the To read list; the words and matched phrases
of their safeguarding alerts; their own words about a time or a decline; their number or chat id; the
channel's ids of their messages (a Twilio MessageSid or a Telegram message or update id finds the number
again in the channel's logs) and the answers kept to repeat to a channel; and all of that in the outbox,
delivered or not.

What the provider keeps (whether to keep a safeguarding record is its decision, not the bot's): referrals,
episodes, bookings and alerts, with their codes, categories, severities and times, and the events it was
sent with their ids, so nothing it already holds stops matching. A worker's own notes on a referral are the
provider's record, not the person's words, and stay.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.outbox.writing import forget_the_person
from models import (
    DELETED_ADDRESS_PREFIX,
    Booking,
    Contact,
    Escalation,
    InboundEvent,
    Message,
    Referral,
    ReviewItem,
    address_hash,
)

# What an inbound delivery's channel id becomes: unique (the event's own id), and about nobody.
ERASED_DELIVERY_PREFIX = "erased-"


def erase_person(session: Session, contact: Contact) -> None:
    """Remove what identifies ``contact`` and what they wrote, in the caller's transaction (see the module).

    Safe to run again in the same transaction: the message that asks for it runs it once more after its own
    delivery and any alert it raised are recorded, so those lose the person's words the same way.
    """
    session.execute(sa.delete(Message).where(Message.contact_id == contact.id))
    session.execute(sa.delete(ReviewItem).where(ReviewItem.contact_id == contact.id))
    session.execute(
        sa.update(Escalation).where(Escalation.contact_id == contact.id).values(excerpt="", matches=[]),
        execution_options={"synchronize_session": "fetch"},
    )
    session.execute(
        sa.update(InboundEvent)
        .where(InboundEvent.contact_id == contact.id)
        .values(external_id=ERASED_DELIVERY_PREFIX + sa.cast(InboundEvent.id, sa.String), response=None),
        execution_options={"synchronize_session": False},
    )
    referrals = sa.select(Referral.id).where(Referral.contact_id == contact.id)
    session.execute(
        sa.update(Referral)
        .where(Referral.contact_id == contact.id, Referral.decline_text.is_not(None))
        .values(decline_text=None),
        execution_options={"synchronize_session": "fetch"},
    )
    session.execute(
        sa.update(Booking)
        .where(Booking.referral_id.in_(referrals), Booking.preferred_time_text.is_not(None))
        .values(preferred_time_text=None),
        execution_options={"synchronize_session": "fetch"},
    )
    forget_the_person(session, contact.id)
    if not contact.address.startswith(DELETED_ADDRESS_PREFIX):
        placeholder = f"{DELETED_ADDRESS_PREFIX}{secrets.token_hex(16)}"
        contact.address = placeholder
        contact.address_hash = address_hash(contact.channel, placeholder)
    contact.display_name = None
    contact.found_via = None
