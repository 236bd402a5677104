"""Telegram: reading an update, and sending through the Bot API with ``telegram.Bot``.

python-telegram-bot is asyncio; this app is WSGI (Flask under gunicorn) with relay threads. So each process
runs one event loop in a thread of its own, holding one ``Bot`` and its connection pool, and every call from
any thread is a coroutine handed to that loop and waited for. Its ``Application`` is not used: state lives
in our tables.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import RetryAfter
from telegram.request import HTTPXRequest

from bot.channels.ratelimit import Bucket, rate_limiter
from bot.channels.texts import channel_text
from conversations.interpreter import Reply

log = logging.getLogger(__name__)
# python-telegram-bot's documented opt-in to what its next major version does anyway: time periods (such as
# RetryAfter.retry_after) as timedelta. Without it every RetryAfter raises a deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "true")
# httpx logs every request's URL at INFO, and a Bot API URL holds the bot's token.
logging.getLogger("httpx").setLevel(logging.WARNING)
# python-telegram-bot logs every call's parameters and answer at DEBUG: the chat id and the message's text.
logging.getLogger("telegram").setLevel(logging.INFO)

# Telegram's limits for bots: about one message a second in one chat (a short burst is tolerated) and
# about thirty a second in all. https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
PER_CHAT = (1.0, 5)  # (seconds between messages, burst)
OVERALL = (1 / 30, 30)
# Longer than this and the message is left to the relay for later rather than holding a web worker.
MAX_WAIT_SECONDS = 1.5
MAX_TEXT = 4096  # characters in one message
MAX_CALLBACK_DATA = 64  # bytes
MAX_IDENTIFIER = 2**53  # Telegram's ids fit in a double; anything larger is not from Telegram
MAX_CALLBACK_QUERY_ID = 64
DELETE_BATCH = 100  # message ids in one deleteMessages call
DELETE_WINDOW = timedelta(hours=48)  # a bot may delete messages in a private chat for this long
CALL_TIMEOUT_SECONDS = 30.0
# How an update may say where the person found the bot: t.me/<bot>?start=<payload>
DEEP_LINK_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
# The update types the bot reads; `rhi telegram set-webhook` asks Telegram for these only.
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
# Messages that carry something other than text (a service message, such as a pinned one, is not among them).
NON_TEXT_KINDS = (
    "photo",
    "sticker",
    "voice",
    "video_note",
    "video",
    "audio",
    "animation",
    "document",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
    "story",
    "game",
)

UpdateKind = Literal["text", "button", "non_text", "language", "clear", "blocked", "ignored"]


class MalformedUpdate(ValueError):
    """The body is not a Telegram update."""


@dataclass(frozen=True)
class TelegramUpdate:
    """What one update asks of the bot, with nothing the bot does not use."""

    update_id: int
    kind: UpdateKind
    chat_id: str | None = None  # the address: in a private chat, the person's own id
    message_id: int | None = None  # the person's message, or the bot's message whose button was pressed
    text: str = ""  # for the conversation: what they typed, or the label of the button they pressed
    found_via: str | None = None  # the /start deep-link payload
    callback_query_id: str | None = None
    shown_text: str | None = None  # the text of the message whose button was pressed, if Telegram sent it
    what: str | None = None  # for non_text: photo, sticker, voice...


def parse_update(data: Any) -> TelegramUpdate:
    """Read a decoded webhook body; raise MalformedUpdate when it is not an update."""
    if not isinstance(data, dict):
        raise MalformedUpdate("the body is not a JSON object")
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool) or not 0 <= update_id < MAX_IDENTIFIER:
        raise MalformedUpdate("the update has no update_id")
    try:
        update = Update.de_json(data, None)
    except Exception as exc:  # any shape python-telegram-bot cannot read is a bad request, never a 500
        raise MalformedUpdate(f"the update cannot be read ({type(exc).__name__})") from None
    try:
        return _classify(update_id, update)
    except (AttributeError, TypeError, ValueError) as exc:  # a field of the wrong type deep inside
        raise MalformedUpdate(f"the update cannot be read ({type(exc).__name__})") from None


def _identifier(value: Any) -> int:
    """A chat or message id as Telegram sends them (python-telegram-bot does not check types)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < MAX_IDENTIFIER:
        raise ValueError("an id is not a positive integer")
    return value


