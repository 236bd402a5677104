"""SMS through Twilio: replies as numbered lists in as few parts as they fit, TwiML, and the REST client.

A reply to a message goes back in the TwiML of the webhook's own response; anything else (a reminder, a
provider's confirmation) is sent from the outbox through the REST API.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot.conversation.render import as_numbered_text
from conversations.interpreter import Reply
from conversations.sms import as_sent, segments, split_for_sms

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
    texts = [as_sent(as_numbered_text(reply)) for reply in replies]
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


# Twilio's signature joins each key and its value with nothing between them, so a captured request can be cut
# again elsewhere (``MessageSid=<sid>NumMedia0`` with NumMedia dropped) and keep a valid signature. Each field
# we read must therefore have exactly the shape Twilio gives it: a value that swallowed another field's name
# never does. Fields we do not read may be anything (Twilio adds new ones).
MESSAGE_SID = r"^(SM|MM)[0-9a-f]{32}$"
ACCOUNT_SID = r"^AC[0-9a-f]{32}$"
ADDRESS = r"^(\+[0-9]{8,15}|[0-9]{3,8})$"  # E.164, or a short code
DIGITS = r"^[0-9]{1,10}$"
STATUS = r"^[a-z_-]{1,32}$"


class _TwilioFields(BaseModel):
    """The fields of Twilio's form posts that the bot reads, each in Twilio's own shape, else refused."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    message_sid: str | None = Field(None, alias="MessageSid", pattern=MESSAGE_SID)
    sms_sid: str | None = Field(None, alias="SmsSid", pattern=MESSAGE_SID)
    sms_message_sid: str | None = Field(None, alias="SmsMessageSid", pattern=MESSAGE_SID)
    account_sid: str | None = Field(None, alias="AccountSid", pattern=ACCOUNT_SID)
    sender: str | None = Field(None, alias="From", pattern=ADDRESS)
    recipient: str | None = Field(None, alias="To", pattern=ADDRESS)
    body: str = Field("", alias="Body")
    media_count: str | None = Field(None, alias="NumMedia", pattern=DIGITS)
    opt_out_type: Literal["STOP", "START", "HELP"] | None = Field(None, alias="OptOutType")
    message_status: str | None = Field(None, alias="MessageStatus", pattern=STATUS)
    sms_status: str | None = Field(None, alias="SmsStatus", pattern=STATUS)
    error_code: str | None = Field(None, alias="ErrorCode", pattern=DIGITS)

    @property
    def sid(self) -> str:
        """The message's one sid: every sid field given names the same message."""
        sids = {sid for sid in (self.message_sid, self.sms_sid, self.sms_message_sid) if sid is not None}
        if len(sids) != 1:
            raise MalformedSms("the post has no MessageSid, or sids that differ")
        return sids.pop()


_KNOWN = frozenset(field.alias for field in _TwilioFields.model_fields.values() if field.alias)


def _read(form: Any) -> _TwilioFields:
    """The known fields of ``form`` (a MultiDict); each at most once, and in its shape."""
    given: dict[str, str] = {}
    for name in _KNOWN & set(form.keys()):
        values = form.getlist(name)
        if len(values) != 1:
            raise MalformedSms(f"{name} is given more than once")
        given[name] = values[0]
    try:
        return _TwilioFields.model_validate(given)
    except ValidationError as exc:
        # The field's name only: its value may be a person's number.
        raise MalformedSms(f"{exc.errors()[0]['loc'][0]} is not in Twilio's shape") from None


def parse_inbound(form: Any) -> InboundSms:
    """Read Twilio's form post; raise MalformedSms when it is not one, exactly as Twilio sends it."""
    fields = _read(form)
    if fields.sender is None:
        raise MalformedSms("the post has no From number")
    media_count = int(fields.media_count) if fields.media_count is not None else 0
    return InboundSms(fields.sid, fields.sender, fields.body, media_count, fields.opt_out_type)


@dataclass(frozen=True)
class StatusReport:
    message_sid: str
    status: str
    error_code: int | None
    recipient: str | None  # To


def parse_status(form: Any) -> StatusReport:
    """Read Twilio's status callback; raise MalformedSms when it is not one, exactly as Twilio sends it."""
    fields = _read(form)
    status = fields.message_status or fields.sms_status
    if status is None:
        raise MalformedSms("the status callback has no MessageStatus")
    error_code = int(fields.error_code) if fields.error_code is not None else None
    return StatusReport(fields.sid, status, error_code, fields.recipient)


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
