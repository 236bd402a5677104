"""A local Twilio REST API, at the network edge: a real HTTP server on 127.0.0.1 that takes
``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` as twilio's client sends it and answers with the
Message resource Twilio documents. ``SmsUser`` is a person texting: Twilio's signed form post to the
webhook, and the TwiML that comes back.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import requests
from twilio.request_validator import RequestValidator

from auxil.local_server import LocalServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "twilio"
ACCOUNT_SID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
AUTH_TOKEN = "12345678901234567890123456789012"
SERVICE_NUMBER = "+447700900000"


def form_fixture(name: str) -> dict[str, str]:
    return dict(parse_qsl((FIXTURES / f"{name}.form").read_text(encoding="utf-8"), keep_blank_values=True))


@dataclass
class SentSms:
    sid: str
    to: str
    body: str
    status_callback: str | None


class FakeTwilio(LocalServer):
    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sent: list[SentSms] = []
        self._failures: list[list[Any]] = []
        self._sids = itertools.count(1)
        self._lock = threading.Lock()
        super().__init__(self._handler())

    def fail_next(self, status: int, code: int, message: str, *, after: int = 0) -> None:
        """The next send (or the one after ``after`` more that succeed) gets Twilio's error answer."""
        answer = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        self._failures.append([after, status, answer])

    def sent_to(self, number: str) -> list[str]:
        return [sms.body for sms in self.sent if sms.to == number]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                expected = "Basic " + base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    return self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                if self.path != f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json":
                    return self._answer(
                        404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
                    )
                length = int(self.headers.get("Content-Length") or 0)
                params = dict(parse_qsl(self.rfile.read(length).decode("utf-8"), keep_blank_values=True))
                status, answer = fake._create(params)
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

    def _create(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if self._failures and self._failures[0][0] > 0:
                self._failures[0][0] -= 1
            elif self._failures:
                _, status, answer = self._failures.pop(0)
                return status, answer
            sid = f"SM{next(self._sids):032x}"
            self.sent.append(SentSms(sid, params["To"], params.get("Body", ""), params.get("StatusCallback")))
        return 201, {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": params.get("Body", ""),
            "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
            "date_sent": None,
            "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": params.get("From"),
            "messaging_service_sid": params.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "GBP",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            "to": params["To"],
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }


def sign(url: str, fields: dict[str, str], auth_token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature, computed by twilio's own RequestValidator, as Twilio computes it."""
    return RequestValidator(auth_token).compute_signature(url, fields)


def twiml_messages(twiml: str) -> list[str]:
    return [element.text or "" for element in ET.fromstring(twiml).iter("Message")]


class SmsUser:
    """A person texting the service's number: each text is Twilio's signed form post to the webhook."""

    def __init__(self, webhook_url: str, public_url: str, number: str = "+447700900123") -> None:
        self.webhook_url = webhook_url  # where the app listens
        self.public_url = public_url  # the URL Twilio was given (and signs), maybe a proxy in front
        self.number = number
        self._sids = itertools.count(1)
        self.last: requests.Response | None = None

    def post(self, fields: dict[str, str], *, signature: str | None = None) -> requests.Response:
        body = urlencode(fields)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "X-Twilio-Signature": signature if signature is not None else sign(self.public_url, fields),
        }
        self.last = requests.post(self.webhook_url, data=body.encode(), headers=headers, timeout=30)
        return self.last

    def form(self, text: str, fixture: str = "sms", **extra: str) -> dict[str, str]:
        fields = form_fixture(fixture)
        sid = f"SM{self.number[-4:]}{next(self._sids):028x}"
        fields.update(Body=text, From=self.number, MessageSid=sid, SmsSid=sid, SmsMessageSid=sid, **extra)
        return fields

    def texts(self, text: str, **extra: str) -> list[str]:
        """Send a text; return the SMS messages that came back in the TwiML."""
        response = self.post(self.form(text, **extra))
        assert response.status_code == 200, response.status_code
        return twiml_messages(response.text)
