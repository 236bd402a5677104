"""What a conversation leaves in the database: each inbound delivery, the saved state and the message log. The
one place each is written, by a person's message, a channel command and a worker's message alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.conversation.render import as_numbered_text
from bot.runtime import Runtime, with_given, without_given
from conversations.catalog import Catalog
from conversations.interpreter import Reply, new_state, restart
from models import Channel, ConversationState, Direction, InboundEvent, Message

# A conversation left this long starts again from the menu (the answers of a half-finished journey
# weeks ago are more confusing than useful, and keeping them is keeping data for no purpose).
CONVERSATION_EXPIRY = timedelta(days=14)

_STATES = ConversationState.__table__
_EVENTS = InboundEvent.__table__
_RECORD_EVENT = sa.insert(_EVENTS).returning(_EVENTS.c.id)
_LOG = sa.insert(Message.__table__)
_UPDATE_STATE = sa.update(_STATES).where(
    _STATES.c.contact_id == sa.bindparam("b_contact_id"), _STATES.c.version == sa.bindparam("b_version")
)


def _rows(session: Session) -> Connection:
    """The session's connection: these rows are written as columns, not objects, since nothing reads them back
    as objects in the transaction (the ORM's bookkeeping on each statement would cost more than the statement)."""
    return session.connection()


def record_delivery(
    session: Session,
    channel: Channel,
    external_id: str,
    contact_id: int,
    replies: Iterable[Reply],
    received_at: datetime,
    processed_at: datetime,
) -> int:
    """The delivery and what it was answered with (kept, encrypted, to give again if the channel repeats it),
    recorded once, when the answer is known: a repeated delivery fails here on the unique ``(channel,
    external_id)`` (IntegrityError), so everything it would have done is undone and the stored answer is given
    again. Alerts and "To read" items name the event, so they are written after it."""
    answer = [{"text": reply.text, "options": list(reply.options)} for reply in replies]
    values = {
        "channel": channel,
        "external_id": external_id,
        "contact_id": contact_id,
        "response": answer,
        "received_at": received_at,
        "processed_at": processed_at,
    }
    return _rows(session).execute(_RECORD_EVENT, values).scalar_one()


def earlier_answer(
    session: Session, channel: Channel, external_id: str
) -> tuple[InboundEvent, tuple[Reply, ...]] | None:
    """A delivery the channel repeats: the event, and the answer ``record_delivery`` kept for it; None when it was
    never recorded (the first try failed, and this is the channel trying again)."""
    event = session.scalars(
        sa.select(InboundEvent).where(InboundEvent.channel == channel, InboundEvent.external_id == external_id)
    ).one_or_none()
    if event is None:
        return None
    return event, tuple(Reply(item["text"], tuple(item.get("options", ()))) for item in event.response or [])


def resumed_state(
    saved: dict[str, Any] | None, expires_at: datetime | None, language: str, given: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The conversation as it runs from what ``save_state`` kept (None: nothing yet, a new one in ``language``):
    started again from the menu when it expired, and with what every conversation is given (``given``)."""
    if saved is None:
        return new_state(language, given)
    state = dict(saved)
    if expires_at and expires_at < now:
        state = restart(state)
    return with_given(state, given)


def scripts_for(runtime: Runtime, state: dict[str, Any], live_scripts: int | None) -> Catalog:
    """The scripts a conversation runs on: a conversation under way finishes on the release it started with; a
    new one (or one whose release is gone, after a database backup was restored) starts on the live one."""
    if state["waiting"] in ("new", "finished"):
        state["release"] = live_scripts
    try:
        return runtime.catalog_for(state.get("release"))
    except LookupError:
        state["release"] = live_scripts
        return runtime.catalog_for(live_scripts)


def save_state(
    session: Session,
    contact_id: int,
    version: int | None,
    state: dict[str, Any],
    given: dict[str, Any],
    now: datetime,
    *,
    forget: bool = False,
) -> int:
    """Save the conversation of ``contact_id`` as ``state`` leaves it; the version saved.

    ``version`` is the one the caller read (None: no conversation saved yet). Only the writer that read it
    wins: anyone else raises StaleDataError and starts again, and two first conversations for one person are
    refused by the unique contact_id. On PostgreSQL the winner holds the row until it commits, so this is also
    the lock that puts two messages from one person one after the other. ``given`` are the values every
    conversation is given afresh (helplines), which are not saved. With ``forget`` (after "delete my data")
    only the language is kept.
    """
    if forget:
        state = restart(state, keep=())
    state = without_given(state, given)
    values = {
        "script": state["script"],
        "step": state["step"] or "",
        "script_version": state["versions"].get(state["script"], ""),
        "variables": state,
        "expires_at": now + CONVERSATION_EXPIRY,
        "updated_at": now,
    }
    if version is None:
        _rows(session).execute(sa.insert(_STATES), {"contact_id": contact_id, "version": 1, **values})
        return 1
    else:
        updated = _rows(session).execute(
            _UPDATE_STATE, {"b_contact_id": contact_id, "b_version": version, "version": version + 1, **values}
        )
        if updated.rowcount != 1:
            raise StaleDataError("the conversation state changed while this message was handled")
        return version + 1


def log_messages(
    session: Session,
    contact_id: int,
    channel: Channel,
    said: Iterable[tuple[Direction, str, str | None] | Said],
    now: datetime,
    *,
    inbound_event_id: int | None = None,
) -> None:
    """Add to the person's message log, in order: (who said it, the text, its id on the channel[, English])."""
    rows = [
        {
            "contact_id": contact_id,
            "direction": line.direction,
            "channel": channel,
            "text": line.text,
            "english_text": line.english,
            "inbound_event_id": inbound_event_id,
            "created_at": now,
            "external_id": line.external_id,
        }
        for line in (Said(*item) for item in said)
    ]
    if rows:
        _rows(session).execute(_LOG, rows)


class Said(NamedTuple):
    """One line of the message log: who said it, the text, its id on the channel, and (for a bot message sent in
    Welsh) the script's own English for it."""

    direction: Direction
    text: str
    external_id: str | None = None
    english: str | None = None


def said_by_the_bot(replies: Iterable[Reply]) -> list[Said]:
    """The bot's replies as the log keeps them."""
    return [
        Said(
            Direction.OUTBOUND,
            as_numbered_text(reply),
            english=as_numbered_text(reply.english) if reply.english else None,
        )
        for reply in replies
    ]
