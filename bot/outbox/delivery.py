"""The contract between the outbox relay and whatever delivers an event (a provider webhook, a message to a
contact on Telegram or SMS). Deliverers register here; the relay claims, calls and records.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from bot.outbox.writing import add_event
from conversations.interpreter import Reply
from models import Contact, OutboxEvent, OutboxKind

if TYPE_CHECKING:
    from bot.runtime import Runtime


class RetryLater(Exception):
    """Not delivered this time; try again (after ``retry_after`` seconds when the other side said so)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Undeliverable(Exception):
    """Will never be delivered (the person blocked the bot, the number opted out): stop trying."""


# The modules whose deliverers register themselves on import (a package: every module in it).
DELIVERER_MODULES = ("bot.outbox.provider_webhook", "bot.channels")

# Deliver one event; return the other side's id for what was sent (a Twilio MessageSid), if any.
# The reason in RetryLater / Undeliverable is stored for operators: it must hold no personal data.
Deliverer = Callable[["Runtime", OutboxEvent], "str | None"]
DELIVERERS: dict[OutboxKind, Deliverer] = {}


def load_deliverers() -> None:
    """Import every module that registers a deliverer, so any relay can deliver every kind of event."""
    for name in DELIVERER_MODULES:
        module = importlib.import_module(name)
        for sub in pkgutil.iter_modules(getattr(module, "__path__", [])):
            importlib.import_module(f"{name}.{sub.name}")


def register(kind: OutboxKind) -> Callable[[Deliverer], Deliverer]:
    def decorate(deliverer: Deliverer) -> Deliverer:
        DELIVERERS[kind] = deliverer
        return deliverer

    return decorate


def enqueue_channel_message(
    session: Session,
    contact: Contact,
    replies: Sequence[Reply],
    *,
    kind_of_message: str = "reply",
    address: str | None = None,
    clear: list[int] | None = None,
) -> str:
    """Messages for a contact that cannot go back in the webhook's own response (Telegram, reminders,
    a provider's confirmation), written in the caller's transaction and delivered in order per contact;
    the event's id.

    ``address`` is given only when the contact's own address is already gone ("delete my data"): the
    payload is encrypted like the address was. Deliverers use it in preference to the contact's. ``clear``:
    the ids of the person's own messages to delete from the chat with the bot's (Telegram's /clear).
    """
    payload: dict[str, Any] = {
        "replies": [{"text": reply.text, "options": list(reply.options)} for reply in replies],
        "language": str(contact.language),
        "channel": str(contact.channel),
    }
    if address is not None:
        payload["address"] = address
    if clear is not None:
        payload["clear"] = {"message_ids": clear}
    return add_event(
        session,
        kind=OutboxKind.CHANNEL_MESSAGE,
        event_type=f"message.{kind_of_message}",
        payload=payload,
        provider_id=None,
        ordering_key=f"contact:{contact.id}",
        contact_id=contact.id,
    )


def enqueue_staff_message(session: Session, *, channel: str, address: str, text: str, ordering_key: str) -> str:
    """A message to a member of staff (a duty worker), who is not a contact of the bot; the event's id."""
    payload = {"replies": [{"text": text, "options": []}], "language": "en", "channel": channel, "address": address}
    return add_event(
        session,
        kind=OutboxKind.CHANNEL_MESSAGE,
        event_type="message.staff",
        payload=payload,
        provider_id=None,
        ordering_key=ordering_key,
        contact_id=None,
    )