def _clean(text: Any) -> str:
    """Text fit to store: a string, with any lone surrogate (valid JSON, invalid Unicode) replaced."""
    if not isinstance(text, str):
        raise TypeError("a text field is not a string")
    return text.encode("utf-8", "replace").decode("utf-8")


def _classify(update_id: int, update: Update) -> TelegramUpdate:
    ignored = TelegramUpdate(update_id, "ignored")
    if update.message is not None:
        message = update.message
        if message.chat.type != "private":  # the bot talks to one person at a time, never in a group
            return ignored
        chat_id, message_id = str(_identifier(message.chat.id)), _identifier(message.message_id)
        text = message.text if message.text is not None else message.caption
        if text is not None:
            return _text_or_command(update_id, chat_id, message_id, _clean(text))
        what = next((kind for kind in NON_TEXT_KINDS if getattr(message, kind, None)), None)
        if what is None:
            return ignored
        return TelegramUpdate(update_id, "non_text", chat_id, message_id, what=what)
    if update.callback_query is not None:
        query = update.callback_query
        message = query.message
        if message is None or message.chat.type != "private" or not query.data:
            return ignored
        shown = message.text if isinstance(message, Message) and message.text is not None else None
        return TelegramUpdate(
            update_id,
            "button",
            str(_identifier(message.chat.id)),
            _identifier(message.message_id),
            text=_clean(_button_label(message, _clean(query.data))),
            callback_query_id=_clean(query.id)[:MAX_CALLBACK_QUERY_ID],
            shown_text=_clean(shown) if shown is not None else None,
        )
    member = update.my_chat_member
    if member is not None and member.chat.type == "private" and member.new_chat_member.status == "kicked":
        return TelegramUpdate(update_id, "blocked", str(_identifier(member.chat.id)))
    return ignored


def _text_or_command(update_id: int, chat_id: str, message_id: int, text: str) -> TelegramUpdate:
    if not text.startswith("/"):
        return TelegramUpdate(update_id, "text", chat_id, message_id, text=text)
    first, _, rest = text.partition(" ")
    command = first[1:].split("@", 1)[0].casefold()  # "/help@SomeBot" in a client that adds the bot's name
    rest = rest.strip()
    if command == "start":
        found_via = rest if DEEP_LINK_PAYLOAD.fullmatch(rest) else None
        return TelegramUpdate(update_id, "text", chat_id, message_id, text="/start", found_via=found_via)
    if command in ("language", "clear"):
        return TelegramUpdate(update_id, command, chat_id, message_id)
    return TelegramUpdate(
        update_id, "text", chat_id, message_id, text=" ".join(part for part in ("/" + command, rest) if part)
    )


def _button_label(message: Any, data: str) -> str:
    """The full label of the pressed button (callback data holds at most 64 bytes of it)."""
    markup = getattr(message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", ()) or ():
        for button in row:
            if button.callback_data == data:
                return str(button.text)
    return data


def callback_data(label: str) -> str:
    """A button's data: its label, cut to Telegram's 64 bytes at a character boundary.

    The label, not a number: pressing a button on an old message then means what it says, and the
    conversation re-asks if it no longer fits, instead of choosing whatever option now has that number.
    """
    return label.encode("utf-8")[:MAX_CALLBACK_DATA].decode("utf-8", "ignore")


def keyboard(options: Sequence[str]) -> InlineKeyboardMarkup | None:
    if not options:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=callback_data(label))] for label in options]
    )


def message_texts(reply: Reply) -> list[str]:
    """The reply as Telegram messages: one, unless the text is longer than Telegram allows."""
    text = reply.text.strip() or ("…" if reply.options else "")
    parts = []
    while len(text) > MAX_TEXT:
        cut = max(text.rfind("\n", 0, MAX_TEXT), text.rfind(". ", 0, MAX_TEXT) + 1)
        cut = cut if cut > 0 else MAX_TEXT
        parts.append(text[:cut].strip())
        text = text[cut:].strip()
    return [*parts, text] if text else parts


