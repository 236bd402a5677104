"""One inbound message, end to end.

First, outside any lock, what the message would do: find the person and their conversation, the
SAFEGUARDING CHECK (always first), the interpreter, and any effects that only read (offering times, say).
Then one write transaction: lock the person and check nothing changed since (else decide again, under the
lock) -> alerts -> effects -> state -> contact -> the event with its answer (a duplicate fails here, everything
is undone, and it gets the first answer) -> log -> outbox -> commit. Only then does the caller answer the
channel: nothing is acknowledged that is not committed.

Deciding before the write transaction keeps it short: SQLite has one writer at a time, and PostgreSQL holds
the person's row lock only while writing. Most messages (someone known answers a question, or someone new
says hello; no alert, nothing for an effect to write) are "plain": their writes are the event, the state
(only if it is still the version decided on; someone new's contact and first state), the contact's changed
columns and the log, which on PostgreSQL go in one statement that commits on its own, run on the driver's
cursor (models.db.DriverStatement).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from bot.delivery import enqueue_channel_message
from bot.effects import READING_EFFECTS, EffectContext, NeedsWriting, apply_effect
from bot.escalation import put_up_for_review, triage_and_escalate
from bot.render import as_numbered_text
from bot.runtime import Runtime, with_given, without_given
from bot.safeguarding.detector import Assessment, assess
from conversations.catalog import Catalog
from conversations.interpreter import EffectDone, Reply, Turn, UserText, advance, new_state, restart
from models import (
    Channel,
    Contact,
    ConversationState,
    Direction,
    InboundEvent,
    Language,
    Message,
    ReviewReason,
    utcnow,
)
from models import address_hash as hash_address
from models.crypto import seal_json, seal_text
from models.db import (
    DriverStatement,
    each_statement_on_its_own,
    held_or_loaded,
    inserting,
    one_writer_at_a_time,
    read,
    take_write_lock,
    updating,
)

log = logging.getLogger(__name__)

EVENTS = InboundEvent.__table__
MESSAGES = Message.__table__
STATES = ConversationState.__table__
CONTACTS = Contact.__table__

# The statements every message runs, built once: building and keying a statement costs more than
# running it on SQLite. Bound names start with "b_" (a column's own name is SQLAlchemy's to use).
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
    .where(CONTACTS.c.channel == sa.bindparam("b_channel"), CONTACTS.c.address_hash == sa.bindparam("b_hash"))
)
# Under the lock, only what tells whether anything changed since the message was decided. Rows are locked in
# one order everywhere, the conversation's first and then the contact's (a provider's message does the same),
# and the contact only "for no key update", so logging a message (whose foreign key shares the contact's key)
# never waits for it.
_CHANGED = (
    sa.select(CONTACTS.c.language, CONTACTS.c.opted_out, STATES.c.version)
    .select_from(CONTACTS.join(STATES, STATES.c.contact_id == CONTACTS.c.id))
    .where(CONTACTS.c.id == sa.bindparam("b_contact_id"))
    .with_for_update(of=STATES)
)
_CHANGED_NO_CONVERSATION = (
    sa.select(CONTACTS.c.language, CONTACTS.c.opted_out, STATES.c.version)
    .select_from(CONTACTS.outerjoin(STATES, STATES.c.contact_id == CONTACTS.c.id))
    .where(CONTACTS.c.id == sa.bindparam("b_contact_id"))
    .with_for_update(of=CONTACTS, key_share=True)
)
# The same, reading the contact's row with it, when the message is going to change it (effects, alerts): as
# columns, held as the object a query would give (models.db.held_or_loaded), for half the ORM's cost.
_CHANGED_WITH_CONTACT = (
    sa.select(CONTACTS, STATES.c.version)
    .join(STATES, STATES.c.contact_id == CONTACTS.c.id)
    .where(CONTACTS.c.id == sa.bindparam("b_contact_id"))
    .with_for_update(of=STATES)
)
_CHANGED_NO_CONVERSATION_WITH_CONTACT = (
    sa.select(CONTACTS, STATES.c.version)
    .outerjoin(STATES, STATES.c.contact_id == CONTACTS.c.id)
    .where(CONTACTS.c.id == sa.bindparam("b_contact_id"))
    .with_for_update(of=CONTACTS, key_share=True)
)
_RECORD_EVENT = sa.insert(EVENTS).returning(EVENTS.c.id)
_ANSWER_EVENT = (
    sa.update(EVENTS)
    .where(EVENTS.c.id == sa.bindparam("b_id"))
    .values(
        contact_id=sa.bindparam("b_contact_id"),
        response=sa.bindparam("b_response", type_=EVENTS.c.response.type),
        processed_at=sa.bindparam("b_processed_at", type_=EVENTS.c.processed_at.type),
    )
)
_STATE_COLUMNS = ("script", "step", "script_version", "variables", "expires_at", "updated_at")
_INSERT_STATE = sa.insert(STATES)
_UPDATE_STATE = (
    sa.update(STATES)
    .where(STATES.c.contact_id == sa.bindparam("b_contact_id"), STATES.c.version == sa.bindparam("b_version"))
    .values(
        version=sa.bindparam("b_new_version"),
        **{name: sa.bindparam(f"b_{name}", type_=STATES.c[name].type) for name in _STATE_COLUMNS},
    )
)
_LOG_MESSAGES = sa.insert(MESSAGES)
_EVENT_COLUMNS = ("channel", "external_id", "contact_id", "received_at", "processed_at", "response")
_MESSAGE_COLUMNS = ("contact_id", "direction", "channel", "text", "inbound_event_id", "created_at", "external_id")


# What a plain message's writes are given, by name (``Dispatcher._plain_parameters`` fills them in).
def _event_value(name: str) -> sa.BindParameter[Any]:
    return sa.bindparam(f"b_event_{name}", type_=EVENTS.c[name].type)


def _said(row: int) -> dict[str, sa.BindParameter[Any]]:
    """The ``row``-th message logged: who said it, what, and its id on the channel."""
    return {
        name: sa.bindparam(f"b_{name}_{row}", type_=MESSAGES.c[name].type)
        for name in ("direction", "text", "external_id")
    }


_LOGGED_CHANNEL = sa.bindparam("b_event_channel", type_=MESSAGES.c.channel.type)
_LOGGED_AT = sa.bindparam("b_event_received_at", type_=MESSAGES.c.created_at.type)


def _record_and_log(saved: sa.CTE, logged: int) -> sa.Insert:
    """The event (with its answer) and the ``logged`` messages of the contact ``saved`` returns, written only if
    it returns one; what is written returns the event's and the contact's ids."""
    recorded = (
        sa.insert(EVENTS)
        .from_select(
            _EVENT_COLUMNS,
            sa.select(
                *(_event_value(name) for name in _EVENT_COLUMNS[:2]),
                saved.c.contact_id,
                *(_event_value(name) for name in _EVENT_COLUMNS[3:]),
            ),
        )
        .returning(EVENTS.c.id, EVENTS.c.contact_id)
        .cte("recorded")
    )
    rows = sa.union_all(
        *(
            sa.select(
                *(value.label(name) for name, value in _said(row).items()),
                sa.literal(row).label("position"),
            )
            for row in range(logged)
        )
    ).subquery("logged")
    return (
        sa.insert(MESSAGES)
        .from_select(
            _MESSAGE_COLUMNS,
            sa.select(
                recorded.c.contact_id,
                rows.c.direction,
                _LOGGED_CHANNEL,
                rows.c.text,
                recorded.c.id,
                _LOGGED_AT,
                rows.c.external_id,
            )
            .select_from(recorded.join(rows, sa.true()))
            .order_by(rows.c.position),  # ids in the order said, as the log is read
        )
        .returning(MESSAGES.c.inbound_event_id, MESSAGES.c.contact_id)
    )


def _contact_values(columns: tuple[str, ...]) -> dict[str, sa.BindParameter[Any]]:
    return {name: sa.bindparam(f"b_contact_{name}", type_=CONTACTS.c[name].type) for name in columns}


@functools.cache
def _plain_message_in_one_statement(logged: int, contact_columns: tuple[str, ...]) -> sa.Insert:
    """PostgreSQL: a plain message's writes as one statement, which commits on its own.

    The state is saved only if it is still the version the message was decided on; the event (with its
    answer), the ``logged`` messages and the contact's changed columns are written only if it was. Nothing
    returned means someone got in first (psycopg reports no row count for it); a repeated delivery fails on
    the event's unique key, and nothing is written.
    """
    saved = _UPDATE_STATE.returning(STATES.c.contact_id).cte("saved")
    statement = _record_and_log(saved, logged)
    if contact_columns:  # a statement in WITH is carried out whether or not the rest refers to it
        changed = (
            sa.update(CONTACTS)
            .where(CONTACTS.c.id == sa.select(saved.c.contact_id).scalar_subquery())
            .values(_contact_values(contact_columns))
            .returning(CONTACTS.c.id)
        )
        statement = statement.add_cte(changed.cte("changed"))
    return statement


@functools.cache
def _first_message_in_one_statement(logged: int, contact_columns: tuple[str, ...]) -> sa.Insert:
    """PostgreSQL: a first message that is plain otherwise (nothing to alert, no effect), as one statement: the
    contact, their conversation, the event and the log. Nothing returned means the contact was made meanwhile
    (two first messages from one person at once); the message is then carried out again, finding them."""
    made = (
        postgresql.insert(CONTACTS)
        .values(_contact_values(contact_columns))
        .on_conflict_do_nothing(index_elements=[CONTACTS.c.channel, CONTACTS.c.address_hash])
        .returning(CONTACTS.c.id)
        .cte("made")
    )
    state = (sa.bindparam(f"b_{name}", type_=STATES.c[name].type) for name in _STATE_COLUMNS)
    saved = (
        sa.insert(STATES)
        .from_select(("contact_id", "version", *_STATE_COLUMNS), sa.select(made.c.id, sa.literal(1), *state))
        .returning(STATES.c.contact_id)
        .cte("saved")
    )
    return _record_and_log(saved, logged)


# A plain message's writes as three statements, with the parameters of the one statement PostgreSQL runs
# (``_plain_parameters``): on SQLite, which has no INSERT or UPDATE in WITH, and on PostgreSQL when that one
# statement found the conversation changed. On the driver's cursor, as the one statement is.
_PLAIN_EVENT = DriverStatement(
    sa.insert(EVENTS)
    .values(
        {
            **{name: _event_value(name) for name in _EVENT_COLUMNS if name != "contact_id"},
            "contact_id": sa.bindparam("b_contact_id", type_=EVENTS.c.contact_id.type),
        }
    )
    .returning(EVENTS.c.id)
)
_PLAIN_STATE = DriverStatement(_UPDATE_STATE.returning(STATES.c.id))


@functools.cache
def _plain_log(logged: int) -> DriverStatement:
    """The ``logged`` messages of the event ``b_event_id``, in the order said."""
    rows = [
        {
            **_said(row),
            "contact_id": sa.bindparam("b_contact_id", type_=MESSAGES.c.contact_id.type),
            "channel": _LOGGED_CHANNEL,
            "inbound_event_id": sa.bindparam("b_event_id", type_=MESSAGES.c.inbound_event_id.type),
            "created_at": _LOGGED_AT,
        }
        for row in range(logged)
    ]
    return DriverStatement(sa.insert(MESSAGES).values(rows).returning(MESSAGES.c.id))


# Someone new's first state, with the parameters of ``_plain_parameters``.
_PLAIN_FIRST_STATE = DriverStatement(
    sa.insert(STATES)
    .values(
        contact_id=sa.bindparam("b_contact_id", type_=STATES.c.contact_id.type),
        version=1,
        **{name: sa.bindparam(f"b_{name}", type_=STATES.c[name].type) for name in _STATE_COLUMNS},
    )
    .returning(STATES.c.id)
)


@functools.cache
def _on_driver(statement: sa.Select[Any] | sa.Insert) -> DriverStatement:
    """The statements a plain message runs, on the driver's cursor (see DriverStatement)."""
    return DriverStatement(statement)


