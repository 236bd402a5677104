"""One inbound message, end to end, in one transaction.

record the event (a duplicate stops here and gets the same answer) -> find the contact ->
SAFEGUARDING TRIAGE (always first) -> lock the conversation -> interpreter -> effects -> outbox ->
log -> commit. Only then does the caller answer the channel: nothing is acknowledged that is not
committed.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.delivery import enqueue_channel_message
from bot.effects import EffectContext, apply_effect
from bot.escalation import triage_and_escalate
from bot.render import as_numbered_text
from bot.runtime import Runtime
from conversations.catalog import Catalog
from conversations.interpreter import EffectDone, Reply, Turn, UserText, advance, new_state, restart
from models import Channel, Contact, ConversationState, Direction, InboundEvent, Message, utcnow

log = logging.getLogger(__name__)

# A conversation left this long starts again from the menu (the answers of a half-finished journey
# weeks ago are more confusing than useful, and keeping them is keeping data for no purpose).
CONVERSATION_EXPIRY = timedelta(days=14)
# Effects one message may cause; a script that asks for more is looping.
MAX_EFFECTS_PER_MESSAGE = 20
# Conflicts (two messages from one new person at once, a stale state) are retried this many times.
MAX_ATTEMPTS = 4
MAX_INBOUND_CHARS = 4000  # longer input is cut before storage; no channel sends more in one message


@dataclass(frozen=True)
class Inbound:
    channel: Channel
    address: str  # phone number or chat id: encrypted at rest, never logged
    external_id: str  # the channel's id for this delivery (MessageSid, update_id)
    text: str
    found_via: str | None = None  # a deep-link source such as "school_poster"
    # True where the channel cannot answer in its own HTTP response (Telegram): the replies are written to
    # the outbox in the same transaction and sent from there, so a crash after commit loses none of them.
    reply_via_outbox: bool = False
    # The channel's id for the person's message (Telegram message_id, Twilio MessageSid), kept on the logged
    # message so Telegram's /clear can delete it from the chat later.
    message_id: str | None = None


@dataclass(frozen=True)
class Outcome:
    replies: tuple[Reply, ...]
    contact_id: int
    duplicate: bool = False
    opted_out: bool = False
    escalated: tuple[str, ...] = field(default_factory=tuple)
    outbox_ids: tuple[str, ...] = ()  # replies waiting in the outbox, for the caller to send at once


class Dispatcher:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def handle(self, inbound: Inbound) -> Outcome:
        """Process one inbound message; safe to call again with the same delivery."""
        inbound = dataclasses.replace(inbound, text=inbound.text[:MAX_INBOUND_CHARS])
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self.runtime.session() as session, session.begin():
                    return self._handle(session, inbound)
            except IntegrityError:
                replay = self._replay(inbound)
                if replay is not None:
                    return replay
                if attempt == MAX_ATTEMPTS:
                    raise
            except (StaleDataError, OperationalError):
                if attempt == MAX_ATTEMPTS:
                    raise
            log.info("retrying an inbound message after a conflict (attempt %d)", attempt)
        raise AssertionError("unreachable")

    # --- one attempt, inside the transaction ---------------------------------------------------

    def _handle(self, session: Session, inbound: Inbound) -> Outcome:
        now = utcnow()
        event = InboundEvent(channel=inbound.channel, external_id=inbound.external_id, received_at=now)
        session.add(event)
        session.flush()  # a repeated delivery fails here, before anything else is written

        contact = self._contact(session, inbound, now)
        session.add(
            Message(
                contact=contact,
                direction=Direction.INBOUND,
                channel=inbound.channel,
                text=inbound.text,
                inbound_event=event,
                created_at=now,
                external_id=inbound.message_id,
            )
        )

        row = self._locked_state(session, contact)
        releases = self.runtime.live_releases(session)
        state = self._state(row, contact, now, releases)
        catalog = self._catalog(state, releases)

        # ---- SAFEGUARDING TRIAGE: first, on every message, in every journey, whatever the state ----
        # (opted out, declined, mid-booking, or a hit inside a command such as "STOP I want to die").
        safety = triage_and_escalate(session, self.runtime, contact, event, inbound.text, state, now, releases)

        turn = advance(catalog, state, UserText(inbound.text, now.astimezone(self.runtime.timezone)))
        replies = list(turn.replies)
        effects = EffectContext(session, contact, {}, now, self.runtime.timezone)
        for _ in range(MAX_EFFECTS_PER_MESSAGE):
            if turn.effect is None:
                break
            effects.variables = dict(turn.effect.variables)
            values = apply_effect(turn.effect.name, effects)
            # an effect may set conversation values of its own (referral_id), as well as return them
            values = {**{k: v for k, v in effects.variables.items() if k == "referral_id"}, **values}
            turn = advance(catalog, turn.state, EffectDone(values))
            replies.extend(turn.replies)
        else:
            log.error("a script asked for more than %d effects in one message", MAX_EFFECTS_PER_MESSAGE)

        all_replies = (*safety.replies, *replies)
        self._save_state(session, row, contact, turn, now, forget=effects.deleted)
        if not effects.deleted:
            for reply in all_replies:
                session.add(
                    Message(
                        contact=contact,
                        direction=Direction.OUTBOUND,
                        channel=inbound.channel,
                        text=as_numbered_text(reply),
                        inbound_event=event,
                        created_at=now,
                    )
                )
        outbox_ids: tuple[str, ...] = ()
        if inbound.reply_via_outbox and all_replies:
            # After "delete my data" the contact no longer holds the address, so this one message carries it.
            address = inbound.address if effects.deleted else None
            outbox_ids = (enqueue_channel_message(session, contact, all_replies, address=address).id,)
        event.contact_id = contact.id  # set with the response: one UPDATE of the event, not two
        event.response = [_reply_json(reply) for reply in all_replies]
        event.processed_at = utcnow()
        return Outcome(
            all_replies, contact.id, opted_out=contact.opted_out, escalated=safety.categories, outbox_ids=outbox_ids
        )

    def _contact(self, session: Session, inbound: Inbound, now: datetime) -> Contact:
        contact = Contact.find(session, inbound.channel, inbound.address)
        if contact is None:
            contact = Contact.for_address(inbound.channel, inbound.address, found_via=inbound.found_via)
            session.add(contact)
            session.flush()  # two first messages at once: one wins, the other retries and finds it
        contact.last_seen_at = now
        return contact

    def _locked_state(self, session: Session, contact: Contact) -> ConversationState | None:
        # Row lock on PostgreSQL; on SQLite the inbound insert above already holds the write lock.
        # The version counter catches anything that slips past either.
        query = sa.select(ConversationState).where(ConversationState.contact_id == contact.id).with_for_update()
        return session.scalars(query).one_or_none()

    def _state(
        self, row: ConversationState | None, contact: Contact, now: datetime, releases: dict[str, int]
    ) -> dict[str, Any]:
        variables = self.runtime.conversation_variables(self.runtime.helplines_for(releases.get("helplines")))
        if row is None:
            state = new_state(contact.language, variables)
            state["stopped"] = contact.opted_out
            return state
        state = dict(row.variables)
        if row.expires_at and row.expires_at < now:
            state = restart(state)
        state["vars"] = {**state.get("vars", {}), **variables}
        state["stopped"] = contact.opted_out
        return state

    def _catalog(self, state: dict[str, Any], releases: dict[str, int]) -> Catalog:
        """A conversation under way finishes on the scripts it started with; a new one starts on the live ones."""
        if state["waiting"] in ("new", "finished"):
            state["release"] = releases.get("scripts")
        try:
            return self.runtime.catalog_for(state.get("release"))
        except LookupError:  # its release is gone (a restored database backup): carry on with the live one
            state["release"] = releases.get("scripts")
            return self.runtime.catalog_for(state["release"])

    def _save_state(
        self,
        session: Session,
        row: ConversationState | None,
        contact: Contact,
        turn: Turn,
        now: datetime,
        *,
        forget: bool,
    ) -> None:
        state = turn.state
        if forget:  # after "delete my data" keep only the language, so the next message is understood
            state = restart(state, keep=())
        if row is None:
            row = ConversationState(contact=contact)
            session.add(row)
        row.script = state["script"]
        row.step = state["step"] or ""
        row.script_version = state["versions"].get(state["script"], "")
        row.variables = state
        row.expires_at = now + CONVERSATION_EXPIRY
        contact.language = state["language"]

    # --- duplicates -----------------------------------------------------------------------------

    def _replay(self, inbound: Inbound) -> Outcome | None:
        """The answer already given to this delivery, if it was processed (a retry by the channel)."""
        with self.runtime.session() as session:
            event = session.scalars(
                sa.select(InboundEvent).where(
                    InboundEvent.channel == inbound.channel, InboundEvent.external_id == inbound.external_id
                )
            ).one_or_none()
            if event is None or event.processed_at is None:
                return None
            replies = tuple(Reply(item["text"], tuple(item.get("options", ()))) for item in event.response or [])
            contact = session.get(Contact, event.contact_id) if event.contact_id else None
            return Outcome(
                replies, event.contact_id or 0, duplicate=True, opted_out=bool(contact and contact.opted_out)
            )


def _reply_json(reply: Reply) -> dict[str, Any]:
    return {"text": reply.text, "options": list(reply.options)}
