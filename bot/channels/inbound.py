"""What the bot does with one verified delivery from a channel. The webhooks call these; no HTTP here.

Text goes to the dispatcher (safeguarding first, then the conversation, in one transaction). What the
scripts have no words for is answered here, in a transaction of the same shape (recorded once under the
channel's id, a repeat gets the same answer): a photo or a voice note, Telegram's /language and /clear.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.channels.config import telegram_for
from bot.channels.deliver import CLEAR, stop_contact
from bot.channels.sms import UNSUBSCRIBED, InboundSms, StatusReport, sms_texts
from bot.channels.telegram import TelegramUpdate
from bot.channels.texts import channel_text
from bot.conversation.dispatcher import MAX_ATTEMPTS, Dispatcher, Inbound, Outcome
from bot.conversation.records import earlier_answer, log_messages, record_delivery, said_by_the_bot
from bot.outbox.delivery import enqueue_channel_message
from bot.outbox.relay import deliver_now
from bot.runtime import Runtime
from conversations.interpreter import Reply
from models import Channel, Contact, Direction, Escalation, InboundEvent, Message, OutboxEvent
from models.db import take_write_lock

log = logging.getLogger(__name__)

# How a message without text is kept in the conversation log: what kind it was, never its content.
NON_TEXT_LOG = "[{what}]"
# Twilio's delivery statuses, in the order they happen: a late "sent" never overwrites "delivered".
STATUS_ORDER = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "read": 5,
}


# --- Telegram ----------------------------------------------------------------------------------------


def on_telegram_update(runtime: Runtime, update: TelegramUpdate) -> None:
    """Handle one update; the replies are committed to the outbox, then sent at once."""
    if update.kind == "ignored" or update.chat_id is None:
        return
    chat_id = update.chat_id
    if update.kind == "blocked":
        stop_address(runtime, Channel.TELEGRAM, chat_id)
        return
    message_id = str(update.message_id) if update.message_id is not None else None
    if update.kind in ("text", "button"):
        outcome = Dispatcher(runtime).handle(
            Inbound(
                Channel.TELEGRAM,
                chat_id,
                str(update.update_id),
                update.text,
                found_via=update.found_via,
                reply_via_outbox=True,
                message_id=message_id if update.kind == "text" else None,
            )
        )
        if outcome.duplicate:
            return
        if update.kind == "button":
            _acknowledge_button(runtime, update, outcome.contact_id)
        deliver_now(runtime, outcome.outbox_ids)
        return
    if update.kind == "non_text":
        answer = _answer_outside_script(
            runtime,
            Channel.TELEGRAM,
            chat_id,
            str(update.update_id),
            message_id=message_id,
            logged_as=NON_TEXT_LOG.format(what=update.what),
            reply=lambda language: Reply(channel_text("text_only", language)),
        )
    elif update.kind == "language":
        answer = _answer_outside_script(
            runtime,
            Channel.TELEGRAM,
            chat_id,
            str(update.update_id),
            message_id=message_id,
            logged_as="/language",
            reply=lambda language: Reply(
                channel_text("choose_language", language),
                (channel_text("language_english", language), channel_text("language_welsh", language)),
            ),
        )
    else:  # clear
        answer = _answer_outside_script(
            runtime, Channel.TELEGRAM, chat_id, str(update.update_id), message_id=message_id, clear=True
        )
    if not answer.duplicate:
        deliver_now(runtime, answer.outbox_ids)


def _acknowledge_button(runtime: Runtime, update: TelegramUpdate, contact_id: int) -> None:
    """Stop the button's spinner and show the choice under the question. Best effort: the answer itself is
    already committed and on its way, so a failure here costs only the tick."""
    sender = telegram_for(runtime.settings)
    assert update.chat_id is not None and update.callback_query_id is not None
    try:
        sender.answer_button(update.callback_query_id)
        if update.shown_text is not None and update.message_id is not None:
            with runtime.session() as session:
                contact = session.get(Contact, contact_id)
                language = str(contact.language) if contact is not None else None
            sender.show_choice(update.chat_id, update.message_id, update.shown_text, update.text, language)
    except Exception as exc:
        log.warning("could not acknowledge a button press on Telegram (%s)", type(exc).__name__)


# --- SMS ---------------------------------------------------------------------------------------------


def on_sms(runtime: Runtime, sms: InboundSms) -> list[str]:
    """Handle one text; return the SMS messages to answer with (in the TwiML of the same response)."""
    if not sms.body.strip() and sms.media_count > 0:
        answer = _answer_outside_script(
            runtime,
            Channel.SMS,
            sms.sender,
            sms.message_sid,
            message_id=sms.message_sid,
            logged_as=NON_TEXT_LOG.format(what="picture message"),
            reply=lambda language: Reply(channel_text("text_only", language)),
        )
        return sms_texts(answer.replies)
    text = sms.body
    if sms.opt_out_type == "START" and _is_stopped(runtime, Channel.SMS, sms.sender):
        # Twilio took one of its START words ("YES", "UNSTOP") as starting again: so do we.
        text = "start"
    outcome = Dispatcher(runtime).handle(
        Inbound(Channel.SMS, sms.sender, sms.message_sid, text, message_id=sms.message_sid)
    )
    if sms.opt_out_type == "STOP":
        if not outcome.opted_out:  # a STOP word Twilio knows and the scripts do not
            stop_address(runtime, Channel.SMS, sms.sender)
        # Twilio has stopped the number and confirms that itself; it sends nothing else to it. Only a safety
        # message (a safeguarding hit in this very message) is worth offering.
        if not _tripped_safeguarding(runtime, outcome, sms.message_sid):
            return []
    return sms_texts(outcome.replies)


def on_sms_status(runtime: Runtime, report: StatusReport) -> None:
    """Record what Twilio says became of a message we sent; 21610 means the number has stopped."""
    rank = STATUS_ORDER.get(report.status, 0)
    with runtime.session() as session, session.begin():
        take_write_lock(session)
        for model in (OutboxEvent, Message):
            for row in session.scalars(sa.select(model).where(model.external_id == report.message_sid)):
                if STATUS_ORDER.get(row.delivery_status or "", -1) <= rank:
                    row.delivery_status = report.status
        if report.error_code == UNSUBSCRIBED and report.recipient:
            stop_contact(session, Contact.find(session, Channel.SMS, report.recipient), runtime.clock())


def stop_address(runtime: Runtime, channel: Channel, address: str) -> None:
    with runtime.session() as session, session.begin():
        take_write_lock(session)
        stop_contact(session, Contact.find(session, channel, address), runtime.clock())


def _is_stopped(runtime: Runtime, channel: Channel, address: str) -> bool:
    with runtime.session() as session:
        contact = Contact.find(session, channel, address)
        return contact is not None and contact.opted_out


def _tripped_safeguarding(runtime: Runtime, outcome: Outcome, message_sid: str) -> bool:
    if not outcome.duplicate:
        return bool(outcome.escalated)
    with runtime.session() as session:  # a repeat: what the first delivery found
        query = (
            sa.select(Escalation.id)
            .join(InboundEvent, Escalation.inbound_event_id == InboundEvent.id)
            .where(InboundEvent.channel == Channel.SMS, InboundEvent.external_id == message_sid)
        )
        return session.scalars(query.limit(1)).first() is not None


# --- answering outside the scripts ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    replies: tuple[Reply, ...]
    outbox_ids: tuple[str, ...] = ()
    duplicate: bool = False


def _answer_outside_script(
    runtime: Runtime,
    channel: Channel,
    address: str,
    external_id: str,
    *,
    message_id: str | None,
    logged_as: str | None = None,
    reply: Callable[[str | None], Reply] | None = None,
    clear: bool = False,
) -> _Answer:
    """One delivery the scripts do not handle, recorded once like any other (see the dispatcher)."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with runtime.session() as session, session.begin():
                return _answer(runtime, session, channel, address, external_id, message_id, logged_as, reply, clear)
        except IntegrityError:
            replay = _replay(runtime, channel, external_id)
            if replay is not None:
                return replay
            if attempt == MAX_ATTEMPTS:
                raise
        except (StaleDataError, OperationalError):
            if attempt == MAX_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _answer(
    runtime: Runtime,
    session: Session,
    channel: Channel,
    address: str,
    external_id: str,
    message_id: str | None,
    logged_as: str | None,
    reply: Callable[[str | None], Reply] | None,
    clear: bool,
) -> _Answer:
    now = runtime.clock()
    contact = Contact.find(session, channel, address)
    known = contact is not None and (contact.language_chosen or contact.state is not None)
    if contact is None:
        contact = Contact.for_address(channel, address)
        session.add(contact)
        session.flush()
    contact.last_seen_at = now
    # Someone we have not talked with yet gets both languages, as the scripts' first message does.
    language = str(contact.language) if known else None
    replies = (reply(language),) if reply is not None and not contact.opted_out else ()
    # A repeated delivery stops here, and everything above is undone.
    event_id = record_delivery(session, channel, external_id, contact.id, replies, now, runtime.clock())
    said = [(Direction.INBOUND, logged_as, message_id)] if logged_as is not None else []
    log_messages(session, contact.id, channel, [*said, *said_by_the_bot(replies)], now, inbound_event_id=event_id)
    outbox_ids: list[str] = []
    if replies and channel == Channel.TELEGRAM:
        outbox_ids.append(enqueue_channel_message(session, contact, replies))
    if clear:
        own = [int(message_id)] if message_id else []
        outbox_ids.append(
            enqueue_channel_message(session, contact, (), kind_of_message=CLEAR.removeprefix("message."), clear=own)
        )
    return _Answer(replies, tuple(outbox_ids))


def _replay(runtime: Runtime, channel: Channel, external_id: str) -> _Answer | None:
    with runtime.session() as session:
        earlier = earlier_answer(session, channel, external_id)
    return None if earlier is None else _Answer(earlier[1], duplicate=True)