def _write_one_by_one(
    connection: Connection, parameters: dict[str, Any], contact_columns: dict[str, Any], replies: int
) -> tuple[int, bool]:
    """Someone known's message written as ``_plain_message_in_one_statement`` writes it, one statement after
    another, given ``_plain_parameters``: the event (a repeated delivery fails here, before anything else is
    written), the state, the contact's changed columns and the log of their message and the ``replies``. The
    event's id, and whether the rest was written: not when the state was no longer the version decided on."""
    [(event_id,)] = _PLAIN_EVENT.rows(connection, parameters)
    if not _PLAIN_STATE.rows(connection, parameters):
        return event_id, False
    if contact_columns:
        changing = updating(CONTACTS, tuple((name, name) for name in sorted(contact_columns)))
        changed = {f"b_{name}": value for name, value in contact_columns.items()}
        changing.rows(connection, {**changed, "b_key": parameters["b_contact_id"]})
    _plain_log(1 + replies).rows(connection, {**parameters, "b_event_id": event_id})
    return event_id, True


# A conversation left this long starts again from the menu (the answers of a half-finished journey
# weeks ago are more confusing than useful, and keeping them is keeping data for no purpose).
CONVERSATION_EXPIRY = timedelta(days=14)
# Effects one message may cause; a script that asks for more is looping.
MAX_EFFECTS_PER_MESSAGE = 20
# Conflicts (two messages from one new person at once, a stale state) are retried this many times.
MAX_ATTEMPTS = 4
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


