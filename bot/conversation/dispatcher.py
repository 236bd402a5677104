"""One inbound message, end to end.

First, outside any lock, what the message would do: find the person and their conversation, the
SAFEGUARDING CHECK (always first), the conversation turn, and any effects that only read (offering times,
say). Then one write transaction: the conversation as decided, saved only if nobody changed it since (else
the message starts again) -> the effects that write -> the conversation as they leave it -> contact -> the
event with its answer (a repeated delivery fails here, undoing all of it, and gets the first answer) ->
alerts and "To read" items -> log -> outbox -> commit. Only then does the caller answer the channel: nothing
is acknowledged that is not committed.

Deciding before the write transaction keeps it short: SQLite has one writer at a time, and PostgreSQL holds
the person's conversation only while writing.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from bot.alerts.escalation import answered_with_safety, escalate, put_up_for_review, safety_replies, with_raised
from bot.conversation.effects import READING_EFFECTS, Deciding, EffectContext, NeedsWriting, apply_effect
from bot.conversation.erasure import erase_person
from bot.conversation.records import (
    earlier_answer,
    log_messages,
    record_delivery,
    resumed_state,
    said_by_the_bot,
    save_state,
    scripts_for,
)
from bot.outbox.delivery import enqueue_channel_message
from bot.runtime import Runtime
from bot.safeguarding import Assessment, assess_reply
from conversations.catalog import Catalog
from conversations.interpreter import Effect, Reply, Turn, UserText
from conversations.turn import carry_on, take_turn
from models import (
    Channel,
    Contact,
    ConversationState,
    Direction,
    Language,
    ReviewReason,
)
from models import address_hash as hash_address
from models.db import take_write_lock

log = logging.getLogger(__name__)

CONTACTS = Contact.__table__
STATES = ConversationState.__table__
_PERSON = (
    sa.select(
        CONTACTS.c.id,
        CONTACTS.c.language,
        CONTACTS.c.opted_out,
        CONTACTS.c.last_seen_at,
        STATES.c.version,
        STATES.c.variables,
        STATES.c.expires_at,
    )
    .select_from(CONTACTS.outerjoin(STATES, STATES.c.contact_id == CONTACTS.c.id))
    .where(CONTACTS.c.channel == sa.bindparam("channel"), CONTACTS.c.address_hash == sa.bindparam("hash"))
)

# Conflicts (two messages from one new person at once, a conversation changed since it was read) are retried
# this many times. Of the messages that conflict, one wins each round, so a burst of N messages from one
# person (a Telegram backlog delivered together) needs at most N tries for the last of them.
MAX_ATTEMPTS = 10
# When a person was last heard from is kept to the hour (what retention needs): writing it on every
# message would be one more row update per message for nothing.
LAST_SEEN_PRECISION = timedelta(hours=1)
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


@dataclass(frozen=True)
class Person:
    """What the bot knows of the sender when a message arrives: enough to decide what it does."""

    contact_id: int | None  # None: a first message
    language: Language
    opted_out: bool
    last_seen_at: datetime | None
    state_version: int | None  # None: no conversation saved yet
    variables: dict[str, Any] | None
    expires_at: datetime | None


@dataclass
class Decision:
    """What a message does, worked out from ``person``: the safeguarding check, the steps up to the first
    effect that writes, and what those steps said and changed."""

    person: Person
    releases: dict[str, int]
    state: dict[str, Any]  # the conversation as the message found it
    catalog: Catalog
    assessment: Assessment
    turn: Turn  # where the script got to: an effect still to do when ``turn.effect`` is set
    replies: tuple[Reply, ...]  # everything the steps so far said
    contact_changes: dict[str, Any] = field(default_factory=dict)  # the contact's columns set by effects
    heard: str | None = None  # what the script made of the message itself ("not_understood", "free_text")

    @property
    def review_reason(self) -> ReviewReason | None:
        """Why a person at the provider should read this message though it raised no alert, if they should."""
        if self.assessment.escalate:
            return None  # the alert is read first, and says more
        if self.assessment.outcome == "concern":
            return ReviewReason.CONCERN
        return ReviewReason(self.heard) if self.heard else None


class _DecidingSession(Deciding):
    def flush(self, objects: Any = None) -> None:
        if self.new or self.dirty or self.deleted:
            raise NeedsWriting("an effect wrote while the message was being decided")


@sa.event.listens_for(_DecidingSession, "do_orm_execute")
def _no_statement_that_writes(execution: ORMExecuteState) -> None:
    """The same for an INSERT, UPDATE or DELETE an effect runs itself (the outbox's, say)."""
    if execution.is_insert or execution.is_update or execution.is_delete:
        raise NeedsWriting("an effect wrote while the message was being decided")


_DECIDING = sessionmaker(class_=_DecidingSession, autoflush=False, expire_on_commit=False)


class Dispatcher:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def handle(self, inbound: Inbound) -> Outcome:
        """Process one inbound message; safe to call again with the same delivery."""
        if len(inbound.text) > MAX_INBOUND_CHARS:
            inbound = dataclasses.replace(inbound, text=inbound.text[:MAX_INBOUND_CHARS])
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                now = self.runtime.clock()
                # The person is read on the connection itself; the deciding session joins it only when an effect
                # reads (most messages have none), so a plain answer pays for no session transaction here.
                with self.runtime.reading_engine.connect() as reading, _DECIDING(bind=reading) as deciding:
                    decision = self._decide(deciding, inbound, self._person(reading, inbound), now)
                with self.runtime.session() as session, session.begin():
                    return self._carry_out(session, inbound, decision, now)
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

    # --- deciding: reads only ------------------------------------------------------------------------

    @staticmethod
    def _person(reading: Connection, inbound: Inbound) -> Person:
        """The sender and their saved conversation, in one query."""
        parameters = {"channel": inbound.channel, "hash": hash_address(inbound.channel, inbound.address)}
        row = reading.execute(_PERSON, parameters).one_or_none()
        if row is None:
            return Person(None, Language.EN, False, None, None, None, None)
        contact_id, language, opted_out, last_seen_at, version, variables, expires_at = row
        return Person(contact_id, Language(language), opted_out, last_seen_at, version, variables, expires_at)

    def _decide(self, session: Session, inbound: Inbound, person: Person, now: datetime) -> Decision:
        """What the message does, in the deciding session (``_DECIDING``): with the effects that only read
        (READING_EFFECTS) done too, for someone the bot knows; the rest are done when it is carried out."""
        releases = self.runtime.live_releases(session)
        state = self._state(person, now, releases)
        catalog = scripts_for(self.runtime, state, releases.get("scripts"))
        # ---- SAFEGUARDING CHECK: first, on every message, in every journey, whatever the state ----
        # (opted out, declined, mid-booking, or a hit inside a command such as "STOP I want to die").
        assessment = assess_reply(inbound.text, self.runtime.lexicon_for(releases.get("lexicon")), catalog, state)
        at = now.astimezone(self.runtime.timezone)
        event = UserText(inbound.text, at, assessment.flagged, carrier_opt_out=inbound.channel == Channel.SMS)
        effects = EffectContext(session, None, {}, now, self.runtime.timezone, contact_id=person.contact_id or 0)
        known = person.contact_id is not None
        ran = take_turn(catalog, state, event, _doer(effects, reading=True) if known else _not_yet)
        return Decision(
            person,
            releases,
            state,
            catalog,
            assessment,
            ran.turn,
            ran.replies,
            effects.contact_changes,
            ran.steps[0].heard,
        )

    # --- carrying it out: one write transaction --------------------------------------------------------

    def _carry_out(self, session: Session, inbound: Inbound, decision: Decision, now: datetime) -> Outcome:
        # SQLite: a transaction that reads before it writes cannot wait for another writer, so it begins as one.
        take_write_lock(session)
        person = decision.person
        if person.contact_id is None:
            contact = Contact.for_address(inbound.channel, inbound.address, found_via=inbound.found_via)
            contact.last_seen_at = now
            session.add(contact)
            session.flush()  # two first messages at once: one wins, the other retries and finds it
            person = dataclasses.replace(person, contact_id=contact.id)
            effects = EffectContext(session, contact, {}, now, self.runtime.timezone)
        else:
            effects = EffectContext(session, None, {}, now, self.runtime.timezone, contact_id=person.contact_id)
        assert person.contact_id is not None
        given = self.runtime.variables_for(decision.releases.get("helplines"))
        # The conversation as decided, saved first: only the message that read this version gets on (another
        # message of the same person, or a provider's, that got in since makes this one start again), and on
        # PostgreSQL it holds the person's conversation until commit, the row a worker's message locks first too.
        version = save_state(session, person.contact_id, person.state_version, decision.turn.state, given, now)
        effects.change_contact(**decision.contact_changes)  # what the effects done while deciding set

        safety = safety_replies(
            session,
            self.runtime,
            person.contact_id,
            decision.assessment,
            decision.state.get("language", "en"),
            now,
            decision.releases,
        )
        if safety:
            effects.helped_now = frozenset(decision.assessment.categories)
        ran = carry_on(decision.catalog, decision.turn, _doer(effects, reading=False))
        if effects.raised:  # an answer that is itself a reason to alert ("I'm not back yet")
            decision.assessment = with_raised(decision.assessment, effects.raised)
        if ran.looping:
            log.error("a script asked for more effects in one message than a turn may do")
        if ran.turn is not decision.turn:  # effects were carried out: the conversation moved on again
            save_state(session, person.contact_id, version, ran.turn.state, given, now, forget=effects.deleted)
        replies = (*answered_with_safety(safety, decision.replies, decision.heard), *ran.replies)

        language = Language(ran.turn.state["language"])
        if language != person.language:
            effects.change_contact(language=language)
        if person.last_seen_at is None or now - person.last_seen_at > LAST_SEEN_PRECISION:
            effects.change_contact(last_seen_at=now)
        effects.save_contact_changes()
        # Recorded with its answer; the alert or "To read" item names it, so comes after it.
        event_id = record_delivery(
            session, inbound.channel, inbound.external_id, person.contact_id, replies, now, self.runtime.clock()
        )
        if decision.assessment.escalate:
            escalate(
                session,
                self.runtime,
                effects.contact,
                event_id,
                inbound.text,
                decision.state,
                now,
                decision.assessment,
            )
        if decision.review_reason is not None and not effects.deleted:  # their words, which they asked us to delete
            put_up_for_review(
                session,
                effects.contact,
                event_id,
                decision.review_reason,
                inbound.text,
                decision.state,
                now,
                tuple(decision.assessment.categories),
            )
        if effects.deleted:
            # The delivery and any alert of the message that asked for it were recorded after the erasure ran:
            # they lose the person's words and the channel's id the same way.
            erase_person(session, effects.contact)
        else:  # after "delete my data" nothing of this person is logged, this message neither
            said = [(Direction.INBOUND, inbound.text, inbound.message_id), *said_by_the_bot(replies)]
            log_messages(session, person.contact_id, inbound.channel, said, now, inbound_event_id=event_id)
        outbox_ids: tuple[str, ...] = ()
        if inbound.reply_via_outbox and replies:
            # After "delete my data" the contact no longer holds the address, so this one message carries it.
            address = inbound.address if effects.deleted else None
            outbox_ids = (enqueue_channel_message(session, effects.contact, replies, address=address),)
        opted_out = effects.loaded.opted_out if effects.loaded is not None else person.opted_out
        escalated = tuple(decision.assessment.categories) if decision.assessment.escalate else ()
        return Outcome(replies, person.contact_id, opted_out=opted_out, escalated=escalated, outbox_ids=outbox_ids)

    def _state(self, person: Person, now: datetime, releases: dict[str, int]) -> dict[str, Any]:
        given = self.runtime.variables_for(releases.get("helplines"))
        state = resumed_state(person.variables, person.expires_at, person.language, given, now)
        state["stopped"] = person.opted_out
        return state

    # --- duplicates -----------------------------------------------------------------------------

    def _replay(self, inbound: Inbound) -> Outcome | None:
        """The answer already given to this delivery, if it was processed (a retry by the channel)."""
        with self.runtime.session() as session:
            earlier = earlier_answer(session, inbound.channel, inbound.external_id)
            if earlier is None:
                return None
            event, replies = earlier
            contact = session.get(Contact, event.contact_id) if event.contact_id else None
            return Outcome(
                replies, event.contact_id or 0, duplicate=True, opted_out=bool(contact and contact.opted_out)
            )


def _doer(effects: EffectContext, *, reading: bool):  # type: ignore[no-untyped-def]
    """Effects carried out in ``effects``' session; while ``reading``, only READING_EFFECTS, stopping before
    any other (or one that turns out to need a write), which the write transaction then does in full."""

    def do(effect: Effect) -> dict[str, Any] | None:
        if reading and effect.name not in READING_EFFECTS:
            return None
        effects.variables = dict(effect.variables)
        changed_before = dict(effects.contact_changes)
        try:
            values = apply_effect(effect.name, effects)
        except NeedsWriting:
            if not reading:
                raise
            effects.contact_changes = changed_before  # it is done again, in full, in the transaction
            return None
        # an effect may set conversation values of its own (referral_id), as well as return them
        return {**{k: v for k, v in effects.variables.items() if k == "referral_id"}, **values}

    return do


def _not_yet(effect: Effect) -> None:
    """For someone new every effect waits for the write transaction, which makes their contact first."""
    return None
