"""Delivering ``channel_message`` outbox events: messages to a person on Telegram or SMS, and /clear.

The relay calls ``deliver_channel_message`` outside any transaction. It sends to ``payload["address"]`` when
there is one (a duty worker's number, or the last message after "delete my data"), else to the contact's
own address. A contact who has stopped gets nothing, except the replies the dispatcher chose for a message
they sent (the confirmation of STOP, a safety message): those are its decisions, already made.

What was sent is remembered in the payload (``sent_ids``): a retry after a part failed sends only the rest,
and /clear finds the bot's messages to delete. Reasons given to the relay hold no personal data.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError
from twilio.base.exceptions import TwilioException, TwilioRestException

from bot.channels.config import sms_for, telegram_for
from bot.channels.ratelimit import TooSoon
from bot.channels.sms import UNREACHABLE, UNSUBSCRIBED, sms_texts
from bot.channels.telegram import DELETE_WINDOW, message_texts, retry_after_seconds
from bot.channels.texts import channel_text
from bot.outbox.delivery import RetryLater, Undeliverable, register
from bot.outbox.writing import forget_in, is_last_reply
from bot.settings import ConfigError
from conversations.interpreter import Reply
from models import Channel, Contact, Direction, Message, OutboxEvent, OutboxKind, address_hash
from models.db import take_write_lock

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

REPLY = "message.reply"  # replies the dispatcher chose for a message the person sent
CLEAR = "message.clear"  # Telegram's /clear: delete the chat's messages that Telegram still allows


@register(OutboxKind.CHANNEL_MESSAGE)
def deliver_channel_message(runtime: Runtime, event: OutboxEvent) -> str | None:
    payload: dict[str, Any] = event.payload
    channel = Channel(payload["channel"])
    with runtime.session() as session:
        contact = session.get(Contact, event.contact_id) if event.contact_id is not None else None
        address = payload.get("address") or (contact.address if contact is not None else None)
        stopped = contact is not None and contact.opted_out and "address" not in payload
    if not address:
        raise Undeliverable("there is no address to send to (the contact is gone)")
    if stopped and event.type not in (REPLY, CLEAR):
        raise Undeliverable("the contact has stopped messages")
    replies = [Reply(item.get("text", ""), tuple(item.get("options", ()))) for item in payload.get("replies", [])]
    try:
        if channel == Channel.TELEGRAM:
            sent_id = _TelegramDelivery(runtime, event, address, contact).run(replies)
        elif channel == Channel.SMS:
            sent_id = _deliver_sms(runtime, event, address, contact, replies)
        else:
            raise Undeliverable(f"later messages cannot be sent on the {channel} channel")
    except ConfigError as exc:  # the channel is not set up in this process: keep the message until it is
        raise RetryLater(str(exc).removeprefix("error: ")) from None
    if is_last_reply(event):  # now sent: the address it carried and the channel's ids go too
        _forget_the_person_in(runtime, event.id)
        return None
    return sent_id


# --- Telegram ----------------------------------------------------------------------------------------


class _TelegramDelivery:
    def __init__(self, runtime: Runtime, event: OutboxEvent, chat_id: str, contact: Contact | None) -> None:
        self.runtime = runtime
        self.event = event
        self.chat_id = chat_id
        self.contact = contact
        self.sender = telegram_for(runtime.settings)
        self.chat_key = address_hash(Channel.TELEGRAM, chat_id)[:24]  # for the rate limit, never the id itself
        self.sent: list[int] = list(event.payload.get("sent_ids", []))
        self.already_sent = len(self.sent)

    def run(self, replies: list[Reply]) -> str | None:
        try:
            if self.event.type == CLEAR:
                self._clear()
            else:
                self._send(replies)
        except TooSoon as exc:
            raise RetryLater("waiting for Telegram's send rate limit", retry_after=exc.wait) from None
        except RetryAfter as exc:
            raise RetryLater("Telegram asked the bot to slow down", retry_after=retry_after_seconds(exc)) from None
        except Forbidden:
            if self.contact is not None and "address" not in self.event.payload:
                mark_stopped(self.runtime, self.contact.id)
            raise Undeliverable("the person has blocked the bot") from None
        except InvalidToken:
            raise RetryLater("Telegram refused the bot token: check RHI_TELEGRAM_BOT_TOKEN") from None
        except BadRequest as exc:
            raise Undeliverable(f"Telegram refused the message: {_without_numbers(exc.message)}") from None
        except (TelegramError, FutureTimeout, OSError) as exc:  # network errors and time-outs
            raise RetryLater(f"Telegram did not answer ({type(exc).__name__})") from None
        finally:
            if len(self.sent) > self.already_sent:
                _remember_sent(self.runtime, self.event.id, self.sent)
        return str(self.sent[-1]) if self.sent else None

    def _send(self, replies: list[Reply]) -> None:
        messages = []
        for reply in replies:
            texts = message_texts(reply)
            messages += [(text, reply.options if n == len(texts) - 1 else ()) for n, text in enumerate(texts)]
        for text, options in messages[len(self.sent) :]:
            self.sender.pace(self.chat_key)
            self.sent.append(self.sender.send_text(self.chat_id, text, options))

    def _clear(self) -> None:
        """Delete this chat's messages from both sides that are young enough; say so if older ones stay."""
        since = self.runtime.clock() - DELETE_WINDOW
        ids, older_left = set(self.event.payload.get("clear", {}).get("message_ids", [])), False
        if self.contact is not None:
            recent, older_left = _chat_message_ids(self.runtime, self.contact.id, since, exclude=self.event.id)
            ids |= recent
        if ids and not self.sent:
            try:
                self.sender.delete_messages(self.chat_id, sorted(ids))
            except BadRequest as exc:  # none of them could be deleted any more: nothing left to do
                log.info("Telegram deleted none of a chat's messages: %s", _without_numbers(exc.message))
        if older_left and not self.sent:
            language = str(self.contact.language) if self.contact is not None else None
            self.sender.pace(self.chat_key)
            self.sent.append(self.sender.send_text(self.chat_id, channel_text("clear_older_left", language)))