class _DecidingSession(Session):
    """The session effects read through while a message is decided. It is not the message's transaction, so
    an effect that tries to write there is stopped (NeedsWriting) and carried out in the transaction instead."""

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
        inbound = dataclasses.replace(inbound, text=inbound.text[:MAX_INBOUND_CHARS])
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                now = self.runtime.clock()
                with self.runtime.engine.connect() as connection:
                    # The reads (and on PostgreSQL a plain message's one write statement) each commit on their
                    # own: whatever they read is checked again, under the lock, before anything is written.
                    each_statement_on_its_own(connection, True)
                    row_locks = not one_writer_at_a_time(connection)
                    decision = self._decide(connection, inbound, self._person(connection, inbound), now)
                    if row_locks and self._is_plain(inbound, decision):
                        outcome = self._carry_out_in_one_statement(connection, inbound, decision, now)
                        if outcome is not None:
                            return outcome
                    connection.commit()
                    each_statement_on_its_own(connection, False)  # the writes are one transaction
                    if self._is_plain(inbound, decision):
                        return self._carry_out_plainly(connection, inbound, decision, now)
                    with self._carrying_out(connection) as session, session.begin():
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

    def _person(self, bind: Session | Connection, inbound: Inbound) -> Person:
        """The sender and their saved conversation, in one query."""
        parameters = {"b_channel": inbound.channel, "b_hash": hash_address(inbound.channel, inbound.address)}
        if isinstance(bind, Connection):  # deciding: straight to the driver
            row = next(iter(_on_driver(_PERSON).rows(bind, parameters)), None)
        else:
            row = bind.execute(_PERSON, parameters).one_or_none()
        if row is None:
            return Person(None, Language.EN, False, None, None, None, None)
        contact_id, language, opted_out, last_seen_at, version, variables, expires_at = row
        return Person(contact_id, Language(language), opted_out, last_seen_at, version, variables, expires_at)

    def _decide(
        self, bind: Session | Connection, inbound: Inbound, person: Person, now: datetime, *, reading: bool = True
    ) -> Decision:
        """What the message does; with ``reading``, effects that only read are done too (READING_EFFECTS)."""
        releases = self.runtime.live_releases(bind)
        state = self._state(person, now, releases)
        catalog = self._catalog(state, releases)
        # ---- SAFEGUARDING CHECK: first, on every message, in every journey, whatever the state ----
        # (opted out, declined, mid-booking, or a hit inside a command such as "STOP I want to die").
        assessment = assess(inbound.text, lexicon=self.runtime.lexicon_for(releases.get("lexicon")))
        flagged = assessment.outcome != "none"
        turn = advance(catalog, state, UserText(inbound.text, now.astimezone(self.runtime.timezone), flagged))
        heard = turn.heard
        replies = list(turn.replies)
        changes: dict[str, Any] = {}
        if reading and turn.effect is not None and person.contact_id is not None:
            with _DECIDING(bind=bind) as deciding:
                effects = EffectContext(deciding, None, {}, now, self.runtime.timezone, contact_id=person.contact_id)
                turn = do_effects(catalog, turn, effects, replies, reading=True)
                changes = effects.contact_changes
        return Decision(person, releases, state, catalog, assessment, turn, tuple(replies), changes, heard)

    # --- carrying it out: one write transaction --------------------------------------------------------

    @staticmethod
    def _is_plain(inbound: Inbound, decision: Decision) -> bool:
        """Most messages: someone known answers a question (or someone new says hello), nothing to alert,
        nothing for an effect to write."""
        person = decision.person
        return (
            (person.state_version is not None or person.contact_id is None)
            and not decision.assessment.escalate
            and decision.review_reason is None
            and decision.turn.effect is None
            and not inbound.reply_via_outbox
        )

    def _carry_out_in_one_statement(
        self, connection: Connection, inbound: Inbound, decision: Decision, now: datetime
    ) -> Outcome | None:
        """A plain message on PostgreSQL: one statement, atomic on its own; None when someone got in first
        (the message is then carried out in full, and decided again under the lock)."""
        person = decision.person
        language = Language(decision.turn.state["language"])
        changes = self._contact_changes(person, decision.contact_changes, language, now)
        contact_id = self._write_in_one_statement(
            connection, inbound, person, decision.turn, decision.replies, decision.releases, changes, now
        )
        if contact_id is None:
            return None
        return Outcome(decision.replies, contact_id, opted_out=person.opted_out)

    def _write_in_one_statement(
        self,
        connection: Connection,
        inbound: Inbound,
        person: Person,
        turn: Turn,
        replies: tuple[Reply, ...],
        releases: dict[str, int],
        contact_columns: dict[str, Any],
        now: datetime,
    ) -> int | None:
        """PostgreSQL: the state (if still the version decided on), the event with its answer, the log and the
        contact's ``contact_columns`` in one statement; with no contact yet, the contact and their first
        state. The contact's id if it was written, else None."""
        parameters = self._plain_parameters(inbound, person, turn, replies, releases, now)
        if person.contact_id is None:
            contact_columns = self._new_contact(inbound, contact_columns, now)
            statement = _first_message_in_one_statement(1 + len(replies), tuple(sorted(contact_columns)))
        else:
            statement = _plain_message_in_one_statement(1 + len(replies), tuple(sorted(contact_columns)))
        parameters |= {f"b_contact_{name}": value for name, value in contact_columns.items()}
        written = next(iter(_on_driver(statement).rows(connection, parameters)), None)
        return None if written is None else written[1]  # the contact's id

    def _plain_parameters(
        self,
        inbound: Inbound,
        person: Person,
        turn: Turn,
        replies: tuple[Reply, ...],
        releases: dict[str, int],
        now: datetime,
    ) -> dict[str, Any]:
        """What a plain message's writes are given: the state, the event with its answer, the log and, for someone
        known, the version the message was decided on."""
        values, _ = self._state_values(person, turn, releases, now, forget=False)
        parameters: dict[str, Any] = {
            **{f"b_{name}": value for name, value in values.items()},
            "b_event_channel": inbound.channel,
            "b_event_external_id": inbound.external_id,
            "b_event_received_at": now,
            "b_event_processed_at": utcnow(),
            "b_event_response": _response(replies),
        }
        for row, (direction, text, external_id) in enumerate(_logged(inbound, replies)):
            parameters |= {f"b_direction_{row}": direction, f"b_text_{row}": text, f"b_external_id_{row}": external_id}
        if person.contact_id is not None:
            assert person.state_version is not None
            parameters |= {
                "b_contact_id": person.contact_id,
                "b_version": person.state_version,
                "b_new_version": person.state_version + 1,
            }
        return parameters

    @staticmethod
    def _new_contact(inbound: Inbound, changes: dict[str, Any], now: datetime) -> dict[str, Any]:
        """A new contact's columns, as ``Contact.for_address`` makes them, with the ``changes`` of their first
        message; the address encrypted."""
        found_by = Contact.address_columns(inbound.channel, inbound.address)
        return {
            **found_by,
            "address": seal_text(found_by["address"]),
            "language": Language.EN,
            "language_chosen": False,
            "opted_out": False,
            "found_via": inbound.found_via,
            "created_at": now,
            **changes,
        }

    def _carry_out_plainly(
        self, connection: Connection, inbound: Inbound, decision: Decision, now: datetime
    ) -> Outcome:
        """A plain message in one transaction on ``connection``, with no ORM session (its begin, commit and close
        cost more than the statements): on SQLite every plain message, on PostgreSQL one whose one statement
        found someone got in first. The statements of ``_plain_message_in_one_statement`` one by one, on the
        driver's cursor: the event (with its answer), the state, the contact's changes if any and the log; for
        someone new, the contact with their first message's changes, their first state, the event and the log.

        The state is saved only if it is still the version this message was decided on (on PostgreSQL that also
        locks the conversation's row); when someone got in first, the message is carried out in full, in the same
        transaction, and decided again under the lock. A stop recorded meanwhile outside a conversation (a
        carrier's unsubscribe report) applies from the person's next message. Two first messages from one person
        at once: the second contact is refused by its unique key, and the message is tried again, finding the
        first. Should anything fail, closing the connection rolls the transaction back.
        """
        person, replies = decision.person, decision.replies
        language = Language(decision.turn.state["language"])
        # Everything is encrypted before the first write, which on SQLite takes the one writer's turn.
        parameters = self._plain_parameters(inbound, person, decision.turn, replies, decision.releases, now)
        changes = self._contact_changes(person, decision.contact_changes, language, now)
        connection.begin()  # the driver's cursor begins nothing itself
        if person.contact_id is None:
            new_contact = self._new_contact(inbound, changes, now)
            adding = inserting(CONTACTS, tuple((name, name) for name in sorted(new_contact)))
            [(contact_id,)] = adding.rows(connection, {f"b_{name}": value for name, value in new_contact.items()})
            parameters["b_contact_id"] = contact_id
            _PLAIN_FIRST_STATE.rows(connection, parameters)
            # a repeated delivery fails here, and everything above is undone
            [(event_id,)] = _PLAIN_EVENT.rows(connection, parameters)
            _plain_log(1 + len(replies)).rows(connection, {**parameters, "b_event_id": event_id})
        else:
            contact_id = person.contact_id
            event_id, saved = _write_one_by_one(connection, parameters, changes, len(replies))
            if not saved:
                with self._carrying_out(connection) as session:
                    outcome = self._carry_out(session, inbound, decision, now, event_id=event_id)
                    session.commit()
                return outcome
        connection.commit()
        return Outcome(replies, contact_id, opted_out=person.opted_out)

    def _carrying_out(self, connection: Connection) -> Session:
        """The session a message's writes go through. It owns the connection's transaction (begun already, or
        by ``session.begin()``): its commit is the message's commit."""
        return self.runtime.sessions(bind=connection, join_transaction_mode="control_fully")

    def _carry_out(
        self, session: Session, inbound: Inbound, decision: Decision, now: datetime, *, event_id: int | None = None
    ) -> Outcome:
        # The rows written on every message (the event, the log, the state) go in as Core statements: the
        # ORM's unit of work cost more than everything else a message does. The contact is an ORM object
        # only where something changes it (alerts, effects, a first message).
        # SQLite: a transaction that reads before it writes cannot wait for another writer, so it writes first.
        take_write_lock(session)
        if event_id is None and (decision.assessment.escalate or decision.review_reason):
            event_id = self._record_event(session, inbound, now)  # the alert or item names the event that raised it

        contact: Contact | None = None
        if decision.person.contact_id is None:
            contact = Contact.for_address(inbound.channel, inbound.address, found_via=inbound.found_via)
            contact.last_seen_at = now
            session.add(contact)
            session.flush()  # two first messages at once: one wins, the other retries and finds it
            person = dataclasses.replace(decision.person, contact_id=contact.id)
        else:
            # The person's conversation (or, with none yet, the contact) is locked (PostgreSQL; SQLite has one
            # writer at a time), so two messages from one person are carried out one after the other. If
            # another (or a provider's message) got in since this one was decided, it is decided again, under
            # the lock.
            person = decision.person
            contact, now_known = self._lock(session, inbound, decision)
            if now_known != (person.language, person.opted_out, person.state_version):
                person = self._person(session, inbound)
                decision = self._decide(session, inbound, person, now, reading=False)
        contact_id = person.contact_id
        assert contact_id is not None

        turn = decision.turn
        safety_replies: tuple[Reply, ...] = ()
        escalated: tuple[str, ...] = ()
        if decision.assessment.escalate:
            assert event_id is not None
            contact = contact or session.get_one(Contact, contact_id)
            safety = triage_and_escalate(
                session,
                self.runtime,
                contact,
                event_id,
                inbound.text,
                decision.state,
                now,
                decision.releases,
                assessment=decision.assessment,
            )
            safety_replies, escalated = safety.replies, safety.categories
        if decision.review_reason is not None:
            assert event_id is not None
            contact = contact or session.get_one(Contact, contact_id)
            put_up_for_review(
                session,
                contact,
                event_id,
                decision.review_reason,
                inbound.text,
                decision.state,
                now,
                tuple(decision.assessment.categories),
            )

        replies = list(decision.replies)
        changes = decision.contact_changes
        deleted = False
        if turn.effect is not None:
            contact = contact or session.get_one(Contact, contact_id)
            effects = EffectContext(session, contact, {}, now, self.runtime.timezone)
            effects.change_contact(**changes)  # what the effects done while deciding set
            turn = do_effects(decision.catalog, turn, effects, replies, reading=False)
            deleted = effects.deleted

        all_replies = (*safety_replies, *replies)
        if event_id is None and not deleted and person.state_version is not None:
            # The state, the event and the log as for a plain message: in one statement on PostgreSQL, one by one
            # on SQLite (the lock is held, so the version read under it is still the one saved). A contact loaded
            # for the effects is saved by the unit of work when the session commits.
            language = Language(turn.state["language"])
            if contact is not None:
                opted_out = self._save_contact(session, contact, person, changes, language, now)
                contact_columns: dict[str, Any] = {}
            else:
                opted_out, contact_columns = person.opted_out, self._contact_changes(person, changes, language, now)
            outbox_ids = self._reply_via_outbox(session, inbound, contact, contact_id, all_replies, deleted=False)
            connection = session.connection()
            if one_writer_at_a_time(connection):
                parameters = self._plain_parameters(inbound, person, turn, all_replies, decision.releases, now)
                saved = _write_one_by_one(connection, parameters, contact_columns, len(all_replies))[1]
            else:
                written = self._write_in_one_statement(
                    connection, inbound, person, turn, all_replies, decision.releases, contact_columns, now
                )
                saved = written is not None
            if not saved:
                raise StaleDataError("the conversation state changed while this message was handled under its lock")
            return Outcome(all_replies, contact_id, opted_out=opted_out, escalated=escalated, outbox_ids=outbox_ids)
        language = self._save_state(session, person, turn, decision.releases, now, forget=deleted)
        opted_out = self._save_contact(session, contact, person, changes, language, now)
        if event_id is None:
            # Recorded last, with its answer: a repeated delivery fails here and everything above is undone.
            event_id = self._record_event(session, inbound, now, contact_id=contact_id, replies=all_replies)
        else:
            session.execute(
                _ANSWER_EVENT,
                {
                    "b_id": event_id,
                    "b_contact_id": contact_id,
                    "b_response": _response(all_replies),
                    "b_processed_at": utcnow(),
                },
            )
        if not deleted:  # after "delete my data" nothing of this person is logged, this message neither
            self._log(session, inbound, contact_id, event_id, _logged(inbound, all_replies), now)
        outbox_ids = self._reply_via_outbox(session, inbound, contact, contact_id, all_replies, deleted=deleted)
        return Outcome(all_replies, contact_id, opted_out=opted_out, escalated=escalated, outbox_ids=outbox_ids)

    @staticmethod
    def _reply_via_outbox(
        session: Session,
        inbound: Inbound,
        contact: Contact | None,
        contact_id: int,
        replies: tuple[Reply, ...],
        *,
        deleted: bool,
    ) -> tuple[str, ...]:
        """The replies written to the outbox, for a channel that cannot answer in its HTTP response."""
        if not inbound.reply_via_outbox or not replies:
            return ()
        contact = contact or session.get_one(Contact, contact_id)
        # After "delete my data" the contact no longer holds the address, so this one message carries it.
        address = inbound.address if deleted else None
        return (enqueue_channel_message(session, contact, replies, address=address),)

    @staticmethod
    def _lock(session: Session, inbound: Inbound, decision: Decision) -> tuple[Contact | None, tuple[Any, ...]]:
        """Lock the person (see ``_CHANGED``); their language, whether stopped and the conversation's version
        as they are now, and the contact's row when the message is going to change it."""
        person = decision.person
        parameters = {"b_contact_id": person.contact_id}
        if decision.turn.effect is not None or decision.assessment.escalate or inbound.reply_via_outbox:
            locking = (
                _CHANGED_WITH_CONTACT if person.state_version is not None else _CHANGED_NO_CONVERSATION_WITH_CONTACT
            )
            row = read(session, locking, parameters).one_or_none()
            if row is None:  # the conversation is gone (deleted meanwhile)
                row = read(session, _CHANGED_NO_CONVERSATION_WITH_CONTACT, parameters).one()
            contact = held_or_loaded(session, Contact, row._mapping)
            return contact, (Language(contact.language), contact.opted_out, row.version)
        locking = _CHANGED if person.state_version is not None else _CHANGED_NO_CONVERSATION
        known = session.execute(locking, parameters).one_or_none()
        if known is None:  # the conversation is gone (deleted meanwhile)
            known = session.execute(_CHANGED_NO_CONVERSATION, parameters).one()
        return None, (Language(known.language), known.opted_out, known.version)

    @staticmethod
    def _record_event(
        session: Session,
        inbound: Inbound,
        now: datetime,
        *,
        contact_id: int | None = None,
        replies: tuple[Reply, ...] | None = None,
    ) -> int:
        """The delivery, recorded once (its channel and id are unique); with ``replies``, as answered."""
        values: dict[str, Any] = {"channel": inbound.channel, "external_id": inbound.external_id, "received_at": now}
        if replies is not None:
            values |= {
                "contact_id": contact_id,
                "response": _response(replies),
                "processed_at": utcnow(),
            }
        return session.execute(_RECORD_EVENT, values).scalar_one()

    def _log(
        self,
        session: Session,
        inbound: Inbound,
        contact_id: int,
        event_id: int,
        logged: list[tuple[Direction, str, str | None]],
        now: datetime,
    ) -> None:
        """The person's message and the bot's answers (``_logged``), in order, in one statement."""
        session.execute(
            _LOG_MESSAGES,
            [
                {
                    "contact_id": contact_id,
                    "direction": direction,
                    "channel": inbound.channel,
                    "text": text,
                    "inbound_event_id": event_id,
                    "created_at": now,
                    "external_id": external_id,
                }
                for direction, text, external_id in logged
            ],
        )

    def _save_contact(
        self,
        session: Session,
        contact: Contact | None,
        person: Person,
        changed: dict[str, Any],
        language: Language,
        now: datetime,
    ) -> bool:
        """Keep the contact's language, when they were last heard from and what effects ``changed``;
        whether they have opted out."""
        changes = self._contact_changes(person, changed, language, now)
        if contact is not None:  # an ORM object (effects may have changed it): the unit of work saves it
            for name, value in changes.items():
                setattr(contact, name, value)
            return contact.opted_out
        if changes:
            session.execute(sa.update(CONTACTS).where(CONTACTS.c.id == person.contact_id).values(**changes))
        return person.opted_out

    @staticmethod
    def _contact_changes(person: Person, changed: dict[str, Any], language: Language, now: datetime) -> dict[str, Any]:
        """The contact's columns this message sets: what effects ``changed``, the conversation's language, and
        when they were last heard from (to the hour)."""
        changes = dict(changed)
        if language != person.language:
            changes["language"] = language
        if person.last_seen_at is None or now - person.last_seen_at > LAST_SEEN_PRECISION:
            changes["last_seen_at"] = now
        return changes

    def _state(self, person: Person, now: datetime, releases: dict[str, int]) -> dict[str, Any]:
        variables = self.runtime.variables_for(releases.get("helplines"))
        if person.variables is None:
            state = new_state(person.language, variables)
            state["stopped"] = person.opted_out
            return state
        state = dict(person.variables)
        if person.expires_at and person.expires_at < now:
            state = restart(state)
        state = with_given(state, variables)
        state["stopped"] = person.opted_out
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
        person: Person,
        turn: Turn,
        releases: dict[str, int],
        now: datetime,
        *,
        forget: bool,
    ) -> Language:
        """Save the conversation; the language it is in now."""
        values, language = self._state_values(person, turn, releases, now, forget=forget)
        self._write_state(session, person, values)
        return language

    @staticmethod
    def _write_state(session: Session, person: Person, values: dict[str, Any]) -> None:
        if person.state_version is None:
            # Two first messages from one person at once: the unique contact_id refuses the second, which retries.
            session.execute(_INSERT_STATE, {"contact_id": person.contact_id, "version": 1, **values})
        else:
            # Only the writer that read this version wins (the version counter is the ORM's too, so a writer
            # that did not take the contact's lock is caught as well): anyone else starts the message again.
            updated = session.execute(
                _UPDATE_STATE,
                {
                    "b_contact_id": person.contact_id,
                    "b_version": person.state_version,
                    "b_new_version": person.state_version + 1,
                    **{f"b_{name}": value for name, value in values.items()},
                },
            )
            if updated.rowcount != 1:
                raise StaleDataError("the conversation state changed while this message was handled")

    def _state_values(
        self, person: Person, turn: Turn, releases: dict[str, int], now: datetime, *, forget: bool
    ) -> tuple[dict[str, Any], Language]:
        """The conversation's row as saved after this message; the language it is in now."""
        state = turn.state
        if forget:  # after "delete my data" keep only the language, so the next message is understood
            state = restart(state, keep=())
        state = without_given(state, self.runtime.variables_for(releases.get("helplines")))
        values = {
            "script": state["script"],
            "step": state["step"] or "",
            "script_version": state["versions"].get(state["script"], ""),
            "variables": seal_json(state),
            "expires_at": now + CONVERSATION_EXPIRY,
            "updated_at": now,
        }
        return values, Language(state["language"])

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


