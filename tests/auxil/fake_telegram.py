"""A local Telegram Bot API, at the network edge: a real HTTP server on 127.0.0.1 that answers the methods
the bot uses (as python-telegram-bot sends them) and keeps each private chat as the person's phone would
show it. ``TelegramUser`` is the person: they send updates to the bot's webhook and read their chat.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import requests

from auxil.local_server import LocalServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram"
BOT_USER = {"id": 7000000001, "is_bot": True, "first_name": "Return Home", "username": "rhi_test_bot"}
DELETE_WINDOW_SECONDS = 48 * 3600


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@dataclass
class ChatMessage:
    message_id: int
    from_bot: bool
    text: str | None
    date: int
    buttons: list[str] = field(default_factory=list)
    kind: str = "text"


@dataclass
class Chat:
    chat_id: int
    messages: dict[int, ChatMessage] = field(default_factory=dict)

    def visible(self) -> list[ChatMessage]:
        return [self.messages[n] for n in sorted(self.messages)]


class FakeTelegram(LocalServer):
    """The Bot API for one bot token. Tell it to fail a method with ``fail_next``."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.call_times: list[float] = []  # time.monotonic() of each call
        self.chats: dict[int, Chat] = {}
        self.webhook: dict[str, Any] | None = None
        self.blocked_by: set[int] = set()
        self._failures: dict[str, list[list[Any]]] = {}
        self._message_ids = itertools.count(2000)
        self._update_ids = itertools.count(500000)
        self._lock = threading.Lock()
        super().__init__(self._handler())

    # --- what tests arrange and look at ---------------------------------------------------------------

    def fail_next(self, method: str, status: int, description: str, *, after: int = 0, **parameters: Any) -> None:
        """The next call of ``method`` (or the one after ``after`` more that succeed) gets this error."""
        answer: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            answer["parameters"] = parameters
        self._failures.setdefault(method, []).append([after, status, answer])

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    def times_of(self, method: str) -> list[float]:
        return [at for (name, _), at in zip(self.calls, self.call_times, strict=True) if name == method]

    def chat(self, chat_id: int) -> Chat:
        with self._lock:
            return self.chats.setdefault(chat_id, Chat(chat_id))

    def new_message_id(self) -> int:
        return next(self._message_ids)

    def new_update_id(self) -> int:
        return next(self._update_ids)

    # --- the API ----------------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                prefix = f"/bot{fake.token}/"
                if not self.path.startswith(prefix):
                    return self._answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                method = self.path[len(prefix) :]
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    params = json.loads(body or "{}")
                else:
                    params = dict(parse_qsl(body, keep_blank_values=True))
                status, answer = fake._call(method, params)
                self._answer(status, answer)

            def _answer(self, status: int, answer: dict[str, Any]) -> None:
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def _call(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append((method, params))
            self.call_times.append(time.monotonic())
            failures = self._failures.get(method)
            if failures and failures[0][0] > 0:
                failures[0][0] -= 1
            elif failures:
                _, status, answer = failures.pop(0)
                return status, answer
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        return handler(params)

    def _api_getMe(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, {"ok": True, "result": {**BOT_USER, "can_join_groups": False, "supports_inline_queries": False}}

    def _api_sendMessage(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked_by:
            return 403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
        markup = json.loads(params["reply_markup"]) if params.get("reply_markup") else None
        buttons = [button["text"] for row in (markup or {}).get("inline_keyboard", []) for button in row]
        message = ChatMessage(self.new_message_id(), True, params["text"], int(time.time()), buttons)
        self.chat(chat_id).messages[message.message_id] = message
        return 200, {"ok": True, "result": self._message_json(chat_id, message, markup)}

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, {"ok": True, "result": True}

    def _api_editMessageText(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        message = self.chat(chat_id).messages.get(message_id)
        if message is None:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message to edit not found"}
        markup = json.loads(params["reply_markup"]) if params.get("reply_markup") else None
        message.text = params["text"]
        message.buttons = [button["text"] for row in (markup or {}).get("inline_keyboard", []) for button in row]
        return 200, {"ok": True, "result": self._message_json(chat_id, message, markup)}

    def _api_deleteMessages(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat = self.chat(int(params["chat_id"]))
        ids = json.loads(params["message_ids"])
        if not 1 <= len(ids) <= 100:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: too many message identifiers"}
        now = time.time()
        for message_id in ids:
            message = chat.messages.get(message_id)
            if message is not None and now - message.date < DELETE_WINDOW_SECONDS:
                del chat.messages[message_id]
        return 200, {"ok": True, "result": True}

    def _api_setWebhook(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.webhook = {
            "url": params["url"],
            "secret_token": params.get("secret_token"),
            "allowed_updates": json.loads(params.get("allowed_updates") or "[]"),
        }
        return 200, {"ok": True, "result": True, "description": "Webhook was set"}

    def _message_json(self, chat_id: int, message: ChatMessage, markup: dict[str, Any] | None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": BOT_USER,
            "chat": {"id": chat_id, "first_name": "Test Firstname", "type": "private"},
            "date": message.date,
            "text": message.text,
        }
        if markup:
            data["reply_markup"] = markup
        return data


class TelegramUser:
    """A person in a private chat with the bot: what they send goes to the webhook, what they see is the chat."""

    def __init__(self, telegram: FakeTelegram, webhook_url: str, secret: str, chat_id: int = 1111111) -> None:
        self.telegram = telegram
        self.webhook_url = webhook_url
        self.secret = secret
        self.chat_id = chat_id
        self.seen = 0  # how many of the bot's messages they have read
        self.last_status: int | None = None

    # --- doing ----------------------------------------------------------------------------------------

    def sends(self, text: str) -> list[ChatMessage]:
        """Type and send a message; return the bot's new messages."""
        update = fixture("text_message")
        self._as_mine(update, text=text)
        return self.deliver(update)

    def sends_a(self, kind: str) -> list[ChatMessage]:
        """Send a photo, sticker or voice note (the fixtures' own)."""
        update = fixture(kind)
        self._as_mine(update, kind=kind)
        return self.deliver(update)

    def taps(self, label: str) -> list[ChatMessage]:
        """Press the button labelled ``label`` on the latest of the bot's messages that shows it."""
        message = next(m for m in reversed(self.telegram.chat(self.chat_id).visible()) if label in m.buttons)
        update = fixture("callback_query")
        update["update_id"] = self.telegram.new_update_id()
        query = update["callback_query"]
        query["id"] = str(self.telegram.new_update_id())
        query["from"]["id"] = self.chat_id
        query["data"] = label.encode()[:64].decode("utf-8", "ignore")
        query["message"].update(
            message_id=message.message_id,
            chat={"id": self.chat_id, "first_name": "Test Firstname", "type": "private"},
            text=message.text,
            reply_markup={
                "inline_keyboard": [
                    [{"text": b, "callback_data": b.encode()[:64].decode("utf-8", "ignore")}] for b in message.buttons
                ]
            },
        )
        return self.deliver(update)

    def deliver(self, update: dict[str, Any]) -> list[ChatMessage]:
        """POST one update to the webhook as Telegram does; return the bot's new messages."""
        response = requests.post(
            self.webhook_url,
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": self.secret},
            timeout=30,
        )
        self.last_status = response.status_code
        return self.new_messages()

    def _as_mine(self, update: dict[str, Any], text: str | None = None, kind: str = "text") -> None:
        """Make a fixture's update this person's, new, and put their message in the chat."""
        update["update_id"] = self.telegram.new_update_id()
        message = update["message"]
        message_id = self.telegram.new_message_id()
        message["message_id"] = message_id
        message["from"]["id"] = self.chat_id
        message["chat"]["id"] = self.chat_id
        message["date"] = int(time.time())
        if text is not None:
            message["text"] = text
        self.telegram.chat(self.chat_id).messages[message_id] = ChatMessage(
            message_id, False, text, message["date"], kind=kind
        )

    # --- seeing ---------------------------------------------------------------------------------------

    def new_messages(self) -> list[ChatMessage]:
        """The bot's messages that arrived since the person last looked."""
        mine = [m for m in self.telegram.chat(self.chat_id).visible() if m.from_bot]
        mine = [m for m in mine if m.message_id > self.seen]
        if mine:
            self.seen = mine[-1].message_id
        return mine

    def screen(self) -> list[ChatMessage]:
        """Everything still in the chat, both sides, oldest first."""
        return self.telegram.chat(self.chat_id).visible()


def texts(messages: list[ChatMessage]) -> str:
    return "\n".join(m.text or "" for m in messages)