def retry_after_seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


T = TypeVar("T")


class TelegramSender:
    """Sends for one bot, from any thread, at a pace Telegram accepts."""

    def __init__(self, token: str, api_base_url: str, *, redis_url: str | None = None) -> None:
        request = HTTPXRequest(connection_pool_size=16, read_timeout=10.0, write_timeout=10.0, pool_timeout=5.0)
        self._bot = Bot(token, base_url=api_base_url.rstrip("/") + "/bot", request=request)
        self._limiter = rate_limiter(redis_url)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="telegram-sender", daemon=True)
        self._thread.start()
        self._ready = False

    # --- the loop ----------------------------------------------------------------------------------

    def _call(self, action: Callable[[Bot], Awaitable[T]]) -> T:
        async def run() -> T:
            if not self._ready:
                await self._bot.initialize()  # once: checks the token (getMe), opens the connection pool
                self._ready = True
            return await action(self._bot)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(CALL_TIMEOUT_SECONDS)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        # Closes the connection pool, even one opened by a first call that failed; a no-op when none was.
        asyncio.run_coroutine_threadsafe(self._bot.shutdown(), self._loop).result(CALL_TIMEOUT_SECONDS)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CALL_TIMEOUT_SECONDS)
        self._loop.close()

    # --- what the bot does -------------------------------------------------------------------------

    def pace(self, chat_key: str) -> None:
        """Wait for this chat's and the bot's turn to send; TooSoon if that is longer than is worth waiting."""
        wait = self._limiter.reserve(
            [Bucket(f"telegram:chat:{chat_key}", *PER_CHAT), Bucket("telegram:overall", *OVERALL)],
            MAX_WAIT_SECONDS,
        )
        if wait > 0:
            time.sleep(wait)

    def send_text(self, chat_id: str, text: str, options: Sequence[str] = ()) -> int:
        """Send one message (with its options as buttons); return Telegram's message_id."""
        markup = keyboard(options)
        sent = self._call(lambda bot: bot.send_message(chat_id, text, reply_markup=markup))
        return sent.message_id

    def answer_button(self, callback_query_id: str) -> None:
        """Stop the button's spinner."""
        self._call(lambda bot: bot.answer_callback_query(callback_query_id))

    def show_choice(self, chat_id: str, message_id: int, shown_text: str, choice: str, language: str | None) -> None:
        """Write the chosen option under the question and take the buttons away."""
        text = f"{shown_text}\n\n{channel_text('chosen', language, choice=choice)}"[:MAX_TEXT]
        self._call(lambda bot: bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, reply_markup=None))

    def delete_messages(self, chat_id: str, message_ids: Sequence[int]) -> None:
        """Delete messages in a chat, up to 100 a call; ones Telegram no longer allows deleting are skipped."""
        ids = sorted(set(message_ids))
        for start in range(0, len(ids), DELETE_BATCH):
            batch = ids[start : start + DELETE_BATCH]
            self._call(lambda bot, batch=batch: bot.delete_messages(chat_id, batch))

    def set_webhook(self, url: str, secret_token: str) -> bool:
        return self._call(
            lambda bot: bot.set_webhook(url, secret_token=secret_token, allowed_updates=list(ALLOWED_UPDATES))
        )


_senders: dict[tuple[int, str, str, str | None], TelegramSender] = {}
_senders_lock = threading.Lock()


def telegram_sender(token: str, api_base_url: str, redis_url: str | None = None) -> TelegramSender:
    """This process's sender for a bot (one per process: a sender's thread does not survive a fork)."""
    key = (os.getpid(), token, api_base_url, redis_url)
    with _senders_lock:
        if key not in _senders:
            _senders[key] = TelegramSender(token, api_base_url, redis_url=redis_url)
        return _senders[key]


def close_telegram_senders() -> None:
    with _senders_lock:
        senders = [sender for (pid, *_), sender in _senders.items() if pid == os.getpid()]
        _senders.clear()
    for sender in senders:
        sender.close()