def do_effects(
    catalog: Catalog, turn: Turn, effects: EffectContext, replies: list[Reply], *, reading: bool = False
) -> Turn:
    """Carry out the script's effects one after another (only READING_EFFECTS while ``reading``), adding
    what the steps after them say to ``replies``; where the script got to."""
    for _ in range(MAX_EFFECTS_PER_MESSAGE):
        if turn.effect is None or (reading and turn.effect.name not in READING_EFFECTS):
            return turn
        effects.variables = dict(turn.effect.variables)
        changed_before = dict(effects.contact_changes)
        try:
            values = apply_effect(turn.effect.name, effects)
        except NeedsWriting:
            if not reading:
                raise
            effects.contact_changes = changed_before  # it is done again, in full, in the transaction
            return turn
        # an effect may set conversation values of its own (referral_id), as well as return them
        values = {**{k: v for k, v in effects.variables.items() if k == "referral_id"}, **values}
        turn = advance(catalog, turn.state, EffectDone(values))
        replies.extend(turn.replies)
    if not reading:
        log.error("a script asked for more than %d effects in one message", MAX_EFFECTS_PER_MESSAGE)
    return turn


def _logged(inbound: Inbound, replies: tuple[Reply, ...]) -> list[tuple[Direction, str, str | None]]:
    """The person's message and the bot's answers, in order: what the message log keeps (encrypted)."""
    return [
        (Direction.INBOUND, seal_text(inbound.text), inbound.message_id),
        *((Direction.OUTBOUND, seal_text(as_numbered_text(reply)), None) for reply in replies),
    ]


def _response(replies: tuple[Reply, ...]) -> str:
    """The answer given to a delivery, kept (encrypted) to give again if the channel repeats it."""
    return seal_json([{"text": reply.text, "options": list(reply.options)} for reply in replies])
