"""SMS through Twilio: replies as numbered lists in as few parts as they fit, TwiML, and the REST client.

A reply to a message goes back in the TwiML of the webhook's own response; anything else (a reminder, a
provider's confirmation) is sent from the outbox through the REST API.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot.conversation.render import as_numbered_text
from conversations.interpreter import Reply
from conversations.sms import segments, split_for_sms, to_gsm7_friendly

# The Twilio client logs each request with its body (the number and the text) at INFO.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

# Twilio joins a long text into one concatenated SMS, which a phone shows as one message in order; separate
# messages can arrive out of order. So a reply is one SMS up to this many parts, and only a longer one is
# split, at sentence ends, into several.
SEGMENTS_PER_MESSAGE = 3
TWILIO_API = "https://api.twilio.com"
REQUEST_TIMEOUT_SECONDS = 10.0
STATUS_PATH = "/webhooks/sms/status"

# Twilio's error codes that mean this number will not get messages from us (never retried).
UNSUBSCRIBED = 21610  # the person texted STOP: Twilio blocks every message until they text START
UNREACHABLE = frozenset({21211, 21408, 21612, 21614})  # not a valid or reachable mobile number


def sms_texts(replies: Sequence[Reply]) -> list[str]:
    """The replies as the SMS messages to send, in order.

    Options become a numbered list; typography gets its GSM-7 twin (a Welsh letter never changes); short
    replies share one message when that costs no extra part; a text longer than SEGMENTS_PER_MESSAGE parts
    is split at sentence ends.
    """
    texts = [to_gsm7_friendly(as_numbered_text(reply)).strip() for reply in replies]
    messages: list[str] = []
    for text in filter(None, texts):
        if messages:
            joined = f"{messages[-1]}\n\n{text}"
            if segments(joined) <= min(segments(messages[-1]) + segments(text), SEGMENTS_PER_MESSAGE):
                messages[-1] = joined
                continue
        messages.append(text)
    return [part for message in messages for part in split_for_sms(message, SEGMENTS_PER_MESSAGE)]


def twiml(messages: Sequence[str], status_callback_url: str | None = None) -> str:
    """``<Response><Message>...</Message></Response>``; Twilio reports each message's fate to the callback."""
    response = MessagingResponse()
    for text in messages:
        response.message(text, action=status_callback_url)
    return str(response)


@dataclass(frozen=True)
class InboundSms:
    """The fields of Twilio's form post the bot uses."""

    message_sid: str
    sender: str  # From: the person's number
    body: str
    media_count: int
    opt_out_type: str | None  # STOP, START or HELP when Twilio's opt-out management recognised a keyword


class MalformedSms(ValueError):
    pass


MAX_SID = 64
STATUS = re.compile(r"[a-z_-]{1,32}")


def _is_sid(sid: str) -> bool:
    return 0 < len(sid) <= MAX_SID and sid.isascii() and sid.isprintable()


def parse_inbound(form: Any) -> InboundSms:
    """Read Twilio's form post; raise MalformedSms when it is not one."""
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    sender = (form.get("From") or "").strip()
    if not _is_sid(sid):
        raise MalformedSms("the post has no MessageSid")
    if not sender or len(sender) > MAX_SID:
        raise MalformedSms("the post has no From number")
    try:
        media_count = int(form.get("NumMedia") or 0)
    except ValueError:
        raise MalformedSms("NumMedia is not a number") from None
    opt_out = (form.get("OptOutType") or "").strip().upper() or None
    return InboundSms(sid, sender, form.get("Body") or "", media_count, opt_out)


@dataclass(frozen=True)
class StatusReport:
    message_sid: str
    status: str
    error_code: int | None
    recipient: str | None  # To


def parse_status(form: Any) -> StatusReport:
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not _is_sid(sid) or not STATUS.fullmatch(status):
        raise MalformedSms("the status callback has no MessageSid or MessageStatus")
    code = (form.get("ErrorCode") or "").strip()
    # ASCII digits only: "²" is a digit to str.isdigit() but not to int()
    number = int(code) if code.isascii() and code.isdigit() else None
    return StatusReport(sid, status, number, (form.get("To") or "").strip() or None)


# --- the REST API --------------------------------------------------------------------------------------


class _TwilioAt(TwilioHttpClient):
    """Twilio's own HTTP client, sending to ``base_url`` instead of api.twilio.com (Twilio's documented way
    to point the library elsewhere: a custom HTTP client)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(timeout=REQUEST_TIMEOUT_SECONDS, logger=logging.getLogger("twilio.http_client"))
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


class SmsSender:
    """Sends SMS through Twilio's REST API, over one HTTP session: use it for one delivery, then close it."""

    def __init__(
        self, account_sid: str, auth_token: str, sender: str, api_base_url: str, status_callback_url: str | None
    ) -> None:
        if api_base_url.rstrip("/") == TWILIO_API:
            self._http = TwilioHttpClient(
                timeout=REQUEST_TIMEOUT_SECONDS, logger=logging.getLogger("twilio.http_client")
            )
        else:
            self._http = _TwilioAt(api_base_url)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        # A Messaging Service (MG...) picks the sending number itself.
        self._from = {"messaging_service_sid": sender} if sender.startswith("MG") else {"from_": sender}
        self._status_callback_url = status_callback_url

    def send_text(self, to: str, body: str) -> str:
        """Send one SMS; return its MessageSid."""
        extra = {"status_callback": self._status_callback_url} if self._status_callback_url else {}
        message = self._client.messages.create(to=to, body=body, **self._from, **extra)
        return str(message.sid)

    def close(self) -> None:
        if self._http.session is not None:
            self._http.session.close()

    def __enter__(self) -> SmsSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