def _chat_message_ids(runtime: Runtime, contact_id: int, since: datetime, *, exclude: str) -> tuple[set[int], bool]:
    """Telegram message ids of a contact's chat sent since ``since``, and whether older ones exist."""
    theirs = sa.and_(
        Message.contact_id == contact_id, Message.direction == Direction.INBOUND, Message.external_id.is_not(None)
    )
    ours = sa.and_(
        OutboxEvent.contact_id == contact_id,
        OutboxEvent.kind == OutboxKind.CHANNEL_MESSAGE,
        OutboxEvent.id != exclude,
    )
    with runtime.session() as session:
        ids = {
            int(external_id)
            for external_id in session.scalars(
                sa.select(Message.external_id).where(theirs, Message.created_at >= since)
            )
            if external_id.isdigit()
        }
        for payload in session.scalars(sa.select(OutboxEvent.payload).where(ours, OutboxEvent.created_at >= since)):
            ids.update(int(n) for n in payload.get("sent_ids", []))
        # Older messages still on the phone: those since the last /clear (it deleted what came before it).
        last_clear = session.scalar(
            sa.select(sa.func.max(OutboxEvent.created_at)).where(
                ours, OutboxEvent.type == CLEAR, OutboxEvent.delivered_at.is_not(None)
            )
        )
        after = last_clear or datetime.min.replace(tzinfo=UTC)
        older = session.scalar(
            sa.select(
                sa.or_(
                    sa.select(Message.id)
                    .where(theirs, Message.created_at < since, Message.created_at > after)
                    .exists(),
                    sa.select(OutboxEvent.id)
                    .where(
                        ours,
                        OutboxEvent.created_at < since,
                        OutboxEvent.created_at > after,
                        OutboxEvent.delivered_at.is_not(None),
                    )
                    .exists(),
                )
            )
        )
    return ids, bool(older)


# --- SMS ---------------------------------------------------------------------------------------------


def _deliver_sms(
    runtime: Runtime, event: OutboxEvent, number: str, contact: Contact | None, replies: list[Reply]
) -> str | None:
    sent: list[str] = list(event.payload.get("sent_ids", []))
    already_sent = len(sent)
    try:
        with sms_for(runtime.settings) as sender:
            for text in sms_texts(replies)[len(sent) :]:
                sent.append(sender.send_text(number, text))
    except TwilioRestException as exc:
        if len(sent) > already_sent:
            _remember_sent(runtime, event.id, sent)
        if exc.code == UNSUBSCRIBED:
            if contact is not None and "address" not in event.payload:
                mark_stopped(runtime, contact.id)
            raise Undeliverable("the number has texted STOP (Twilio 21610)") from None
        if exc.code in UNREACHABLE:
            raise Undeliverable(f"Twilio cannot send to this number (Twilio {exc.code})") from None
        if exc.status == 429 or exc.status >= 500 or exc.status in (401, 403):
            raise RetryLater(f"Twilio answered HTTP {exc.status} (Twilio {exc.code})") from None
        raise Undeliverable(f"Twilio refused the message: HTTP {exc.status} (Twilio {exc.code})") from None
    except (TwilioException, OSError) as exc:  # requests' errors are OSErrors
        if len(sent) > already_sent:
            _remember_sent(runtime, event.id, sent)
        raise RetryLater(f"Twilio did not answer ({type(exc).__name__})") from None
    return sent[-1] if sent else None


# --- shared ------------------------------------------------------------------------------------------


def stop_contact(session: Session, contact: Contact | None, now: datetime) -> None:
    """The channel says this person gets no more messages (they blocked the bot, or texted STOP to Twilio)."""
    if contact is not None and not contact.opted_out:
        contact.opted_out = True
        contact.opted_out_at = now
        log.info("contact %s marked as stopped by the channel", contact.id)


def mark_stopped(runtime: Runtime, contact_id: int) -> None:
    with runtime.session() as session, session.begin():
        take_write_lock(session)
        stop_contact(session, session.get(Contact, contact_id), runtime.clock())


def _remember_sent(runtime: Runtime, event_id: str, sent: list[Any]) -> None:
    with runtime.session() as session, session.begin():
        take_write_lock(session)
        event = session.get(OutboxEvent, event_id)
        if event is not None:
            event.payload = {**event.payload, "sent_ids": sent}


def _forget_the_person_in(runtime: Runtime, event_id: str) -> None:
    with runtime.session() as session, session.begin():
        take_write_lock(session)
        event = session.get(OutboxEvent, event_id)
        if event is not None:
            forget_in(event)


def _without_numbers(text: str) -> str:
    """An error message from the channel, with any number (a chat id, a phone number) blanked out."""
    return re.sub(r"\d+", "#", text)[:200]
